"""Live lane status and the slow paths, on a generated repository of realistic size,
each next to its floor measured in the same run.

    python tests/bench/bench_live.py [--files 3000] [--lanes 20] [--idle 20] [--only cli]

1. A file changed in a lane -> the new dirty count on screen (the app's lanes pane),
   against one lane's bare `git status` (the least any refresh must do).
2. The app idle with the lanes watched, CPU over --idle seconds, against a bare Textual
   app idle the same way.
3. A burst of 500 files written in one lane: how many status reads it cost and when the
   count was on screen.
4. A status refresh of every lane in-process (cold, then after one edit) and
   `wt list --json` (nothing moved; and cold, its commit-id cache deleted first),
   against `status` + `rev-list` per lane run in parallel.
5. `wt diff` of a lane with 500 changed files, against `git diff --merge-base` +
   `git ls-files --others` (what it shows), `git diff main...` (commits only), and a bare
   `python -c` that runs the same two git commands (what any Python command pays); and
   the same diff by the full command line (`-C`), as it runs when the workspace has
   something to recover or report.
6. `worklanes task list` on an empty board, against `python -c "import click"` (both
   from compiled bytecode, as an installed package runs).

7. A very large diff (60 lines added to each of the 3,000 files, ~5 MB): the app's diff
   view to its first screen and to its end, and `wt diff` to its first bytes, against
   the time git takes to write its first bytes and the whole diff.
`wt list` and `wt diff` run from compiled bytecode, as an installed package does; `wt
diff` is also set against its two git commands side by side, as it runs them.

Printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.common import compiled_env, interleaved, timeit  # noqa: E402
from tests.bench.genrepo import add_lanes, make_big_repo, tracked_files  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def sh(args, cwd, env=None) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, env=env or ENV)


def both(cwd, *commands) -> None:
    """Commands side by side, as `wt diff` runs its two."""
    procs = [subprocess.Popen(c, cwd=cwd, stdout=subprocess.PIPE) for c in commands]
    for proc in procs:
        proc.communicate()


def first_bytes(args, cwd, env=None) -> tuple[float, float]:
    """Seconds until a process writes its first bytes, and until it ends (output read
    and thrown away as it comes)."""
    t = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, env=env or ENV)
    first = None
    while chunk := os.read(proc.stdout.fileno(), 1 << 16):
        first = first if first is not None else time.perf_counter() - t
    proc.wait()
    return first or 0.0, time.perf_counter() - t


def git_first_bytes(cwd, args) -> tuple[float, float]:
    runs = [first_bytes(args, cwd) for _ in range(5)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def huge_diff_rows(root, name, lane, wt_diff, env, raw_diff) -> list:
    for rel in tracked_files(lane):
        with open(lane / rel, "a") as fh:
            fh.write("# very large diff\n" * 60)
    first_git, whole_git = git_first_bytes(lane, raw_diff)
    first_cli = statistics.median(first_bytes(wt_diff, root, env)[0] for _ in range(5))
    view = asyncio.run(bench_diff_view(root, name))
    return [("diff view, very large diff: first screen", view["first"], first_git,
             "git's first bytes"),
            ("  the view to its end (20,000 lines kept)", view["done"], whole_git,
             "git's whole diff"),
            ("  wt diff to its first bytes", first_cli, first_git, "git's first bytes")]


async def bench_diff_view(root: Path, name: str) -> dict:
    """The app's diff view on a very large diff: key press to the first screen in the
    view's log (painted on the next frame), and to the end (median of 3). Neither
    ``pilot.press()`` nor ``pilot.pause()``: each waits for the process to go idle (up
    to a second), which it is not while the view's thread reads the diff, so a press
    returned only when the whole diff was in and "first screen" measured the end."""
    from tui.app import create_app
    from tui.screens.views import DiffScreen

    firsts, dones = [], []
    app = create_app(root, agent=False, user_keymap=False, status_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.first_full_paint is None:
            await pilot.pause(0.02)
        app.lane_table.focus()
        while not app.lane_table.select_key(name) or len(app.lane_table.statuses) < 2:
            await pilot.pause(0.02)
        await asyncio.sleep(2.0)   # the first status refresh is over
        for _ in range(3):
            t = time.perf_counter()
            app.simulate_key("d")
            while not (isinstance(app.screen, DiffScreen) and app.screen.shown):
                await asyncio.sleep(0.001)
            firsts.append(time.perf_counter() - t)
            while not app.screen.done:
                await asyncio.sleep(0.001)
            dones.append(time.perf_counter() - t)
            await pilot.press("escape")
            await pilot.pause()
    return {"first": statistics.median(firsts), "done": statistics.median(dones)}


def cpu_seconds() -> float:
    return time.process_time()  # every thread of this process, user + system


async def bench_app(root: Path, lanes: list[str], idle: float) -> dict:
    from tui.app import create_app

    app = create_app(root, agent=False, user_keymap=False, status_interval=0)
    out: dict = {}
    async with app.run_test(size=(120, 36)) as pilot:
        while app.first_full_paint is None or app.lane_watcher is None \
                or not app.lane_watcher.watching.is_set():
            await pilot.pause(0.02)
        pane = app.lane_table
        while len(pane.statuses) < len(lanes):
            await pilot.pause(0.02)
        await asyncio.sleep(1.0)
        # 1. edits, one lane at a time, each until its count is drawn
        latencies = []
        for i, name in enumerate(lanes[:15]):
            before = pane.statuses[name].dirty
            path = Path(app.ws.lanes.get(name)["path"])
            t = time.perf_counter()
            (path / f"live_{i}.txt").write_text("x\n")
            while pane.statuses[name].dirty == before and time.perf_counter() - t < 10:
                await asyncio.sleep(0.002)
            await pilot.pause()  # drawn
            latencies.append(time.perf_counter() - t)
            await asyncio.sleep(0.15)
        out["latencies"] = sorted(latencies)
        # 2. idle
        await asyncio.sleep(1.0)
        c0, t0 = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(idle)
        out["idle_cpu"] = (cpu_seconds() - c0) / (time.perf_counter() - t0)
        # 3. a 500-file burst in one lane
        name = lanes[-1]
        path = Path(app.ws.lanes.get(name)["path"])
        before = pane.statuses[name].dirty
        reads = [0]
        original = pane._load_statuses

        def counting(*args, **kwargs):
            reads[0] += 1
            return original(*args, **kwargs)
        pane._load_statuses = counting
        t = time.perf_counter()
        (path / "burst").mkdir()
        for i in range(500):
            (path / "burst" / f"f{i}.txt").write_text("y\n")
        while pane.statuses[name].dirty < before + 500 and time.perf_counter() - t < 30:
            await asyncio.sleep(0.005)
        out["burst_ms"] = (time.perf_counter() - t) * 1000
        await asyncio.sleep(0.5)
        out["burst_reads"] = reads[0]
    return out


async def bare_idle(idle: float) -> float:
    from textual.app import App
    from textual.widgets import DataTable, Footer

    class Bare(App):
        def compose(self):
            yield DataTable()
            yield Footer()

    app = Bare()
    async with app.run_test(size=(120, 36)):
        await asyncio.sleep(1.0)
        c0, t0 = cpu_seconds(), time.perf_counter()
        await asyncio.sleep(idle)
        return (cpu_seconds() - c0) / (time.perf_counter() - t0)


# The floors' git status does what a background refresh must (``--no-optional-locks``:
# never take a lane's index lock under a user's or an agent's git). A plain one writes
# the index back, and every status after it in the run (ours too) then measured a lane
# whose index git had refreshed: 1.6x faster on these lanes than as they came.
STATUS = ["git", "--no-optional-locks", "status", "--porcelain=v2", "--branch"]


def floor_status(paths: list[Path]) -> float:
    return timeit(lambda: sh(STATUS, paths[0]), 7)


def floor_parallel(paths: list[Path], base: str = "main") -> float:
    def one(p):
        subprocess.run([*STATUS, "--untracked-files=all"],
                       cwd=p, capture_output=True)
        subprocess.run(["git", "rev-list", "--left-right", "--count", f"{base}...HEAD"],
                       cwd=p, capture_output=True)

    def once():
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, paths))
    return timeit(once, 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--lanes", type=int, default=20)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--only", choices=["cli"],
                        help="cli: only the command-line rows (4-6: status refresh, wt list, "
                             "wt diff, task list), without the app's and the very large diff's")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="worklanes-bench-live-"))
    try:
        from core.workspace import Workspace

        t = time.perf_counter()
        root = make_big_repo(base / "repo", files=args.files)
        ws = Workspace.open(root)
        names = add_lanes(ws, args.lanes)
        paths = [Path(ws.lanes.get(n)["path"]) for n in names]
        print(f"fixture: {len(tracked_files(root))} files, {args.lanes} lanes "
              f"in {time.perf_counter() - t:.1f}s\n")
        rows = []

        # 4. status refresh and wt list
        lanes = ws.lanes.list()
        fresh = Workspace.open(root)
        t = time.perf_counter()
        fresh.lanes.statuses(lanes)
        cold = time.perf_counter() - t
        (paths[0] / "warm.txt").write_text("w\n")
        warm = timeit(lambda: fresh.lanes.statuses(lanes), 5)
        floor = floor_parallel(paths)
        rows.append((f"status refresh, {args.lanes} lanes, cold", cold, floor, "status+rev-list/lane"))
        rows.append((f"status refresh, {args.lanes} lanes, warm", warm, floor, ""))
        cli = [sys.executable, "-m", "tui"]
        pyc = compiled_env(base / "pycache", PYTHONPATH=str(ROOT))
        sh([*cli, "wt", "list", "--json"], root, pyc)   # fills the bytecode and commit caches
        wl_list = timeit(lambda: sh([*cli, "wt", "list", "--json"], root, pyc), 7)
        from core.oidcache import cache_path
        wl_cold = timeit(lambda: sh([*cli, "wt", "list", "--json"], root, pyc), 5,
                         setup=lambda i: cache_path(root).unlink(missing_ok=True))
        rows.append((f"wt list --json, {args.lanes} lanes", wl_list, floor, "<= 1.5x"))
        rows.append(("  the same, commit-id cache deleted", wl_cold, floor, ""))

        # 5. wt diff of a lane with 500 changed files
        big = paths[1]
        for rel in tracked_files(big)[:500]:
            with open(big / rel, "a") as fh:
                fh.write("# bench edit\n")
        raw_diff = ["git", "diff", "--merge-base", "main", "--stat", "--patch"]
        raw_list = ["git", "ls-files", "--others", "--exclude-standard"]
        # The least any Python command can take for the same output: the interpreter
        # starting and running the two git commands itself, nothing imported for them.
        bare_py = [sys.executable, "-c",
                   f"import subprocess as s, sys; s.run(sys.argv[1:{len(raw_diff) + 1}]); "
                   f"s.run(sys.argv[{len(raw_diff) + 1}:])",
                   *raw_diff, *raw_list]
        diff, needed, beside, commits_only, py_floor, full = interleaved(11, [
            lambda: sh([*cli, "wt", "diff", names[1]], root, pyc),
            lambda: (sh(raw_diff, big), sh(raw_list, big)),
            lambda: both(big, raw_diff, raw_list),
            lambda: sh(["git", "diff", "main..."], big),
            lambda: sh(bare_py, big, pyc),
            lambda: sh([*cli, "-C", str(root), "wt", "diff", names[1]], root, pyc)])
        rows.append(("wt diff, 500 changed files", diff, needed, "diff+ls-files raw, ~1.2x"))
        rows.append(("  against the two side by side", diff, beside, ""))
        rows.append(("  against git diff main... (commits only)", diff, commits_only, ""))
        rows.append(("  against python running the two itself", diff, py_floor,
                     "the floor of any Python command"))
        rows.append(("  the full command line (-C)", full, needed, ""))

        # 6. task list on an empty board, both from compiled bytecode (as installed)
        empty = make_big_repo(base / "empty", files=1)
        ours_cmd = [sys.executable, "-m", "tui", "task", "list"]
        click_cmd = [sys.executable, "-c", "import click"]
        tl, click_floor = interleaved(11, [lambda: sh(ours_cmd, empty, pyc),
                                           lambda: sh(click_cmd, empty, pyc)],
                                      warmup=2)   # the first runs fill the bytecode cache
        rows.append(("task list, empty board", tl, click_floor,
                     "<= 1.5x python -c 'import click'"))

        if args.only == "cli":
            print(table(rows))
            return

        # 1-3. in the app
        live = asyncio.run(bench_app(root, names, args.idle))
        bare = asyncio.run(bare_idle(args.idle))
        st_floor = floor_status(paths)
        lat = live["latencies"]
        rows.insert(0, ("lane edit -> on screen, median", statistics.median(lat), st_floor,
                        "one lane's git status; target ~300 ms"))
        rows.insert(1, ("lane edit -> on screen, max", max(lat), st_floor, ""))

        # 7. a very large diff, streamed (last: it makes that lane slow to read)
        rows += huge_diff_rows(root, names[2], paths[2], [*cli, "wt", "diff", names[2]], pyc,
                               raw_diff)
        print(table(rows))
        print(f"\nidle CPU with {args.lanes} lanes watched: {live['idle_cpu'] * 100:.2f}% of a core "
              f"(bare Textual app: {bare * 100:.2f}%; target <= 1%)")
        print(f"500-file burst in one lane: on screen in {live['burst_ms']:.0f} ms, "
              f"{live['burst_reads']} status read(s)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def table(rows) -> str:
    head = f"{'what':<44} {'worklanes':>10} {'floor':>10} {'ratio':>7}  floor is"
    lines = [head, "-" * len(head)]
    for what, ours, floor, note in rows:
        lines.append(f"{what:<44} {ours * 1000:8.1f}ms {floor * 1000:8.1f}ms "
                     f"{ours / floor:6.2f}x  {note}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
