"""What counts as work in a lane, the one answer shared by "is it dirty", "what does a
forced removal save" and "what will the remove dialog say".

Work is: tracked changes, untracked files, ignored files other than build and cache
output (``archive_exclude``), copies made by ``.worktreeinclude`` that changed, and
nested git repositories with uncommitted files or commits on no remote (those cannot be
saved in the lane's own snapshot, so a removal is refused naming them). Commits on the
lane branch are work too, but they are safe: the branch stays."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from core import git
from core.config import include_sources
from core.errors import GitError
from core.paths import STATE_DIRS
from core.records import LaneEntry, lane_base


@dataclass
class NestedRepo:
    path: str                # relative to the lane
    uncommitted: int = 0
    unpushed: int = 0

    @property
    def has_work(self) -> bool:
        return bool(self.uncommitted or self.unpushed)


@dataclass
class RemovalPlan:
    """What removing a lane would save and what it would drop, as data."""
    lane: str
    path: str
    exists: bool = True
    tracked: list[str] = field(default_factory=list)            # saved
    untracked: list[str] = field(default_factory=list)          # saved
    ignored: list[str] = field(default_factory=list)            # saved (not build output)
    include_changed: list[str] = field(default_factory=list)    # saved
    excluded: list[str] = field(default_factory=list)           # dropped: build/cache output
    include_unchanged: list[str] = field(default_factory=list)  # dropped: same as main's copy
    nested: list[NestedRepo] = field(default_factory=list)
    commits: int = 0                                            # kept on the branch
    branch: str = ""

    @property
    def saved(self) -> list[str]:
        return self.tracked + self.untracked + self.ignored + self.include_changed

    @property
    def dropped(self) -> list[str]:
        return (self.excluded + self.include_unchanged
                + [n.path for n in self.nested if not n.has_work])

    @property
    def nested_work(self) -> list[NestedRepo]:
        return [n for n in self.nested if n.has_work]

    @property
    def dirty(self) -> bool:
        return bool(self.saved or self.nested_work)

    def refusal(self) -> str | None:
        """Why even a forced removal must not go ahead, or None."""
        for n in self.nested_work:
            return (f"lane {self.lane!r} holds a nested git repository {n.path} with "
                    f"{n.uncommitted} uncommitted file(s) and {n.unpushed} commit(s) on no "
                    f"remote, which a snapshot cannot hold; commit and push them, or move "
                    f"{n.path} out of the lane, then remove it")
        return None

    def lines(self) -> list[str]:
        out = []
        parts = [(len(self.tracked), "changed tracked"), (len(self.untracked), "untracked"),
                 (len(self.ignored), "ignored"), (len(self.include_changed),
                                                  "changed .worktreeinclude")]
        saved = ", ".join(f"{n} {what}" for n, what in parts if n)
        if saved:
            out.append(f"saves: {saved} file(s): {_some(self.saved)}")
        if self.commits:
            out.append(f"keeps: {self.commits} commit(s) on branch {self.branch}")
        for n in self.nested_work:
            out.append(f"refuses: nested repository {n.path} ({n.uncommitted} uncommitted, "
                       f"{n.unpushed} unpushed)")
        if self.dropped:
            out.append(f"drops: {len(self.dropped)} build/cache or unchanged path(s): "
                       f"{_some(self.dropped)}")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(saved=self.saved, dropped=self.dropped, dirty=self.dirty, refusal=self.refusal())
        return d


def _some(paths: list[str], n: int = 5) -> str:
    more = f" (+{len(paths) - n} more)" if len(paths) > n else ""
    return ", ".join(paths[:n]) + more


def excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    """Does a lane path (``dir/`` for a folder) match the build/cache exclude list?"""
    is_dir = rel.endswith("/")
    parts = rel.rstrip("/").split("/")
    dirs = parts if is_dir else parts[:-1]
    for pat in patterns:
        if pat.endswith("/"):
            if any(fnmatch(d, pat[:-1]) for d in dirs):
                return True
        elif fnmatch(parts[-1], pat) or fnmatch(rel.rstrip("/"), pat):
            return True
    return False


def status_entries(path: Path) -> list[tuple[str, str]]:
    """(XY, path) for every change, untracked and ignored entry of a lane; folders git
    does not descend into (ignored folders, nested repositories) end with '/'."""
    res = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all",
                   "--ignored=matching"], path)
    if not res.ok:
        raise GitError(f"cannot read the status of {path}: {res.message()}")
    fields = res.out.split("\0")
    out, i = [], 0
    while i < len(fields):
        item = fields[i]
        i += 1
        if len(item) < 4:
            continue
        xy, rel = item[:2], item[3:]
        if "R" in xy or "C" in xy:
            i += 1  # the rename's source path follows
        out.append((xy, rel))
    return out


def _nested(lane_path: Path, rel: str) -> NestedRepo:
    repo = lane_path / rel
    n = NestedRepo(rel.rstrip("/"))
    st = git.run(["status", "--porcelain", "--untracked-files=all"], repo)
    n.uncommitted = len([ln for ln in st.out.splitlines() if ln.strip()]) if st.ok else 1
    if git.verify("HEAD", repo, lenient=True):
        cnt = git.run(["rev-list", "--count", "--all", "--not", "--remotes"], repo)
        n.unpushed = int(cnt.out.strip() or 0) if cnt.ok else 1
    return n


def _same(a: Path, b: Path) -> bool:
    import filecmp  # only a removal of a lane with .worktreeinclude copies compares files

    if a.is_dir() and b.is_dir():
        cmp = filecmp.dircmp(a, b)
        return (not cmp.left_only and not cmp.right_only and not cmp.diff_files
                and not cmp.funny_files
                and all(_same(a / d, b / d) for d in cmp.common_dirs))
    return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)


def removal_plan(lane: LaneEntry, root: Path, exclude: tuple[str, ...]) -> RemovalPlan:
    path = Path(lane["path"])
    plan = RemovalPlan(lane=lane["name"], path=str(path), branch=lane.get("branch", ""))
    if not path.is_dir():
        plan.exists = False
        return plan
    includes = {str(p.relative_to(root)): p for p in include_sources(root, STATE_DIRS)}
    for xy, rel in status_entries(path):
        if xy == "!!" or xy == "??":
            if rel.endswith("/") and (path / rel / ".git").exists():
                plan.nested.append(_nested(path, rel))
                continue
            key = rel.rstrip("/")
            if key in includes:
                dest = plan.include_unchanged if _same(path / key, includes[key]) else plan.include_changed
                dest.append(rel)
            elif excluded(rel, exclude):
                plan.excluded.append(rel)
            elif xy == "!!":
                plan.ignored.append(rel)
            else:
                plan.untracked.append(rel)
        else:
            plan.tracked.append(rel)
    if git.verify("HEAD", path, lenient=True):
        cnt = git.run(["rev-list", "--count", f"{lane_base(lane)}..HEAD"], path)
        plan.commits = int(cnt.out.strip() or 0) if cnt.ok else 0
    return plan


def size_of(lane_path: Path, rels: list[str]) -> int:
    total = 0
    for rel in rels:
        p = lane_path / rel
        try:
            if p.is_dir() and not p.is_symlink():
                for dirpath, _dirs, files in os.walk(p):
                    total += sum(os.lstat(os.path.join(dirpath, f)).st_size for f in files)
            else:
                total += os.lstat(p).st_size
        except FileNotFoundError:
            continue
    return total
