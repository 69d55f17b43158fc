"""TUI benchmarks, each next to its floor measured in the same run.

    python tests/bench/bench_tui.py [--runs 15] [--tasks 1000] [--lanes 20] [--events 1000000]

1. Startup to the first full paint (board, lanes and event tail drawn) on a board of
   1,000 tasks, 20 lanes and a 1,000,000-line event log, in a fresh process, against a
   bare Textual app (one DataTable) in a fresh process. Target: <= 1.5x the bare app.
   Also checks that the anthropic SDK was not imported before that paint.
2. Append-to-screen latency of single events written by another thread (p50/p95),
   against the floor: watchfiles with the same debounce/step, no UI.
3. A burst of 10,000 events appended by another process: time until the last one is on
   screen, and the longest stall of the UI loop meanwhile (a 10 ms timer's worst gap),
   against the floor: EventFollower.poll() parsing the same lines.
4. With --scale 10000,50000: first paint on boards of that many tasks (20 lanes, 10,000
   events), the app's memory (RSS) once the whole board is loaded and how long that took,
   against the bare Textual app's first paint and RSS. Targets: first paint <= 1.3x the
   bare app at 10,000 tasks, <= 1.5x at 50,000; RSS <= 60 MiB at 10,000.

Timings are wall-clock on this machine; the ratio to the floor is the number to watch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.common import compiled_env  # noqa: E402

GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_NOSYSTEM": "1"}


# -- fixture --------------------------------------------------------------------------

def make_big_repo(base: Path, n_tasks: int, n_lanes: int, n_events: int) -> Path:
    from core.workspace import Workspace

    root = base / "big"
    root.mkdir(parents=True)
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    (root / "README.md").write_text("# big\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True, env=env)
    ws = Workspace.open(root)
    now = time.time()
    # The seed's file format, written directly: a thousand locked, fsynced creates
    # would only make the fixture slow, not the app.
    for i in range(1, n_tasks + 1):
        task = {"id": i, "subject": f"Task {i}: do the thing number {i}", "description": "",
                "status": ("pending", "in_progress", "completed")[i % 3], "owner": "",
                "worktree": "", "blockedBy": [i - 1] if i % 7 == 0 else [], "blocks": [],
                "created_at": now, "updated_at": now}
        (ws.tasks_dir / f"task_{i}.json").write_text(json.dumps(task))
    for i in range(n_lanes):
        ws.lanes.create(f"lane-{i:02d}", task_id=i + 1)
        (Path(ws.lanes.get(f"lane-{i:02d}")["path"]) / "dirty.txt").write_text("x")
    line = json.dumps({"event": "task.updated", "ts": now, "task": {"id": 1, "subject": "x"},
                       "worktree": {}, "changes": {"owner": "bench"}}) + "\n"
    with open(ws.events.path, "a", encoding="utf-8") as fh:
        chunk = line * 10_000
        for _ in range(n_events // 10_000):
            fh.write(chunk)
    return root


# -- 1. startup ---------------------------------------------------------------------------

CHILD_OURS = r"""
import sys, time
t0 = float(sys.argv[1])
from pathlib import Path
from tui.app import create_app
def painted():
    elapsed = time.time() - t0
    print(f"{elapsed:.4f} {int('anthropic' in sys.modules)} {app.task_table.row_count}",
          flush=True)
    app.exit()
app = create_app(Path(sys.argv[2]), user_keymap=False, on_first_paint=painted)
app.run(headless=True, size=(120, 36))
"""

# The scale run: the first paint, then (polled) the whole board loaded, with the RSS of both.
CHILD_SCALE = r"""
import sys, time
t0 = float(sys.argv[1])
want = int(sys.argv[3])
from pathlib import Path
from tui.app import create_app
def rss():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024
out = []
def loaded():
    if app.task_table.row_count >= want and "loading" not in str(app.tasks_pane.border_title):
        out.append(f"{time.time() - t0:.4f} {rss():.1f}")
        print(" ".join(out), flush=True)
        app.exit()
def painted():
    out.append(f"{time.time() - t0:.4f} {app.task_table.row_count} {rss():.1f}")
    app.set_interval(0.02, loaded)
app = create_app(Path(sys.argv[2]), user_keymap=False, on_first_paint=painted)
app.run(headless=True, size=(120, 36))
"""

CHILD_BARE = r"""
import sys, time
t0 = float(sys.argv[1])
from textual.app import App
from textual.widgets import DataTable, Footer
class Bare(App):
    def compose(self):
        yield DataTable()
        yield Footer()
    def on_mount(self):
        self.call_after_refresh(self.done)
    def done(self):
        with open("/proc/self/status") as fh:
            rss = next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024
        print(f"{time.time() - t0:.4f} 0 0 {rss:.1f}", flush=True)
        self.exit()
