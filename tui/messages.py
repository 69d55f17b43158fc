"""Every custom Message of the app, in one place (toolong's habit).

Workers and the watcher thread never touch widgets: they post one of these to the app,
and the handler on the UI thread does the drawing. Messages that carry a whole
snapshot may replace an older one still waiting in the queue (``can_replace``);
messages that carry increments (events, text deltas) never do.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class AppMessage(Message):
    """Base of the app's own messages: dropped once the app is quitting, when the
    widgets they would draw on are already going away."""


class TasksLoaded(AppMessage):
    """The whole board as it is now (tasks by id, plus files that failed to parse)."""

    def __init__(self, tasks: list[dict[str, Any]], errors: list[Any], gen: int = 0,
                 rows: list[Any] | None = None, ready: int = 0) -> None:
        super().__init__()
        self.tasks = tasks
        self.errors = errors
        self.gen = gen
        self.rows = rows or []   # the board's table rows, made by the thread that read it
        self.ready = ready

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TasksLoaded)


class LanesLoaded(AppMessage):
    """The lane index (without live git status), or the error reading it."""

    def __init__(self, lanes: list[dict[str, Any]], error: str = "", gen: int = 0) -> None:
        super().__init__()
        self.lanes = lanes
        self.error = error
        self.gen = gen

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LanesLoaded)


class LaneStatusesLoaded(AppMessage):
    """Live git status of the lanes (computed in a worker; slow-ish)."""

    def __init__(self, statuses: list[Any], branch: str = "") -> None:
        super().__init__()
        self.statuses = statuses
        self.branch = branch

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LaneStatusesLoaded)


class EventsAppended(AppMessage):
    """New lines of events.jsonl, oldest first. ``initial`` marks the startup tail."""

    def __init__(self, events: list[dict[str, Any]], initial: bool = False) -> None:
        super().__init__()
        self.events = events
        self.initial = initial


class ActionDone(AppMessage):
    """A user action finished; ``note`` is shown, ``select_*`` moves a cursor there.

    ``tasks`` (ids, or True for all) and ``lanes`` name what the action changed: the
    worker re-reads them into ``updates`` so the new rows and the cursor move arrive in
    one message. Posted separately, a key pressed in between could act on the row that
    was selected before (``w`` right after creating a task)."""

    def __init__(self, note: str = "", select_task: int | None = None,
                 select_lane: str | None = None, refresh_lanes: bool = True,
                 tasks: list[int] | bool = False, lanes: bool = False) -> None:
        super().__init__()
        self.note = note
        self.select_task = select_task
        self.select_lane = select_lane
        self.refresh_lanes = refresh_lanes
        self.tasks = tasks
        self.lanes = lanes
        self.updates: list[AppMessage] = []


class ActionFailed(AppMessage):
    """A user action failed with a one-line reason. ``logged`` means core already
    wrote a *.failed event, so the app does not add its own."""

    def __init__(self, what: str, error: str, logged: bool = False) -> None:
        super().__init__()
        self.what = what
        self.error = error
        self.logged = logged


class DiffLoaded(AppMessage):
    def __init__(self, lane: str, text: str) -> None:
        super().__init__()
        self.lane = lane
        self.text = text


class CommandFinished(AppMessage):
    """``result`` is a core CommandResult, or None when the command could not start
    (``error`` says why)."""

    def __init__(self, lane: str, command: str, result: Any, error: str = "") -> None:
        super().__init__()
        self.lane = lane
        self.command = command
        self.result = result
        self.error = error


class ReconcileDone(AppMessage):
    """What ``r`` found (nothing fixed yet: the fixes ask first)."""

    def __init__(self, findings: list[Any]) -> None:
        super().__init__()
        self.findings = findings


# -- agent ------------------------------------------------------------------------------

class AgentReady(AppMessage):
    """The agent was created (after the first paint); ``history`` is the restored
    conversation of the last session, in API message format."""

    def __init__(self, agent: Any, model: str, history: list[dict[str, Any]],
                 usage: Any = None) -> None:
        super().__init__()
        self.agent = agent
        self.model = model
        self.history = history
        self.usage = usage


class AgentUnavailable(AppMessage):
    """No API key (or the agent could not be set up): the chat says what to do."""

    def __init__(self, message: str, model: str = "") -> None:
        super().__init__()
        self.message = message
        self.model = model


class AgentEvent(AppMessage):
    """One event of the running turn (TextDelta, ToolStarted, ToolFinished, Retrying,
    TurnFinished, AgentError from core.agent.events), in order."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class AgentTurnEnded(AppMessage):
    """The turn's thread returned (normally, cancelled, or with an error)."""

    def __init__(self, error: str = "") -> None:
        super().__init__()
        self.error = error


class ApprovalNeeded(AppMessage):
    """The agent thread waits for the user's answer: the app opens the modal and fills
    ``answer`` then sets ``done``. The agent thread never blocks on the UI loop itself
    (a blocking call into a loop that is shutting down would never return)."""

    def __init__(self, request: Any, done: Any, answer: list) -> None:
        super().__init__()
        self.request = request
        self.done = done
        self.answer = answer
