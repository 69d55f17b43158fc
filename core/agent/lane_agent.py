"""Lane agents: the agent loop bound to one lane and its task, many at once.

``LaneAgents`` is the one runner every host drives (``worklanes dispatch``, the board
agent's delegation tools, the app): it starts an agent in its own thread, reports what
each one does through one callback, and records each agent's state on its lane's index
entry as ``agent: {state, session, started_at, finished_at, tokens, error, pid, proc_start}``.

Isolation between agents: each has its own ``Agent`` (conversation, transcript, session
approvals, usage) and its own cancel event; they share only the SDK client (a
thread-safe connection pool) and the workspace files, whose writes are locked. Whatever
one agent's turn does - an API fault, a cancel, an exception in a host callback - ends in
that agent's thread and becomes that agent's state.

A record saying ``running`` or ``waiting`` whose process is gone (pid and its start time
no longer match) reads as ``interrupted``; starting that lane again continues the same
transcript, whose loader answers the tool call the crash left open as interrupted.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from core.agent.config import AgentConfig, LaneAgentConfig, load_lane_agent_config
from core.agent.lane_state import AGENT_STATES, LIVE_STATES, agent_state, process_token
from core.agent.events import (AgentError, ApprovalRequest, Decision, TextDelta, ToolStarted,
                               TurnFinished, Usage)
from core.agent.loop import Agent, make_client
from core.agent.transcript import chat_dir
from core.errors import ConflictError, InvalidInputError, NotFoundError, WorklanesError
from core.lanes import LIVE_STATUSES, slugify
from core.tasks import open_blockers
from core.workspace import Workspace

BUDGET_REACHED = "token budget reached"


# -- what a lane agent is told ----------------------------------------------------------------

def task_prompt(task: dict[str, Any], lane: dict[str, Any]) -> str:
    """The first user message of a lane agent: the task verbatim, then the rules."""
    text = f"Task #{task['id']}: {task.get('subject', '')}"
    if task.get("description"):
        text += f"\n\n{task['description']}"
    return text + (
        f"\n\nYou work in lane {lane['name']!r} (directory {lane['path']}, branch "
        f"{lane.get('branch')}).\n"
        "- Work only in this lane: your file tools and bash act inside it.\n"
        "- Commit your work in the lane (git add, git commit) with a clear message.\n"
        f"- When the task is done, complete it: task_update with task_id {task['id']} and "
        "status completed.\n"
        "- End with a short report: what you changed, how you checked it, anything left open.")


def resume_prompt(task: dict[str, Any] | None, state: str | None) -> str:
    what = f"task #{task['id']} ({task.get('subject', '')})" if task else "your work"
    why = "Your previous session was interrupted. " if state == "interrupted" else ""
    return (f"{why}Continue {what} from where you stopped: check the lane (git status, git "
            "log) first, then finish as instructed - commit, complete the task with "
            "task_update, and end with a short report.")


def startable(task: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str | None:
    """Why no agent may start for ``task`` now (None: it may)."""
    if task.get("status") == "completed":
        return f"task {task['id']} is completed"
    blockers = open_blockers(task, by_id)
    if blockers:
        return f"task {task['id']} is blocked by " + ", ".join(f"#{b}" for b in blockers)
    return None


def lane_for_task(ws: Workspace, task: dict[str, Any]) -> tuple[str, bool]:
    """(lane name, created): the task's live lane, or a new one named from its subject
    (de-duplicated against every name the index or the lanes folder already holds)."""
    lanes = {ln["name"]: ln for ln in ws.lanes.list()}
    bound = lanes.get(task.get("worktree") or "")
    if bound is not None and bound.get("status") in LIVE_STATUSES:
        return bound["name"], False
    base = slugify(task.get("subject", ""), fallback=f"task-{task['id']}")
    name, n = base, 1
    while name in lanes or (ws.lanes.lanes_dir / name).exists():
        n += 1
        name = f"{base}-{n}"
    ws.lanes.create(name, task_id=task["id"])
    return name, True


# -- what the runner tells its host -----------------------------------------------------------

@dataclass
class StateChanged:
    state: str
    record: dict[str, Any]          # the agent record as written on the lane's entry


@dataclass
class ApprovalAsked:
    request: ApprovalRequest


@dataclass
class ApprovalAnswered:
    request: ApprovalRequest
    decision: str                   # once | session | deny | unanswered


@dataclass
class LaneEvent:
    """One thing a lane agent did: ``event`` is an AgentEvent (TextDelta, ToolStarted,
    ...), a StateChanged, or an ApprovalAsked / ApprovalAnswered."""
    lane: str
    task_id: int | None
    event: Any


LaneEventSink = Callable[[LaneEvent], None]
LaneApprover = Callable[[str, ApprovalRequest], Decision]


@dataclass
class LaneAgentRun:
    """One lane's agent in this process. ``alive`` while a turn runs in its thread."""
    lane: str
    task_id: int | None
    agent: Agent
    record: dict[str, Any]
    cancel: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    alive: bool = False
    state: str = "idle"
    error: str | None = None
    report: str = ""
    thread: threading.Thread | None = None
    _text: list[str] = field(default_factory=list)
    _errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == "done" and not self.error

    def tokens(self) -> dict[str, int]:
        u: Usage = self.agent.usage
        return {"input": u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens,
                "output": u.output_tokens}


