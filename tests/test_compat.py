"""Each private Textual name the app relies on (all of them in tui/compat.py), checked
against the installed Textual: an upgrade that breaks one fails here, naming the use."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import App
from textual.message import Message
from textual.widgets import Log, Static

from tui import compat

ROOT = Path(__file__).resolve().parents[1]


def broken(use: str, why: str) -> str:
    return f"tui/compat.py: {use} no longer works with this Textual ({why})"


class Probe(App):
    def compose(self):
        yield Static("hello compat", id="hello")
        yield Log(id="log")


async def test_toast_rack_id():
    app = Probe()
    async with app.run_test(notifications=True) as pilot:
        app.notify("a toast")
        await pilot.pause()
        assert app.screen.query(f"#{compat.TOAST_RACK_ID}"), broken(
            "hide_toast_rack / TOAST_RACK_ID", "no widget with that id on the screen")
        compat.hide_toast_rack(app.screen)
        assert not app.screen.query_one(f"#{compat.TOAST_RACK_ID}").display


async def test_on_message_is_the_dispatch_hook():
    class Ping(Message):
        pass

    seen: list[str] = []

    class Quiet(compat.QuietAfterExit, Probe):
        QUIET_AFTER_EXIT = (Ping,)

        def on_ping(self, msg: Ping) -> None:
            seen.append("handled")

    app = Quiet()
    async with app.run_test() as pilot:
        app.post_message(Ping())
        await pilot.pause()
        assert seen == ["handled"], broken("QuietAfterExit._on_message", "messages bypass it")
        app._return_code = 0   # as exit() leaves it, without closing the queue
        app.post_message(Ping())
        await pilot.pause()
        assert seen == ["handled"], broken("QuietAfterExit._on_message",
                                           "a message after exit was still handled")


async def test_log_measures_through_update_size():
    calls: list[int] = []

    class Measured(compat.LogWithoutMeasureThread):
        def _update_size(self, updates, lines):
            calls.append(len(lines))
            super()._update_size(updates, lines)

    class App2(App):
        def compose(self):
            yield Measured(id="log")

    app = App2()
    async with app.run_test() as pilot:
        log = app.query_one(Measured)
        log.write_lines(["x" * 300, "short"])
        await pilot.pause()
        assert calls == [2], broken("LogWithoutMeasureThread._update_size",
                                    "Log.write_lines no longer calls it")
        assert log.virtual_size.width == 300 and isinstance(log._width, int), broken(
            "LogWithoutMeasureThread._width", "Log keeps its width elsewhere")
        assert not [w for w in app.workers if w.is_running], "a measuring thread still ran"


async def test_render_screen_text_and_notifications():
    app = Probe()
    async with app.run_test(size=(40, 5)) as pilot:
        assert "hello compat" in compat.render_screen_text(app), broken(
            "render_screen_text", "Screen._compositor / App._background_screens")
        app.notify("noted")
        await pilot.pause()
        assert [str(n.message) for n in compat.notifications(app)] == ["noted"], broken(
            "notifications", "App._notifications")


# What was once spread over the tree; only tui/compat.py may name them now.
PRIVATE = re.compile(r"_compositor|_background_screens|\b_notifications\b|_get_breakpoint_classes"
                     r"|textual-toastrack|def _on_message|def _update_size|\._width\b"
                     r"|\._lines\b|app\._exit\b|\._running\b|_stream\._pending"
                     r"|from textual\.(\w+\.)*_\w+ import|import textual\.(\w+\.)*_\w+")


def test_private_textual_names_only_in_compat():
    own = {ROOT / "tui" / "compat.py", Path(__file__).resolve()}
    found = []
    for folder in ("tui", "tests", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.resolve() in own:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


def test_breakpoint_class_agrees_with_textual():
    """The main screen computes its first breakpoint class itself (no private call); it
    must pick what Textual's own Resize handler will."""
    from textual.screen import Screen

    from tui.screens.main import MainScreen, breakpoint_class

    points = MainScreen.HORIZONTAL_BREAKPOINTS
    for width in (0, 40, 99, 100, 120, 300):
        assert {breakpoint_class(width, points)} == Screen._get_breakpoint_classes(
            Screen(), width, points), width


async def test_driver_is_the_terminal_writer():
    app = Probe()
    async with app.run_test():
        driver = getattr(app, "_driver", None)
        assert driver is not None and callable(getattr(driver, "write", None)), broken(
            "write_to_terminal / App._driver", "the app has no driver with write()")
        compat.write_to_terminal(app, "\x1b]9;headless: nothing written\x07")  # no terminal
