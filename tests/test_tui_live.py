"""Live behaviour: changes made by other processes appear without a keypress, tables
update in place, the event tail stays bounded under a burst."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from core.workspace import Workspace
from tui.messages import ActionFailed, EventsAppended, LaneStatusesLoaded, TasksLoaded
from tests.tui_helpers import notes, running, screen_text, wait_for
from tui.watch import classify

SIZE = (120, 36)


def run_elsewhere(root: Path, code: str) -> None:
    """Run core calls in another process, as the CLI or a second window would."""
    prelude = f"from core.workspace import Workspace; ws = Workspace.open({str(root)!r}); "
    subprocess.run([sys.executable, "-c", prelude + code], check=True,
                   cwd=Path(__file__).resolve().parents[1], timeout=60)


async def test_changes_from_another_process_appear_without_a_keypress(repo):
    async with running(repo) as (pilot, app):
        run_elsewhere(repo, "t = ws.tasks.create('From the CLI'); "
                            "ws.lanes.create('cli-lane', task_id=t['id'])")
        await wait_for(pilot, lambda: 1 in app.tasks_pane.tasks_by_id and app.lane_table.cells_of("cli-lane"),
                       what="task and lane from another process")
        await wait_for(pilot, lambda: any(ln.split()[1] == "worktree.create.after"
                                          for ln in app.event_tail.lines), what="event")
        assert app.tasks_pane.tasks_by_id[1]["worktree"] == "cli-lane"
        run_elsewhere(repo, "ws.tasks.update(1, subject='Renamed elsewhere')")
        await wait_for(pilot, lambda: "Renamed elsewhere" in screen_text(app), what="rename")


async def test_tables_update_in_place_keeping_cursor_and_scroll(repo):
    ws = Workspace.open(repo)
    for i in range(60):
        ws.tasks.create(f"Task number {i + 1}")
    async with running(repo) as (pilot, app):
        table = app.task_table
        table.focus()
        table.select_key("40")
        await pilot.pause()
        scroll_before = table.scroll_y
        assert scroll_before > 0
        ws.tasks.update(45, subject="Changed under the cursor's feet")
        ws.tasks.update(1, status="completed")
        ws.tasks.create("Appended at the end")
        await wait_for(pilot, lambda: 61 in app.tasks_pane.tasks_by_id
                       and app.tasks_pane.tasks_by_id[45]["subject"].startswith("Changed"), what="updates")
        await pilot.pause()
        assert table.selected_task_id == 40
        assert table.scroll_y == scroll_before
        assert table.row_count == 61
        # A task file removed by hand disappears, the cursor stays on task 40.
        (repo / ".tasks" / "task_2.json").unlink()
        await wait_for(pilot, lambda: 2 not in app.tasks_pane.tasks_by_id, what="removal")
        assert table.selected_task_id == 40


async def test_a_restored_task_file_goes_back_to_its_place(repo):
    ws = Workspace.open(repo)
    for i in range(5):
        ws.tasks.create(f"T{i + 1}")
    saved = (repo / ".tasks" / "task_3.json").read_text()
    (repo / ".tasks" / "task_3.json").unlink()
    async with running(repo) as (pilot, app):
        app.task_table.select_key("5")
        (repo / ".tasks" / "task_3.json").write_text(saved)
        await wait_for(pilot, lambda: 3 in app.tasks_pane.tasks_by_id, what="restored")
        await pilot.pause()
        assert app.task_table.keys == ["1", "2", "3", "4", "5"]
        assert app.task_table.selected_task_id == 5


async def test_event_appended_elsewhere_reaches_the_tail(repo):
    posted: list = []
    async with running(repo, message_hook=posted.append) as (pilot, app):
        app.ws.events.emit("custom.thing", worktree={"name": "x"})
        await wait_for(pilot, lambda: any("custom.thing" in ln for ln in app.event_tail.lines))
        assert any(isinstance(m, EventsAppended) and not m.initial
                   and m.events[-1]["event"] == "custom.thing" for m in posted)
        # A failed event stands out in the title.
        app.ws.events.emit("worktree.remove.failed", worktree={"name": "x"}, error="boom")
        await wait_for(pilot, lambda: "1 failed" in (app.main.pane("events").border_title or ""))


async def test_burst_of_10000_events_stays_bounded_and_responsive(repo):
    async with running(repo, max_event_lines=500) as (pilot, app):
        lines = [json.dumps({"event": "bench.burst", "ts": time.time(), "task": {"id": i},
                             "worktree": {}}) for i in range(10_000)]
        with open(app.ws.events.path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        tail = app.event_tail
        await wait_for(pilot, lambda: tail.new == 10_000, timeout=20, what="all 10,000 ingested")
        assert tail.line_count <= 500
        assert "#9999" in tail.lines[-1]
        assert "10,000 new" in app.main.pane("events").border_title
        await pilot.press("n")  # still answers keys
        assert app.screen.query_one("#quick-add").display


async def test_partial_and_garbled_lines_in_the_log(repo):
    async with running(repo) as (pilot, app):
        path = app.ws.events.path
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("this is not json\n")
            fh.write('{"event": "half.written", "ts": 1')
        await wait_for(pilot, lambda: any("parse_error" in ln for ln in app.event_tail.lines))
        assert not any("half.written" in ln for ln in app.event_tail.lines)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(', "task": {}, "worktree": {}}\n')
        await wait_for(pilot, lambda: any("half.written" in ln for ln in app.event_tail.lines))


async def test_lane_status_refreshes_in_a_worker(repo):
    ws = Workspace.open(repo)
    ws.tasks.create("t")
    ws.lanes.create("l1", task_id=1)
    posted: list = []
    async with running(repo, message_hook=posted.append, status_interval=0.2,
                       watch=False) as (pilot, app):
        await wait_for(pilot, lambda: app.lane_table.cells_of("l1")[4] == 0, what="clean")
        (repo / ".worktrees" / "l1" / "new.txt").write_text("x")  # no watcher: the safety pass
        await wait_for(pilot, lambda: app.lane_table.cells_of("l1")[4] == 1, what="dirty 1")
        status_workers = [w for w in app.workers if w.group == "status"]
        assert all(w.is_running or w.is_finished for w in status_workers)
        assert any(isinstance(m, LaneStatusesLoaded) for m in posted)


async def test_resync_without_a_watcher_catches_up(repo):
    async with running(repo, watch=False, status_interval=0.2) as (pilot, app):
        app.ws.tasks.create("Seen by the safety net")
        await wait_for(pilot, lambda: 1 in app.tasks_pane.tasks_by_id, what="resync")


async def test_failed_actions_post_action_failed(repo):
    posted: list = []
    async with running(repo, message_hook=posted.append) as (pilot, app):
        app.run_core("doing something impossible", lambda: app.ws.tasks.update(99, status="completed"))
        await wait_for(pilot, lambda: [m for m in posted if isinstance(m, ActionFailed)])
        failed = [m for m in posted if isinstance(m, ActionFailed)][0]
        assert "task 99 does not exist" in failed.error and not failed.logged
        assert app.ws.events.tail(1)[0]["event"] == "ui.error"
        # An unexpected exception goes through the one worker-error handler.
        app.run_core("a bug", lambda: 1 / 0)
        await wait_for(pilot, lambda: "ZeroDivisionError" in notes(app))
        # And the watcher reports through a message too.
        app.ws.tasks.create("seen")
        await wait_for(pilot, lambda: any(isinstance(m, TasksLoaded) and m.tasks
                                          for m in posted), what="TasksLoaded")


def test_classify_ignores_scratch_files(tmp_path):
    tasks, state = tmp_path / ".tasks", tmp_path / ".worktrees"
    raw = {(1, str(tasks / "task_7.json")), (1, str(tasks / ".task_7.json.abc.tmp")),
           (1, str(tasks / ".lock")), (2, str(state / "events.jsonl")),
           (2, str(state / ".index.lock"))}
    ch = classify(raw, tasks, state)
    assert ch.task_ids == {7} and ch.events and not ch.index and not ch.all_tasks
    ch = classify({(1, str(state / "new-lane"))}, tasks, state)
    assert ch.index and not ch.events


async def test_the_collector_is_paused_until_the_first_paint_and_restored_on_exit(repo):
    import gc

    from tui.app import create_app
    from tests.tui_helpers import fixed_options, settle

    assert gc.isenabled()
    paused: list[bool] = []
    app = create_app(repo, **fixed_options())
    app.call_later(lambda: paused.append(not gc.isenabled()))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert paused == [True]                # from the start of the run to the first paint
        assert gc.isenabled() and gc.get_freeze_count() > 0
    assert gc.isenabled() and gc.get_freeze_count() == 0
    never_painted = create_app(repo, **fixed_options())
    async with never_painted.run_test(size=SIZE):
        never_painted.exit()
    assert gc.isenabled() and gc.get_freeze_count() == 0


async def test_a_state_that_cannot_be_read_is_reported_and_the_app_still_starts(repo, monkeypatch):
    import gc

    from tui.state import BoardCache

    def broken(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(repo / ".tasks"))

    monkeypatch.setattr(BoardCache, "load_all", broken)
    posted: list = []
    async with running(repo, message_hook=posted.append) as (pilot, app):
        assert app.first_full_paint is not None and gc.isenabled()
        assert "Permission denied" in notes(app)
        assert app.ws.events.tail(5)[-1]["event"] == "ui.error"
        monkeypatch.undo()
        app.ws.tasks.create("Readable again")
        await wait_for(pilot, lambda: app.task_table.row_count == 1, what="board after the fix")


async def test_notifications_are_drawn(repo):
    # The app hides Textual's empty toast rack before the first frame (one layout fewer);
    # a notification must still show it.
    from tui.app import create_app
    from tests.tui_helpers import fixed_options, settle

    app = create_app(repo, **fixed_options())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot, app)
        app.notify("Something to see", severity="error")
        await wait_for(pilot, lambda: "Something to see" in screen_text(app), what="toast")


async def test_a_lanes_own_edits_and_commits_show_without_any_timer(repo):
    """The lanes' files are watched: the dirty count and ahead/behind follow an edit, a
    commit and a deleted directory, with the periodic pass off (status_interval=0)."""
    ws = Workspace.open(repo)
    lane = Path(ws.lanes.create("live").lane["path"])
    async with running(repo, message_hook=None) as (pilot, app):
        await wait_for(pilot, lambda: app.lane_watcher is not None
                       and app.lane_watcher.watching.is_set()
                       and str(lane) in app.lane_watcher.plan.dirs, what="lane watched")
        status = lambda: app.lane_table.statuses.get("live")  # noqa: E731
        (lane / "new.txt").write_text("x\n")
        await wait_for(pilot, lambda: status() is not None and status().dirty == 1,
                       what="dirty count after an edit")
        subprocess.run(["git", "add", "new.txt"], cwd=lane, check=True)
        subprocess.run(["git", "commit", "-qm", "in the lane"], cwd=lane, check=True)
        await wait_for(pilot, lambda: status().dirty == 0 and status().ahead == 1,
                       what="ahead after a commit")
        assert "in the lane" in screen_text(app)
        (repo / "main.txt").write_text("m\n")
        subprocess.run(["git", "add", "main.txt"], cwd=repo, check=True)
        subprocess.run(["git", "commit", "-qm", "main moves"], cwd=repo, check=True)
        await wait_for(pilot, lambda: status().behind == 1, what="behind after main moved")
        import shutil
        shutil.rmtree(lane)
        await wait_for(pilot, lambda: status().missing, what="missing after rm -rf")
        await pilot.pause()
        row = app.lane_table.cells_of("live")
        assert row[3] == "missing" and row[4:7] == ("-", "-", "-")
        assert "directory gone" in screen_text(app) and "↑0" not in screen_text(app)


async def test_start_up_tail_draws_a_screenful_first_then_the_rest_in_order(repo):
    """Of the log's newest events, the first frame formats only as many as the terminal
    has lines; right after it the older ones go above them, in order, and an event
    appended since stays below."""
    from tui.app import INITIAL_TAIL
    ws = Workspace.open(repo)
    for i in range(INITIAL_TAIL + 50):
        ws.events.emit("bench.old", task={"id": i})
    at_paint: list[int] = []
    size = (100, 24)
    from tests.tui_helpers import fixed_options
    from tui.app import create_app

    def painted():
        at_paint.append(app.event_tail.line_count)
        # Written between the frame and the backfill: it must stay the newest.
        ws.events.emit("bench.after", task={"id": 9999})

    app = create_app(repo, **fixed_options(on_first_paint=painted))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: at_paint, what="first paint")
        assert 0 < at_paint[0] <= size[1]
        tail = app.event_tail
        await wait_for(pilot, lambda: "#9999" in tail.lines[-1], what="the event written later")
        older = [ln for ln in tail.lines if "bench.old" in ln]
        assert [int(ln.split("#")[1].split()[0]) for ln in older] == list(range(50, INITIAL_TAIL + 50))
        assert tail.lines.index(older[-1]) < len(tail.lines) - 1