Bare().run(headless=True, size=(120, 36))
"""


def child_env(pycache: Path) -> dict[str, str]:
    """Both apps run from compiled bytecode (tests/bench/common.compiled_env)."""
    return compiled_env(pycache, ANTHROPIC_API_KEY="")


CHILD_ENV: dict[str, str] = {}


def spawn_raw(code: str, *args: str) -> list[str]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code, repr(t0), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env=CHILD_ENV or {**os.environ, "ANTHROPIC_API_KEY": ""})
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(f"child failed:\n{out.stderr[-2000:]}")
    return out.stdout.split()


def spawn(code: str, *args: str) -> tuple[float, int, int]:
    elapsed, anthropic, rows = spawn_raw(code, *args)[:3]
    return float(elapsed), int(anthropic), int(rows)


def bench_scale(base: Path, sizes: list[int], runs: int) -> list[tuple[str, str, str, str]]:
    """Also the app on an empty repository, in the same runs: what the app costs before
    any board, against which the board's own cost shows."""
    empty = make_big_repo(base / "scale-empty", 0, 0, 0)
    rows = []
    for n in sizes:
        root = make_big_repo(base / f"scale-{n}", n, 20, 10_000)
        for _ in range(2):   # the bytecode and the OS caches, for both
            spawn_raw(CHILD_BARE)
            spawn_raw(CHILD_SCALE, str(root), str(n))
        bare, bare_rss, paint, shown, load, rss, blank = [], [], [], 0, [], [], []
        for _ in range(runs):
            b = spawn_raw(CHILD_BARE)
            bare.append(float(b[0]))
            bare_rss.append(float(b[3]))
            blank.append(spawn(CHILD_OURS, str(empty))[0])
            t_paint, shown, _paint_rss, t_load, t_rss = spawn_raw(CHILD_SCALE, str(root), str(n))
            paint.append(float(t_paint))
            load.append(float(t_load))
            rss.append(float(t_rss))
        med = statistics.median
        target = "1.3x" if n <= 10_000 else "1.5x"
        rows.append((f"first paint, {n:,} tasks ({shown} rows drawn)", f"{med(paint) * 1000:.0f} ms",
                     f"{med(bare) * 1000:.0f} ms (bare Textual app)",
                     f"{med(paint) / med(bare):.2f}x (target <= {target})"))
        rows.append(("  the same app, empty repository", f"{med(blank) * 1000:.0f} ms",
                     f"{med(bare) * 1000:.0f} ms", f"{med(blank) / med(bare):.2f}x"))
        rows.append(("  whole board loaded / RSS then", f"{med(load) * 1000:.0f} ms, {med(rss):.0f} MiB",
                     f"bare app RSS {med(bare_rss):.0f} MiB",
                     f"{med(rss) / med(bare_rss):.2f}x" + (" (target <= 60 MiB)" if n <= 10_000 else "")))
    return rows


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("measure", "worklanes", "floor", "ratio")
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def bench_startup(root: Path, empty: Path, runs: int) -> dict:
    ours, bare, layout, leaked, rows = [], [], [], 0, 0
    for _ in range(2):  # fill the bytecode cache, warm the OS caches for all three
        spawn(CHILD_BARE)
        spawn(CHILD_OURS, str(root))
        spawn(CHILD_OURS, str(empty))
    for _ in range(runs):
        bare.append(spawn(CHILD_BARE)[0])
        layout.append(spawn(CHILD_OURS, str(empty))[0])
        t, a, rows = spawn(CHILD_OURS, str(root))
        ours.append(t)
        leaked += a
    return {"ours": statistics.median(ours), "bare": statistics.median(bare),
            "layout": statistics.median(layout), "anthropic_before_paint": leaked, "rows": rows}


# -- 2. latency and 3. burst, in one app ---------------------------------------------------

async def bench_live(root: Path, n_single: int) -> dict:
    from tui.app import create_app

    app = create_app(root, agent=False, user_keymap=False, status_interval=0)
    painted: dict[int, float] = {}
    stalls: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        while app.first_full_paint is None:
            await pilot.pause(0.01)
        tail = app.event_tail
        original = tail.add_events

        def add_events(events, initial=False):
            original(events, initial=initial)
            seen = [e.get("seq") for e in events if isinstance(e.get("seq"), int)]
            if seen:
                app.call_after_refresh(lambda: painted.update({s: time.perf_counter() for s in seen}))
        tail.add_events = add_events

        # 2. single appends, one at a time
        written: dict[int, float] = {}
        for seq in range(n_single):
            written[seq] = time.perf_counter()
            app.ws.events.emit("bench.single", seq=seq)
            deadline = time.perf_counter() + 5
            while seq not in painted and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            await asyncio.sleep(0.03)
        latencies = sorted((painted[s] - written[s]) * 1000 for s in written if s in painted)

        # 3. burst from another process, while a 10 ms timer measures loop stalls
        last = [time.perf_counter()]

        def tick():
            now = time.perf_counter()
            stalls.append(now - last[0])
            last[0] = now
        timer = app.set_interval(0.01, tick)
        code = ("import sys; from core.events import EventLog; log = EventLog(sys.argv[1]);\n"
                "for i in range(10000): log.emit('bench.burst', seq=100000 + i)")
        painted.clear()
        stalls.clear()
        last[0] = time.perf_counter()
        t0 = time.perf_counter()
        writer = subprocess.Popen([sys.executable, "-c", code, str(app.ws.events.path)], cwd=ROOT)
        deadline = time.perf_counter() + 60
        while 109_999 not in painted and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
        ingest = (painted.get(109_999, float("nan")) - t0) * 1000
        writer.wait()
        written_at = time.perf_counter()
        timer.stop()
        ok = 109_999 in painted and tail.line_count <= tail.max_lines
    return {"latencies": latencies, "ingest_ms": ingest, "stall_ms": max(stalls) * 1000,
            "writer_ms": (written_at - t0) * 1000, "bounded": ok}


