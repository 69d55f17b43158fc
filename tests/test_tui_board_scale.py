"""A big board: the first frame reads only the rows on screen (and the blockers they
name), the rest loads in a worker after it, and the table fills in place. Changes made
while it loads are not lost, keys work meanwhile, a corrupt file among thousands is a row.

The rest of the load is held at a gate (after it has read a chosen task) so the tests
see the app mid-load for as long as they need, without timing anything."""

from __future__ import annotations

import json
import threading
import time

from core.tasks import TaskBoard
from core.workspace import Workspace
from tui.state import BoardCache
from tests.tui_helpers import notes, wait_for
from tui.messages import TasksLoaded

N = 10_000
SIZE = (120, 36)


def write_board(ws: Workspace, n: int = N) -> None:
    """The seed's format written directly (creating 10,000 tasks through core would
    fsync and lock each one). Task 3 waits on a late pending task, task 4 on a late
    completed one, task 6 on an early one."""
    now = time.time()
    for i in range(1, n + 1):
        blocked = {3: [n - 1], 4: [n - 2], 6: [1]}.get(i, [])
        status = "completed" if i == n - 2 else "in_progress" if i == 1 else "pending"
        task = {"id": i, "subject": f"Task {i}", "description": f"about {i}", "status": status,
                "owner": "ann" if i % 2 else "", "worktree": "", "blockedBy": blocked,
                "blocks": [], "created_at": now, "updated_at": now}
        (ws.tasks_dir / f"task_{i}.json").write_text(json.dumps(task))


class Gate:
    """Holds the board's full read after it has read task ``at``, until opened."""

    def __init__(self, monkeypatch, at: int):
        self.reached, self.opened = threading.Event(), threading.Event()
        real = TaskBoard.read

        def read(board, ids):
            for tid, item in real(board, ids):
                yield tid, item
                if tid == at:
                    self.reached.set()
                    self.opened.wait(20)
        monkeypatch.setattr(TaskBoard, "read", read)

    def open(self) -> None:
        self.opened.set()


def rewrite(ws: Workspace, tid: int, **changes) -> None:
    path = ws.tasks_dir / f"task_{tid}.json"
    task = json.loads(path.read_text())
    task.update(changes, updated_at=time.time())
    path.write_text(json.dumps(task))


def app_on(repo, **options):
    from tests.tui_helpers import fixed_options
    from tui.app import create_app
    return create_app(repo, **fixed_options(**options))


def loaded(app) -> bool:
    return app.task_table.row_count == N and not app.tasks_pane.partial


