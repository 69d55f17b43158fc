"""Answers that depend only on two commit ids, kept on disk between processes.

Ahead/behind, the lines a lane's commits changed and the merge forecast are fixed once
the base commit and the lane commit are known, so an answer stored under their ids can
never go stale: a new commit or a base that moved is a new key. `worklanes wt list` is a
new process each time; with this file, a run where nothing moved runs no ``rev-list``,
``diff`` or ``merge-tree`` at all.

One JSON file in the repository's git directory (``.git/worklanes/oid-cache.json``: not
a state file, and out of the folders the app watches), written atomically and only when
a call learned something new. It is re-read and merged just before each write, so two
processes writing at once lose at most each other's newest entries (a later miss, never
a wrong answer). A file that cannot be read counts as empty and is replaced on the next
write: it holds nothing that git cannot recompute.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

VERSION = 1
MAX_ENTRIES = 512     # a kind; the oldest go first
_lock = threading.Lock()
_open: dict[str, "OidCache"] = {}


def cache_path(root: Path) -> Path:
    return Path(root) / ".git" / "worklanes" / "oid-cache.json"


def for_repo(root: Path) -> "OidCache":
    """The one cache object of a repository in this process."""
    path = cache_path(root)
    with _lock:
        cache = _open.get(str(path))
        if cache is None:
            cache = _open[str(path)] = OidCache(path)
        return cache


class OidCache:
    def __init__(self, path: Path):
        self.path = path
        self._data: dict[str, dict[str, Any]] | None = None
        self._new: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, base: str, head: str) -> Any | None:
        with self._lock:
            if self._data is None:
                self._data = _read(self.path)
            return self._data.get(kind, {}).get(f"{base} {head}")

    def put(self, kind: str, base: str, head: str, value: Any) -> None:
        with self._lock:
            if self._data is None:
                self._data = _read(self.path)
            key = f"{base} {head}"
            self._data.setdefault(kind, {})[key] = value
            self._new.setdefault(kind, {})[key] = value

    def flush(self) -> None:
        """Write what this process learned since the last flush, merged into the file as
        it is now. Never raises: a cache that cannot be written is only slower."""
        with self._lock:
            if not self._new:
                return
            new, self._new = self._new, {}
            merged = _read(self.path)
            for kind, entries in new.items():
                have = merged.setdefault(kind, {})
                for key, value in entries.items():
                    have.pop(key, None)
                    have[key] = value            # newest last
                for key in list(have)[:max(0, len(have) - MAX_ENTRIES)]:
                    del have[key]
            self._data = merged
        try:
            from core.fsutil import atomic_write_text
            self.path.parent.mkdir(exist_ok=True)
            atomic_write_text(self.path, json.dumps({"version": VERSION, **merged},
                                                    separators=(",", ":")))
        except OSError:
            pass


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    return {k: v for k, v in data.items() if k != "version" and isinstance(v, dict)}

