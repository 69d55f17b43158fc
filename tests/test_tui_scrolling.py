"""A scroll range that grows or shrinks inside a widget's size lays nothing else out,
and what the widget shows (its lines, its scrollbar) is what a layout would have shown."""

from __future__ import annotations

from rich.segment import Segment
from textual.app import App
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from tui.compat import LayoutCounter, LogWithoutMeasureThread, render_screen_text
from tui.widgets.scrolling import set_virtual_size


class Numbered(ScrollView):
    DEFAULT_CSS = "Numbered { height: 10; }"

    def render_line(self, y: int) -> Strip:
        n = int(self.scroll_y) + y
        text = f"row {n}" if n < self.virtual_size.height else ""
        return Strip([Segment(text.ljust(self.size.width))], self.size.width)


class Probe(App):
    CSS = "LogWithoutMeasureThread { height: 6; overflow-x: hidden; }"   # as #events

    def compose(self):
        yield Static("above")
        yield Numbered()
        yield LogWithoutMeasureThread()


async def counting_from_rest(pilot, app) -> LayoutCounter:
    """Layouts counted from when the screen has stopped laying itself out: a scrollbar
    that has just come resizes its widget, and on a loaded machine that second layout
    can land after one pause."""
    layouts = LayoutCounter(app.screen)
    for _ in range(50):
        before = layouts.count
        await pilot.pause()
        if layouts.count == before:
            break
    layouts.count = 0
    return layouts


async def test_a_range_that_keeps_its_scrollbar_lays_nothing_out():
    app = Probe()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(Numbered)
        set_virtual_size(view, Size(0, 30))       # the scrollbar comes: a layout
        await pilot.pause()
        assert view.show_vertical_scrollbar
        layouts = await counting_from_rest(pilot, app)
        set_virtual_size(view, Size(0, 40))
        view.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert layouts.count == 0
        assert "row 39" in render_screen_text(app)
        assert view.vertical_scrollbar.window_virtual_size == 40
        set_virtual_size(view, Size(0, 20))      # shrunk under the view: brought back in
        await pilot.pause()
        assert layouts.count == 0
        shown = render_screen_text(app)
        assert "row 19" in shown and "row 20" not in shown and "row 9" not in shown
        set_virtual_size(view, Size(0, 5))       # the scrollbar goes: laid out again
        await pilot.pause()
        assert layouts.count >= 1 and not view.show_vertical_scrollbar
        assert "row 0" in render_screen_text(app)


async def test_the_event_log_grows_without_a_layout():
    app = Probe()
    async with app.run_test(size=(40, 20)) as pilot:
        log = app.query_one(LogWithoutMeasureThread)
        log.write_lines([f"event {i}" for i in range(12)])   # past its height
        await pilot.pause()
        layouts = await counting_from_rest(pilot, app)
        for i in range(12, 40):
            log.write_line(f"event {i}")
            await pilot.pause()
        assert layouts.count == 0
        shown = render_screen_text(app)
        assert "event 39" in shown and "event 30" not in shown   # followed to the end
        assert log.vertical_scrollbar.window_virtual_size == 40


async def test_a_width_near_the_edge_without_a_vertical_bar_lays_nothing_out():
    # A short table whose widest cell changes (the lanes' Agent column as an agent's
    # state moves on): the room a vertical bar would take does not count, as none shows.
    app = Probe()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(Numbered)
        set_virtual_size(view, Size(37, 2))
        await pilot.pause()
        room = view.container_size.width - view.styles.scrollbar_size_vertical
        layouts = await counting_from_rest(pilot, app)
        for width in (room + 1, room - 1, room + 1):
            set_virtual_size(view, Size(width, 2))
            await pilot.pause()
        assert layouts.count == 0
        assert not view.show_horizontal_scrollbar and not view.show_vertical_scrollbar
        assert "row 1" in render_screen_text(app)
        set_virtual_size(view, Size(view.container_size.width + 5, 2))   # now it must scroll
        await pilot.pause()
        assert layouts.count >= 1 and view.show_horizontal_scrollbar
