"""The agent inside the app, against the local fake Messages API server."""

from __future__ import annotations

import asyncio

import pytest

from core.agent.transcript import chat_dir
from core.agent import TextDelta, ToolFinished, ToolStarted, TurnFinished
from tests.fakeapi import Fault, Reply, Text, fakeapi  # noqa: F401  (fixture)
from tui.app import create_app
from tui.messages import AgentEvent, AgentReady, AgentTurnEnded
from tui.screens.dialogs import ApprovalScreen
from tests.tui_helpers import fixed_options, notes, screen_text, settle, wait_for

SIZE = (120, 36)


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")


def agent_app(repo, api, **kw):
    return create_app(repo, **fixed_options(agent=True, base_url=api.url, **kw))


async def ready(pilot, app) -> None:
    await settle(pilot, app)
    await wait_for(pilot, lambda: not app.chat.input.disabled, what="agent ready")


async def say(pilot, app, text: str) -> None:
    await pilot.press("slash")
    app.chat.input.value = text
    await pilot.press("enter")


async def turn(pilot, app, text: str, answer: str) -> None:
    """Say ``text`` and wait for ``answer`` and the end of the turn."""
    await say(pilot, app, text)
    await wait_for(pilot, lambda: answer in chat_text(app), what=repr(answer))
    await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")


def chat_text(app) -> str:
    return app.chat.text()


async def test_text_streams_in_and_input_is_off_during_the_turn(repo, keyed, fakeapi):
    # The reply stops after its first piece until released: the test looks at the
    # screen mid-stream however slow the machine is.
    fakeapi.add(Reply([Text("Hello there, this streams in word by word.")], hold_after=1))
    posted: list = []
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "hi")
        await wait_for(pilot, lambda: "Hello" in chat_text(app), what="first words")
        assert app.chat.input.disabled
        assert "streams in word by word." not in chat_text(app)  # still arriving
        fakeapi.release()
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        assert "Hello there, this streams in word by word." in chat_text(app)
        deltas = [m.event for m in posted if isinstance(m, AgentEvent)
                  and isinstance(m.event, TextDelta)]
        assert len(deltas) > 3
        assert any(isinstance(m, AgentEvent) and isinstance(m.event, TurnFinished)
                   and m.event.stop_reason == "end_turn" for m in posted)
        # The header shows the usage, and the input has the focus back (both are
        # drawn / applied on a later loop turn than the one that ends the turn).
        await wait_for(pilot, lambda: "tokens 0 in" not in screen_text(app), what="usage")
        await wait_for(pilot, lambda: app.chat.input.has_focus, what="input focus")
        assert app.chat.input.placeholder.startswith("Ask the agent")   # not a lane's
    assert fakeapi.errors == []


async def test_tool_call_with_approval_once_then_always_then_deny(repo, keyed, fakeapi):
    fakeapi.add_tool_use("bash", {"command": "echo one > one.txt"}, text_before="Writing.")
    fakeapi.add_tool_use("bash", {"command": "echo two > two.txt"})
    fakeapi.add_tool_use("bash", {"command": "echo three > three.txt"})
    fakeapi.add_text("All done.")
    fakeapi.add_tool_use("write_file", {"path": "four.txt", "content": "4"})
    fakeapi.add_text("Fine, I will not.")
    posted: list = []
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "write files")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval 1")
        tools = app.chat.tool_calls()
        assert tools and tools[0].state == "running"  # shown as it starts
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval 2")
        await pilot.press("a")  # always for bash: the third call does not ask
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn 1 end")
        assert all((repo / f).exists() for f in ("one.txt", "two.txt", "three.txt"))
        tools = app.chat.tool_calls()
        assert [t.state for t in tools] == ["ok", "ok", "ok"]
        assert "All done." in chat_text(app)
        await say(pilot, app, "now write four")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval 3")
        # The key bar shows the dialog's keys, not the main screen's (which are off).
        await wait_for(pilot, lambda: "y Allow once" in screen_text(app), what="dialog drawn")
        bar = screen_text(app).splitlines()[-1]
        assert "y Allow once" in bar and "a Always for this tool" in bar and "n Deny" in bar
        assert "New" not in bar and "Quit" not in bar
        await pilot.press("q")  # q closes it as a refusal, like n
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn 2 end")
        assert not (repo / "four.txt").exists()
        assert app.chat.tool_calls()[-1].state == "denied"
        started = [m for m in posted if isinstance(m, AgentEvent) and isinstance(m.event, ToolStarted)]
        finished = [m for m in posted if isinstance(m, AgentEvent) and isinstance(m.event, ToolFinished)]
        assert len(started) == len(finished) == 4
        # The answers sit on the calls' own lines, not in notices after their results.
        assert [t.approval for t in app.chat.tool_calls()] == [
            "allowed once", "bash allowed for this session", "", "denied"]
        assert "Approval asked" not in chat_text(app)
        live = [t.state for t in app.chat.tool_calls()]
    assert fakeapi.errors == []
    # Reopened, the conversation reads as it did live: the denial is a denial.
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        assert [t.state for t in app.chat.tool_calls()] == live == [
            "ok", "ok", "ok", "denied"]


