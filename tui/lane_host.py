"""The app's side of the lane agents (core/agent/lane_agent.py): one runner and one
approval queue for the whole app, and a log of what each lane's agent showed, so the chat
pane can switch to any agent and draw its conversation, then follow it live.

Agents call ``_on_event`` from their own threads, many at once. The hot path is kept
short: an event is appended to its lane's log under a lock, and the chat pane's lane view
is woken only if it shows that lane and has no wake-up of it pending (one message then
stands for a whole burst of deltas). When a lane not on screen starts a reply the app
itself hears of it (LaneReplyStarted), not the view, whose queue may be busy drawing.
The UI thread draws only the lane on screen, all its new events in one go; the other
lanes' text is never drawn until someone looks at them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import field
from typing import Any, Callable

from textual.message import Message

from core.agent.approvals import ApprovalQueue
from core.agent.lane_state import LIVE_STATES, agent_state
from core.agent.transcript import as_left, chat_dir
from core.errors import WorklanesError
from core.plain import record
from core.workspace import Workspace
from tui.messages import (ApprovalsChanged, LaneAgentChanged, LaneAgentNote, LaneOutput,
                          LaneReplyStarted)

Post = Callable[[Message], Any]


@record
class UserSaid:
    """The message a turn began with (the loop does not emit it as an event)."""
    text: str


@record
class LaneLog:
    """One lane agent's conversation as this app saw it: the transcript as it stood when
    the log was made, then every event shown since (in order)."""
    history: list[dict[str, Any]] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)
    turn_open: bool = False


def read_history(ws: Workspace, session: str | None) -> list[dict[str, Any]]:
    """A session's messages, read only (Transcript.load would write its repairs, and the
    agent may be writing the same file)."""
    if not session:
        return []
    try:
        lines = (chat_dir(ws.root) / f"{session}.jsonl").read_text(
            encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("type") == "message" and isinstance(rec.get("message"), dict):
            out.append(rec["message"])
    return out


class LaneHost:
    def __init__(self, ws: Workspace, post: Post, model: str | None = None,
                 base_url: str | None = None, policy: str | None = None):
        self.ws = ws
        self.post = post
        self.post_output: Post = lambda msg: None   # the chat pane's lane view, once mounted
        self.model, self.base_url, self.policy = model, base_url, policy
        self.queue = ApprovalQueue(lambda: self.post(ApprovalsChanged()))
        self.runner: Any = None
        self.dispatcher: Any = None
        self.stopped = False
        self.shown: str | None = None       # the lane the chat pane shows (set by its view)
        self._woken: set[str] = set()       # lanes with a wake-up not yet handled
        self._lock = threading.Lock()
        self._logs: dict[str, LaneLog] = {}

    # -- the runner -------------------------------------------------------------------------
    def ensure(self, config: Any = None) -> Any:
        """The runner, made on first use (off the UI thread: it reads the settings).
        Raises WorklanesError without an API key, saying how to set one."""
        with self._lock:
            if self.runner is not None:
                return self.runner
        from core.agent import AgentConfig
        from core.agent.lane_agent import LaneAgents

        if config is None:
            config = AgentConfig.load(self.ws.root, model=self.model, base_url=self.base_url,
                                      policy=self.policy)
        if not config.has_key:
            raise WorklanesError(config.missing_key_message())
        runner = LaneAgents(self.ws, config, self._on_event, self.queue)
        with self._lock:
            if self.runner is None:
                self.runner = runner
            return self.runner

    def running(self, lane: str) -> bool:
        run = self.runner.run_of(lane) if self.runner is not None else None
        return bool(run and run.alive)

    def stop(self) -> None:
        """Quitting: every agent's turn is cancelled (each leaves a valid history and
        records its state) and a dispatch starts nothing more."""
        self.stopped = True
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.runner is not None:
            self.runner.cancel_all()

    def wait(self, timeout: float) -> bool:
        return self.runner is None or self.runner.wait(timeout=timeout)

    # -- the logs ---------------------------------------------------------------------------
    def log_of(self, lane: str, session: str | None = None) -> LaneLog:
        """The lane's log, made from its transcript the first time (any thread)."""
        with self._lock:
            log = self._logs.get(lane)
        if log is not None:
            return log
        running = session is not None    # the first state of a turn this process runs
        if session is None:
            try:
                record = agent_state(self.ws.lanes.get(lane)) or {}
            except WorklanesError:
                record = {}
            session, running = record.get("session"), record.get("state") in LIVE_STATES
        # A call its agent (no longer running) left open was cut off: core says so.
        fresh = LaneLog(history=as_left(read_history(self.ws, session), running))
        with self._lock:
            return self._logs.setdefault(lane, fresh)

    def forget(self, lane: str) -> None:
        """Drop the log of a lane whose agent runs elsewhere: the next look reads its
        transcript again."""
        with self._lock:
            self._logs.pop(lane, None)

    def existing_log(self, lane: str) -> LaneLog | None:
        with self._lock:
            return self._logs.get(lane)

    def woken(self, lane: str) -> None:
        """The view handles a wake-up of ``lane``: the next new event wakes it again."""
        with self._lock:
            self._woken.discard(lane)

    def reply_started(self, lane: str) -> None:
        """The app heard a hidden lane begin a reply (LaneReplyStarted): nothing to draw,
        unless the view switched to that lane meanwhile, which then draws it."""
        if lane == self.shown:
            self.post_output(LaneOutput(lane))
        else:
            self.woken(lane)

    def items_since(self, lane: str, start: int) -> list[Any]:
        with self._lock:
            log = self._logs.get(lane)
            return log.items[start:] if log is not None else []

    # -- the agents' threads ----------------------------------------------------------------
    def _on_event(self, ev: Any) -> None:
        from core.agent.lane_agent import ApprovalAsked, StateChanged
        from core.agent.events import TurnFinished
        from core.dispatch import Dispatched, NotStarted

        event = ev.event
        if isinstance(event, (Dispatched, NotStarted)):
            self.post(LaneAgentNote(ev.lane, event))
            return
        if isinstance(event, StateChanged):
            self.log_of(ev.lane, event.record.get("session"))
            self.post(LaneAgentChanged(ev.lane, event.state, dict(event.record)))
            return
        from core.agent.events import TextDelta

        log = self.log_of(ev.lane)
        with self._lock:
            starts = isinstance(event, TextDelta) and not (
                log.items and isinstance(log.items[-1], TextDelta))
            if not log.turn_open:
                # The agent thread itself calls this: its history holds the turn's prompt.
                log.turn_open = True
                text = self._prompt_of(ev.lane)
                if text:
                    log.items.append(UserSaid(text))
            if isinstance(event, TurnFinished):
                log.turn_open = False
            log.items.append(event)
            shown = ev.lane == self.shown
            wake = (shown or starts) and ev.lane not in self._woken
            if wake:
                self._woken.add(ev.lane)
        if wake:
            if shown:
                self.post_output(LaneOutput(ev.lane))
            else:
                self.post(LaneReplyStarted(ev.lane))
        if isinstance(event, ApprovalAsked):
            self.post(LaneAgentNote(ev.lane, event))

    def _prompt_of(self, lane: str) -> str:
        run = self.runner.run_of(lane) if self.runner is not None else None
        for msg in reversed(run.agent.history if run is not None else []):
            if msg.get("role") != "user":
                continue
            content = msg.get("content")
            if isinstance(content, str):
                return content
            texts = [b.get("text", "") for b in content or [] if isinstance(b, dict)
                     and b.get("type") == "text"]
            if texts:
                return "\n".join(texts)
        return ""
