"""Intent records: a multi-step operation on a lane writes what it is about to do into
the lane's index entry (``op``) before it touches the disk, advances ``op.step`` after
each step that cannot be undone, and clears it in the same write that records the
outcome. A process killed at any point leaves the record behind; ``recover`` finds it
and hands it to the recovery function registered for its kind, which finishes or rolls
back the operation from what is on disk.

An operation holds the lane's lock for as long as its record exists, so a record whose
lane lock can be taken belongs to a dead process."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable

from core.errors import ConflictError, LockedError
from core.records import LaneEntry, OpRecord

if TYPE_CHECKING:
    from core.lanes.lifecycle import Lanes

# kind -> function(lanes, entry) -> what it did (one line)
Recovery = Callable[["Lanes", LaneEntry], str]
_RECOVERIES: dict[str, Recovery] = {}
# Kinds whose recovery lives in a module core.lanes does not import (it imports lanes):
# loaded when a record of that kind is found.
_PROVIDERS = {"merge": "core.merge"}


def recovery(kind: str) -> Callable[[Recovery], Recovery]:
    """Register how an interrupted operation of ``kind`` is finished or rolled back."""
    def register(fn: Recovery) -> Recovery:
        _RECOVERIES[kind] = fn
        return fn
    return register


def new_op(kind: str, **fields: Any) -> OpRecord:
    return {"kind": kind, "step": "begin", "started_at": time.time(), "pid": os.getpid(), **fields}


def begin(lanes: "Lanes", name: str, kind: str, **fields: Any) -> OpRecord:
    """Record the intent (call with the lane lock held). One at a time per lane."""
    op = new_op(kind, **fields)

    def edit(entry: dict[str, Any]) -> None:
        cur = entry.get("op")
        if isinstance(cur, dict):
            raise ConflictError(f"lane {name!r} is in the middle of a {cur.get('kind')}; "
                                "finish it before starting a " + kind)
        entry["op"] = op
    lanes._edit(name, edit)
    return op


def finish(lanes: "Lanes", name: str, **changes: Any) -> LaneEntry:
    """Record the outcome and drop the intent in one atomic write."""
    return lanes._edit(name, lambda entry: (entry.update(changes), entry.pop("op", None)))


def advance(lanes: "Lanes", name: str, step: str, **fields: Any) -> None:
    """Record that ``step`` finished (and what it produced)."""
    def edit(entry: dict[str, Any]) -> None:
        if not isinstance(entry.get("op"), dict):
            raise ConflictError(f"lane {name!r} lost its operation record; run `worklanes wt reconcile`")
        entry["op"].update(step=step, **fields)
    lanes._edit(name, edit)


def pending(lanes: "Lanes") -> list[LaneEntry]:
    return [e for e in lanes.list() if isinstance(e.get("op"), dict)]


def recover_held(lanes: "Lanes", entry: LaneEntry) -> str:
    """Recover ``entry``'s interrupted operation; the caller holds the lane lock."""
    op = entry.get("op") or {}
    kind = str(op.get("kind"))
    if kind not in _RECOVERIES and kind in _PROVIDERS:
        import importlib
        importlib.import_module(_PROVIDERS[kind])
    fn = _RECOVERIES.get(kind)
    if fn is None:
        return (f"unknown operation {op.get('kind')!r} on lane {entry['name']!r} left as it is; "
                "a newer worklanes wrote it")
    action = fn(lanes, entry)
    lanes.events.emit("worktree.recover", worktree={"name": entry["name"], "path": entry.get("path")},
                      op={k: op.get(k) for k in ("kind", "step", "snapshot", "pid")}, action=action)
    return action


def recover(lanes: "Lanes", name: str | None = None) -> list[str]:
    """Finish or roll back every interrupted operation (or just lane ``name``'s).
    Operations still running in a live process (their lane lock is held) are skipped."""
    done = []
    for entry in pending(lanes):
        if (name is not None and entry["name"] != name) or lanes.lock_depth(entry["name"]):
            continue  # not asked, or this thread's own operation in progress
        try:
            with lanes.lane_lock(entry["name"], timeout=0):
                fresh = lanes.get(entry["name"])
                if isinstance(fresh.get("op"), dict):
                    done.append(recover_held(lanes, fresh))
        except LockedError:
            continue  # still running elsewhere
    return done