async def test_api_error_is_shown_logged_and_input_comes_back(repo, keyed, fakeapi):
    fakeapi.add(Fault.status(400, message="prompt is too long"))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "hi")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        assert "prompt is too long" in chat_text(app)
        assert "prompt is too long" in notes(app)
        errors = [e for e in app.ws.events.tail(10) if e["event"] == "agent.error"]
        assert errors and "prompt is too long" in errors[-1]["error"]


async def test_a_cut_reply_is_taken_off_the_screen_before_the_retry(repo, keyed, fakeapi):
    # The first try streams two words, then the connection closes cleanly before
    # message_stop; the retried answer must be the only reply on screen.
    fakeapi.add(Reply([Text("Broken words never finished")], cut_after=2))
    fakeapi.add_text("The whole answer.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await turn(pilot, app, "hi", "The whole answer.")
        text = chat_text(app)
        assert "Broken" not in text and "Retrying (2/3)" in text
        # The notice tells what happened before the answer that came of it.
        assert text.index("Retrying (2/3)") < text.index("The whole answer.")
    assert fakeapi.errors == []


async def test_approval_modal_shows_the_real_command_escaped_and_whole(repo, keyed, fakeapi):
    # ESC[2K ESC[1G would erase "touch pwned.txt" on a raw terminal, U+202E would reverse
    # what follows it, and a tail after 100 harmless words would fall off a cut preview.
    spoof = "touch pwned.txt #\x1b[2K\x1b[1G\x1b[32mgit status \u202etxt.exe"
    long = "echo " + "harmless " * 100 + "; touch TAILMARK"
    fakeapi.add_tool_use("bash", {"command": spoof})
    fakeapi.add_tool_use("bash", {"command": long})
    fakeapi.add_text("Done.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "go")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval 1")
        await pilot.pause()
        shown = screen_text(app)
        assert "touch pwned.txt #\\x1b[2K\\x1b[1G\\x1b[32mgit status \\u202etxt.exe" in shown
        assert "\x1b" not in shown and "\u202e" not in shown
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen)
                       and "TAILMARK" in str(app.screen.request.input), what="approval 2")
        await pilot.pause()
        assert "touch TAILMARK" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
    assert not (repo / "pwned.txt").exists()


async def hang_a_turn(pilot, app, fakeapi) -> None:
    """Send a message whose reply never comes; returns when the server holds it."""
    await ready(pilot, app)
    await say(pilot, app, "hang")
    assert fakeapi.wait_hanging(10)


async def test_esc_cancels_a_hung_turn_promptly(repo, keyed, fakeapi):
    fakeapi.add(Reply([Text("never")], hang=True))
    fakeapi.add_text("Still here.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await hang_a_turn(pilot, app, fakeapi)
        # The reply never ends by itself: the turn can only end through the cancel.
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="cancelled")
        assert "cancelled" in chat_text(app)
        # The conversation goes on after a cancel.
        await say(pilot, app, "again")
        await wait_for(pilot, lambda: "Still here." in chat_text(app), what="next turn")


async def test_quit_mid_turn_is_immediate(repo, keyed, fakeapi):
    fakeapi.add(Reply([Text("never")], hang=True))
    app = agent_app(repo, fakeapi)

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await hang_a_turn(pilot, app, fakeapi)
            # In the chat pane a q is text held for the input: quit from the board.
            await pilot.press("tab", "q")
    # The reply never ends by itself: a quit that waited for the turn would never
    # return (the bound only turns that into a failure instead of a hung suite).
    await asyncio.wait_for(run(), 60)
    assert fakeapi.wait_hanging(timeout=0)  # still parked: the app did not wait for it
    assert not app.agent_host.running or app.agent_host.cancel.is_set()


