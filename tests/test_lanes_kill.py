"""kill -9 at every git step of create, remove --force and restore, then recovery.

A `git` shim first on PATH counts the git calls of the real CLI (`python -m tui`) and
stalls after call k; the test kills the process group there, recovers (the next
command opening the workspace, or `wt reconcile --fix`), and checks that the state is
whole and that no work was lost: for every k from the first git call to the last."""

from __future__ import annotations

import json
from pathlib import Path

from core.workspace import Workspace
from tests import gitshim
from tests.conftest import git, make_repo
from tests.test_cli import wl

WORK = {"README.md": "edited in the lane\n", "new.txt": "untracked work\n", ".env": "EDITED=1\n"}


def _repo(base: Path, k: int) -> Workspace:
    repo = make_repo(base / f"r{k}", {"README.md": "# demo\n", ".gitignore": ".env\nnode_modules/\n"})
    (repo / ".env").write_text("SECRET=1\n")
    (repo / ".worktreeinclude").write_text(".env\n")
    ws = Workspace.open(repo)
    ws.tasks.create("t")
    return ws


def _dirty_lane(ws: Workspace) -> Path:
    path = Path(ws.lanes.create("x", task_id=1).lane["path"])
    for name, text in WORK.items():
        (path / name).write_text(text)
    (path / "node_modules").mkdir()
    (path / "node_modules" / "dep.js").write_text("build output\n")
    return path


def _recover(ws: Workspace, k: int) -> Workspace:
    """Alternate the ways recovery happens: reconcile --fix from the CLI, or simply the
    next command (every front end opens the workspace, which recovers)."""
    if k % 3 == 0:
        out = json.loads(wl(ws.root, "wt", "reconcile", "--fix", "--json").stdout)
        assert all(f["fixed"] for f in out if f["kind"] == "interrupted"), out
    return Workspace.open(ws.root)


def _assert_whole(ws: Workspace) -> None:
    """No operation left behind, the index agrees with git, no orphan branch."""
    assert [e["name"] for e in ws.lanes.list() if e.get("op")] == []
    assert [(f.kind, f.name) for f in ws.lanes.reconcile()] == []


def _assert_work_back(path: Path) -> None:
    for name, text in WORK.items():
        assert (path / name).read_text() == text, name


def _kill_every_step(tmp_path, args, setup, check) -> tuple[int, int]:
    bin_dir = gitshim.install(tmp_path / "shim")
    ws = setup(_repo(tmp_path, 0))
    killed, calls = gitshim.run_until(bin_dir, ws.root, args, stall_at=0)
    assert not killed and len(calls) >= 2, calls  # real git steps only (create: base, worktree add)
    kills = 0
    for k in range(1, len(calls) + 1):
        ws = setup(_repo(tmp_path, k))
        killed, log = gitshim.run_until(bin_dir, ws.root, args, stall_at=k)
        assert killed, (k, "\n".join(log))
        kills += killed
        ws = _recover(ws, k)
        _assert_whole(ws)
        check(ws, k)
    assert kills == len(calls)
    return len(calls), kills


def test_kill_remove_force_at_every_git_step(tmp_path):
    def check(ws, k):
        lane = ws.lanes.get("x")
        path = Path(lane["path"])
        if lane["status"] == "removed":  # rolled forward: the work is in the snapshot
            assert not path.exists()
            ws.lanes.restore("x")
        _assert_work_back(path)
        assert not (path / "node_modules").exists() or lane["status"] != "removed"
        assert ws.tasks.get(1)["worktree"] == "x"

    steps, kills = _kill_every_step(tmp_path, ["wt", "remove", "x", "--force"],
                                    lambda ws: (_dirty_lane(ws), ws)[1], check)
    print(f"remove --force: {steps} git steps, {kills} kills survived")


def test_kill_restore_at_every_git_step(tmp_path):
    def setup(ws):
        _dirty_lane(ws)
        ws.lanes.remove("x", force=True)
        return ws

    def check(ws, k):
        lane = ws.lanes.get("x")
        if lane["status"] == "removed":  # rolled back: restore again
            ws.lanes.restore("x")
        _assert_work_back(Path(ws.lanes.get("x")["path"]))
        assert ws.lanes.get("x")["archive_ref"] is None  # never re-applied later

    steps, kills = _kill_every_step(tmp_path, ["wt", "restore", "x"], setup, check)
    print(f"restore: {steps} git steps, {kills} kills survived")


def test_kill_create_at_every_git_step(tmp_path):
    def check(ws, k):
        lanes = ws.lanes.list()
        if not lanes:  # rolled back: nothing left, and the name is free again
            assert git(ws.root, "branch", "--list", "wt/*") == ""
            assert not (ws.root / ".worktrees" / "x").exists()
            ws.lanes.create("x", task_id=1)
        path = Path(ws.lanes.get("x")["path"])
        assert (path / "README.md").read_text() == "# demo\n"
        assert (path / ".env").read_text() == "SECRET=1\n"
        assert ws.tasks.get(1)["worktree"] == "x"

    steps, kills = _kill_every_step(tmp_path, ["wt", "create", "x", "--task", "1"],
                                    lambda ws: ws, check)
    print(f"create: {steps} git steps, {kills} kills survived")
