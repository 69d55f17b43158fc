"""How rows, events and tool calls are put into words (pure functions, no app)."""

from __future__ import annotations

import datetime

from rich.text import Text

from tui import format as fmt
from tui.keys import KEYS, bindings, key_display
from core.agent.events import brief_output
from tui.widgets.chat_items import input_summary

UTC = datetime.timezone.utc


def test_task_cells_ready_blocked_and_completed():
    tasks = {1: {"id": 1, "status": "in_progress", "subject": "a"},
             2: {"id": 2, "status": "pending", "subject": "b", "blockedBy": [1]},
             3: {"id": 3, "status": "pending", "subject": "c", "blockedBy": [4]},
             4: {"id": 4, "status": "completed", "subject": "d"}}
    cells = {tid: fmt.task_cells(t, tasks) for tid, t in tasks.items()}
    assert cells[2][5] == (1,) and cells[2][6] is False          # blocked, says by what
    assert cells[3][5] == () and cells[3][6] is True             # its blocker is done
    row = fmt.render_task(cells[3])
    assert fmt.cell_text(row[3]) == "ready"  # right after the subject
    assert fmt.cell_text(fmt.render_task(cells[2])[3]) == "#1"
    long = {"id": 9, "subject": "x" * 200}
    assert len(fmt.task_cells(long, {9: long})[2]) == fmt.SUBJECT_WIDTH


def test_event_lines_and_their_colours():
    ev = {"event": "worktree.remove.failed", "ts": 0, "task": {"id": 3},
          "worktree": {"name": "ui"}, "error": "dirty"}
    line = fmt.event_line(ev, UTC)
    assert line.startswith("00:00:00 worktree.remove.failed #3 lane ui !! dirty")
    text = Text(line)
    fmt.EventHighlighter().highlight(text)
    assert any("red" in str(span.style) for span in text.spans)
    bad = fmt.event_line({"event": "parse_error", "raw": "{oops"}, UTC)
    assert "unparsable line: {oops" in bad
    run = fmt.event_line({"event": "worktree.run", "ts": 60, "worktree": {"name": "l"},
                          "command": "make", "exit_code": 2}, UTC)
    assert "$ make -> exit 2" in run
    assert "\n" not in fmt.event_line({"event": "x", "ts": 0, "error": "a\nb"}, UTC)


def test_ago_and_clock_time():
    assert fmt.ago(100, 100 + 59) == "59s"
    assert fmt.ago(0, 5) == ""
    assert fmt.ago(100, 100 + 3 * 86400) == "3d"
    assert fmt.clock_time("nope", UTC) == "--:--:--"


def test_tool_call_summaries():
    assert input_summary("worktree_run", {"name": "auth", "command": "git status"}) == \
        "[auth] git status"
    assert input_summary("task_create", {"subject": "Write\ndocs"}) == "Write docs"
    assert brief_output("") == "(no output)"
    assert brief_output("one\ntwo\nthree") == "one  (+2 more lines)"
    task = '{\n  "id": 3,\n  "subject": "Add a health endpoint",\n  "status": "pending"\n}'
    assert brief_output(task) == "#3 Add a health endpoint [pending]"
    lane = '{"name": "auth", "branch": "wt/auth", "status": "kept", "path": "/x"}'
    assert brief_output(lane) == "lane auth [kept] on wt/auth"
    assert brief_output('[1, 2]') == "[1,2]"
    assert brief_output("x" * 100, limit=10) == "x" * 9 + "…"


def test_every_key_has_a_unique_id_and_a_binding():
    ids = [k.id for k in KEYS]
    assert len(ids) == len(set(ids))
    bound = {b.id for pane in ("tasks", "lanes", "global") for b in bindings(pane)}
    assert bound == set(ids)
    assert key_display("slash,c") == "/ or c"
