"""A reply as it streams in, drawn at the cost of what arrived, not of what came before.

Textual's Markdown re-renders the block being written on every append (the whole growing
paragraph is parsed and wrapped again, work that grows with the reply), so a streamed
reply is drawn in two parts: its finished blocks in one Markdown widget, each
parsed once when the blank line that ends it arrives (the Markdown re-parses only from
its last block, so a list or a fence that spans blank lines still ends up whole), and the
block still open as plain text in a ``StreamTail``, whose full rows are kept once wrapped
and never drawn again. When the reply ends its open block joins the Markdown, so a
finished reply reads exactly as a restored one.
"""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from core.safe_text import visible

# A fence opens or closes on a line of three or more backticks or tildes (CommonMark),
# indented by up to three spaces; a blank line inside one does not end a block.
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


class StreamTail(Widget):
    """The open block of a streamed reply as plain text. A write wraps only the row it
    continues; rows that filled up are kept (greedy wrapping never moves a break once
    the text after it arrives), and only the rows that changed are drawn again."""

    DEFAULT_CSS = """
    StreamTail {
        height: auto;
        margin: 0 0 1 0;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = ""          # the open block's text as written
        self._rows: list[str] = []
        self._last = ""           # the row being written
        self._wrap_width = 0      # the width the rows were wrapped to (0: not yet)

    @property
    def text(self) -> str:
        """What the tail shows, row by row."""
        return "\n".join(self._rows + ([self._last] if self._last else []))

    def write(self, text: str) -> None:
        self.source += text
        if not self._wrap_width:
            return                # wrapped on the first layout
        rows = len(self._rows)
        self._flow(text)
        width = self._wrap_width
        if len(self._rows) != rows:
            self.refresh(Region(0, rows, width, len(self._rows) - rows + 1), layout=True)
        else:
            self.refresh(Region(0, rows, width, 1))

    def reset(self, source: str) -> None:
        """Start again with ``source`` (what is left after a block went to the Markdown)."""
        self.source = ""
        self._rows, self._last = [], ""
        self.write(source)
        self.refresh(layout=True)

    def _flow(self, text: str) -> None:
        width = self._wrap_width
        text = visible(text.replace("\t", "    "), keep="\n")
        for i, piece in enumerate(text.split("\n")):
            if i and (self._rows or self._last):   # blank lines before any text: none
                self._rows.append(self._last)
                self._last = ""
            last = self._last + piece
            while cell_len(last.rstrip()) > width:
                cut = _break_at(last, width)
                self._rows.append(last[:cut].rstrip())
                last = last[cut:].lstrip(" ")
            self._last = last

    def _rewrap(self, width: int) -> None:
        self._wrap_width = width
        self._rows, self._last = [], ""
        self._flow(self.source)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._wrap_width and width > 0:
            self._rewrap(width)
        return len(self._rows) + (1 if self._last else 0)

    def render_line(self, y: int) -> Strip:
        rows = self._rows
        text = rows[y] if y < len(rows) else self._last if y == len(rows) else ""
        return Strip([Segment(text, self.rich_style)], cell_len(text))


def _break_at(line: str, width: int) -> int:
    """Where a row of ``width`` cells ends in ``line``: after the last space that fits
    and follows some text, or mid-word when one word (or its indent) is wider."""
    fits = 0
    for i, ch in enumerate(line):
        fits += cell_len(ch)
        if fits > width:
            space = line.rfind(" ", 0, i + 1)
            return space + 1 if space > 0 and line[:space].strip() else max(i, 1)
    return len(line)


def _block_end(text: str, start: int, fence: str | None) -> tuple[int, str | None]:
    """The end of the last finished block among the lines of ``text`` that are complete
    from ``start`` on (-1: none), and whether a fence is open after them."""
    end = -1
    pos = start
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return end, fence
        line = text[pos:nl]
        mark = _FENCE.match(line)
        if mark:
            tick = mark.group(1)
            if fence is None:
                fence = tick
            elif tick[0] == fence[0] and len(tick) >= len(fence) and not line.strip(" `~"):
                fence = None
        elif fence is None and not line.strip() and pos > 0:
            end = nl + 1
        pos = nl + 1


class ReplyStream:
    """One streamed reply in a chat log: the Markdown of its finished blocks (mounted
    with the first) and the tail of the open one (see the module docstring)."""

    def __init__(self, log: Widget, classes: str) -> None:
        self.log = log
        self.classes = classes
        self.markdown: Any = None
        self.tail = StreamTail(classes=classes)
        self._scanned = 0         # tail.source before this is split into lines already
        self._fence: str | None = None

    async def start(self) -> None:
        await self.log.mount(self.tail)

    async def write(self, text: str) -> None:
        tail = self.tail
        tail.write(text)
        end, self._fence = _block_end(tail.source, self._scanned, self._fence)
        nl = tail.source.rfind("\n", self._scanned)
        if nl >= 0:
            self._scanned = nl + 1
        if end > 0 and tail.source[:end].strip():
            done, rest = tail.source[:end], tail.source[end:]
            self._scanned = max(0, self._scanned - end)
            with self.log.app.batch_update():
                await self._to_markdown(done)
                tail.reset(rest)

    async def finish(self) -> None:
        """The reply ended: its open block joins the Markdown, the tail goes."""
        with self.log.app.batch_update():
            if self.tail.source.strip():
                await self._to_markdown(self.tail.source)
            await self.tail.remove()

    async def withdraw(self) -> None:
        with self.log.app.batch_update():
            if self.markdown is not None:
                await self.markdown.remove()
            await self.tail.remove()

    async def _to_markdown(self, text: str) -> None:
        if self.markdown is None:
            from textual.widgets import Markdown  # lazy: markdown-it is not needed to paint

            self.markdown = Markdown(classes=self.classes)
            await self.log.mount(self.markdown, before=self.tail)
        await self.markdown.append(text)
