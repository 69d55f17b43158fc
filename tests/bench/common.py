"""Shared bits for the benchmarks: a timer and the side-by-side table."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Callable


def timeit(fn: Callable[[], object], repeat: int = 5, setup: Callable[[int], object] | None = None) -> float:
    """Median seconds of ``repeat`` runs (setup, untimed, gets the run number)."""
    times = []
    for i in range(repeat):
        if setup:
            setup(i)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(rounds: int, runs: list[Callable[[], object]], warmup: int = 1) -> list[float]:
    """Median seconds of each of ``runs``, taken in turn round after round, so that the
    machine's load drifting over a run weighs on each alike; ``warmup`` rounds untimed."""
    times: list[list[float]] = [[] for _ in runs]
    for i in range(warmup + rounds):
        for fn, into in zip(runs, times):
            t0 = time.perf_counter()
            fn()
            if i >= warmup:
                into.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def table(rows: list[tuple[str, float, float, str]]) -> str:
    """rows: (what, worklanes seconds, floor seconds, target)."""
    head = f"{'benchmark':<44} {'worklanes':>11} {'floor':>11} {'ratio':>7}  target"
    lines = [head, "-" * len(head)]
    for what, ours, floor, target in rows:
        ratio = f"{ours / floor:6.2f}x" if floor else "     - "
        fl = f"{floor * 1000:9.2f}ms" if floor else "         - "
        lines.append(f"{what:<44} {ours * 1000:9.2f}ms {fl} {ratio}  {target}")
    return "\n".join(lines)


def make_repo(path: Path, files: int = 50) -> Path:
    path.mkdir(parents=True)
    env_git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    for i in range(files):
        (path / f"file_{i}.txt").write_text(f"line {i}\n" * 20)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run([*env_git, "commit", "-qm", "init"], cwd=path, check=True)
    return path


def compiled_env(pycache: Path, **extra: str) -> dict[str, str]:
    """An environment where Python runs from compiled bytecode, as an installed package
    does (pip compiles it; an editable checkout compiles on first import). A private
    cache directory keeps that true even where PYTHONDONTWRITEBYTECODE is set, and writes
    nothing into the checkout; a warm-up run fills it."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache), **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_peak(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Run a process (its output thrown away): wall seconds and its peak RSS in MiB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 2):
        raise SystemExit(f"{args} failed with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024
