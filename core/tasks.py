"""The task board: one JSON file a task under ``.tasks/``, in the seed's format.

Reads take no lock (files are replaced atomically, so a reader sees a whole file).
Every read-modify-write, and id allocation, holds the board lock, so concurrent
processes never lose an update or hand out an id twice.
"""

from __future__ import annotations

import os
import sys
import time
from bisect import bisect_left
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from core.errors import CorruptFileError, InvalidInputError, NotFoundError
from core.events import EventLog
from core.fsutil import atomic_write_json, locked, read_json
from core.paths import TASKS_LOCK
from core.records import TaskRecord, task_shape_error
from core.secrets import scrub_obj

STATUSES = ("pending", "in_progress", "completed")
STATUS_MARK = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}
# Fields the seed writes; worklanes adds ``blocks`` (mirror of ``blockedBy``).
TASK_DEFAULTS: dict[str, Any] = {
    "subject": "", "description": "", "status": "pending", "owner": "", "worktree": "",
    "blockedBy": [], "blocks": [],
}


class BoardListing:
    # A plain class, not a dataclass: the board commands start without dataclasses.
    __slots__ = ("tasks", "errors")

    def __init__(self, tasks: list[dict[str, Any]] | None = None,
                 errors: list[CorruptFileError] | None = None) -> None:
        self.tasks = tasks if tasks is not None else []
        self.errors = errors if errors is not None else []


def task_file_id(path: str | os.PathLike) -> int | None:
    """The id in a task file's name (``task_<id>.json``), or None for any other file."""
    name = os.path.basename(path)
    if not (name.startswith("task_") and name.endswith(".json")):
        return None
    stem = name[5:-5]
    # Only the name core writes for that id: task_007.json is not task 7's file.
    if not (stem.isdigit() and stem.isascii()) or (stem[0] == "0" and stem != "0"):
        return None
    return int(stem)


def still_blocking(blocked_by: Iterable[int] | None, status_of: Mapping[int, str]) -> list[int]:
    """The blockers that still block, given the status of each task on the board: a
    blocker that is completed (or gone) no longer blocks, even if a writer such as the
    seed never cleared ``blockedBy``."""
    return [d for d in blocked_by or () if status_of.get(d, "completed") != "completed"]


class _Statuses:
    """A task-by-id mapping seen as the status-by-id one ``still_blocking`` reads."""
    __slots__ = ("by_id",)

    def __init__(self, by_id: Mapping[int, Any]) -> None:
        self.by_id = by_id

    def get(self, tid: int, default: str) -> str:
        task = self.by_id.get(tid)
        return default if task is None else task.get("status")


def is_ready(task: Any, by_id: Mapping[int, Any]) -> bool:
    """Pending with no open blocker (see ``still_blocking``)."""
    return task.get("status") == "pending" and not still_blocking(task.get("blockedBy"),
                                                                  _Statuses(by_id))


def next_status(status: str) -> str:
    """The status ``s`` moves a task to: pending, in_progress, completed, then round."""
    return STATUSES[(STATUSES.index(status) + 1) % len(STATUSES)] if status in STATUSES \
        else STATUSES[0]


def related_ids(task: dict[str, Any]) -> list[int]:
    """The tasks whose files a status change of ``task`` may have rewritten."""
    return sorted(set(task.get("blocks") or []) | set(task.get("released") or []))


def open_blockers(task: Any, by_id: Mapping[int, Any]) -> list[int]:
    return still_blocking(task.get("blockedBy"), _Statuses(by_id))


_STATUS_OBJ = {s: s for s in STATUSES}   # one string object a status, however many tasks


