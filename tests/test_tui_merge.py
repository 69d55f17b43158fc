"""Pilot tests of merging from the app (`m`) and of the merge forecast in the lanes pane,
against real repositories."""

from __future__ import annotations

from pathlib import Path

from core.merge import _set_op
from core.workspace import Workspace
from tests.conftest import git
from tests.test_core_merge import commit, head, lane_path
from tests.tui_helpers import notes, running, screen_text, wait_for
from tui.screens.merge import MergeLaneScreen
from tui.screens.views import OutputScreen

MARK = 9   # the merge mark's place in a lane row (tui.format.lane_cells)


def lane_with_work(ws, name: str, files: dict[str, str], subject: str = "") -> Path:
    task = ws.tasks.create(subject or f"Work of {name}")
    ws.lanes.create(name, task_id=task["id"])
    path = lane_path(ws, name)
    commit(path, files, f"{name}: work")
    return path


def events_of(ws, kind: str) -> list[dict]:
    return [e for e in ws.events.tail(200) if e["event"] == kind]


async def open_merge(pilot, app, name: str) -> MergeLaneScreen:
    app.lane_table.focus()
    await wait_for(pilot, lambda: app.lane_table.select_key(name), what=f"lane {name}")
    await wait_for(pilot, lambda: name in app.lane_table.forecasts, what="forecast")
    await pilot.press("m")
    return await wait_for(pilot, lambda: isinstance(app.screen, MergeLaneScreen) and app.screen,
                          what="merge dialog")


async def test_m_merges_a_clean_lane_and_the_base_advances(repo):
    ws = Workspace.open(repo)
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    before = head(repo)
    async with running(repo) as (pilot, app):
        await open_merge(pilot, app, "feat")
        text = screen_text(app)
        assert "Merge lane feat (wt/feat) into main" in text
        assert "merges into main without conflicts" in text and "No check configured" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("feat")[3] == "merged",
                       what="lane marked merged")
        await wait_for(pilot, lambda: "merged lane feat into main (1 commit(s)): merge commit"
                       in notes(app), what="note")
        assert not isinstance(app.screen, OutputScreen)   # no check: nothing to watch
    assert git(repo, "rev-parse", "main^1").strip() == before
    assert git(repo, "rev-parse", "main^2").strip() == head(repo, "wt/feat")
    assert (repo / "feature.txt").read_text() == "new\n"   # the main checkout moved too
    assert ws.tasks.get(1)["status"] == "completed"
    assert events_of(ws, "worktree.merge.after")


async def test_a_conflicting_lane_lists_its_files_and_cannot_be_merged(repo):
    ws = Workspace.open(repo)
    lane_with_work(ws, "clash", {"README.md": "# lane\n", "b.txt": "lane\n"})
    commit(repo, {"README.md": "# main\n", "b.txt": "main\n"}, "main edits the same lines")
    before = head(repo)
    async with running(repo) as (pilot, app):
        await wait_for(pilot, lambda: app.lane_table.cells_of("clash")[MARK] == "✗2",
                       what="conflict mark")
        assert "active ✗2" in screen_text(app) and "1 conflicting" in app.lane_table.border_title
        screen = await open_merge(pilot, app, "clash")
        text = screen_text(app)
        assert "2 file(s) would conflict" in text and "README.md" in text and "b.txt" in text
        assert "Cannot merge" in text and "wt sync clash" in text
        assert screen.query_one("#ok").disabled
        screen.confirm()   # what Enter on the merge button would do, were it enabled
        await pilot.pause()
        assert app.screen is screen and "would conflict" in notes(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, MergeLaneScreen)
    assert head(repo) == before and not events_of(ws, "worktree.merge.before")


async def test_a_failing_check_shows_its_output_and_changes_nothing(repo):
    (repo / ".worklanes.toml").write_text(
        '[lanes]\ncheck = "echo running the tests; echo 3 failed >&2; exit 3"\n')
    ws = Workspace.open(repo)
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    before = head(repo)
    async with running(repo) as (pilot, app):
        await open_merge(pilot, app, "feat")
        assert "Run the check first: echo running the tests" in screen_text(app)
        await pilot.press("enter")
        view = await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen)
                              and app.screen.done and app.screen, what="check output")
        text = screen_text(app)
        assert "running the tests" in text and "3 failed" in text
        assert "merge refused" in text and "failed in lane 'feat'" in text
        assert view.query_one("#output").has_class("-failed")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "failed in lane 'feat'" in notes(app), what="note")
    assert head(repo) == before and ws.lanes.get("feat")["status"] == "active"
    assert events_of(ws, "worktree.check.failed") and events_of(ws, "worktree.merge.failed")


