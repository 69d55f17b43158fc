"""Lanes: git worktrees bound to tasks, with a durable index and lifecycle events.

``.worktrees/index.json`` is the registry (seed format). Git is the truth about what is
on disk; ``reconcile`` reports and mends where the two disagree. Removal never loses
work: a dirty lane is refused unless forced, and a forced removal first snapshots the
uncommitted and untracked files into ``refs/worklanes/archive/<name>``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from core import git
from core.config import LaneConfig, include_patterns
from core.errors import (ConflictError, CorruptFileError, DirtyLaneError, GitError,
                         InvalidInputError, NotFoundError)
from core.events import EventLog
from core.forecast import forecast_lane
from core.fsutil import atomic_write_json, locked, read_json
from core.proc import CommandResult, run_command
from core.secrets import env_drop_of
from core.tasks import TaskBoard

ARCHIVE_PREFIX = "refs/worklanes/archive/"
LANE_STATUSES = ("active", "kept", "merged", "removed")
LIVE_STATUSES = ("active", "kept", "merged")  # the directory is meant to exist
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_IDENT = ["-c", "user.name=worklanes", "-c", "user.email=worklanes@localhost"]


def validate_name(name: str) -> str:
    if (not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name
            or name.endswith((".lock", "."))):
        raise InvalidInputError(
            f"invalid lane name {name!r}; use 1-40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. auth-refactor)")
    return name


def slugify(text: str, limit: int = 30) -> str:
    """A lane name proposed from a task subject."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "lane"


@dataclass
class LaneStatus:
    name: str
    status: str                      # index status: active | kept | merged | removed
    missing: bool = False            # directory gone (removed by hand)
    dirty: int = 0                   # changed + untracked paths
    ahead: int = 0
    behind: int = 0
    head: str = ""                   # branch checked out now ("(detached)" if none)
    last_commit: str = ""            # "<short sha> <subject>"
    last_commit_ts: float | None = None
    files_changed: int = 0           # vs the merge-base with the base, incl. uncommitted
    insertions: int = 0
    deletions: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Finding:
    kind: str        # missing | unregistered | prunable | locked | stale
    name: str
    path: str
    detail: str
    fix: str
    fixed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CreateResult:
    lane: dict[str, Any]
    copied: list[str] = field(default_factory=list)
    setup: CommandResult | None = None


