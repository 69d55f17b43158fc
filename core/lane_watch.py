"""Watch the lanes' own files so their status follows every edit, commit and checkout.

One watcher thread for all lanes: a thread per lane would wake the interpreter ~20 times
a second each just to check for a stop request, and idle CPU must stay near zero.

What is watched, each directory on its own (never a recursive watch, which would also
descend into ``node_modules/`` and every other ignored tree):

- every directory of a lane's working tree that git does not ignore;
- the lane's private git directory (``.git/worktrees/<id>``: HEAD, index, logs), so a
  commit, a checkout or a staged change shows even when no working file changed;
- the shared ``refs/heads`` tree and ``packed-refs``: a lane's own branch moving belongs
  to that lane, any other branch moving may be some lane's base (ahead/behind changes).

A new directory in a lane (``mkdir``, a checkout) restarts the watch with it included.
inotify watches are a per-user budget (``fs.inotify.max_user_watches``); when the lanes
need more directories than the budget allows, the largest lanes are left out and listed
in ``polled`` with a note, so the caller's slow safety pass covers them instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

# Build and cache output that is never worth a refresh, even when a repository forgets
# to ignore it (watchfiles' own default list, plus the usual build folders).
ALWAYS_SKIPPED = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__",
                            ".mypy_cache", ".pytest_cache", ".tox", ".hypothesis",
                            ".ruff_cache", "target", "dist", "build", ".next"})
_NOISE = re.compile(r"(\.py[cod]|\.sw.|~|\.lock|\.tmp)$")
_BUDGET_SHARE = 0.5  # leave the other half of the user's inotify watches to other tools


@dataclass(frozen=True)
class Plan:
    """What one watch round covers: directory -> lane name (None for shared refs)."""
    dirs: dict[str, str | None]
    gitdirs: dict[str, str]        # lane's private git dir -> lane name
    polled: tuple[str, ...] = ()   # lanes left out of the inotify budget
    notes: tuple[str, ...] = ()


@dataclass
class _Lane:
    name: str
    path: Path
    dirs: list[str] = field(default_factory=list)
    gitdir: str = ""


def inotify_budget() -> int:
    try:
        limit = int(Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip())
    except (OSError, ValueError):
        limit = 8192
    return max(256, int(limit * _BUDGET_SHARE))


def lane_gitdir(path: Path) -> str:
    """The lane's private git directory, from its ``.git`` file (``gitdir: ...``)."""
    try:
        text = (path / ".git").read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    if not text.startswith("gitdir:"):
        return ""
    gitdir = Path(text[len("gitdir:"):].strip())
    if not gitdir.is_absolute():
        gitdir = path / gitdir
    return str(gitdir.resolve())


def ignored_dirs(path: Path) -> set[str]:
    """Directories git ignores in this lane, as absolute paths; one git process, which
    does not descend into them (``--directory``)."""
    try:
        proc = subprocess.run(
            ["git", "--no-optional-locks", "ls-files", "--others", "--ignored",
             "--exclude-standard", "--directory", "-z"],
            cwd=path, capture_output=True, timeout=60, env={**os.environ, "LC_ALL": "C"})
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if proc.returncode != 0:
        return set()
    out = set()
    for rel in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if rel.endswith("/"):
            out.add(os.path.normpath(os.path.join(path, rel)))
    return out


def lane_dirs(path: Path, ignored: set[str]) -> list[str]:
    """Every directory of the working tree worth watching, the root first."""
    out: list[str] = []
    for top, subdirs, _files in os.walk(path):
        out.append(top)
        subdirs[:] = [d for d in subdirs if d not in ALWAYS_SKIPPED
                      and os.path.join(top, d) not in ignored
                      and not os.path.islink(os.path.join(top, d))]
    return out


def _ref_dirs(common_dir: Path) -> list[str]:
    heads = common_dir / "refs" / "heads"
    out = [str(common_dir)]
    for top, _subdirs, _files in os.walk(heads):
        out.append(top)
    return out


def make_plan(common_dir: Path, lanes: Iterable[_Lane], budget: int) -> Plan:
    common_dir = Path(common_dir)
    dirs: dict[str, str | None] = {d: None for d in _ref_dirs(common_dir)}
    gitdirs: dict[str, str] = {}
    polled: list[str] = []
    used = len(dirs)
    # Smallest lanes first, so a budget too small for all still covers the most lanes.
    for lane in sorted(lanes, key=lambda ln: len(ln.dirs)):
        need = len(ln_dirs := lane.dirs) + (1 if lane.gitdir else 0)
        if used + need > budget:
            polled.append(lane.name)
            continue
        used += need
        for d in ln_dirs:
            dirs[d] = lane.name
        if lane.gitdir:
            dirs[lane.gitdir] = lane.name
            gitdirs[lane.gitdir] = lane.name
    notes = ()
    if polled:
        notes = (f"live status is off for {len(polled)} lane(s) ({', '.join(sorted(polled))}): "
                 f"their directories exceed the file-watch budget of {budget}; they refresh "
                 "on the slow pass (raise fs.inotify.max_user_watches to watch them)",)
    return Plan(dirs=dirs, gitdirs=gitdirs, polled=tuple(sorted(polled)), notes=notes)


