"""The task board and the lane list: tables whose rows are keyed by id and updated in
place, so a refresh never moves the cursor or the scroll position.

They are Line API widgets rather than DataTables: a row is a tuple of plain values,
turned into a Strip only when it scrolls into view (and cached until it changes). A
board of 1,000 tasks costs a dict update, not 6,000 cell widgets' worth of measuring,
so the first paint does not wait for it and a live refresh redraws only what changed.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.plain import record

from tui import format as fmt
from tui import keys
from tui.widgets.scrolling import set_virtual_size

GAP = 1  # blank cells between columns (and before the first one)


@record(frozen=True)
class Column:
    label: str
    key: str
    # A flexible column gives way (cut with …) when the pane is too narrow for every
    # column, down to this width; past that the table scrolls sideways.
    flex_min: int = 0

    def narrowest(self, natural: int) -> int:
        return min(natural, self.flex_min) if self.flex_min else natural


class KeyedTable(ScrollView, can_focus=True):
    """Rows are described by a tuple of plain values; a row whose tuple is unchanged is
    not re-rendered. The header stays on the first line while the rows scroll."""

    COLUMNS: tuple[Column, ...] = ()

    COMPONENT_CLASSES = {"keyed-table--header", "keyed-table--cursor"}

    DEFAULT_CSS = """
    KeyedTable {
        background: $surface;
        & > .keyed-table--header { text-style: bold; color: $text-muted; }
        & > .keyed-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .keyed-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(0)", "First row", show=False, id="table.first"),
        Binding("end", "edge(1)", "Last row", show=False, id="table.last"),
    ]

    class RowHighlighted(Message):
        """The cursor moved onto another row (or the row under it changed key)."""

        def __init__(self, table: "KeyedTable", key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "KeyedTable":
            return self.table

    # Turns a row's values into its cells when it is drawn. Set, the table keeps only the
    # values of each row (a board of 50,000 keeps no formatted copy of them); unset, it
    # keeps the cells each row came with.
    RENDER: Any = None
    STRIP_CACHE = 400   # rows drawn kept as strips, about ten screens

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple] = {}
        self._pieces: dict[str, list[fmt.Cell]] = {}
        self._widths: dict[str, tuple[int, ...]] = {}
        # How many rows have each tuple of widths: the few distinct tuples give the
        # natural column widths without a pass over every row, and each row shares one.
        self._width_rows: dict[tuple[int, ...], list] = {}   # widths -> [that tuple, rows]
        self._natural: tuple[int, ...] = tuple(cell_len(c.label) for c in self.COLUMNS)
        self._layout: tuple[int, ...] = self._natural   # widths in use, for the current size
        self._layout_for: tuple = ()
        self._strips: dict[str, Strip] = {}
        self._strip_style: Style | None = None
        self._cursor = 0
        self._highlighted: str | None = None
        self._styles: tuple[Style, Style, Style] | None = None

    # -- what callers use ------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_key(self) -> str | None:
        return self._order[self._cursor] if self._order else None

    def select_key(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def cells_of(self, key: str) -> tuple | None:
        return self._cells.get(key)

    def _add_widths(self, row_widths: tuple[int, ...]) -> tuple[int, ...]:
        entry = self._width_rows.get(row_widths)
        if entry is None:
            entry = self._width_rows[row_widths] = [row_widths, 0]
        entry[1] += 1
        return entry[0]   # one tuple object for all the rows of equal widths

    def _drop_widths(self, row_widths: tuple[int, ...] | None) -> None:
        entry = self._width_rows.get(row_widths) if row_widths is not None else None
        if entry is not None:
            entry[1] -= 1
            if not entry[1]:
                del self._width_rows[row_widths]

    def sync(self, rows: Iterable[fmt.Row]) -> None:
        """Show exactly these rows (made by ``fmt.row``, off the UI thread when there are
        many), in this order. The cursor stays on its row (by key)."""
        selected = self.selected_key
        old_order = self._order
        cells, pieces, widths = self._cells, self._pieces, self._widths
        shared = self._width_rows
        keep_pieces = self.RENDER is None
        order: list[str] = []
        redrawn: list[str] = []    # rows whose values changed
        moved = False              # rows added, removed or reordered
        for key, values, row_cells, row_widths in rows:
            order.append(key)
            if cells.get(key) != values:
                cells[key] = values
                if keep_pieces:
                    pieces[key] = row_cells
                self._drop_widths(widths.get(key))
                widths[key] = self._add_widths(row_widths)
                self._strips.pop(key, None)
                redrawn.append(key)
        if len(order) != len(cells):
            wanted = set(order)
            for key in [k for k in cells if k not in wanted]:
                self._drop_widths(widths.get(key))
                for store in (cells, pieces, widths, self._strips):
                    store.pop(key, None)
            moved = True
        if order != self._order:
            self._order = order
            self._index = {k: i for i, k in enumerate(order)}
            moved = True
        if not (moved or redrawn):
            return
        natural = [cell_len(c.label) for c in self.COLUMNS]
        for row_widths in shared:
            for i, w in enumerate(row_widths):
                if w > natural[i]:
                    natural[i] = w
        if tuple(natural) != self._natural:
            self._natural = tuple(natural)
            self._layout_for = ()
            moved = True
        elif not moved:
            # Only some rows' values changed (an agent's spinner frame, one lane's status):
            # repaint those lines, not the whole table.
            top = int(self.scroll_y)
            for key in redrawn:
                row = self._index[key]
                if row >= top:
                    self.refresh_line(row + 1)   # line 0 is the header
            return
        # The narrowest the table can be drawn (flexible columns at their minimum): wider
        # panes need no horizontal scrolling, so this does not depend on the pane's size
        # and a first layout is never followed by a second one.
        set_virtual_size(self, Size(sum(c.narrowest(w) for w, c in zip(natural, self.COLUMNS))
                                    + GAP * len(natural), len(order) + 1))
        if selected is not None:
            # The selected row, or if it went away its nearest neighbour that is left
            # (the one below first, as when a line is deleted in an editor).
            before = old_order[self._cursor::-1] if self._cursor < len(old_order) else []
            for key in [selected, *old_order[self._cursor + 1:], *before]:
                if key in self._index:
                    self._cursor = self._index[key]
                    break
        self._cursor = max(0, min(self._cursor, len(order) - 1))
        self.refresh()
        self._cursor_moved(scroll=False)

    def move_cursor(self, index: int, scroll: bool = True) -> None:
        if not self._order:
            return
        index = max(0, min(index, len(self._order) - 1))
        if index != self._cursor:
            self._cursor = index
            self.refresh()
        self._cursor_moved(scroll)

    # -- keys and mouse ----------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self.move_cursor(self._cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self._cursor + direction * max(1, self._visible_rows() - 1))

    def action_edge(self, end: int) -> None:
        self.move_cursor(len(self._order) - 1 if end else 0)

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_y) + offset.y - 1
        if row < len(self._order):
            self.move_cursor(row)

    def on_resize(self, event: Resize) -> None:
        self._scroll_to_cursor()

    # -- drawing -------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def _visible_rows(self) -> int:
        return max(0, self.scrollable_content_region.height - 1)

    def _cursor_moved(self, scroll: bool) -> None:
        if scroll:
            self._scroll_to_cursor()
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, key))

    def _scroll_to_cursor(self) -> None:
        visible = self._visible_rows()
        if not visible or not self._order:
            return
        top = int(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False)

    def _column_widths(self, width: int) -> tuple[int, ...]:
        """Natural widths, except that flexible columns give up what the others need to
        fit in ``width`` (down to their ``flex_min``)."""
        if (width, self._natural) != self._layout_for:
            layout = list(self._natural)
            need = sum(layout) + GAP * len(layout)
            for i, col in enumerate(self.COLUMNS):
                if col.flex_min and need > width:
                    give = min(need - width, layout[i] - col.narrowest(layout[i]))
                    layout[i] -= give
                    need -= give
            if tuple(layout) != self._layout:
                self._layout = tuple(layout)
                self._strips.clear()
            self._layout_for = (width, self._natural)
        return self._layout

    def _line_styles(self) -> tuple[Style, Style, Style]:
        if self._styles is None:
            base = self.rich_style
            self._styles = (base, base + self._partial_style("keyed-table--header"),
                            self._partial_style("keyed-table--cursor"))
        return self._styles

    def _partial_style(self, name: str) -> Style:
        # Only what the component sets: the cells keep their own colours under a
        # cursor that just changes the background.
        styles = self.get_component_styles(name)
        background = self.background_colors[1] + styles.background
        style = Style(bgcolor=background.rich_color if styles.has_rule("background") else None,
                      color=styles.color.rich_color if styles.has_rule("color") else None)
        return style + styles.text_style if styles.has_rule("text_style") else style

    def _row_strip(self, row: list[fmt.Cell], base: Style) -> Strip:
        get_style = self.app.console.get_style
        segments: list[Segment] = []
        for pieces, width in zip(row, self._layout):
            segments.append(Segment(" " * GAP))
            line = Strip([Segment(text, get_style(style) if style else None)
                          for text, style in pieces])
            if line.cell_length > width:
                line = line.crop(0, width - 1) + Strip([Segment("…")])
            segments.extend(line.extend_cell_length(width))
        return Strip(segments).apply_style(base)

    def render_line(self, y: int) -> Strip:
        base, header, cursor = self._line_styles()
        if base != self._strip_style:
            self._strips.clear()
            self._strip_style = base
        width = self.scrollable_content_region.width
        self._column_widths(width)
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            strip = self._row_strip([fmt.cell(c.label) for c in self.COLUMNS], header)
            return strip.crop_extend(scroll_x, scroll_x + width, header)
        row = scroll_y + y - 1
        if row >= len(self._order):
            return Strip.blank(width, base)
        key = self._order[row]
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) >= self.STRIP_CACHE:
                self._strips.clear()
            pieces = self._pieces[key] if self.RENDER is None else self.RENDER(self._cells[key])
            strip = self._strips[key] = self._row_strip(pieces, base)
        strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        if row == self._cursor:
            strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
        return strip