class Lanes:
    def __init__(self, root: Path, tasks: TaskBoard, events: EventLog,
                 config: LaneConfig | None = None):
        self.root = Path(root)
        self.tasks = tasks
        self.events = events
        self.config = config or LaneConfig()
        self.state_dir = self.root / ".worktrees"
        self.index_path = self.state_dir / "index.json"
        self.lock_path = self.state_dir / ".index.lock"
        self.lanes_dir = (self.root / self.config.dir).resolve()

    # -- index -----------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            data = read_json(self.index_path)
        except FileNotFoundError:
            return {"worktrees": []}
        if not isinstance(data, dict) or not isinstance(data.get("worktrees", []), list):
            raise CorruptFileError(self.index_path, 'expected {"worktrees": [...]}')
        data.setdefault("worktrees", [])
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.index_path, data)

    def _mutate(self, name: str, **changes: Any) -> dict[str, Any]:
        with locked(self.lock_path):
            data = self._load()
            entry = _find(data, name)
            if entry is None:
                raise self._unknown(name)
            entry.update(changes)
            self._save(data)
            return dict(entry)

    def update(self, name: str, **changes: Any) -> dict[str, Any]:
        """Set fields of one index entry under the index lock (e.g. a lane agent's state)."""
        return self._mutate(name, **changes)

    def list(self, include_removed: bool = True) -> list[dict[str, Any]]:
        lanes = [dict(e) for e in self._load()["worktrees"] if isinstance(e, dict)]
        if not include_removed:
            lanes = [e for e in lanes if e.get("status") != "removed"]
        return lanes

    def get(self, name: str) -> dict[str, Any]:
        entry = _find(self._load(), name)
        if entry is None:
            raise self._unknown(name)
        return dict(entry)

    def _unknown(self, name: str) -> NotFoundError:
        return NotFoundError(f"lane {name!r} is not in the index; `worklanes wt list` shows the lanes")

    def _live(self, name: str) -> dict[str, Any]:
        lane = self.get(name)
        if lane.get("status") == "removed":
            raise ConflictError(
                f"lane {name!r} was removed; `worklanes wt restore {name}` brings it back")
        if not Path(lane["path"]).is_dir():
            raise ConflictError(
                f"lane {name!r} directory {lane['path']} is missing; run `worklanes wt reconcile --fix`")
        return lane

    # -- create ----------------------------------------------------------------------
    def create(self, name: str, task_id: int | None = None, base_ref: str = "HEAD",
               run_setup: bool = True, hooks: bool = True) -> CreateResult:
        validate_name(name)
        base_ref = (base_ref or "HEAD").strip()
        task_ev = {"id": task_id} if task_id is not None else {}
        self.events.emit("worktree.create.before", task=task_ev,
                         worktree={"name": name, "base_ref": base_ref})
        try:
            return self._create(name, task_id, base_ref, run_setup, hooks)
        except Exception as exc:
            self.events.emit("worktree.create.failed", task=task_ev,
                             worktree={"name": name, "base_ref": base_ref}, error=str(exc))
            raise

    def _create(self, name: str, task_id: int | None, base_ref: str,
                run_setup: bool, hooks: bool = True) -> CreateResult:
        index = self._load()
        existing = _find(index, name)
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
                other = _find(index, bound)
                if other is not None and other.get("status") in LIVE_STATUSES:
                    raise ConflictError(
                        f"task {task_id} already has lane {bound!r}; remove it first or "
                        "create the lane without --task")
        path = self.lanes_dir / name
        branch = f"wt/{name}"
        if path.exists():
            raise ConflictError(f"directory {path} already exists; move it away or pick another name")
        base = self._resolve_base(base_ref)
        res = git.run(["worktree", "add", "-b", branch, str(path), base_ref], self.root,
                      hooks=hooks)
        if not res.ok:
            raise self._explain_add_failure(res, branch, base_ref)
        entry = {
            "name": name, "path": str(path), "branch": branch, "task_id": task_id,
            "status": "active", "created_at": time.time(), "base_ref": base_ref, "base": base,
        }
        with locked(self.lock_path):
            data = self._load()
            data["worktrees"] = [e for e in data["worktrees"]
                                 if not (isinstance(e, dict) and e.get("name") == name)]
            data["worktrees"].append(entry)
            self._save(data)
        if task_id is not None:
            self.tasks.bind_worktree(task_id, name)
        result = CreateResult(lane=entry, copied=self._copy_included(path))
        self.events.emit("worktree.create.after", task={"id": task_id} if task_id is not None else {},
                         worktree={"name": name, "path": str(path), "branch": branch,
                                   "status": "active", "base": base})
        if run_setup and self.config.setup:
            result.setup = self._setup(entry)
        return result

    def _resolve_base(self, base_ref: str) -> str:
        """What ahead/behind is measured against: the branch HEAD names (so it follows
        main as it moves), else the ref as given."""
        if base_ref != "HEAD":
            return base_ref
        head, _ = git.head_of(self.root / ".git")  # detached: the commit itself
        return head or base_ref

    def _explain_add_failure(self, res: git.GitResult, branch: str, base_ref: str) -> Exception:
        msg = res.message()
        if "already exists" in msg and "branch" in msg:
            return ConflictError(
                f"branch {branch} already exists; delete it (`git branch -D {branch}`) or pick another name")
        if git.run(["rev-parse", "-q", "--verify", "HEAD"], self.root).code != 0:
            return GitError("the repository has no commits yet; make a first commit, then create lanes")
        if git.run(["rev-parse", "-q", "--verify", f"{base_ref}^{{commit}}"], self.root).code != 0:
            return InvalidInputError(
                f"base ref {base_ref!r} is unknown; use a branch, tag or commit (e.g. HEAD or main)")
        return GitError(f"git worktree add failed: {msg}")

    def _copy_included(self, dest: Path) -> list[str]:
        copied = []
        for pattern in include_patterns(self.root):
            for src in sorted(self.root.glob(pattern)):
                rel = src.relative_to(self.root)
                if rel.parts and rel.parts[0] in (".git", ".worktrees", ".tasks"):
                    continue
                target = dest / rel
                if target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.copytree(src, target, symlinks=True)
                else:
                    shutil.copy2(src, target, follow_symlinks=False)
                copied.append(str(rel))
        return copied

    def _setup(self, lane: dict[str, Any]) -> CommandResult:
        result = run_command(self.config.setup, Path(lane["path"]), timeout=self.config.setup_timeout,
                             env_drop=env_drop_of(self.root))
        ok = result.exit_code == 0
        self.events.emit("worktree.setup" if ok else "worktree.setup.failed",
                         task=_task_ref(lane), worktree={"name": lane["name"]},
                         command=self.config.setup, exit_code=result.exit_code,
                         error=None if ok else result.summary())
        return result

    # -- status ----------------------------------------------------------------------
    def status(self, name: str) -> LaneStatus:
        return self._status(self.get(name))

    def statuses(self, lanes: Iterable[dict[str, Any]] | None = None,
                 workers: int = 8) -> list[LaneStatus]:
        """Live status of many lanes at once: a few git processes per lane (never one
        per file), run in parallel."""
        lanes = list(self.list(include_removed=False) if lanes is None else lanes)
        if len(lanes) <= 1:
            return [self._status(lane) for lane in lanes]
        with ThreadPoolExecutor(max_workers=min(workers, len(lanes))) as pool:
            return list(pool.map(self._status, lanes))

    def _status(self, lane: dict[str, Any]) -> LaneStatus:
        st = LaneStatus(name=lane["name"], status=lane.get("status", "active"))
        path = Path(lane.get("path", ""))
        if st.status == "removed":
            return st
        if not path.is_dir():
            st.missing = True
            return st
        base = lane.get("base") or lane.get("base_ref") or "HEAD"
        out = git.run(["status", "--porcelain=v2", "--branch", "--untracked-files=all"], path)
        if not out.ok:
            st.error = out.message()
            return st
        for line in out.out.splitlines():
            if line.startswith("# branch.head "):
                head = line[len("# branch.head "):]
                st.head = head if head != "(detached)" else "(detached)"
            elif line and not line.startswith("#"):
                st.dirty += 1
        counts = git.run(["rev-list", "--left-right", "--count", f"{base}...HEAD"], path)
        if counts.ok and counts.out.split():
            behind, ahead = counts.out.split()[:2]
            st.behind, st.ahead = int(behind), int(ahead)
        log = git.run(["log", "-1", "--format=%h%x1f%s%x1f%ct"], path)
        if log.ok and log.out.strip():
            sha, subject, ts = (log.out.strip().split("\x1f") + ["", ""])[:3]
            st.last_commit = f"{sha} {subject}"
            st.last_commit_ts = float(ts) if ts.isdigit() else None
        stat = git.run(["diff", "--shortstat", "--merge-base", base], path)
        if stat.ok:
            st.files_changed, st.insertions, st.deletions = _parse_shortstat(stat.out)
        return st

    def diff(self, name: str) -> str:
        """Everything the lane changed since it left its base: commits, uncommitted
        edits, and untracked files (listed, since git diff cannot show them)."""
        lane = self._live(name)
        path = Path(lane["path"])
        base = lane.get("base") or lane.get("base_ref") or "HEAD"
        res = git.run(["diff", "--merge-base", base, "--stat", "--patch", "--no-color"], path)
        if not res.ok:
            raise GitError(f"diff of lane {name!r} failed: {res.message()}")
        untracked = git.run(["ls-files", "--others", "--exclude-standard"], path).out.split("\n")
        untracked = [u for u in untracked if u]
        text = res.out
        if untracked:
            text += "\n" + "\n".join(f"?? {u} (untracked, not in the diff)" for u in untracked) + "\n"
        return text

    # -- run, keep ---------------------------------------------------------------------
    def run(self, name: str, command: str, timeout: float | None = None,
            cancel: threading.Event | None = None) -> CommandResult:
        if not command or not command.strip():
            raise InvalidInputError("no command given; e.g. `worklanes wt run NAME -- git status`")
        lane = self._live(name)
        result = run_command(command, Path(lane["path"]),
                             timeout=timeout or self.config.run_timeout, cancel=cancel,
                             env_drop=env_drop_of(self.root))
        self.events.emit("worktree.run", task=_task_ref(lane),
                         worktree={"name": name, "path": lane["path"]}, command=command,
                         exit_code=result.exit_code,
                         error=None if result.exit_code == 0 else result.summary())
        return result

    def keep(self, name: str) -> dict[str, Any]:
        lane = self.get(name)
        if lane.get("status") == "removed":
            raise ConflictError(
                f"lane {name!r} was removed; `worklanes wt restore {name}` brings it back first")
        entry = self._mutate(name, status="kept", kept_at=time.time())
        self.events.emit("worktree.keep", task=_task_ref(entry),
                         worktree={"name": name, "path": entry.get("path"), "status": "kept"})
        return entry

    # -- remove, restore ---------------------------------------------------------------
    def remove(self, name: str, force: bool = False, complete_task: bool = False,
               delete_branch: bool = False) -> dict[str, Any]:
        lane = self.get(name)
        wt_ev = {"name": name, "path": lane.get("path")}
        self.events.emit("worktree.remove.before", task=_task_ref(lane), worktree=wt_ev)
        try:
            return self._remove(lane, force, complete_task, delete_branch)
        except Exception as exc:
            self.events.emit("worktree.remove.failed", task=_task_ref(lane), worktree=wt_ev,
                             error=str(exc))
            raise

    def _remove(self, lane: dict[str, Any], force: bool, complete_task: bool,
                delete_branch: bool) -> dict[str, Any]:
        name, path = lane["name"], Path(lane["path"])
        if lane.get("status") == "removed":
            raise ConflictError(f"lane {name!r} is already removed")
        archive = ""
        if path.is_dir():
            dirty = git.run(["status", "--porcelain", "--untracked-files=all"], path)
            if not dirty.ok:
                raise GitError(f"cannot read the status of lane {name!r}: {dirty.message()}")
            changes = [ln for ln in dirty.out.splitlines() if ln.strip()]
            if changes and not force:
                raise DirtyLaneError(
                    f"lane {name!r} has {len(changes)} uncommitted change(s); commit them, or "
                    f"force the removal (they are saved under {ARCHIVE_PREFIX}{name} and "
                    f"`worklanes wt restore {name}` brings them back)")
            if changes:
                archive = self._archive(name, path)
            res = git.run(["worktree", "remove", "--force", str(path)], self.root)
            if not res.ok:
                raise GitError(f"git worktree remove failed: {res.message()}")
        else:
            git.run(["worktree", "prune"], self.root)
        if delete_branch:
            self._delete_branch_if_merged(lane)
        changes: dict[str, Any] = {"status": "removed", "removed_at": time.time()}
        if archive:
            changes["archive_ref"] = archive
        entry = self._mutate(name, **changes)
        task_ev = _task_ref(lane)
        if lane.get("task_id") is not None:
            try:
                task = self.tasks.get(lane["task_id"])
            except NotFoundError:
                task = None
            if task is not None and task.get("worktree") == name:
                if complete_task:
                    before = task.get("status")
                    task = self.tasks.unbind_worktree(task["id"], complete=True)
                    if before != "completed":
                        self.events.emit("task.completed",
                                         task={"id": task["id"], "subject": task.get("subject", ""),
                                               "status": "completed"},
                                         worktree={"name": name})
                else:
                    task = self.tasks.unbind_worktree(task["id"])
                task_ev = {"id": task["id"], "status": task["status"]}
            elif task is not None and complete_task and task.get("status") != "completed":
                task = self.tasks.update(task["id"], status="completed")
                task_ev = {"id": task["id"], "status": task["status"]}
        self.events.emit("worktree.remove.after", task=task_ev,
                         worktree={"name": name, "path": lane.get("path"), "status": "removed",
                                   **({"archive_ref": archive} if archive else {})})
        return entry

    def _archive(self, name: str, path: Path) -> str:
        """Snapshot tracked edits and untracked files as a commit on top of the lane's
        HEAD, using a throwaway index so the lane's own index is not touched."""
        fd, tmp_index = tempfile.mkstemp(prefix="worklanes-index-")
        os.close(fd)
        os.unlink(tmp_index)
        env = {"GIT_INDEX_FILE": tmp_index}
        try:
            git.check(["read-tree", "HEAD"], path, env=env, what="archive (read-tree)")
            git.check(["add", "-A", "."], path, env=env, what="archive (add)")
            tree = git.check(["write-tree"], path, env=env, what="archive (write-tree)").strip()
            commit = git.check([*_IDENT, "commit-tree", tree, "-p", "HEAD", "-m",
                                f"worklanes: uncommitted work of lane {name}"],
                               path, what="archive (commit-tree)").strip()
        finally:
            try:
                os.unlink(tmp_index)
            except FileNotFoundError:
                pass
        ref = ARCHIVE_PREFIX + name
        git.check(["update-ref", "-m", "worklanes archive", ref, commit], self.root,
                  what="archive (update-ref)")
        return ref

    def _delete_branch_if_merged(self, lane: dict[str, Any]) -> None:
        base = lane.get("base") or "HEAD"
        branch = lane["branch"]
        merged = git.run(["merge-base", "--is-ancestor", branch, base], self.root)
        if merged.code != 0 and not self._integrated(lane):
            raise ConflictError(
                f"branch {branch} is not fully merged into {base}; merge it first or keep the branch")
        git.check(["branch", "-D", branch], self.root, what=f"deleting {branch}")

    def _integrated(self, lane: dict[str, Any]) -> bool:
        """The base holds the lane's work by other means (squash, rebase, a merge of
        later commits): deleting the branch loses nothing."""
        return forecast_lane(self.root, lane).integrated

    def restore(self, name: str, hooks: bool = True) -> dict[str, Any]:
        """Bring back a removed lane: its branch in a new worktree, plus the uncommitted
        work a forced removal archived."""
        lane = self.get(name)
        if lane.get("status") != "removed":
            raise ConflictError(f"lane {name!r} is {lane.get('status')}, not removed; nothing to restore")
        path = Path(lane["path"])
        if path.exists():
            raise ConflictError(f"directory {path} already exists; move it away first")
        branch = lane["branch"]
        archive = lane.get("archive_ref") or ""
        if archive and git.run(["rev-parse", "-q", "--verify", archive], self.root).code != 0:
            archive = ""
        has_branch = git.run(["rev-parse", "-q", "--verify", f"refs/heads/{branch}"], self.root).ok
        if has_branch:
            args = ["worktree", "add", str(path), branch]
        elif archive:
            args = ["worktree", "add", "-b", branch, str(path), f"{archive}^"]
        else:
            raise ConflictError(f"branch {branch} no longer exists and nothing was archived; cannot restore")
        res = git.run(args, self.root, hooks=hooks)
        if not res.ok:
            raise GitError(f"restoring lane {name!r} failed: {res.message()}")
        if archive:
            git.check(["restore", f"--source={archive}", "--worktree", "--", "."], path,
                      what="restoring archived changes", hooks=hooks)
        entry = self._mutate(name, status="active", restored_at=time.time())
        if lane.get("task_id") is not None and self.tasks.exists(lane["task_id"]):
            self.tasks.bind_worktree(lane["task_id"], name)
        self.events.emit("worktree.restore", task=_task_ref(lane),
                         worktree={"name": name, "path": str(path), "status": "active",
                                   **({"archive_ref": archive} if archive else {})})
        return entry

    # -- reconcile ---------------------------------------------------------------------
    def git_worktrees(self) -> list[dict[str, Any]]:
        out = git.check(["worktree", "list", "--porcelain"], self.root, what="git worktree list")
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

    def reconcile(self, fix: bool = False) -> list[Finding]:
        found: list[Finding] = []
        known = {str(Path(w["worktree"]).resolve()): w for w in self.git_worktrees()[1:]}
        index = self.list()
        index_paths = set()
        for lane in index:
            lpath = str(Path(lane.get("path", "")).resolve())
            index_paths.add(lpath)
            gw = known.get(lpath)
            status = lane.get("status")
            if status in LIVE_STATUSES and not Path(lpath).is_dir():
                found.append(Finding("missing", lane["name"], lpath,
                                     "directory is gone (removed by hand?); the branch stays",
                                     "prune git's record and mark the lane removed"))
            elif status == "removed" and gw is not None and Path(lpath).is_dir():
                found.append(Finding("stale", lane["name"], lpath,
                                     "index says removed but git still has this worktree",
                                     "mark the lane active again"))
        for lpath, gw in known.items():
            if gw.get("prunable"):
                found.append(Finding("prunable", Path(lpath).name, lpath,
                                     f"git marks it prunable: {gw['prunable']}", "git worktree prune"))
            elif lpath not in index_paths:
                branch = str(gw.get("branch", "")).removeprefix("refs/heads/")
                found.append(Finding("unregistered", Path(lpath).name, lpath,
                                     f"git worktree on {branch or 'a detached HEAD'} not in the index",
                                     "adopt it into the index"))
            if gw.get("locked"):
                reason = gw["locked"] if isinstance(gw["locked"], str) else "no reason given"
                found.append(Finding("locked", Path(lpath).name, lpath,
                                     f"locked: {reason}", "none (unlock it with git worktree unlock)"))
        if fix:
            self._apply_fixes(found, known)
        return found

    def _apply_fixes(self, found: list[Finding], known: dict[str, dict[str, Any]]) -> None:
        if any(f.kind in ("missing", "prunable") for f in found):
            git.run(["worktree", "prune"], self.root)
        for f in found:
            if f.kind == "missing":
                entry = self._mutate(f.name, status="removed", removed_at=time.time(),
                                     removed_by="reconcile")
                if entry.get("task_id") is not None:
                    try:
                        task = self.tasks.get(entry["task_id"])
                        if task.get("worktree") == f.name:
                            self.tasks.unbind_worktree(task["id"])
                    except NotFoundError:
                        pass
            elif f.kind == "stale":
                self._mutate(f.name, status="active")
            elif f.kind == "unregistered":
                self._adopt(f, known[f.path])
            elif f.kind != "prunable":
                continue
            f.fixed = True
            self.events.emit("worktree.reconcile", worktree={"name": f.name, "path": f.path},
                             finding=f.kind, action=f.fix)

    def _adopt(self, f: Finding, gw: dict[str, Any]) -> None:
        branch = str(gw.get("branch", "")).removeprefix("refs/heads/")
        name = f.name
        with locked(self.lock_path):
            data = self._load()
            if _find(data, name) is not None:
                name = f"{name}-{int(time.time())}"
                f.name = name
            data["worktrees"].append({
                "name": name, "path": f.path, "branch": branch, "task_id": None,
                "status": "active", "created_at": time.time(), "base_ref": "HEAD",
                "base": self._resolve_base("HEAD"), "adopted": True,
            })
            self._save(data)


def _find(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    for entry in data.get("worktrees", []):
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def _task_ref(lane: dict[str, Any]) -> dict[str, Any]:
    return {"id": lane["task_id"]} if lane.get("task_id") is not None else {}


_SHORTSTAT = re.compile(r"(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?")


def _parse_shortstat(text: str) -> tuple[int, int, int]:
    m = _SHORTSTAT.search(text)
    if not m:
        return 0, 0, 0
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
