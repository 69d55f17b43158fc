"""The conversation as one line widget (tui/widgets/chat_log.py), seen on the screen:
streamed replies against the real agent and the fake Messages API, tool calls updated
in place, following the end, rewrapping, and drawing only what is on screen."""

from __future__ import annotations

from tests.fakeapi import Reply, Text, fakeapi  # noqa: F401  (fixture)
from tests.test_tui_agent import agent_app, keyed, ready, say  # noqa: F401
from tests.tui_helpers import screen_text, wait_for
from tui.screens.dialogs import ApprovalScreen
from tui.widgets.stream import Reply as ReplyItem

PARAGRAPH = " ".join(f"word{i}" + ("," if i % 9 == 8 else "") for i in range(150)) + "."
REPLY = (f"# Findings\n\n{PARAGRAPH}\n\n"
         "- the **boldword** item\n- the second item\n\n"
         "```python\ndef f():\n\n    return 1\n```\n\n"
         "Done: `fcode` returns one")


def log_rows(app, log) -> list[str]:
    """The rows of the screen the log covers, as drawn."""
    r = log.region
    return [line[r.x:r.right] for line in screen_text(app).splitlines()[r.y:r.bottom]]


def drawn(app, log) -> str:
    return "\n".join(row.strip() for row in log_rows(app, log))


def lines_of(log) -> str:
    """What the log itself draws on its rows (also under a dialog that covers it)."""
    return "\n".join(log.render_line(y).text.strip()
                     for y in range(log.scrollable_content_region.height))


def style_of(log, word: str):
    """The style the log draws ``word`` in (the first line on screen holding it)."""
    for y in range(log.scrollable_content_region.height):
        for seg in log.render_line(y):
            if word in seg.text:
                return seg.style
    raise AssertionError(f"{word!r} is not drawn")


async def answered(pilot, app, text: str) -> None:
    """Say ``text`` once the agent is ready; return when the turn ended and is drawn."""
    await ready(pilot, app)
    await say(pilot, app, text)
    await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
    await pilot.pause()


async def test_a_long_streamed_reply_is_drawn_whole_and_as_markdown(repo, keyed, fakeapi):
    fakeapi.add(Reply([Text(REPLY, chunk_size=4)]))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(120, 90)) as pilot:
        await answered(pilot, app, "report")
        log = app.chat.log_view
        (reply,) = [i for i in log.items if isinstance(i, ReplyItem)]
        assert reply.finished and reply.source == REPLY
        shown = drawn(app, log)
        words = shown.split()
        assert all(f"word{i}" in shown for i in range(150)) and "word149." in words
        # Markdown, not its source: no marks, a bullet, the fence's code without fences.
        assert "Findings" in shown and "# Findings" not in shown
        assert "**" not in shown and "```" not in shown and "`fcode`" not in shown
        assert "• the boldword item" in shown and "def f():" in shown
        assert style_of(log, "boldword").bold and style_of(log, "Findings").bold
        assert style_of(log, "fcode").bgcolor != style_of(log, "Done:").bgcolor   # inline code


async def test_text_withdrawn_after_a_cut_stream_disappears(repo, keyed, fakeapi):
    # The first try breaks after a finished paragraph and part of the next: all of it
    # was never the answer and leaves the screen; the retried reply is what stays.
    first = "Broken opening paragraph.\n\nhalf of a second one that never ends"
    fakeapi.add(Reply([Text(first, chunk_size=6)], drop_after=first.index("never") // 6))
    fakeapi.add(Reply([Text("The real answer.")]))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "answer")
        await wait_for(pilot, lambda: "The real answer." in app.chat.text(), timeout=20,
                       what="the retried reply")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        await pilot.pause()
        shown = app.chat.text() + screen_text(app)
        assert "Broken" not in shown and "half of a second" not in shown
        assert "The real answer." in drawn(app, app.chat.log_view)
        replies = [i.source for i in app.chat.log_view.items if isinstance(i, ReplyItem)]
        assert replies == ["The real answer."]


async def test_a_tool_call_is_updated_in_place(repo, keyed, fakeapi):
    fakeapi.add_tool_use("bash", {"command": "echo from-the-call"}, text_before="Running it.")
    fakeapi.add_text("It printed.")
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "run it")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="approval")
        log = app.chat.log_view
        (call,) = app.chat.tool_calls()
        await wait_for(pilot, lambda: "waiting for" in lines_of(log),
                       what="the waiting call drawn")
        def below_the_question(mark: str) -> tuple[int, list[str]]:
            # Rows under the message (a short chat sits at the bottom: rows move up).
            rows = lines_of(log).split("\n")
            asked = next(i for i, row in enumerate(rows) if "█ run it" in row)
            return next(i for i, row in enumerate(rows) if mark in row) - asked, rows[asked:]
        at, _ = below_the_question("⚙ bash")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        await pilot.pause()
        assert call.state == "ok" and app.chat.tool_calls() == [call]
        assert lines_of(log).split("\n") == [row.strip() for row in log_rows(app, log)]
        done_at, rows = below_the_question("✓ bash")
        assert done_at == at                  # where it was drawn running, not a new line
        call_text = " ".join(" ".join(rows[at:at + 3]).replace("▎", "").split())
        assert "(allowed once)" in call_text and "→ from-the-call" in call_text
        assert "⚙ bash" not in lines_of(log) and "It printed." in lines_of(log)


