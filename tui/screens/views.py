"""Full-screen views: a lane's diff, a command's output, the help."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.message import Message
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Log, Static

from core.errors import WorklanesError
from tui import format as fmt
from tui import keys
from tui.widgets.panes import SCROLL_KEYS, KeyBar

MAX_DIFF_LINES = 20_000


class TextLog(Log):
    BINDINGS = SCROLL_KEYS

    # The styles of these views are here rather than in app.tcss: parsed when a view
    # first opens, not before the app's first paint.
    DEFAULT_CSS = """
    TextLog { border: round $accent; height: 1fr; }
    TextLog.-failed { border: round $error; }
    """

    def __init__(self, highlighter: Any = None, **kwargs: Any) -> None:
        super().__init__(highlight=highlighter is not None, auto_scroll=False, **kwargs)
        if highlighter is not None:
            self.highlighter = highlighter


class DiffScreen(Screen[None]):
    """A lane's diff, drawn as git writes it (``core.lanes.diff.DiffStream``): a thread
    reads it and posts whole lines, the first screenful as soon as it has arrived, then
    a batch at least every ``BATCH_SECONDS``. Closing the view stops git at once."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Close")]
    BATCH_SECONDS = 0.1
    BATCH_LINES = 2_000   # never more at once: each batch is drawn on the UI thread

    @dataclass(eq=False)
    class Lines(Message):
        lines: list[str]

    @dataclass(eq=False)
    class Done(Message):
        total: int
        error: str = ""

    def __init__(self, lane: str, stream: Any) -> None:
        super().__init__()
        self.lane = lane
        self.stream = stream
        self.done = False
        self.shown = 0

    def compose(self):
        log = TextLog(fmt.DiffHighlighter(), id="diff")
        log.border_title = f"Diff of lane {self.lane}"
        log.border_subtitle = "reading… (esc closes)"
        yield log
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TextLog).focus()
        self._read(max(1, self.size.height))

    def on_unmount(self) -> None:
        self.stream.cancel()   # git stops now; the reader thread then reaps it

    @work(thread=True, exit_on_error=False)
    def _read(self, first_screen: int) -> None:
        # A worker thread: it never touches a widget, it only posts.
        pending, batch, total, error = "", [], 0, ""
        sent, last = False, time.monotonic()
        try:
            with self.stream as stream:
                for text in stream.chunks():
                    pending += text
                    cut = pending.rfind("\n") + 1
                    if not cut:
                        continue
                    lines, pending = pending[:cut].splitlines(), pending[cut:]
                    room = MAX_DIFF_LINES - total
                    batch += lines[:max(0, room)]
                    total += len(lines)
                    now = time.monotonic()
                    limit = self.BATCH_LINES if sent else first_screen
                    if batch and (len(batch) >= limit or now - last >= self.BATCH_SECONDS):
                        self.post_message(self.Lines(batch))
                        batch, sent, last = [], True, now
        except WorklanesError as exc:
            error = str(exc)
        if pending:
            total += 1
            if total <= MAX_DIFF_LINES:
                batch.append(pending)
        if batch:
            self.post_message(self.Lines(batch))
        self.post_message(self.Done(total, error))

    def on_diff_screen_lines(self, msg: "DiffScreen.Lines") -> None:
        self.shown += len(msg.lines)
        self.query_one(TextLog).write_lines(msg.lines)

    def on_diff_screen_done(self, msg: "DiffScreen.Done") -> None:
        self.done = True
        log = self.query_one(TextLog)
        log.border_subtitle = ""
        if msg.error:
            log.write_lines(([""] if self.shown else []) + [msg.error])
            log.set_class(True, "-failed")
            self.notify(msg.error, severity="error")
        elif not msg.total:
            log.write_lines(["(no changes since the lane's base)"])
        if msg.total > MAX_DIFF_LINES:
            log.border_title = f"Diff of lane {self.lane} (first {MAX_DIFF_LINES} of {msg.total} lines)"


class OutputScreen(Screen[None]):
    """A command's output, streamed as it runs. Esc cancels it: everything the command
    started is killed (core.proc finds them through /proc, not only by process group)."""

    BINDINGS = [Binding("escape", "close", "Cancel / close"), Binding("q", "close", "Close", show=False)]

    def __init__(self, lane: str, command: str, cancel: Any, title: str = "") -> None:
        super().__init__()
        self.lane = lane
        self.command = command
        self.cancel = cancel
        self.done = False
        self.title_text = title or f"{lane} $ {command}"

    def compose(self):
        log = TextLog(id="output", max_lines=20_000)  # a streamed flood stays bounded
        log.border_title = self.title_text
        log.border_subtitle = "running… (esc cancels)"
        yield log
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TextLog).focus()

    def show_result(self, result: Any, error: str = "", streamed: bool = False) -> None:
        """The end of the command; ``streamed``: its output is on screen already (then only
        a cut, which the stream did not have, is noted)."""
        if result is None:
            self.finish("not run", True, f"The command did not start: {error}")
            return
        log = self.query_one(TextLog)
        if not streamed:
            log.write_lines(result.output.splitlines() or ["(no output)"])
        elif not log.line_count:
            log.write_lines(["(no output)"])
        self.finish(f"{result.summary()} in {result.duration:.1f}s", result.exit_code != 0)

    def append(self, text: str) -> None:
        """Output as it arrives (a streamed command)."""
        self.query_one(TextLog).write(text)

    def finish(self, summary: str, failed: bool, note: str = "") -> None:
        self.done = True
        log = self.query_one(TextLog)
        if note:
            log.write_lines(([""] if log.line_count and log.lines[-1] else []) + note.splitlines())
        log.border_subtitle = f"{summary} - esc closes"
        log.set_class(failed, "-failed")

    def action_close(self) -> None:
        if not self.done:
            self.cancel.set()
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    #help-body {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $accent;
        background: $surface;
        padding: 1 2;
    }
    """

    def __init__(self, keymap: dict[str, str]) -> None:
        super().__init__()
        self.keymap = keymap

    def compose(self):
        from rich.console import Group
        from rich.table import Table

        def section(title: str, rows: list[tuple[str, str, str]]) -> list[Any]:
            table = Table.grid(padding=(0, 2), expand=True)
            table.add_column(width=12, style="bold cyan", no_wrap=True)
            table.add_column(ratio=1)
            table.add_column(style="dim", no_wrap=True, justify="right")
            for row in rows:
                table.add_row(*row)
            return [Text(title, style="bold underline"), table, Text("")]

        titles = {"tasks": "Task board", "lanes": "Lanes (from the board they act on the "
                  "selected task's lane)", "global": "Everywhere"}
        parts: list[Any] = []
        for pane in ("tasks", "lanes", "global"):
            rows = []
            for k in keys.KEYS:
                if k.pane == pane:
                    shown = keys.key_display(self.keymap[k.id]) if k.id in self.keymap \
                        else (k.shown_as or keys.key_display(k.key))
                    rows.append((shown, k.help, k.id))
            parts += section(titles[pane], rows)
        parts += section("Also", [
            ("ctrl+p", "Command palette: every action above, searchable", ""),
            ("↑↓ pgup pgdn", "Move in a table (home, end: first, last row; ← →: sideways)", "table.*"),
            ("mouse", "Click a row to select it, a pane to focus it, a key on the bottom "
             "line to press it", ""),
            ("", "Remap any key by its binding id: [keys] in ~/.config/worklanes/config.toml", ""),
        ])
        text = Group(*parts)
        box = VerticalScroll(Static(text), id="help-body")
        box.border_title = "worklanes keys"
        yield box
