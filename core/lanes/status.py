"""Live status and diff of lanes, with the fewest git processes.

A refresh of k lanes runs one ``for-each-ref`` for all of them (every branch tip with its
subject and date: the last commit and the bases' commits) and one
``status --porcelain=v2 --branch`` per lane (the only working-tree scan). What depends
only on commits (ahead/behind, the files and lines changed since the fork) is kept by
(base commit, lane commit): an edit in a lane re-runs its ``status`` and nothing else;
a commit or a base that moved costs one ``rev-list`` and one tree-to-tree ``diff``, and
the answer is also kept on disk (``core.oidcache``), so the next process (the next
``wt list``) starts warm. ``overview`` adds the merge forecast, computed beside the
status calls from the same ``for-each-ref``.

``status`` runs with ``--no-optional-locks``: it never rewrites a lane's index, so a
refresh can never wake the lane watcher that asked for it.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from core import git, oidcache
from core.parallel import pmap
from core.lanes.index import LaneIndex
from core.records import LaneEntry, lane_base


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
    files_changed: int = 0           # paths changed since the fork: committed or not
    insertions: int = 0              # lines, in the lane's commits since the fork
    deletions: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Commits:
    """What (base commit, lane commit) alone decides."""
    ahead: int
    behind: int
    paths: frozenset[str]
    insertions: int
    deletions: int


@dataclass(frozen=True)
class _Tip:
    oid: str
    short: str
    subject: str
    ts: float | None
    tree: str = ""


_TIP_FORMAT = ("%(objectname)%00%(objectname:short)%00%(committerdate:unix)%00%(tree)"
               "%00%(refname)%00%(subject)")
_CACHE_MAX = 4096


class LaneStatusMixin(LaneIndex):
    _commits_cache: dict[tuple[str, str], _Commits]
    _cache_lock = threading.Lock()

    def status(self, name: str) -> LaneStatus:
        return self.statuses([self.get(name)])[0]

    def statuses(self, lanes: Iterable[LaneEntry] | None = None,
                 workers: int = 8) -> list[LaneStatus]:
        """Live status of many lanes at once, run in parallel."""
        return self.overview(lanes, workers, forecast=False)[0]

    def overview(self, lanes: Iterable[LaneEntry] | None = None, workers: int = 8,
                 forecast: bool = True) -> tuple[list[LaneStatus], dict[str, Any]]:
        """Live status of many lanes and their merge forecasts (``core.forecast``, by
        name): one ``for-each-ref`` serves both, and the forecast runs beside the status
        calls rather than after them."""
        from core.forecast import forecast_lanes

        lanes = list(self.list(include_removed=False) if lanes is None else lanes)
        live = [ln for ln in lanes if ln.get("status") != "removed"
                and Path(ln.get("path", "")).is_dir()]
        forecast = forecast and any(ln.get("status") != "removed" for ln in lanes)
        tips = self._tips() if live or forecast else {}
        known = {ref: (t.oid, t.tree) for ref, t in tips.items() if ref.startswith("refs/")}
        jobs: list[Callable[[], Any]] = [lambda: forecast_lanes(self.root, lanes, known)] \
            if forecast else []   # first, so that it starts first
        jobs += [lambda lane=lane: self._status(lane, tips) for lane in lanes]
        try:
            done = pmap(lambda job: job(), jobs, workers)
        finally:
            oidcache.for_repo(self.root).flush()
        return (done[1:], done[0]) if forecast else (done, {})

    def _tips(self) -> dict[str, _Tip]:
        """Every branch tip, by full ref name and by commit id: one process."""
        res = git.run(["for-each-ref", f"--format={_TIP_FORMAT}", "refs/heads/"], self.root)
        tips: dict[str, _Tip] = {}
        for line in res.out.splitlines() if res.ok else ():
            parts = line.split("\0")
            if len(parts) < 6:
                continue
            oid, short, ts, tree, ref = parts[:5]
            subject = "\0".join(parts[5:])
            tip = _Tip(oid, short, subject, float(ts) if ts.isdigit() else None, tree)
            tips[ref] = tips[oid] = tip
        return tips

    def _status(self, lane: LaneEntry, tips: dict[str, _Tip]) -> LaneStatus:
        st = LaneStatus(name=lane["name"], status=lane.get("status", "active"))
        path = Path(lane.get("path", ""))
        if st.status == "removed":
            return st
        if not path.is_dir():
            st.missing = True
            return st
        out = git.run(["--no-optional-locks", "status", "--porcelain=v2", "--branch",
                       "--untracked-files=all", "-z"], path)
        if not out.ok:
            st.error = out.message()
            return st
        head_oid, dirty_paths = "", set()
        for kind, value in _porcelain(out.out):
            if kind == "head":
                st.head = value
            elif kind == "oid":
                head_oid = value if value != "(initial)" else ""
            else:
                dirty_paths.add(value)
        st.dirty = len(dirty_paths)
        if not head_oid:
            return st
        base = lane_base(lane)
        base_tip = tips.get(f"refs/heads/{base}") or tips.get(base)
        base_oid = base_tip.oid if base_tip else git.verify(f"{base}^{{commit}}", path, lenient=True)
        commits = self._commits(path, base_oid, head_oid) if base_oid else None
        if commits is not None:
            st.ahead, st.behind = commits.ahead, commits.behind
            st.insertions, st.deletions = commits.insertions, commits.deletions
            st.files_changed = len(commits.paths | dirty_paths)
        else:
            st.files_changed = len(dirty_paths)
        tip = tips.get(head_oid) or self._commit_tip(path, head_oid)
        if tip is not None:
            st.last_commit = f"{tip.short} {tip.subject}"
            st.last_commit_ts = tip.ts
        return st

    def _commit_tip(self, path: Path, oid: str) -> _Tip | None:
        """A HEAD that is no branch tip (detached, another branch's old commit)."""
        res = git.run(["log", "-1", "--format=%h%x00%ct%x00%s", oid], path)
        if not res.ok or not res.out.strip():
            return None
        short, ts, subject = (res.out.rstrip("\n").split("\0") + ["", ""])[:3]
        return _Tip(oid, short, subject, float(ts) if ts.isdigit() else None)

    def _commits(self, path: Path, base_oid: str, head_oid: str) -> _Commits | None:
        if not hasattr(self, "_commits_cache"):
            self._commits_cache = {}
        key = (base_oid, head_oid)
        hit = self._commits_cache.get(key)
        if hit is not None:
            return hit
        disk = oidcache.for_repo(self.root)
        stored = disk.get("commits", base_oid, head_oid)
        if isinstance(stored, list) and len(stored) == 5:
            ahead, behind, ins, dels, paths = stored
            found = _Commits(ahead, behind, frozenset(paths), ins, dels)
            self._remember(key, found)
            return found
        counts = git.run(["rev-list", "--left-right", "--count", f"{base_oid}...{head_oid}"], path)
        if not counts.ok or len(counts.out.split()) < 2:
            return None
        behind, ahead = (int(n) for n in counts.out.split()[:2])
        paths: set[str] = set()
        ins = dels = 0
        if ahead:
            stat = git.run(["diff", "--numstat", "-z", "--no-renames",
                            f"{base_oid}...{head_oid}"], path)
            for added, removed, rel in _numstat(stat.out if stat.ok else ""):
                paths.add(rel)
                ins += added
                dels += removed
        found = _Commits(ahead, behind, frozenset(paths), ins, dels)
        self._remember(key, found)
        disk.put("commits", base_oid, head_oid, [ahead, behind, ins, dels, sorted(paths)])
        return found

    def _remember(self, key: tuple[str, str], found: _Commits) -> None:
        with self._cache_lock:
            if len(self._commits_cache) >= _CACHE_MAX:
                self._commits_cache.clear()
            self._commits_cache[key] = found

def _porcelain(out: str) -> Iterator[tuple[str, str]]:
    """(``head`` | ``oid`` | ``path``, value) from ``status --porcelain=v2 -z``. A rename
    record carries its origin as the next NUL field, which is skipped."""
    fields = iter(out.split("\0"))
    for rec in fields:
        if not rec:
            continue
        if rec.startswith("# branch.head "):
            yield "head", rec[len("# branch.head "):]
        elif rec.startswith("# branch.oid "):
            yield "oid", rec[len("# branch.oid "):]
        elif rec.startswith("#"):
            continue
        elif rec[0] == "1":
            yield "path", rec.split(" ", 8)[-1]
        elif rec[0] == "2":
            yield "path", rec.split(" ", 9)[-1]
            next(fields, None)
        elif rec[0] == "u":
            yield "path", rec.split(" ", 10)[-1]
        elif rec[0] in "?!":
            yield "path", rec[2:]


def _numstat(out: str) -> Iterator[tuple[int, int, str]]:
    """(added, removed, path) from ``diff --numstat -z --no-renames``; binary files
    count no lines."""
    for rec in out.split("\0"):
        if not rec:
            continue
        parts = rec.split("\t", 2)
        if len(parts) != 3:
            continue
        added, removed, rel = parts
        yield (int(added) if added.isdigit() else 0, int(removed) if removed.isdigit() else 0,
               rel.lstrip("\n"))
