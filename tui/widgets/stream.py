"""A reply in the chat log (tui/widgets/chat_log.py), streamed or restored, drawn at the
cost of what arrived, not of what came before.

Parsing and wrapping the whole growing reply on every delta is work that grows with the
reply, so a streamed reply is drawn in two parts: its finished blocks as Markdown, each
rendered once when the blank line that ends it arrives, and the block still open as plain
text (an ``OpenBlock``), whose full rows are kept once wrapped and never wrapped again.
When the reply ends it is rendered as one Markdown document, so a finished reply reads
exactly as a restored one.
"""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from core.safe_text import visible
from tui.widgets.chat_items import Item, rows_of

# A fence opens or closes on a line of three or more backticks or tildes (CommonMark),
# indented by up to three spaces; a blank line inside one does not end a block.
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


class OpenBlock:
    """The open block of a streamed reply as plain text. A write wraps only the row it
    continues; rows that filled up are kept (greedy wrapping never moves a break once
    the text after it arrives)."""

    def __init__(self) -> None:
        self.source = ""          # the open block's text as written
        self.rows: list[str] = []
        self.last = ""            # the row being written
        self.width = 0            # the width the rows were wrapped to (0: not yet)

    @property
    def text(self) -> str:
        """What the block shows, row by row."""
        return "\n".join(self.rows + ([self.last] if self.last else []))

    @property
    def height(self) -> int:
        return len(self.rows) + (1 if self.last else 0)

    def row(self, y: int) -> str:
        return self.rows[y] if y < len(self.rows) else self.last

    def write(self, text: str) -> None:
        self.source += text
        if self.width:
            self._flow(text)

    def reset(self, source: str) -> None:
        """Start again with ``source`` (what is left after a block went to the Markdown)."""
        self.source = ""
        self.rows, self.last = [], ""
        self.write(source)

    def wrap(self, width: int) -> None:
        """Wrap to ``width`` (again, only when it changed)."""
        if width != self.width and width > 0:
            self.width = width
            self.rows, self.last = [], ""
            self._flow(self.source)

    def _flow(self, text: str) -> None:
        width = self.width
        text = visible(text.replace("\t", "    "), keep="\n")
        for i, piece in enumerate(text.split("\n")):
            if i and (self.rows or self.last):   # blank lines before any text: none
                self.rows.append(self.last)
                self.last = ""
            last = self.last + piece
            while cell_len(last.rstrip()) > width:
                cut = _break_at(last, width)
                self.rows.append(last[:cut].rstrip())
                last = last[cut:].lstrip(" ")
            self.last = last


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


PAD = 1   # cells left of a reply (it reads apart from the bars of messages and calls)


class Reply(Item):
    """An assistant's reply: ``done`` (finished blocks, Markdown) and ``tail`` (the open
    block, plain text), then a blank line. A restored reply is all ``done``."""

    def __init__(self, source: str = "", finished: bool = False) -> None:
        super().__init__()
        self.done = ""            # finished blocks, as Markdown source
        self.tail = OpenBlock()
        self.finished = False
        self._scanned = 0         # tail.source before this is split into lines already
        self._fence: str | None = None
        self._done_upto = 0       # how much of ``done`` the strips show
        self._plain = Style()
        self.write(source)
        if finished:
            self.finish()

    @property
    def source(self) -> str:
        return self.done + self.tail.source

    def text(self) -> str:
        return self.source

    def write(self, text: str) -> bool:
        """Append a delta; True when a block finished (``done`` grew)."""
        tail = self.tail
        tail.write(text)
        end, self._fence = _block_end(tail.source, self._scanned, self._fence)
        nl = tail.source.rfind("\n", self._scanned)
        if nl >= 0:
            self._scanned = nl + 1
        if end > 0 and tail.source[:end].strip():
            self.done += tail.source[:end]
            self._scanned = max(0, self._scanned - end)
            tail.reset(tail.source[end:])
            return True
        return False

    def finish(self) -> None:
        """The reply ended: all of it is Markdown now, rendered as one document (as a
        restored one is)."""
        self.done, self.finished = self.source, True
        self.tail.reset("")
        self.forget()

    # -- drawing ---------------------------------------------------------------------------
    def estimate(self, width: int) -> int:
        return rows_of(self.source, width - PAD) + 1

    def forget(self) -> None:
        super().forget()
        self._done_upto = 0

    def build(self, width: int, log: Any) -> list[Strip]:
        # The finished part only: the open block's rows are drawn from ``tail`` itself.
        done = self.done.strip()
        if self._done_upto and self._strips is not None and self._drawn_width == width:
            # Blocks that finished since: rendered on their own, below the others.
            more = self.done[self._done_upto:].strip()
            strips = self._strips + ([log.blank(width)] if more and self._strips else [])
            strips += _pad(log.markdown(more, width - PAD), width, log) if more else []
        else:
            strips = _pad(log.markdown(done, width - PAD), width, log) if done else []
        self._done_upto = len(self.done)
        return strips

    def render(self, width: int, log: Any) -> None:
        super().render(width, log)
        self.tail.wrap(width - PAD)
        self._plain = log.item_style("reply")

    def grow(self, width: int, log: Any) -> None:
        """After a block ended: the strips of the finished part brought up to date (the
        blocks drawn before are kept as they are)."""
        if self.rendered_at(width):
            self._strips = self.build(width, log)

    @property
    def _gap(self) -> int:
        return 1 if self._strips and self.tail.height else 0

    def rendered_height(self) -> int:
        return len(self._strips or ()) + self._gap + self.tail.height + 1

    def tail_line(self) -> int:
        """The line of the row being written, within this item."""
        return len(self._strips or ()) + self._gap + max(0, self.tail.height - 1)

    def line(self, y: int, width: int, log: Any) -> Strip:
        strips = self._strips or []
        if y < len(strips):
            return strips[y]
        y -= len(strips) + self._gap
        if 0 <= y < self.tail.height:
            text = self.tail.row(y)
            return Strip([Segment(" " * PAD + text + " " * max(0, width - PAD - cell_len(text)),
                                  self._plain)], width)
        return log.blank(width)


def _pad(strips: list[Strip], width: int, log: Any) -> list[Strip]:
    style = log.item_style("reply")
    left = Segment(" " * PAD, style)
    return [Strip([left, *s], PAD + s.cell_length).extend_cell_length(width, style)
            for s in strips]