async def test_a_passing_check_streams_then_squash_merges_and_removes(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "echo all 12 passed"\n')
    ws = Workspace.open(repo)
    path = lane_with_work(ws, "feat", {"a.txt": "a\n"}, subject="Add the a and b files")
    commit(path, {"b.txt": "b\n"}, "feat: more work")
    before = head(repo)
    async with running(repo) as (pilot, app):
        await open_merge(pilot, app, "feat")
        await pilot.press("s", "x")
        assert app.screen.query_one("#squash").value and app.screen.query_one("#remove").value
        app.screen.query_one("#ok").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done,
                       what="check done")
        text = screen_text(app)
        assert "all 12 passed" in text and "check passed, merged" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.lane_table.cells_of("feat") is None, what="row gone")
        assert "removed the lane and deleted wt/feat" in notes(app)
    assert git(repo, "rev-parse", "main~1").strip() == before   # one commit on top
    assert git(repo, "log", "-1", "--format=%s").strip() == "Add the a and b files"
    assert (repo / "a.txt").exists() and (repo / "b.txt").exists()
    assert ws.lanes.get("feat")["status"] == "removed"
    assert not git(repo, "branch", "--list", "wt/feat").strip()


async def test_an_integrated_lane_shows_merged_and_merged_lanes_are_coloured(repo):
    ws = Workspace.open(repo)
    path = lane_with_work(ws, "done", {"x.txt": "x\n"})
    lane_with_work(ws, "fresh", {"y.txt": "y\n"})
    git(repo, "merge", "-q", "--ff-only", "wt/done")   # integrated by hand
    async with running(repo) as (pilot, app):
        await wait_for(pilot, lambda: app.lane_table.cells_of("done")[MARK] == "✓merged",
                       what="integrated mark")
        assert app.lane_table.cells_of("fresh")[MARK] == ""
        assert "active ✓merged" in screen_text(app)
        await open_merge(pilot, app, "done")
        assert "Already integrated into main (same-commit)" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("done")[3] == "merged")
        assert app.lane_table.cells_of("done")[MARK] == ""   # no mark next to "merged"
        assert "was already integrated into main; marked merged" in notes(app)
    assert Path(path).is_dir()


async def test_an_interrupted_merge_is_recovered_after_start_up(repo):
    ws = Workspace.open(repo)
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    before = head(repo)
    # What a kill -9 between recording the intent and moving the base leaves behind.
    _set_op(ws, "feat", {"kind": "merge", "step": "update-ref", "strategy": "merge",
                         "ref": "refs/heads/main", "old": before, "new": "0" * 40,
                         "checkout": str(repo), "ts": 0})
    async with running(repo) as (pilot, app):
        await wait_for(pilot, lambda: "Recovered 1 interrupted operation(s)" in notes(app),
                       what="recovery note")
        assert "lane feat: merge rolled back" in notes(app)
    assert "op" not in ws.lanes.get("feat") and head(repo) == before


async def test_esc_cancels_a_running_check_and_the_merge_is_refused(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "echo started; sleep 60"\n')
    ws = Workspace.open(repo)
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    before = head(repo)
    async with running(repo) as (pilot, app):
        await open_merge(pilot, app, "feat")
        await pilot.press("r")   # rebase: the strategy does not matter to a cancelled check
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen)
                       and "started" in screen_text(app), what="the check's first output")
        await pilot.press("escape")
        assert not isinstance(app.screen, OutputScreen)
        await wait_for(pilot, lambda: events_of(ws, "worktree.merge.failed"), what="refusal")
    assert head(repo) == before and ws.lanes.get("feat")["status"] == "active"
    assert events_of(ws, "worktree.merge.before")[-1]["strategy"] == "rebase"


async def test_m_rebases_the_lane_onto_a_moved_base(repo):
    ws = Workspace.open(repo)
    path = lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    commit(repo, {"other.txt": "main moved\n"}, "main moves on")
    before = head(repo)
    async with running(repo) as (pilot, app):
        await open_merge(pilot, app, "feat")
        await pilot.press("r")
        app.screen.query_one("#ok").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("feat")[3] == "merged")
        assert "rebased, now at" in notes(app)
    assert git(repo, "rev-parse", "main~1").strip() == before      # replayed on top, no merge
    assert head(repo) == head(repo, "wt/feat") == head(path, "HEAD")
    assert (repo / "feature.txt").exists()
