"""The task board: the seed's format, dependencies, locking, corrupt files."""

from __future__ import annotations

import json

import pytest

from core.errors import CorruptFileError, InvalidInputError, NotFoundError
from core.tasks import is_ready


def test_create_writes_seed_fields(ws):
    t = ws.tasks.create("Backend auth", "token refresh")
    data = json.loads((ws.root / ".tasks" / "task_1.json").read_text())
    assert data == t
    for key in ("id", "subject", "description", "status", "owner", "worktree", "blockedBy",
                "created_at", "updated_at"):
        assert key in data
    assert data["status"] == "pending" and data["worktree"] == "" and data["id"] == 1


def test_ids_are_sequential_and_never_reused_while_files_exist(ws):
    ids = [ws.tasks.create(f"t{i}")["id"] for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]


def test_update_fields_and_status_validation(ws):
    ws.tasks.create("a")
    t = ws.tasks.update(1, status="in_progress", owner="alice", subject="A!", description="d")
    assert (t["status"], t["owner"], t["subject"], t["description"]) == ("in_progress", "alice", "A!", "d")
    assert ws.tasks.get(1) == t
    with pytest.raises(InvalidInputError, match="unknown status 'done'"):
        ws.tasks.update(1, status="done")
    with pytest.raises(InvalidInputError, match="subject cannot be empty"):
        ws.tasks.update(1, subject="  ")
    with pytest.raises(NotFoundError, match="task 9 does not exist"):
        ws.tasks.update(9, status="completed")


def test_list_filters(ws):
    ws.tasks.create("a", owner="alice")
    ws.tasks.create("b")
    ws.tasks.create("c", blocked_by=[1])
    ws.tasks.update(2, status="in_progress")
    assert [t["id"] for t in ws.tasks.list(status="in_progress").tasks] == [2]
    assert [t["id"] for t in ws.tasks.list(owner="alice").tasks] == [1]
    assert [t["id"] for t in ws.tasks.list(ready=True).tasks] == [1]


def test_dependencies_mirror_cycles_and_release(ws):
    for s in "abc":
        ws.tasks.create(s)
    ws.tasks.block(2, by=1)
    ws.tasks.block(3, by=2)
    assert ws.tasks.get(1)["blocks"] == [2]
    assert ws.tasks.get(3)["blockedBy"] == [2]
    with pytest.raises(InvalidInputError, match="cycle"):
        ws.tasks.block(1, by=3)
    with pytest.raises(InvalidInputError, match="cannot block itself"):
        ws.tasks.block(1, by=1)
    assert [t["id"] for t in ws.tasks.list(ready=True).tasks] == [1]
    ws.tasks.update(1, status="completed")
    assert ws.tasks.get(2)["blockedBy"] == []
    assert [t["id"] for t in ws.tasks.list(ready=True).tasks] == [2]
    ws.tasks.unblock(3, by=2)
    assert ws.tasks.get(3)["blockedBy"] == [] and ws.tasks.get(2)["blocks"] == []
    with pytest.raises(InvalidInputError, match="not blocked by"):
        ws.tasks.unblock(3, by=2)


def test_ready_ignores_blockers_completed_by_other_writers():
    by_id = {1: {"id": 1, "status": "completed"}, 2: {"id": 2, "status": "pending", "blockedBy": [1]}}
    assert is_ready(by_id[2], by_id)


def test_corrupt_file_is_reported_untouched_and_board_still_works(ws):
    ws.tasks.create("good")
    bad = ws.root / ".tasks" / "task_2.json"
    bad.write_text('{"id": 2, "subject": ')
    empty = ws.root / ".tasks" / "task_3.json"
    empty.write_text("")
    listing = ws.tasks.list()
    assert [t["id"] for t in listing.tasks] == [1]
    assert sorted(e.path.name for e in listing.errors) == ["task_2.json", "task_3.json"]
    assert "empty file" in str([e for e in listing.errors if e.path == empty][0])
    with pytest.raises(CorruptFileError, match="task_2.json cannot be parsed"):
        ws.tasks.update(2, status="completed")
    assert bad.read_text() == '{"id": 2, "subject": '
    assert empty.read_text() == ""
    t = ws.tasks.create("after")  # ids skip past the corrupt files, never overwrite them
    assert t["id"] == 4
    assert bad.read_text() == '{"id": 2, "subject": '


def test_events_for_task_changes(ws):
    ws.tasks.create("a")
    ws.tasks.update(1, status="completed")
    names = [e["event"] for e in ws.events.tail(10)]
    assert names == ["task.created", "task.updated", "task.completed"]


