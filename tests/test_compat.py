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


class Counted(Static):
    def __init__(self, text: str, **kw) -> None:
        super().__init__(text, **kw)
        self.renders = 0

    def render_lines(self, crop):
        self.renders += 1
        return super().render_lines(crop)


class Panes(App):
    CSS = """
    Screen { layout: grid; grid-size: 2 3; }
    Counted { border: round $accent; height: 1fr; }
    #top { background: $boost; } #bottom { border: heavy red; }
    """

    def compose(self):
        yield Counted("top left", id="top")
        yield Counted("top right " * 8)
        yield Counted("middle left", id="middle")
        yield Log(id="log")
        yield Counted("bottom left", id="bottom")
        yield Counted("[b]bottom[/b] right")


def written(update, app) -> str:
    """What an update writes, less the cursor moves nothing is written after (Textual
    moves to a chop that starts where a span ends, then writes none of it)."""
    return re.sub(r"\x1b\[\d+;\d+H(?=\x1b\[\d+;\d+H|\r?\n|$)", "",
                  update.render_segments(app.console))


async def test_split_partial_updates_write_what_textual_writes():
    import random

    from textual.geometry import Region

    compat.split_partial_updates()
    assert set(compat._ORIGINAL) == {"render_partial_update", "_get_renders"}, broken(
        "split_partial_updates", "Compositor.render_partial_update / _get_renders")
    app = Panes()
    async with app.run_test(size=(60, 21)) as pilot:
        app.query_one(Log).write_lines(f"line {i} " * 3 for i in range(40))
        await pilot.pause()
        comp = app.screen._compositor
        rng = random.Random(7)
        for _ in range(300):
            # Dirty regions are always on the screen (Textual clips them to the widget).
            regions = [Region(rng.randrange(60), rng.randrange(21), rng.randrange(1, 30),
                              rng.randrange(1, 8)).intersection(comp.size.region)
                       for _ in range(rng.randrange(1, 6))]
            comp._dirty_regions.update(regions)
            want = compat.textual_partial_update(comp)
            comp._dirty_regions.update(regions)
            got = compat.render_partial_update_split(comp)
            assert written(got, app) == written(want, app), (
                broken("render_partial_update_split", "its output differs from Textual's")
                + f" for {regions}")
        # Far apart, the widget between them is not rendered at all.
        top, middle, bottom = (app.query_one(f"#{n}", Counted) for n in ("top", "middle",
                                                                          "bottom"))
        before = middle.renders, top.renders, bottom.renders
        comp._dirty_regions.update([Region(1, 1, 5, 1), Region(1, 19, 5, 1)])
        compat.render_partial_update_split(comp)
        assert middle.renders == before[0]
        assert top.renders > before[1] and bottom.renders > before[2]
