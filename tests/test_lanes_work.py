"""What counts as work, snapshots that are never overwritten, and reconcile's new
findings: real git in temp repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from core.errors import ConflictError, DirtyLaneError, InvalidInputError, NotFoundError
from core.workspace import Workspace
from tests.conftest import git, killed_create, make_repo


@pytest.fixture
def ws_env(tmp_path):
    """A repository that ignores .env and build output and copies .env into lanes."""
    repo = make_repo(tmp_path / "repo", {"README.md": "# demo\n",
                                         ".gitignore": ".env\nnode_modules/\n*.pyc\nlocal.cfg\n"})
    (repo / ".env").write_text("SECRET=1\n")
    (repo / ".worktreeinclude").write_text(".env\n")
    return Workspace.open(repo)


def lane(ws, name="x") -> Path:
    return Path(ws.lanes.create(name).lane["path"])


def test_edited_include_copy_is_work_unchanged_copy_and_build_output_are_not(ws_env):
    ws = ws_env
    p = lane(ws)
    (p / "node_modules").mkdir()
    (p / "node_modules" / "big.js").write_text("x" * 1000)
    (p / "mod.pyc").write_bytes(b"\0")
    plan = ws.lanes.removal_plan("x")
    assert plan.saved == [] and sorted(plan.dropped) == [".env", "mod.pyc", "node_modules/"]
    (p / ".env").write_text("SECRET=edited in the lane\n")
    (p / "local.cfg").write_text("ignored, but not build output\n")
    plan = ws.lanes.removal_plan("x")
    assert plan.include_changed == [".env"] and plan.ignored == ["local.cfg"]
    with pytest.raises(DirtyLaneError, match="2 uncommitted change.*\\.env"):
        ws.lanes.remove("x")  # a plain removal no longer deletes an edited .env
    entry = ws.lanes.remove("x", force=True)
    ref = entry["archive_ref"]
    assert git(ws.root, "show", f"{ref}:.env") == "SECRET=edited in the lane\n"
    assert git(ws.root, "show", f"{ref}:local.cfg").startswith("ignored")
    tree = git(ws.root, "ls-tree", "-r", "--name-only", ref).split()
    assert "node_modules/big.js" not in tree and "mod.pyc" not in tree
    ws.lanes.restore("x")
    assert (p / ".env").read_text() == "SECRET=edited in the lane\n"
    assert (p / "local.cfg").exists() and not (p / "node_modules").exists()


def test_exclude_list_is_configurable(ws_env):
    (ws_env.root / ".worklanes.toml").write_text('[lanes]\narchive_exclude = ["local.cfg"]\n')
    ws = Workspace.open(ws_env.root)
    p = lane(ws)
    (p / "local.cfg").write_text("dropped now\n")
    (p / "mod.pyc").write_bytes(b"\0")  # no longer excluded: it is work
    plan = ws.lanes.removal_plan("x")
    assert plan.excluded == ["local.cfg"] and plan.ignored == ["mod.pyc"]
    (ws_env.root / ".worklanes.toml").write_text('[lanes]\narchive_exclude = "x"\n')
    with pytest.raises(InvalidInputError, match="archive_exclude must be a list"):
        Workspace.open(ws_env.root)


def _nested(p: Path) -> Path:
    vendor = p / "vendor" / "lib"
    vendor.mkdir(parents=True)
    git(vendor, "init", "-q", "-b", "main")
    (vendor / "lib.c").write_text("int x;\n")
    git(vendor, "add", "lib.c")
    git(vendor, "commit", "-qm", "nested commit")
    (vendor / "draft.c").write_text("int y;\n")
    return vendor


def test_nested_repository_with_work_is_refused_even_forced(ws, tmp_path):
    p = lane(ws)
    vendor = _nested(p)
    plan = ws.lanes.removal_plan("x")
    assert [(n.path, n.uncommitted, n.unpushed) for n in plan.nested] == [("vendor/lib", 1, 1)]
    for force in (False, True):
        with pytest.raises(DirtyLaneError, match="nested git repository vendor/lib with 1 "
                                                 "uncommitted file.* and 1 commit"):
            ws.lanes.remove("x", force=force)
    assert (vendor / "draft.c").exists() and ws.lanes.get("x")["status"] == "active"
    # Committed and pushed, the nested repository is no longer work: it is dropped.
    git(vendor, "add", "draft.c")
    git(vendor, "commit", "-qm", "more")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(vendor, "remote", "add", "origin", str(remote))
    git(vendor, "push", "-q", "origin", "main")
    plan = ws.lanes.removal_plan("x")
    assert plan.dropped == ["vendor/lib"] and not plan.dirty
    ws.lanes.remove("x")
    assert not p.exists()


def test_restored_snapshot_is_never_reapplied(ws):
    """remove --force, restore, commit, clean remove, restore: the old draft stays gone."""
    p = lane(ws)
    (p / "README.md").write_text("draft\n")
    ws.lanes.remove("x", force=True)
    ws.lanes.restore("x")
    (p / "README.md").write_text("final\n")
    git(p, "commit", "-qam", "final")
    entry = ws.lanes.remove("x")
    assert entry["archive_ref"] is None and entry["plan"].saved == []
    assert ws.lanes.restore("x")["applied"] is None
    assert (p / "README.md").read_text() == "final\n" and git(p, "status", "--porcelain") == ""
    assert [(a.id, a.restored) for a in ws.lanes.archives("x")] == [("1", True)]


def test_every_forced_removal_is_a_new_snapshot_listed_restorable_droppable(ws):
    p = lane(ws)
    for text in ("first draft\n", "second draft\n"):
        (p / "notes.txt").write_text(text)
        ws.lanes.remove("x", force=True)
        ws.lanes.restore("x")
    (p / "notes.txt").write_text("third\n")
    ws.lanes.remove("x", force=True)
    arch = ws.lanes.archives("x")
    assert [a.id for a in arch] == ["1", "2", "3"] and [a.restored for a in arch] == [True, True, False]
    assert all(a.files == 1 and a.size and a.created_at for a in arch)
    assert ws.lanes.restore("x", archive_id="1")["applied"] == "refs/worklanes/archive/x/1"
    assert (p / "notes.txt").read_text() == "first draft\n"
    with pytest.raises(NotFoundError, match="no archive '9'"):
        ws.lanes.drop_archive("x", "9")
    ws.lanes.drop_archive("x", "2")
    assert [a.id for a in ws.lanes.archives()] == ["1", "3"]
    assert "worktree.archive.drop" in [e["event"] for e in ws.events.tail(5)]


def test_archive_of_an_older_version_is_restored_and_moved_aside(ws):
    """Before numbered snapshots: one ref refs/worklanes/archive/<name>."""
    p = lane(ws)
    (p / "old.txt").write_text("saved by an old worklanes\n")
    git(p, "add", "old.txt")
    old = git(p, "stash", "create").strip()
    git(p, "reset", "-q", "--hard")
    git(ws.root, "update-ref", "refs/worklanes/archive/x", old)
    git(ws.root, "worktree", "remove", "--force", str(p))
    ws.lanes.update("x", status="removed", archive_ref="refs/worklanes/archive/x")
    assert [(a.id, a.ref) for a in ws.lanes.archives("x")] == [("0", "refs/worklanes/archive/x")]
    ws.lanes.restore("x")
    assert (p / "old.txt").read_text() == "saved by an old worklanes\n"
    (p / "new.txt").write_text("new\n")
    assert ws.lanes.remove("x", force=True)["archive_ref"] == "refs/worklanes/archive/x/1"
    assert [a.ref for a in ws.lanes.archives("x")] == ["refs/worklanes/archive/x/0",
                                                       "refs/worklanes/archive/x/1"]
    assert git(ws.root, "rev-parse", "refs/worklanes/archive/x/0").strip() == old


def test_git_hooks_off_on_request(ws):
    hook = ws.root / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\necho ran >> {ws.root}/hook.log\n")
    hook.chmod(0o755)
    ws.lanes.create("quiet", hooks=False)
    assert not (ws.root / "hook.log").exists()
    ws.lanes.remove("quiet")
    ws.lanes.restore("quiet", hooks=False)
    assert not (ws.root / "hook.log").exists()
    ws.lanes.create("loud")
    assert (ws.root / "hook.log").read_text() == "ran\n"


@pytest.mark.parametrize("pattern, why", [("/etc/passwd", "outside the repository"),
                                          ("../secret", "outside the repository"),
                                          ("link", "is a symlink to")])
def test_worktreeinclude_stays_inside_the_checkout(ws, tmp_path, pattern, why):
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", ws.root / "link")
    (ws.root / ".worktreeinclude").write_text(f"{pattern}\n")
    with pytest.raises(InvalidInputError, match=why):
        ws.lanes.create("x")
    assert ws.lanes.list() == [] and git(ws.root, "branch", "--list", "wt/*") == ""
    assert not (ws.root / ".worktrees" / "x").exists()


def test_lane_lock_serializes_one_lane_not_others(ws):
    """While lane x's lock is held, a remove of x waits; a create of y goes ahead."""
    import sys
    p = lane(ws)
    root = Path(__file__).resolve().parents[1]
    with ws.lanes.lane_lock("x"):
        proc = subprocess.Popen([sys.executable, "-m", "tui", "wt", "remove", "x"], cwd=ws.root,
                                env={**os.environ, "PYTHONPATH": str(root)})
        while "worktree.remove.before" not in [e["event"] for e in ws.events.tail(3)]:
            assert proc.poll() is None
        ws.lanes.create("y")  # another lane: not held up
        assert proc.poll() is None and p.exists()
    assert proc.wait(timeout=60) == 0 and not p.exists()
    assert (ws.root / ".worktrees" / ".locks" / "x.lock").exists()