class BoardTask:
    """What the board shows of a task, compact (a big board keeps one per task): read
    like the task's dict for these fields (``task["owner"]``, ``task.get(...)``); the
    description and the rest stay on disk (``TaskBoard.get``)."""
    __slots__ = ("id", "status", "subject", "owner", "worktree", "blocked_by")
    FIELDS = {"id": "id", "status": "status", "subject": "subject", "owner": "owner",
              "worktree": "worktree", "blockedBy": "blocked_by"}

    def __init__(self, task: dict[str, Any]) -> None:
        self.id = task["id"]
        status = task.get("status") or "pending"
        self.status = _STATUS_OBJ.get(status, status)
        self.subject = task.get("subject") or ""
        owner, lane = task.get("owner") or "", task.get("worktree") or ""
        self.owner = intern_str(owner)
        self.worktree = intern_str(lane)
        self.blocked_by = tuple(task.get("blockedBy") or ())

    def __getitem__(self, key: str) -> Any:
        value = getattr(self, self.FIELDS[key])
        return list(value) if key == "blockedBy" else value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoardTask) and all(
            getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BoardTask(#{self.id} {self.status} {self.subject!r})"


def intern_str(text: str) -> str:
    # Owners and lane names repeat across thousands of tasks: one copy each.
    return sys.intern(text) if text else ""


class TaskBoard:
    def __init__(self, directory: Path, events: EventLog):
        self.dir = Path(directory)
        self.events = events
        self.lock_path = self.dir / TASKS_LOCK

    # -- reading ---------------------------------------------------------------------
    def path(self, task_id: int) -> Path:
        return self.dir / f"task_{int(task_id)}.json"

    def _parse(self, path: Path | str, file_id: int | None = None) -> TaskRecord:
        data = read_json(path)
        reason = task_shape_error(data, task_file_id(path) if file_id is None else file_id)
        if reason:
            raise CorruptFileError(Path(path), reason)
        for key, default in TASK_DEFAULTS.items():
            if key not in data:
                data[key] = list(default) if isinstance(default, list) else default
        return data

    def get(self, task_id: int) -> dict[str, Any]:
        task_id = _as_id(task_id)
        try:
            return self._parse(self.path(task_id))
        except FileNotFoundError:
            raise NotFoundError(
                f"task {task_id} does not exist; `worklanes task list` shows the board") from None

    def exists(self, task_id: int) -> bool:
        return self.path(_as_id(task_id)).exists()

    def ids(self) -> list[int]:
        """Every task id on the board, in order, from the file names alone (no file is
        read: the board's order and size are cheap to know)."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        # task_file_id inlined: this runs over 50,000 names before a big board's first frame.
        return sorted([int(n[5:-5]) for n in names
                       if n[:5] == "task_" and n[-5:] == ".json" and n[5:-5].isdigit()
                       and n.isascii() and (n[5] != "0" or n == "task_0.json")])

    def first_ids(self, n: int) -> list[int]:
        """The first ``n`` ids in board order (all, if fewer), in a fraction of what ``ids`` costs on a big board: names sorted by length (in C)
        put the smallest ids first, and only those are parsed."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        names.sort(key=len)
        out: list[int] = []
        start, count = 0, len(names)
        while start < count and len(out) < n:
            width, end = len(names[start]), start
            while end < count and len(names[end]) == width:
                end += 1
            # Within one length, the order of the names is the order of their ids.
            for tid in sorted(i for i in map(task_file_id, names[start:end]) if i is not None):
                out.append(tid)
                if len(out) == n:
                    break
            start = end
        return out

    def read_first(self, n: int) -> list[tuple[int, dict[str, Any] | CorruptFileError]] | None:
        """The first ``n`` tasks in board order (as ``read`` gives them) without listing
        the folder, which alone costs tens of ms at 50,000 files: ids are handed out in
        order, so the first rows are the files task_0.json, task_1.json, ... that exist.
        None when more than ``n`` of those are missing (a small board, or one with gaps):
        then only the listing can tell."""
        found: list[tuple[int, dict[str, Any] | CorruptFileError]] = []
        missing, tid, folder = 0, 0, str(self.dir)
        while len(found) < n:
            try:
                found.append((tid, self._parse(f"{folder}/task_{tid}.json", tid)))
            except FileNotFoundError:
                missing += 1
                if missing > n:
                    return None
            except CorruptFileError as exc:
                found.append((tid, exc))
            tid += 1
        return found

    def read(self, ids: Iterable[int]) -> Iterator[tuple[int, dict[str, Any] | CorruptFileError]]:
        """These tasks, each as its dict or the CorruptFileError of its file; a file gone
        in the meantime is skipped."""
        folder = str(self.dir)
        for tid in ids:
            try:
                yield tid, self._parse(f"{folder}/task_{tid}.json", tid)
            except FileNotFoundError:
                continue
            except CorruptFileError as exc:
                yield tid, exc

    def stream(self, status: str | None = None, owner: str | None = None, ready: bool = False
               ) -> Iterator[tuple[dict[str, Any], list[int]] | CorruptFileError]:
        """What ``list`` gives (same filters), one task at a time in id order, each with
        its open blockers; a file that cannot be parsed as its CorruptFileError, when
        reached. Holds only what the blocked marks need: every status read so far, and
        the tasks waiting for a blocker with a later id until that one is read (a board
        whose tasks wait on earlier ones, as ``task add --blocked-by`` makes, holds none)."""
        if status is not None:
            _check_status(status)
        ids = self.ids()
        statuses: dict[int, str] = {}
        waiting: deque[tuple[int, dict[str, Any]]] = deque()   # (last blocker to read, task)

        def later_on_board(dep: int, tid: int) -> bool:
            at = bisect_left(ids, dep)
            return dep > tid and at < len(ids) and ids[at] == dep

        def done(task: dict[str, Any]) -> tuple[dict[str, Any], list[int]] | None:
            blockers = still_blocking(task["blockedBy"], statuses)
            if ready and (task["status"] != "pending" or blockers):
                return None
            return task, blockers

        for tid, item in self.read(ids):
            if isinstance(item, CorruptFileError):
                yield item
                continue
            state = item["status"]
            statuses[tid] = _STATUS_OBJ.get(state, state)
            if (status is None or state == status) and (owner is None or item["owner"] == owner):
                waits = [d for d in item["blockedBy"] if later_on_board(d, tid)]
                waiting.append((max(waits, default=0), item))
            while waiting and waiting[0][0] <= tid:
                out = done(waiting.popleft()[1])
                if out is not None:
                    yield out
        while waiting:   # what they waited for vanished meanwhile: it no longer blocks
            out = done(waiting.popleft()[1])
            if out is not None:
                yield out

    def list(self, status: str | None = None, owner: str | None = None,
             ready: bool = False) -> BoardListing:
        if status is not None:
            _check_status(status)
        out = BoardListing()
        for _, item in self.read(self.ids()):
            if isinstance(item, CorruptFileError):
                out.errors.append(item)
            else:
                out.tasks.append(item)
        if ready:
            by_id = {t["id"]: t for t in out.tasks}
            out.tasks = [t for t in out.tasks if is_ready(t, by_id)]
        if status is not None:
            out.tasks = [t for t in out.tasks if t.get("status") == status]
        if owner is not None:
            out.tasks = [t for t in out.tasks if t.get("owner") == owner]
        return out

    # -- writing ---------------------------------------------------------------------
    def _save(self, task: dict[str, Any]) -> None:
        task["updated_at"] = time.time()
        atomic_write_json(self.path(task["id"]), scrub_obj(task))   # never a key on disk

    def _max_id(self) -> int:
        ids = [i for i in map(task_file_id, os.listdir(self.dir)) if i is not None]
        return max(ids, default=0)

    def create(self, subject: str, description: str = "", owner: str = "",
               blocked_by: Iterable[int] = ()) -> dict[str, Any]:
        subject = (subject or "").strip()
        if not subject:
            raise InvalidInputError("a task needs a subject; pass a non-empty SUBJECT")
        blocked_by = sorted({_as_id(b) for b in blocked_by})
        self.dir.mkdir(parents=True, exist_ok=True)
        with locked(self.lock_path):
            blockers = [self.get(b) for b in blocked_by]
            now = time.time()
            task = {
                "id": self._max_id() + 1, "subject": subject, "description": description,
                "status": "pending", "owner": owner, "worktree": "", "blockedBy": blocked_by,
                "blocks": [], "created_at": now, "updated_at": now,
            }
            self._save(task)
            for b in blockers:
                b["blocks"] = sorted(set(b.get("blocks") or []) | {task["id"]})
                self._save(b)
        self.events.emit("task.created", task=_brief(task))
        return task

    def update(self, task_id: int, status: str | None = None, owner: str | None = None,
               subject: str | None = None, description: str | None = None,
               report: str | None = None) -> dict[str, Any]:
        if status is not None:
            _check_status(status)
        if subject is not None and not subject.strip():
            raise InvalidInputError("a task subject cannot be empty; pass a non-empty --subject",
                                    ui="a task subject cannot be empty; type one")
        return self._update(task_id, lambda task: status, owner, subject, description, report)

    def cycle_status(self, task_id: int) -> dict[str, Any]:
        """Move a task to the next status (``next_status``) of what is on disk now, under
        the same lock; ``related_ids`` of the result names the dependents it touched."""
        return self._update(task_id, lambda task: next_status(task.get("status", "")))

    def _update(self, task_id: int, new_status: Callable[[dict[str, Any]], str | None],
                owner: str | None = None, subject: str | None = None,
                description: str | None = None, report: str | None = None) -> dict[str, Any]:
        with locked(self.lock_path):
            task = self.get(task_id)
            before = task.get("status")
            status = new_status(task)
            changed = {}
            for key, value in (("status", status), ("owner", owner),
                               ("subject", subject and subject.strip()),
                               ("description", description), ("report", report)):
                if value is not None and task.get(key) != value:
                    changed[key] = value
                    task[key] = value
            if status == "completed" and before != "completed":
                self._release_dependents(task)
            elif status is not None and status != "completed" and before == "completed":
                self._restore_dependents(task)
            self._save(task)
        if changed:
            self.events.emit("task.updated", task=_brief(task), changes=changed)
        if status == "completed" and before != "completed":
            self.events.emit("task.completed", task=_brief(task))
        return task

    # Completing a task unblocks its dependents, as the seed does: the id leaves their
    # blockedBy, and moves from the task's ``blocks`` to ``released``, so both sides of the
    # mirror keep agreeing. Re-opening it puts it back in the blockedBy of the released
    # dependents still open (unless that would now make a cycle). Held lock assumed; the
    # caller saves ``task``.
    def _release_dependents(self, task: dict[str, Any]) -> None:
        released = set(task.get("released") or [])
        for dep_id in list(task.get("blocks") or []):
            try:
                dep = self.get(dep_id)
            except (NotFoundError, CorruptFileError):
                continue
            released.add(dep_id)
            if task["id"] in (dep.get("blockedBy") or []):
                dep["blockedBy"] = [b for b in dep["blockedBy"] if b != task["id"]]
                self._save(dep)
        task["blocks"] = []
        if released:
            task["released"] = sorted(released)

    def _restore_dependents(self, task: dict[str, Any]) -> None:
        blocks = set(task.get("blocks") or [])
        for dep_id in task.pop("released", None) or []:
            try:
                dep = self.get(dep_id)
            except (NotFoundError, CorruptFileError):
                continue
            if dep.get("status") == "completed" or self._reaches(task["id"], dep_id):
                continue
            dep["blockedBy"] = sorted(set(dep.get("blockedBy") or []) | {task["id"]})
            self._save(dep)
            blocks.add(dep_id)
        task["blocks"] = sorted(blocks)

    def _check_new_blocker(self, task: dict[str, Any], blocker: dict[str, Any]) -> None:
        tid, by = task["id"], blocker["id"]
        if tid == by:
            raise InvalidInputError(f"task {tid} cannot block itself")
        if task.get("status") == "completed":
            raise InvalidInputError(f"task {tid} is completed; reopen it (status pending) "
                                    "before it can wait on another task")
        if blocker.get("status") == "completed":
            raise InvalidInputError(f"task {by} is completed, so task {tid} cannot wait on it")
        if self._reaches(by, tid):
            raise InvalidInputError(
                f"task {by} already waits on task {tid}; blocking {tid} on {by} "
                "would make a cycle")

    def set_blockers(self, task_id: int, blocked_by: Iterable[int]) -> tuple[dict[str, Any], list[int]]:
        """Make ``blocked_by`` the task's whole blocker list, as one change: every new
        blocker is checked first, and on any error nothing is written. Returns the task
        and the ids of the other tasks whose files changed."""
        task_id = _as_id(task_id)
        wanted = sorted({_as_id(b) for b in blocked_by})
        with locked(self.lock_path):
            task = self.get(task_id)
            current = set(task.get("blockedBy") or [])
            added = {}
            for by in wanted:
                if by not in current:
                    added[by] = self.get(by)
                    self._check_new_blocker(task, added[by])
            removed = sorted(current - set(wanted))
            if not added and not removed:
                return task, []
            task["blockedBy"] = wanted
            self._save(task)
            for by, blocker in added.items():
                blocker["blocks"] = sorted(set(blocker.get("blocks") or []) | {task_id})
                self._save(blocker)
            for by in removed:
                try:
                    blocker = self.get(by)
                except (NotFoundError, CorruptFileError):
                    continue
                _drop_dependent(blocker, task_id)
                self._save(blocker)
        self.events.emit("task.updated", task=_brief(task), changes={"blockedBy": wanted})
        return task, sorted([*added, *removed])

    def block(self, task_id: int, by: int) -> dict[str, Any]:
        task_id, by = _as_id(task_id), _as_id(by)
        if task_id == by:
            raise InvalidInputError(f"task {task_id} cannot block itself")
        with locked(self.lock_path):
            task, blocker = self.get(task_id), self.get(by)
            self._check_new_blocker(task, blocker)
            task["blockedBy"] = sorted(set(task.get("blockedBy") or []) | {by})
            blocker["blocks"] = sorted(set(blocker.get("blocks") or []) | {task_id})
            self._save(task)
            self._save(blocker)
        self.events.emit("task.updated", task=_brief(task), changes={"blockedBy": task["blockedBy"]})
        return task

    def unblock(self, task_id: int, by: int) -> dict[str, Any]:
        task_id, by = _as_id(task_id), _as_id(by)
        with locked(self.lock_path):
            task = self.get(task_id)
            if by not in (task.get("blockedBy") or []):
                raise InvalidInputError(f"task {task_id} is not blocked by task {by}")
            task["blockedBy"] = [b for b in task["blockedBy"] if b != by]
            self._save(task)
            try:
                blocker = self.get(by)
                _drop_dependent(blocker, task_id)
                self._save(blocker)
            except NotFoundError:
                pass
        self.events.emit("task.updated", task=_brief(task), changes={"blockedBy": task["blockedBy"]})
        return task

    def _reaches(self, start: int, goal: int) -> bool:
        """True if ``start`` is (transitively) blocked by ``goal``."""
        seen, stack = set(), [start]
        while stack:
            cur = stack.pop()
            if cur == goal:
                return True
            if cur in seen:
                continue
            seen.add(cur)
            try:
                stack.extend(self.get(cur).get("blockedBy") or [])
            except (NotFoundError, CorruptFileError):
                continue
        return False

    def bind_worktree(self, task_id: int, worktree: str, owner: str = "") -> dict[str, Any]:
        with locked(self.lock_path):
            task = self.get(task_id)
            task["worktree"] = worktree
            if owner:
                task["owner"] = owner
            if task["status"] == "pending":
                task["status"] = "in_progress"
            self._save(task)
        self.events.emit("task.updated", task=_brief(task),
                         changes={"worktree": worktree, "status": task["status"]})
        return task

    def unbind_worktree(self, task_id: int, complete: bool = False) -> dict[str, Any]:
        with locked(self.lock_path):
            task = self.get(task_id)
            before = task["status"]
            task["worktree"] = ""
            if complete:
                task["status"] = "completed"
            if complete and before != "completed":
                self._release_dependents(task)
            self._save(task)
        return task


def _drop_dependent(blocker: dict[str, Any], task_id: int) -> None:
    """``task_id`` no longer waits on ``blocker``: neither now nor when it is re-opened."""
    blocker["blocks"] = [b for b in blocker.get("blocks") or [] if b != task_id]
    if "released" in blocker:
        blocker["released"] = [b for b in blocker["released"] if b != task_id]


def _brief(task: dict[str, Any]) -> dict[str, Any]:
    return {"id": task["id"], "subject": task.get("subject", ""), "status": task.get("status"),
            "owner": task.get("owner", ""), "worktree": task.get("worktree", "")}


MAX_ID = 10 ** 15  # keeps a file name short on every file system


def _as_id(value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        task_id = int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"task id must be a whole number, got {value!r}") from None
    if not 0 <= task_id <= MAX_ID:
        shown = str(task_id) if len(str(task_id)) <= 20 else f"{str(task_id)[:20]}..."
        raise InvalidInputError(f"task id {shown} is out of range; use a task id from "
                                "`worklanes task list`")
    return task_id


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidInputError(
            f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
