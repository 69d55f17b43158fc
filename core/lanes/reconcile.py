"""Reconcile: where the index and git disagree, and what a dead process left behind.

Findings: lanes whose directory is gone (missing), git worktrees the index does not
know (unregistered), prunable and locked worktrees, half-created worktrees git left
locked "initializing", operations a killed process left (interrupted), and ``wt/*``
branches with no lane (orphan-branch). Fixes never delete a commit or a file that is not
saved elsewhere, and each is logged as a ``worktree.reconcile`` event."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core import git
from core.errors import InvalidInputError, LockedError, NotFoundError
from core.fsutil import locked
from core.lanes import ops
from core.lanes.index import (LIVE_STATUSES, LaneIndex, find_entry, half_made, validate_name,
                              worktree_list)


@dataclass
class Finding:
    kind: str        # missing | unregistered | prunable | locked | stale | half-created
                     # | interrupted | orphan-branch
    name: str
    path: str
    detail: str
    fix: str
    fixed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ReconcileMixin(LaneIndex):
    def git_worktrees(self) -> list[dict[str, Any]]:
        return worktree_list(self.root)

    def reconcile(self, fix: bool = False) -> list[Finding]:
        found: list[Finding] = []
        index = self.list()
        for lane in index:
            op = lane.get("op")
            if isinstance(op, dict):
                found.append(Finding("interrupted", lane["name"], lane["path"],
                                     f"a {op.get('kind')} stopped after step {op.get('step')!r} "
                                     f"(pid {op.get('pid')})", "finish or roll it back"))
        if fix and any(f.kind == "interrupted" for f in found):
            for f in found:
                if f.kind == "interrupted":
                    done = ops.recover(self, f.name)
                    if done:
                        f.fixed, f.fix = True, done[0]
                        self._log(f)
            index = self.list()
        busy = {e["name"] for e in index if isinstance(e.get("op"), dict)}
        known = {str(Path(w["worktree"]).resolve()): w for w in self.git_worktrees()[1:]}
        index_paths = set()
        for lane in index:
            lpath = str(Path(lane.get("path", "")).resolve())
            index_paths.add(lpath)
            if lane["name"] in busy:
                continue
            gw = known.get(lpath)
            status = lane.get("status")
            if status in LIVE_STATUSES and not Path(lpath).is_dir():
                found.append(Finding("missing", lane["name"], lpath,
                                     "directory is gone (removed by hand?); the branch stays",
                                     "prune git's record and mark the lane removed"))
            elif status == "removed" and gw is not None and Path(lpath).is_dir() \
                    and not half_made(gw):
                found.append(Finding("stale", lane["name"], lpath,
                                     "index says removed but git still has this worktree",
                                     "mark the lane active again"))
        for lpath, gw in known.items():
            name = Path(lpath).name
            entry = next((e for e in index if str(Path(e["path"]).resolve()) == lpath), None)
            if entry is not None and entry["name"] in busy:
                continue
            if half_made(gw):
                found.append(Finding("half-created", entry["name"] if entry else name, lpath,
                                     "git worktree add never finished (locked 'initializing')",
                                     "remove the half-made worktree; its files are a checkout "
                                     "of commits git keeps"))
                continue
            if gw.get("prunable"):
                found.append(Finding("prunable", name, lpath,
                                     f"git marks it prunable: {gw['prunable']}", "git worktree prune"))
            elif lpath not in index_paths:
                branch = str(gw.get("branch", "")).removeprefix("refs/heads/")
                found.append(Finding("unregistered", name, lpath,
                                     f"git worktree on {branch or 'a detached HEAD'} not in the index",
                                     "adopt it into the index"))
            if gw.get("locked"):
                reason = gw["locked"] if isinstance(gw["locked"], str) else "no reason given"
                found.append(Finding("locked", name, lpath,
                                     f"locked: {reason}", "none (unlock it with git worktree unlock)"))
        found += self._orphan_branches(index, known)
        if fix:
            self._apply_fixes([f for f in found if f.kind != "interrupted"], known)
        return found

    def _orphan_branches(self, index: list[dict[str, Any]],
                         known: dict[str, dict[str, Any]]) -> list[Finding]:
        lanes = {e.get("branch") for e in index}
        out_ = git.run(["for-each-ref", "--format=%(refname:short)", "refs/heads/wt/"], self.root)
        checked_out = {str(w.get("branch", "")).removeprefix("refs/heads/") for w in known.values()}
        found = []
        for branch in out_.out.split():
            if branch in lanes or branch in checked_out:
                continue
            name = branch.removeprefix("wt/")
            found.append(Finding("orphan-branch", name, str(self.lanes_dir / name),
                                 f"branch {branch} has no lane",
                                 "delete it if its commits are on another branch, else record "
                                 "it as a removed lane (`wt restore` brings it back)"))
        return found

    def _log(self, f: Finding) -> None:
        self.events.emit("worktree.reconcile", worktree={"name": f.name, "path": f.path},
                         finding=f.kind, action=f.fix)

    def _apply_fixes(self, found: list[Finding], known: dict[str, dict[str, Any]]) -> None:
        if any(f.kind in ("missing", "prunable") for f in found):
            git.run(["worktree", "prune"], self.root)
        for f in found:
            if f.kind == "missing":
                entry = self.update(f.name, status="removed", removed_at=time.time(),
                                    removed_by="reconcile")
                if entry.get("task_id") is not None:
                    try:
                        task = self.tasks.get(entry["task_id"])
                        if task.get("worktree") == f.name:
                            self.tasks.unbind_worktree(task["id"])
                    except NotFoundError:
                        pass
            elif f.kind == "stale":
                self.update(f.name, status="active")
            elif f.kind == "unregistered":
                self._adopt(f, known[f.path])
            elif f.kind == "half-created":
                if not self._remove_half_made(f, known[f.path]):
                    continue
            elif f.kind == "orphan-branch":
                if not self._settle_orphan(f):
                    continue
            elif f.kind != "prunable":
                continue
            f.fixed = True
            self._log(f)

    def _remove_half_made(self, f: Finding, gw: dict[str, Any]) -> bool:
        """A worktree `git worktree add` never finished. Only when no worklanes git
        worktree call is running (it could be one in progress)."""
        try:
            with locked(self.paths.git_worktree_lock, timeout=0):
                git.run(["worktree", "remove", "--force", "--force", f.path], self.root)
                if Path(f.path).is_dir():
                    import shutil
                    shutil.rmtree(f.path, ignore_errors=True)
                git.run(["worktree", "prune"], self.root)
        except LockedError:
            return False
        entry = find_entry(self._load(), f.name)
        if entry is not None and entry.get("status") != "removed":
            self.update(f.name, status="removed", removed_at=time.time(), removed_by="reconcile")
        f.fix = "removed the half-made worktree; the branch stays"
        return True

    def _settle_orphan(self, f: Finding) -> bool:
        branch = f"wt/{f.name}"
        tip = git.verify(f"refs/heads/{branch}", self.root)
        others = git.run(["for-each-ref", "--contains", tip, "--format=%(refname)",
                          "refs/heads/", "refs/remotes/", "refs/tags/"], self.root).out.split()
        if any(r != f"refs/heads/{branch}" for r in others):
            git.check(["branch", "-D", branch], self.root, what=f"deleting {branch}")
            f.fix = f"deleted {branch}: its commits are on another branch"
            return True
        try:
            validate_name(f.name)
        except InvalidInputError:
            f.fix = f"none: {branch} has commits of its own and no valid lane name; rename it"
            return False
        with locked(self.lock_path):
            data = self._load()
            if find_entry(data, f.name) is None:
                data["worktrees"].append({
                    "name": f.name, "path": f.path, "branch": branch, "task_id": None,
                    "status": "removed", "created_at": time.time(), "base_ref": "HEAD",
                    "base": "HEAD", "adopted": True, "removed_at": time.time()})
                self._save(data)
        f.fix = f"recorded as removed lane {f.name}; `worklanes wt restore {f.name}` brings it back"
        return True

    def _adopt(self, f: Finding, gw: dict[str, Any]) -> None:
        branch = str(gw.get("branch", "")).removeprefix("refs/heads/")
        name = f.name
        head, _ = git.head_of(self.root / ".git")
        with locked(self.lock_path):
            data = self._load()
            if find_entry(data, name) is not None:
                name = f"{name}-{int(time.time())}"
                f.name = name
            data["worktrees"].append({
                "name": name, "path": f.path, "branch": branch, "task_id": None,
                "status": "active", "created_at": time.time(), "base_ref": "HEAD",
                "base": head or "HEAD", "adopted": True,
            })
            self._save(data)
