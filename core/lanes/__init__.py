"""Lanes: git worktrees bound to tasks, with a durable index and lifecycle events.

``.worktrees/index.json`` is the registry (seed format). Git is the truth about what is
on disk; ``reconcile`` reports and mends where the two disagree. Removal never loses
work: a lane with work is refused unless forced, and a forced removal first snapshots
it under ``refs/worklanes/archive/<name>/<n>``.

    index.py      the index, its locks, names
    ops.py        intent records and recovery of interrupted operations
    lifecycle.py  create, keep, remove, restore, run: the ``Lanes`` class
    work.py       what counts as work (the removal plan)
    archive.py    snapshots
    status.py     live status and diff
    reconcile.py  index vs git, and what crashes left
"""

from core.lazy import lazy_exports
from core.records import lane_base

# Each name loads on first use: the board (and its first paint) wants a lane's name
# rules (index.py), not the lifecycle, status, archive and reconcile code (~11 ms).
__getattr__ = lazy_exports(__name__, {
    "ARCHIVE_PREFIX": "archive", "Archive": "archive",
    **dict.fromkeys(("LANE_STATUSES", "LIVE_STATUSES", "slugify", "task_ref", "validate_name"),
                    "index"),
    "CreateResult": "lifecycle", "Lanes": "lifecycle", "Finding": "reconcile",
    "LaneStatus": "status", "NestedRepo": "work", "RemovalPlan": "work"})


__all__ = ["ARCHIVE_PREFIX", "Archive", "CreateResult", "Finding", "LANE_STATUSES", "LIVE_STATUSES", "task_ref", "LaneStatus",
           "Lanes", "NestedRepo", "RemovalPlan", "lane_base", "slugify", "validate_name"]
