"""The key never reaches a process the agent starts, nor anything written: through the
real loop against the fake server, with real commands."""

from __future__ import annotations

import base64
import json

import pytest

from core import secrets
from core.agent.tools import Toolbox
from tests.test_agent_support import (KEY, Events, agent, api, calls,  # noqa: F401
                                      result_of)

TOKEN = "auth-token-0123456789-XYZ"
GH = "ghp_0123456789abcdefghij"


def forms(secret: str) -> list[str]:
    """How a command could spell the secret back: as is, reversed, hex, base64."""
    raw = secret.encode()
    return [secret, secret[::-1], raw.hex(), base64.b64encode(raw).decode()[:-4]]


def leaked(text: str, secret: str = KEY) -> list[str]:
    flat = "".join(text.split())
    return [f for f in forms(secret) if f in flat or f.lower() in flat.lower()]


@pytest.fixture
def keyed_env(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GH)
    monkeypatch.setenv("MY_SERVICE_API_KEY", "service-key-0123456789")
    monkeypatch.setenv("WORKLANES_PLAIN", "plain-value")


def test_commands_never_get_the_key_so_rev_and_base64_show_nothing(ws, api, keyed_env):
    api.add(calls(("bash", {"command": "printenv ANTHROPIC_API_KEY | rev"}),
                  ("bash", {"command": "printenv ANTHROPIC_API_KEY | base64"}),
                  ("bash", {"command": "printenv ANTHROPIC_AUTH_TOKEN | rev"}),
                  ("bash", {"command": "env | cut -d= -f1 | sort"})))
    api.add_text("nothing there")
    ag = agent(ws, api)
    ev = Events()
    ag.send("show me the key", ev)
    rev, b64, token, names = result_of(api, -1)
    assert rev == b64 == token == "(no output)"
    names = names.split("\n")
    assert "WORKLANES_PLAIN" in names and "PATH" in names
    for dropped in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GITHUB_TOKEN",
                    "MY_SERVICE_API_KEY"):
        assert dropped not in names
    everything = repr(list(ev)) + ag.transcript_path.read_text() + json.dumps(
        [r.body for r in api.requests])
    assert leaked(everything) == [] and leaked(everything, TOKEN) == []


def test_a_key_that_reaches_output_another_way_is_scrubbed_in_every_spelling(ws, api):
    # The key sits in a file (a committed .env, say): the environment cannot help, the
    # scrubber must catch it reversed, upper-cased, hex-dumped, base64'd at every byte
    # alignment, and wrapped over lines.
    (ws.root / "stolen.txt").write_text(KEY)
    commands = ["cat stolen.txt", "rev stolen.txt", "tr a-z A-Z < stolen.txt",
                "od -An -tx1 stolen.txt", "base64 stolen.txt", "base64 -w 7 stolen.txt",
                "(printf a; cat stolen.txt) | base64", "(printf ab; cat stolen.txt) | base64",
                "fold -w 5 stolen.txt"]
    api.add(calls(*[("bash", {"command": c}) for c in commands]))
    api.add_text("done")
    ag = agent(ws, api)
    ev = Events()
    ag.send("leak it", ev)
    outputs = result_of(api, -1)
    for command, out in zip(commands, outputs):
        assert "***" in out and leaked(out) == [], (command, out)
    assert leaked(ag.transcript_path.read_text()) == []
    assert leaked(repr(list(ev))) == []


def test_events_and_task_files_are_scrubbed(ws, api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    b64 = base64.b64encode(KEY.encode()).decode()
    api.add(calls(("task_create", {"subject": f"rotate {KEY}", "description": b64})))
    api.add_text("ok")
    agent(ws, api).send("note it", Events())
    (task_file,) = (ws.root / ".tasks").glob("task_*.json")
    task = json.loads(task_file.read_text())
    assert task["subject"] == "rotate ***" and task["description"].startswith("***")
    assert leaked(task_file.read_text()) == []
    ws.events.emit("custom.note", error=f"failed with {KEY[::-1]}")
    log = (ws.root / ".worktrees" / "events.jsonl").read_text()
    assert leaked(log) == [] and "task.created" in log


def test_env_drop_is_configurable_and_the_anthropic_names_always_go(ws, keyed_env, monkeypatch):
    monkeypatch.setenv("CUSTOM_THING", "custom-secret-0123")
    (ws.root / ".worklanes.toml").write_text(
        '[agent]\nenv_drop = ["custom_*"]\n'
        '[lanes]\nsetup = "printenv ANTHROPIC_API_KEY CUSTOM_THING GITHUB_TOKEN > seen.txt; true"\n')
    from core.workspace import Workspace
    ws = Workspace.open(ws.root)
    tb = Toolbox(ws)
    out = tb.run("bash", {"command": "printenv ANTHROPIC_API_KEY CUSTOM_THING GITHUB_TOKEN "
                                     "MY_SERVICE_API_KEY"}).output
    # the list replaces the defaults: GITHUB_TOKEN and MY_SERVICE_API_KEY now pass
    assert out.splitlines()[:2] == [GH, "service-key-0123456789"]
    ws.lanes.create("a")
    lane = ws.root / ".worktrees" / "a"
    assert (lane / "seen.txt").read_text() == GH + "\n"      # the setup command
    res = tb.run("worktree_run", {"name": "a", "command": "printenv ANTHROPIC_API_KEY; "
                                                          "printenv CUSTOM_THING; true"})
    assert res.output == "(no output)"


def test_a_variable_holding_a_known_secret_is_dropped_whatever_its_name(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("INNOCENT", f"prefix-{KEY}")
    env = secrets.child_env(())
    assert "INNOCENT" not in env and "ANTHROPIC_API_KEY" not in env and "PATH" in env
