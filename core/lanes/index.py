"""The lane index (``.worktrees/index.json``) and the locks around it.

Three locks, from wide to narrow: a lane's own lock (``.worktrees/.locks/<name>.lock``)
is held for a whole create/keep/remove/restore (and later merge/sync) of that lane, so
two operations on one lane never interleave while different lanes run in parallel;
the git lock serializes only git's ``worktree add/remove/prune``, which race each other
on one repository; the index lock is held for one read-modify-write of the index."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from core.config import LaneConfig
from core.errors import ConflictError, CorruptFileError, InvalidInputError, NotFoundError
from core.events import EventLog
from core.fsutil import LOCK_TIMEOUT, atomic_write_json, locked, read_json
from core.paths import RESERVED_NAMES, StatePaths, is_scratch
from core.records import LaneEntry, find_entry, index_shape_error, lane_base
from core.tasks import TaskBoard

if TYPE_CHECKING:
    from core.lanes.diff import DiffStream

LANE_STATUSES = ("active", "kept", "merged", "removed")
LIVE_STATUSES = ("active", "kept", "merged")  # the directory is meant to exist
_HELD = threading.local()  # lane lock files this thread holds -> depth


def _held() -> dict[str, int]:
    if not hasattr(_HELD, "locks"):
        _HELD.locks = {}
    return _HELD.locks

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def validate_name(name: str) -> str:
    if (not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name
            or name.endswith((".lock", ".")) or is_scratch(name)):
        raise InvalidInputError(
            f"invalid lane name {name!r}; use 1-40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. auth-refactor)")
    if name in RESERVED_NAMES:
        raise InvalidInputError(
            f"lane name {name!r} is the name of a worklanes state file; pick another name")
    return name


# Letters NFKD does not take apart into a base letter and accents.
_LATIN = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
                        "ß": "ss", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "þ": "th",
                        "Þ": "th", "ð": "d", "ı": "i"})


def slugify(text: str, limit: int = 30, fallback: str = "lane") -> str:
    """A lane name proposed from a task subject: accents dropped (``Ünïcødé`` ->
    ``unicode``), other characters as dashes, cut at a word boundary within ``limit``;
    ``fallback`` when nothing readable is left (a subject in a non-Latin script)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text.translate(_LATIN))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    words = [w for w in re.split(r"[^A-Za-z0-9]+", ascii_text.lower()) if w]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    if not slug and words:
        slug = words[0][:limit]  # one word longer than the limit: cut it
    return slug or fallback


def task_ref(lane: dict[str, Any]) -> dict[str, Any]:
    return {"id": lane["task_id"]} if lane.get("task_id") is not None else {}


