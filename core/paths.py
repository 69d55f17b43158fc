"""Where worklanes keeps its state: one table of folder, file, lock and temp-file names,
so core, the watcher and the agent's tools never spell them out on their own.

Everything lives in the main checkout's root (see ``core.git.find_repo``)."""

from __future__ import annotations

import re

from core.plain import record

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from pathlib import Path

TASKS_DIR = ".tasks"
STATE_DIR = ".worktrees"
STATE_DIRS = (TASKS_DIR, STATE_DIR)

INDEX_FILE = "index.json"
EVENTS_FILE = "events.jsonl"
CHAT_DIR = ".chat"
LOCKS_DIR = ".locks"          # per-lane locks; a dot folder never collides with a lane name
INDEX_LOCK = ".index.lock"
TASKS_LOCK = ".lock"
# Git's own `worktree add/remove/prune` race each other on one repository; this lock
# serializes just those calls. Lane names never start with a dot, so no lane collides.
GIT_WORKTREE_LOCK = ".git-worktree.lock"

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

TEMP_SUFFIX = ".tmp"
LOCK_SUFFIX = ".lock"

# Names a lane may never take: they are (or may become) state files in the lanes folder.
RESERVED_NAMES = frozenset({INDEX_FILE, EVENTS_FILE, CHAT_DIR, LOCKS_DIR, INDEX_LOCK})


def temp_prefix(final_name: str) -> str:
    """The prefix of an atomic write's temp file for ``final_name`` (``.name.XXXX.tmp``)."""
    return f".{final_name}."


def is_scratch(name: str) -> bool:
    """True for temp files of atomic writes, lock files and other dot files: names that
    change often and never mean the state itself changed."""
    return name.startswith(".") or name.endswith((TEMP_SUFFIX, LOCK_SUFFIX))


@record(frozen=True)
class StatePaths:
    root: Path

    @property
    def tasks_dir(self) -> Path:
        return self.root / TASKS_DIR

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def index(self) -> Path:
        return self.state_dir / INDEX_FILE

    @property
    def index_lock(self) -> Path:
        return self.state_dir / INDEX_LOCK

    @property
    def events(self) -> Path:
        return self.state_dir / EVENTS_FILE

    @property
    def chat_dir(self) -> Path:
        return self.state_dir / CHAT_DIR

    @property
    def locks_dir(self) -> Path:
        return self.state_dir / LOCKS_DIR

    @property
    def git_worktree_lock(self) -> Path:
        return self.locks_dir / GIT_WORKTREE_LOCK

    @property
    def tasks_lock(self) -> Path:
        return self.tasks_dir / TASKS_LOCK

    def lane_lock(self, name: str) -> Path:
        """``.locks/<name>.lock``. A name no lane could be created with (one adopted
        from a directory git already had) gets a digest instead, starting with ``_``,
        which no valid lane name does."""
        if not _SAFE_NAME.fullmatch(name):
            import hashlib  # rare: only names that are not lane names
            name = "_" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:20]
        return self.locks_dir / f"{name}{LOCK_SUFFIX}"