def test_public_update_keeps_other_keys(ws):
    lane(ws)
    ws.lanes.update("x", agent={"state": "running"})
    entry = ws.lanes.update("x", status="kept")
    assert entry["agent"] == {"state": "running"} and entry["branch"] == "wt/x"
    with pytest.raises(NotFoundError):
        ws.lanes.update("ghost", status="kept")


def test_reconcile_finds_orphan_branches_and_half_made_worktrees(ws):
    git(ws.root, "branch", "wt/merged-away")          # its commits are on main
    git(ws.root, "checkout", "-q", "-b", "wt/unique")
    (ws.root / "u.txt").write_text("u\n")
    git(ws.root, "add", "u.txt")
    git(ws.root, "commit", "-qm", "only on wt/unique")
    git(ws.root, "checkout", "-q", "main")
    half = ws.root / ".worktrees" / "half"
    git(ws.root, "worktree", "add", "-q", "-b", "wt/half", str(half))
    git(ws.root, "worktree", "lock", "--reason", "initializing", str(half))  # git's own mark
    kinds = {(f.kind, f.name) for f in ws.lanes.reconcile()}
    assert kinds == {("orphan-branch", "merged-away"), ("orphan-branch", "unique"),
                     ("half-created", "half")}
    ws.lanes.reconcile(fix=True)
    assert git(ws.root, "branch", "--list", "wt/merged-away") == ""
    assert ws.lanes.get("unique")["status"] == "removed"
    assert not half.exists()
    assert {(f.kind, f.name) for f in ws.lanes.reconcile()} == {("orphan-branch", "half")}
    ws.lanes.reconcile(fix=True)
    ws.lanes.restore("unique")
    assert Path(ws.lanes.get("unique")["path"], "u.txt").read_text() == "u\n"
    assert ws.lanes.reconcile() == []