class LaneIndex:
    def __init__(self, root: Path, tasks: TaskBoard, events: EventLog,
                 config: LaneConfig | None = None):
        self.root = Path(root)
        self.tasks = tasks
        self.events = events
        self.config = config or LaneConfig()
        self.paths = StatePaths(self.root)
        self.state_dir = self.paths.state_dir
        self.index_path = self.paths.index
        self.lock_path = self.paths.index_lock
        self.lanes_dir = (self.root / self.config.dir).resolve()

    # -- reading -------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            data = read_json(self.index_path)
        except FileNotFoundError:
            return {"worktrees": []}
        reason = index_shape_error(data)
        if reason:
            raise CorruptFileError(self.index_path, reason)
        data.setdefault("worktrees", [])
        return data

    def list(self, include_removed: bool = True) -> list[LaneEntry]:
        lanes = [dict(e) for e in self._load()["worktrees"]]
        if not include_removed:
            lanes = [e for e in lanes if e.get("status") != "removed"]
        return lanes

    def get(self, name: str) -> LaneEntry:
        entry = find_entry(self._load(), name)
        if entry is None:
            raise self._unknown(name)
        return dict(entry)

    def diff(self, name: str) -> str:
        """Everything the lane changed since it left its base: commits, uncommitted
        edits, and untracked files (listed, since git diff cannot show them)."""
        with self.diff_stream(name) as stream:
            return "".join(stream.chunks())

    def diff_stream(self, name: str) -> "DiffStream":
        """The same, as it arrives (``core.lanes.diff``); use it in a ``with`` block.
        Here, on the index, since naming the lane and its base is all it needs of it."""
        from core.lanes.diff import DiffStream

        lane = self.live(name)
        return DiffStream(name, Path(lane["path"]), lane_base(lane))

    def _unknown(self, name: str) -> NotFoundError:
        return NotFoundError(f"lane {name!r} is not in the index; `worklanes wt list` shows the lanes")

    # -- writing -------------------------------------------------------------------
    def _save(self, data: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.index_path, data)

    def update(self, name: str, **changes: Any) -> LaneEntry:
        """Atomically change one entry (read-modify-write under the index lock) and
        return it. Keys not named in ``changes`` are kept as they are."""
        return self._edit(name, lambda entry: entry.update(changes))

    def _edit(self, name: str, fn: Callable[[dict[str, Any]], Any]) -> LaneEntry:
        """Apply ``fn`` to the entry under the index lock and save; the entry after it."""
        with locked(self.lock_path):
            data = self._load()
            entry = find_entry(data, name)
            if entry is None:
                raise self._unknown(name)
            fn(entry)
            self._save(data)
            return dict(entry)

    def _insert(self, entry: LaneEntry) -> None:
        """Add ``entry``, replacing a previous entry of the same name."""
        with locked(self.lock_path):
            data = self._load()
            data["worktrees"] = [e for e in data["worktrees"] if e.get("name") != entry["name"]]
            data["worktrees"].append(dict(entry))
            self._save(data)

    def _drop(self, name: str) -> None:
        with locked(self.lock_path):
            data = self._load()
            data["worktrees"] = [e for e in data["worktrees"] if e.get("name") != name]
            self._save(data)

    # -- locks ---------------------------------------------------------------------
    @contextmanager
    def lane_lock(self, name: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold lane ``name``'s own lock: one operation on a lane at a time, across
        processes and threads. Re-entrant within one thread, so an operation that holds
        it (a merge) can go on to keep or remove the same lane; it must finish its own
        intent record first (``ops.begin`` refuses a second one)."""
        key = str(self.paths.lane_lock(name))
        held = _held()
        if key in held:
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        with locked(Path(key), timeout=timeout):
            held[key] = 1
            try:
                yield
            finally:
                del held[key]

    def lock_depth(self, name: str) -> int:
        """How many times this thread holds lane ``name``'s lock (0: not at all)."""
        return _held().get(str(self.paths.lane_lock(name)), 0)

    @contextmanager
    def _git_worktree_lock(self) -> Iterator[None]:
        with locked(self.paths.git_worktree_lock):
            yield

    def live(self, name: str) -> LaneEntry:
        """The entry of a lane whose directory is meant to be there and is; else why not."""
        lane = self.get(name)
        if lane.get("status") == "removed":
            raise ConflictError(
                f"lane {name!r} was removed; `worklanes wt restore {name}` brings it back")
        if not Path(lane["path"]).is_dir():
            raise ConflictError(
                f"lane {name!r} directory {lane['path']} is missing; run `worklanes wt reconcile --fix`")
        return lane


def worktree_list(root: Path) -> list[dict[str, Any]]:
    """``git worktree list --porcelain`` as dicts (the main checkout first)."""
    from core import git

    out = git.check(["worktree", "list", "--porcelain"], root, what="git worktree list")
    items, cur = [], {}
    for line in out.splitlines() + [""]:
        if not line:
            if cur:
                items.append(cur)
            cur = {}
            continue
        key, _, value = line.partition(" ")
        cur[key] = value if value else True
    return items


def registered(root: Path, path: Path) -> dict[str, Any] | None:
    """Git's record of the worktree at ``path``, or None."""
    want = Path(path).resolve()
    for wt in worktree_list(root)[1:]:
        if Path(wt["worktree"]).resolve() == want:
            return wt
    return None


def half_made(wt: dict[str, Any] | None) -> bool:
    """A worktree `git worktree add` never finished: it stays locked "initializing"."""
    return wt is not None and wt.get("locked") == "initializing"
