"""`worklanes wt merge | sync | prune-merged`, the forecast in `wt list/status --json`,
and a `kill -9` of `wt merge` at its git steps, recovered by the next command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.workspace import Workspace
from tests.conftest import git
from tests.gitshim import make_shim
from tests.test_cli import cli  # noqa: F401  (the fixture: CliRunner on the repo)
from tests.test_core_merge import commit, head, nothing_in_progress

ROOT = Path(__file__).resolve().parents[1]


def lane(cli, repo, name: str, files: dict[str, str], task: str | None = None) -> Path:
    args = ["wt", "create", name]
    if task:
        tid = json.loads(cli("task", "add", task, "--json").output)["id"]
        args += ["--task", str(tid)]
    cli(*args)
    path = repo / ".worktrees" / name
    commit(path, files, f"work in {name}")
    return path


def test_list_and_status_json_carry_the_forecast(cli, repo):
    lane(cli, repo, "ok", {"a.txt": "a\n"})
    lane(cli, repo, "clash", {"README.md": "# lane\n"})
    commit(repo, {"README.md": "# main\n"}, "main")
    rows = {r["name"]: r["live"] for r in json.loads(cli("wt", "list", "--json").output)}
    assert rows["clash"]["conflicts"] == ["README.md"] and rows["clash"]["integrated"] is False
    assert rows["ok"]["conflicts"] == [] and rows["ok"]["dirty"] == 0
    st = json.loads(cli("wt", "status", "clash", "--json").output)
    assert st["conflicts"] == ["README.md"] and "integrated" in st
    assert "conflicts=1" in cli("wt", "list").output


def test_a_detached_lane_is_listed_with_a_forecast_error(cli, repo):
    git(repo, "worktree", "add", "-q", "--detach", str(repo / ".worktrees" / "loose"))
    cli("wt", "reconcile", "--fix")
    row = json.loads(cli("wt", "list", "--json").output)[0]["live"]
    assert "no branch" in row["forecast_error"] and row["conflicts"] == []
    assert "no branch" in cli("wt", "merge", "loose", code=1).output


def test_merge_then_list_says_integrated_and_prune_cleans_up(cli, repo):
    lane(cli, repo, "feat", {"f.txt": "f\n"}, task="Feature")
    out = cli("wt", "merge", "feat", "--squash").output
    assert "merged lane feat into main (1 commit(s)): squashed into" in out
    assert (repo / "f.txt").exists()
    assert json.loads(cli("task", "show", "1", "--json").output)["status"] == "completed"
    listing = cli("wt", "list").output
    assert "[merged]  feat" in listing and "integrated (adds-nothing)" in listing
    assert "would remove" in cli("wt", "prune-merged", "--dry-run").output
    assert "removed      feat" in cli("wt", "prune-merged").output
    assert git(repo, "branch", "--list", "wt/feat") == ""
    assert cli("wt", "prune-merged").output.strip() == "No integrated lanes."


def test_merge_json_and_remove(cli, repo):
    lane(cli, repo, "j", {"j.txt": "j\n"})
    res = json.loads(cli("wt", "merge", "j", "--rebase", "--remove", "--json").output)
    assert res["strategy"] == "rebase" and res["removed"] and res["new"] == head(repo)
    assert res["lane"]["status"] == "removed"


def test_refusals_are_one_line_and_exit_1(cli, repo):
    lane(cli, repo, "clash", {"README.md": "# lane\n"})
    commit(repo, {"README.md": "# main\n"}, "main")
    before = head(repo)
    res = cli("wt", "merge", "clash", code=1)
    assert res.output.count("\n") == 1 and "would conflict in 1 file(s): README.md" in res.output
    assert "wt sync clash" in res.output
    assert "exclude each other" in cli("wt", "merge", "clash", "--squash", "--rebase", code=1).output
    assert head(repo) == before


def test_a_failing_check_shows_its_output(cli, repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "echo broken test; exit 4"\n')
    lane(cli, repo, "c", {"c.txt": "c\n"})
    res = cli("wt", "merge", "c", code=1)
    assert "broken test" in res.output and "failed in lane 'c' (exit 4)" in res.output
    res = cli("wt", "merge", "c", "--json", code=1)
    assert "broken test" in res.output
    assert "merged lane c" in cli("wt", "merge", "c", "--no-check").output


def test_sync_conflict_exit_code_and_abort(cli, repo):
    p = lane(cli, repo, "s", {"README.md": "# lane\n"})
    commit(repo, {"README.md": "# main\n"}, "main")
    res = cli("wt", "sync", "s", code=1)
    assert "stopped on 1 conflicting file(s)" in res.output and "--abort" in res.output
    assert not nothing_in_progress(p) and nothing_in_progress(repo)
    assert "aborted" in cli("wt", "sync", "s", "--abort").output
    assert nothing_in_progress(p)
    assert json.loads(cli("wt", "sync", "s", "--rebase", "--json", code=1).output)["state"] == "conflict"
    cli("wt", "sync", "s", "--abort")


# -- kill -9 mid-merge -----------------------------------------------------------------------
def wl(repo: Path, *args: str, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), *args],
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)


def run_wl(repo: Path, *args: str) -> subprocess.CompletedProcess:
    proc = wl(repo, *args)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def killed_at(repo: Path, tmp_path: Path, args: list[str], stall: str, when: str) -> None:
    shim = make_shim(tmp_path)
    proc = wl(repo, *args, env=shim.env(stall=stall, when=when))
    try:
        shim.wait_stalled(proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and the git it is waiting on
        proc.wait(timeout=30)
        shim.release()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("strategy", ["merge", "rebase"])
@pytest.mark.parametrize("recovery", [["wt", "reconcile", "--fix"], ["wt", "merge", "k"]])
def test_kill_9_after_the_ref_moved_is_finished_by_recovery(repo, tmp_path, strategy, recovery):
    ws = Workspace.open(repo)
    t = ws.tasks.create("Killed merge")
    ws.lanes.create("k", task_id=t["id"])
    p = repo / ".worktrees" / "k"
    commit(p, {"k.txt": "k\n"}, "lane work")
    commit(repo, {"m.txt": "m\n"}, "main moves on")
    old = head(repo)
    args = ["wt", "merge", "k"] + (["--rebase"] if strategy == "rebase" else [])
    killed_at(repo, tmp_path, args, stall="update-ref", when="after")
    # Killed just after the commit point: main moved, its checkout did not follow yet.
    new = head(repo)
    assert new != old and ws.lanes.get("k")["op"]["new"] == new
    assert git(repo, "status", "--porcelain") != "" and not (repo / "k.txt").exists()
    res = run_wl(repo, *recovery)
    assert res.returncode == 0, res.stderr
    assert head(repo) == new
    assert (repo / "k.txt").read_text() == "k\n" and git(repo, "status", "--porcelain") == ""
    assert git(p, "status", "--porcelain") == "" and (p / "k.txt").exists()
    if strategy == "rebase":
        assert head(repo, "wt/k") == new and (p / "m.txt").exists()
    entry = ws.lanes.get("k")
    assert entry["status"] == "merged" and "op" not in entry
    assert ws.tasks.get(t["id"])["status"] == "completed"
    assert nothing_in_progress(repo, p)
    after = [e for e in ws.events.tail(50) if e["event"] == "worktree.merge.after"]
    assert after and after[0].get("recovered") is True


def test_kill_9_before_the_ref_moved_is_rolled_back(repo, tmp_path):
    ws = Workspace.open(repo)
    ws.lanes.create("k")
    p = repo / ".worktrees" / "k"
    commit(p, {"k.txt": "k\n"}, "lane work")
    old = head(repo)
    killed_at(repo, tmp_path, ["wt", "merge", "k"], stall="update-ref", when="before")
    assert head(repo) == old and ws.lanes.get("k")["op"]["kind"] == "merge"
    # Any command first finishes or rolls back what a kill left (Workspace.open).
    res = run_wl(repo, "wt", "reconcile")
    assert "index and git agree" in res.stdout
    recovered = [e for e in ws.events.tail(10) if e["event"] == "worktree.recover"]
    assert recovered and recovered[-1]["action"] == "merge rolled back"
    entry = ws.lanes.get("k")
    assert head(repo) == old and entry["status"] == "active" and "op" not in entry
    assert git(repo, "status", "--porcelain") == "" and nothing_in_progress(repo, p)
    assert run_wl(repo, "wt", "merge", "k").returncode == 0  # and it can be merged after
    assert (repo / "k.txt").exists()


def test_main_moving_during_the_merge_is_refused_by_the_ref_swap(repo, tmp_path):
    ws = Workspace.open(repo)
    ws.lanes.create("race")
    commit(repo / ".worktrees" / "race", {"r.txt": "r\n"}, "lane work")
    shim = make_shim(tmp_path)
    proc = wl(repo, "wt", "merge", "race", env=shim.env(stall="update-ref", when="before"))
    shim.wait_stalled(proc)
    other = commit(repo, {"o.txt": "o\n"}, "someone else commits to main")
    shim.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "main moved while merging" in err
    assert head(repo) == other and git(repo, "status", "--porcelain") == ""
    assert ws.lanes.get("race")["status"] == "active" and "op" not in ws.lanes.get("race")


def test_two_merges_into_main_at_once_take_turns(repo, tmp_path):
    ws = Workspace.open(repo)
    for n in ("a", "b"):
        ws.lanes.create(n)
        commit(repo / ".worktrees" / n, {f"{n}.txt": f"{n}\n"}, f"lane {n}")
    first, second = make_shim(tmp_path / "a"), make_shim(tmp_path / "b")
    pa = wl(repo, "wt", "merge", "a", env=first.env(stall="update-ref", when="before"))
    first.wait_stalled(pa)                       # a holds main's merge lock, mid-merge
    pb = wl(repo, "wt", "merge", "b", "--squash", env=second.env())
    deadline = time.monotonic() + 60
    while "worktree" not in second.calls() and pb.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)                         # b has planned and waits for its turn
    first.release()
    outs = [p.communicate(timeout=60) for p in (pa, pb)]
    assert (pa.returncode, pb.returncode) == (0, 0), outs
    assert (repo / "a.txt").exists() and (repo / "b.txt").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert [ws.lanes.get(n)["status"] for n in ("a", "b")] == ["merged", "merged"]
    assert git(repo, "log", "-1", "--format=%P").split()[0] == ws.lanes.get("a")["merged"]["commit"]


def _killed_after_the_ref_moved(repo: Path, tmp_path: Path) -> tuple[Workspace, str]:
    ws = Workspace.open(repo)
    ws.lanes.create("h")
    commit(repo / ".worktrees" / "h", {"README.md": "# lane\n", "k.txt": "k\n"}, "lane work")
    killed_at(repo, tmp_path, ["wt", "merge", "h"], stall="update-ref", when="after")
    return ws, head(repo)


def test_a_checkout_killed_half_way_through_its_update_is_finished(repo, tmp_path):
    ws, new = _killed_after_the_ref_moved(repo, tmp_path)
    (repo / "README.md").write_text("# lane\n")   # as if killed after writing one file
    res = run_wl(repo, "wt", "reconcile", "--fix")
    assert res.returncode == 0, res.stderr
    assert git(repo, "status", "--porcelain") == "" and (repo / "k.txt").read_text() == "k\n"
    assert head(repo) == new and ws.lanes.get("h")["status"] == "merged"


def test_recovery_never_overwrites_an_edit_made_after_the_crash(repo, tmp_path):
    ws, new = _killed_after_the_ref_moved(repo, tmp_path)
    (repo / "README.md").write_text("my own edit\n")
    res = run_wl(repo, "wt", "reconcile", "--fix")
    assert res.returncode == 1 and "commit or move away your changes" in res.stderr
    assert (repo / "README.md").read_text() == "my own edit\n"
    assert ws.lanes.get("h")["op"]["new"] == new           # still recorded, for a later try
    (repo / "README.md").write_text("# demo\n")            # the user puts it back
    assert run_wl(repo, "wt", "reconcile", "--fix").returncode == 0
    assert git(repo, "status", "--porcelain") == "" and ws.lanes.get("h")["status"] == "merged"
