"""File tools under attack: a second process swapping directories and symlinks while the
tools run, FIFOs and sockets, files too big to hold; and the git hooks and lane
confinement of the agent's other tools."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from core.agent.tools import EDIT_BYTES_MAX, READ_BYTES_MAX, Binding, Toolbox
from core.workspace import Workspace
from tests.test_agent_support import Events, agent, api, calls, result_of  # noqa: F401

ATTEMPTS = 3000
SECRET = "OUTSIDE-SECRET"

# Swaps, as fast as it can until told to stop, with renameat2(RENAME_EXCHANGE), so the
# names never go missing: d is a real directory inside the root, or a symlink to a
# directory outside; g is a file inside, or a symlink to the secret outside.
SWAPPER = r"""
import ctypes, os, sys
root, outside, stop = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
def exchange(a, b):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), 2) != 0:
        raise OSError(ctypes.get_errno(), "renameat2")
d, d_link, g, g_link = (os.path.join(root, n) for n in ("d", ".d-link", "g", ".g-link"))
os.symlink(outside, d_link)
os.symlink(os.path.join(outside, "f"), g_link)
print("ready", flush=True)
swaps = 0
while not os.path.exists(stop):
    exchange(d, d_link); exchange(g, g_link)
    exchange(d, d_link); exchange(g, g_link)
    swaps += 1