def floor_watch_latency(base: Path, n: int) -> list[float]:
    from watchfiles import watch

    d = base / "floor-watch"
    d.mkdir()
    path = d / "events.jsonl"
    path.write_text("")
    stop = threading.Event()
    seen: list[float] = []

    def run():
        for _ in watch(d, debounce=50, step=20, stop_event=stop, recursive=False,
                       watch_filter=None, rust_timeout=200):
            seen.append(time.perf_counter())
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)
    out = []
    for _ in range(n):
        before = len(seen)
        t = time.perf_counter()
        with open(path, "a") as fh:
            fh.write("{}\n")
        deadline = time.perf_counter() + 5
        while len(seen) == before and time.perf_counter() < deadline:
            time.sleep(0.001)
        if len(seen) > before:
            out.append((seen[-1] - t) * 1000)
        time.sleep(0.03)
    stop.set()
    return sorted(out)


def floor_parse_burst(base: Path) -> float:
    from core.events import EventLog

    log = EventLog(base / "floor-burst.jsonl")
    follower = log.follower(from_end=True)
    for i in range(10_000):
        log.emit("bench.burst", seq=i)
    t = time.perf_counter()
    events = follower.poll()
    assert len(events) == 10_000
    return (time.perf_counter() - t) * 1000


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15,
                        help="runs of each app, taken in turn (ratios swing by 0.2-0.4x on a "
                             "busy 2-core machine with 5)")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--lanes", type=int, default=20)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--singles", type=int, default=40)
    parser.add_argument("--scale", default="", help="only the board at scale: task counts, e.g. 10000,50000")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="worklanes-bench-"))
    if args.scale:
        try:
            CHILD_ENV.update(child_env(base / "pycache"))
            print_rows(bench_scale(base, [int(n) for n in args.scale.split(",")], args.runs))
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    try:
        t = time.perf_counter()
        root = make_big_repo(base, args.tasks, args.lanes, args.events)
        print(f"fixture: {args.tasks} tasks, {args.lanes} lanes, {args.events:,} events "
              f"({(root / '.worktrees' / 'events.jsonl').stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t:.1f}s\n")
        empty = make_big_repo(base / "empty", 0, 0, 0)
        CHILD_ENV.update(child_env(base / "pycache"))
        start = bench_startup(root, empty, args.runs)
        live = asyncio.run(bench_live(root, args.singles))
        floor_lat = floor_watch_latency(base, args.singles)
        floor_burst = floor_parse_burst(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    lat = live["latencies"]
    rows = [
        ("startup to first full paint", f"{start['ours'] * 1000:.0f} ms",
         f"{start['bare'] * 1000:.0f} ms (bare Textual app)",
         f"{start['ours'] / start['bare']:.2f}x (target <= 1.5x)"),
        ("  the same app on an empty repository", f"{start['layout'] * 1000:.0f} ms",
         f"{start['bare'] * 1000:.0f} ms (bare Textual app)", f"{start['layout'] / start['bare']:.2f}x"),
        ("  tasks on the board / anthropic imported before paint", f"{start['rows']}",
         "", "ok" if not start["anthropic_before_paint"] else "LEAKED"),
        ("append-to-screen latency p50", f"{pct(lat, 50):.0f} ms",
         f"{pct(floor_lat, 50):.0f} ms (watchfiles alone)", f"+{pct(lat, 50) - pct(floor_lat, 50):.0f} ms"),
        ("append-to-screen latency p95", f"{pct(lat, 95):.0f} ms",
         f"{pct(floor_lat, 95):.0f} ms (watchfiles alone)", f"+{pct(lat, 95) - pct(floor_lat, 95):.0f} ms"),
        ("10,000-event burst: last event on screen", f"{live['ingest_ms']:.0f} ms",
         f"{live['writer_ms']:.0f} ms (writer process) / {floor_burst:.0f} ms (parse)",
         "bounded" if live["bounded"] else "NOT BOUNDED"),
        ("10,000-event burst: longest UI stall", f"{live['stall_ms']:.0f} ms", "10 ms (timer period)", ""),
    ]
    print_rows(rows)


if __name__ == "__main__":
    main()