class LaneAgents:
    """Starts, follows and cancels lane agents (see the module docstring).

    ``on_event(LaneEvent)`` and ``approver(lane, request) -> Decision`` are called from the
    agents' threads, possibly several at once: a host makes them thread-safe (the TUI
    posts a message, the CLI takes a lock). Without an approver, calls that need approval
    are denied with a message that says so (headless without --yes)."""

    def __init__(self, ws: Workspace, config: AgentConfig,
                 on_event: LaneEventSink | None = None, approver: LaneApprover | None = None,
                 settings: LaneAgentConfig | None = None):
        self.ws = ws
        self.config = config
        self.on_event = on_event or (lambda ev: None)
        self.approver = approver
        self.settings = settings or load_lane_agent_config(ws.root)
        self.generation = 0                  # bumped whenever an agent's turn ends
        self._cond = threading.Condition()
        self._runs: dict[str, LaneAgentRun] = {}
        self._client: Any = None

    # -- starting -------------------------------------------------------------------------
    def start_task(self, task_id: int, message: str | None = None) -> LaneAgentRun:
        """Start the agent of a task, creating its lane first if it has none."""
        task = self.ws.tasks.get(task_id)
        by_id = {t["id"]: t for t in self.ws.tasks.list().tasks}
        why = startable(task, by_id)
        if why:
            raise ConflictError(f"{why}; no agent was started")
        with self._cond:
            self._check_room()   # before a lane is made for nothing
        lane, _ = lane_for_task(self.ws, task)
        return self.start(lane, message)

    def start(self, lane: str, message: str | None = None) -> LaneAgentRun:
        """Start a turn of ``lane``'s agent in its own thread and return at once. The first
        turn is told the lane's task; a lane that had an agent continues its conversation
        (with ``message``, or a note to carry on)."""
        entry = self.ws.lanes.get(lane)
        if entry.get("status") == "removed":
            raise ConflictError(f"lane {lane!r} was removed; `worklanes wt restore {lane}` "
                                "brings it back")
        task = None
        if entry.get("task_id") is not None:
            try:
                task = self.ws.tasks.get(entry["task_id"])
            except NotFoundError:
                task = None
        previous = agent_state(entry)
        if message is None and task is None and previous is None:
            raise InvalidInputError(f"lane {lane!r} has no task; give its agent a message")
        if message is not None and not message.strip():
            raise InvalidInputError("the message for the lane agent is empty")
        client = self._shared_client()
        with self._cond:
            run = self._runs.get(lane)
            if run is not None and run.alive:
                raise ConflictError(f"the agent of lane {lane!r} is running; wait for it or "
                                    "cancel it")
            if previous and previous.get("state") in LIVE_STATES and run is None:
                raise ConflictError(f"the agent of lane {lane!r} is running in process "
                                    f"{previous.get('pid')}; wait for it or stop that process")
            self._check_room()
            session = (previous or {}).get("session")
            if run is not None and run.agent.session_id == session:
                agent = run.agent                     # keeps this session's approvals
            else:
                if session and not (chat_dir(self.ws.root) / f"{session}.jsonl").exists():
                    session = None
                agent = Agent(self.ws, self.config, self._approver_for(lane) if self.approver
                              else None, lane=lane, session_id=session, client=client)
            agent.token_budget = self.settings.lane_token_budget
            if message is None:
                message = (task_prompt(task, entry) if not agent.history
                           else resume_prompt(task, (previous or {}).get("state")))
            run = LaneAgentRun(lane, entry.get("task_id"), agent, record={})
            run.alive = True
            self._runs[lane] = run
        self._record(run, "running", session=agent.session_id, started_at=time.time(),
                     finished_at=None, error=None, pid=os.getpid(),
                     proc_start=process_token(os.getpid()))
        self._log(run, "agent.started", session=agent.session_id)
        run.thread = threading.Thread(target=self._work, args=(run, message),
                                      name=f"worklanes-lane-{lane}", daemon=True)
        run.thread.start()
        return run

    def send(self, lane: str, message: str) -> LaneAgentRun:
        """A follow-up message to a lane's agent (a new turn of its conversation)."""
        if agent_state(self.ws.lanes.get(lane)) is None and lane not in self._runs:
            raise NotFoundError(f"lane {lane!r} has no agent yet; start one first")
        return self.start(lane, message)

    # -- following, cancelling ------------------------------------------------------------
    def cancel(self, lane: str) -> bool:
        """Cancel the running turn of one agent (the others go on); False if none runs."""
        run = self._runs.get(lane)
        if run is None or not run.alive:
            return False
        run.cancel.set()
        withdraw = getattr(self.approver, "withdraw", None)
        if withdraw is not None:   # an approval it waits for is no longer wanted
            withdraw(lane)
        return True

    def cancel_all(self) -> list[str]:
        return [lane for lane in list(self._runs) if self.cancel(lane)]

    def run_of(self, lane: str) -> LaneAgentRun | None:
        return self._runs.get(lane)

    def running(self) -> list[str]:
        with self._cond:
            return [lane for lane, r in self._runs.items() if r.alive]

    def wait(self, lanes: list[str] | None = None, timeout: float | None = None) -> bool:
        """Block until the given agents (default: all) ended their turns; False on timeout."""
        def idle() -> bool:
            return not any(r.alive for name, r in self._runs.items()
                           if lanes is None or name in lanes)
        with self._cond:
            return self._cond.wait_for(idle, timeout)

    def wait_change(self, generation: int, stop: threading.Event | None = None,
                    timeout: float | None = None) -> None:
        """Block until some agent ends a turn after ``generation`` was read (or ``stop``
        is set and ``wake`` called)."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation != generation
                                or (stop is not None and stop.is_set()), timeout)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def status(self, lane: str | None = None) -> list[dict[str, Any]]:
        """Agent states and reports, from the index (so agents of other processes show)."""
        lanes = [self.ws.lanes.get(lane)] if lane else self.ws.lanes.list()
        out = []
        for entry in lanes:
            state = agent_state(entry)
            if state is None and lane is None:
                continue
            report = ""
            if entry.get("task_id") is not None:
                try:
                    report = self.ws.tasks.get(entry["task_id"]).get("report") or ""
                except WorklanesError:
                    pass
            out.append({"lane": entry["name"], "task_id": entry.get("task_id"),
                        "agent": state or {"state": "idle"}, "report": report})
        return out

    # -- the agent's thread -----------------------------------------------------------------
    def _work(self, run: LaneAgentRun, message: str) -> None:
        state, error = "failed", None
        try:
            finished = run.agent.send(message, lambda ev: self._sink(run, ev), run.cancel)
            state, error = self._outcome(run, finished)
        except BaseException as exc:   # a bug or a host callback raising: this agent fails
            error = " ".join(f"crashed: {type(exc).__name__}: {exc}".split())[:300]
        finally:
            run.state, run.error = state, error
            if state == "done" and run.task_id is not None and run.report.strip():
                try:
                    self.ws.tasks.update(run.task_id, report=run.report.strip())
                except WorklanesError as exc:
                    run.error = f"cannot keep the report on task {run.task_id}: {exc}"
            self._record(run, state, finished_at=time.time(), error=run.error)
            self._log(run, f"agent.{state}", error=run.error, tokens=run.tokens())
            with self._cond:
                run.alive = False
                self.generation += 1
                self._cond.notify_all()
            run.finished.set()

    def _outcome(self, run: LaneAgentRun, fin: TurnFinished) -> tuple[str, str | None]:
        stop = fin.stop_reason
        if stop == "token_budget":
            return "failed", (f"{BUDGET_REACHED} ({fin.session_usage.total} of "
                              f"{self.settings.lane_token_budget} tokens)")
        if stop == "cancelled":
            return "cancelled", None
        if stop == "error":
            return "failed", run._errors[-1] if run._errors else "the turn failed"
        if stop == "max_iterations":
            return "failed", (f"tool round limit ({self.config.max_iterations}) reached; "
                              "send a follow-up to continue")
        if stop not in ("end_turn", "stop_sequence"):
            return "failed", f"the reply stopped early ({stop})"
        return "done", run._errors[-1] if run._errors else None

    def _sink(self, run: LaneAgentRun, ev: Any) -> None:
        if isinstance(ev, TextDelta):
            run._text.append(ev.text)
        elif isinstance(ev, ToolStarted):
            run._text.clear()   # text before a tool call is narration; the report comes last
            if run.tokens() != run.record.get("tokens"):
                self._record(run, run.state)   # tokens after each model call
        elif isinstance(ev, AgentError):
            run._errors.append(ev.message)
        elif isinstance(ev, TurnFinished):
            run.report = "".join(run._text)
        self._emit(run, ev)

    def _approver_for(self, lane: str) -> Callable[[ApprovalRequest], Decision]:
        def ask(req: ApprovalRequest) -> Decision:
            run = self._runs[lane]
            self._record(run, "waiting")
            self._emit(run, ApprovalAsked(req))
            decision: Decision | None = None
            try:
                decision = self.approver(lane, req)   # type: ignore[misc]
                return decision
            finally:
                answer = decision.value if isinstance(decision, Decision) else "unanswered"
                self._emit(run, ApprovalAnswered(req, answer))
                self._record(run, "running")
        return ask

    # -- shared pieces ------------------------------------------------------------------------
    def _check_room(self) -> None:
        running = sum(r.alive for r in self._runs.values())
        if running >= self.settings.max_parallel:
            raise ConflictError(f"{running} lane agent(s) running (max_parallel "
                                f"{self.settings.max_parallel} in .worklanes.toml [agent]); "
                                "wait for one to finish")

    def _shared_client(self) -> Any:
        if not self.config.has_key:
            return None   # the agent itself says how to set a key
        with self._cond:
            if self._client is None:
                self._client = make_client(self.config)
            return self._client

    def _record(self, run: LaneAgentRun, state: str, **changes: Any) -> None:
        run.state = state
        run.record.update(changes, state=state, tokens=run.tokens())
        record = dict(run.record)
        try:
            self.ws.lanes.update(run.lane, agent=record)
        except WorklanesError as exc:   # e.g. a corrupt index: said, never overwritten
            self._emit(run, AgentError(f"cannot record the state of lane {run.lane!r}'s "
                                       f"agent: {exc}"))
        self._emit(run, StateChanged(state, record))

    def _log(self, run: LaneAgentRun, event: str, **fields: Any) -> None:
        """The lifecycle event log (events.jsonl) hears of starts and ends, not tokens."""
        try:
            self.ws.events.emit(event, task={"id": run.task_id} if run.task_id is not None
                                else {}, worktree={"name": run.lane}, **fields)
        except OSError:
            pass   # the log is a record of what happened, never a reason to stop

    def _emit(self, run: LaneAgentRun, ev: Any) -> None:
        self.emit(LaneEvent(run.lane, run.task_id, ev))

    def emit(self, event: LaneEvent) -> None:
        try:
            self.on_event(event)
        except Exception:
            pass   # a host's display bug must not end an agent's turn


__all__ = ["AGENT_STATES", "LIVE_STATES", "BUDGET_REACHED", "LaneAgents", "LaneAgentRun",
           "ApprovalQueue", "PendingApproval",
           "LaneEvent", "StateChanged", "ApprovalAsked", "ApprovalAnswered", "agent_state",
           "task_prompt", "resume_prompt", "startable", "lane_for_task", "process_token"]