class TaskTable(KeyedTable):
    BINDINGS = keys.bindings("tasks")
    RENDER = staticmethod(fmt.render_board_row)
    # Ready/blocked right after the subject, which gives way first on a narrow pane: it
    # says what can be worked on next, the most useful thing on the board.
    COLUMNS = (Column("ID", "id"), Column("", "mark"), Column("Subject", "subject", flex_min=12),
               Column("Blocked by", "blocked"), Column("Owner", "owner"), Column("Lane", "lane"))

    @property
    def selected_task_id(self) -> int | None:
        key = self.selected_key
        if key is None or self._cells.get(key, (None, "corrupt"))[1] == "corrupt":
            return None
        return int(key)

    def lane_of_selected(self) -> str:
        key = self.selected_key
        return self._cells[key][4] if key in self._cells else ""


class LaneTable(KeyedTable):
    BINDINGS = keys.bindings("lanes")
    # The branch comes last: it is nearly always wt/<lane>, the rest is news.
    COLUMNS = (Column("Lane", "name"), Column("Task", "task"), Column("Status", "status"),
               Column("Agent", "agent"), Column("Dirty", "dirty"), Column("↑↓", "ab"),
               Column("Last commit", "last", flex_min=12), Column("Branch", "branch"))

    def show(self, lanes: list[dict[str, Any]], statuses: dict[str, Any], now: float,
             forecasts: dict[str, Any] | None = None, agents: dict[str, Any] | None = None,
             frame: int = 0) -> None:
        # A few dozen rows at most: made here, on the UI thread, with the latest status.
        forecasts, agents = forecasts or {}, agents or {}
        self.sync(fmt.row(lane["name"], fmt.lane_cells(lane, statuses.get(lane["name"]), now,
                                                       forecasts.get(lane["name"]))
                          + (fmt.agent_values(agents.get(lane["name"]), frame),),
                          fmt.render_lane_with_agent) for lane in lanes)
