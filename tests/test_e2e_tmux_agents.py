"""Dispatch end to end in a real terminal: tmux runs the installed ``worklanes`` against
the local fake Messages API server of this test; ``A`` dispatches both ready tasks, one
agent's approval waits in the queue and ``j`` answers it."""

from __future__ import annotations

import os
from pathlib import Path

from core.workspace import Workspace
from tests.conftest import make_repo
from tests.fakeapi import FakeAPI, Reply, ToolUse
from tests import test_e2e_tmux as e2e
from tests.test_e2e_tmux import Tmux, installed_command

pytestmark = getattr(e2e, "pytestmark", [])   # the same tmux check (skipped only off CI)


def open_app(repo, tmp_path, api: FakeAPI) -> tuple[Tmux, Path]:
    """The installed app in tmux, against ``api``, with a home of its own; the marker
    file gets its exit code."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "TMUX", "TEXTUAL")) and k != "MODEL_ID"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="xterm-256color",
               ANTHROPIC_API_KEY="test-key-e2e", ANTHROPIC_BASE_URL=api.url)
    marker = tmp_path / "exit-code"
    return Tmux(repo, f"{installed_command()}; echo $? > {marker}; sleep 60", env), marker


def test_e2e_dispatch_in_the_app_with_a_queued_approval(tmp_path):
    repo = make_repo(tmp_path / "repo")
    ws = Workspace.open(repo)
    ws.tasks.create("alpha writes")
    ws.tasks.create("beta reads")
    with FakeAPI() as api:
        alpha = api.route("alpha")
        alpha.add(Reply([ToolUse("bash", {"command": "echo from-alpha > alpha.txt"})]))
        alpha.add_text("alpha wrote alpha.txt")
        api.route("beta").add_text("beta had nothing to change")
        tmux, marker = open_app(repo, tmp_path, api)
        try:
            tmux.wait_text("Tasks 2")
            tmux.settle()
            tmux.keys("A")
            # bash asks (the default policy): alpha waits in the queue, beta goes on.
            tmux.wait(lambda t: "1 waiting" in t and "✓ done" in t, what="alpha waiting, beta done")
            assert "approve bash?" not in tmux.screen()    # no dialog of its own accord
            tmux.keys("j")
            tmux.wait_text("lane alpha-writes: approve bash?")
            tmux.keys("y")
            tmux.wait(lambda t: t.count("✓ done") == 2, what="both done")
            tmux.wait_text("alpha wrote alpha.txt")         # its conversation is shown
            tmux.keys("q")
            assert tmux.exit_code(marker) == "0"
        finally:
            tmux.kill()
        assert api.errors == []
    lanes = {lane["name"]: lane for lane in Workspace.open(repo).lanes.list()}
    assert (repo / ".worktrees" / "alpha-writes" / "alpha.txt").read_text() == "from-alpha\n"
    assert {n: lane["agent"]["state"] for n, lane in lanes.items()} == {
        "alpha-writes": "done", "beta-reads": "done"}


def test_e2e_the_queue_takes_the_keys_typed_right_after_J(tmp_path):
    """Two agents wait; "J" and "y" arrive as one burst: the y answers the queue's first
    row, never a pane key under it (y is free there, but a or n would not be)."""
    repo = make_repo(tmp_path / "repo")
    ws = Workspace.open(repo)
    ws.tasks.create("alpha writes")
    ws.tasks.create("beta writes")
    with FakeAPI() as api:
        for name in ("alpha", "beta"):
            route = api.route(name)
            route.add(Reply([ToolUse("bash", {"command": f"echo {name} > {name}.txt"})]))
            route.add_text(f"{name} is through")
        tmux, marker = open_app(repo, tmp_path, api)
        try:
            tmux.wait_text("Tasks 2")
            tmux.settle()
            tmux.keys("A")
            tmux.wait(lambda t: "2 waiting" in t and "J Queue" in t, what="both waiting")
            tmux.keys("J", "y")                    # one burst, as a fast typist sends it
            tmux.wait_text("Waiting for you: 1")
            tmux.keys("n")
            tmux.wait_text("No agent is waiting for an answer")
            tmux.keys("Escape")
            tmux.wait(lambda t: "Waiting for you" not in t and t.count("✓ done") == 2,
                      what="the queue closed, both done")
            tmux.keys("q")
            assert tmux.exit_code(marker) == "0"
        finally:
            tmux.kill()
        assert api.errors == []
    wrote = [n for n in ("alpha", "beta")
             if (repo / ".worktrees" / f"{n}-writes" / f"{n}.txt").exists()]
    assert len(wrote) == 1                         # the first row allowed, the other denied
