"""`wt list --json` from the on-disk cache of answers keyed by commit ids: fewer git
processes when nothing moved, and never a stale answer when something did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.oidcache import cache_path
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[1]


def wt_list(root: Path, trace: Path | None = None) -> dict:
    """`wt list --json` by the real CLI; with ``trace``, every git process it starts
    logs itself there (git's own GIT_TRACE)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"GIT_TRACE": str(trace)} if trace else {})}
    res = subprocess.run([sys.executable, "-m", "tui", "wt", "list", "--json"], cwd=root,
                         capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    return {ln["name"]: ln["live"] for ln in json.loads(res.stdout)}


def git_calls(trace: Path) -> list[str]:
    """The subcommand of each git process, from its GIT_TRACE line."""
    calls = []
    for line in trace.read_text().splitlines():
        if "trace: built-in: git " in line:
            args = [a for a in line.split("trace: built-in: git ", 1)[1].split() if a]
            skip = False
            for a in args:
                if skip:
                    skip = False
                elif a in ("-c", "-C"):
                    skip = True
                elif not a.startswith("-"):
                    calls.append(a)
                    break
    return calls


def commit(path: Path, name: str, text: str, msg: str) -> None:
    (path / name).write_text(text)
    git(path, "add", name)
    git(path, "commit", "-qm", msg)


def two_lanes(ws) -> tuple[Path, Path]:
    a = Path(ws.lanes.create("a").lane["path"])
    b = Path(ws.lanes.create("b").lane["path"])
    commit(a, "README.md", "# from a\n", "a edits the readme")
    commit(b, "b.txt", "b\n", "b adds a file")
    (b / "draft.txt").write_text("untracked\n")
    return a, b


def test_nothing_moved_runs_one_status_a_lane_and_no_merge(ws, tmp_path):
    two_lanes(ws)
    cold, warm = tmp_path / "cold.trace", tmp_path / "warm.trace"
    first = wt_list(ws.root, cold)
    assert {"rev-list", "diff", "merge-tree"} <= set(git_calls(cold))
    assert wt_list(ws.root, warm) == first
    calls = [c for c in git_calls(warm) if c != "rev-parse"]   # finding the repository
    assert sorted(calls) == ["for-each-ref", "status", "status"], calls


def test_a_commit_or_a_moved_base_is_never_answered_from_the_cache(ws):
    a, b = two_lanes(ws)
    before = wt_list(ws.root)
    assert (before["a"]["ahead"], before["a"]["behind"], before["a"]["conflicts"]) == (1, 0, [])
    # Another process moves things between two runs: the lane commits, the base moves
    # on and now clashes with lane a.
    commit(a, "a2.txt", "more\n", "a again")
    commit(ws.root, "README.md", "# from main\n", "main edits the readme too")
    after = wt_list(ws.root)
    assert (after["a"]["ahead"], after["a"]["behind"]) == (2, 1)
    assert after["a"]["conflicts"] == ["README.md"]
    assert after["a"]["insertions"] == before["a"]["insertions"] + 1
    assert (after["b"]["ahead"], after["b"]["behind"], after["b"]["conflicts"]) == (1, 1, [])
    assert after["b"]["dirty"] == 1 and after["b"]["files_changed"] == 2
    # The same answers as a process with no cache at all.
    cache_path(ws.root).unlink()
    assert wt_list(ws.root) == after


def test_a_damaged_cache_is_recomputed_and_replaced(ws):
    two_lanes(ws)
    good = wt_list(ws.root)
    path = cache_path(ws.root)
    for damage in ('{"version": 1, "commits": {"x y": [1,', '{"version": 1, "commits": []}',
                   '[]', '{"version": 99}'):
        path.write_text(damage)
        assert wt_list(ws.root) == good
        assert json.loads(path.read_text())["version"] == 1


def test_entries_from_an_older_answer_do_not_leak_into_a_new_key(ws):
    """A forged entry under the current commits is believed (the cache trusts its keys),
    which is what proves the key is the commit pair and nothing coarser."""
    a, _ = two_lanes(ws)
    wt_list(ws.root)
    path = cache_path(ws.root)
    data = json.loads(path.read_text())
    base = git(ws.root, "rev-parse", "main").strip()
    head = git(a, "rev-parse", "HEAD").strip()
    data["commits"][f"{base} {head}"][0] = 42
    path.write_text(json.dumps(data))
    assert wt_list(ws.root)["a"]["ahead"] == 42
    commit(a, "a3.txt", "x\n", "a moves")
    assert wt_list(ws.root)["a"]["ahead"] == 2