print(swaps, flush=True)
"""


@pytest.fixture
def tb(ws) -> Toolbox:
    return Toolbox(ws)


def test_symlink_swap_race_never_reads_or_writes_outside(tb, ws, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f").write_text(SECRET)
    (ws.root / "d").mkdir()
    (ws.root / "d" / "f").write_text("inside")
    (ws.root / "g").write_text("inside")
    stop = tmp_path / "stop"
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(ws.root), str(outside),
                                str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        assert swapper.stdout.readline() == "ready\n"
        reads = writes = escapes = 0
        for i in range(ATTEMPTS):
            for path in ("d/f", "g"):
                res = tb.run("read_file", {"path": path})
                reads += not res.is_error
                escapes += SECRET in res.output
            res = tb.run("write_file", {"path": f"d/w{i % 7}.txt", "content": "x"})
            writes += not res.is_error
        assert swapper.poll() is None, "the swapper stopped: the race did not run"
    finally:
        stop.touch()
        try:
            swaps = int(swapper.communicate(timeout=10)[0])
        except subprocess.TimeoutExpired:
            os.kill(swapper.pid, signal.SIGKILL)
            swapper.wait()
            raise
    assert swaps > ATTEMPTS       # the names really moved all the while
    assert escapes == 0
    assert sorted(p.name for p in outside.iterdir()) == ["f"]    # nothing written outside
    assert (outside / "f").read_text() == SECRET
    assert reads > 0 and writes > 0    # the tools still worked between the swaps


def _returns_quickly(fn):
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(res=fn()), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "the tool blocked"
    return out["res"]


def test_fifos_and_sockets_are_refused_without_blocking(tb, ws):
    os.mkfifo(ws.root / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws.root / "sock"))
    try:
        for path, kind in (("pipe", "a FIFO"), ("sock", "a socket")):
            for name, extra in (("read_file", {}), ("write_file", {"content": "x"}),
                                ("edit_file", {"old_text": "a", "new_text": "b"})):
                res = _returns_quickly(lambda: tb.run(name, {"path": path, **extra}))
                assert res.is_error and f"is {kind}" in res.output, (name, res.output)
    finally:
        sock.close()
    assert (ws.root / "pipe").is_fifo()


def test_size_is_capped_before_reading(tb, ws):
    huge = ws.root / "huge.bin"
    with open(huge, "wb") as fh:          # sparse: 200 MB that cost nothing to make
        fh.truncate(200 * 1024 * 1024)
    res = tb.run("edit_file", {"path": "huge.bin", "old_text": "a", "new_text": "b"})
    assert res.is_error and f"edit_file works on files up to {EDIT_BYTES_MAX} bytes" in res.output
    res = tb.run("read_file", {"path": "huge.bin", "limit": 1})
    assert not res.is_error and f"file larger than {READ_BYTES_MAX} bytes" in res.output
    assert huge.stat().st_size == 200 * 1024 * 1024


def test_writes_replace_links_instead_of_writing_through_them(tb, ws, tmp_path):
    outside = tmp_path / "target.txt"
    outside.write_text("outside")
    os.link(outside, ws.root / "hard.txt")       # a hard link into the repository
    assert not tb.run("write_file", {"path": "hard.txt", "content": "new"}).is_error
    assert outside.read_text() == "outside" and (ws.root / "hard.txt").read_text() == "new"
    (ws.root / "x.sh").write_text("echo a\n")
    (ws.root / "x.sh").chmod(0o755)
    tb.run("edit_file", {"path": "x.sh", "old_text": "a", "new_text": "b"})
    assert (ws.root / "x.sh").read_text() == "echo b\n"
    assert (ws.root / "x.sh").stat().st_mode & 0o777 == 0o755   # the mode is kept
    assert [p.name for p in ws.root.iterdir() if p.name.endswith(".tmp")] == []


def test_dotdot_and_links_inside_the_root_resolve_like_the_kernel(tb, ws):
    (ws.root / "a" / "b").mkdir(parents=True)
    (ws.root / "a" / "b" / "c.txt").write_text("deep")
    (ws.root / "up").symlink_to("a/b")
    (ws.root / "abs").symlink_to(ws.root / "a")
    assert tb.run("read_file", {"path": "up/../b/c.txt"}).output == "deep"   # a/b/.. = a
    assert tb.run("read_file", {"path": "abs/b/c.txt"}).output == "deep"
    assert tb.run("read_file", {"path": str(ws.root / "a/b/c.txt")}).output == "deep"
    res = tb.run("write_file", {"path": "up/../../../x", "content": "x"})
    assert res.is_error and "outside the repository" in res.output
    (ws.root / "loop").symlink_to("loop")
    assert "too many levels" in tb.run("read_file", {"path": "loop"}).output
    res = tb.run("write_file", {"path": "abs/../.git/config", "content": "x"})
    assert res.is_error and "inside .git" in res.output


# -- git hooks ------------------------------------------------------------------------------

@pytest.fixture
def hooked(ws):
    marker = ws.root.parent / "hook-ran"
    hook = ws.root / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    hook.chmod(0o755)
    return marker


def test_agent_lane_tools_never_run_repository_hooks(tb, ws, hooked):
    # reference-transaction runs on every ref update: branch creation, the archive ref of
    # a forced removal, a branch delete.
    ref_hook = ws.root / ".git" / "hooks" / "reference-transaction"
    ref_hook.write_text(f"#!/bin/sh\necho ref >> {hooked}\n")
    ref_hook.chmod(0o755)
    assert not tb.run("worktree_create", {"name": "a"}).is_error
    (ws.root / ".worktrees" / "a" / "wip.txt").write_text("wip")
    assert not tb.run("worktree_remove", {"name": "a", "force": True}).is_error
    assert not tb.run("worktree_restore", {"name": "a"}).is_error
    assert not tb.run("worktree_remove", {"name": "a", "force": True,
                                          "delete_branch": True}).is_error
    assert not hooked.exists()
    ref_hook.unlink()
    ws.lanes.create("by-hand")             # the user's own create runs them, as git would
    assert hooked.read_text() == "ran\n"


def test_hooks_run_when_the_call_is_approved_command_execution(repo, hooked, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-hook-0123456789")
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(hook.read_text() + f"printenv ANTHROPIC_API_KEY >> {hooked}\n")
    (repo / ".worklanes.toml").write_text('[lanes]\nsetup = "true"\n')
    tb = Toolbox(Workspace.open(repo))
    assert tb.effect("worktree_create", {"name": "a"}) == "command"
    assert not tb.run("worktree_create", {"name": "a"}).is_error
    assert hooked.read_text() == "ran\n\n"     # it ran, and the key was not there


# -- lane-bound agents ----------------------------------------------------------------------

def test_a_lane_bound_agent_acts_only_on_its_lane_and_its_task(ws, api):
    mine = ws.tasks.create("mine")
    other = ws.tasks.create("other")
    ws.lanes.create("a", task_id=mine["id"])
    ws.lanes.create("b", task_id=other["id"])
    ws.lanes.create("gone")
    ws.lanes.remove("gone")
    refused = [("worktree_keep", {"name": "b"}), ("worktree_remove", {"name": "b"}),
               ("worktree_restore", {"name": "gone"}), ("worktree_create", {"name": "c"}),
               ("worktree_run", {"name": "b", "command": "touch z"}),
               ("worktree_reconcile", {"fix": True}),
               ("task_update", {"task_id": other["id"], "status": "completed"}),
               ("task_bind_worktree", {"task_id": other["id"], "worktree": "a"}),
               ("task_block", {"task_id": other["id"], "blocked_by": mine["id"]})]
    allowed = [("task_create", {"subject": "follow-up"}),
               ("task_update", {"task_id": mine["id"], "owner": "lane-agent"}),
               ("worktree_keep", {"name": "a"}), ("worktree_status", {"name": "b"})]
    api.add(calls(*refused, *allowed))
    api.add_text("done")
    ag = agent(ws, api, lane=Binding("a", mine["id"]))
    ag.send("go", Events())
    results = result_of(api, -1)
    for (name, args), out in zip(refused, results):
        assert out.startswith("Error: this agent works in lane 'a'"), (name, out)
    assert not any(r.startswith("Error") for r in results[len(refused):]), results
    assert ws.tasks.get(other["id"])["status"] == "in_progress"
    assert ws.lanes.get("b")["status"] == "active" and ws.lanes.get("gone")["status"] == "removed"
    assert not (ws.root / ".worktrees" / "b" / "z").exists()
    assert ws.tasks.get(mine["id"])["owner"] == "lane-agent"
    assert [t["subject"] for t in ws.tasks.list().tasks][-1] == "follow-up"
    assert "you may update task 1 only" in api.requests[0].body["system"][0]["text"]


def test_binding_by_name_takes_the_lane_task_and_a_lane_without_one_updates_none(ws):
    task = ws.tasks.create("t")
    ws.lanes.create("a", task_id=task["id"])
    ws.lanes.create("free")
    assert Toolbox(ws, "a").binding == Binding("a", task["id"])
    res = Toolbox(ws, "free").run("task_update", {"task_id": task["id"], "owner": "x"})
    assert res.is_error and "its lane has no task" in res.output
    assert json.loads(Toolbox(ws, "free").run("task_create", {"subject": "n"}).output)["id"] == 2
