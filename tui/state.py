"""What the panes show, read from core: the board (re-read only the task files that
changed), the lane index, the event log. No Textual here; callers run it off the UI
thread and post the results."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from core.errors import CorruptFileError, NotFoundError, WorklanesError
from core.git import head_of
from core.tasks import task_file_id
from core.workspace import Workspace


@dataclass
class BoardSnapshot:
    tasks: list[dict[str, Any]] = field(default_factory=list)
    errors: list[CorruptFileError] = field(default_factory=list)
    gen: int = 0  # readers on two threads may post out of order: the newest wins


class BoardCache:
    """The board in memory. A change to one task file costs one file read, not a
    re-read of all of them (a board of 1,000 tasks stays cheap to keep live)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._tasks: dict[int, dict[str, Any]] = {}
        self._errors: dict[int, CorruptFileError] = {}
        self._lock = threading.Lock()
        self._gen = 0

    def load_all(self) -> BoardSnapshot:
        with self._lock:
            listing = self.ws.tasks.list()
            self._tasks = {t["id"]: t for t in listing.tasks}
            self._errors = {}
            for err in listing.errors:
                tid = task_file_id(err.path)
                if tid is not None:
                    self._errors[tid] = err
            return self._snapshot()

    def reload(self, ids: Iterable[int]) -> BoardSnapshot:
        with self._lock:
            for tid in ids:
                try:
                    task = self.ws.tasks.get(tid)
                except NotFoundError:
                    self._tasks.pop(tid, None)
                    self._errors.pop(tid, None)
                except CorruptFileError as exc:
                    self._tasks.pop(tid, None)
                    self._errors[tid] = exc
                else:
                    self._tasks[tid] = task
                    self._errors.pop(tid, None)
            return self._snapshot()

    def _snapshot(self) -> BoardSnapshot:
        self._gen += 1
        return BoardSnapshot(tasks=[self._tasks[k] for k in sorted(self._tasks)],
                             errors=[self._errors[k] for k in sorted(self._errors)],
                             gen=self._gen)


class LaneReader:
    """The lane index, numbered in the order it was read (see BoardSnapshot.gen)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._lock = threading.Lock()
        self._gen = 0

    def read(self) -> tuple[list[dict[str, Any]], str, int]:
        with self._lock:
            self._gen += 1
            try:
                return self.ws.lanes.list(include_removed=False), "", self._gen
            except WorklanesError as exc:
                return [], str(exc), self._gen


def task_file_count(ws: Workspace) -> int:
    try:
        return sum(1 for name in os.listdir(ws.tasks_dir) if task_file_id(name) is not None)
    except OSError:
        return 0


def current_branch(ws: Workspace) -> str:
    """The branch of the checkout the app was opened from (a lane's, inside one), for
    the header line."""
    head, on_branch = head_of(ws.git_dir or ws.common_dir)
    if on_branch or not head:
        return head
    return head[:8] + " (detached)"
