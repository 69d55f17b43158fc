"""Live status and diff of lanes: a few git processes per lane, never one per file."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from core import git
from core.errors import GitError
from core.lanes.index import LaneIndex
from core.records import LaneEntry, lane_base


@dataclass
class LaneStatus:
    name: str
    status: str                      # index status: active | kept | removed
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


class LaneStatusMixin(LaneIndex):
    def status(self, name: str) -> LaneStatus:
        return self._status(self.get(name))

    def statuses(self, lanes: Iterable[LaneEntry] | None = None,
                 workers: int = 8) -> list[LaneStatus]:
        """Live status of many lanes at once, run in parallel."""
        lanes = list(self.list(include_removed=False) if lanes is None else lanes)
        if len(lanes) <= 1:
            return [self._status(lane) for lane in lanes]
        with ThreadPoolExecutor(max_workers=min(workers, len(lanes))) as pool:
            return list(pool.map(self._status, lanes))

    def _status(self, lane: LaneEntry) -> LaneStatus:
        st = LaneStatus(name=lane["name"], status=lane.get("status", "active"))
        path = Path(lane.get("path", ""))
        if st.status == "removed":
            return st
        if not path.is_dir():
            st.missing = True
            return st
        base = lane_base(lane)
        out = git.run(["status", "--porcelain=v2", "--branch", "--untracked-files=all"], path)
        if not out.ok:
            st.error = out.message()
            return st
        for line in out.out.splitlines():
            if line.startswith("# branch.head "):
                st.head = line[len("# branch.head "):]
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
        res = git.run(["diff", "--merge-base", lane_base(lane), "--stat", "--patch", "--no-color"], path)
        if not res.ok:
            raise GitError(f"diff of lane {name!r} failed: {res.message()}")
        untracked = git.run(["ls-files", "--others", "--exclude-standard"], path).out.split("\n")
        untracked = [u for u in untracked if u]
        text = res.out
        if untracked:
            text += "\n" + "\n".join(f"?? {u} (untracked, not in the diff)" for u in untracked) + "\n"
        return text


_SHORTSTAT = re.compile(r"(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?")


def _parse_shortstat(text: str) -> tuple[int, int, int]:
    m = _SHORTSTAT.search(text)
    if not m:
        return 0, 0, 0
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
