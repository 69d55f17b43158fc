"""A generated repository of realistic size for the benchmarks: a source tree of a few
thousand files in nested packages (about the shape of a mid-sized web framework), and
lanes that each carry commits, modified files and untracked files.

    from tests.bench.genrepo import make_big_repo, add_lanes
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
_WORDS = ("request response model view field query cache session token router handler "
          "middleware template context serializer migration signal form widget").split()


def _source(rng: random.Random, lines: int) -> str:
    out = []
    for i in range(lines):
        a, b = rng.choice(_WORDS), rng.choice(_WORDS)
        out.append(f"def {a}_{b}_{i}(value):\n    return value.{a}({b!r})\n")
    return "".join(out)


def make_big_repo(path: Path, files: int = 3000, seed: int = 7) -> Path:
    """``files`` files spread over ~``files/12`` folders, 40-200 lines each, one commit."""
    rng = random.Random(seed)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    (path / ".gitignore").write_text("node_modules/\n__pycache__/\n*.pyc\nbuild/\n")
    folders = [Path("pkg")]
    for i in range(max(1, files // 12)):
        parent = rng.choice(folders)
        folders.append(parent / f"{rng.choice(_WORDS)}_{i}")
    for i in range(files):
        rel = rng.choice(folders) / f"mod_{i}.py"
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(_source(rng, rng.randint(40, 200)))
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run([*GIT, "commit", "-qm", "a generated source tree"], cwd=path, check=True)
    return path


def tracked_files(repo: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=repo, check=True, capture_output=True,
                         text=True).stdout
    return out.splitlines()


def add_lanes(ws, count: int, commits: int = 2, modified: int = 3, untracked: int = 2,
              seed: int = 11) -> list[str]:
    """``count`` lanes through the core, each with commits, edits and new files."""
    rng = random.Random(seed)
    files = tracked_files(ws.root)
    names = []
    for n in range(count):
        name = f"lane{n:02d}"
        lane = Path(ws.lanes.create(name).lane["path"])
        for c in range(commits):
            rel = rng.choice(files)
            with open(lane / rel, "a") as fh:
                fh.write(f"\n# lane {n} commit {c}\n")
            subprocess.run(["git", "add", rel], cwd=lane, check=True)
            subprocess.run([*GIT, "commit", "-qm", f"lane {n}: change {c}"], cwd=lane, check=True)
        for rel in rng.sample(files, modified):
            with open(lane / rel, "a") as fh:
                fh.write(f"\n# uncommitted in lane {n}\n")
        for u in range(untracked):
            (lane / f"notes_{u}.txt").write_text(f"lane {n} draft {u}\n")
        names.append(name)
    return names
