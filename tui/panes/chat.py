"""The chat pane: the board agent's conversation, and the host side of its turns; or,
when the selected lane has an agent, that agent's (tui/panes/lane_chat.py).

The board agent runs in thread workers of this pane (tui/agent_host.py posts what it does
here); its approvals open a modal and answer the waiting agent thread. Lane agents'
approvals wait in a queue instead (``j`` answers them), so they never take the focus."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.worker import Worker, WorkerState

from core.errors import WorklanesError
from tui.panes import Quiet
from tui.panes.lane_chat import LaneView
from tui.messages import (AgentEvent, AgentReady, AgentTurnEnded, AgentUnavailable,
                          ApprovalNeeded, TokensUsed)
from tui.widgets.chat import ChatInput, ChatView
from tui.widgets.panes import retitle


def _tokens(usage: Any) -> tuple[int, int]:
    return (usage.input_tokens + usage.cache_read_input_tokens
            + usage.cache_creation_input_tokens, usage.output_tokens)


BOARD_TITLE = "Board agent"
WORKING = "Working… esc cancels"   # the input's placeholder while the shown agent's turn runs


class ChatPane(Quiet, ChatView):
    def __init__(self, host: Any, lane_host: Any, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(cursor_blink=cursor_blink, **kwargs)
        self.host = host
        host.post = self.post_message
        self.lane_host = lane_host
        self.shown_lane: str | None = None        # None: the board agent is shown
        self.board_placeholder = "Loading the agent…"
        self.lane_view = LaneView(lane_host, id="lane-chat")
        self.lane_view.display = False

    def compose(self):
        yield from super().compose()
        yield self.lane_view

    @property
    def running(self) -> bool:
        """Whether the agent shown has a turn running."""
        if self.shown_lane is not None:
            return self._lane_busy(self.shown_lane)
        return self.host.running

    def _lane_busy(self, lane: str) -> bool:
        # By its recorded state, which says "done" a moment before its thread ends, and
        # also knows of an agent running in another process.
        from core.agent.lane_state import LIVE_STATES

        return (self.app.lane_table.agents.get(lane) or {}).get("state") in LIVE_STATES

    def cancel_turn(self) -> bool:
        """Esc: cancel the running turn of the agent shown (the others go on); False when
        there is none."""
        lane = self.shown_lane
        if lane is not None:
            if not (self.lane_host.running(lane) and self.lane_host.runner.cancel(lane)):
                return False
            self.lane_view.notice(f"Cancelling the turn of lane {lane}'s agent…", "warn")
            return True
        if not self.host.running:
            return False
        self.host.cancel.set()
        self.notice("Cancelling the turn…", "warn")
        return True

    # -- whose conversation ----------------------------------------------------------------
    def follow(self, lane: str | None, has_agent: bool) -> None:
        """The selection moved to ``lane``: show its agent, or the board agent."""
        self.show_lane(lane if lane and has_agent else None)

    def show_lane(self, lane: str | None) -> None:
        if lane == self.shown_lane:
            return
        self.shown_lane = lane
        self.log_view.display = lane is None
        self.lane_view.display = lane is not None
        self.lane_view.show(lane)
        retitle(self, BOARD_TITLE if lane is None else f"Lane agent · {lane}")
        self.sync_input()

    def sync_input(self) -> None:
        """The input follows the agent shown: off while its turn runs, and saying so."""
        inp = self.input
        lane = self.shown_lane
        if lane is None:
            busy = self.host.running
            off = busy or self.host.agent is None
            idle = self.board_placeholder
        else:
            busy = off = self._lane_busy(lane)
            if busy and inp.has_focus:
                self.lane_view.log_view.focus()
            idle = f"Message lane {lane}'s agent… (Enter sends)"
        # Said in the input, not in the pane's frame: a change of the frame's text repaints
        # the whole conversation (30 ms a turn start and end, measured with 8 agents).
        # No class toggled either: a class change restyles every widget of it.
        inp.placeholder = WORKING if busy else idle
        if off:
            inp.disabled = True
        else:
            self.enable_input()   # with what was typed while it was off
        self.app.refresh_bindings()

    def action_agent_board(self) -> None:
        self.show_lane(None)

    # -- lane agents' approvals: j ---------------------------------------------------------
    def action_agent_next_waiting(self) -> None:
        pending = self.lane_host.queue.pending()
        if not pending:
            self.notify("No agent is waiting for an answer", timeout=3)
            return
        item = next((p for p in pending if p.lane == self.shown_lane), pending[0])
        self.app.lane_table.select(item.lane)
        self.show_lane(item.lane)
        self._ask_queued(item)

    @work(group="approval", exit_on_error=False, description="asking for approval")
    async def _ask_queued(self, item: Any) -> None:
        from core.agent import Decision
        from tui.screens.dialogs import ApprovalScreen

        queue = self.lane_host.queue
        decision = await self.app.push_screen_wait(ApprovalScreen(
            item.request, asker=f"lane {item.lane}",
            pending=lambda: any(p.id == item.id for p in queue.pending())))
        self.lane_host.queue.answer(item.id, decision if isinstance(decision, Decision)
                                    else Decision.DENY)

    # -- start-up --------------------------------------------------------------------------
    def start(self, enabled: bool) -> None:
        """After the first paint: the input (disabled until the agent is ready), then the
        agent itself in a worker."""
        self.input  # noqa: B018 - mounts it
        if enabled:
            self._load_agent()
        else:
            self.notice("The agent is off in this window.", "info")
            self.off_reason = "the agent is off in this window"
            self.board_placeholder = "Agent off"
            self.sync_input()
            self.app.post_message(TokensUsed("off"))

    @work(thread=True, exit_on_error=False, group="agent-load", description="starting the agent")
    def _load_agent(self) -> None:
        try:
            msg = self.host.load()
        except WorklanesError as exc:
            self.post_message(AgentUnavailable(f"The agent could not start: {exc}"))
            return
        self.post_message(msg)
        if isinstance(msg, AgentReady):
            try:
                self.host.warm_up()
            except Exception:
                pass  # a broken SDK install shows up as an AgentError on the first turn
            import tui.widgets.markdown  # noqa: F401 - here, not on the UI thread at the first reply

    async def on_agent_ready(self, msg: AgentReady) -> None:
        self.app.post_message(TokensUsed(msg.model, _tokens(msg.usage) if msg.usage else None))
        await self.show_history(msg.history)
        self.board_placeholder = "Ask the agent… (Enter sends, esc leaves)"
        self.sync_input()

    def on_agent_unavailable(self, msg: AgentUnavailable) -> None:
        self.app.post_message(TokensUsed(msg.model or "none"))
        self.notice(msg.message, "warn")
        self.notice("Everything else works without it.", "info")
        self.off_reason = "set ANTHROPIC_API_KEY and restart"
        self.board_placeholder = "Chat off: no API key (see above)"
        self.sync_input()

    # -- a turn ----------------------------------------------------------------------------
    @on(ChatInput.Submitted, "#chat-input")
    def _send(self, event: ChatInput.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text and self.shown_lane is not None:
            self._send_to_lane(self.shown_lane, text, event.input)
            return
        if not text or self.host.agent is None or self.host.running:
            return
        event.input.value = ""
        self.add_user(text)
        self.set_running(True)
        self.input.placeholder = WORKING
        self.host.running = True
        self.app.refresh_bindings()
        self._run_turn(text)

    def _send_to_lane(self, lane: str, text: str, inp: ChatInput) -> None:
        if self._lane_busy(lane):
            return
        inp.value = ""

        def send() -> None:
            self.lane_host.ensure().send(lane, text)   # returns at once; events follow
        self.app.run_core(f"sending to lane {lane}'s agent", send)

    @work(thread=True, exit_on_error=False, group="agent", description="agent turn")
    def _run_turn(self, text: str) -> None:
        error = ""
        try:
            self.host.run_turn(text)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(AgentTurnEnded(error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "agent" and event.state == WorkerState.ERROR:
            event.stop()
            err = event.worker.error
            self.post_message(AgentTurnEnded(f"{type(err).__name__}: {err}"))

    async def on_agent_event(self, msg: AgentEvent) -> None:
        from core.agent import AgentError, TurnFinished

        ev = msg.event
        await self.draw_event(ev)
        if isinstance(ev, TurnFinished):
            self.app.post_message(TokensUsed(None, _tokens(ev.session_usage)))
        elif isinstance(ev, AgentError):
            self._agent_error(ev.message)

    def _agent_error(self, message: str) -> None:
        self.notify(message, title="Agent error", severity="error", timeout=8)
        try:
            self.app.ws.events.emit("agent.error", error=message)
        except OSError:
            pass

    async def on_agent_turn_ended(self, msg: AgentTurnEnded) -> None:
        self.host.running = False
        self.app.refresh_bindings()
        await self.end_text()
        self.set_running(False)
        self.sync_input()
        if msg.error:
            self.notice(msg.error, "error")
            self._agent_error(msg.error)
        if self.app.screen is self.screen and self.screen.current_pane() in (None, "chat"):
            self.input.focus()

    # -- ctrl+n: a new conversation ------------------------------------------------------
    async def action_chat_new(self) -> None:
        if self.host.agent is None:
            self.notify("The agent is not available - see the chat pane", severity="warning")
            return
        if self.host.running:
            self.notify("A turn is running: esc cancels it first", severity="warning")
            return
        agent = self.host.new_session()
        await self.clear()
        self.notice("New conversation.", "info")
        await self.show_history([])
        self.app.post_message(TokensUsed(None, (0, 0)))
        self.notify(f"New conversation {agent.session_id}", timeout=3)

    # -- approvals -------------------------------------------------------------------------
    def on_approval_needed(self, msg: ApprovalNeeded) -> None:
        from core.agent import Decision

        call = self.awaiting_approval(msg.request.tool)
        if call is not None:
            call.set_approval("waiting")   # on the call's own line, not a notice below it
        else:
            self.notice(f"Approval asked: {msg.request.summary}", "warn")
        if self.host.cancel.is_set():
            self._answer(msg, Decision.DENY)
        else:
            self._ask(msg)

    @work(group="approval", exit_on_error=False, description="asking for approval")
    async def _ask(self, msg: ApprovalNeeded) -> None:
        from tui.screens.dialogs import ApprovalScreen

        self._answer(msg, await self.app.push_screen_wait(ApprovalScreen(msg.request)))

    def _answer(self, msg: ApprovalNeeded, decision: Any) -> None:
        from core.agent import Decision

        decision = decision if isinstance(decision, Decision) else Decision.DENY
        msg.answer.append(decision)
        msg.done.set()
        said = {Decision.ALLOW_ONCE: "allowed once", Decision.ALLOW_SESSION:
                f"{msg.request.tool} allowed for this session", Decision.DENY: "denied"}[decision]
        call = self.awaiting_approval(msg.request.tool)
        if call is not None and call.approval == "waiting":
            call.set_approval(said)
        else:
            self.notice(said.capitalize(), "info")
