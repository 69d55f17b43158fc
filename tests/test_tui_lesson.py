"""The five "try it" steps of the s12 lesson page, done in the app with keys only."""

from __future__ import annotations

from tui.screens.views import OutputScreen
from tests.tui_helpers import running, screen_text, wait_for


def tail_kinds(app) -> list[str]:
    return [ln.split()[1] for ln in app.event_tail.lines if len(ln.split()) > 1]


async def test_lesson_steps_with_keys_only(repo):
    async with running(repo) as (pilot, app):

        # 1. Create tasks for backend auth and the frontend login page; list them.
        await pilot.press("n", *"Backend auth", "enter")
        await wait_for(pilot, lambda: 1 in app.tasks_pane.tasks_by_id, what="task 1")
        await pilot.press("n", *"Frontend login page", "enter")
        await wait_for(pilot, lambda: 2 in app.tasks_pane.tasks_by_id, what="task 2")
        board = screen_text(app)
        assert "Backend auth" in board and "Frontend login page" in board

        # 2. Lane "auth-refactor" for task 1, then task 2 gets a new lane "ui-login".
        await pilot.press("up")  # the new task 2 is selected; task 1 is above it
        assert app.task_table.selected_task_id == 1
        await pilot.press("w", "ctrl+u", *"auth-refactor", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("auth-refactor"), what="lane 1")
        await pilot.press("down", "w", "ctrl+u", *"ui-login", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("ui-login"), what="lane 2")
        assert app.tasks_pane.tasks_by_id[1]["worktree"] == "auth-refactor"
        assert app.tasks_pane.tasks_by_id[2]["worktree"] == "ui-login"
        assert {t["status"] for t in app.tasks_pane.tasks_by_id.values()} == {"in_progress"}

        # 3. Run "git status --short" in lane auth-refactor (it is task 1's lane).
        await pilot.press("up", "exclamation_mark", "ctrl+u", *"git status --short", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, OutputScreen) and app.screen.done,
                       what="command output")
        assert "exit 0" in screen_text(app)
        await pilot.press("escape")

        # 4. Keep lane ui-login, then look at the lanes and the events.
        await pilot.press("tab")  # the lanes pane
        assert app.main.current_pane() == "lanes"
        await wait_for(pilot, lambda: app.lane_table.row_count == 2)
        while app.lane_table.selected_key != "ui-login":
            await pilot.press("down")
        await pilot.press("k")
        await wait_for(pilot, lambda: app.lane_table.cells_of("ui-login")[3] == "kept", what="kept")
        await wait_for(pilot, lambda: "worktree.keep" in tail_kinds(app), what="keep event")
        assert "worktree.run" in tail_kinds(app)

        # 5. Remove lane auth-refactor, completing its task; list tasks, lanes, events.
        await pilot.press("up")
        assert app.lane_table.selected_key == "auth-refactor"
        await pilot.press("x", "c", "enter")
        await wait_for(pilot, lambda: app.lane_table.cells_of("auth-refactor") is None,
                       what="lane removed")
        await wait_for(pilot, lambda: app.tasks_pane.tasks_by_id[1]["status"] == "completed", what="done")
        await wait_for(pilot, lambda: "worktree.remove.after" in tail_kinds(app), what="events")
        kinds = tail_kinds(app)
        assert "task.completed" in kinds
        text = screen_text(app)
        assert "ui-login" in text and "kept" in text
        assert app.ws.lanes.get("auth-refactor")["status"] == "removed"
