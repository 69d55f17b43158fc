"""Core benchmarks, each next to its floor measured in the same run.

    python tests/bench/bench_core.py [--only task-list]

Printed, never asserted: timings belong here, not in the unit tests.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.workspace import Workspace  # noqa: E402
from tests.bench.common import compiled_env, make_repo, run_peak, table, timeit  # noqa: E402


def bench_lane_create(tmp: Path, n: int = 15) -> tuple[float, float]:
    repo = make_repo(tmp / "lanes", files=200)
    ws = Workspace.open(repo)
    raw_dir = tmp / "raw"

    def raw(i):
        subprocess.run(["git", "worktree", "add", "-q", "-b", f"raw/{i}", str(raw_dir / str(i)), "HEAD"],
                       cwd=repo, check=True, capture_output=True)

    def ours(i):
        ws.lanes.create(f"lane{i}")

    # Interleave so both see the same disk and cache conditions.
    t_raw, t_ours = [], []
    for i in range(n):
        t0 = time.perf_counter(); raw(i); t_raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); ours(i); t_ours.append(time.perf_counter() - t0)
    t_raw.sort(); t_ours.sort()
    return t_ours[n // 2], t_raw[n // 2]


def write_board(repo: Path, count: int) -> Path:
    """``count`` task files as core writes them (every tenth waits on the one before)."""
    Workspace.open(repo)
    tasks = repo / ".tasks"
    now = time.time()
    for i in range(1, count + 1):
        (tasks / f"task_{i}.json").write_text(json.dumps({
            "id": i, "subject": f"task {i}", "description": "", "status": "pending", "owner": "",
            "worktree": "", "blockedBy": [i - 1] if i % 10 == 0 else [], "blocks": [],
            "created_at": now, "updated_at": now}, indent=2))
    return tasks


def bench_task_list(tmp: Path, count: int = 10_000) -> tuple[float, float]:
    repo = make_repo(tmp / "board", files=1)
    ws = Workspace.open(repo)
    tasks = write_board(repo, count)

    def bare():
        out = []
        for name in os.listdir(tasks):
            if name.startswith("task_") and name.endswith(".json"):
                with open(tasks / name, "rb") as fh:
                    out.append(json.loads(fh.read()))
        return out

    def ours():
        listing = ws.tasks.list()
        assert len(listing.tasks) == count

    bare()  # warm the page cache for both
    return timeit(ours, 5), timeit(bare, 5)


# The floor of `worklanes task list`: read and parse every task file, print a line each.
BARE_LIST = r"""
import json, os, sys
folder = sys.argv[1]
for name in os.listdir(folder):
    if name.startswith("task_") and name.endswith(".json"):
        with open(os.path.join(folder, name), "rb") as fh:
            t = json.loads(fh.read())
        print(f"#{t['id']}: {t['subject']}")
"""


def bench_task_list_process(tmp: Path, count: int = 50_000, runs: int = 3) -> dict:
    """`worklanes task list` in a process of its own, against the bare loop in one, both
    from compiled bytecode, interleaved: wall time and peak RSS of each."""
    repo = make_repo(tmp / "board-50k", files=1)
    tasks = write_board(repo, count)
    env = compiled_env(tmp / "pycache", PYTHONPATH=str(ROOT))
    ours_cmd = [sys.executable, "-m", "tui", "task", "list"]
    bare_cmd = [sys.executable, "-c", BARE_LIST, str(tasks)]
    for _ in range(2):   # the bytecode cache and the page cache, for both
        run_peak(ours_cmd, repo, env)
        run_peak(bare_cmd, repo, env)
    ours, bare = [], []
    for _ in range(runs):
        ours.append(run_peak(ours_cmd, repo, env))
        bare.append(run_peak(bare_cmd, repo, env))
    med = statistics.median
    return {"time": med(t for t, _ in ours), "rss": med(m for _, m in ours),
            "bare_time": med(t for t, _ in bare), "bare_rss": med(m for _, m in bare)}


def bench_event_tail(tmp: Path, lines: int = 1_000_000) -> tuple[float, float]:
    path = tmp / "events.jsonl"
    line = json.dumps({"event": "worktree.run", "ts": 1.0, "task": {"id": 1},
                       "worktree": {"name": "x"}, "command": "pytest"}) + "\n"
    with open(path, "w") as fh:
        fh.write(line * lines)
    from core.events import EventLog
    log = EventLog(path)

    def ours():
        assert len(log.tail(20)) == 20

    def whole():
        with open(path, "rb") as fh:
            rows = fh.read().splitlines()
        return [json.loads(r) for r in rows[-20:]]

    whole()
    return timeit(ours, 20), timeit(whole, 3)


def main() -> None:
    only_list = sys.argv[1:] == ["--only", "task-list"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = []
        if not only_list:
            ours, floor = bench_lane_create(tmp)
            rows.append(("lane create vs git worktree add (200 files)", ours, floor, "<= 1.15x"))
            ours, floor = bench_task_list(tmp)
            rows.append(("task list, 10,000 tasks vs bare json parse", ours, floor, "<= 1.5x"))
            ours, floor = bench_event_tail(tmp)
            rows.append(("last 20 of 1,000,000 events vs read whole", ours, floor, "< 20 ms"))
        big = bench_task_list_process(tmp)
        rows.append(("`worklanes task list`, 50,000 tasks vs bare loop", big["time"],
                     big["bare_time"], "<= 1.2x"))
    print(table(rows))
    print(f"`worklanes task list`, 50,000 tasks, peak RSS: {big['rss']:.0f} MiB; bare loop "
          f"{big['bare_rss']:.0f} MiB: {big['rss'] / big['bare_rss']:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
