"""The task board and the lane list: DataTables whose rows are keyed by id and updated
in place, so a refresh never moves the cursor or the scroll position."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from tui import format as fmt
from tui import keys


class KeyedTable(DataTable):
    """Rows are described by a tuple of plain values; only rows whose tuple changed are
    redrawn, and only the cells that differ."""

    COLUMNS: tuple[tuple[str, str], ...] = ()

    # On the first fill of a big table, rows past the first screenful are added right
    # after the first frame: the visible rows (and every count) are right at once, and
    # 1,000 rows do not delay the first paint.
    FIRST_FILL = 150

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._cells: dict[str, tuple] = {}
        self._deferred: list[tuple[str, tuple, Callable[[tuple], list]]] = []

    def on_mount(self) -> None:
        for label, key in self.COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # the cursor sits past the end for a moment after a removal
            return None

    def select_key(self, key: str) -> bool:
        if key not in self._cells and any(k == key for k, _, _ in self._deferred):
            self._add_deferred()
        if key not in self._cells:
            return False
        self.move_cursor(row=self.get_row_index(key), animate=False, scroll=True)
        return True

    def sync(self, rows: Iterable[tuple[str, tuple, Callable[[tuple], list]]]) -> None:
        rows = list(rows)
        self._add_deferred()
        if not self._cells and len(rows) > self.FIRST_FILL:
            self._deferred = rows[self.FIRST_FILL:]
            rows = rows[:self.FIRST_FILL]
            # After the frame, and after whatever else waits for that frame.
            self.call_after_refresh(self.call_later, self._add_deferred)
        self._sync(rows)

    def _add_deferred(self) -> None:
        rows, self._deferred = self._deferred, []
        for key, cells, render in rows:
            if key not in self._cells:
                self.add_row(*render(cells), key=key)
                self._cells[key] = cells

    def _sync(self, rows: list[tuple[str, tuple, Callable[[tuple], list]]]) -> None:
        columns = [key for _, key in self.COLUMNS]
        selected = self.selected_key
        wanted: dict[str, tuple] = {}
        added = False
        for key, cells, render in rows:
            wanted[key] = cells
            old = self._cells.get(key)
            if old is None:
                self.add_row(*render(cells), key=key)
                added = True
            elif old != cells:
                new_r, old_r = render(cells), render(old)
                for col, new_v, old_v in zip(columns, new_r, old_r):
                    if new_v != old_v:
                        self.update_cell(key, col, new_v, update_width=True)
            self._cells[key] = cells
        gone = [k for k in self._cells if k not in wanted]
        for key in gone:
            del self._cells[key]
            self.remove_row(key)
        if added and list(self._cells) != list(wanted):
            self._restore_order(list(wanted))
        elif gone and selected in self._cells:
            # Removing a row above the cursor would move it onto a neighbour.
            self.select_key(selected)
        # Column widths are recomputed on Idle, which update_cell alone never triggers.
        self.check_idle()

    def _update_dimensions(self, new_rows: Any) -> None:
        # Every cell here is a one-line Text, whose width is the cell length of its
        # plain text. DataTable's generic measure goes through a Rich console per cell:
        # on a 1,000-task board that alone was the biggest cost of the first paint.
        plain_rows = []
        for row_key in new_rows:
            data = self._data.get(row_key)
            if data is None or self.rows[row_key].label is not None:
                plain_rows.append(row_key)
                continue
            for column in self.ordered_columns:
                cell = data.get(column.key)
                if isinstance(cell, Text) and "\n" not in cell.plain:
                    column.content_width = max(column.content_width, cell_len(cell.plain))
                else:
                    plain_rows.append(row_key)
                    break
        super()._update_dimensions(plain_rows)

    def _update_column_widths(self, updated_cells: Any) -> None:
        # DataTable widens columns on Idle but keys its render caches on _update_count
        # only, so a frame painted between update_cell and Idle (likely under load)
        # would keep the old widths. Bump the count once the widths are known.
        super()._update_column_widths(updated_cells)
        self._update_count += 1
        self.refresh()

    def _restore_order(self, order: list[str]) -> None:
        """A row that appears between existing ones (a task file restored from a backup)
        is added at the bottom; move it where it belongs, keeping the selected row. The
        first column shows the row key, so it can rank the rows."""
        selected = self.selected_key
        rank = {k: i for i, k in enumerate(order)}
        self.sort(self.COLUMNS[0][1], key=lambda v: rank.get(getattr(v, "plain", str(v)), len(rank)))
        self._cells = {k: self._cells[k] for k in order}
        if selected:
            self.select_key(selected)


class TaskTable(KeyedTable):
    BINDINGS = keys.bindings("tasks")
    COLUMNS = (("ID", "id"), ("", "mark"), ("Subject", "subject"), ("Owner", "owner"),
               ("Lane", "lane"), ("Blocked by", "blocked"))

    def show(self, tasks: list[dict[str, Any]], errors: list[Any]) -> tuple[int, int]:
        """Draw the board; returns (tasks, ready)."""
        by_id = {t["id"]: t for t in tasks}
        rows: list[tuple[int, str, tuple, Callable]] = []
        ready = 0
        for task in tasks:
            cells = fmt.task_cells(task, by_id)
            ready += cells[-1]
            rows.append((task["id"], str(task["id"]), cells, fmt.render_task))
        from tui.state import task_id_of
        for err in errors:
            tid = task_id_of(err.path) or 0
            rows.append((tid, str(tid), fmt.corrupt_cells(tid, err.reason), fmt.render_corrupt))
        rows.sort(key=lambda r: r[0])
        self.sync((key, cells, render) for _, key, cells, render in rows)
        return len(tasks), ready

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
    COLUMNS = (("Lane", "name"), ("Task", "task"), ("Status", "status"), ("Dirty", "dirty"),
               ("↑↓", "ab"), ("Last commit", "last"), ("Branch", "branch"))

    def show(self, lanes: list[dict[str, Any]], statuses: dict[str, Any], now: float) -> None:
        self.sync((lane["name"], fmt.lane_cells(lane, statuses.get(lane["name"]), now),
                   fmt.render_lane) for lane in lanes)

    def cells_of(self, name: str) -> tuple | None:
        return self._cells.get(name)