def test_removal_plan_in_the_cli(ws):
    from tests.test_cli import wl
    p = lane(ws)
    (p / "notes.txt").write_text("n\n")
    out = wl(ws.root, "wt", "remove", "x", "--dry-run").stdout
    assert "saves: 1 untracked file(s): notes.txt" in out and p.exists()
    plan = json.loads(wl(ws.root, "wt", "remove", "x", "--dry-run", "--json").stdout)
    assert plan["saved"] == ["notes.txt"] and plan["dirty"]
    out = wl(ws.root, "wt", "remove", "x", "--force").stdout
    assert "saves: 1 untracked" in out and "refs/worklanes/archive/x/1" in out
    out = wl(ws.root, "wt", "archives").stdout
    assert out.startswith("x  1  ") and "1 file(s)" in out
    listed = json.loads(wl(ws.root, "wt", "archives", "x", "--json").stdout)
    assert [a["id"] for a in listed] == ["1"]
    assert "with the work saved under refs/worklanes/archive/x/1" in wl(ws.root, "wt", "restore", "x").stdout
    assert "dropped archive 1" in wl(ws.root, "wt", "archive", "drop", "x", "1").stdout
    assert wl(ws.root, "wt", "archives").stdout.strip() == "No archives."


def test_create_killed_mid_checkout_is_rolled_back_not_adopted(ws):
    """A killed create (``killed_create``): the next command rolls it all back."""
    path = killed_create(ws, "h")
    assert [f.kind for f in ws.lanes.reconcile()] == ["interrupted"]
    ws = Workspace.open(ws.root)  # the next command
    assert ws.lanes.list() == [] and not path.exists()
    assert git(ws.root, "branch", "--list", "wt/h") == "" and ws.lanes.reconcile() == []
    assert ws.lanes.create("h").lane["status"] == "active"
    assert [e["action"] for e in ws.events.tail(10) if e["event"] == "worktree.recover"] == [
        "rolled back the interrupted create (the lane was never used; nothing lost)"]


