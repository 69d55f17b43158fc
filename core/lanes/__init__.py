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

from core.lanes.archive import ARCHIVE_PREFIX, Archive
from core.lanes.index import LANE_STATUSES, LIVE_STATUSES, slugify, task_ref, validate_name
from core.lanes.lifecycle import CreateResult, Lanes
from core.lanes.reconcile import Finding
from core.lanes.status import LaneStatus
from core.lanes.work import NestedRepo, RemovalPlan
from core.records import lane_base

__all__ = ["ARCHIVE_PREFIX", "Archive", "CreateResult", "Finding", "LANE_STATUSES", "LIVE_STATUSES", "task_ref", "LaneStatus",
           "Lanes", "NestedRepo", "RemovalPlan", "lane_base", "slugify", "validate_name"]
