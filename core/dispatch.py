"""Dispatch, the autopilot: a lane agent for each task that may start, at most N at once,
and the tasks their completions unblock in the same run.

Scheduling is event-driven, never timed: the dispatcher starts what it may, then sleeps
on the runner's condition until some agent ends a turn (or it is stopped), and looks at
the board again. It never starts an agent for a blocked or completed task, nor for a
lane whose agent is running (here or in another process).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from core.agent.lane_agent import (LaneAgentRun, LaneAgents, LaneEvent, agent_state,
                                   lane_for_task, startable)
from core.errors import WorklanesError
from core.tasks import is_ready


@dataclass
class Dispatched:
    """Dispatch started this task's agent (``created``: its lane was made for it)."""
    task_id: int
    created: bool


@dataclass
class NotStarted:
    task_id: int
    reason: str


@dataclass
class DispatchResult:
    runs: dict[int, LaneAgentRun] = field(default_factory=dict)     # task id -> its run
    not_started: dict[int, str] = field(default_factory=dict)       # task id -> why
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """Every agent ended its turn without error, and every task asked for ran."""
        return (not self.stopped and not self.not_started
                and all(r.ok for r in self.runs.values()))


class Dispatcher:
    """Runs on the runner's limit (``agents.settings.max_parallel``), which also bounds
    agents started outside the dispatch (the board agent's lane_agent_start)."""

    def __init__(self, agents: LaneAgents, task_ids: list[int] | None = None):
        self.agents = agents
        self.ws = agents.ws
        self.task_ids = list(dict.fromkeys(task_ids)) if task_ids else None
        self._stop = threading.Event()
        self._result = DispatchResult()
        self._tried: set[int] = set()

    def stop(self) -> None:
        """No new starts; cancel the agents this dispatch started (their histories stay
        valid). Safe from any thread, e.g. a SIGINT handler's."""
        self._stop.set()
        for run in list(self._result.runs.values()):
            self.agents.cancel(run.lane)
        self.agents.wake()

    def run(self) -> DispatchResult:
        """Blocks until nothing more can start and every started agent ended its turn."""
        if self.task_ids is not None:
            for tid in self.task_ids:
                self.ws.tasks.get(tid)   # an unknown id is refused before anything starts
        while True:
            generation = self.agents.generation
            self._start_what_may()
            if self._stop.is_set():
                break
            if not any(r.alive for r in self._result.runs.values()):
                if self.agents.generation == generation:
                    break          # nothing ran, nothing ended since the board was read
                continue
            self.agents.wait_change(generation, self._stop)
        if self._stop.is_set():   # also an agent that was starting while stop() ran
            for run in self._result.runs.values():
                self.agents.cancel(run.lane)
        self.agents.wait([r.lane for r in self._result.runs.values()])
        self._result.stopped = self._stop.is_set()
        if self.task_ids is not None:
            by_id = {t["id"]: t for t in self.ws.tasks.list().tasks}
            for tid in self.task_ids:
                if tid not in self._result.runs and tid not in self._result.not_started:
                    task = by_id.get(tid)
                    why = (startable(task, by_id) if task else None) or "dispatch was stopped"
                    self._not_started(tid, why)
        return self._result

    # -- one look at the board -------------------------------------------------------------
    def _start_what_may(self) -> None:
        free = self.agents.settings.max_parallel - len(self.agents.running())
        if free <= 0 or self._stop.is_set():
            return
        tasks = self.ws.tasks.list().tasks
        by_id = {t["id"]: t for t in tasks}
        lanes = {ln["name"]: ln for ln in self.ws.lanes.list()}
        wanted = self.task_ids if self.task_ids is not None else [t["id"] for t in tasks]
        for tid in wanted:
            if free <= 0 or self._stop.is_set():
                return
            task = by_id.get(tid)
            if task is None or tid in self._tried:
                continue
            if self.task_ids is None and not is_ready(task, by_id):
                continue
            why = startable(task, by_id)
            if why:
                if task.get("status") == "completed":
                    self._tried.add(tid)
                    self._not_started(tid, why)
                continue   # blocked: looked at again when an agent ends a turn
            lane = lanes.get(task.get("worktree") or "")
            live = agent_state(lane) if lane else None
            if live and live.get("state") in ("running", "waiting"):
                self._tried.add(tid)
                self._not_started(tid, f"lane {lane['name']!r} already has a running agent")
                continue
            self._tried.add(tid)
            try:
                name, created = lane_for_task(self.ws, task)
                self.agents.emit(LaneEvent(name, tid, Dispatched(tid, created)))
                run = self.agents.start(name)
            except WorklanesError as exc:
                self._not_started(tid, str(exc))
                continue
            self._result.runs[tid] = run
            free -= 1

    def _not_started(self, task_id: int, reason: str) -> None:
        self._result.not_started[task_id] = reason
        lane = ""
        try:
            lane = self.ws.tasks.get(task_id).get("worktree") or ""
        except WorklanesError:
            pass
        self.agents.emit(LaneEvent(lane or f"#{task_id}", task_id, NotStarted(task_id, reason)))

