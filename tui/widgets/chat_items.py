"""What a chat log (tui/widgets/chat_log.py) holds: a user's message, a tool call, a
notice (the assistant's reply is tui/widgets/stream.py's Reply). Each is plain data that
renders to Strips for a width; the log keeps them until the item or the width changes."""

from __future__ import annotations

import json
from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip

from core.safe_text import visible
from tui.format import clip


class Item:
    """One entry of the conversation. ``build`` renders it whole (the log counts those);
    ``changed`` drops what it drew and asks the log to draw it again."""

    def __init__(self) -> None:
        self.log: Any = None
        self._strips: list[Strip] | None = None
        self._drawn_width = 0

    def text(self) -> str:
        raise NotImplementedError

    def estimate(self, width: int) -> int:
        """Its height at ``width`` before it is rendered (corrected once it is)."""
        return rows_of(self.text(), width - 4)

    def build(self, width: int, log: Any) -> list[Strip]:
        raise NotImplementedError

    def render(self, width: int, log: Any) -> None:
        self._strips = self.build(width, log)
        self._drawn_width = width

    def rendered_at(self, width: int) -> bool:
        return self._strips is not None and self._drawn_width == width

    def rendered_height(self) -> int:
        return len(self._strips or ())

    def line(self, y: int, width: int, log: Any) -> Strip:
        strips = self._strips or ()
        return strips[y] if y < len(strips) else log.blank(width)

    def forget(self) -> None:
        self._strips = None

    def changed(self) -> None:
        self.forget()
        if self.log is not None:
            self.log.item_changed(self)


class UserMessage(Item):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.body = text

    def text(self) -> str:
        return self.body

    def estimate(self, width: int) -> int:
        return super().estimate(width) + 1

    def build(self, width: int, log: Any) -> list[Strip]:
        # A blank line above; a bar in the accent colour, the text on a raised background.
        style, bar = log.item_style("user"), log.item_style("user-bar")
        lines = log.text_lines(Text(visible(self.body, keep="\n")), width - 3, style)
        return [log.blank(width)] + framed(lines, [Segment("█", bar), Segment(" ", style)],
                                           [Segment(" ", style)])


class Notice(Item):
    """``kind``: info, warn or error."""

    def __init__(self, text: str, kind: str = "info") -> None:
        super().__init__()
        self.body, self.kind = text, kind

    def text(self) -> str:
        return self.body

    def build(self, width: int, log: Any) -> list[Strip]:
        style = log.item_style(f"notice-{self.kind}")
        lines = log.text_lines(Text(self.body), width - 2, style)
        pad = [Segment(" ", style)]
        return framed(lines, pad, pad)


def input_summary(name: str, data: Any, limit: int = 70) -> str:
    if not isinstance(data, dict):
        return str(data)[:limit]
    for key in ("command", "path", "name", "subject"):
        if isinstance(data.get(key), str) and data[key]:
            text = data[key]
            break
    else:
        text = json.dumps(data, ensure_ascii=False, default=str)
    if key in ("command", "path") and isinstance(data.get("name"), str) and data["name"]:
        text = f"[{data['name']}] {text}"  # the lane it acts in
    return clip(visible(" ".join(text.split())), limit)


MARKS = {"running": ("⚙", "yellow"), "ok": ("✓", "green"), "error": ("✗", "bold red"),
         "denied": ("⊘", "bold red")}


class ToolCall(Item):
    """``⚙ bash  git status`` while running; ``✓``/``✗`` plus a short result after."""

    def __init__(self, tool_use_id: str, name: str, data: Any) -> None:
        super().__init__()
        self.tool_use_id = tool_use_id
        self.tool_name = name
        self.summary = input_summary(name, data)
        self.state = "running"
        self.result = ""
        self.approval = ""   # "waiting" while the approval dialog is open, then the answer

    def finish(self, output: str, is_error: bool = False, denied: bool = False) -> None:
        self.state = "denied" if denied else "error" if is_error else "ok"
        from core.agent.events import brief_output  # here: not on the way to the first paint

        self.result = "denied by you" if denied else brief_output(output)
        self.changed()

    def set_approval(self, text: str) -> None:
        """"waiting" while its approval is asked, then the answer (on the call's line)."""
        self.approval = text
        self.changed()

    def content(self) -> Text:
        mark, style = MARKS[self.state]
        t = Text(no_wrap=False)
        t.append(f"{mark} ", style=style)
        t.append(self.tool_name, style="bold")
        t.append(f"  {self.summary}", style="dim")
        if self.state == "running":
            waiting = self.approval == "waiting"
            t.append("  waiting for your approval…" if waiting else "  running…", style="yellow")
            if self.approval and not waiting:
                t.append(f"  ({self.approval})", style="dim")
        else:
            if self.approval and self.approval != "waiting" and self.state != "denied":
                t.append(f"  ({self.approval})", style="dim")
            t.append("\n  → ", style="dim")
            t.append(self.result, style="red" if self.state != "ok" else "")
        return t

    def text(self) -> str:
        return self.content().plain

    def build(self, width: int, log: Any) -> list[Strip]:
        # One cell in, a thin bar (red once it failed), a cell of padding either side.
        style = log.item_style("tool")
        bar = log.item_style("tool-bar" if self.state == "ok" or self.state == "running"
                             else "tool-bar-failed")
        lines = log.text_lines(self.content(), width - 4, style)
        base = log.item_style("reply")
        return framed(lines, [Segment(" ", base), Segment("▎", bar), Segment(" ", style)],
                      [Segment(" ", style)])


def framed(lines: list[Strip], left: list[Segment], right: list[Segment]) -> list[Strip]:
    """Each line between the same segments (a bar, padding)."""
    lw = sum(s.cell_length for s in left)
    rw = sum(s.cell_length for s in right)
    return [Strip([*left, *line, *right], lw + line.cell_length + rw) for line in lines]


def rows_of(text: str, width: int) -> int:
    """About how many rows ``text`` takes at ``width``."""
    from rich.cells import cell_len

    width = max(1, width)
    return sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n"))
