"""`worklanes dispatch` headless, and the lane agent's state in `wt list`, `wt status`,
`task show` and `chat --lane`: CliRunner for the cases, real processes for Ctrl-C, a
kill -9 and the approval prompt on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time

from click.testing import CliRunner

from core.agent.transcript import INTERRUPTED
from core.workspace import Workspace
from tests.fakeapi import Fault, Reply
from tests.test_agent_support import api, calls  # noqa: F401
from tests.test_chat_cli import _proc_env, _read_until, env  # noqa: F401
from tests.test_lane_agents import valid_history
from tui.cli import main



def wl(repo, *args, input=None):
    return CliRunner().invoke(main, ["-C", str(repo), *args], input=input, catch_exceptions=False)


def agent_of(repo, lane: str) -> dict:
    rows = json.loads(wl(repo, "wt", "list", "--json").stdout)
    return next(r for r in rows if r["name"] == lane)["agent"]


# -- output --------------------------------------------------------------------------------

def test_lines_are_prefixed_with_the_lane_and_text_comes_a_line_at_a_time(repo, env):
    ws = Workspace.open(repo)
    t = ws.tasks.create("alpha lines")
    route = env.route("alpha")
    route.add(calls(("bash", {"command": "echo hi"}), text="Looking.\n"))
    route.add(calls(("task_update", {"task_id": t["id"], "status": "completed"})))
    route.add_text("All done.\nReport: said hi.")
    res = wl(repo, "dispatch", "--yes")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines() == [
        "[alpha-lines] dispatched task #1 (lane created)",
        "[alpha-lines] agent running (session "
        f"{agent_of(repo, 'alpha-lines')['session']})",
        "[alpha-lines] Looking.",
        "[alpha-lines] > bash: echo hi",
        "[alpha-lines]   ok: hi",
        "[alpha-lines] > task_update: 1",
        "[alpha-lines]   ok: #1 alpha lines [completed]",
        "[alpha-lines] All done.",
        "[alpha-lines] Report: said hi.",
        f"[alpha-lines] done (tokens in {agent_of(repo, 'alpha-lines')['tokens']['input']}, "
        f"out {agent_of(repo, 'alpha-lines')['tokens']['output']})",
    ]
    assert "[dispatch: 1 agent(s), 1 done, 0 not, 0 task(s) not started]" in res.stderr
    show = wl(repo, "task", "show", "1").stdout
    assert show.endswith("report:\nAll done.\nReport: said hi.\n")


def test_json_is_one_object_per_event_then_a_summary(repo, env):
    ws = Workspace.open(repo)
    ws.tasks.create("alpha json")
    ws.tasks.create("beta json")
    env.route("alpha").add(calls(("read_file", {"path": "README.md"}), text="one\ntwo"))
    env.route("alpha").add_text("alpha ok")
    env.route("beta").add(Fault.status(400, message="beta refused"))
    res = wl(repo, "dispatch", "--json", "--yes")
    assert res.exit_code == 1
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    *events, last = rows
    assert all({"lane", "task_id", "event"} <= set(r) for r in events)
    alpha = [r for r in events if r["lane"] == "alpha-json"]
    kinds = [r["event"] for r in alpha]
    assert kinds == ["dispatched", "state_changed", "text", "text",
                     "state_changed",                      # its tokens after the first call
                     "tool_started", "tool_finished", "text", "turn_finished",
                     "state_changed"]
    assert [r["text"] for r in alpha if r["event"] == "text"] == ["one", "two", "alpha ok"]
    assert alpha[4]["agent"]["tokens"]["output"] > 0
    assert alpha[5]["tool"] == "read_file" and alpha[5]["input"] == {"path": "README.md"}
    assert alpha[6]["output"] == "# demo" and alpha[6]["is_error"] is False
    assert alpha[-1]["state"] == "done" and alpha[-1]["agent"]["tokens"]["output"] > 0
    assert alpha[-2]["stop_reason"] == "end_turn"
    beta_end = [r for r in events if r["lane"] == "beta-json"][-1]
    assert beta_end["state"] == "failed" and "beta refused" in beta_end["agent"]["error"]
    assert last["event"] == "summary" and last["ok"] is False and last["stopped"] is False
    assert {r["lane"]: r["state"] for r in last["runs"]} == {"alpha-json": "done",
                                                            "beta-json": "failed"}


def test_bad_input_is_one_line_and_starts_nothing(repo, env, monkeypatch):
    res = wl(repo, "dispatch", "7")
    assert res.exit_code == 1 and res.output.strip().splitlines() == [
        "worklanes: task 7 does not exist; `worklanes task list` shows the board"]
    res = wl(repo, "dispatch")
    assert res.exit_code == 0 and "nothing to dispatch" in res.stderr
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    Workspace.open(repo).tasks.create("alpha")
    res = wl(repo, "dispatch")
    assert res.exit_code == 1 and "no Anthropic API key" in res.output
    assert env.requests == [] and Workspace.open(repo).lanes.list() == []
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-0000000000")
    index = repo / ".worktrees" / "index.json"
    index.write_text("{not json")
    res = wl(repo, "dispatch")
    assert res.exit_code == 1 and res.output.strip().splitlines() == [
        f"worklanes: {index} cannot be parsed (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)); it was left untouched - fix or move it away"]
    assert index.read_text() == "{not json" and env.requests == []


def test_without_a_terminal_side_effects_are_denied_unless_yes(repo, env):
    Workspace.open(repo).tasks.create("alpha deny")
    env.route("alpha").add(calls(("bash", {"command": "touch made.txt"})))
    env.route("alpha").add_text("it was denied")
    res = wl(repo, "dispatch")
    assert res.exit_code == 0, res.output
    assert "[alpha-deny]   denied: Denied: bash needs the user's approval" in res.stdout
    assert not (repo / ".worktrees" / "alpha-deny" / "made.txt").exists()


def test_wt_list_and_status_show_the_agent(repo, env):
    Workspace.open(repo).tasks.create("alpha shown")
    env.route("alpha").add_text("fine")
    assert wl(repo, "dispatch").exit_code == 0
    line = wl(repo, "wt", "list").stdout.strip()
    assert line.startswith("[active]  alpha-shown  #1  wt/alpha-shown")
    assert "agent=done (tokens in " in line
    status = wl(repo, "wt", "status", "alpha-shown").stdout
    assert "         agent: done (session " in status
    assert json.loads(wl(repo, "wt", "status", "alpha-shown", "--json").stdout)["agent"]["state"] \
        == "done"


def test_chat_lane_continues_the_lane_agents_conversation(repo, env):
    Workspace.open(repo).tasks.create("alpha talk")
    route = env.route("alpha")
    route.add_text("first turn")
    route.add_text("second turn")
    assert wl(repo, "dispatch").exit_code == 0
    res = wl(repo, "chat", "--lane", "alpha-talk", "and now?")
    assert res.exit_code == 0 and "second turn" in res.stdout
    sent = route.requests[1]["messages"]
    assert sent[0]["content"][0]["text"].startswith("Task #1: alpha talk")
    assert sent[1]["content"][0]["text"] == "first turn"
    assert sent[2]["content"][0]["text"] == "and now?"


# -- real processes ----------------------------------------------------------------------------

def test_ctrl_c_cancels_every_agent_and_leaves_valid_histories(repo, api):
    ws = Workspace.open(repo)
    ws.tasks.create("alpha long")
    ws.tasks.create("beta long")
    gate = api.gate()
    api.route("alpha").add(Reply([gate.text("alpha starts and then")]))
    api.route("beta").add(Reply([gate.text("beta starts and then")]))
    # As at a terminal: SIGINT at its default, also when this test itself runs with it
    # ignored (a background job, as `cmd &` in a script starts it); Python then installs
    # no KeyboardInterrupt handler and Ctrl-C could not be tested.
    proc = subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), "dispatch", "--json"],
                            env=_proc_env(api), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert gate.wait_parked(2, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelling every lane agent" in err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[-1]["event"] == "summary" and rows[-1]["stopped"] is True
    for lane in ("alpha-long", "beta-long"):
        rec = agent_of(repo, lane)
        assert rec["state"] == "cancelled"
        assert valid_history(ws, rec["session"])[0]["role"] == "user"


def test_a_killed_dispatch_leaves_interrupted_agents_that_resume(repo, env, tmp_path):
    api = env
    ws = Workspace.open(repo)
    ws.tasks.create("alpha crash")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    route = api.route("alpha")
    route.add(calls(("bash", {"command": f"cat {fifo}"})))
    proc = subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), "dispatch", "--yes"],
                            env=_proc_env(api), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        writer = os.open(fifo, os.O_WRONLY)   # returns once the agent's `cat` has it open
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    os.close(writer)                          # `cat` reads EOF and ends
    rec = agent_of(repo, "alpha-crash")
    assert rec["state"] == "interrupted"
    assert "agent=interrupted" in wl(repo, "wt", "list").stdout

    route.add_text("resumed and finished")
    res = wl(repo, "dispatch", "1", "--yes")
    assert res.exit_code == 0, res.output
    sent = route.requests[-1]["messages"]
    tool_use = sent[1]["content"][0]
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": tool_use["id"],
                                     "content": INTERRUPTED, "is_error": True}
    assert sent[2]["content"][-1]["text"].startswith("Your previous session was interrupted.")
    after = agent_of(repo, "alpha-crash")
    assert after["state"] == "done" and after["session"] == rec["session"]


def test_approval_prompts_come_one_at_a_time_and_name_the_lane(repo, api):
    ws = Workspace.open(repo)
    for name in ("alpha", "beta"):
        ws.tasks.create(f"{name} ask")
        api.route(name).add(calls(("bash", {"command": f"touch {name}.txt"})))
        api.route(name).add_text(f"{name} finished")
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), "dispatch"],
                            env=_proc_env(api), stdin=child_fd, stdout=child_fd,
                            stderr=child_fd, close_fds=True)
    os.close(child_fd)
    asked = []
    try:
        seen = b""
        for _ in range(2):
            seen = _read_until(main_fd, b"[n]o ")
            assert seen.count(b"Allow bash") == 1, seen     # never two prompts at once
            asked.append(seen[seen.index(b"Allow bash"):].split(b"?")[0].decode())
            os.write(main_fd, b"y\n")
        seen = _read_until(main_fd, b"[dispatch:")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main_fd)
    assert sorted(asked) == ["Allow bash: touch alpha.txt (lane alpha-ask)",
                             "Allow bash: touch beta.txt (lane beta-ask)"]
    for name in ("alpha", "beta"):
        assert (repo / ".worktrees" / f"{name}-ask" / f"{name}.txt").exists()


def test_the_chat_hosts_the_lane_agents_its_board_agent_starts(repo, env):
    Workspace.open(repo).tasks.create("alpha handed over")
    env.add(calls(("lane_agent_start", {"task_id": 1})))
    env.add_text("Started it.")
    # The lane agent's reply waits at a gate until the chat says it waits for it (the
    # runner captures stderr in-process): proof that the chat does not return first.
    gate = env.gate()
    env.route("alpha").add(Reply([gate.text("alpha did it")]))

    def open_once_the_chat_waits() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            err = getattr(sys.stderr, "buffer", None)
            if hasattr(err, "getvalue") and b"[waiting for 1 lane agent" in err.getvalue():
                break
            time.sleep(0.01)
        gate.open()
    threading.Thread(target=open_once_the_chat_waits, daemon=True).start()
    res = wl(repo, "chat", "--yes", "board: hand task 1 over")
    assert res.exit_code == 0, res.output
    assert "> lane_agent_start: 1" in res.stdout
    assert "[alpha-handed-over] alpha did it" in res.stdout
    assert "[waiting for 1 lane agent(s); Ctrl-C cancels them]" in res.stderr
    assert agent_of(repo, "alpha-handed-over")["state"] == "done"
