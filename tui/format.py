"""How tasks, lanes and events look on screen: table cells and colours on top of the
plain wording of core/present.py (shared with the CLI and the agent's tools)."""

from __future__ import annotations

from typing import Any, Callable

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text

from core.present import (EVENT_NAME_WIDTH, ago, ahead_behind, clip, clock_time,  # noqa: F401
                          event_line, is_failure)
from core.tasks import STATUS_MARK, BoardTask, still_blocking

SUBJECT_WIDTH = 60      # longer subjects are cut, so one task cannot widen the board


# -- table cells -------------------------------------------------------------------------
# A cell is a few (text, Rich style) pieces: cheaper to make than Text objects for every
# row of a big board, and its width is the cell length of its text.
Cell = tuple[tuple[str, str], ...]


def cell(text: str, style: str = "") -> Cell:
    return ((text, style),) if text else ()


def cell_text(c: Cell) -> str:
    return "".join(text for text, _ in c)


def cell_width(c: Cell) -> int:
    # cell_len looks every character up in Unicode tables; most cells are plain ASCII,
    # and every row of a 1,000-task board is measured on the way to the first paint.
    n = 0
    for text, _ in c:
        n += len(text) if text.isascii() and text.isprintable() else cell_len(text)
    return n


# A table row ready to store: key, the plain values it was made from (compared to skip
# unchanged rows), its cells (None for a table that renders them when drawn, see
# KeyedTable.RENDER), and their widths. Made by the thread that read the data.
Row = tuple[str, tuple, "list[Cell] | None", tuple[int, ...]]


def row(key: str, values: tuple, render: Callable[[tuple], list[Cell]]) -> Row:
    cells = render(values)
    return key, values, cells, tuple([cell_width(c) for c in cells])


def board_rows(tasks: dict[int, Any], errors: dict[int, Any],
               also: dict[int, Any] | None = None) -> tuple[list[Row], int]:
    """The task board's rows in id order (corrupt files among them), and how many
    tasks are ready. ``tasks`` (BoardTask by id, in id order) are the rows; ``also``
    are tasks read only for the marks (the blockers of a board's first rows). The
    cells are made when a row is drawn: only widths are measured here."""
    status_of = {tid: t.status for tid, t in tasks.items()}
    if also:
        status_of.update((tid, t.status) for tid, t in also.items() if tid not in status_of)
    rows: list[Row] = []
    ready = 0
    for tid, task in tasks.items():
        values = board_values(task, status_of)
        ready += values[-1]
        rows.append((str(tid), values, None, text_widths(board_texts(values))))
    if errors:
        for tid, err in errors.items():
            values = corrupt_cells(tid, err.reason)
            rows.append((str(tid), values, None, text_widths(corrupt_texts(values))))
        rows.sort(key=lambda r: r[1][0])
    return rows, ready


def text_widths(texts: tuple[str, ...]) -> tuple[int, ...]:
    return tuple([len(t) if t.isascii() and t.isprintable() else cell_len(t) for t in texts])


# -- tasks ------------------------------------------------------------------------------

def board_values(task: Any, status_of: dict[int, str]) -> tuple:
    """The plain values a board row shows (of a core BoardTask); compared to decide
    which rows to redraw."""
    blockers = tuple(still_blocking(task.blocked_by, status_of))
    status = task.status
    return (task.id, status, clip(task.subject, SUBJECT_WIDTH), task.owner, task.worktree,
            blockers, status == "pending" and not blockers)


