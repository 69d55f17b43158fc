"""The approval queue as a list (J), in the app with Pilot, against the real local fake
Messages API server: two lane agents waiting at once, each answer reaching its own agent,
rows arriving and withdrawn live, and the key bar showing the agent keys when they apply.
Moments are held with the server's gates, never timed."""

from __future__ import annotations

import contextlib
import re

from core.workspace import Workspace
from tests.fakeapi import Reply, ToolUse, fakeapi  # noqa: F401  (fixture)
from tests.test_lane_agents import valid_history
from tests.test_tui_lane_agents import keyed, opened, state  # noqa: F401  (fixture)
from tests.tui_helpers import notes, screen_text, wait_for
from tui.screens.approvals import ApprovalQueueScreen

ALPHA_CMD = "echo from-alpha > alpha.txt\x1b[2K"     # an escape the model slipped in
BETA_CMD = "echo from-beta > beta.txt"


def key_bar(app) -> str:
    return screen_text(app).splitlines()[-1]


def rows(app) -> list[tuple]:
    table = app.screen.table
    return [table.cells_of(k) for k in table.keys]


def lanes_of(app) -> list[str]:
    return [r[0] for r in rows(app)]


def waiting_agents(ws, api, alpha_gate, beta_after):
    """alpha and beta, each asking to run bash; alpha's ask waits behind ``alpha_gate``
    (its reply stops there before the call), beta's next reply behind ``beta_after``."""
    ws.tasks.create("alpha side")
    ws.tasks.create("beta side")
    alpha, beta = api.route("alpha"), api.route("beta")
    alpha.add(Reply([alpha_gate.text("alpha will write a file"), ToolUse("bash", {"command": ALPHA_CMD})]))
    alpha.add_text("alpha stops")
    beta.add(Reply([ToolUse("bash", {"command": BETA_CMD})]))
    beta.add(Reply([beta_after.text("beta wrote beta.txt")]))
    return alpha, beta


@contextlib.asynccontextmanager
async def both_asking(repo, ws, api, beta_after):
    """The app with alpha and beta dispatched and both waiting for an answer."""
    alpha_gate = api.gate()
    alpha_gate.open()
    waiting_agents(ws, api, alpha_gate, beta_after)
    async with opened(repo, api, policy="ask") as (pilot, app):
        await pilot.press("A")
        await wait_for(pilot, lambda: len(app.lane_host.queue.pending()) == 2, what="both ask")
        yield pilot, app


async def test_the_queue_lists_every_approval_and_answers_each_to_its_own_agent(repo, keyed,
                                                                                 fakeapi):
    ws = Workspace.open(repo)
    alpha_gate, beta_after = fakeapi.gate(), fakeapi.gate()
    alpha, beta = waiting_agents(ws, fakeapi, alpha_gate, beta_after)
    async with opened(repo, fakeapi, policy="ask") as (pilot, app):
        queue = app.lane_host.queue
        assert "J Queue" not in key_bar(app) and "j Answer" not in key_bar(app)
        await pilot.press("A")
        await wait_for(pilot, lambda: len(queue.pending()) == 1, what="beta asks")
        await wait_for(pilot, lambda: "J Queue" in key_bar(app), what="the queue key shown")
        assert key_bar(app).startswith(" j Answer  J Queue")   # news first: never cut
        await pilot.press("J")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalQueueScreen), what="queue")
        assert lanes_of(app) == ["beta-side"]
        lane, tool, call, waited = rows(app)[0]
        assert (tool, call) == ("bash", BETA_CMD) and re.fullmatch(r"\d+s", waited)
        # A second agent asks while the list is open: a new row, the cursor stays put.
        alpha_gate.open()
        await wait_for(pilot, lambda: len(lanes_of(app)) == 2, what="alpha's row, live")
        assert sorted(lanes_of(app)) == ["alpha-side", "beta-side"]
        assert app.screen.table.selected_key == str(queue.pending("beta-side")[0].id)
        text = screen_text(app)
        assert "Waiting for you: 2" in text and "\\x1b[2K" in text and "\x1b[2K" not in text
        await wait_for(pilot, lambda: state(app, "alpha-side") == state(app, "beta-side")
                       == "waiting", what="both waiting")
        await pilot.press("y")                      # beta's row: its bash runs, alpha waits on
        await wait_for(pilot, lambda: beta_after.parked == 1, what="beta's next reply")
        beta_dir = ws.lanes.get("beta-side")["path"]
        assert open(f"{beta_dir}/beta.txt").read() == "from-beta\n"
        assert [p.lane for p in queue.pending()] == ["alpha-side"]
        await wait_for(pilot, lambda: lanes_of(app) == ["alpha-side"], what="beta's row gone")
        assert state(app, "alpha-side") == "waiting"
        await pilot.press("n")                      # deny alpha's
        await wait_for(pilot, lambda: state(app, "alpha-side") == "done", what="alpha done")
        assert not (repo / ".worktrees" / "alpha-side" / "alpha.txt").exists()
        assert "No agent is waiting for an answer" in screen_text(app)
        beta_after.open()
        await wait_for(pilot, lambda: state(app, "beta-side") == "done", what="beta done")
        await pilot.press("escape")
        assert app.screen is app.main
        await wait_for(pilot, lambda: "J Queue" not in key_bar(app), what="queue key gone")
    denied = alpha.requests[-1]["messages"][-1]["content"][0]
    assert denied["type"] == "tool_result" and denied["content"].startswith("Denied:")
    ran = beta.requests[-1]["messages"][-1]["content"][0]
    assert ran["type"] == "tool_result" and not ran.get("is_error")
    assert fakeapi.errors == []


