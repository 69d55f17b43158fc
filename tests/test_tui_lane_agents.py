"""Lane agents in the app (Pilot), against the real local fake Messages API server with
one route (own script) per conversation. Overlap and mid-turn moments are held with
gates, never timed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from core.agent.lane_state import agent_state
from core.workspace import Workspace
from tests.fakeapi import Reply, fakeapi  # noqa: F401  (fixture)
from tests.test_agent_support import calls
from tests.test_lane_agents import two_tasks, valid_history
from tests.tui_helpers import notes, running, screen_text, wait_for
from tui.notify import NotifySettings, sequences
from tui.screens.dialogs import ApprovalScreen

SIZE = (140, 40)


@pytest.fixture
def keyed(monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))   # no user [notify]


def opened(repo, api, **kw):
    kw.setdefault("policy", "auto")
    return running(repo, size=SIZE, base_url=api.url, **kw)


def state(app, lane: str) -> str | None:
    cells = app.lane_table.cells_of(lane)
    return cells[-1][0] if cells else None


def view_text(view) -> str:
    return view.text()


def header(app) -> str:
    return str(app.status_line.render())


async def test_dispatch_shows_states_counts_and_each_lanes_conversation(repo, keyed, fakeapi):
    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    two_tasks(ws, fakeapi, gate, gate)
    ws.tasks.create("gamma waits for alpha", blocked_by=[1])   # not ready: no lane
    alerts: list[str] = []
    async with opened(repo, fakeapi, alert_sink=alerts.append) as (pilot, app):
        assert "agents" not in header(app)          # no lane agent yet: nothing to count
        await pilot.press("A")
        await wait_for(pilot, lambda: gate.parked == 2, what="both agents mid-reply")
        await wait_for(pilot, lambda: state(app, "alpha-side") == state(app, "beta-side")
                       == "running", what="running shown")
        await wait_for(pilot, lambda: "agents 2 running · 0 waiting" in header(app), what="counts")
        # The board's cursor is on task 1, the lanes cursor on its lane: its agent is shown.
        chat = app.chat
        await wait_for(pilot, lambda: chat.shown_lane == "alpha-side", what="alpha shown")
        assert chat.border_title == "Lane agent · alpha-side"
        await wait_for(pilot, lambda: "alpha" in view_text(chat.lane_view), what="alpha text")
        assert "Task #1: alpha side" in view_text(chat.lane_view)   # its prompt
        assert chat.input.disabled                                  # its turn runs
        await pilot.press("down")
        await wait_for(pilot, lambda: chat.shown_lane == "beta-side", what="beta shown")
        await wait_for(pilot, lambda: "beta" in view_text(chat.lane_view), what="beta text")
        assert "alpha" not in view_text(chat.lane_view)
        await pilot.press("down")                   # a task without a lane: the board agent
        await wait_for(pilot, lambda: chat.shown_lane is None, what="board shown")
        assert chat.border_title == "Board agent"
        await pilot.press("up")
        await wait_for(pilot, lambda: chat.shown_lane == "beta-side", what="beta again")
        await pilot.press("B")
        assert chat.shown_lane is None
        await pilot.press("up", "down")             # the selection shows beta's agent again
        await wait_for(pilot, lambda: chat.shown_lane == "beta-side", what="beta again")
        gate.open()
        await wait_for(pilot, lambda: state(app, "alpha-side") == state(app, "beta-side")
                       == "done", what="both done")
        await wait_for(pilot, lambda: "beta is working on it" in view_text(chat.lane_view),
                       what="beta's whole reply, live")
        await wait_for(pilot, lambda: "agents 0 running · 0 waiting" in header(app), what="idle")
        assert app.lane_table.cells_of("beta-side")[-1][1] > 0     # its tokens
        assert "✓ done" in screen_text(app)
        await wait_for(pilot, lambda: "Dispatch done: 2 of 2" in notes(app), what="summary")
        assert not chat.input.disabled
    assert alerts == []                             # notifications are off by default
    assert fakeapi.errors == []


async def test_approvals_queue_without_taking_the_focus_and_are_answered_with_j(repo, keyed,
                                                                                fakeapi):
    ws = Workspace.open(repo)
    ws.tasks.create("gamma files")
    route = fakeapi.route("gamma")
    route.add(calls(("bash", {"command": "echo hi > gamma.txt"})))
    route.add_text("gamma done")
    async with opened(repo, fakeapi, policy="ask") as (pilot, app):
        await pilot.press("a")                      # from the board: the task's agent
        await pilot.press("n")                      # the user starts typing elsewhere
        await pilot.press(*"half")
        host = app.lane_host
        await wait_for(pilot, lambda: host.queue.pending(), what="approval queued")
        await wait_for(pilot, lambda: state(app, "gamma-files") == "waiting", what="waiting")
        await pilot.press(*" done")
        quick = app.tasks_pane.quick_add
        assert app.screen is app.main and quick.has_focus and quick.value == "half done"
        await wait_for(pilot, lambda: "1 waiting" in header(app), what="waiting counted")
        await wait_for(pilot, lambda: "Lane gamma-files asks: bash" in notes(app), what="toast")
        await pilot.press("enter")                  # the typing was never disturbed
        await wait_for(pilot, lambda: any(t["subject"] == "half done"
                                          for t in ws.tasks.list().tasks), what="typed task")
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="asked")
        assert "lane gamma-files: approve bash?" in screen_text(app)
        assert app.chat.shown_lane == "gamma-files"  # answered over that agent's chat
        assert "Waiting for your answer: bash" in view_text(app.chat.lane_view)
        await pilot.press("y")
        await wait_for(pilot, lambda: state(app, "gamma-files") == "done", what="done")
        lane = ws.lanes.get("gamma-files")
        assert (lane["path"] and open(f"{lane['path']}/gamma.txt").read() == "hi\n")
        assert not host.queue.pending()
        await pilot.press("j")
        await wait_for(pilot, lambda: "No agent is waiting" in notes(app), what="empty queue")
    assert fakeapi.errors == []


async def test_esc_cancels_only_the_shown_agents_turn(repo, keyed, fakeapi):
    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    two_tasks(ws, fakeapi, gate, gate)
    async with opened(repo, fakeapi) as (pilot, app):
        await pilot.press("A")
        await wait_for(pilot, lambda: gate.parked == 2, what="both mid-reply")
        await wait_for(pilot, lambda: app.chat.shown_lane == "alpha-side", what="alpha shown")
        # Said in the input, the pane's frame left alone (a new frame text repaints it all).
        await wait_for(pilot, lambda: "Working… esc cancels" in screen_text(app),
                       what="the input saying the turn runs")
        assert not app.chat.border_subtitle
        await pilot.press("escape")
        await wait_for(pilot, lambda: state(app, "alpha-side") == "cancelled", what="cancelled")
        assert state(app, "beta-side") == "running" and app.lane_host.running("beta-side")
        gate.open()
        await wait_for(pilot, lambda: state(app, "beta-side") == "done", what="beta done")
        assert "Working… esc cancels" not in screen_text(app)
    valid_history(ws, agent_state(ws.lanes.get("alpha-side"))["session"])


async def test_quit_mid_run_then_reopen_shows_the_state_and_a_resumes(repo, keyed, fakeapi):
    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    ws.tasks.create("alpha quits")
    route = fakeapi.route("alpha")
    route.add(Reply([gate.text("alpha is half way")]))
    async with opened(repo, fakeapi) as (pilot, app):
        await pilot.press("a")
        await wait_for(pilot, lambda: gate.parked == 1, what="mid-reply")
        await pilot.press("q")
    record = agent_state(ws.lanes.get("alpha-quits"))
    assert record["state"] == "cancelled"           # recorded before the app was gone
    history = valid_history(ws, record["session"])
    assert history[0]["content"][0]["text"].startswith("Task #1: alpha quits")
    route.add_text("alpha carries on")
    async with opened(repo, fakeapi) as (pilot, app):
        assert state(app, "alpha-quits") == "cancelled"
        assert "agents 0 running" in header(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: state(app, "alpha-quits") == "done", what="resumed")
        await wait_for(pilot, lambda: "alpha carries on" in view_text(app.chat.lane_view),
                       what="the resumed reply")
    resumed = route.requests[-1]["messages"][0]["content"]    # the same conversation, and
    assert resumed[0] == history[0]["content"][0]             # a note to carry on added
    assert "Continue task #1" in resumed[-1]["text"]
    assert fakeapi.errors == []


async def test_a_resumes_an_interrupted_agent(repo, keyed, fakeapi):
    from core.agent.loop import Agent
    from core.agent.transcript import INTERRUPTED
    from tests.test_agent_support import config

    ws = Workspace.open(repo)
    task = ws.tasks.create("alpha resume")
    ws.lanes.create("alpha-resume", task_id=task["id"])
    crashed = Agent(ws, config(fakeapi), lane="alpha-resume")
    crashed.transcript.message({"role": "user", "content": [{"type": "text",
                                                              "text": "Task #1: alpha"}]})
    crashed.transcript.message({"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_open", "name": "bash", "input": {"command": "make"}}]})
    ws.lanes.update("alpha-resume", agent={"state": "running", "session": crashed.session_id,
                                           "pid": 2 ** 22 + 7, "proc_start": "1"})
    route = fakeapi.route("alpha")
    route.add_text("picked up where I stopped")
    async with opened(repo, fakeapi) as (pilot, app):
        assert state(app, "alpha-resume") == "interrupted"
        assert "! interrupted" in screen_text(app)
        await wait_for(pilot, lambda: app.chat.shown_lane == "alpha-resume", what="shown")
        await wait_for(pilot, lambda: "Task #1: alpha" in view_text(app.chat.lane_view),
                       what="its transcript")
        await pilot.press("a")
        await wait_for(pilot, lambda: state(app, "alpha-resume") == "done", what="resumed")
        await wait_for(pilot, lambda: "picked up where I stopped" in view_text(app.chat.lane_view),
                       what="live reply")
        assert "Resumed the agent of lane alpha-resume" in notes(app)
    sent = route.requests[0]["messages"]
    assert sent[2]["content"][0]["content"] == INTERRUPTED
    assert "interrupted" in sent[2]["content"][-1]["text"]


async def finish_one_agent(repo, api, settings: str, until) -> list[str]:
    """Run one lane agent to its end with these [notify] settings; what was written."""
    (repo / ".worklanes.toml").write_text(f"[notify]\n{settings}\n")
    Workspace.open(repo).tasks.create("delta notify")
    api.route("delta").add_text("delta done")
    alerts: list[str] = []
    async with opened(repo, api, alert_sink=alerts.append) as (pilot, app):
        await pilot.press("a")
        await wait_for(pilot, lambda: state(app, "delta-notify") == "done", what="done")
        await wait_for(pilot, lambda: until(app, alerts), what="notified")
    return alerts


async def test_bell_and_desktop_notification_when_asked_for(repo, keyed, fakeapi):
    alerts = await finish_one_agent(repo, fakeapi, 'bell = true\ndesktop = "osc777"',
                                    lambda app, alerts: len(alerts) == 2)
    assert alerts == ["\a", "\x1b]777;notify;worklanes: lane delta-notify;agent done\x07"]


async def test_a_bad_notify_setting_is_named_and_nothing_is_sent(repo, keyed, fakeapi):
    alerts = await finish_one_agent(
        repo, fakeapi, 'desktop = "loud"',
        lambda app, alerts: "desktop must be one of off, osc9, osc777" in notes(app))
    assert alerts == []


def test_notification_text_cannot_end_or_start_a_sequence():
    title = "lane x\x1b]9;pwned\x07"
    for desktop in ("osc9", "osc777"):
        (seq,) = sequences(NotifySettings(desktop=desktop), title, "done;\nnow")
        body = seq[seq.index("]") + 1:-1]
        assert "\x1b" not in body and "\x07" not in body and "\n" not in body
        assert seq.startswith("\x1b]") and seq.endswith("\x07")
    assert sequences(NotifySettings(), "t", "b") == []


# -- a tool call the session ended on -------------------------------------------------------

def blocking_bash(ws, api, tmp_path, subject: str):
    """A task whose agent runs a bash command that blocks on a FIFO until it is opened."""
    ws.tasks.create(subject)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    route = api.route(subject.split()[0])
    route.add(calls(("bash", {"command": f"cat {fifo}"})))
    return fifo, route


def lane_screen(app) -> str:
    return screen_text(app) + view_text(app.chat.lane_view)


async def test_a_call_cut_off_by_a_killed_process_reads_interrupted_in_the_app_and_the_cli(
        repo, keyed, fakeapi, tmp_path):
    from click.testing import CliRunner

    from tests.test_chat_cli import _proc_env
    from tui.cli import main

    ws = Workspace.open(repo)
    fifo, route = blocking_bash(ws, fakeapi, tmp_path, "alpha crash")
    proc = subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), "dispatch", "--yes"],
                            env=_proc_env(fakeapi), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        writer = os.open(fifo, os.O_WRONLY)   # returns once the agent's `cat` has it open
        proc.send_signal(signal.SIGKILL)      # the process dies mid-call: no result saved
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    os.close(writer)                          # `cat` reads EOF and ends
    session = agent_state(ws.lanes.get("alpha-crash"))["session"]
    saved = (repo / ".worktrees" / ".chat" / f"{session}.jsonl").read_text()
    async with opened(repo, fakeapi) as (pilot, app):
        assert state(app, "alpha-crash") == "interrupted"
        await wait_for(pilot, lambda: app.chat.shown_lane == "alpha-crash", what="shown")
        await wait_for(pilot, lambda: "✗ bash" in lane_screen(app), what="the call, ended")
        text = view_text(app.chat.lane_view)
        assert "running…" not in lane_screen(app)
        assert "interrupted: the session ended before this tool call finished" in text
        assert "Turn ended: interrupted - the agent stopped before this call finished; " \
            "a resumes it" in text
    # Only read: the transcript is as the crash left it until the agent is resumed.
    assert (repo / ".worktrees" / ".chat" / f"{session}.jsonl").read_text() == saved
    route.add_text("carried on")
    res = CliRunner().invoke(main, ["-C", str(repo), "chat", "--lane", "alpha-crash",
                                    "carry on"], catch_exceptions=False,
                             env={"ANTHROPIC_BASE_URL": fakeapi.url})
    assert res.exit_code == 0 and "carried on" in res.stdout, res.output
    assert f"[interrupted: bash: cat {fifo} - the agent stopped before this call finished; " \
        "your message resumes it]" in res.stderr
    sent = route.requests[-1]["messages"]
    assert sent[2]["content"][0]["content"].startswith("interrupted: the session ended")


async def test_quit_mid_tool_call_ends_the_call_cancelled_not_running(repo, keyed, fakeapi,
                                                                     tmp_path):
    ws = Workspace.open(repo)
    blocking_bash(ws, fakeapi, tmp_path, "alpha quits mid-call")
    async with opened(repo, fakeapi) as (pilot, app):
        await pilot.press("a")
        await wait_for(pilot, lambda: "running…" in lane_screen(app), what="the call running")
        await pilot.press("q")                # the app kills the command and answers it
    record = agent_state(ws.lanes.get("alpha-quits-mid-call"))
    assert record["state"] == "cancelled"
    history = valid_history(ws, record["session"])
    assert history[-1]["content"][0]["content"].startswith("cancelled by the user")
    async with opened(repo, fakeapi) as (pilot, app):
        await wait_for(pilot, lambda: "✗ bash" in lane_screen(app), what="the call, ended")
        assert "running…" not in lane_screen(app)
        assert "Turn ended: cancelled" in view_text(app.chat.lane_view)


async def test_an_agent_of_another_process_is_read_again_when_it_moves_on(repo, keyed, fakeapi,
                                                                         tmp_path):
    from tests.test_chat_cli import _proc_env

    ws = Workspace.open(repo)
    fifo, route = blocking_bash(ws, fakeapi, tmp_path, "alpha elsewhere")
    route.add_text("alpha finished elsewhere")
    async with opened(repo, fakeapi) as (pilot, app):
        proc = subprocess.Popen([sys.executable, "-m", "tui", "-C", str(repo), "dispatch",
                                 "--yes"], env=_proc_env(fakeapi), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            writer = os.open(fifo, os.O_WRONLY)   # its `cat` runs: the call is open
            await wait_for(pilot, lambda: state(app, "alpha-elsewhere") == "running",
                           what="its state, from the index")
            await pilot.press("a")                # shows the running agent's conversation
            await wait_for(pilot, lambda: "running…" in lane_screen(app), what="call running")
            os.close(writer)                      # `cat` ends; that process finishes its turn
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        await wait_for(pilot, lambda: state(app, "alpha-elsewhere") == "done", what="done")
        await wait_for(pilot, lambda: "alpha finished elsewhere" in lane_screen(app),
                       what="its conversation read again")
        assert "running…" not in lane_screen(app) and "✓ bash" in lane_screen(app)


async def test_a_hidden_lanes_first_words_wake_the_app_not_the_chat(repo, keyed, fakeapi):
    from tui.messages import LaneOutput, LaneReplyStarted

    ws = Workspace.open(repo)
    gate = fakeapi.gate()            # both replies stop after their first words
    two_tasks(ws, fakeapi, gate, gate)
    posted: list = []
    async with opened(repo, fakeapi, message_hook=posted.append) as (pilot, app):
        chat = app.chat
        await pilot.press("A")
        await wait_for(pilot, lambda: gate.parked == 2, what="both agents mid-reply")
        await wait_for(pilot, lambda: chat.shown_lane == "alpha-side", what="alpha shown")
        # beta is not on screen: the app hears of its first words, the chat's queue not.
        await wait_for(pilot, lambda: any(isinstance(m, LaneReplyStarted)
                                          and m.lane == "beta-side" for m in posted),
                       what="beta's first words heard")
        assert not [m for m in posted if isinstance(m, LaneOutput) and m.lane == "beta-side"]
        gate.open()
        await wait_for(pilot, lambda: "alpha is working on it" in view_text(chat.lane_view),
                       what="alpha's reply")
        await pilot.press("down")
        await wait_for(pilot, lambda: chat.shown_lane == "beta-side", what="beta shown")
        await wait_for(pilot, lambda: "beta is working on it" in view_text(chat.lane_view),
                       what="beta's whole reply, drawn on switching")


async def test_threads_keep_the_lock_longer_only_while_an_agent_runs(repo, keyed, fakeapi):
    # The switch interval belongs to the whole process: raised while an agent streams
    # (tui/gil_policy.py), given back once none runs.
    from tui.gil_policy import STREAMING

    default = sys.getswitchinterval()
    assert default != STREAMING
    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    two_tasks(ws, fakeapi, gate, gate)
    async with opened(repo, fakeapi) as (pilot, app):
        await pilot.press("A")
        await wait_for(pilot, lambda: gate.parked == 2, what="both mid-reply")
        await wait_for(pilot, lambda: sys.getswitchinterval() == pytest.approx(STREAMING),
                       what="the longer interval while agents run")
        gate.open()
        await wait_for(pilot, lambda: {state(app, "alpha-side"), state(app, "beta-side")}
                       == {"done"}, what="both done")
        assert sys.getswitchinterval() == pytest.approx(default)


async def test_quitting_mid_run_gives_the_switch_interval_back(repo, keyed, fakeapi):
    # ... and the collector's thresholds (tui/gc_policy.py), the process's too.
    import gc

    from tui.gil_policy import STREAMING

    default, thresholds = sys.getswitchinterval(), gc.get_threshold()
    assert default != STREAMING
    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    ws.tasks.create("alpha quits")
    fakeapi.route("alpha").add(Reply([gate.text("alpha is half way")]))
    async with opened(repo, fakeapi) as (pilot, app):
        await pilot.press("a")
        await wait_for(pilot, lambda: gate.parked == 1, what="mid-reply")
        await wait_for(pilot, lambda: sys.getswitchinterval() == pytest.approx(STREAMING),
                       what="the longer interval while agents run")
        await pilot.press("q")
    assert sys.getswitchinterval() == pytest.approx(default)
    assert gc.get_threshold() == thresholds
