"""The frame around each pane, the status line, the key bar, the event tail and the task
quick-add."""

from __future__ import annotations

import datetime as _dt
from typing import Any, TypeVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from tui import format as fmt
from tui import keys
from tui.compat import LogWithoutMeasureThread

W = TypeVar("W", bound=Widget)

# A Log (the event tail, the diff and output views) has no keys of its own: Textual binds
# these on its scrolling containers only, so End never reached the end of a long output.
SCROLL_KEYS = [Binding("up", "scroll_up", "Up", show=False),
               Binding("down", "scroll_down", "Down", show=False),
               Binding("pageup", "page_up", "Page up", show=False),
               Binding("pagedown", "page_down", "Page down", show=False),
               Binding("home", "scroll_home", "Top", show=False),
               Binding("end", "scroll_end", "End", show=False),
               Binding("left", "scroll_left", "Left", show=False),
               Binding("right", "scroll_right", "Right", show=False)]


class Pane(Vertical):
    """A frame around a pane of more than one widget; it can be zoomed to the screen."""

    ALLOW_MAXIMIZE = True

    def __init__(self, title: str, *children: Any, **kwargs: Any) -> None:
        super().__init__(*children, **kwargs)
        pane(self, title)


def pane(widget: W, title: str) -> W:
    """Make ``widget`` a pane: the ``pane`` class draws its frame (app.tcss), the title
    sits in the frame, and zoom (z) can give it the whole screen."""
    widget.add_class("pane")
    widget.border_title = title
    return widget


def retitle(widget: Widget, title: str | None = None, subtitle: str | None = None) -> None:
    """Set a pane's frame texts, only those that change: every set repaints the whole
    pane, and the lanes pane redraws on each spinner frame while an agent runs."""
    last = widget.__dict__.setdefault("_frame_texts", {})
    for name, text in (("border_title", title), ("border_subtitle", subtitle)):
        if text is not None and last.get(name) != text:
            last[name] = text
            setattr(widget, name, text)


class StatusLine(Static):
    """The top line: repository, branch, model and the session's token usage."""

    repo: reactive[str] = reactive("")
    branch: reactive[str] = reactive("")
    model: reactive[str] = reactive("")
    tokens: reactive[tuple[int, int]] = reactive((0, 0))
    # Lane agents: (how many lanes have one, running, waiting for an answer, their tokens).
    agents: reactive[tuple[int, int, int, int]] = reactive((0, 0, 0, 0))

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" worklanes ", style="bold reverse")
        t.append(f"  {self.repo}", style="bold")
        if self.branch:
            t.append(f"  ⎇ {self.branch}", style="magenta")
        t.append(f"  model {self.model or '…'}", style="cyan")
        tin, tout = self.tokens
        t.append(f"  tokens {_k(tin)} in / {_k(tout)} out", style="dim")
        known, running, waiting, lane_tokens = self.agents
        if known:
            t.append(f"  agents {running} running", style="yellow" if running else "dim")
            t.append(" · ", style="dim")
            t.append(f"{waiting} waiting", style="bold black on yellow" if waiting else "dim")
            t.append(f" · {_k(lane_tokens)} tokens", style="dim")
        return t


_k = fmt.short_count


