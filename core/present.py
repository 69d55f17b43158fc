"""How tasks, lanes, events and outcomes read as plain text: one wording for the CLI, the
agent's tool results and the TUI (which adds only colour on top, in tui/format.py).

Pure functions of their data, a clock and a time zone, so tests and snapshots are stable.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from core.plain import record
from core.tasks import STATUS_MARK, open_blockers

EVENT_NAME_WIDTH = 22  # the longest core event names (worktree.remove.failed)
FAILURE_EVENTS = ("parse_error", "ui.error", "agent.error")


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def ago(ts: float | None, now: float, suffix: str = "", missing: str = "") -> str:
    """``3d``, ``5m``, ``12s`` (plus ``suffix``, e.g. " ago"); ``missing`` when no time."""
    if not ts:
        return missing
    secs = max(0, int(now - float(ts)))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}{suffix}"
    return f"{secs}s{suffix}"


def clock_time(ts: Any, tz: _dt.tzinfo | None) -> str:
    try:
        return _dt.datetime.fromtimestamp(float(ts), tz).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "--:--:--"


def is_failure(name: str, has_error: bool = False) -> bool:
    return name.endswith(".failed") or name in FAILURE_EVENTS or has_error


# -- tasks ------------------------------------------------------------------------------

def task_line(task: dict[str, Any], by_id: dict[int, dict[str, Any]] | None = None,
              blockers: list[int] | None = None) -> str:
    """``[>] #1: Backend auth  owner=ann  wt=auth  blocked by #3`` (open blockers only:
    ``blockers``, or those of the tasks in ``by_id``)."""
    parts = [f"{STATUS_MARK.get(task.get('status'), '[?]')} #{task['id']}: {task.get('subject', '')}"]
    if task.get("owner"):
        parts.append(f"owner={task['owner']}")
    if task.get("worktree"):
        parts.append(f"wt={task['worktree']}")
    if blockers is None:
        blockers = open_blockers(task, by_id or {})
    if blockers:
        parts.append("blocked by " + ", ".join(f"#{b}" for b in blockers))
    return "  ".join(parts)


# -- lanes ------------------------------------------------------------------------------

def ahead_behind(ahead: int, behind: int) -> str:
    return f"↑{ahead} ↓{behind}"


def lane_line(lane: dict[str, Any], status: Any = None, forecast: Any = None,
              agent: dict[str, Any] | None = None) -> str:
    """``[active]  auth  #1  wt/auth  dirty=1  ↑2 ↓0  abc123 fix``; live columns only
    when ``status`` (a core LaneStatus) is given and the directory exists, and the merge
    forecast (a core Forecast) when it says something."""
    task = f"#{lane['task_id']}" if lane.get("task_id") is not None else "-"
    state = "missing" if status is not None and status.missing else lane.get("status", "?")
    cols = [f"[{state}]", lane["name"], task, lane.get("branch", "-")]
    if status is not None and not status.missing and state != "removed":
        cols += [f"dirty={status.dirty}", ahead_behind(status.ahead, status.behind),
                 status.last_commit or "-"]
    if forecast is not None and (forecast.conflicts or forecast.integrated):
        cols.append(f"integrated ({forecast.reason})" if forecast.integrated
                    else f"conflicts={len(forecast.conflicts)}")
    if agent:
        cols.append(f"agent={agent.get('state')} ({agent_tokens(agent)})")
    return "  ".join(cols)


def agent_tokens(agent: dict[str, Any]) -> str:
    t = agent.get("tokens") or {}
    return f"tokens in {t.get('input', 0)}, out {t.get('output', 0)}"


# -- events -----------------------------------------------------------------------------

def event_line(event: dict[str, Any], tz: _dt.tzinfo | None = None) -> str:
    """One line an event: time, kind (padded, so the TUI can colour it by column), then
    who and what."""
    name = str(event.get("event", "?"))
    if name == "parse_error":
        return f"{'--:--:--'} {name:<{EVENT_NAME_WIDTH}} unparsable line: {str(event.get('raw', ''))[:200]}"
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


# -- outcomes ---------------------------------------------------------------------------

@record(frozen=True)
class Removal:
    """What removing a lane did: whether its task was completed, and where uncommitted
    work went (``archive_ref``: a ref it can be restored from; the branch always stays)."""
    name: str
    branch: str = ""
    task_id: int | None = None
    completed: bool = False
    archive_ref: str = ""

    @classmethod
    def of(cls, entry: dict[str, Any], completed: bool = False) -> "Removal":
        """From the index entry ``remove`` returned and whether it was asked to complete."""
        task_id = entry.get("task_id")
        return cls(entry.get("name", ""), entry.get("branch", ""), task_id,
                   completed and task_id is not None, entry.get("archive_ref") or "")


# How each audience brings archived work back.
RESTORE_CLI = "`worklanes wt restore {name}`"
RESTORE_TOOL = "worktree_restore"


def removal_note(outcome: Removal, restore: str = RESTORE_CLI) -> str:
    """``Removed lane x and completed task #1; uncommitted work saved under REF (...)``."""
    note = f"Removed lane {outcome.name}"
    if outcome.completed:
        note += f" and completed task #{outcome.task_id}"
    if outcome.archive_ref:
        note += (f"; uncommitted work saved under {outcome.archive_ref} "
                 f"({restore.format(name=outcome.name)} brings it back)")
    return note


_MERGED_HOW = {"merge": "merge commit", "squash": "squashed into", "rebase": "rebased, now at"}


def merge_note(result: Any) -> str:
    """What a merge (a core MergeResult) did, in one line: ``merged lane x into main
    (2 commit(s)): merge commit 1a2b3c4d5e``."""
    name = result.lane.get("name", "")
    if result.already:
        return f"lane {name} was already integrated into {result.base}; marked merged"
    return (f"merged lane {name} into {result.base} ({result.commits} commit(s)): "
            f"{_MERGED_HOW[result.strategy]} {result.new[:10]}")
