"""Lanes against real git: create, status, diff, run, keep, remove, restore, reconcile."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from core.errors import (ConflictError, CorruptFileError, DirtyLaneError, GitError,
                         InvalidInputError, NotARepoError, NotFoundError)
from core.workspace import Workspace
from tests.conftest import git


def names(ws, n=50):
    return [e["event"] for e in ws.events.tail(n)]


def test_create_binds_task_and_logs_seed_events(ws):
    ws.tasks.create("Backend auth")
    res = ws.lanes.create("auth-refactor", task_id=1)
    lane = res.lane
    assert lane["branch"] == "wt/auth-refactor" and lane["status"] == "active"
    assert Path(lane["path"]) == ws.root / ".worktrees" / "auth-refactor"
    assert (Path(lane["path"]) / "README.md").exists()
    assert git(Path(lane["path"]), "rev-parse", "--abbrev-ref", "HEAD").strip() == "wt/auth-refactor"
    task = ws.tasks.get(1)
    assert task["status"] == "in_progress" and task["worktree"] == "auth-refactor"
    index = json.loads((ws.root / ".worktrees" / "index.json").read_text())
    assert index["worktrees"][0]["name"] == "auth-refactor"
    assert names(ws) == ["task.created", "worktree.create.before", "task.updated",
                         "worktree.create.after"]
    # State folders never show up as untracked files.
    assert git(ws.root, "status", "--porcelain") == ""


@pytest.mark.parametrize("bad", ["-x", "../x", "a/b", "", "x" * 41, ".hidden", "a..b", "x.lock", "sp ace"])
def test_bad_names_are_refused(ws, bad):
    with pytest.raises(InvalidInputError, match="invalid lane name"):
        ws.lanes.create(bad)
    assert not (ws.root / ".worktrees" / "x").exists()


def test_clear_errors_for_conflicts_and_bad_refs(ws):
    ws.lanes.create("one")
    with pytest.raises(ConflictError, match="lane 'one' already exists"):
        ws.lanes.create("one")
    git(ws.root, "branch", "wt/two")
    with pytest.raises(ConflictError, match="branch wt/two already exists"):
        ws.lanes.create("two")
    (ws.root / ".worktrees" / "three").mkdir()
    with pytest.raises(ConflictError, match="already exists; move it away"):
        ws.lanes.create("three")
    with pytest.raises(InvalidInputError, match="base ref 'nope' is unknown"):
        ws.lanes.create("four", base_ref="nope")
    with pytest.raises(NotFoundError, match="task 7 does not exist"):
        ws.lanes.create("five", task_id=7)
    failed = [e for e in ws.events.tail(50) if e["event"] == "worktree.create.failed"]
    assert len(failed) == 5 and all(e["error"] for e in failed)
    assert [ln["name"] for ln in ws.lanes.list()] == ["one"]


def test_repo_without_commits(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    ws = Workspace.open(root)
    with pytest.raises(GitError, match="no commits yet"):
        ws.lanes.create("x")


def test_not_a_repo(tmp_path):
    with pytest.raises(NotARepoError, match="not inside a git repository"):
        Workspace.open(tmp_path)


def test_root_detected_from_inside_a_lane(ws):
    ws.tasks.create("a")
    lane = ws.lanes.create("a-lane", task_id=1).lane
    inner = Workspace.open(Path(lane["path"]))
    assert inner.root == ws.root
    assert [t["id"] for t in inner.tasks.list().tasks] == [1]
    sub = Path(lane["path"]) / "deep" / "er"
    sub.mkdir(parents=True)
    assert Workspace.open(sub).root == ws.root
    assert not (Path(lane["path"]) / ".tasks").exists()


def test_live_status(ws):
    lane = Path(ws.lanes.create("s").lane["path"])
    (lane / "README.md").write_text("# changed\nmore\n")
    git(lane, "commit", "-qam", "lane commit")
    (lane / "new.txt").write_text("x\n")
    (lane / "README.md").write_text("# changed again\n")
    (ws.root / "main.txt").write_text("m")
    git(ws.root, "add", "main.txt")
    git(ws.root, "commit", "-qm", "main moves on")
    st = ws.lanes.status("s")
    assert (st.ahead, st.behind, st.dirty) == (1, 1, 2)
    assert st.last_commit.endswith("lane commit") and st.head == "wt/s"
    # README.md (committed and edited again) and new.txt (untracked); lines: the commit
    assert st.files_changed == 2 and st.insertions >= 1
    import shutil
    shutil.rmtree(lane)
    assert ws.lanes.status("s").missing


def test_statuses_of_twenty_lanes(ws):
    for i in range(20):
        p = Path(ws.lanes.create(f"l{i}").lane["path"])
        for j in range(i % 3):
            (p / f"f{j}").write_text("x")
    sts = ws.lanes.statuses()
    assert [s.name for s in sts] == [f"l{i}" for i in range(20)]
    assert [s.dirty for s in sts] == [i % 3 for i in range(20)]


def test_diff_against_base_includes_commits_edits_and_untracked(ws):
    lane = Path(ws.lanes.create("d").lane["path"])
    (lane / "a.py").write_text("print(1)\n")
    git(lane, "add", "a.py")
    git(lane, "commit", "-qm", "add a")
    (lane / "README.md").write_text("# edited\n")
    (lane / "scratch.txt").write_text("u")
    text = ws.lanes.diff("d")
    assert "+print(1)" in text and "+# edited" in text
    assert "?? scratch.txt" in text


def test_run_timeout_kills_process_group_and_caps_output(ws):
    ws.lanes.create("r")
    res = ws.lanes.run("r", "git status --short && echo hello")
    assert res.exit_code == 0 and "hello" in res.output
    pidfile = ws.root / "child.pid"
    t0 = time.monotonic()
    res = ws.lanes.run("r", f"(sleep 60 & echo $! > {pidfile}; wait)", timeout=1)
    assert res.timed_out and res.exit_code is None
    assert time.monotonic() - t0 < 10
    child = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the timeout")
    res = ws.lanes.run("r", "yes 0123456789 | head -c 5000000")
    assert res.truncated and len(res.output) < 60_000
    assert "output truncated" in res.text()
    assert [e for e in ws.events.tail(5) if e["event"] == "worktree.run"][-1]["exit_code"] == 0
    res = ws.lanes.run("r", "exit 3")
    assert res.exit_code == 3 and "exit 3" in res.text()


def test_keep(ws):
    ws.tasks.create("t")
    ws.lanes.create("k", task_id=1)
    entry = ws.lanes.keep("k")
    assert entry["status"] == "kept" and "kept_at" in entry
    assert names(ws)[-1] == "worktree.keep"
    with pytest.raises(NotFoundError):
        ws.lanes.keep("nope")


def test_remove_clean_lane_completes_task(ws):
    ws.tasks.create("t")
    ws.tasks.create("after t", blocked_by=[1])
    lane = ws.lanes.create("c", task_id=1).lane
    entry = ws.lanes.remove("c", complete_task=True)
    assert entry["status"] == "removed" and not Path(lane["path"]).exists()
    assert ws.tasks.get(1)["status"] == "completed" and ws.tasks.get(1)["worktree"] == ""
    assert ws.tasks.get(2)["blockedBy"] == []
    assert git(ws.root, "branch", "--list", "wt/c").strip() == "wt/c"  # the branch stays
    assert names(ws)[-3:] == ["worktree.remove.before", "task.completed", "worktree.remove.after"]
    with pytest.raises(ConflictError, match="already removed"):
        ws.lanes.remove("c")


def test_dirty_remove_refused_then_forced_saves_work_and_restore_brings_it_back(ws):
    ws.tasks.create("t")
    lane = Path(ws.lanes.create("w", task_id=1).lane["path"])
    (lane / "README.md").write_text("edited\n")
    (lane / "untracked.txt").write_text("precious\n")
    with pytest.raises(DirtyLaneError, match="2 uncommitted change"):
        ws.lanes.remove("w")
    assert lane.exists() and names(ws)[-1] == "worktree.remove.failed"
    entry = ws.lanes.remove("w", force=True)
    assert entry["archive_ref"] == "refs/worklanes/archive/w/1" and not lane.exists()
    assert "precious" in git(ws.root, "show", "refs/worklanes/archive/w/1:untracked.txt")
    ws.lanes.restore("w")
    assert (lane / "untracked.txt").read_text() == "precious\n"
    assert (lane / "README.md").read_text() == "edited\n"
    assert ws.lanes.get("w")["status"] == "active"
    assert ws.tasks.get(1)["worktree"] == "w"
    assert names(ws)[-1] == "worktree.restore"
    with pytest.raises(ConflictError, match="not removed"):
        ws.lanes.restore("w")


def test_delete_branch_only_when_merged(ws):
    lane = Path(ws.lanes.create("m").lane["path"])
    ws.lanes.remove("m", delete_branch=True)
    assert git(ws.root, "branch", "--list", "wt/m") == ""
    lane = Path(ws.lanes.create("u").lane["path"])
    (lane / "f").write_text("x")
    git(lane, "add", "f")
    git(lane, "commit", "-qm", "unmerged")
    with pytest.raises(ConflictError, match="not fully merged"):
        ws.lanes.remove("u", delete_branch=True)


def test_reconcile_reports_and_fixes(ws):
    import shutil
    ws.tasks.create("t")
    gone = Path(ws.lanes.create("gone", task_id=1).lane["path"])
    ws.lanes.create("fine")
    shutil.rmtree(gone)  # removed by hand
    stray = ws.root.parent / "stray"
    git(ws.root, "worktree", "add", "-q", "-b", "stray-branch", str(stray))
    locked = ws.root.parent / "locked"
    git(ws.root, "worktree", "add", "-q", "-b", "locked-branch", str(locked))
    git(ws.root, "worktree", "lock", "--reason", "usb disk", str(locked))
    kinds = {(f.kind, f.name) for f in ws.lanes.reconcile()}
    assert ("missing", "gone") in kinds and ("unregistered", "stray") in kinds
    assert ("locked", "locked") in kinds and ("prunable", "gone") in kinds
    assert ws.lanes.get("gone")["status"] == "active"  # report only
    found = ws.lanes.reconcile(fix=True)
    assert all(f.fixed for f in found if f.kind in ("missing", "unregistered", "prunable"))
    assert ws.lanes.get("gone")["status"] == "removed"
    assert ws.tasks.get(1)["worktree"] == ""
    assert ws.lanes.get("stray")["branch"] == "stray-branch"
    assert "worktree.reconcile" in names(ws)
    left = {(f.kind, f.name) for f in ws.lanes.reconcile()}
    assert left == {("locked", "locked")}


def test_worktreeinclude_and_setup_command(ws):
    (ws.root / ".gitignore").write_text(".env\n")
    git(ws.root, "add", ".gitignore")
    git(ws.root, "commit", "-qm", "ignore env")
    (ws.root / ".env").write_text("SECRET=1\n")
    (ws.root / ".worktreeinclude").write_text("# copy these\n.env\nmissing.txt\n")
    (ws.root / ".worklanes.toml").write_text('[lanes]\nsetup = "echo ready > setup.out"\n')
    ws = Workspace.open(ws.root)
    res = ws.lanes.create("inc")
    lane = Path(res.lane["path"])
    assert res.copied == [".env"] and (lane / ".env").read_text() == "SECRET=1\n"
    assert res.setup.exit_code == 0 and (lane / "setup.out").read_text() == "ready\n"
    assert "worktree.setup" in names(ws)


def test_bad_config_is_a_clear_error(repo):
    (repo / ".worklanes.toml").write_text("[lanes]\ncolour = 1\n")
    with pytest.raises(InvalidInputError, match="unknown key"):
        Workspace.open(repo)


def test_corrupt_index_is_reported_and_untouched(ws):
    ws.tasks.create("t")
    index = ws.root / ".worktrees" / "index.json"
    index.write_text("{broken")
    with pytest.raises(CorruptFileError, match="index.json cannot be parsed"):
        ws.lanes.list()
    with pytest.raises(CorruptFileError):
        ws.lanes.create("x")
    assert index.read_text() == "{broken"
    assert ws.tasks.list().tasks[0]["id"] == 1  # the board still works


def test_lanes_dir_configurable(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ndir = "../lanes"\n')
    ws = Workspace.open(repo)
    lane = ws.lanes.create("elsewhere").lane
    assert Path(lane["path"]) == (repo.parent / "lanes" / "elsewhere").resolve()
    assert ws.lanes.statuses()[0].dirty == 0


def test_a_status_refresh_runs_the_fewest_git_processes(ws, tmp_path, monkeypatch):
    """One for-each-ref for every lane and one status per lane; what depends only on
    commits (ahead/behind, lines) is asked again only when a commit moved."""
    from tests.gitshim import make_shim

    names = ["p1", "p2", "p3"]
    for name in names:
        lane = Path(ws.lanes.create(name).lane["path"])
        (lane / f"{name}.txt").write_text("x\n")
        git(lane, "add", ".")
        git(lane, "commit", "-qm", f"work in {name}")
    shim = make_shim(tmp_path)
    for k, v in shim.env().items():
        monkeypatch.setenv(k, v)
    lanes = ws.lanes.list()

    def calls_of(fn) -> list[str]:
        shim.clear()
        fn()
        return sorted(shim.calls())

    cold = calls_of(lambda: ws.lanes.statuses(lanes))
    assert cold == sorted(["for-each-ref"] + ["status", "rev-list", "diff"] * 3)
    (Path(lanes[0]["path"]) / "edit.txt").write_text("an edit\n")
    warm = calls_of(lambda: ws.lanes.statuses(lanes))
    assert warm == sorted(["for-each-ref"] + ["status"] * 3)
    assert [st.dirty for st in ws.lanes.statuses(lanes)] == [1, 0, 0]


def test_proposed_lane_names_are_readable_and_cut_at_a_word():
    from core.lanes import slugify, validate_name

    cases = {
        "Ünïcødé 日本語": "unicode",
        "Refactor the authentication middleware for sessions": "refactor-the-authentication",
        "Fix: login page (v2)!": "fix-login-page-v2",
        "Straße und Æbleskiver": "strasse-und-aebleskiver",
    }
    for subject, name in cases.items():
        assert slugify(subject) == name
        assert validate_name(name) == name
    assert slugify("日本語のタスク", fallback="task-7") == "task-7"
    assert len(slugify("x" * 80)) == 30
