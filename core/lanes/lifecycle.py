"""The lane lifecycle: create, keep, remove, restore (and run). Each holds the lane's
lock and, where it takes several steps on disk, an intent record (``core.lanes.ops``)
with a registered recovery, so a ``kill -9`` at any step is finished or rolled back by
the next command."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from core import git
from core.config import include_sources
from core.errors import ConflictError, DirtyLaneError, GitError, InvalidInputError, NotFoundError
from core.lanes import archive, ops
from core.lanes.archive import ARCHIVE_PREFIX, Archive
from core.lanes.index import (LIVE_STATUSES, find_entry, half_made, registered, task_ref,
                              validate_name)
from core.lanes.reconcile import ReconcileMixin
from core.lanes.status import LaneStatusMixin
from core.lanes.work import RemovalPlan, removal_plan, size_of
from core.paths import STATE_DIRS
from core.forecast import forecast_lane
from core.secrets import env_drop_of
from core.records import LaneEntry, lane_base

if TYPE_CHECKING:
    from core.proc import CommandResult


@dataclass
class CreateResult:
    lane: dict[str, Any]
    copied: list[str] = field(default_factory=list)
    setup: CommandResult | None = None


class Lanes(LaneStatusMixin, ReconcileMixin):
    # -- shared ------------------------------------------------------------------------
    def _current(self, name: str) -> LaneEntry:
        """The entry, after recovering an operation a dead process left on it (the
        caller holds the lane lock)."""
        lane = self.get(name)
        # Held more than once: an outer frame of this thread owns the record.
        if isinstance(lane.get("op"), dict) and self.lock_depth(name) <= 1:
            ops.recover_held(self, lane)
            lane = self.get(name)
        return lane

    def recover(self, name: str | None = None) -> list[str]:
        """Finish or roll back interrupted operations; what was done, one line each."""
        return ops.recover(self, name)

    # -- create ------------------------------------------------------------------------
    def create(self, name: str, task_id: int | None = None, base_ref: str = "HEAD",
               run_setup: bool = True, hooks: bool = True) -> CreateResult:
        validate_name(name)
        base_ref = (base_ref or "HEAD").strip()
        task_ev = {"id": task_id} if task_id is not None else {}
        self.events.emit("worktree.create.before", task=task_ev,
                         worktree={"name": name, "base_ref": base_ref})
        try:
            with self.lane_lock(name):
                result = self._create(name, task_id, base_ref, hooks)
        except Exception as exc:
            self.events.emit("worktree.create.failed", task=task_ev,
                             worktree={"name": name, "base_ref": base_ref}, error=str(exc))
            raise
        if run_setup and self.config.setup:
            result.setup = self._setup(result.lane)
        return result

    def _create(self, name: str, task_id: int | None, base_ref: str, hooks: bool) -> CreateResult:
        existing = find_entry(self._load(), name)
        if existing is not None and isinstance(existing.get("op"), dict):
            self._current(name)  # a create, remove or restore a dead process left
            existing = find_entry(self._load(), name)
        if existing is not None:
            if existing.get("status") == "removed":
                raise ConflictError(
                    f"lane {name!r} existed and was removed; `worklanes wt restore {name}` "
                    "brings it back, or pick another name")
            raise ConflictError(f"lane {name!r} already exists; pick another name")
        if task_id is not None:
            task = self.tasks.get(task_id)
            bound = task.get("worktree")
            if bound and bound != name:
                other = find_entry(self._load(), bound)
                if other is not None and other.get("status") in LIVE_STATUSES:
                    raise ConflictError(
                        f"task {task_id} already has lane {bound!r}; remove it first or "
                        "create the lane without --task")
        path = self.lanes_dir / name
        branch = f"wt/{name}"
        if path.exists() or path.is_symlink():
            raise ConflictError(f"{path} already exists; move it away or pick another name")
        base_commit = self._base_commit(base_ref)
        sources = include_sources(self.root, STATE_DIRS)  # refused before anything is made
        entry: LaneEntry = {
            "name": name, "path": str(path), "branch": branch, "task_id": task_id,
            "status": "active", "created_at": time.time(), "base_ref": base_ref,
            "base": self._resolve_base(base_ref),
            "op": ops.new_op("create", base_commit=base_commit, hooks=hooks),
        }
        self._insert(entry)
        try:
            with self._git_worktree_lock():
                res = git.run(["worktree", "add", "-b", branch, str(path), base_commit],
                              self.root, hooks=hooks)
            if not res.ok:
                raise self._add_failure(res, branch)
        except ConflictError:
            self._undo_create(entry, keep_branch=True)  # the branch was there before
            raise
        except BaseException:
            self._undo_create(entry)
            raise
        # No "added" step is recorded: recovery asks git whether the worktree is whole.
        return self._finish_create(entry, sources)

    def _finish_create(self, entry: LaneEntry, sources: list[Path]) -> CreateResult:
        name, path = entry["name"], Path(entry["path"])
        copied = self._copy_included(path, sources)
        if entry.get("task_id") is not None:
            try:
                self.tasks.bind_worktree(entry["task_id"], name)
            except NotFoundError:
                pass  # the task was deleted meanwhile; the lane stays unbound
        done = ops.finish(self, name)
        self.events.emit("worktree.create.after", task=task_ref(done),
                         worktree={"name": name, "path": str(path), "branch": done["branch"],
                                   "status": "active", "base": done.get("base")})
        return CreateResult(lane=done, copied=copied)

    @staticmethod
    def _add_failure(res: git.GitResult, branch: str) -> Exception:
        # Git checks the branch itself (one git process fewer than asking first).
        msg = res.message()
        if "already exists" in msg and branch in msg:
            return ConflictError(
                f"branch {branch} already exists; delete it (`git branch -D {branch}`) or pick another name")
        return GitError(f"git worktree add failed: {msg}")

    def _undo_create(self, entry: LaneEntry, keep_branch: bool = False) -> None:
        """Take back a create that did not finish: the half-made worktree, the branch
        (only while it is still at the base, so no commit is lost), the entry."""
        path, branch = Path(entry["path"]), entry["branch"]
        base_commit = (entry.get("op") or {}).get("base_commit", "")
        with self._git_worktree_lock():
            if registered(self.root, path) is not None:
                git.run(["worktree", "remove", "--force", "--force", str(path)], self.root)
            if path.is_dir() and not path.is_symlink():
                # Made by this create (the path did not exist): a checkout of the base.
                _shutil().rmtree(path, ignore_errors=True)
            git.run(["worktree", "prune"], self.root)
        tip = "" if keep_branch else git.verify(f"refs/heads/{branch}", self.root)
        if tip and tip == base_commit:
            git.run(["branch", "-D", branch], self.root)
        self._drop(entry["name"])

    def _base_commit(self, base_ref: str) -> str:
        if base_ref.startswith("-"):
            raise InvalidInputError(
                f"base ref {base_ref!r} starts with '-'; name a branch, tag or commit (e.g. main)")
        sha = git.verify(f"{base_ref}^{{commit}}", self.root)
        if not sha and not git.verify("HEAD", self.root):
            raise GitError("the repository has no commits yet; make a first commit, then create lanes")
        if not sha:
            raise InvalidInputError(
                f"base ref {base_ref!r} is unknown; use a branch, tag or commit (e.g. HEAD or main)")
        return sha

    def _resolve_base(self, base_ref: str) -> str:
        """What ahead/behind is measured against: the branch HEAD names (so it follows
        main as it moves), else the ref as given."""
        if base_ref != "HEAD":
            return base_ref
        head, _ = git.head_of(self.root / ".git")  # detached: the commit itself
        return head or base_ref

    def _copy_included(self, dest: Path, sources: list[Path]) -> list[str]:
        copied = []
        for src in sources:
            rel = src.relative_to(self.root)
            target = dest / rel
            if target.exists() or target.is_symlink():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir() and not src.is_symlink():
                _shutil().copytree(src, target, symlinks=True)
            else:
                _shutil().copy2(src, target, follow_symlinks=False)
            copied.append(str(rel))
        return copied

    def _setup(self, lane: dict[str, Any]) -> CommandResult:
        from core.proc import run_command

        result = run_command(self.config.setup, Path(lane["path"]), timeout=self.config.setup_timeout,
                             env_drop=env_drop_of(self.root))
        ok = result.exit_code == 0
        self.events.emit("worktree.setup" if ok else "worktree.setup.failed",
                         task=task_ref(lane), worktree={"name": lane["name"]},
                         command=self.config.setup, exit_code=result.exit_code,
                         error=None if ok else result.summary())
        return result

    # -- run, keep -----------------------------------------------------------------------
    def run(self, name: str, command: str, timeout: float | None = None,
            cancel: threading.Event | None = None,
            on_output: Callable[[str], None] | None = None) -> CommandResult:
        """``on_output`` gets the output as it arrives (a front end streams it)."""
        if not command or not command.strip():
            raise InvalidInputError("no command given; e.g. `worklanes wt run NAME -- git status`")
        lane = self.live(name)
        from core.proc import run_command

        result = run_command(command, Path(lane["path"]),
                             timeout=timeout or self.config.run_timeout, cancel=cancel,
                             env_drop=env_drop_of(self.root), on_output=on_output)
        self.events.emit("worktree.run", task=task_ref(lane),
                         worktree={"name": name, "path": lane["path"]}, command=command,
                         exit_code=result.exit_code,
                         error=None if result.exit_code == 0 else result.summary())
        return result

    def unkeep(self, name: str) -> dict[str, Any]:
        """Undo ``keep``: the lane is active again (its files were never touched)."""
        lane = self.get(name)
        if lane.get("status") != "kept":
            raise ConflictError(f"lane {name!r} is {lane.get('status')}, not kept; nothing to undo",
                                ui=f"lane {name} is not kept")
        with self.lane_lock(name):
            entry = self.update(name, status="active", unkept_at=time.time())
        self.events.emit("worktree.unkeep", task=task_ref(entry),
                         worktree={"name": name, "path": entry.get("path"), "status": "active"})
        return entry

    def keep(self, name: str) -> dict[str, Any]:
        self.get(name)
        with self.lane_lock(name):
            lane = self._current(name)
            if lane.get("status") == "removed":
                raise ConflictError(
                    f"lane {name!r} was removed; `worklanes wt restore {name}` brings it back first")
            entry = self.update(name, status="kept", kept_at=time.time())
        self.events.emit("worktree.keep", task=task_ref(entry),
                         worktree={"name": name, "path": entry.get("path"), "status": "kept"})
        return entry

    # -- remove --------------------------------------------------------------------------
    def removal_plan(self, name: str) -> RemovalPlan:
        """What removing lane ``name`` now would save, keep and drop."""
        return removal_plan(self.get(name), self.root, self.config.archive_exclude)

    def remove(self, name: str, force: bool = False, complete_task: bool = False,
               delete_branch: bool = False, hooks: bool = True) -> dict[str, Any]:
        """Remove the lane's directory (the branch stays). The entry comes back with a
        ``plan`` (a RemovalPlan, not stored): what was saved, kept and dropped."""
        lane = self.get(name)
        wt_ev = {"name": name, "path": lane.get("path")}
        self.events.emit("worktree.remove.before", task=task_ref(lane), worktree=wt_ev)
        try:
            with self.lane_lock(name):
                return self._remove(name, force, complete_task, delete_branch, hooks)
        except Exception as exc:
            self.events.emit("worktree.remove.failed", task=task_ref(lane), worktree=wt_ev,
                             error=str(exc))
            raise

    def _remove(self, name: str, force: bool, complete_task: bool, delete_branch: bool,
                hooks: bool) -> dict[str, Any]:
        lane = self._current(name)
        if lane.get("status") == "removed":
            raise ConflictError(f"lane {name!r} is already removed")
        path = Path(lane["path"])
        plan = removal_plan(lane, self.root, self.config.archive_exclude)
        refusal = plan.refusal()
        if refusal:
            raise DirtyLaneError(refusal)
        if plan.saved and not force:
            raise DirtyLaneError(
                f"lane {name!r} has {len(plan.saved)} uncommitted change(s) "
                f"({', '.join(plan.saved[:3])}{', ...' if len(plan.saved) > 3 else ''}); commit "
                f"them, or force the removal (they are saved under {ARCHIVE_PREFIX}{name}/N and "
                f"`worklanes wt restore {name}` brings them back)")
        if delete_branch:
            self._check_merged(lane)
        ref = archive.next_ref(self.root, name) if plan.saved else None
        ops.begin(self, name, "remove", snapshot=ref, complete_task=complete_task,
                  delete_branch=delete_branch, hooks=hooks)
        if ref:
            archive.snapshot(self.root, path, name, ref, plan.saved, size_of(path, plan.saved))
        ops.advance(self, name, "saved")
        return {**self._finish_remove(name), "plan": plan}

    def _finish_remove(self, name: str) -> dict[str, Any]:
        """From "everything worth keeping is saved" to removed (also in recovery)."""
        lane = self.get(name)
        op = lane.get("op") or {}
        path = Path(lane["path"])
        hooks = bool(op.get("hooks", True))
        with self._git_worktree_lock():
            if path.is_dir():
                res = git.run(["worktree", "remove", "--force", str(path)], self.root, hooks=hooks)
                if not res.ok and path.is_dir():
                    if (path / ".git").exists():
                        # Still a whole worktree git will not remove (locked by its user):
                        # back out, the lane stays as it was; the snapshot stays listed.
                        ops.finish(self, name)
                        raise GitError(f"git worktree remove failed: {res.message()}")
                    # Half deleted by an interrupted removal: its work is saved.
                    _shutil().rmtree(path, ignore_errors=True)
            git.run(["worktree", "prune"], self.root)
        ref = op.get("snapshot")
        if ref and not git.verify(ref, self.root):
            ref = None
        if op.get("delete_branch"):
            try:
                self._check_merged(lane)
                git.check(["branch", "-D", lane["branch"]], self.root, what=f"deleting {lane['branch']}")
            except ConflictError:
                pass  # merged when asked, moved since: the branch stays
        entry = ops.finish(self, name, status="removed", removed_at=time.time(), archive_ref=ref)
        task_ev = self._release_task(lane, bool(op.get("complete_task")))
        self.events.emit("worktree.remove.after", task=task_ev,
                         worktree={"name": name, "path": lane.get("path"), "status": "removed",
                                   **({"archive_ref": ref} if ref else {})})
        return entry

    def _release_task(self, lane: LaneEntry, complete: bool) -> dict[str, Any]:
        name = lane["name"]
        task_ev = task_ref(lane)
        if lane.get("task_id") is None:
            return task_ev
        try:
            task = self.tasks.get(lane["task_id"])
        except NotFoundError:
            return task_ev
        if task.get("worktree") == name:
            before = task.get("status")
            task = self.tasks.unbind_worktree(task["id"], complete=complete)
            if complete and before != "completed":
                self.events.emit("task.completed",
                                 task={"id": task["id"], "subject": task.get("subject", ""),
                                       "status": "completed"}, worktree={"name": name})
        elif complete and task.get("status") != "completed":
            task = self.tasks.update(task["id"], status="completed")
        return {"id": task["id"], "status": task["status"]}

    def _check_merged(self, lane: LaneEntry) -> None:
        base, branch = lane_base(lane), lane["branch"]
        merged = git.run(["merge-base", "--is-ancestor", branch, base], self.root)
        # Integrated by other means (squash, rebase): the base holds the work already.
        if merged.code != 0 and not forecast_lane(self.root, lane).integrated:
            raise ConflictError(
                f"branch {branch} is not fully merged into {base}; merge it first or keep the branch")

    # -- restore, archives ---------------------------------------------------------------
    def restore(self, name: str, archive_id: str | None = None,
                hooks: bool = True) -> dict[str, Any]:
        """Bring back a removed lane: its branch in a new worktree, plus the newest
        snapshot not yet restored (or the one ``archive_id`` names). The entry comes
        back with ``applied``: the snapshot put back, or None."""
        self.get(name)
        with self.lane_lock(name):
            return self._restore(name, archive_id, hooks)

    def _restore(self, name: str, archive_id: str | None, hooks: bool) -> dict[str, Any]:
        lane = self._current(name)
        if lane.get("status") != "removed":
            raise ConflictError(f"lane {name!r} is {lane.get('status')}, not removed; nothing to restore")
        path = Path(lane["path"])
        if path.exists() or path.is_symlink():
            raise ConflictError(f"directory {path} already exists; move it away first")
        if archive_id is not None:
            ref = archive.find_archive(self.root, name, str(archive_id)).ref
        else:
            ref = self._pending_archive(lane)
        branch = lane["branch"]
        if git.verify(f"refs/heads/{branch}", self.root):
            args = ["worktree", "add", str(path), branch]
        elif ref:
            args = ["worktree", "add", "-b", branch, str(path), f"{ref}^"]
        else:
            raise ConflictError(f"branch {branch} no longer exists and nothing was archived; cannot restore")
        ops.begin(self, name, "restore", snapshot=ref or None, hooks=hooks)
        with self._git_worktree_lock():
            res = git.run(args, self.root, hooks=hooks)
        if not res.ok:
            self._undo_restore(name)
            raise GitError(f"restoring lane {name!r} failed: {res.message()}")
        return self._finish_restore(name)  # recovery, like create's, asks git

    def _pending_archive(self, lane: LaneEntry) -> str:
        """The snapshot the last removal made, unless it was restored already."""
        ref = lane.get("archive_ref") or ""
        if ref and ref == archive.legacy_ref(lane["name"]) and not git.verify(ref, self.root):
            ref = archive.archive_ref(lane["name"], 0)  # moved by a later snapshot
        if not ref or ref in (lane.get("restored_archives") or []) or not git.verify(ref, self.root):
            return ""
        return ref

    def _finish_restore(self, name: str) -> dict[str, Any]:
        lane = self.get(name)
        op = lane.get("op") or {}
        ref = op.get("snapshot")
        if ref:
            archive.apply(Path(lane["path"]), ref, hooks=bool(op.get("hooks", True)))
        done = list(lane.get("restored_archives") or []) + ([ref] if ref else [])
        entry = ops.finish(self, name, status="active", restored_at=time.time(),
                           archive_ref=None, restored_archives=done)
        if lane.get("task_id") is not None and self.tasks.exists(lane["task_id"]):
            self.tasks.bind_worktree(lane["task_id"], name)
        self.events.emit("worktree.restore", task=task_ref(lane),
                         worktree={"name": name, "path": lane["path"], "status": "active",
                                   **({"archive_ref": ref} if ref else {})})
        return {**entry, "applied": ref}  # "applied" is not stored: the snapshot put back

    def _undo_restore(self, name: str) -> None:
        """Take back a restore that did not finish; the lane stays removed and its
        snapshot stays where it was."""
        path = Path(self.get(name)["path"])
        with self._git_worktree_lock():
            if registered(self.root, path) is not None:
                git.run(["worktree", "remove", "--force", "--force", str(path)], self.root)
            if path.is_dir() and not path.is_symlink():
                _shutil().rmtree(path, ignore_errors=True)  # a checkout of saved commits
            git.run(["worktree", "prune"], self.root)
        ops.finish(self, name)

    def archives(self, name: str | None = None) -> list[Archive]:
        """Every snapshot (of one lane or all): lane, id, when, files, size, restored."""
        restored = {r for e in self.list() for r in (e.get("restored_archives") or [])}
        return archive.list_archives(self.root, name, restored)

    def drop_archive(self, name: str, archive_id: str) -> Archive:
        """The only way a snapshot goes away."""
        with self.lane_lock(name):
            dropped = archive.drop(self.root, name, str(archive_id))
            try:
                if self.get(name).get("archive_ref") in (dropped.ref, archive.legacy_ref(name)):
                    self.update(name, archive_ref=None)
            except NotFoundError:
                pass
        self.events.emit("worktree.archive.drop", worktree={"name": name},
                         archive={"id": dropped.id, "ref": dropped.ref, "commit": dropped.commit})
        return dropped


# -- recovery of interrupted operations ------------------------------------------------------
def _complete(lanes: Lanes, lane: LaneEntry) -> bool:
    path = Path(lane["path"])
    wt = registered(lanes.root, path)
    return wt is not None and not half_made(wt) and (path / ".git").exists()


@ops.recovery("create")
def _recover_create(lanes: Lanes, lane: LaneEntry) -> str:
    if _complete(lanes, lane):
        try:
            sources = include_sources(lanes.root, STATE_DIRS)
        except InvalidInputError:
            sources = []
        lanes._finish_create(lane, sources)
        return "finished the interrupted create"
    lanes._undo_create(lane)
    return "rolled back the interrupted create (the lane was never used; nothing lost)"


@ops.recovery("remove")
def _recover_remove(lanes: Lanes, lane: LaneEntry) -> str:
    op = lane["op"]
    if op.get("step") == "begin" and Path(lane["path"]).is_dir():
        ops.finish(lanes, lane["name"])
        return "rolled back the interrupted remove (nothing had been deleted)"
    entry = lanes._finish_remove(lane["name"])
    saved = f"; its work is under {entry['archive_ref']}" if entry.get("archive_ref") else ""
    return f"finished the interrupted remove{saved}"


@ops.recovery("restore")
def _recover_restore(lanes: Lanes, lane: LaneEntry) -> str:
    if _complete(lanes, lane):
        lanes._finish_restore(lane["name"])
        return "finished the interrupted restore (its saved work is back in the lane)"
    lanes._undo_restore(lane["name"])
    return f"rolled back the interrupted restore; `worklanes wt restore {lane['name']}` again"


def _shutil():
    """shutil, imported on first use: it brings the compression modules (~5 ms), and
    status, list and diff never copy or delete a tree."""
    import shutil
    return shutil
