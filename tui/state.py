"""What the panes show, read from core: the board (re-read only the task files that
changed), the lane index, the event log. No Textual here; callers run it off the UI
thread and post the results."""

from __future__ import annotations

import threading
from dataclasses import field
from typing import Any, Iterable

from core.errors import CorruptFileError, NotFoundError, WorklanesError
from core.plain import record
from core.tasks import BoardTask
from core.workspace import Workspace


@record
class BoardSnapshot:
    tasks: dict[int, BoardTask] = field(default_factory=dict)       # in id order
    errors: dict[int, CorruptFileError] = field(default_factory=dict)
    gen: int = 0  # readers on two threads may post out of order: the newest wins
    partial: bool = False   # only the first rows (and the blockers they name) are read yet
    blockers: dict[int, BoardTask] = field(default_factory=dict)   # read for marks only


class BoardCache:
    """The board in memory, one compact BoardTask a task. A change to one task file
    costs one file read, not a re-read of all of them; a big board is first read only
    as far as the screen shows (``load_first``), the rest after the first frame
    (``load_all``), while changes keep coming in (``reload``)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._tasks: dict[int, BoardTask] = {}
        self._errors: dict[int, CorruptFileError] = {}
        self._blockers: dict[int, BoardTask] = {}
        self._lock = threading.Lock()
        self._gen = 0
        self._complete = False
        # Each load_all under way: the ids reload() re-read while it reads (two can overlap:
        # the periodic pass may start while a big board's first full read still runs).
        self._loads: list[set[int]] = []

    @property
    def partial(self) -> bool:
        return not self._complete

    def load_first(self, rows: int, whole: int = 0) -> BoardSnapshot:
        """The first ``rows`` tasks in board order, and the tasks their blockers name
        (so their ready/blocked marks are true), without reading the rest. A board
        that has to be listed (see TaskBoard.read_first) is read whole when the
        listing finds at most ``whole`` tasks."""
        first = self.ws.tasks.read_first(rows) if rows else None
        complete = False
        if first is None:
            asked = max(rows, whole)
            ids = self.ws.tasks.first_ids(asked)
            complete = len(ids) < asked
            first = list(self.ws.tasks.read(ids if complete else ids[:rows]))
        tasks, errors = self._split(first)
        named = {d for t in tasks.values() for d in t.blocked_by if d not in tasks}
        blockers, _ = self._read(sorted(named))
        with self._lock:
            self._tasks, self._errors, self._blockers = tasks, errors, blockers
            self._complete = complete
            return self._snapshot()

    def load_all(self) -> BoardSnapshot:
        touched: set[int] = set()
        with self._lock:
            self._loads.append(touched)
        try:
            tasks, errors = self._read(self.ws.tasks.ids())
        except BaseException:
            with self._lock:
                self._forget(touched)
            raise
        with self._lock:   # one hold: a reload between forgetting and merging would be lost
            self._forget(touched)
            # A file re-read (by reload) while this read ran: that read saw the change
            # the watcher reported, so it wins over ours, which may be older.
            for tid in touched:
                tasks.pop(tid, None)
                errors.pop(tid, None)
                if tid in self._tasks:
                    tasks[tid] = self._tasks[tid]
                if tid in self._errors:
                    errors[tid] = self._errors[tid]
            if touched:
                tasks = dict(sorted(tasks.items()))
            self._tasks, self._errors, self._blockers = tasks, errors, {}
            self._complete = True
            return self._snapshot()

    def _forget(self, touched: set[int]) -> None:
        self._loads = [t for t in self._loads if t is not touched]   # by identity

    def reload(self, ids: Iterable[int]) -> BoardSnapshot:
        with self._lock:
            new = False
            for tid in ids:
                try:
                    task = BoardTask(self.ws.tasks.get(tid))
                except NotFoundError:
                    self._tasks.pop(tid, None)
                    self._errors.pop(tid, None)
                except CorruptFileError as exc:
                    self._tasks.pop(tid, None)
                    self._errors[tid] = exc
                else:
                    new = new or tid not in self._tasks
                    self._tasks[tid] = task
                    self._errors.pop(tid, None)
                # Read now, it is a row like the others (a mark that names it reads it there).
                self._blockers.pop(tid, None)
                for touched in self._loads:
                    touched.add(tid)
            if new:
                self._tasks = dict(sorted(self._tasks.items()))
            return self._snapshot()

    def _read(self, ids: list[int]) -> tuple[dict[int, BoardTask], dict[int, CorruptFileError]]:
        return self._split(self.ws.tasks.read(ids))

    @staticmethod
    def _split(items: Iterable[tuple[int, Any]]) -> tuple[dict[int, BoardTask],
                                                         dict[int, CorruptFileError]]:
        tasks: dict[int, BoardTask] = {}
        errors: dict[int, CorruptFileError] = {}
        for tid, item in items:
            if isinstance(item, CorruptFileError):
                errors[tid] = item
            else:
                tasks[tid] = BoardTask(item)
        return tasks, errors

    def _snapshot(self) -> BoardSnapshot:
        self._gen += 1
        return BoardSnapshot(tasks=dict(self._tasks), errors=dict(sorted(self._errors.items())),
                             gen=self._gen, partial=not self._complete,
                             blockers=dict(self._blockers))


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
                return self.ws.lane_index.list(include_removed=False), "", self._gen
            except WorklanesError as exc:
                return [], str(exc), self._gen


def current_branch(ws: Workspace) -> str:
    """The branch of the checkout the app was opened from (a lane's, inside one), for
    the header line."""
    from core.git import head_of   # here: the first paint runs no git and needs none of it

    head, on_branch = head_of(ws.git_dir or ws.common_dir)
    if on_branch or not head:
        return head
    return head[:8] + " (detached)"