class EventTail(LogWithoutMeasureThread):
    BINDINGS = SCROLL_KEYS

    """The event log, newest at the bottom. Lines are plain strings (bounded by
    ``max_lines``) coloured at render time, so a burst of 10,000 events costs one
    write of at most ``max_lines`` strings. It never scrolls sideways (app.tcss), so it
    measures new lines on the spot, not in a thread (tui/compat.py)."""

    def __init__(self, max_lines: int = 2000, tz: _dt.tzinfo | None = None, **kwargs: Any):
        super().__init__(max_lines=max_lines, highlight=True, auto_scroll=True, **kwargs)
        self.highlighter = fmt.EventHighlighter()
        self.tz = tz
        self.new = 0      # since the app opened
        self.failed = 0   # failures among the events shown or received
        self._older: list[dict[str, Any]] = []   # of the start-up tail, not drawn yet

    def add_events(self, events: list[dict[str, Any]], initial: bool = False) -> None:
        if not initial:
            self.new += len(events)
        keep = events[-(self.max_lines or len(events)):]
        self.failed += sum(1 for e in events
                           if fmt.is_failure(str(e.get("event", "")), bool(e.get("error"))))
        if initial and len(keep) > self.app.size.height:
            # The first frame shows no more lines than the terminal has; the older ones
            # of the start-up tail are formatted after it (backfill).
            self._older, keep = keep[:-self.app.size.height], keep[-self.app.size.height:]
        if keep:
            self.write_lines([fmt.event_line(e, self.tz) for e in keep])

    def backfill(self) -> None:
        """Put the older lines of the start-up tail above those drawn (after the first
        paint; lines that arrived since stay below them)."""
        older, self._older = self._older, []
        if older:
            lines = [fmt.event_line(e, self.tz) for e in older] + list(self.lines)
            self.clear()
            self.write_lines(lines)


class QuickAdd(Input):
    """``n`` on the board: type a subject, Enter creates the task, Esc gives up."""

    BINDINGS = [Binding("escape", "close", "Cancel", show=True)]
    # Keys typed after these wait until the board has the focus back (tui/actions.py).
    HOLD_KEYS_AFTER = ("enter", "escape")

    class Closed(Message):
        pass

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="New task subject - Enter creates it, Esc cancels", **kwargs)

    def action_close(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.Closed())


# Always on the key bar, right-aligned: how to find every key, and how to leave.
PINNED = frozenset({"app.help", "app.quit"})


class KeyBar(Static):
    """The keys of the focused pane, on the bottom line; click one to press it.

    One widget drawn with the first frame: Textual's Footer builds a widget per key,
    and only after that frame, which costs a second layout of the whole screen."""

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        link-style: none;
        link-style-hover: reverse;
        & > .key-bar--key { color: $footer-key-foreground; text-style: bold; }
        & > .key-bar--description { color: $footer-description-foreground; }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Any) -> None:
        self.refresh()

    def action_press(self, key: str) -> None:
        self.app.simulate_key(key)

    def _key(self, text: Text, key: str, display: str, description: str, enabled: bool) -> None:
        dim = Style(dim=not enabled)
        click = Style.from_meta({"@click": f"press({key!r})"})
        text.append(f" {display}", self.get_component_rich_style("key-bar--key") + dim + click)
        text.append(f" {description} ",
                    self.get_component_rich_style("key-bar--description") + dim + click)

    def render(self) -> Text:
        """The focused pane's keys from the left; help, quit and the palette pinned on
        the right, so a narrow terminal cuts a pane key, never the way to help or out."""
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        right = Text(end="")
        app = self.app
        news = Text(no_wrap=True, overflow="ellipsis", end="")
        shown: set[str] = set()
        active = self.screen.active_bindings
        applies = getattr(self.screen, "key_applies", None)
        for key, (_, binding, enabled, _tooltip) in active.items():
            if not binding.show or binding.action in shown or key == app.COMMAND_PALETTE_BINDING:
                continue
            when = keys.WHEN.get(binding.id or "")
            if when and applies is not None and not applies(when):
                continue
            shown.add(binding.action)
            self._key(right if binding.id in PINNED else news if when else text, key,
                      app.get_key_display(binding), binding.description, enabled)
        # Keys that apply only now come first: on a narrow bar they are what must not be cut.
        text = news.append_text(text) if news else text
        palette = active.get(app.COMMAND_PALETTE_BINDING) if app.ENABLE_COMMAND_PALETTE else None
        if palette is not None:
            right.append("  ")
            self._key(right, palette.binding.key, app.get_key_display(palette.binding),
                      palette.binding.description, palette.enabled)
        room = self.size.width - right.cell_len
        if text.cell_len > room:
            text.truncate(max(0, room - 1), overflow="ellipsis")
        text.pad_right(max(0, room - text.cell_len))
        text.append_text(right)
        return text
