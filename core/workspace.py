"""One entry point for every front end (CLI, TUI, agent): find the main repository,
make sure its state folders exist and stay out of ``git status``, and hand out the
board, the lanes and the event log that all share the same files and locks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import LaneConfig, load_lane_config
from core.events import EventLog
from core.git import find_repo
from core.lanes import Lanes
from core.tasks import TaskBoard

STATE_DIRS = (".tasks", ".worktrees")


@dataclass
class Workspace:
    root: Path
    common_dir: Path
    tasks: TaskBoard
    lanes: Lanes
    events: EventLog
    config: LaneConfig
    # The git dir of the checkout the workspace was opened from: a lane's own when opened
    # inside one (its HEAD is that lane's branch), else the common dir.
    git_dir: Path | None = None

    @property
    def tasks_dir(self) -> Path:
        return self.root / ".tasks"

    @property
    def state_dir(self) -> Path:
        return self.root / ".worktrees"

    @classmethod
    def open(cls, cwd: Path | None = None) -> "Workspace":
        repo = find_repo(cwd)
        root = repo.root
        for d in STATE_DIRS:
            (root / d).mkdir(exist_ok=True)
        ensure_excluded(repo.common_dir)
        config = load_lane_config(root)
        events = EventLog(root / ".worktrees" / "events.jsonl")
        tasks = TaskBoard(root / ".tasks", events)
        lanes = Lanes(root, tasks, events, config)
        if config.dir not in STATE_DIRS:
            lanes.lanes_dir.mkdir(parents=True, exist_ok=True)
        return cls(root=root, common_dir=repo.common_dir, tasks=tasks, lanes=lanes,
                   events=events, config=config, git_dir=repo.git_dir)


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
