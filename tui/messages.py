"""Every custom Message of the app, in one place, as small dataclasses (toolong's habit).

Workers and the watcher thread never touch widgets: they post one of these, and the
handler on the UI thread does the drawing. Panes talk to each other the same way: a pane
posts, the message bubbles to the app, and the app hands it to the pane it concerns.
Messages that carry a whole snapshot (or the latest selection) may replace an older one
still waiting in the queue (``can_replace``); increments (events, text deltas) never do.
Replies meant for one pane (a diff, the agent's events) do not bubble past it.
"""

from __future__ import annotations

import threading
from dataclasses import field
from typing import Any

from textual.message import Message

from core.plain import record


def message(cls: type) -> type:
    """Make a Message class of its annotated fields, as ``@dataclass(eq=False)`` would
    (core/plain.py: dataclass costs ~9 ms for this module on the way to the first paint):
    an ``__init__`` by position or name, then Message's own ``__post_init__`` (the
    sender, the time); compared by identity, as Textual expects; Textual's repr lists
    the fields."""
    cls = record(cls, eq=False, repr=False)
    fields = cls.__record_fields__

    def __rich_repr__(self: Any) -> Any:
        for name in fields:
            yield name, getattr(self, name)

    cls.__rich_repr__ = __rich_repr__
    return cls


class AppMessage(Message):
    """Base of the app's own messages: dropped once the app is quitting, when the
    widgets they would draw on are already going away."""


@message
class TasksLoaded(AppMessage):
    """The board as it is now (core BoardTasks in id order, plus files that failed to
    parse); with ``partial``, only its first rows are read yet."""
    tasks: list[Any]
    errors: list[Any]
    gen: int = 0                                    # the newest read wins (two threads race)
    rows: list[Any] = field(default_factory=list)   # table rows, made by the reading thread
    ready: int = 0
    partial: bool = False
    by_id: dict[int, Any] = field(default_factory=dict)

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TasksLoaded)


@message
class LanesLoaded(AppMessage):
    """The lane index (without live git status), or the error reading it."""
    lanes: list[dict[str, Any]]
    error: str = ""
    gen: int = 0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LanesLoaded)


@message
class LaneStatusesLoaded(AppMessage):
    """Live git status of lanes (computed in a worker): of every lane, or with
    ``partial`` only of the lanes whose files changed; with each one's merge forecast
    (core.forecast.Forecast) by name."""
    statuses: list[Any]
    branch: str = ""
    partial: bool = False
    forecasts: dict[str, Any] = field(default_factory=dict)

    def can_replace(self, message: Message) -> bool:
        # A full read supersedes any read still queued; a partial one supersedes nothing.
        return isinstance(message, LaneStatusesLoaded) and not self.partial


@message
class LanesChanged(AppMessage):
    """The lane watcher saw these lanes' files change; ``base``: a branch that may be a
    lane's base moved (every lane's ahead/behind may have changed)."""
    names: set[str]
    base: bool = False


@message
class EventsAppended(AppMessage):
    """New lines of events.jsonl, oldest first. ``initial`` marks the startup tail."""
    events: list[dict[str, Any]]
    initial: bool = False


@message
class BoardSelected(AppMessage):
    """The board's cursor moved: the lanes pane follows to the selected task's lane."""
    task_id: int | None
    lane: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BoardSelected)


@message
class ActionDone(AppMessage):
    """A user action finished; ``note`` is shown, ``select_*`` moves a cursor there.

    ``tasks`` (ids, or True for all) and ``lanes`` name what the action changed: the
    worker re-reads them into ``updates`` so the new rows and the cursor move arrive in
    one message. Posted separately, a key pressed in between could act on the row that
    was selected before (``w`` right after creating a task)."""
    note: str = ""
    select_task: int | None = None
    select_lane: str | None = None
    refresh_lanes: bool = True
    tasks: list[int] | bool = False
    lanes: bool = False
    updates: list[AppMessage] = field(default_factory=list)


@message
class ActionFailed(AppMessage):
    """A user action failed with a one-line reason. ``logged`` means core already
    wrote a *.failed event, so the app does not add its own."""
    what: str
    error: str
    logged: bool = False