def task_cells(task: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> tuple:
    """``board_values`` of a task's dict, among the dicts of the board."""
    return board_values(BoardTask(task), {tid: t.get("status") for tid, t in by_id.items()})


def board_texts(cells: tuple) -> tuple[str, ...]:
    """The text of each cell of a board row (render_task adds the styles)."""
    tid, status, subject, owner, lane, blockers, ready = cells
    if ready:
        return (str(tid), "[ ]", subject, "ready", owner, lane)
    return (str(tid), STATUS_MARK.get(status, "[?]"), subject,
            " ".join(f"#{b}" for b in blockers), owner, lane)


def render_task(cells: tuple) -> list[Cell]:
    status, ready = cells[1], cells[-1]
    tid, mark, subject, blocked, owner, lane = board_texts(cells)
    if ready:
        mark_c, subj = cell(mark, "bold green"), cell(subject, "bold")
        blocked_c = cell(blocked, "green")
    else:
        mark_c = cell(mark, {"in_progress": "bold yellow", "completed": "dim"}.get(status, ""))
        subj = cell(subject, "dim" if status == "completed" else "")
        blocked_c = cell(blocked, "bold red")
    return [cell(tid, "dim"), mark_c, subj, blocked_c, cell(owner, "cyan"), cell(lane, "magenta")]


def render_board_row(cells: tuple) -> list[Cell]:
    return render_corrupt(cells) if cells[1] == "corrupt" else render_task(cells)


def corrupt_cells(tid: int, reason: str) -> tuple:
    return (tid, "corrupt", reason, "", "", (), False)


def corrupt_texts(cells: tuple) -> tuple[str, ...]:
    return (str(cells[0]), "!!", f"corrupt file: {cells[2]}", "", "", "")


def render_corrupt(cells: tuple) -> list[Cell]:
    tid, mark, reason, *_ = corrupt_texts(cells)
    return [cell(tid, "dim"), cell(mark, "bold red"), cell(reason, "red"), (), (), ()]


# -- lanes ------------------------------------------------------------------------------

def merge_mark(state: str, forecast: Any) -> str:
    """What the merge forecast adds to a lane's status: ``✗N`` when merging now would
    conflict in N files, ``✓merged`` when its base already holds its work."""
    if forecast is None or forecast.error or state in ("merged", "missing"):
        return ""
    if forecast.integrated:
        return "✓merged"
    return f"✗{len(forecast.conflicts)}" if forecast.conflicts else ""


def lane_cells(lane: dict[str, Any], status: Any, now: float, forecast: Any = None) -> tuple:
    task = lane.get("task_id")
    state = lane.get("status", "active")
    if status is not None and status.missing:
        state = "missing"
    mark = merge_mark(state, forecast)
    if status is None:
        return (lane["name"], "" if task is None else f"#{task}", lane.get("branch", ""), state,
                None, None, None, "", "", mark)
    if status.missing:
        # No directory, so no counts to show: a 0 would claim a clean lane.
        return (lane["name"], "" if task is None else f"#{task}", lane.get("branch", ""), state,
                "-", "-", "-", "directory gone; r (reconcile) offers the fix", "", "")
    return (lane["name"], "" if task is None else f"#{task}", lane.get("branch", ""), state,
            status.dirty, status.ahead, status.behind, status.last_commit,
            ago(status.last_commit_ts, now) if status.last_commit else "", mark,
            ) + ((status.error,) if status.error else ())


_STATE_STYLE = {"active": "green", "kept": "cyan", "merged": "bold blue", "missing": "bold red"}


def render_lane(cells: tuple) -> list[Cell]:
    name, task, branch, state, dirty, ahead, behind, last, age, mark, *error = cells
    state_c = cell(state, _STATE_STYLE.get(state, ""))
    if mark:
        state_c += ((" ", ""), (mark, "bold red" if mark.startswith("✗") else "green"))
    if dirty is None:
        dirty_c, ab_c = cell("…", "dim"), cell("…", "dim")
    elif dirty == "-":
        dirty_c, ab_c = cell("-", "dim"), cell("-", "dim")
    else:
        dirty_c = cell(str(dirty), "bold yellow") if dirty else cell("·", "dim")
        ab_c = cell(ahead_behind(ahead, behind), "" if (ahead or behind) else "dim")
    if error:
        last_c = cell(error[0], "red")
    else:
        last_c = ((last, ""), (f" ({age})", "dim")) if age else cell(last)
    return [cell(name, "bold"), cell(task, "dim"), state_c, dirty_c, ab_c, last_c,
            cell(branch, "magenta")]


# -- events -----------------------------------------------------------------------------

_KIND_STYLE = (
    ("task.completed", "bold green"),
    ("task.", "cyan"),
    ("worktree.create", "blue"),
    ("worktree.remove", "magenta"),
    ("worktree.keep", "green"),
    ("worktree.run", "yellow"),
    ("worktree.", "bright_blue"),
    ("agent.", "bright_magenta"),
)


class EventHighlighter(Highlighter):
    def highlight(self, text: Text) -> None:
        plain = text.plain
        text.stylize("dim", 0, 8)
        start = 9
        name = plain[start:start + EVENT_NAME_WIDTH].rstrip()
        end = start + len(name)
        if is_failure(name, " !! " in plain):
            text.stylize("bold red", start, end)
            bang = plain.find(" !! ")
            text.stylize("red", bang if bang >= 0 else end, len(plain))
            return
        for prefix, style in _KIND_STYLE:
            if name.startswith(prefix):
                text.stylize(style, start, end)
                break


class DiffHighlighter(Highlighter):
    def highlight(self, text: Text) -> None:
        plain = text.plain
        if plain.startswith(("+++", "---", "diff --git", "index ")):
            text.stylize("bold", 0, len(plain))
        elif plain.startswith("+"):
            text.stylize("green", 0, len(plain))
        elif plain.startswith("-"):
            text.stylize("red", 0, len(plain))
        elif plain.startswith("@@"):
            text.stylize("cyan", 0, len(plain))
        elif plain.startswith("?? "):
            text.stylize("yellow", 0, len(plain))
        elif " | " in plain and plain.rstrip().endswith(("+", "-")):
            bar = plain.rfind(" ")
            for i in range(bar, len(plain)):
                text.stylize("green" if plain[i] == "+" else "red", i, i + 1)


# Fixes core words for the command line, said with the app's keys instead. Core errors can
# carry their own app wording (WorklanesError.for_ui); these are the ones that do not yet.
_CLI_HINTS = (("run `worklanes wt reconcile --fix`", "press r (reconcile) to fix it"),
              ("then `worklanes wt reconcile --fix`", "then press r (reconcile)"),
              ("or create the lane without --task", "or pick another task"))


def ui_message(exc: Any) -> str:
    """A core error's one line as the app says it: no command-line flags."""
    text = exc.for_ui() if hasattr(exc, "for_ui") else str(exc)
    for cli, app in _CLI_HINTS:
        text = text.replace(cli, app)
    return text


# -- lane agents ------------------------------------------------------------------------

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
AGENT_STYLE = {"running": "yellow", "waiting": "bold black on yellow", "done": "green",
               "failed": "bold red", "cancelled": "dim", "interrupted": "bold magenta",
               "idle": "dim"}


def agent_tokens(record: dict[str, Any] | None) -> int:
    tokens = (record or {}).get("tokens")
    if not isinstance(tokens, dict):
        return 0
    return sum(v for v in tokens.values() if isinstance(v, int) and not isinstance(v, bool))


def short_count(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def agent_values(record: dict[str, Any] | None, frame: int) -> tuple:
    """A lane's agent cell, as plain values: (state, tokens, spinner frame)."""
    if not record:
        return ("", 0, 0)
    state = str(record.get("state") or "idle")
    return (state, agent_tokens(record), frame if state == "running" else 0)


def agent_cell(values: tuple) -> Cell:
    state, tokens, frame = values
    if not state:
        return ()
    mark = {"running": SPINNER[frame % len(SPINNER)], "waiting": "?", "done": "✓",
            "failed": "✗", "cancelled": "⊘", "interrupted": "!"}.get(state, "·")
    label = f"{mark} {state}"
    pieces: list[tuple[str, str]] = [(label, AGENT_STYLE.get(state, ""))]
    if tokens:
        pieces.append((f" {short_count(tokens)}", "dim"))
    return tuple(pieces)


def render_lane_with_agent(values: tuple) -> list[Cell]:
    """A lane row with its agent column (after Status): ``values`` is lane_cells(...)
    with agent_values(...) added as its last item."""
    cells = render_lane(values[:-1])
    cells.insert(3, agent_cell(values[-1]))
    return cells