def mirror_agrees(ws) -> bool:
    """Every open blockedBy edge has its blocks twin and the other way round."""
    tasks = {t["id"]: t for t in ws.tasks.list().tasks}
    edges = {(t["id"], b) for t in tasks.values() for b in t["blockedBy"]}
    twins = {(d, t["id"]) for t in tasks.values() for d in t["blocks"]}
    return edges == twins


def test_completing_releases_and_reopening_restores_dependents(ws):
    for s in "abcd":
        ws.tasks.create(s)
    ws.tasks.set_blockers(4, [1])
    ws.tasks.set_blockers(3, [1])
    ws.tasks.update(3, status="completed")
    statuses = []
    for _ in range(3):   # s, s, s: in_progress, completed, pending
        statuses.append(ws.tasks.cycle_status(1)["status"])
        assert mirror_agrees(ws), statuses
    assert statuses == ["in_progress", "completed", "pending"]
    one = ws.tasks.get(1)
    # 4 (still open) waits on 1 again; 3 was completed meanwhile and stays released.
    assert ws.tasks.get(4)["blockedBy"] == [1] and one["blocks"] == [4]
    assert "released" not in one
    assert [t["id"] for t in ws.tasks.list(ready=True).tasks] == [1, 2]


def test_reopening_skips_a_dependent_that_would_now_make_a_cycle(ws):
    for s in "abc":
        ws.tasks.create(s)
    ws.tasks.block(2, by=1)
    ws.tasks.block(1, by=3)
    ws.tasks.update(1, status="completed")     # releases 2
    ws.tasks.block(3, by=2)                    # 1 -> 3 -> 2: 2 waiting on 1 is a cycle now
    ws.tasks.update(1, status="pending")
    assert ws.tasks.get(2)["blockedBy"] == [] and ws.tasks.get(1)["blocks"] == []
    assert mirror_agrees(ws)


def test_set_blockers_is_all_or_nothing(ws):
    for s in "abc":
        ws.tasks.create(s)
    ws.tasks.block(2, by=1)
    before = {t["id"]: t for t in ws.tasks.list().tasks}
    for target, ids, why in ((1, [3, 99], "task 99 does not exist"),
                             (3, [1, 3], "cannot block itself"), (1, [3, 2], "cycle")):
        with pytest.raises((InvalidInputError, NotFoundError), match=why):
            ws.tasks.set_blockers(target, ids)
        assert {t["id"]: t for t in ws.tasks.list().tasks} == before, why
    task, touched = ws.tasks.set_blockers(3, [1, 2])
    assert task["blockedBy"] == [1, 2] and touched == [1, 2]
    task, touched = ws.tasks.set_blockers(3, [2])
    assert touched == [1] and ws.tasks.get(1)["blocks"] == [2] and mirror_agrees(ws)
    assert ws.tasks.set_blockers(3, [2]) == (ws.tasks.get(3), [])   # nothing to change


def test_completed_tasks_neither_wait_nor_are_waited_on(ws):
    for s in "ab":
        ws.tasks.create(s)
    ws.tasks.update(1, status="completed")
    with pytest.raises(InvalidInputError, match="task 1 is completed; reopen it"):
        ws.tasks.block(1, by=2)
    with pytest.raises(InvalidInputError, match="task 1 is completed, so task 2 cannot wait"):
        ws.tasks.set_blockers(2, [1])
    assert ws.tasks.get(1)["blockedBy"] == [] and ws.tasks.get(2)["blockedBy"] == []


def _files(ws, ids, **fields):
    for i in ids:
        (ws.tasks_dir / f"task_{i}.json").write_text(json.dumps(
            {"id": i, "subject": f"t{i}", "status": "pending", **fields}))


def test_the_first_tasks_of_a_board_without_reading_the_rest(ws):
    """A big board's first rows: opened in id order when the ids are dense, found from
    the names (sorted by length, then by name) when they are not."""
    _files(ws, range(1, 121))
    (ws.tasks_dir / "task_0007.json").write_text("{}")     # not a name core writes
    (ws.tasks_dir / "notes.txt").write_text("x")
    first = ws.tasks.read_first(10)
    assert [tid for tid, _ in first] == list(range(1, 11))
    assert first[2][1]["subject"] == "t3"
    assert ws.tasks.first_ids(12) == list(range(1, 13))
    sparse = [3, 9, 10, 99, 100, 101, 1000, 20000]
    for i in range(1, 121):
        (ws.tasks_dir / f"task_{i}.json").unlink()
    _files(ws, sparse)
    assert ws.tasks.read_first(5) is None        # too many gaps: only the listing can tell
    assert ws.tasks.first_ids(5) == [3, 9, 10, 99, 100]
    assert ws.tasks.first_ids(50) == sparse
    assert ws.tasks.ids() == sparse