@message
class DiffLoaded(AppMessage, bubble=False):
    lane: str
    stream: Any       # core.lanes.diff.DiffStream, started: the view reads and closes it


@message
class CommandFinished(AppMessage, bubble=False):
    """``result`` is a core CommandResult, or None when the command could not start
    (``error`` says why)."""
    lane: str
    command: str
    result: Any
    error: str = ""


@message
class ReconcileDone(AppMessage, bubble=False):
    """What ``r`` found (nothing fixed yet: the fixes ask first)."""
    findings: list[Any]


@message
class MergePlanned(AppMessage, bubble=False):
    """What ``m`` found before asking: a core MergePlan (forecast, check, problems)."""
    plan: Any


class OutputStream:
    """Output a thread produces faster than the screen needs it. ``write`` (any thread)
    collects it and posts only when the last post was taken: a chatty command costs one
    message a frame, not one a line, and nothing is lost."""

    def __init__(self, post: Any) -> None:
        self._post = post
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._waiting = False

    def write(self, text: str) -> None:
        with self._lock:
            self._parts.append(text)
            if self._waiting:
                return
            self._waiting = True
        self._post()

    def take(self) -> str:
        """Everything written since the last take (UI thread)."""
        with self._lock:
            self._waiting = False
            text, self._parts = "".join(self._parts), []
        return text


@message
class OutputArrived(AppMessage, bubble=False):
    """A running check wrote something: take it from ``stream``."""
    lane: str
    stream: OutputStream


@message
class MergeFinished(AppMessage, bubble=False):
    """``result`` is a core MergeResult, or None when the merge was refused (``error``)."""
    lane: str
    result: Any
    error: str = ""


# -- agent ------------------------------------------------------------------------------

@message
class AgentReady(AppMessage, bubble=False):
    """The agent was created (after the first paint); ``history`` is the restored
    conversation of the last session, in API message format."""
    agent: Any
    model: str
    history: list[dict[str, Any]]
    usage: Any = None


@message
class AgentUnavailable(AppMessage, bubble=False):
    """No API key (or the agent could not be set up): the chat says what to do."""
    message: str
    model: str = ""


@message
class AgentEvent(AppMessage, bubble=False):
    """One event of the running turn (TextDelta, ToolStarted, ToolFinished, Retrying,
    TurnFinished, AgentError from core.agent.events), in order."""
    event: Any


@message
class AgentTurnEnded(AppMessage, bubble=False):
    """The turn's thread returned (normally, cancelled, or with an error)."""
    error: str = ""


@message
class TokensUsed(AppMessage):
    """The conversation's token count changed (for the status line)."""
    model: str | None
    tokens: tuple[int, int] | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TokensUsed)


@message
class ApprovalNeeded(AppMessage, bubble=False):
    """The agent thread waits for the user's answer: the chat opens the modal and fills
    ``answer`` then sets ``done``. The agent thread never blocks on the UI loop itself
    (a blocking call into a loop that is shutting down would never return)."""
    request: Any
    done: Any
    answer: list


# -- lane agents (tui/lane_host.py posts these from the agents' threads) ------------------------

@message
class LaneOutput(AppMessage):
    """A lane agent showed something new (its lane's log grew). Only a wake-up: the chat
    pane reads the log itself, so one of these may stand for a burst of text deltas."""
    lane: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LaneOutput) and message.lane == self.lane


@message
class LaneReplyStarted(AppMessage):
    """A lane agent that is not on screen began a reply. Posted to the app, not to the
    chat's lane view, whose queue may be waiting on a draw of the lane on screen: the app
    hears of every agent's first words at once, and there is nothing to draw."""
    lane: str


@message
class LaneAgentChanged(AppMessage):
    """A lane agent's recorded state (``record``: the ``agent`` object of its lane's entry)."""
    lane: str
    state: str
    record: dict[str, Any]


@message
class LaneAgentNote(AppMessage):
    """Something about a lane agent the user hears of (dispatch started it or would not,
    it asks for approval)."""
    lane: str
    event: Any


@message
class ApprovalsChanged(AppMessage):
    """The queue of lane agents' approvals changed."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ApprovalsChanged)


@message
class DispatchEnded(AppMessage):
    """``A``'s dispatch returned (``result``: core.dispatch.DispatchResult, or None)."""
    result: Any
    error: str = ""