class LaneWatcher:
    """Reports, from its own thread, which lanes changed: ``on_changed(names, base)``
    where ``base`` is True when a branch that is not a lane's own moved (some lane's
    ahead/behind may have changed)."""

    def __init__(self, common_dir: Path, on_changed: Callable[[set[str], bool], None], *,
                 debounce_ms: int = 80, step_ms: int = 40, budget: int | None = None,
                 force_polling: bool = False):
        self.common_dir = Path(common_dir).resolve()
        self.on_changed = on_changed
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.budget = budget or inotify_budget()
        self.force_polling = force_polling
        self.plan = Plan(dirs={}, gitdirs={})
        self.error = ""
        self.rounds = 0                       # watch rounds started (a restart is one more)
        self.watching = threading.Event()     # set while a round is live
        self._lanes: dict[str, _Lane] = {}
        self._wanted: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._round_stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control (any thread) ---------------------------------------------------------
    def set_lanes(self, lanes: Iterable[tuple[str, Path]]) -> None:
        wanted = {name: Path(path) for name, path in lanes}
        with self._lock:
            if wanted == self._wanted:
                return
            self._wanted = wanted
        self._request_restart()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="worklanes-lane-watch",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._round_stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def polled(self) -> tuple[str, ...]:
        return self.plan.polled

    def _request_restart(self) -> None:
        self._round_stop.set()  # ends the current round; the loop starts a new one

    # -- the thread --------------------------------------------------------------------
    def _refresh_lanes(self, regrow: set[str]) -> None:
        """Re-read the directories of new lanes and of those in ``regrow``; the rest
        keep what was read before (a walk and a git process per lane)."""
        with self._lock:
            wanted = dict(self._wanted)
        lanes: dict[str, _Lane] = {}
        for name, path in wanted.items():
            old = self._lanes.get(name)
            if old is not None and old.path == path and name not in regrow:
                lanes[name] = old
                continue
            lane = _Lane(name, path)
            if path.is_dir():
                lane.dirs = lane_dirs(path, ignored_dirs(path))
                lane.gitdir = lane_gitdir(path)
            lanes[name] = lane
        self._lanes = lanes

    def _run(self) -> None:
        from watchfiles import Change, watch  # not needed before the first paint

        regrow: set[str] = set()
        while not self._stop.is_set():
            self._round_stop.clear()
            self._refresh_lanes(regrow)
            regrow = set()
            self.plan = make_plan(self.common_dir, self._lanes.values(), self.budget)
            self.rounds += 1
            try:
                self.watching.set()
                for raw in watch(*self.plan.dirs, watch_filter=None,
                                 debounce=self.debounce_ms, step=self.step_ms,
                                 stop_event=self._round_stop, rust_timeout=1000,
                                 raise_interrupt=False, recursive=False,
                                 force_polling=self.force_polling or None,
                                 poll_delay_ms=300, ignore_permission_denied=True):
                    names, base, regrow = self._classify(raw, Change.added)
                    if names or base:
                        self.on_changed(names, base)
                    if regrow:
                        break  # watch the new directories too
            except Exception as exc:  # the watch budget ran out, a folder vanished...
                self.error = f"lane file watching failed ({exc})"
                if "limit" in str(exc).lower() or "space" in str(exc).lower():
                    self.budget = max(64, self.budget // 2)
                if self._stop.wait(0.5):
                    return
            finally:
                self.watching.clear()

    def _classify(self, raw: set[tuple[object, str]], added: object
                  ) -> tuple[set[str], bool, set[str]]:
        names: set[str] = set()
        grown: set[str] = set()
        base = False
        refs_heads = str(self.common_dir / "refs" / "heads")
        own_refs = {f"{refs_heads}/wt/{name}": name for name in self._lanes}
        for change, path in raw:
            if _NOISE.search(path):
                continue
            parent = os.path.dirname(path)
            owner = self.plan.dirs.get(parent)
            if owner is None and parent in self.plan.dirs:
                # Shared refs: a lane's own branch is that lane; any other is a base.
                if path in own_refs:
                    names.add(own_refs[path])
                elif path.startswith(refs_heads) or os.path.basename(path) == "packed-refs":
                    base = True
                if change == added and path.startswith(refs_heads) and os.path.isdir(path):
                    grown.add("")  # a new ref folder (refs/heads/wt/): watch it too
                continue
            if owner is None:
                continue
            names.add(owner)
            if change == added and parent not in self.plan.gitdirs \
                    and os.path.isdir(path) and not os.path.islink(path) \
                    and os.path.basename(path) not in ALWAYS_SKIPPED:
                grown.add(owner)
        return names, base, grown
