"""The event log: seed shape, one-write appends, tail from the end, a robust follower."""

from __future__ import annotations

import json
import os

from core.events import EventLog


def test_emit_shape_matches_seed(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.emit("worktree.create.failed", task={"id": 1}, worktree={"name": "x"}, error="boom")
    line = json.loads((tmp_path / "events.jsonl").read_text())
    assert set(line) == {"event", "ts", "task", "worktree", "error"}
    assert line["event"] == "worktree.create.failed" and line["error"] == "boom"


def test_tail_reads_only_the_end(tmp_path):
    path = tmp_path / "events.jsonl"
    with open(path, "w") as fh:
        for i in range(50_000):
            fh.write(json.dumps({"event": "e", "ts": i, "task": {}, "worktree": {}}) + "\n")
    log = EventLog(path)
    got = log.tail(20)
    assert [e["ts"] for e in got] == list(range(49_980, 50_000))
    assert log.tail(0) == []
    assert [e["ts"] for e in log.tail(100_000)][:2] == [0, 1]


def test_tail_reports_bad_lines_as_parse_errors(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "a", "ts": 1}\nnot json\n[1,2]\n{"event": "b", "ts": 2}\n')
    events = EventLog(path).tail(10)
    assert [e["event"] for e in events] == ["a", "parse_error", "parse_error", "b"]
    assert events[1]["raw"] == "not json"


def test_tail_of_missing_file(tmp_path):
    assert EventLog(tmp_path / "nope.jsonl").tail(5) == []


def test_follower_partial_lines_truncation_and_replacement(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.emit("old")
    f = log.follower(from_end=True)
    assert f.poll() == []
    log.emit("one")
    assert [e["event"] for e in f.poll()] == ["one"]
    # A writer caught half way: nothing until the newline arrives.
    with open(path, "a") as fh:
        fh.write('{"event": "two", "ts"')
    assert f.poll() == []
    with open(path, "a") as fh:
        fh.write(': 1}\nnot json\n')
    assert [e["event"] for e in f.poll()] == ["two", "parse_error"]
    # Truncation: start over from the top.
    path.write_text("")
    log.emit("after-truncate")
    assert [e["event"] for e in f.poll()] == ["after-truncate"]
    # Replacement (atomic rename over the file): a new inode, read it from the start.
    tmp = tmp_path / "new.jsonl"
    tmp.write_text('{"event": "r1", "ts": 1}\n{"event": "r2", "ts": 2}\n')
    os.replace(tmp, path)
    assert [e["event"] for e in f.poll()] == ["r1", "r2"]
    path.unlink()
    assert f.poll() == []
    log.emit("recreated")
    assert [e["event"] for e in f.poll()] == ["recreated"]


def test_follower_started_mid_line_skips_the_fragment(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "a", "ts": 1}\n{"event": "half')
    f = EventLog(path).follower(from_end=True)
    with open(path, "a") as fh:
        fh.write('", "ts": 2}\n{"event": "c", "ts": 3}\n')
    assert [e["event"] for e in f.poll()] == ["c"]


def test_follower_from_start(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    log.emit("a")
    log.emit("b")
    assert [e["event"] for e in log.follower(from_end=False).poll()] == ["a", "b"]