def test_an_adopted_lane_with_an_odd_name_can_still_be_kept_and_removed(ws):
    odd = ws.root.parent / "my odd dir"
    git(ws.root, "worktree", "add", "-q", "-b", "odd", str(odd))
    ws.lanes.reconcile(fix=True)
    assert ws.lanes.keep("my odd dir")["status"] == "kept"
    ws.lanes.remove("my odd dir")
    assert not odd.exists()
    assert [p.name[0] for p in (ws.root / ".worktrees" / ".locks").glob("*.lock")
            if not p.name.startswith(".")] == ["_"]


def test_lane_lock_is_reentrant_in_one_thread_and_one_intent_at_a_time(ws):
    """What a merge (a later operation) will do: hold the lock, record its own intent,
    finish it, then remove the lane, all without letting another process in."""
    from core.errors import ConflictError
    from core.lanes import ops
    lane(ws)
    with ws.lanes.lane_lock("x"):
        ops.begin(ws.lanes, "x", "merge", step="begin")
        assert ws.lanes.recover() == []  # this thread's own operation: not "interrupted"
        with pytest.raises(ConflictError, match="in the middle of a merge"):
            ws.lanes.remove("x")
        ops.finish(ws.lanes, "x", merged=True)
        assert ws.lanes.remove("x")["status"] == "removed"
    assert "op" not in ws.lanes.get("x") and ws.lanes.get("x")["merged"] is True


def test_orphan_branch_with_its_own_commits_and_no_valid_name_is_left_alone(ws):
    git(ws.root, "checkout", "-q", "-b", "wt/deep/er")
    (ws.root / "d.txt").write_text("d\n")
    git(ws.root, "add", "d.txt")
    git(ws.root, "commit", "-qm", "only here")
    git(ws.root, "checkout", "-q", "main")
    (found,) = ws.lanes.reconcile(fix=True)
    assert (found.kind, found.fixed) == ("orphan-branch", False) and "rename it" in found.fix
    assert git(ws.root, "branch", "--list", "wt/deep/er").strip() == "wt/deep/er"
    assert ws.lanes.list() == []
