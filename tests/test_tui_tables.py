"""The keyed tables and the key bar on their own, in a small host app: keys and mouse
move the cursor, rows update in place by key, narrow panes cut the flexible column
first and scroll sideways past that, and a click on the key bar presses the key."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui import format as fmt
from tui.widgets.panes import KeyBar
from tui.widgets.tables import Column, KeyedTable


class Table(KeyedTable):
    COLUMNS = (Column("ID", "id"), Column("Name", "name", flex_min=8), Column("Tag", "tag"))


def render(c: tuple) -> list:
    return [fmt.cell(str(c[0])), fmt.cell(c[1], "bold"), fmt.cell(c[2], "cyan")]


def rows(n: int, prefix: str = "name") -> list:
    return [fmt.row(str(i), (i, f"{prefix} {i}", "t"), render) for i in range(1, n + 1)]


class Host(App):
    CSS = "Table { height: 1fr; }"
    BINDINGS = [Binding("f2", "ping", "Ping", id="host.ping")]

    def __init__(self, width_css: str = "") -> None:
        super().__init__()
        self.highlighted: list[str | None] = []
        self.pinged = 0
        if width_css:
            self.CSS = f"Table {{ height: 1fr; width: {width_css}; }}"

    def compose(self):
        yield Table()
        yield KeyBar()

    def on_keyed_table_row_highlighted(self, msg: KeyedTable.RowHighlighted) -> None:
        self.highlighted.append(msg.key)

    def action_ping(self) -> None:
        self.pinged += 1


def line(table: KeyedTable, y: int) -> str:
    return table.render_line(y).text


async def test_keys_move_the_cursor_and_keep_it_in_view():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(Table)
        table.sync(rows(50))
        table.focus()
        await pilot.pause()
        assert table.selected_key == "1" and app.highlighted[-1] == "1"
        await pilot.press("down", "down")
        assert table.selected_key == "3"
        await pilot.press("end")
        await pilot.pause()
        assert table.selected_key == "50"
        visible = table.scrollable_content_region.height - 1
        assert table.scroll_y == 50 - visible           # the last row sits at the bottom
        assert "name 50" in line(table, visible)
        assert line(table, 0).split() == ["ID", "Name", "Tag"]   # the header stays on top
        await pilot.press("pageup")
        assert table.selected_key == str(50 - (visible - 1))
        await pilot.press("home")
        await pilot.pause()
        assert table.selected_key == "1" and table.scroll_y == 0
        assert app.highlighted[-1] == "1"


async def test_a_click_selects_the_row_under_the_mouse():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(Table)
        table.sync(rows(5))
        await pilot.pause()
        await pilot.click(Table, offset=(3, 4))        # header, then rows 1, 2, 3, 4
        assert table.selected_key == "4"
        await pilot.click(Table, offset=(3, 0))        # the header selects nothing
        assert table.selected_key == "4"


async def test_rows_update_in_place_and_the_cursor_follows_its_key():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(Table)
        table.sync(rows(5))
        table.select_key("3")
        await pilot.pause()
        new = rows(5)
        new[2] = fmt.row("3", (3, "renamed", "t"), render)
        table.sync([new[4]] + new[:4])                 # 5 moves to the top
        await pilot.pause()
        assert table.keys == ["5", "1", "2", "3", "4"]
        assert table.selected_key == "3" and table.cursor_row == 3
        assert "renamed" in line(table, 4)
        table.sync([r for r in new if r[0] != "3"])    # the selected row goes away
        assert table.selected_key == "4" and table.cells_of("3") is None
        table.sync([])
        assert table.selected_key is None and table.row_count == 0
        assert not table.select_key("1")


async def test_a_narrow_table_cuts_the_flexible_column_then_scrolls_sideways():
    long = [fmt.row("1", (1, "a rather long name that does not fit", "tag"), render)]
    app = Host(width_css="24")
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(Table)
        table.sync(long)
        await pilot.pause()
        text = line(table, 1)
        assert "…" in text and "tag" in text           # cut, and the next column still shows
        assert table.virtual_size.width <= table.scrollable_content_region.width
    app = Host(width_css="10")
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(Table)
        table.sync(long)
        await pilot.pause()
        assert table.virtual_size.width > table.scrollable_content_region.width
        assert "tag" not in line(table, 1)
        table.focus()
        for _ in range(table.max_scroll_x):
            await pilot.press("right")                 # the keyboard scrolls sideways too
        await pilot.pause()
        assert table.scroll_x == table.max_scroll_x
        assert "tag" in line(table, 1)


async def test_the_key_bar_shows_the_focused_keys_and_a_click_presses_one():
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        bar = app.query_one(KeyBar)
        await pilot.pause()
        text = str(bar.render())
        assert "f2 Ping" in text and "palette" in text
        assert "Up" not in text                        # navigation keys are not listed
        await pilot.click(KeyBar, offset=(2, 0))
        await pilot.pause()
        assert app.pinged == 1


async def test_a_changed_row_is_redrawn_on_screen_also_when_the_table_is_scrolled():
    """A row whose values change in place (a lane's spinner frame, one lane's status)
    repaints only its line: the terminal must show the new values wherever the row is."""
    from tests.tui_helpers import screen_text

    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(Table)
        table.sync(rows(50))
        table.focus()
        await pilot.press("end")
        await pilot.pause()
        top = int(table.scroll_y)
        shown = [top + 1 + i for i in (0, 3)]            # on screen: the first and fourth rows
        changed = rows(50)
        for n in [*shown, 2]:                             # row 2 is scrolled out of view
            changed[n - 1] = fmt.row(str(n), (n, f"NAME {n}", "t"), render)
        table.sync(changed)
        await pilot.pause()
        text = screen_text(app)
        for n in shown:
            assert f"NAME {n}" in text and f"name {n} " not in text
        assert text.splitlines()[0].split() == ["ID", "Name", "Tag"]
        await pilot.press("home")
        await pilot.pause()
        assert "NAME 2" in screen_text(app)
