"""A reply's Markdown rendered to Strips (rich's Markdown, in the app's colours): imported
when the first reply is drawn, never on the way to the first paint (markdown-it and
pygments are not needed for it)."""

from __future__ import annotations

from typing import Any

from rich.markdown import Heading, ListItem, Markdown
from rich.segment import Segment
from rich.theme import Theme
from textual.strip import Strip


class _Heading(Heading):
    # A narrow pane reads a centred title as a stray line: every level on the left.
    LEVEL_ALIGN = dict.fromkeys(Heading.LEVEL_ALIGN, "left")


class _ListItem(ListItem):
    def render_number(self, console: Any, options: Any, number: int, last_number: int) -> Any:
        # "1." as it was written, not rich's bare "1".
        width = len(str(last_number)) + 2
        lines = console.render_lines(self.elements, options.update(width=options.max_width - width),
                                     style=self.style)
        style = console.get_style("markdown.item.number", default="none")
        pad, numeral = Segment(" " * width, style), Segment(f"{number}.".rjust(width - 1) + " ", style)
        for i, line in enumerate(lines):
            yield pad if i else numeral
            yield from line
            yield Segment("\n")


class _Markdown(Markdown):
    elements = {**Markdown.elements, "heading_open": _Heading, "list_item_open": _ListItem}


def render_markdown(log: Any, source: str, width: int) -> list[Strip]:
    """``source`` at ``width`` cells, each line padded to it in the log's base style."""
    style = log.item_style
    theme = Theme({"markdown.h1": style("h1"), "markdown.h2": style("h2"),
                   "markdown.h3": style("h3"), "markdown.h4": style("h3"),
                   "markdown.code": style("code"), "markdown.item.bullet": style("bullet"),
                   "markdown.item.number": style("bullet"), "markdown.list": style("reply"),
                   "markdown.block_quote": style("tool"), "markdown.hr": style("tool"),
                   "markdown.link": style("bullet"), "markdown.table.border": style("tool"),
                   "markdown.table.header": style("h3")}, inherit=True)
    console = log.app.console
    base = style("reply")
    with console.use_theme(theme):
        lines = console.render_lines(_Markdown(source, hyperlinks=False),
                                     console.options.update_width(width), style=base, pad=True)
    return [Strip(line, width) for line in lines]
