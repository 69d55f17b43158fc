"""How tasks, lanes and events look on screen. Pure functions of their data (and of a
clock and a time zone, so snapshots stay stable), shared by the panes and tests."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text

from core.tasks import STATUS_MARK, is_ready, open_blockers, task_file_id

EVENT_NAME_WIDTH = 22  # the longest core event names (worktree.remove.failed)
SUBJECT_WIDTH = 60      # longer subjects are cut, so one task cannot widen the board
FAILURE_EVENTS = ("parse_error", "ui.error", "agent.error")


def is_failure(name: str, has_error: bool = False) -> bool:
    return name.endswith(".failed") or name in FAILURE_EVENTS or has_error


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def ago(ts: float | None, now: float) -> str:
    if not ts:
        return ""
    secs = max(0, int(now - ts))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def clock_time(ts: Any, tz: _dt.tzinfo | None) -> str:
    try:
        return _dt.datetime.fromtimestamp(float(ts), tz).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "--:--:--"


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
# unchanged rows), its cells, and their widths. Made by the thread that read the data.
Row = tuple[str, tuple, list[Cell], tuple[int, ...]]


def row(key: str, values: tuple, render: Callable[[tuple], list[Cell]]) -> Row:
    cells = render(values)
    return key, values, cells, tuple([cell_width(c) for c in cells])


def board_rows(tasks: list[dict[str, Any]], errors: list[Any]) -> tuple[list[Row], int]:
    """The task board's rows in id order (corrupt files among them), and how many
    tasks are ready."""
    by_id = {t["id"]: t for t in tasks}
    keyed: list[tuple[int, Row]] = []
    ready = 0
    for task in tasks:
        values = task_cells(task, by_id)
        ready += values[-1]
        keyed.append((task["id"], row(str(task["id"]), values, render_task)))
    for err in errors:
        tid = task_file_id(err.path) or 0
        keyed.append((tid, row(str(tid), corrupt_cells(tid, err.reason), render_corrupt)))
    keyed.sort(key=lambda kr: kr[0])
    return [r for _, r in keyed], ready


# -- tasks ------------------------------------------------------------------------------

def task_cells(task: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> tuple:
    """The plain values a board row shows; compared to decide which cells to redraw."""
    status = task.get("status", "pending")
    ready = is_ready(task, by_id)
    blockers = open_blockers(task, by_id)
    return (task["id"], status, clip(str(task.get("subject", "")), SUBJECT_WIDTH),
            str(task.get("owner") or ""),
            str(task.get("worktree") or ""), tuple(blockers), ready)


def render_task(cells: tuple) -> list[Cell]:
    tid, status, subject, owner, lane, blockers, ready = cells
    mark = STATUS_MARK.get(status, "[?]")
    if ready:
        mark_c, subj = cell("[ ]", "bold green"), cell(subject, "bold")
        blocked = cell("ready", "green")
    else:
        mark_c = cell(mark, {"in_progress": "bold yellow", "completed": "dim"}.get(status, ""))
        subj = cell(subject, "dim" if status == "completed" else "")
        blocked = cell(" ".join(f"#{b}" for b in blockers), "bold red")
    return [cell(str(tid), "dim"), mark_c, subj, cell(owner, "cyan"), cell(lane, "magenta"),
            blocked]


def corrupt_cells(tid: int, reason: str) -> tuple:
    return (tid, "corrupt", reason, "", "", (), False)


def render_corrupt(cells: tuple) -> list[Cell]:
    tid, _, reason, *_ = cells
    return [cell(str(tid), "dim"), cell("!!", "bold red"), cell(f"corrupt file: {reason}", "red"),
            (), (), ()]


# -- lanes ------------------------------------------------------------------------------

def lane_cells(lane: dict[str, Any], status: Any, now: float) -> tuple:
    task = lane.get("task_id")
    state = lane.get("status", "active")
    if status is not None and status.missing:
        state = "missing"
    if status is None:
        return (lane["name"], "" if task is None else f"#{task}", lane.get("branch", ""), state,
                None, None, None, "", "")
    return (lane["name"], "" if task is None else f"#{task}", lane.get("branch", ""), state,
            status.dirty, status.ahead, status.behind, status.last_commit,
            ago(status.last_commit_ts, now) if status.last_commit else "",
            ) + ((status.error,) if status.error else ())


def render_lane(cells: tuple) -> list[Cell]:
    name, task, branch, state, dirty, ahead, behind, last, age, *error = cells
    state_c = cell(state, {"active": "green", "kept": "cyan", "missing": "bold red"}.get(state, ""))
    if dirty is None:
        dirty_c, ab_c = cell("…", "dim"), cell("…", "dim")
    else:
        dirty_c = cell(str(dirty), "bold yellow") if dirty else cell("·", "dim")
        ab_c = cell(f"↑{ahead} ↓{behind}", "" if (ahead or behind) else "dim")
    if error:
        last_c = cell(error[0], "red")
    else:
        last_c = ((last, ""), (f" ({age})", "dim")) if age else cell(last)
    return [cell(name, "bold"), cell(task, "dim"), state_c, dirty_c, ab_c, last_c,
            cell(branch, "magenta")]


# -- events -----------------------------------------------------------------------------

def event_line(event: dict[str, Any], tz: _dt.tzinfo | None) -> str:
    """One line a event: time, kind, then who and what. ``EventHighlighter`` colours it
    from the text alone, so the tail can store plain strings (cheap, bounded)."""
    name = str(event.get("event", "?"))
    if name == "parse_error":
        return f"{'--:--:--'} {name:<{EVENT_NAME_WIDTH}} unparsable line: {event.get('raw', '')[:200]}"
    task = event.get("task") or {}
    wt = event.get("worktree") or {}
    parts = []
    if isinstance(task, dict) and task.get("id") is not None:
        parts.append(f"#{task['id']}")
        if task.get("subject"):
            parts.append(str(task["subject"]))
        if task.get("status") and name != "task.created":
            parts.append(f"[{task['status']}]")
    if isinstance(wt, dict) and wt.get("name"):
        parts.append(f"lane {wt['name']}")
    if event.get("command"):
        parts.append(f"$ {event['command']}")
        if event.get("exit_code") is not None:
            parts.append(f"-> exit {event['exit_code']}")
    if event.get("changes") and isinstance(event["changes"], dict):
        parts.append(", ".join(f"{k}={v}" for k, v in event["changes"].items()
                               if k not in ("status",) or name != "task.completed"))
    if event.get("finding"):
        parts.append(f"{event['finding']}: {event.get('action', '')}")
    if event.get("what"):
        parts.append(str(event["what"]))
    if event.get("error"):
        parts.append(f"!! {event['error']}")
    line = f"{clock_time(event.get('ts'), tz)} {name:<{EVENT_NAME_WIDTH}} {' '.join(parts)}"
    return " ".join(line.split("\n"))


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
