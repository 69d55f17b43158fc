"""Keeping a lane current with its base, and cleaning up the lanes already integrated.

A sync runs in the lane's own worktree (``git merge`` or ``git rebase``), so a conflict
stops there - never in the main checkout - for the user or the lane's agent to resolve,
or to undo with ``abort_sync``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core import git
from core.errors import ConflictError, DirtyLaneError, GitError, InvalidInputError
from core.forecast import forecast_lanes, lane_base
from core.lanes import task_ref as _task_ref
from core.checkouts import changes, in_progress, rev
from core.merge import _set_op, lane_lock


@dataclass
class SyncResult:
    name: str
    base: str
    state: str                       # synced | up-to-date | conflict | aborted
    strategy: str = "merge"          # merge | rebase
    head: str = ""
    conflicts: list[str] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _base_commit(ws, lane: dict[str, Any]) -> tuple[str, str]:
    base = lane_base(lane)
    for cand in ([base] if base.startswith("refs/") else [f"refs/heads/{base}", base]):
        sha = rev(ws.root, cand)
        if sha:
            return base, sha
    raise InvalidInputError(f"base {base!r} of lane {lane['name']!r} no longer names a commit; "
                            "nothing to sync from")


def sync_lane(ws, name: str, rebase: bool = False) -> SyncResult:
    """Bring the base's new commits into lane ``name``, inside the lane."""
    with lane_lock(ws, name):
        lane = ws.lanes.live(name)
        path = Path(lane["path"])
        base, sha = _base_commit(ws, lane)
        stopped = in_progress(path)
        if stopped:
            raise ConflictError(
                f"lane {name!r} has a stopped {stopped}; resolve it there and commit, or "
                f"`worklanes wt sync {name} --abort`")
        dirty = changes(path)
        if dirty:
            raise DirtyLaneError(
                f"lane {name!r} has {len(dirty)} uncommitted change(s); commit them first "
                f"(git -C {path} add -A && git -C {path} commit), then sync")
        strategy = "rebase" if rebase else "merge"
        res = SyncResult(name=name, base=base, state="up-to-date", strategy=strategy)
        if git.run(["merge-base", "--is-ancestor", sha, "HEAD"], path).ok:
            res.head = rev(path, "HEAD")
            res.message = f"lane {name!r} already has every commit of {base}"
            return res
        args = (["rebase", "--no-autostash", sha] if rebase
                else ["merge", "--no-edit", "-m", f"Sync lane {name} with {base}", sha])
        out = git.run(args, path)
        res.head = rev(path, "HEAD")
        task, wt_ev = _task_ref(lane), {"name": name, "base": base}
        if not out.ok:
            conflicts = git.run(["diff", "--name-only", "--diff-filter=U"], path).out.split("\n")
            res.conflicts = [c for c in conflicts if c]
            if not res.conflicts or not in_progress(path):
                _abort(path)  # failed before any conflict: leave nothing half-done
                raise GitError(f"sync of lane {name!r} failed: {out.message()}")
            res.state = "conflict"
            res.message = (f"{strategy} of {base} into lane {name!r} stopped on "
                           f"{len(res.conflicts)} conflicting file(s) in {path}: "
                           f"{', '.join(res.conflicts[:5])}; resolve them there and "
                           f"{'`git rebase --continue`' if rebase else 'commit'}, or "
                           f"`worklanes wt sync {name} --abort`")
            ws.events.emit("worktree.sync.conflict", task=task, worktree=wt_ev, strategy=strategy,
                           conflicts=res.conflicts)
            return res
        # The base's tip is where the lane's own work now starts (see forecast._fork_point).
        _set_op(ws, name, fork=sha, synced_at=time.time())
        res.state, res.message = "synced", f"lane {name!r} now has every commit of {base}"
        ws.events.emit("worktree.sync", task=task, worktree=wt_ev, strategy=strategy, head=res.head)
        return res


def _abort(path: Path) -> str:
    stopped = in_progress(path)
    if stopped == "MERGE_HEAD":
        git.check(["merge", "--abort"], path, what="git merge --abort")
    elif stopped.startswith("rebase"):
        git.check(["rebase", "--abort"], path, what="git rebase --abort")
    return stopped


def abort_sync(ws, name: str) -> SyncResult:
    """Undo a sync that stopped on conflicts: the lane is back where it was."""
    with lane_lock(ws, name):
        lane = ws.lanes.live(name)
        path = Path(lane["path"])
        if not _abort(path):
            raise ConflictError(f"lane {name!r} has no merge or rebase in progress; nothing to abort")
        ws.events.emit("worktree.sync.abort", task=_task_ref(lane),
                       worktree={"name": name, "base": lane_base(lane)})
        return SyncResult(name=name, base=lane_base(lane), state="aborted", head=rev(path, "HEAD"),
                          message=f"sync of lane {name!r} aborted; the lane is as it was")


@dataclass
class PruneItem:
    name: str
    action: str      # removed | would remove | kept
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def prune_merged(ws, dry_run: bool = False) -> list[PruneItem]:
    """Remove every lane whose work its base already holds and that has nothing
    uncommitted, deleting its branch. Lanes with uncommitted work are kept and said so."""
    lanes = ws.lanes.list(include_removed=False)
    forecasts = forecast_lanes(ws.root, lanes)
    live = {st.name: st for st in ws.lanes.statuses(lanes)}
    items = []
    for lane in lanes:
        fc = forecasts.get(lane["name"])
        if fc is None or not fc.integrated:
            continue
        st = live[lane["name"]]
        if st.error or st.dirty:
            items.append(PruneItem(lane["name"], "kept", st.error or
                                   f"integrated into {fc.base}, but {st.dirty} uncommitted change(s)"))
            continue
        reason = f"integrated into {fc.base} ({fc.reason})"
        if dry_run:
            items.append(PruneItem(lane["name"], "would remove", reason))
            continue
        try:
            ws.lanes.remove(lane["name"], delete_branch=True)
        except (ConflictError, GitError) as exc:
            items.append(PruneItem(lane["name"], "kept", str(exc)))
            continue
        items.append(PruneItem(lane["name"], "removed", reason))
    return items