async def test_the_log_follows_the_end_until_scrolled_up(repo, keyed, fakeapi):
    long = " ".join(f"w{i}" for i in range(600)) + " THE-END"
    fakeapi.add(Reply([Text(long, chunk_size=12)], hold_after=150))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "go")
        log = app.chat.log_view
        await wait_for(pilot, lambda: app.chat.stream is not None
                       and app.chat.stream.tail.height > log.size.height, what="a screenful")
        await pilot.pause()
        last = app.chat.stream.tail.text.split()[-1]
        assert last in drawn(app, log).split()          # the newest words are on screen
        assert app.focused is log                        # the input is off: the log has keys
        await pilot.press("pageup")
        await pilot.pause()
        assert last not in drawn(app, log).split()
        fakeapi.release()
        await wait_for(pilot, lambda: not app.chat.input.disabled, what="turn end")
        await pilot.pause()
        assert "THE-END" in app.chat.text() and "THE-END" not in drawn(app, log)
        log.focus()
        await pilot.press("end")
        await pilot.pause()
        assert "THE-END" in drawn(app, log)


async def test_resizing_rewraps_every_item_on_screen(repo, keyed, fakeapi):
    fakeapi.add_text(PARAGRAPH)
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(120, 50)) as pilot:
        await answered(pilot, app, "talk")
        log = app.chat.log_view
        wide = [row.rstrip() for row in log_rows(app, log) if "word" in row]
        await pilot.resize_terminal(150, 50)
        await pilot.pause()
        await pilot.pause()
        wider = [row.rstrip() for row in log_rows(app, log) if "word" in row]
        assert len(wider) < len(wide)
        assert max(len(r) for r in wider) > max(len(r) for r in wide)
        assert " ".join(" ".join(wider).split()) == " ".join(" ".join(wide).split()) == PARAGRAPH


def long_history(pairs: int = 150) -> list[dict]:
    history = []
    for i in range(pairs):
        history.append({"role": "user", "content": f"question {i}"})
        history.append({"role": "assistant", "content": f"## Answer {i}\n\n" + PARAGRAPH[:300]})
    return history


def numbers_on(app, log) -> list[int]:
    """The numbers of the questions and answers on screen, top to bottom."""
    return [int(w) for w in drawn(app, log).replace("question", " Q ").split() if w.isdigit()]


async def test_a_long_conversation_renders_only_what_is_on_screen(repo, keyed, fakeapi):
    history = long_history()
    app = agent_app(repo, fakeapi)
    app.animation_level = "none"   # a scroll is one frame, not an animation's many
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        view = app.chat
        await view.clear()
        log = view.log_view
        log.renders = 0
        await view.show_history(history)
        await pilot.pause()
        rows = log.scrollable_content_region.height
        assert len(log.items) == 301
        assert 0 < log.renders <= rows         # not one render per item
        assert "Answer 149" in drawn(app, log) and "question 0" not in drawn(app, log)
        log.focus()
        for key, seen in (("home", "question 0"), ("pagedown", None), ("end", "Answer 149")):
            log.renders = 0
            await pilot.press(key)
            await pilot.pause()
            assert log.renders <= rows, key
            if seen:
                assert seen in drawn(app, log), key
        # Scrolled through, each item on screen shows whole, in order.
        log.renders = 0
        log.scroll_to(y=log.max_scroll_y // 2, animate=False)
        await pilot.pause()
        assert log.renders <= rows
        numbers = numbers_on(app, log)
        assert numbers == sorted(numbers) and numbers


async def test_a_rewrap_keeps_the_item_at_the_top_of_a_scrolled_up_log(repo, keyed, fakeapi):
    app = agent_app(repo, fakeapi)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot, app)
        await app.chat.clear()
        await app.chat.show_history(long_history())
        await pilot.pause()
        log = app.chat.log_view
        log.scroll_to(y=log.max_scroll_y // 3, animate=False)
        await pilot.pause()
        first = numbers_on(app, log)[0]
        assert 10 < first < 140
        await pilot.resize_terminal(160, 36)   # a wider chat: every item fewer rows
        await pilot.pause()
        await pilot.pause()
        assert numbers_on(app, log)[0] in (first - 1, first)   # not rows further down
        assert "Answer 149" not in drawn(app, log)              # and not followed to the end

