"""The one wording of tasks, lanes, events and removal outcomes (CLI, tools and TUI)."""

from __future__ import annotations

import datetime

from core import present


def test_ago_and_its_cli_spelling():
    assert present.ago(100, 100 + 59) == "59s"
    assert present.ago(100, 100 + 2 * 3600 + 5, " ago") == "2h ago"
    assert present.ago(None, 5, " ago", missing="-") == "-"


def test_task_line_shows_only_open_blockers():
    by_id = {1: {"id": 1, "status": "completed"}, 2: {"id": 2, "status": "pending"}}
    task = {"id": 3, "subject": "UI", "status": "in_progress", "owner": "ann",
            "worktree": "ui", "blockedBy": [1, 2]}
    assert present.task_line(task, by_id) == "[>] #3: UI  owner=ann  wt=ui  blocked by #2"


def test_event_line_is_the_same_for_every_reader():
    event = {"event": "worktree.remove.failed", "ts": 0, "task": {"id": 4},
             "worktree": {"name": "x"}, "error": "dirty"}
    line = present.event_line(event, datetime.timezone.utc)
    assert line.startswith("00:00:00 worktree.remove.failed ") and line.endswith("#4 lane x !! dirty")


def test_removal_note_says_where_the_work_went():
    entry = {"name": "auth", "branch": "wt/auth", "task_id": 1,
             "archive_ref": "refs/worklanes/archive/auth/1"}
    outcome = present.Removal.of(entry, completed=True)
    assert outcome.archive_ref == "refs/worklanes/archive/auth/1" and outcome.completed
    assert present.removal_note(outcome) == (
        "Removed lane auth and completed task #1; uncommitted work saved under "
        "refs/worklanes/archive/auth/1 (`worklanes wt restore auth` brings it back)")
    assert "(worktree_restore brings it back)" in present.removal_note(outcome, present.RESTORE_TOOL)
    clean = present.Removal.of({"name": "ui", "task_id": None}, completed=True)
    assert present.removal_note(clean) == "Removed lane ui"
