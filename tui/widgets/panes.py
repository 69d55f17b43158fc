"""The frame around each pane, the status line, the event tail and the task quick-add."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Log, Static

from tui import format as fmt


class Pane(Vertical):
    """A bordered pane that can be zoomed to the whole screen."""

    ALLOW_MAXIMIZE = True

    def __init__(self, title: str, *children: Any, **kwargs: Any) -> None:
        super().__init__(*children, **kwargs)
        self.border_title = title


class StatusLine(Static):
    """The top line: repository, branch, model and the session's token usage."""

    repo: reactive[str] = reactive("")
    branch: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    tokens: reactive[tuple[int, int]] = reactive((0, 0))

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" worklanes ", style="bold reverse")
        t.append(f"  {self.repo}", style="bold")
        if self.branch:
            t.append(f"  ⎇ {self.branch}", style="magenta")
        t.append(f"  model {self.model or '…'}", style="cyan")
        tin, tout = self.tokens
        t.append(f"  tokens {_k(tin)} in / {_k(tout)} out", style="dim")
        return t


def _k(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


class EventTail(Log):
    """The event log, newest at the bottom. Lines are plain strings (bounded by
    ``max_lines``) coloured at render time, so a burst of 10,000 events costs one
    write of at most ``max_lines`` strings."""

    def __init__(self, max_lines: int = 2000, tz: _dt.tzinfo | None = None, **kwargs: Any):
        super().__init__(max_lines=max_lines, highlight=True, auto_scroll=True, **kwargs)
        self.highlighter = fmt.EventHighlighter()
        self.tz = tz
        self.new = 0      # since the app opened
        self.failed = 0   # failures among the events shown or received

    def add_events(self, events: list[dict[str, Any]], initial: bool = False) -> None:
        if not initial:
            self.new += len(events)
        keep = events[-(self.max_lines or len(events)):]
        self.failed += sum(1 for e in events
                           if fmt.is_failure(str(e.get("event", "")), bool(e.get("error"))))
        if keep:
            self.write_lines([fmt.event_line(e, self.tz) for e in keep])


class QuickAdd(Input):
    """``n`` on the board: type a subject, Enter creates the task, Esc gives up."""

    BINDINGS = [Binding("escape", "close", "Cancel", show=True)]

    class Closed(Message):
        pass

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="New task subject - Enter creates it, Esc cancels", **kwargs)

    def action_close(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.Closed())
