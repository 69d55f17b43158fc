"""The lane watcher reports edits, commits and base moves per lane, skips ignored output,
follows new directories and leaves lanes past the watch budget to the slow pass."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from core.lane_watch import LaneWatcher, _ref_dirs, ignored_dirs, lane_dirs
from tests.conftest import git

WAIT = 15  # a bound for a hung watcher, not a speed assert


@pytest.fixture
def lanes(ws):
    (ws.root / ".gitignore").write_text("node_modules/\n*.log\n")
    git(ws.root, "add", ".gitignore")
    git(ws.root, "commit", "-q", "-m", "ignore")
    for name in ("a", "b"):
        ws.lanes.create(name)
    return ws


def wait_for(pred) -> None:
    """Poll a condition the watcher thread makes true; the bound only catches a hang."""
    deadline = time.monotonic() + WAIT
    while not pred():
        assert time.monotonic() < deadline, "the watcher never got there"
        time.sleep(0.01)


class Recorder:
    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def __call__(self, names: set[str], base: bool) -> None:
        self.q.put((set(names), base))

    def until(self, pred) -> list[tuple[set[str], bool]]:
        seen = []
        while True:
            item = self.q.get(timeout=WAIT)
            seen.append(item)
            if pred(item):
                return seen


@pytest.fixture
def watched(lanes):
    rec = Recorder()
    w = LaneWatcher(lanes.common_dir, rec, debounce_ms=30, step_ms=10)
    w.set_lanes((ln["name"], Path(ln["path"])) for ln in lanes.lanes.list())
    w.start()
    assert w.watching.wait(WAIT)
    yield lanes, w, rec
    w.stop()
    w.join(WAIT)
    assert not w._thread.is_alive()


def lane_path(ws, name: str) -> Path:
    return Path(ws.lanes.get(name)["path"])


def test_an_edit_is_reported_for_its_lane_only(watched):
    ws, w, rec = watched
    (lane_path(ws, "a") / "README.md").write_text("changed\n")
    seen = rec.until(lambda item: "a" in item[0])
    assert all("b" not in names for names, _ in seen)


def test_a_commit_in_a_lane_is_its_own_and_a_commit_on_main_is_a_base_move(watched):
    ws, w, rec = watched
    b = lane_path(ws, "b")
    (b / "new.txt").write_text("x\n")
    rec.until(lambda item: "b" in item[0])
    git(b, "add", "new.txt")
    git(b, "commit", "-q", "-m", "in lane b")
    rec.until(lambda item: "b" in item[0])
    (ws.root / "main.txt").write_text("m\n")
    git(ws.root, "add", "main.txt")
    git(ws.root, "commit", "-q", "-m", "on main")
    seen = rec.until(lambda item: item[1])
    assert all("a" not in names for names, _ in seen)


def test_ignored_output_is_not_watched(watched):
    ws, w, rec = watched
    a = lane_path(ws, "a")
    # node_modules existed before the watch round (created, then the round restarted)
    (a / "node_modules").mkdir()
    rec.until(lambda item: "a" in item[0])
    rounds = w.rounds
    # the new folder is ignored, so it is not a reason for a new round
    (a / "node_modules" / "pkg.js").write_text("x" * 10)
    (a / "app.log").write_text("noise\n")  # ignored by pattern, but in a watched folder
    (lane_path(ws, "b") / "README.md").write_text("sentinel\n")
    rec.until(lambda item: "b" in item[0])
    assert w.rounds == rounds
    assert str(a / "node_modules") not in w.plan.dirs


def test_a_new_directory_is_followed(watched):
    ws, w, rec = watched
    a = lane_path(ws, "a")
    rounds = w.rounds
    (a / "src").mkdir()
    rec.until(lambda item: "a" in item[0])
    # the watcher starts a new round with the new folder included
    wait_for(lambda: w.rounds > rounds and w.watching.is_set()
             and str(a / "src") in w.plan.dirs)
    (a / "src" / "mod.py").write_text("x = 1\n")
    rec.until(lambda item: "a" in item[0])


def test_lanes_past_the_budget_are_polled_and_said_so(lanes):
    rec = Recorder()
    a, b = (Path(lanes.lanes.get(n)["path"]) for n in ("a", "b"))
    for i in range(30):
        (b / f"d{i}").mkdir()
    base_dirs = len(_ref_dirs(lanes.common_dir))
    need_a = len(lane_dirs(a, ignored_dirs(a))) + 1
    w = LaneWatcher(lanes.common_dir, rec, debounce_ms=30, step_ms=10,
                    budget=10 + need_a + base_dirs)
    w.set_lanes([("a", a), ("b", b)])
    w.start()
    try:
        assert w.watching.wait(WAIT)
        assert w.polled == ("b",)
        assert "b" in w.plan.notes[0] and "max_user_watches" in w.plan.notes[0]
        (a / "README.md").write_text("still live\n")
        rec.until(lambda item: "a" in item[0])
    finally:
        w.stop()
        w.join(WAIT)


def test_set_lanes_adds_a_lane_to_the_watch(lanes):
    rec = Recorder()
    w = LaneWatcher(lanes.common_dir, rec, debounce_ms=30, step_ms=10)
    a = Path(lanes.lanes.get("a")["path"])
    w.set_lanes([("a", a)])
    w.start()
    try:
        assert w.watching.wait(WAIT)
        c = Path(lanes.lanes.create("c").lane["path"])
        w.set_lanes([("a", a), ("c", c)])
        wait_for(lambda: str(c) in w.plan.dirs and w.watching.is_set())
        (c / "README.md").write_text("c\n")
        rec.until(lambda item: "c" in item[0])
    finally:
        w.stop()
        w.join(WAIT)
