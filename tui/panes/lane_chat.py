"""The lane agents' side of the chat pane: one view that shows one lane agent's
conversation at a time (its transcript, then what it does live), the keys that switch
views and answer the approvals the agents queue.

Drawing stays off the hot path: the agents' threads only append to their lane's log
(tui/lane_host.py) and post a wake-up to this view, which one queued wake-up per lane
replaces; the view draws the lane on screen, all its new events at once."""

from __future__ import annotations

import time
from typing import Any

from textual import work

from core.safe_text import visible
from tui.lane_host import UserSaid
from tui.messages import LaneOutput, message, AppMessage
from tui.panes import Quiet
from tui.widgets.chat import ChatView


# A streaming reply is drawn at most this often: each draw of a growing reply repaints the
# chat (its rows scroll), and eight agents' tokens must not turn into eight times the frames.
# The first words after a pause are drawn at once. When a draw takes longer than that to
# reach the screen (a busy machine), the next waits as long as it took (up to
# DRAW_AT_MOST), so drawing never holds the UI thread more than about half the time and
# keys and other panes still get their turn.
DRAW_EVERY = 0.05
DRAW_AT_MOST = 0.25


# Under a call the agent's session ended on (a crash, a kill): how to carry on.
CUT_OFF_HINT = "the agent stopped before this call finished; a resumes it"

ANSWERED = {"once": "Allowed once", "session": "Allowed for this session", "deny": "Denied",
            "unanswered": "Withdrawn: the turn ended before an answer"}


@message
class ShowLane(AppMessage, bubble=False):
    lane: str | None


class LaneView(Quiet, ChatView):
    """Hidden while the board agent is shown. Switching goes through its own message
    queue, in order with the wake-ups, so a switch never lands mid-draw."""

    def __init__(self, host: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.lane: str | None = None
        self.drawn = 0            # items of the lane's log on screen
        self.ready = False        # its transcript is drawn
        self._drawn_at = 0.0
        self._every = DRAW_EVERY  # the wait between draws, after the last one's cost
        self._later = False       # a draw is scheduled

    def on_mount(self) -> None:
        super().on_mount()
        self.host.post_output = self.post_message

    def show(self, lane: str | None) -> None:
        self.post_message(ShowLane(lane))

    async def on_show_lane(self, msg: ShowLane) -> None:
        await self.clear()
        if self.lane is not None:
            self.host.woken(self.lane)   # a wake-up it may still wait for will not come
        self.lane, self.drawn, self.ready = msg.lane, 0, False
        self.host.shown = msg.lane
        if msg.lane is not None:
            self._load_log(msg.lane)

    @work(thread=True, exit_on_error=False, group="lane-log", description="reading a transcript")
    def _load_log(self, lane: str) -> None:
        import tui.widgets.markdown  # noqa: F401 - here, not on the UI thread at the first reply

        self.host.log_of(lane)
        self.post_message(LaneOutput(lane))

    async def on_lane_output(self, msg: LaneOutput) -> None:
        if msg.lane != self.lane:
            self.host.woken(msg.lane)
            return
        wait = self._drawn_at + self._every - time.monotonic()
        if wait > 0:
            if not self._later:     # still "woken": the agents post nothing meanwhile
                self._later = True
                self.set_timer(wait, self._draw_later)
            return
        self._drawn_at = time.monotonic()
        self.host.woken(msg.lane)   # before reading: what comes after wakes us again
        if not self.ready:
            log = self.host.existing_log(msg.lane)
            if log is None:
                return            # _load_log posts again once it is read
            self.ready = True
            await self.show_history(
                log.history, restored=f"— lane {msg.lane}: its conversation —",
                empty=None if log.items else f"Lane {msg.lane}'s agent has no saved "
                "conversation. a starts it; a message typed here starts a turn with it.",
                cut_off_hint="" if log.items else CUT_OFF_HINT)
        items = self.host.items_since(msg.lane, self.drawn)
        self.drawn += len(items)
        await self.draw_items(items)
        self.call_after_refresh(self._on_screen, self._drawn_at)

    def _on_screen(self, started: float) -> None:
        self._every = min(DRAW_AT_MOST, max(DRAW_EVERY, time.monotonic() - started))

    def _draw_later(self) -> None:
        self._later = False
        if self.lane is not None:
            self.post_message(LaneOutput(self.lane))

    async def draw_items(self, items: list[Any]) -> None:
        from core.agent import TextDelta
        from core.agent.lane_agent import ApprovalAnswered, ApprovalAsked

        text: list[str] = []
        for item in items:
            if isinstance(item, TextDelta):
                text.append(item.text)     # a burst of deltas is one write
                continue
            if text:
                await self.add_text("".join(text))
                text = []
            if isinstance(item, UserSaid):
                await self.end_text()
                self.add_user(item.text)
            elif isinstance(item, ApprovalAsked):
                await self.end_text()
                self.notice(f"Waiting for your answer: {visible(item.request.summary)} "
                            "(j answers)", "warn")
            elif isinstance(item, ApprovalAnswered):
                self.notice(ANSWERED.get(item.decision, item.decision), "info")
            else:
                await self.draw_event(item)
        if text:
            await self.add_text("".join(text))
