"""Many processes at once, and writers killed with SIGKILL: no lost or torn state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CREATE_100 = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from core.workspace import Workspace
    ws = Workspace.open({repo!r})
    for i in range(100):
        ws.tasks.create(f"p{{sys.argv[1]}}-{{i}}")
""")


def test_eight_processes_create_800_distinct_tasks(ws):
    script = CREATE_100.format(root=str(ROOT), repo=str(ws.root))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(8)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 8
    listing = ws.tasks.list()
    assert listing.errors == []
    ids = [t["id"] for t in listing.tasks]
    assert len(ids) == 800 and len(set(ids)) == 800 and set(ids) == set(range(1, 801))
    subjects = {t["subject"] for t in listing.tasks}
    assert subjects == {f"p{n}-{i}" for n in range(8) for i in range(100)}
    created = [e for e in ws.events.tail(2000) if e["event"] == "task.created"]
    assert len(created) == 800  # one whole line per event, none interleaved


SEEDLIKE = textwrap.dedent("""
    # The seed's TaskManager: next id from a scan at start-up, plain write_text.
    import json, sys, time
    from pathlib import Path
    d = Path({tasks!r})
    ids = [int(f.stem.split("_")[1]) for f in d.glob("task_*.json")]
    nxt = max(ids, default=0) + 1
    for i in range(100):
        (d / f"task_{{nxt}}.json").write_text(json.dumps({{"id": nxt, "subject": "s"}}))
        nxt += 1
""")


def test_the_seed_approach_loses_tasks_under_the_same_load(tmp_path):
    """The contrast that motivates the lock: the seed's allocator collides."""
    tasks = tmp_path / ".tasks"
    tasks.mkdir()
    script = SEEDLIKE.format(tasks=str(tasks))
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    assert len(list(tasks.glob("task_*.json"))) < 800


HAMMER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from core.workspace import Workspace
    ws = Workspace.open({repo!r})
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        ws.tasks.update(1, description="x" * (i % 5000), owner=str(i))
        ws.tasks.create(f"t{{i}}")
        if i % 7 == 0:
            ws.lanes.keep("k") if i % 2 else ws.lanes.update("k", status="active")
""")


def test_kill_9_never_leaves_a_partial_or_empty_file(ws):
    ws.tasks.create("target")
    ws.lanes.create("k")
    script = HAMMER.format(root=str(ROOT), repo=str(ws.root))
    for round_ in range(12):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.02 * round_)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        listing = ws.tasks.list()
        assert listing.errors == [], listing.errors
        json.loads((ws.root / ".worktrees" / "index.json").read_text())
        # Each event is one write() of a whole line, so even a kill leaves whole lines.
        assert all(e["event"] != "parse_error" for e in ws.events.tail(100_000))
    ids = [t["id"] for t in ws.tasks.list().tasks]
    assert len(ids) == len(set(ids)) and len(ids) > 12


HOLD_LOCK = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from core.fsutil import locked
    with locked({lock!r}):
        print("held", flush=True)
        sys.stdin.read()
""")


def test_a_lock_held_too_long_is_a_one_line_error(ws):
    import pytest

    from core.errors import ConflictError
    from core.fsutil import locked

    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK.format(
        root=str(ROOT), lock=str(ws.tasks.lock_path))], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConflictError) as info:
            with locked(ws.tasks.lock_path, timeout=0.2):
                raise AssertionError("got a lock another process holds")
        assert str(ws.tasks.lock_path) in str(info.value) and "retry" in str(info.value)
        assert "\n" not in str(info.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with locked(ws.tasks.lock_path, timeout=5):  # released with its holder
        pass
