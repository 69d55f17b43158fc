"""Shared bits for the benchmarks: a timer and the side-by-side table."""

from __future__ import annotations

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
