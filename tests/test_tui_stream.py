"""A streamed reply as the chat draws it (tui/widgets/stream.py): finished blocks as
Markdown as they end, the open one as wrapped plain text, and at the end the same
Markdown a restored conversation shows. Against the real agent and the fake API."""

from __future__ import annotations

import gc

import pytest
from textual.app import App

from tests.fakeapi import Reply, Text, fakeapi  # noqa: F401  (fixture)
from tests.test_tui_agent import agent_app, keyed, ready, say  # noqa: F401
from tests.test_tui_chat_log import log_rows
from tests.tui_helpers import wait_for
from tui.widgets.stream import OpenBlock, Reply as ReplyItem

PARAGRAPH = " ".join(f"word{i}" + ("," if i % 9 == 8 else "") for i in range(150)) + "."
REPLY = (f"# Findings\n\n{PARAGRAPH}\n\n"
         "1. the **first** item\n\n2. the second item, after a blank line\n\n"
         "```python\ndef f():\n\n    return 1\n```\n\n"
         "Done: `f` returns one")


async def test_a_long_streamed_reply_ends_exactly_as_a_restored_one(repo, keyed, fakeapi):
    # Small pieces, held inside the code fence (whose blank line must not end a block).
    fence_at = -(-REPLY.index("    return 1") // 5)   # pieces, up to the blank line and past
    fakeapi.add(Reply([Text(REPLY, chunk_size=5)], hold_after=fence_at))
    app = agent_app(repo, fakeapi)
    async with app.run_test(size=(100, 90)) as pilot:
        await ready(pilot, app)
        await say(pilot, app, "report")
        chat = app.chat
        held = REPLY[:fence_at * 5]
        await wait_for(pilot, lambda: chat.stream is not None and chat.stream.done
                       and chat.stream.source == held, what="the held part drawn")
        stream = chat.stream
        # Mid-stream: the blocks that ended are Markdown, the open fence is plain text,
        # its blank line included.
        assert stream.done.startswith("# Findings\n\n" + PARAGRAPH)
        assert "```" not in stream.done
        assert stream.tail.text.startswith("```python\ndef f():\n\n")
        await pilot.pause()
        assert "```python" in "\n".join(log_rows(app, chat.log_view))   # drawn as it is
        fakeapi.release()
        await wait_for(pilot, lambda: not chat.input.disabled, what="turn end")
        await pilot.pause()
        replies = [i for i in chat.log_view.items if isinstance(i, ReplyItem)]
        assert len(replies) == 1 and replies[0].source == REPLY and replies[0].finished
        assert not replies[0].tail.source
        streamed = [row for row in log_rows(app, chat.log_view) if row.strip()]
        assert any("word149." in row for row in streamed)
        assert not any("```" in row for row in streamed)

        await chat.clear()
        await chat.show_history([{"role": "assistant", "content": REPLY}])
        await pilot.pause()
        restored = [row for row in log_rows(app, chat.log_view) if row.strip()]
        assert "restored" in restored[0]
        assert restored[1:] == streamed[-len(restored) + 1:]


def test_the_open_block_wraps_as_one_pass_would_and_rewraps():
    text = ("A line with some words that run past the edge of the pane, twice over at least "
            "and then a little more.\nA second line\twith a tab.\n\nAn unbroken "
            + "x" * 70 + " end, and a control \x1b[2J that stays visible.\n    " + "y" * 40)
    pieces, whole = OpenBlock(), OpenBlock()
    pieces.wrap(30)
    whole.wrap(30)
    whole.write(text)
    for i in range(0, len(text), 3):
        pieces.write(text[i:i + 3])
    rows = whole.text.split("\n")
    assert pieces.text == whole.text
    assert max(len(r) for r in rows) <= 30 and len(rows) > 6
    assert "\\x1b[2J" in whole.text and "\x1b" not in whole.text
    assert "A second line    with a tab." in rows and "" in rows   # tab, blank line
    assert rows[:2] == ["A line with some words that", "run past the edge of the pane,"]
    pieces.wrap(20)
    assert max(len(r) for r in pieces.text.split("\n")) <= 20
    assert "".join(pieces.text.split()) == "".join(whole.text.split())   # nothing lost


@pytest.fixture
def thawed():
    yield
    gc.unfreeze()


async def test_collector_freezes_after_full_collections_while_agents_run(thawed):
    from tui.gc_policy import YOUNG, StreamingCollector

    default = gc.get_threshold()
    assert default[0] != YOUNG
    app = App()
    async with app.run_test() as pilot:
        app._gc_frozen = True        # as the app marks it after its first paint
        collector = StreamingCollector(app)
        before = gc.get_freeze_count()
        made = [[i] for i in range(3000)]          # since the first paint (the SDK, say)
        collector.agents_running(True)
        assert gc.get_threshold() == (YOUNG, *default[1:])   # young garbage waits longer
        assert gc.get_freeze_count() >= before + len(made)   # frozen as streaming starts,
        assert collector.frozen_since == 0                   # not counted for a thaw
        frozen = gc.get_freeze_count()
        collector.check()
        assert gc.get_freeze_count() == frozen      # no full collection since: nothing
        keep = [[i] for i in range(5000)]           # survivors of the next one
        gc.collect()
        collector.check()
        assert gc.get_freeze_count() >= frozen + len(keep)
        assert collector.frozen_since >= len(keep)
        # Idle: a thaw collects everything once and freezes what is alive.
        collector.agents_running(False)
        assert gc.get_threshold() == default                 # given back (the process's)
        collector.thaw()
        assert collector.frozen_since == 0
        await pilot.pause()