async def test_conversation_comes_back_when_reopened(repo, keyed, fakeapi):
    fakeapi.add_tool_use("task_create", {"subject": "From the agent"})
    fakeapi.add_text("Created it.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        assert "same actions as your keys" in chat_text(app)  # a new chat says what it can do
        await say(pilot, app, "make a task")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        await wait_for(pilot, lambda: 1 in app.tasks_pane.tasks_by_id, what="task from the agent")
    posted: list = []
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await ready(pilot, app)
        restored = [m for m in posted if isinstance(m, AgentReady)][0]
        assert len(restored.history) >= 4
        text = chat_text(app)
        assert "make a task" in text and "Created it." in text and "restored" in text
        assert "same actions as your keys" not in text
        assert [t.state for t in app.chat.tool_calls()] == ["ok"]


async def test_typing_during_a_turn_is_kept_for_the_input_not_taken_as_keys(repo, keyed, fakeapi):
    fakeapi.add(Reply([Text("Working on it, give me a moment.")], hold_after=1))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "hi")
        await wait_for(pilot, lambda: "Working" in chat_text(app), what="first words")
        assert app.chat.input.disabled and app.main.current_pane() == "chat"
        # q would quit, r reconcile, z zoom, ? help: typed here they are text.
        await pilot.press(*"also quickly check x?")
        assert app.return_code is None and app.screen is app.main
        assert app.main.zoomed is None and app.agent_host.running
        assert "kept for the input" in app.chat.border_subtitle
        fakeapi.release()
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        assert app.chat.input.value == "also quickly check x?"
        assert "give me a moment." in chat_text(app)  # the turn was not cancelled
        await wait_for(pilot, lambda: app.chat.input.has_focus, what="input focus")
        await wait_for(pilot, lambda: "esc Leave chat" in screen_text(app).splitlines()[-1],
                       what="the key bar saying how to leave the input")
        # Esc leaves the input for the conversation; the pane keys work again there.
        await pilot.press("escape")
        assert app.focused is app.chat.log_view
        await pilot.press("z")
        assert app.main.zoomed == "chat"
    assert fakeapi.errors == []


async def test_ctrl_n_starts_a_new_conversation_and_keeps_the_old(repo, keyed, fakeapi):
    fakeapi.add_text("First answer.")
    fakeapi.add_text("Second answer.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await turn(pilot, app, "one", "First answer.")
        old = app.agent_host.agent.session_id
        await pilot.press("escape", "ctrl+n")
        await wait_for(pilot, lambda: "First answer." not in chat_text(app), what="cleared")
        assert app.agent_host.agent.session_id != old and "same actions as your keys" in chat_text(app)
        await say(pilot, app, "two")
        await wait_for(pilot, lambda: "Second answer." in chat_text(app), what="turn 2")
        # The new conversation started empty: the model saw only "two".
        assert len(fakeapi.last_request.body["messages"]) == 1
        assert (chat_dir(repo) / f"{old}.jsonl").exists()


async def test_without_a_key_typing_in_the_chat_never_quits(repo):
    app = create_app(repo, **fixed_options(agent=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: "ANTHROPIC_API_KEY" in chat_text(app), what="key message")
        await pilot.press("slash", *"hello q r")
        assert app.return_code is None and app.screen is app.main
        assert notes(app).count("Chat is off: set ANTHROPIC_API_KEY") == 1
        await pilot.press("tab", "q")
        await pilot.pause()
        assert app.return_code is not None


async def test_without_a_key_the_chat_says_what_to_set(repo):
    app = create_app(repo, **fixed_options(agent=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: "ANTHROPIC_API_KEY" in chat_text(app), what="key message")
        assert app.chat.input.disabled
        await pilot.press("slash")
        assert "not available" in notes(app)
        await pilot.press("tab", "n", "x", "enter")  # everything else works
        await wait_for(pilot, lambda: 1 in app.tasks_pane.tasks_by_id, what="task")


async def test_turn_thread_error_restores_input(repo, keyed, fakeapi):
    posted: list = []
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await ready(pilot, app)

        def boom(*a, **k):
            raise RuntimeError("the host broke")
        app.agent_host.agent.send = boom
        await say(pilot, app, "hi")
        await wait_for(pilot, lambda: [m for m in posted if isinstance(m, AgentTurnEnded)])
        await wait_for(pilot, lambda: not app.chat.input.disabled)
        assert "the host broke" in chat_text(app)
