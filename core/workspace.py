"""One entry point for every front end (CLI, TUI, agent): find the main repository,
make sure its state folders exist and stay out of ``git status``, and hand out the
board, the lanes and the event log that all share the same files and locks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from core.config import LaneConfig, load_lane_config
from core.events import EventLog
from core.repo import find_repo
from core.errors import WorklanesError
from core.paths import STATE_DIRS, StatePaths
from core.records import may_hold_intent
from core.tasks import TaskBoard

if TYPE_CHECKING:
    from core.lanes import Lanes
    from core.lanes.index import LaneIndex


class Workspace:
    # Not a dataclass: every command opens one, and the board commands load no
    # dataclasses (core/plain.py).
    def __init__(self, root: Path, common_dir: Path, tasks: TaskBoard, events: EventLog,
                 config: LaneConfig, git_dir: Path | None = None) -> None:
        self.root = root
        self.common_dir = common_dir
        self.tasks = tasks
        self.events = events
        self.config = config
        # The git dir of the checkout the workspace was opened from: a lane's own when
        # opened inside one (its HEAD is that lane's branch), else the common dir.
        self.git_dir = git_dir
        # What opening it finished or rolled back of operations a killed process left
        # ("lane x: ..."), for a front end to tell the user.
        self.recovered: list[str] = []
        self._lanes: Lanes | None = None

    def __repr__(self) -> str:
        return f"Workspace(root={self.root!r})"

    @property
    def lanes(self) -> "Lanes":
        """Made on first use: the board commands never load the lane code (and GitPython
        behind it), which is a third of a `worklanes task list`."""
        if self._lanes is None:
            from core.lanes import Lanes
            self._lanes = Lanes(self.root, self.tasks, self.events, self.config)
        return self._lanes

    @property
    def lane_index(self) -> "LaneIndex":
        """The lane index alone, for a reader that only lists lanes (the app's first
        frame): the lanes themselves once made, else just their index (core.lanes.index),
        without the lifecycle, status and archive code behind ``lanes`` (~10 ms)."""
        if self._lanes is not None:
            return self._lanes
        from core.lanes.index import LaneIndex
        return LaneIndex(self.root, self.tasks, self.events, self.config)

    @property
    def paths(self) -> StatePaths:
        return StatePaths(self.root)

    @property
    def tasks_dir(self) -> Path:
        return self.paths.tasks_dir

    @property
    def state_dir(self) -> Path:
        return self.paths.state_dir

    @classmethod
    def open(cls, cwd: Path | None = None, recover: bool = True) -> "Workspace":
        repo = find_repo(cwd)
        root = repo.root
        paths = StatePaths(root)
        for d in (paths.tasks_dir, paths.state_dir):
            d.mkdir(exist_ok=True)
        ensure_excluded(repo.common_dir)
        config = load_lane_config(root)
        events = EventLog(paths.events)
        tasks = TaskBoard(paths.tasks_dir, events)
        ws = cls(root=root, common_dir=repo.common_dir, tasks=tasks, events=events,
                 config=config, git_dir=repo.git_dir)
        if config.dir not in STATE_DIRS:
            (root / config.dir).mkdir(parents=True, exist_ok=True)
        if recover and _has_intent(paths.index):
            try:
                # What a killed command left: finish or roll it back, lane by lane.
                for name in [e["name"] for e in ws.lanes.list() if isinstance(e.get("op"), dict)]:
                    ws.recovered += [f"lane {name}: {a}" for a in ws.lanes.recover(name)]
            except WorklanesError:
                pass  # a corrupt index: the lane commands report it
        return ws


def _has_intent(index: Path) -> bool:
    try:
        return may_hold_intent(index.read_bytes())
    except OSError:
        return False


def ensure_excluded(common_dir: Path) -> None:
    """List the state folders in ``.git/info/exclude`` (local, never committed) so they
    never show up as untracked files."""
    exclude = common_dir / "info" / "exclude"
    try:
        text = exclude.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    present = {ln.strip() for ln in text.splitlines()}
    missing = [f"{d}/" for d in STATE_DIRS if f"{d}/" not in present and f"/{d}/" not in present]
    if not missing:
        return
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as fh:
        if text and not text.endswith("\n"):
            fh.write("\n")
        fh.write("# worklanes state\n" + "".join(f"{m}\n" for m in missing))
