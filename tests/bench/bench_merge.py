"""The merge forecast, next to bare ``git merge-tree`` measured in the same run.

    python tests/bench/bench_merge.py

A repository of 4,000 files in 80 folders and 300 commits; 20 lanes with 3 commits each
(every fourth one edits a line main also edits, so it conflicts); main moves on after
the lanes fork. Printed, never asserted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core import forecast as fc_mod  # noqa: E402
from core.forecast import forecast_lanes  # noqa: E402
from core.workspace import Workspace  # noqa: E402
from tests.bench.common import table  # noqa: E402

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
LANES = 20


def _git(cwd: Path, *args: str, data: str | None = None) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True,
                          input=data).stdout


def _commit_files(cwd: Path, files: dict[str, str], msg: str) -> None:
    for name, text in files.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_text(text)
    _git(cwd, "add", "-A")
    _git(cwd, "commit", "-qm", msg)


def make_repo(path: Path, files: int = 4000, history: int = 300) -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    for i in range(files):
        f = path / f"pkg{i % 80}" / f"mod_{i}.py"
        f.parent.mkdir(exist_ok=True)
        f.write_text("".join(f"def f{i}_{j}():\n    return {j}\n\n" for j in range(15)))
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "initial import")
    # History via fast-import: 300 real commits without 300 checkouts.
    stream = []
    for c in range(history):
        name = f"pkg{c % 80}/mod_{c}.py"
        body = f"# revision {c}\n" + "".join(f"def f{c}_{j}():\n    return {j}\n\n" for j in range(15))
        stream.append(f"commit refs/heads/main\ncommitter bench <b@l> {1700000000 + c} +0000\n"
                      f"data <<EOF\nchange {c}\nEOF\n" + ("from refs/heads/main^0\n" if c == 0 else "")
                      + f"M 100644 inline {name}\ndata {len(body.encode())}\n{body}\n")
    _git(path, "fast-import", "--quiet", data="".join(stream))
    _git(path, "reset", "-q", "--hard", "main")
    return path


def setup(tmp: Path) -> tuple[Workspace, list[dict]]:
    repo = make_repo(tmp / "repo")
    ws = Workspace.open(repo)
    for n in range(LANES):
        ws.lanes.create(f"lane{n}", run_setup=False)
        path = Path(ws.lanes.get(f"lane{n}")["path"])
        for k in range(3):
            idx = 1000 + n * 3 + k
            target = f"pkg{idx % 80}/mod_{idx}.py"
            _commit_files(path, {target: f"# lane {n} commit {k}\n" + (path / target).read_text()},
                          f"lane {n} step {k}")
        if n % 4 == 0:
            _commit_files(path, {"pkg40/mod_3000.py": f"# lane {n} owns this line\n"}, "clash")
    for c in range(5):
        _commit_files(repo, {f"pkg{(2000 + c) % 80}/mod_{2000 + c}.py": f"# main moved {c}\n"}, f"main {c}")
    _commit_files(repo, {"pkg40/mod_3000.py": "# main owns this line\n"}, "main clash")
    return ws, ws.lanes.list()


def paired(ours, floor, n: int = 7) -> tuple[float, float]:
    """Medians of ``ours`` and ``floor`` run alternately, so both see the same load."""
    a, b = [], []
    for _ in range(n):
        for fn, out in ((ours, a), (floor, b)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        ws, lanes = setup(Path(d))
        root = ws.root
        pairs = [("main", ln["branch"]) for ln in lanes]

        def bare_each():
            for a, b in pairs:
                subprocess.run(["git", "merge-tree", "--write-tree", "--name-only", "--no-messages",
                                a, b], cwd=root, capture_output=True)

        def bare_batch():
            subprocess.run(["git", "merge-tree", "--stdin", "-z", "--name-only", "--no-messages"],
                           cwd=root, capture_output=True,
                           input="".join(f"{a} {b}\n" for a, b in pairs).encode())

        def cold():
            fc_mod._cache.data.clear()
            result = forecast_lanes(root, lanes)
            assert sum(1 for f in result.values() if f.conflicts) == LANES // 4

        def warm():
            forecast_lanes(root, lanes)

        def refresh():
            ws.lanes.statuses(lanes)

        def refresh_with_forecast():
            ws.lanes.statuses(lanes)
            forecast_lanes(root, lanes)

        bare_each()
        warm()
        rows = [
            (f"forecast {LANES} lanes, cold vs {LANES} merge-trees", *paired(cold, bare_each), "<= 1.2x"),
            (f"forecast {LANES} lanes, cold vs 1 merge-tree --stdin", *paired(cold, bare_batch),
             "(batch floor)"),
            (f"forecast {LANES} lanes, cached vs {LANES} merge-trees", *paired(warm, bare_each), "<< 1x"),
            ("status refresh + forecast vs status refresh", *paired(refresh_with_forecast, refresh),
             "<= 1.1x"),
        ]
    print(table(rows))


if __name__ == "__main__":
    main()
