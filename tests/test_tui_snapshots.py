"""SVG snapshots (pytest-textual-snapshot) of the screens people look at most.

Everything on screen is fixed: the demo repository's commits and events carry fixed
times, the app gets a fixed clock and UTC, the cursor does not blink, and each shot
waits until every worker (board, lanes, lane status) is done. Update with
``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agent.config import DEFAULT_MODEL
from core.agent import TextDelta, ToolFinished, ToolStarted
from tui.app import create_app
from tui.demo import make_demo_repo
from tui.messages import AgentEvent, AgentReady
from tui.screens.views import DiffScreen
from tests.tui_helpers import FIXED_EPOCH, fixed_options, settle, wait_for

WIDE, NARROW = (120, 36), (80, 24)


@pytest.fixture
def demo_app(tmp_path):
    root = make_demo_repo(tmp_path / "demo", epoch=FIXED_EPOCH)
    return create_app(root, **fixed_options())


async def _ready(pilot) -> None:
    app = pilot.app
    await settle(pilot, app)
    await wait_for(pilot, lambda: len(app.lane_table.statuses) == 2, what="lane status")
    await settle(pilot, app)


def _select_lane(name: str):
    async def run(pilot) -> None:
        await _ready(pilot)
        app = pilot.app
        app.lane_table.focus()
        app.lane_table.select_key(name)
        await pilot.pause()
    return run


def test_main_screen(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=_ready)


def test_main_screen_80x24(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=NARROW, run_before=_ready)


def test_remove_modal(snap_compare, demo_app):
    async def run(pilot) -> None:
        await _select_lane("auth-refactor")(pilot)
        await pilot.press("x")
        await pilot.pause()
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=run)


def test_diff_view(snap_compare, demo_app):
    async def run(pilot) -> None:
        await _select_lane("auth-refactor")(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DiffScreen)
                       and pilot.app.screen.done, what="diff")
        await pilot.pause()
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=run)


def test_merge_modal(snap_compare, demo_app):
    async def run(pilot) -> None:
        from tui.screens.merge import MergeLaneScreen

        await _select_lane("ui-login")(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MergeLaneScreen), what="dialog")
        await pilot.pause()
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=run)


def test_lane_agent_states(snap_compare, tmp_path):
    """What an agent left on each lane shows in the lanes pane and the header; the chat
    pane follows the selected lane's agent."""
    from core.workspace import Workspace

    root = make_demo_repo(tmp_path / "demo", epoch=FIXED_EPOCH)
    ws = Workspace.open(root)
    names = [lane["name"] for lane in ws.lanes.list()]
    ws.lanes.update(names[0], agent={"state": "done", "tokens": {"input": 12000, "output": 800}})
    ws.lanes.update(names[1], agent={"state": "running", "pid": 2 ** 22 + 7, "proc_start": "1",
                                     "tokens": {"input": 300, "output": 20}})   # its process died
    assert snap_compare(create_app(root, **fixed_options()), terminal_size=WIDE, run_before=_ready)


def test_help_screen(snap_compare, demo_app):
    async def run(pilot) -> None:
        await _ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=run)


def test_chat_mid_stream(snap_compare, demo_app):
    """A turn in progress: the events a real agent thread would post, fed in order."""
    async def run(pilot) -> None:
        await _ready(pilot)
        app = pilot.app
        app.chat.log_view.clear()  # the "agent is off" notice of fixed_options
        app.chat.post_message(AgentReady(agent=None, model=DEFAULT_MODEL, history=[]))
        await pilot.pause()
        app.chat.add_user("Check the auth lane and tell me what is left.")
        app.chat.set_running(True)
        app.agent_host.running = True
        app.refresh_bindings()
        for ev in (TextDelta("Let me look at the **auth-refactor** lane first.\n\n"),
                   ToolStarted("toolu_1", "worktree_run",
                               {"name": "auth-refactor", "command": "git status --short"}),
                   ToolFinished("toolu_1", "worktree_run", " M auth.py\n?? notes.txt\n"),
                   TextDelta("Two things are open:\n\n1. `auth.py` is modified but not "),
                   TextDelta("committed\n2. `notes.txt` says the stored pass")):
            app.chat.post_message(AgentEvent(ev))
        await pilot.pause(0.3)
        await wait_for(pilot, lambda: app.chat.stream is not None
                       and app.chat.stream.tail.text.endswith("the stored pass"),
                       what="the open block drawn")
        await pilot.pause(0.1)
    assert snap_compare(demo_app, terminal_size=WIDE, run_before=run)


def test_snapshots_use_a_fixed_demo(tmp_path):
    """The demo's commits must hash the same on every run, or the shots would drift."""
    from tests.conftest import git

    a = make_demo_repo(tmp_path / "a", epoch=FIXED_EPOCH)
    b = make_demo_repo(tmp_path / "b", epoch=FIXED_EPOCH)
    head = lambda root: git(Path(root) / ".worktrees" / "ui-login", "rev-parse", "HEAD")  # noqa: E731
    assert head(a) == head(b)
