"""The conversation as one scrolling Line API widget.

A chat that was a container of widgets (one per message, call and notice, and a child
per Markdown block) had Textual place every one of them again on each frame, a cost
that grew with the conversation. Here the conversation is a list of items
(tui/widgets/chat_items.py, tui/widgets/stream.py); each renders to Strips for the
current width, kept until it or the width changes, and only the lines on screen are
drawn. An item not rendered yet counts with an estimated height; when it comes on
screen it is rendered and the estimate corrected (keeping what is on screen in place),
so a long restored conversation or a resize costs the items on screen, not all of them.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Iterable

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.chat_items import Item
from tui.widgets.scrolling import set_virtual_size

STYLES = ("user", "user-bar", "tool", "tool-bar", "tool-bar-failed", "notice-info",
          "notice-warn", "notice-error", "reply", "h1", "h2", "h3", "code", "bullet")


class ConversationLog(ScrollView, can_focus=True):
    """The items of one conversation, drawn (tui/widgets/chat.py's ChatLog adds the
    keys of the chat pane)."""

    COMPONENT_CLASSES = {f"chat-log--{name}" for name in STYLES}

    DEFAULT_CSS = """
    ConversationLog {
        height: 1fr;
        overflow-x: hidden;
        & > .chat-log--user { background: $boost; }
        & > .chat-log--user-bar { color: $accent; background: $boost; }
        & > .chat-log--tool { color: $text-muted; }
        & > .chat-log--tool-bar { color: $warning 50%; }
        & > .chat-log--tool-bar-failed { color: $error; }
        & > .chat-log--notice-info { color: $text-muted; text-style: italic; }
        & > .chat-log--notice-warn { color: $warning; text-style: italic; }
        & > .chat-log--notice-error { color: $error; text-style: bold italic; }
        & > .chat-log--h1 { color: $markdown-h1-color; text-style: $markdown-h1-text-style; }
        & > .chat-log--h2 { color: $markdown-h2-color; text-style: $markdown-h2-text-style; }
        & > .chat-log--h3 { color: $markdown-h3-color; text-style: $markdown-h3-text-style; }
        & > .chat-log--code { color: $text-warning; background: $warning 10%; }
        & > .chat-log--bullet { color: $text-primary; text-style: bold; }
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[Item] = []
        self._heights: list[int] = []
        self._starts: list[int] = [0]     # the first line of each item, then the total
        self._stale = 0                   # starts after this item need adding up again
        self._drawn_width = 0             # the width items are rendered at
        self._styles: dict[str, Style] = {}
        self._base: Style | None = None
        self._blank: Strip | None = None
        self._lead = 0                    # blank rows above a conversation shorter than the pane
        # Whole renders of an item (a streamed delta is not one): the work of a frame is
        # bounded by the lines on screen, not by the length of the conversation.
        self.renders = 0

    # -- the conversation --------------------------------------------------------------------
    def add(self, item: Item) -> Item:
        self.extend([item])
        return item

    def extend(self, items: Iterable[Item]) -> None:
        width = self._drawn_width or max(10, self.size.width)
        for item in items:
            item.log = self
            self.items.append(item)
            self._heights.append(item.estimate(width))
        self._changed()

    def remove(self, item: Item) -> None:
        i = self._index(item)
        if i is None:
            return
        del self.items[i], self._heights[i]
        del self._starts[i + 1]
        self._stale = min(self._stale, i)
        item.log = None
        self._changed()

    def clear(self) -> None:
        for item in self.items:
            item.log = None
        self.items, self._heights, self._starts, self._stale = [], [], [0], 0
        self._changed()
        self.anchor()   # the next conversation is followed from its start

    def item_changed(self, item: Item) -> None:
        """``item`` was changed (and forgot its strips): drawn again when on screen."""
        self.refresh()

    def append_text(self, reply: Any, text: str) -> None:
        """A streamed delta: only the reply's open block changes (and, when a block ends,
        the finished block is rendered); the rest is not drawn again."""
        i = self._index(reply)
        grew = reply.write(text)
        if i is None:
            return
        width = self._drawn_width
        if not reply.rendered_at(width):
            # Not drawn (off screen, or its view hidden): its estimate is brought up to
            # date when a line or a block ends, not at the cost of the reply per delta.
            if grew or "\n" in text:
                self._set_height(i, reply.estimate(width or 80))
                self._changed()
            return
        if grew:
            reply.grow(width, self)
        height = reply.rendered_height()
        if height != self._heights[i] or grew:
            self._set_height(i, height)
            self._changed()
        else:
            self._fix_starts()
            self.refresh_line(self._starts[i] + reply.tail_line() + self._lead)

    def text(self) -> str:
        """The conversation as plain text, item by item (what tests and copies read)."""
        return "\n".join(item.text() for item in self.items)

    # -- geometry -----------------------------------------------------------------------------
    def _index(self, item: Item) -> int | None:
        items = self.items
        for i in range(len(items) - 1, -1, -1):   # the newest are the ones that change
            if items[i] is item:
                return i
        return None

    def _set_height(self, i: int, height: int) -> None:
        if self._heights[i] != height:
            self._heights[i] = height
            self._stale = min(self._stale, i)

    def _fix_starts(self) -> None:
        starts, heights = self._starts, self._heights
        n = len(heights)
        if len(starts) != n + 1:
            del starts[n + 1:]
            starts.extend([0] * (n + 1 - len(starts)))
        for i in range(self._stale, n):
            starts[i + 1] = starts[i] + heights[i]
        self._stale = n

    def _changed(self) -> None:
        self._fix_starts()
        self._set_virtual(self._starts[-1])
        self.refresh()

    def _set_virtual(self, total: int) -> None:
        """The conversation is ``total`` lines (a layout of the screen only when the
        scrollbar comes or goes: tui/widgets/scrolling.py)."""
        if self.virtual_size.height == total:
            return
        following = bool(self.container_size.height) and self.scroll_y >= self.max_scroll_y
        set_virtual_size(self, Size(0, total))
        if following:
            self.scroll_y = self.scroll_target_y = self.max_scroll_y

    def _render(self, i: int, width: int) -> bool:
        """Render item ``i`` at ``width`` if it is not; True when its height changed."""
        item = self.items[i]
        if item.rendered_at(width):
            return False
        item.render(width, self)
        self.renders += 1
        height = item.rendered_height()
        if height == self._heights[i]:
            return False
        self._set_height(i, height)
        return True

    def _rewidth(self, width: int) -> None:
        self._drawn_width = width
        self._blank = None
        for i, item in enumerate(self.items):
            self._heights[i] = item.estimate(width)
        self._stale = 0

    def _prepare(self) -> None:
        """Before a frame: render the items on screen that are not, correct their heights
        and keep the view where it was (at the end while it follows the end)."""
        region = self.scrollable_content_region
        width, rows = region.width, region.height
        if width <= 0 or rows <= 0:
            return
        base = self.rich_style
        if base != self._base:           # a new theme or style: everything again
            self._base, self._styles, self._blank = base, {}, None
            for item in self.items:
                item.forget()
        following = self.scroll_y >= self.max_scroll_y
        top = int(self.scroll_y)
        moved = False
        if width != self._drawn_width:
            # Rewrapped: scrolled up, the item at the top stays at the top.
            at = bisect_right(self._starts, top) - 1
            self._rewidth(width)
            self._fix_starts()
            if not following and 0 <= at < len(self.items):
                top = self._starts[at]
            moved = True
        self._fix_starts()
        n = len(self.items)
        if following:
            # Up from the end, until the screen is full.
            i, need = n - 1, rows
            while i >= 0 and need > 0:
                moved |= self._render(i, width)
                need -= self._heights[i]
                i -= 1
            self._fix_starts()
            top = max(0, self._starts[-1] - rows)
        elif n:
            i = min(n - 1, max(0, bisect_right(self._starts, top) - 1))
            first = True
            while i < n and self._starts[i] < top + rows:
                before = self._heights[i]
                if self._render(i, width):
                    moved = True
                    if first and self._starts[i] < top:
                        top += self._heights[i] - before   # its lines on screen stay put
                    self._fix_starts()
                first = False
                i += 1
        total = self._starts[-1]
        # A short conversation sits at the bottom, next to the input, as chats do.
        lead = max(0, rows - total)
        if lead != self._lead:
            self._lead, moved = lead, True
        self._set_virtual(total)
        if top != int(self.scroll_y):
            self.set_reactive(ScrollView.scroll_y, float(top))
            self.set_reactive(ScrollView.scroll_target_y, float(top))
            self.vertical_scrollbar.position = top
            moved = True
        if moved:
            self.refresh()   # every line of this frame drawn again, not only the dirty ones

    # -- drawing --------------------------------------------------------------------------------
    def render_lines(self, crop: Any) -> list[Strip]:
        self._prepare()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._drawn_width
        line = int(self.scroll_y) + y - self._lead
        i = bisect_right(self._starts, line) - 1
        if line < 0 or not 0 <= i < len(self.items):
            return self.blank(width)
        if self._render(i, width):   # not prepared (an item changed mid-frame)
            self._fix_starts()
            self.refresh()
        item = self.items[i]
        return item.line(line - self._starts[i], width, self)

    # -- what items render with ----------------------------------------------------------------
    def item_style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            base = self.rich_style
            style = self._styles[name] = (base if name == "reply" else
                                          base + self.get_component_rich_style(f"chat-log--{name}"))
        return style

    def blank(self, width: int) -> Strip:
        if self._blank is None or self._blank.cell_length != width:
            self._blank = Strip.blank(width, self.item_style("reply"))
        return self._blank

    def text_lines(self, text: Text, width: int, style: Style) -> list[Strip]:
        console = self.app.console
        lines = console.render_lines(text, console.options.update_width(max(1, width)),
                                     style=style, pad=True)
        return [Strip(line, width) for line in lines]

    def markdown(self, source: str, width: int) -> list[Strip]:
        from tui.widgets.markdown import render_markdown

        return render_markdown(self, source, max(1, width))
