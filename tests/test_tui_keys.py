"""Pilot tests: every key of the app against real temporary repositories."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from core.fsutil import locked
from core.workspace import Workspace
from tests.conftest import git
from tui.app import create_app
from tui.demo import make_demo_repo
from tui.messages import ActionDone, TasksLoaded
from tui.screens.dialogs import (BlockersScreen, CommandScreen, ConfirmScreen, CreateLaneScreen,
                                 EditTaskScreen, ReconcileScreen, RemoveLaneScreen)
from tui.screens.views import DiffScreen, HelpScreen, OutputScreen
from tests.tui_helpers import FIXED_EPOCH, fixed_options, notes, running, screen_text, wait_for
from tui.widgets.panes import QuickAdd

SIZE = (120, 36)


@pytest.fixture
def demo(tmp_path) -> Path:
    return make_demo_repo(tmp_path / "demo", epoch=FIXED_EPOCH)


def events_of(app, kind: str) -> list[dict]:
    return [e for e in app.ws.events.tail(200) if e["event"] == kind]


async def ui_error(pilot, app) -> str:
    """The message of the ui.error event the app writes for a failure core did not log."""
    await wait_for(pilot, lambda: events_of(app, "ui.error"), what="ui.error event")
    return events_of(app, "ui.error")[-1]["error"]


async def select_task(pilot, app, tid: int) -> None:
    app.task_table.focus()
    assert app.task_table.select_key(str(tid))
    await pilot.pause()


async def select_lane(pilot, app, name: str) -> None:
    app.lane_table.focus()
    await wait_for(pilot, lambda: app.lane_table.select_key(name), what=f"lane {name}")
    await pilot.pause()


async def test_n_quick_add_creates_a_task_and_selects_it(repo):
    async with running(repo) as (pilot, app):
        await pilot.press("n")
        quick = app.screen.query_one(QuickAdd)
        assert quick.display and quick.has_focus
        await pilot.press(*"Write tests", "enter")
        await wait_for(pilot, lambda: app.task_table.selected_task_id == 1, what="new row")
        assert app.ws.tasks.get(1)["subject"] == "Write tests"
        assert not quick.display and app.task_table.has_focus
        # Esc gives up without creating anything.
        await pilot.press("n", *"nope", "escape")
        await pilot.pause()
        assert not quick.display
        assert len(app.ws.tasks.list().tasks) == 1


async def test_a_new_row_arrives_already_selected(repo):
    """The created row and the cursor move come in one message: a key pressed as soon
    as the row shows must act on it, not on the row selected before."""
    Workspace.open(repo).tasks.create("Existing")
    posted: list = []
    async with running(repo, message_hook=posted.append, watch=False) as (pilot, app):
        assert app.task_table.selected_task_id == 1
        await pilot.press("n", *"Second", "enter")
        await wait_for(pilot, lambda: app.task_table.selected_task_id == 2, what="new row")
        done = [m for m in posted if isinstance(m, ActionDone)]
        assert len(done) == 1 and done[0].select_task == 2
        carried = [u for u in done[0].updates if isinstance(u, TasksLoaded)]
        assert carried and 2 in {t["id"] for t in carried[0].tasks}
        # No other message brought the row before the cursor could follow it.
        alone = [m for m in posted if isinstance(m, TasksLoaded)
                 and 2 in {t["id"] for t in m.tasks}]
        assert alone == []


async def test_keys_typed_ahead_of_a_new_row_act_on_it(repo):
    """n, a subject, Enter and w in one go (a fast typist, a paste): the lane is for
    the new task, even when creating it takes a while (here: the board lock is held)."""
    ws = Workspace.open(repo)
    ws.tasks.create("Existing")
    async with running(repo) as (pilot, app):
        with locked(ws.tasks.lock_path):
            await pilot.press("n", *"Typed ahead", "enter", "w")
            await pilot.pause(0.2)
            assert not isinstance(app.screen, CreateLaneScreen)  # w waits for the new row
            assert app.task_table.selected_task_id == 1
        await wait_for(pilot, lambda: isinstance(app.screen, CreateLaneScreen), what="dialog")
        assert app.screen.task_data["id"] == 2
        # The lane's own keys wait for the lane the same way.
        with locked(ws.tasks.lock_path):
            await pilot.press("enter", "k")
            await pilot.pause(0.2)
            assert lane_status(ws, "typed-ahead") != "kept"
        await wait_for(pilot, lambda: lane_status(ws, "typed-ahead") == "kept",
                       what="the new lane kept")


async def test_keys_typed_ahead_of_a_failed_create_are_dropped(repo, monkeypatch):
    """If the new row never comes, the keys typed for it must not act on the old one."""
    import core.tasks

    monkeypatch.setattr(core.tasks, "locked", lambda path: locked(path, timeout=0.3))
    ws = Workspace.open(repo)
    ws.tasks.create("Existing")
    async with running(repo) as (pilot, app):
        with locked(ws.tasks.lock_path):   # the create times out waiting for it
            await pilot.press("n", *"Never made", "enter", "s")
            await wait_for(pilot, lambda: "Skipped 1 key" in notes(app),
                           what="the dropped key's note")
        assert "stayed locked by another process" in notes(app)
        await pilot.pause()
        assert ws.tasks.get(1)["status"] == "pending"   # s did not reach task #1
        assert [t["id"] for t in ws.tasks.list().tasks] == [1]


def lane_status(ws, name: str) -> str | None:
    return next((lane["status"] for lane in ws.lanes.list() if lane["name"] == name), None)


async def test_e_edits_subject_owner_and_description(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 5)
        await pilot.press("e")
        assert isinstance(app.screen, EditTaskScreen)
        subject = app.screen.query_one("#subject")
        subject.value = "Configurable session timeout"
        app.screen.query_one("#owner").value = "carol"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[5]["owner"] == "carol")
        task = app.ws.tasks.get(5)
        assert task["subject"] == "Configurable session timeout"
        assert "Configurable session timeout" in screen_text(app)


async def test_e_appends_to_the_subject_typed_right_after_the_key(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 5)
        subject = app.ws.tasks.get(5)["subject"]
        # Typed at once: the keys wait for the dialog, and the cursor sits at the end of
        # the subject with nothing selected, so they append instead of replacing it.
        await pilot.press("e", *" now", "enter")
        await wait_for(pilot, lambda: app.ws.tasks.get(5)["subject"] == subject + " now",
                       what="the appended subject")


def test_o_falls_back_to_sh_when_shell_cannot_start(tmp_path):
    from tui.panes.lanes import FALLBACK_SHELL, choose_shell

    assert choose_shell("/bin/sh") == ("/bin/sh", "")
    assert choose_shell("") == (FALLBACK_SHELL, "")
    shell, note = choose_shell(str(tmp_path / "no-such-shell"))
    assert shell == FALLBACK_SHELL and "no-such-shell" in note and "cannot be started" in note
    not_executable = tmp_path / "zsh"
    not_executable.write_text("#!/bin/sh\n")
    assert choose_shell(str(not_executable))[0] == FALLBACK_SHELL


async def test_s_cycles_status_and_completing_unblocks(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 5)
        for expected in ("in_progress", "completed", "pending"):
            await pilot.press("s")
            await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[5]["status"] == expected, what=expected)
        # Task 4 waits on task 1: completing 1 makes 4 ready. Task 1 has a live lane, so
        # completing it asks first; Esc keeps it as it is.
        await select_task(pilot, app, 1)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "still has lane auth-refactor" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.ws.tasks.get(1)["status"] == "in_progress"
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[1]["status"] == "completed")
        await wait_for(pilot, lambda: app.task_table.cells_of("4")[-1] is True, what="4 ready")
        # Re-opening it blocks 4 again, and both sides of the mirror agree.
        await pilot.press("s")
        await wait_for(pilot, lambda: app.task_table.cells_of("4")[5] == (1,), what="4 blocked")
        assert app.ws.tasks.get(1)["blocks"] == [4] and app.ws.tasks.get(4)["blockedBy"] == [1]


async def test_b_adds_and_removes_blockers_and_reports_a_cycle(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 5)
        await pilot.press("b")
        assert isinstance(app.screen, BlockersScreen)
        await pilot.press(*"4", "enter")
        await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[5]["blockedBy"] == [4])
        assert app.task_table.cells_of("5")[5] == (4,)
        # Remove it again: an empty list.
        await pilot.press("b", "backspace", "enter")
        await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[5]["blockedBy"] == [])
        # 1 cannot wait on 4 (4 already waits on 1): a notification and an event.
        await select_task(pilot, app, 1)
        await pilot.press("b", *"4", "enter")
        assert "cycle" in await ui_error(pilot, app)
        assert "cycle" in notes(app)
        # One bad id among good ones: nothing is applied.
        await select_task(pilot, app, 5)
        await pilot.press("b", *"6 99", "enter")
        # Said in the dialog, which keeps what was typed; nothing is applied.
        await wait_for(pilot, lambda: "No task #99" in dialog_error(app), what="refusal")
        assert app.screen.query_one("#blockers").value == "6 99"
        assert app.ws.tasks.get(5)["blockedBy"] == [] and app.ws.tasks.get(6)["blocks"] == []


async def test_w_creates_a_lane_for_the_selected_task(repo):
    ws = Workspace.open(repo)
    ws.tasks.create("Auth refactor: tokens!")
    async with running(repo) as (pilot, app):
        await select_task(pilot, app, 1)
        await pilot.press("w")
        assert isinstance(app.screen, CreateLaneScreen)
        assert app.screen.query_one("#name").value == "auth-refactor-tokens"
        assert app.screen.query_one("#base").value == "HEAD"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lane_table.selected_key == "auth-refactor-tokens",
                       what="lane row")
        assert app.tasks_pane.tasks_by_id[1]["worktree"] == "auth-refactor-tokens"
        assert app.tasks_pane.tasks_by_id[1]["status"] == "in_progress"
        assert (repo / ".worktrees" / "auth-refactor-tokens").is_dir()


def dialog_error(app) -> str:
    found = app.screen.query(".error")
    return str(found.first().render()) if found else ""


async def test_w_keeps_the_dialog_and_what_was_typed_on_a_bad_name_or_base(repo):
    ws = Workspace.open(repo)
    ws.tasks.create("One")
    ws.tasks.create("Two")
    ws.lanes.create("taken", task_id=2)
    async with running(repo) as (pilot, app):
        await select_task(pilot, app, 1)
        await pilot.press("w")
        dialog = app.screen
        for name, base, problem in (("bad name!", "HEAD", "invalid lane name"),
                                    ("taken", "HEAD", "already exists"),
                                    ("fresh", "no-such-ref", "base ref 'no-such-ref'")):
            dialog.query_one("#name").value = name
            dialog.query_one("#base").value = base
            await pilot.press("enter")
            await wait_for(pilot, lambda: problem in dialog_error(app), what=problem)
            # Still open, with what was typed.
            assert app.screen is dialog
            assert (dialog.query_one("#name").value, dialog.query_one("#base").value) == (name, base)
        assert "--" not in dialog_error(app)   # no command-line flags in the app's wording
        dialog.query_one("#base").value = "HEAD"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.lane_table.selected_key == "fresh", what="lane row")
        assert not events_of(app, "worktree.create.failed") and not events_of(app, "ui.error")


async def test_w_on_a_task_that_has_a_lane_says_so_before_any_dialog(repo):
    ws = Workspace.open(repo)
    ws.lanes.create("first", task_id=ws.tasks.create("One")["id"])
    async with running(repo) as (pilot, app):
        await select_task(pilot, app, 1)
        await pilot.press("w")
        assert app.screen is app.main
        assert "Task #1 already has lane first" in notes(app)
        assert "--task" not in notes(app)


async def test_e_with_an_empty_subject_keeps_owner_and_description(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 5)
        await pilot.press("e")
        dialog = app.screen
        dialog.query_one("#subject").value = ""
        dialog.query_one("#owner").value = "carol"
        await pilot.press("enter")
        assert app.screen is dialog and "needs a subject" in dialog_error(app)
        assert dialog.query_one("#owner").value == "carol"
        dialog.query_one("#subject").value = "Timeout"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.ws.tasks.get(5)["owner"] == "carol", what="saved")
        assert app.ws.tasks.get(5)["subject"] == "Timeout"


async def test_k_keeps_the_selected_lane_also_from_the_board(demo):
    async with running(demo) as (pilot, app):
        await select_task(pilot, app, 1)  # the board: acts on task 1's lane
        await pilot.press("k")
        await wait_for(pilot, lambda: app.lane_table.cells_of("auth-refactor")[3] == "kept")
        assert app.ws.lanes.get("auth-refactor")["status"] == "kept"
        assert events_of(app, "worktree.keep")[-1]["worktree"]["name"] == "auth-refactor"
        await pilot.press("k")   # again: un-kept
        await wait_for(pilot, lambda: app.lane_table.cells_of("auth-refactor")[3] == "active")
        assert app.ws.lanes.get("auth-refactor")["status"] == "active"
        assert events_of(app, "worktree.unkeep")[-1]["worktree"]["name"] == "auth-refactor"
        # A task without a lane: a warning, nothing else.
        await select_task(pilot, app, 5)
        await pilot.press("k")
        await pilot.pause()
        assert "no lane" in notes(app)


async def test_x_removes_a_clean_lane_and_completes_its_task(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        await pilot.press("x")
        assert isinstance(app.screen, RemoveLaneScreen)
        assert not app.screen.query("#force")  # clean: no force offered
        bar = screen_text(app).splitlines()[-1]
        assert "c Complete task" in bar and "esc Cancel" in bar and "Keep" not in bar
        await pilot.press("c", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("ui-login") is None, what="row gone")
        assert app.tasks_pane.tasks_by_id[2]["status"] == "completed"
        assert app.ws.lanes.get("ui-login")["status"] == "removed"
        assert events_of(app, "worktree.remove.after")


async def test_x_on_a_dirty_lane_refuses_then_forces_and_archives(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await wait_for(pilot, lambda: "auth-refactor" in app.lane_table.statuses, what="status")
        await pilot.press("x")
        screen = app.screen
        assert isinstance(screen, RemoveLaneScreen)
        await wait_for(pilot, lambda: isinstance(app.screen, RemoveLaneScreen), what="dialog")
        text = screen_text(app)
        assert "refs/worklanes/archive/auth-refactor/" in text
        assert "saves: 1 changed tracked, 1 untracked file(s)" in text
        await pilot.press("enter")  # without force: refused by core
        await wait_for(pilot, lambda: events_of(app, "worktree.remove.failed"), what="refusal")
        assert "uncommitted" in notes(app)
        assert not events_of(app, "ui.error")  # core already logged it
        await pilot.press("x", "f", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("auth-refactor") is None)
        assert git(demo, "rev-parse", "--verify", "refs/worklanes/archive/auth-refactor/1").strip()
        await wait_for(pilot, lambda: "saved under refs/worklanes/archive/auth-refactor"
                       in notes(app), what="where the work went")
        assert app.tasks_pane.tasks_by_id[1]["status"] == "in_progress"  # not completed: not asked


async def test_x_asks_core_for_the_lane_as_it_is_now(demo):
    """A lane that became dirty after the last status read (no watcher, no timer here)
    still gets Force and the list of what would be saved."""
    async with running(demo, watch=False) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        await wait_for(pilot, lambda: "ui-login" in app.lane_table.statuses, what="status")
        assert app.lane_table.statuses["ui-login"].dirty == 0
        lane = Path(app.ws.lanes.get("ui-login")["path"])
        (lane / "draft.txt").write_text("written just now\n")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RemoveLaneScreen), what="dialog")
        assert app.screen.query("#force")
        assert "saves: 1 untracked file(s): draft.txt" in screen_text(app)
        await pilot.press("f", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("ui-login") is None, what="removed")
        assert git(demo, "show", "refs/worklanes/archive/ui-login/1:draft.txt") == "written just now\n"


async def test_d_shows_the_diff_scrollable(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.done,
                       what="diff view")
        text = screen_text(app)
        assert "+def hash_password(pw):" in text and "?? notes.txt" in text
        await pilot.press("end")
        await pilot.press("escape")
        assert not isinstance(app.screen, DiffScreen)


async def test_bang_runs_a_command_in_the_lane_and_shows_output(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await pilot.press("exclamation_mark")
        assert isinstance(app.screen, CommandScreen)
        await pilot.press(*"git status --short", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done,
                       what="output")
        text = screen_text(app)
        assert "?? notes.txt" in text and "exit 0" in text
        await pilot.press("escape")
        await pilot.press("exclamation_mark")
        app.screen.query_one("#command").value = "echo oops; exit 3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done)
        assert "exit 3" in screen_text(app)
        await pilot.press("escape")
        runs = events_of(app, "worktree.run")
        assert runs[-1]["exit_code"] == 3


async def test_bang_end_reaches_the_end_of_long_output(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await pilot.press("exclamation_mark", *"seq 1 3000", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done,
                       what="output")
        assert not re.search(r"│3000\s", screen_text(app))
        await pilot.press("end")
        await wait_for(pilot, lambda: re.search(r"│3000\s", screen_text(app)), what="the last line")
        await pilot.press("home")
        await wait_for(pilot, lambda: re.search(r"│1\s", screen_text(app)), what="the first line")


async def test_bang_esc_cancels_a_running_command(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        await pilot.press("exclamation_mark", *"sleep 30", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: events_of(app, "worktree.run")[-1]["command"] == "sleep 30",
                       timeout=10, what="cancelled run event")
        assert events_of(app, "worktree.run")[-1]["exit_code"] is None


async def test_bang_output_streams_while_the_command_runs(demo, tmp_path):
    """The first line is on screen while the command still runs (it waits for a file
    the test creates only after seeing that line)."""
    go = tmp_path / "go"
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        command = f"echo first line; while [ ! -e {go} ]; do sleep 0.05; done; echo second line"
        await pilot.press("exclamation_mark", *command, "enter")
        def lines() -> list[str]:
            return list(app.screen.query_one("#output").lines)
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen)
                       and "first line" in lines(), what="first line, streamed")
        assert not app.screen.done and "second line" not in lines()
        go.touch()
        await wait_for(pilot, lambda: app.screen.done, what="the end")
        assert lines().count("first line") == 1 and "second line" in lines()  # once each
        assert "second line" in screen_text(app)


async def test_o_opens_a_shell_in_the_lane(demo):
    opened: list[Path] = []
    async with running(demo, shell_runner=lambda path: opened.append(path) or 0) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        await pilot.press("o")
        assert opened == [demo / ".worktrees" / "ui-login"]


async def test_o_without_a_terminal_to_suspend_says_so(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "ui-login")
        await pilot.press("o")
        await wait_for(pilot, lambda: events_of(app, "ui.error"), what="ui.error")
        assert "shell" in events_of(app, "ui.error")[-1]["what"]


async def test_r_reconciles_and_fixes_a_lane_deleted_by_hand(demo):
    async with running(demo) as (pilot, app):
        await pilot.press("r")
        await wait_for(pilot, lambda: "agree" in notes(app))
        shutil.rmtree(demo / ".worktrees" / "ui-login")
        # A command in a lane whose folder is gone: the output view says why, not a hang.
        await select_lane(pilot, app, "ui-login")
        await pilot.press("exclamation_mark", "l", "s", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done)
        await pilot.pause()
        text = screen_text(app)
        assert "did not start" in text, text
        said = "\n".join(app.screen.query_one("#output").lines)
        assert "press r (reconcile)" in said and "--fix" not in said  # the app's own words
        await pilot.press("escape")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReconcileScreen), what="findings")
        assert "missing" in screen_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.lane_table.cells_of("ui-login") is None, what="fixed")
        assert app.ws.lanes.get("ui-login")["status"] == "removed"
        assert re.search(r"Reconcile fixed (\d+) of \1 finding", notes(app))   # all of them


async def test_tab_and_shift_tab_move_between_panes(demo):
    async with running(demo) as (pilot, app):
        seen = [app.main.current_pane()]
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.main.current_pane())
        assert seen == ["tasks", "lanes", "events", "chat", "tasks"]
        await pilot.press("shift+tab")
        assert app.main.current_pane() == "chat"
        await pilot.press("shift+tab")
        assert app.main.current_pane() == "events"


async def test_z_zooms_the_focused_pane_and_esc_restores(demo):
    async with running(demo, size=(80, 24)) as (pilot, app):
        await pilot.press("tab", "z")
        assert app.main.zoomed == "lanes"
        lines = screen_text(app).splitlines()
        # What is drawn: the header on top, the key bar at the bottom, and between them
        # the lanes pane's frame from the first column to the last, with no other pane.
        assert "worklanes" in lines[0]
        assert "? Help" in lines[-1] and "q Quit" in lines[-1]
        assert lines[1].startswith("╭") and lines[1].rstrip().endswith("╮")
        assert "Lanes 2" in lines[1] and len(lines[1].rstrip()) == 80
        assert lines[-2].startswith("╰") and len(lines[-2].rstrip()) == 80
        text = "\n".join(lines)
        assert "Tasks" not in text and "Events" not in text and "╱" not in text
        assert "auth-refactor" in text and "Last commit" in text  # columns the grid cut
        await pilot.press("z")
        assert app.main.zoomed is None
        assert "Tasks" in screen_text(app)
        await pilot.press("z", "escape")
        assert app.main.zoomed is None


async def test_zoomed_events_show_long_lines_whole(repo):
    ws = Workspace.open(repo)
    ws.events.emit("ui.error", error="x" * 40 + " the end of a long line")
    async with running(repo, size=(120, 24)) as (pilot, app):
        await pilot.press("tab", "tab")
        assert app.main.current_pane() == "events"
        assert "the end of a long line" not in screen_text(app)
        await pilot.press("z")
        assert "the end of a long line" in screen_text(app)


async def test_question_mark_shows_every_key(demo):
    # The list is longer than the screen: what is not in view is reached by scrolling.
    async with running(demo, size=(120, 44)) as (pilot, app):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        await pilot.press("end")
        await pilot.pause()
        text += screen_text(app)
        from tui.keys import KEYS
        for spec in KEYS:
            assert spec.id in text, spec.id
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits(repo):
    async with running(repo) as (pilot, app):
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code is not None


async def test_keys_can_be_remapped_by_binding_id(repo):
    async with running(repo, keymap={"task.new": "a", "app.quit": "ctrl+x"}) as (pilot, app):
        await pilot.press("n")
        assert not any(q.display for q in app.screen.query(QuickAdd))
        await pilot.press("a")
        assert app.screen.query_one(QuickAdd).display
        await pilot.press("escape", "question_mark")
        assert re.search(r"\ba\s+New task", screen_text(app))


def user_config(tmp_path, monkeypatch, text: str) -> None:
    cfg = tmp_path / "cfg" / "worklanes"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(text)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))


async def test_user_keymap_file_is_read(repo, tmp_path, monkeypatch):
    user_config(tmp_path, monkeypatch, '[keys]\n"task.new" = "plus"\n')
    async with running(repo, user_keymap=True) as (pilot, app):
        await pilot.press("plus")
        assert app.screen.query_one(QuickAdd).display


async def test_bad_remaps_are_reported_once_at_start_and_change_nothing(repo, tmp_path, monkeypatch):
    user_config(tmp_path, monkeypatch, '[keys]\n"task.new" = "s"\n"no.such" = "x"\n')
    async with running(repo, user_keymap=True) as (pilot, app):
        text = notes(app)
        assert text.count("clashes with task.status") == 1 and "'no.such'" in text
        assert "s Status" in screen_text(app).splitlines()[-1]   # the clash took nothing away
        await pilot.press("s")
        assert not any(q.display for q in app.screen.query(QuickAdd))


def palette_top(app) -> str:
    from textual.command import CommandList

    found = app.screen.query(CommandList)
    if not found or not found.first().option_count:
        return ""
    return str(found.first().get_option_at_index(0).prompt)


async def test_command_palette_runs_actions(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await pilot.press("ctrl+p", *"keep lane")
        # The palette searches in the background: wait for its best match.
        await wait_for(pilot, lambda: palette_top(app).startswith("Lane: Keep"),
                       what="the palette's match")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.ws.lanes.get("auth-refactor")["status"] == "kept"
                       and events_of(app, "worktree.keep")[-1]["worktree"]["name"]
                       == "auth-refactor", what="kept via palette")


async def test_the_palette_lists_only_the_apps_commands(demo):
    async with running(demo) as (pilot, app):
        await pilot.press("ctrl+p", *"maximize")
        await pilot.pause(0.3)
        assert not palette_top(app).startswith("Maximize")
        await pilot.press(*["backspace"] * 8, *"zoom")
        await wait_for(pilot, lambda: palette_top(app).startswith("App: Zoom"), what="zoom")


async def test_an_empty_board_says_how_to_start(repo):
    async with running(repo, size=(80, 24)) as (pilot, app):
        assert "n adds a task" in screen_text(app)
        await pilot.press("n", *"First", "enter")
        await wait_for(pilot, lambda: "n adds a task" not in screen_text(app), what="hint gone")


async def test_an_unchecked_box_looks_empty(demo):
    async with running(demo) as (pilot, app):
        await select_lane(pilot, app, "auth-refactor")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, RemoveLaneScreen), what="dialog")
        assert "▐ ▌ Complete task" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "▐X▌ Complete task" in screen_text(app), what="checked")


async def test_mouse_selects_rows_and_focuses_panes(demo):
    async with running(demo) as (pilot, app):
        await wait_for(pilot, lambda: app.lane_table.row_count == 2)
        # The pane's top border is line 0, the header line 1, auth-refactor line 2,
        # ui-login line 3.
        await pilot.click("#lanes", offset=(3, 3))
        await pilot.pause()
        assert app.main.current_pane() == "lanes"
        assert app.lane_table.selected_key == "ui-login"
        await pilot.click("#events")
        assert app.main.current_pane() == "events"


async def test_opens_from_inside_a_lane(demo):
    app = create_app(demo / ".worktrees" / "auth-refactor", **fixed_options())
    assert app.ws.root == demo
    async with running(demo / ".worktrees" / "auth-refactor") as (pilot, app):
        # The header names the branch of the checkout it was opened from.
        await wait_for(pilot, lambda: "⎇ wt/auth-refactor" in screen_text(app).splitlines()[0],
                       what="the lane's branch in the header")
    async with running(demo) as (pilot, app):
        await wait_for(pilot, lambda: "⎇ main" in screen_text(app).splitlines()[0],
                       what="the main checkout's branch")


def test_outside_a_repo_is_a_clear_one_line_error(tmp_path):
    from core.errors import NotARepoError
    from tui.app import run_app

    with pytest.raises(NotARepoError) as info:
        run_app(tmp_path)
    assert "not inside a git repository" in str(info.value) and "\n" not in str(info.value)


async def test_corrupt_task_file_is_shown_on_the_board(repo):
    ws = Workspace.open(repo)
    ws.tasks.create("Fine")
    (repo / ".tasks" / "task_2.json").write_text("{not json")
    async with running(repo) as (pilot, app):
        text = screen_text(app)
        assert "corrupt file" in text and "1 corrupt" in text
        await select_task(pilot, app, 2)
        await pilot.press("s", "e")  # acting on it is refused, saying why
        await pilot.pause()
        assert notes(app).count("task_2.json is corrupt") == 2 and "Select a task" not in notes(app)
        assert (repo / ".tasks" / "task_2.json").read_text() == "{not json"


async def test_corrupt_lane_index_is_reported_once(repo):
    (repo / ".worktrees").mkdir(exist_ok=True)
    (repo / ".worktrees" / "index.json").write_text("[1, 2")
    async with running(repo) as (pilot, app):
        errors = [n for n in notes(app).splitlines() if "index.json" in n]
        assert len(errors) == 1
        assert "corrupt" in (app.main.pane("lanes").border_subtitle or "")


def test_make_demo_repo_builds_the_story(tmp_path):
    root = make_demo_repo(tmp_path / "d", epoch=FIXED_EPOCH)
    ws = Workspace.open(root)
    tasks = {t["id"]: t for t in ws.tasks.list().tasks}
    assert len(tasks) == 6 and tasks[3]["status"] == "completed"
    lanes = {lane["name"]: lane["status"] for lane in ws.lanes.list()}
    assert lanes == {"auth-refactor": "active", "ui-login": "kept", "docs": "removed"}
    status = {s.name: s for s in ws.lanes.statuses()}
    assert status["auth-refactor"].dirty == 2 and status["auth-refactor"].ahead == 1
    assert [e["ts"] for e in ws.events.tail(3)] == sorted(e["ts"] for e in ws.events.tail(3))
    with pytest.raises(Exception):
        make_demo_repo(root)  # not empty


def test_every_key_has_its_action_on_its_owner():
    """keys.py names who carries out each action; the app delivers it there."""
    from tui.app import WorklanesApp
    from tui.panes.chat import ChatPane
    from tui.panes.lanes import LanesPane
    from tui.panes.tasks import TasksPane
    from tui.screens.main import MainScreen
    from tui.keys import KEYS, owner_of

    owners = {"app": WorklanesApp, "screen": MainScreen, "tasks": TasksPane,
              "lanes": LanesPane, "chat": ChatPane}
    for spec in KEYS:
        name = spec.action.split("(")[0]
        assert owner_of(name) == spec.action_owner
        assert callable(getattr(owners[spec.action_owner], f"action_{name}", None)), spec.id