async def test_first_frame_shows_the_first_rows_then_the_whole_board(repo, monkeypatch):
    ws = Workspace.open(repo)
    write_board(ws)
    gate = Gate(monkeypatch, at=N // 2)
    posted: list = []
    app = app_on(repo)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await wait_for(pilot, lambda: app.first_full_paint is not None, what="first paint")
        table = app.task_table
        # No more rows read than the terminal has lines, and the first are there.
        assert 0 < table.row_count <= SIZE[1]
        assert table.keys[:3] == ["1", "2", "3"] and table.selected_key == "1"
        assert app.tasks_pane.partial
        # Drawn, not covered by Textual's loading indicator: the pane's widget there is
        # the table, and the frame shows the first rows.
        x, y = app.tasks_pane.region.offset
        assert app.tasks_pane.region.height > 3
        assert app.main.get_widget_at(x + 3, y + 2)[0] is table
        assert "Task 1" in app.export_screenshot().replace("&#160;", " ")
        # Their marks are true: the blockers they name were read (and only those).
        assert table.cells_of("3")[5] == (N - 1,) and table.cells_of("3")[-1] is False
        assert table.cells_of("4")[5] == () and table.cells_of("4")[-1] is True
        assert table.cells_of("6")[5] == (1,)
        assert str(N - 1) not in table.keys
        assert app.tasks_pane.border_title == "Tasks · loading…"
        await wait_for(pilot, gate.reached.is_set, what="the rest being read")
        assert app.tasks_pane.partial
        gate.open()
        await wait_for(pilot, lambda: loaded(app), what="the whole board")
        assert table.keys[-1] == str(N) and table.selected_key == "1"
        ready = N - 3 - 1   # not 1 (in progress), 3 (blocked), N-2 (completed); 6 is blocked
        assert app.tasks_pane.border_title == f"Tasks {N} · {ready} ready"
        assert app.tasks_pane.tasks_by_id[N]["subject"] == f"Task {N}"
        # The rest came as one message from the worker, the first rows were not posted.
        assert [m.partial for m in posted if isinstance(m, TasksLoaded)][-1] is False


async def test_changes_during_the_load_are_not_lost(repo, monkeypatch):
    """A task the full read already passed (so it holds the old version) and one it has
    not reached are changed on disk while it runs; both end up as on disk."""
    ws = Workspace.open(repo)
    write_board(ws)
    gate = Gate(monkeypatch, at=6000)
    app = app_on(repo, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, gate.reached.is_set, what="the read past task 5000")
        rewrite(ws, 5000, subject="Changed behind the read", status="completed")
        rewrite(ws, 8000, subject="Changed ahead of the read")
        rewrite(ws, 2, subject="Changed on screen")
        table = app.task_table
        # The watcher shows them at once, the board still loading.
        await wait_for(pilot, lambda: (table.cells_of("5000") or (0, 0, ""))[2]
                       == "Changed behind the read", what="5000 from the watcher")
        await wait_for(pilot, lambda: table.cells_of("2")[2] == "Changed on screen")
        assert app.tasks_pane.partial
        gate.open()
        await wait_for(pilot, lambda: loaded(app), what="the whole board")
        assert table.cells_of("5000")[1:3] == ("completed", "Changed behind the read")
        await wait_for(pilot, lambda: table.cells_of("8000")[2] == "Changed ahead of the read")
        assert table.cells_of("2")[2] == "Changed on screen"


async def test_keys_and_actions_work_while_the_board_loads(repo, monkeypatch):
    ws = Workspace.open(repo)
    write_board(ws)
    gate = Gate(monkeypatch, at=100)
    app = app_on(repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, gate.reached.is_set, what="the rest being read")
        table = app.task_table
        table.focus()
        await pilot.press("down", "down", "end")
        shown = table.row_count
        assert table.selected_key == table.keys[-1] and shown < N
        await pilot.press("home", "down")
        assert table.selected_key == "2"
        await pilot.press("s")   # pending -> in_progress, written by core
        await wait_for(pilot, lambda: ws.tasks.get(2)["status"] == "in_progress", what="s")
        await wait_for(pilot, lambda: table.cells_of("2")[1] == "in_progress", what="row 2")
        # e opens the whole task, read from its file (the board keeps no descriptions).
        await pilot.press("e")
        from tui.screens.dialogs import EditTaskScreen
        await wait_for(pilot, lambda: isinstance(app.screen, EditTaskScreen), what="edit")
        assert app.screen.task_data["description"] == "about 2"
        await pilot.press("escape")
        await pilot.press("down", "down", "down")
        assert table.selected_key == "5"
        gate.open()
        await wait_for(pilot, lambda: loaded(app), what="the whole board")
        # The cursor stayed on its row as the rest arrived, and the change is kept.
        assert table.selected_key == "5" and table.cells_of("2")[1] == "in_progress"
        await pilot.press("end")
        assert table.selected_key == str(N)


async def test_a_corrupt_file_among_thousands_is_a_row_not_a_traceback(repo):
    ws = Workspace.open(repo)
    write_board(ws)
    (ws.tasks_dir / "task_7.json").write_text("{not json")       # on screen
    (ws.tasks_dir / "task_6543.json").write_text('{"id": 12}')   # further down
    app = app_on(repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.first_full_paint is not None, what="first paint")
        assert app.task_table.cells_of("7")[1] == "corrupt"
        await wait_for(pilot, lambda: app.task_table.row_count == N
                       and not app.tasks_pane.partial, what="the whole board")
        table = app.task_table
        assert table.cells_of("6543")[1] == "corrupt"
        assert "file name says 6543" in table.cells_of("6543")[2]
        assert app.tasks_pane.border_title.endswith("· 2 corrupt")
        assert "Traceback" not in notes(app) and "Error" not in notes(app)
        assert (ws.tasks_dir / "task_7.json").read_text() == "{not json"   # left as it was


def _files(ws, ids, **fields):
    for i in ids:
        (ws.tasks_dir / f"task_{i}.json").write_text(json.dumps(
            {"id": i, "subject": f"t{i}", "status": "pending", **fields}))


def test_a_first_read_marks_its_rows_from_the_blockers_they_name(ws):
    _files(ws, range(1, 301))
    _files(ws, [2], blockedBy=[250])
    _files(ws, [250], status="completed")
    _files(ws, [3], blockedBy=[260, 1])
    (ws.tasks_dir / "task_4.json").write_text("{broken")
    cache = BoardCache(ws)
    snap = cache.load_first(20)
    assert snap.partial and list(snap.tasks) == [i for i in range(1, 21) if i != 4]
    assert list(snap.errors) == [4]
    assert set(snap.blockers) == {250, 260}     # read for the marks, not shown as rows
    assert cache.load_all().partial is False
    assert len(cache.load_all().tasks) == 299
    for i in range(11, 301):
        (ws.tasks_dir / f"task_{i}.json").unlink()
    small = BoardCache(ws).load_first(20, whole=1000)   # fewer than the rows: all of it
    assert small.partial is False and len(small.tasks) + len(small.errors) == 10


def test_overlapping_full_reads_keep_what_was_re_read_during_them(ws, monkeypatch):
    """The periodic pass can start while a big board's first full read still runs: a
    file the watcher re-read meanwhile is not put back to what either read saw first."""
    _files(ws, range(1, 401))
    gate = Gate(monkeypatch, at=300)
    cache = BoardCache(ws)
    cache.load_first(10)
    first = threading.Thread(target=cache.load_all)
    first.start()
    assert gate.reached.wait(10)          # the first read is past task 300, held
    gate.reached.clear()
    second = threading.Thread(target=cache.load_all)
    second.start()
    assert gate.reached.wait(10)          # the second one too
    rewrite(ws, 5, subject="changed while both read")
    cache.reload([5])                     # what the watcher does
    gate.open()
    first.join(10)
    second.join(10)
    assert cache.reload([]).tasks[5].subject == "changed while both read"
    assert len(cache.reload([]).tasks) == 400 and not cache.partial