async def test_a_cancelled_turn_leaves_the_queue_and_enter_goes_to_an_agents_chat(repo, keyed,
                                                                                 fakeapi):
    ws, beta_after = Workspace.open(repo), fakeapi.gate()
    async with both_asking(repo, ws, fakeapi, beta_after) as (pilot, app):
        queue = app.lane_host.queue
        await pilot.press("J")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalQueueScreen), what="queue")
        # alpha's turn is cancelled elsewhere (esc on its chat calls the same): withdrawn.
        app.lane_host.runner.cancel("alpha-side")
        await wait_for(pilot, lambda: lanes_of(app) == ["beta-side"], what="alpha withdrawn")
        await wait_for(pilot, lambda: state(app, "alpha-side") == "cancelled", what="cancelled")
        await pilot.press("enter")                  # to beta's chat; its approval stays queued
        await wait_for(pilot, lambda: app.screen is app.main, what="closed")
        await wait_for(pilot, lambda: app.chat.shown_lane == "beta-side", what="its chat")
        assert app.lane_table.selected_key == "beta-side" and app.main.current_pane() == "lanes"
        await wait_for(pilot, lambda: "Waiting for your answer: bash" in screen_text(app),
                       what="its question in its chat")
        await wait_for(pilot, lambda: "B Board agent" in key_bar(app), what="B shown")
        assert [p.lane for p in queue.pending()] == ["beta-side"]
        await pilot.press("j")                      # and answered there, in its chat
        await wait_for(pilot, lambda: "lane beta-side: approve bash?" in screen_text(app),
                       what="its dialog")
        await pilot.press("y")
        await wait_for(pilot, lambda: beta_after.parked == 1, what="beta's next reply")
        beta_after.open()
        await wait_for(pilot, lambda: state(app, "beta-side") == "done", what="beta done")
        await pilot.press("B")
        await wait_for(pilot, lambda: "B Board agent" not in key_bar(app), what="B gone")
    valid_history(ws, ws.lanes.get("alpha-side")["agent"]["session"])
    assert fakeapi.errors == []


async def test_j_typed_into_an_input_is_text_and_the_queue_gives_the_focus_back(repo, keyed,
                                                                                fakeapi):
    ws = Workspace.open(repo)
    async with both_asking(repo, ws, fakeapi, fakeapi.gate()) as (pilot, app):
        await pilot.press("n", *"Jot")              # typing a task subject: J is a letter
        quick = app.tasks_pane.quick_add
        assert quick.has_focus and quick.value == "Jot" and app.screen is app.main
        await pilot.press("ctrl+p", *"queue")       # the palette opens it from the input
        from tests.test_tui_keys import palette_top

        await wait_for(pilot, lambda: palette_top(app).startswith("App: Queue"), what="entry")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalQueueScreen), what="queue")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main, what="closed")
        assert quick.has_focus and quick.value == "Jot"
        await pilot.press(*" down", "enter")        # the typing goes on where it was
        await wait_for(pilot, lambda: any(t["subject"] == "Jot down"
                                          for t in ws.tasks.list().tasks), what="the task")


async def test_at_80_columns_the_agent_keys_come_first_and_the_queue_fits(repo, keyed, fakeapi):
    from tests.tui_helpers import running

    ws = Workspace.open(repo)
    gate = fakeapi.gate()
    gate.open()
    waiting_agents(ws, fakeapi, gate, fakeapi.gate())
    async with running(repo, size=(80, 24), base_url=fakeapi.url, policy="ask") as (pilot, app):
        await pilot.press("A")
        await wait_for(pilot, lambda: len(app.lane_host.queue.pending()) == 2, what="both ask")
        await wait_for(pilot, lambda: "J Queue" in key_bar(app), what="the agent keys")
        bar = key_bar(app)
        assert bar.startswith(" j Answer  J Queue  B Board agent  n New")
        assert len(bar) == 80 and bar.rstrip().endswith("? Help  q Quit    ^p palette")
        await pilot.press("J")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalQueueScreen), what="queue")
        text = screen_text(app)
        for lane in ("alpha-side", "beta-side"):     # every column whole at 80 columns
            assert re.search(rf"{lane} +bash +echo from-\S+ > \S+ +\d+s ", text), text
        assert "esc Close  y Allow once  a Allow for session  n Deny  ⏎ Its chat" in key_bar(app)


async def test_a_question_taken_back_closes_its_open_dialog(repo, keyed, fakeapi):
    from tui.screens.dialogs import ApprovalScreen

    ws = Workspace.open(repo)
    async with both_asking(repo, ws, fakeapi, fakeapi.gate()) as (pilot, app):
        await wait_for(pilot, lambda: app.chat.shown_lane == "alpha-side", what="alpha shown")
        await pilot.press("j")                      # the shown agent's question first
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="asked")
        assert "lane alpha-side: approve bash?" in screen_text(app)
        app.lane_host.runner.cancel("alpha-side")   # its turn ends: no one waits for it
        await wait_for(pilot, lambda: app.screen is app.main, what="the dialog closed")
        assert "lane alpha-side no longer asks" in notes(app)
        await pilot.press("J")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalQueueScreen), what="queue")
        assert lanes_of(app) == ["beta-side"]
