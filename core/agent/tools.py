"""The agent's tools: the seed's 16 (same names, same input schemas, a few optional
properties added) plus the ones the core makes natural (dependencies, diff, reconcile,
restore). Every tool calls the same core the CLI uses, so locks and events are shared.

Safety lives here, not in a word list:
- file tools resolve the path (following symlinks) and refuse anything outside their
  root; the root is the repository, or a lane when the call names one (``worktree``) or
  the agent is bound to one; ``.git`` and the state folders are never written;
- side-effecting tools say so (``needs_approval``), and the loop asks the host first;
- commands run through ``core.proc.run_command``: own process group, hard timeout that
  kills the whole group, head+tail capped output.
A short blocklist of catastrophic commands stays as an extra floor under the approval.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core import git
from core.errors import WorklanesError
from core.paths import STATE_DIRS
from core.proc import DEFAULT_CAP, run_command
from core.tasks import STATUS_MARK, STATUSES, open_blockers
from core.workspace import Workspace

OUTPUT_CAP = DEFAULT_CAP          # characters of tool output the model gets
READ_BYTES_MAX = 8 * 1024 * 1024  # read_file never loads more than this
BASH_TIMEOUT = 120.0              # the seed's timeout for bash

_FLOOR = [
    (re.compile(r"\brm\s+(-\S+\s+)*(/|~|\$HOME)/?\*?(\s|;|&|\||$)"), "deletes / or the home folder"),
    (re.compile(r"(^|[;&|\s])sudo\s"), "runs commands as root"),
    (re.compile(r"\b(shutdown|reboot|halt|poweroff|mkfs(\.\w+)?)\b"), "stops or wipes the machine"),
    (re.compile(r":\(\)\s*\{\s*:\s*\|\s*:"), "is a fork bomb"),
    (re.compile(r"\bdd\b.*\bof=/dev/"), "writes to a device"),
]


def blocked_reason(command: str) -> str | None:
    """The extra floor: a reason if ``command`` is one that no approval should let run."""
    for pattern, why in _FLOOR:
        if pattern.search(command):
            return f"blocked: this command {why}; worklanes never runs it"
    return None


def cap_text(text: str, cap: int = OUTPUT_CAP) -> str:
    """Head + tail of ``text`` with a note the reader cannot miss when it was cut."""
    if len(text) <= cap:
        return text
    half = cap // 2
    omitted = len(text) - 2 * half
    return (f"{text[:half]}\n...\n{text[-half:]}\n"
            f"[output truncated: {omitted} characters omitted from the middle]")


class ToolError(WorklanesError):
    """A tool call that cannot run as asked (bad argument, path outside its root...)."""


@dataclass
class ToolResult:
    output: str
    is_error: bool = False
    cancelled: bool = False   # a command killed because the turn was cancelled


@dataclass
class Tool:
    name: str
    description: str
    properties: dict[str, Any]
    required: tuple[str, ...]
    handler: Callable[["Toolbox", dict[str, Any], threading.Event | None], ToolResult | str]
    # "never", "always", or a function of (toolbox, input) for tools that only sometimes act
    approval: str | Callable[["Toolbox", dict[str, Any]], bool] = "never"
    summary: Callable[[dict[str, Any]], str] | None = None

    def definition(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        return {"name": self.name, "description": self.description, "input_schema": schema}


def _s(desc: str = "") -> dict[str, Any]:
    return {"type": "string", **({"description": desc} if desc else {})}


def _i(desc: str = "") -> dict[str, Any]:
    return {"type": "integer", **({"description": desc} if desc else {})}


def _b(desc: str = "") -> dict[str, Any]:
    return {"type": "boolean", **({"description": desc} if desc else {})}


_WT_ARG = _s("Optional lane (worktree) name: the path is then relative to that lane's "
             "directory, and the call cannot leave it.")


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


class Toolbox:
    """The tools bound to one workspace (and optionally one lane)."""

    def __init__(self, workspace: Workspace, lane: str | None = None,
                 command_timeout: float | None = None):
        self.ws = workspace
        self.lane = lane
        self.command_timeout = command_timeout
        self.root = Path(workspace.root).resolve()
        self.tools: dict[str, Tool] = {t.name: t for t in _TOOLS}

    # -- what the model and the host see ------------------------------------------------
    def definitions(self) -> list[dict[str, Any]]:
        return [t.definition() for t in self.tools.values()]

    def needs_approval(self, name: str, tool_input: dict[str, Any]) -> bool:
        tool = self.tools.get(name)
        if tool is None or tool.approval == "never":
            return False
        if tool.approval == "always":
            return True
        try:
            return bool(tool.approval(self, tool_input))
        except Exception:
            return True

    def summary(self, name: str, tool_input: dict[str, Any]) -> str:
        tool = self.tools.get(name)
        try:
            text = tool.summary(tool_input) if tool and tool.summary else _default_summary(tool_input)
        except Exception:
            text = _default_summary(tool_input)
        line = " ".join(f"{name}: {text}".split())
        return line if len(line) <= 200 else line[:197] + "..."

    def lane_of(self, name: str, tool_input: dict[str, Any]) -> str | None:
        if name.startswith("worktree_") and isinstance(tool_input.get("name"), str):
            return tool_input["name"]
        if isinstance(tool_input.get("worktree"), str) and name in _FILE_TOOLS:
            return tool_input["worktree"]
        if name in _FILE_TOOLS or name == "bash":
            return self.lane
        return None

    # -- running ------------------------------------------------------------------------
    def run(self, name: str, tool_input: dict[str, Any],
            cancel: threading.Event | None = None) -> ToolResult:
        """Run one call. Never raises: every failure is an error result for the model."""
        tool = self.tools.get(name)
        if tool is None:
            return ToolResult(f"Error: unknown tool {name!r}; available: {', '.join(self.tools)}", True)
        if not isinstance(tool_input, dict):
            return ToolResult(f"Error: {name} expects a JSON object as input", True)
        missing = [r for r in tool.required if tool_input.get(r) is None]
        if missing:
            return ToolResult(f"Error: {name} needs {', '.join(missing)}", True)
        try:
            out = tool.handler(self, tool_input, cancel)
        except WorklanesError as exc:
            return ToolResult(f"Error: {exc}", True)
        except Exception as exc:  # a tool must never take the loop down
            return ToolResult(f"Error: {type(exc).__name__}: {' '.join(str(exc).split())}", True)
        if isinstance(out, str):   # command results come capped (head + tail) already
            out = ToolResult(cap_text(out or "(no output)"))
        return out

    # -- path safety ----------------------------------------------------------------------
    def lane_path(self, name: str) -> Path:
        lane = self.ws.lanes.get(name)
        if lane.get("status") == "removed":
            raise ToolError(f"lane {name!r} was removed; worktree_restore brings it back")
        path = Path(lane["path"])
        if not path.is_dir():
            raise ToolError(f"lane {name!r} directory {path} is missing; worktree_reconcile can fix the index")
        return path.resolve()

    def file_root(self, worktree: str | None) -> tuple[Path, str]:
        """The folder a file tool may touch, and a label for messages."""
        if worktree:
            if self.lane and worktree != self.lane:
                raise ToolError(f"this agent works in lane {self.lane!r}; it cannot touch files "
                                f"of lane {worktree!r}")
            return self.lane_path(worktree), f"lane {worktree!r}"
        if self.lane:
            return self.lane_path(self.lane), f"lane {self.lane!r}"
        return self.root, "repository"

    def resolve(self, path: Any, worktree: str | None, write: bool) -> Path:
        if not isinstance(path, str) or not path.strip():
            raise ToolError("path must be a non-empty string")
        root, label = self.file_root(worktree)
        full = (root / path).resolve()   # follows symlinks; an absolute path replaces root
        if not full.is_relative_to(root):
            raise ToolError(f"path {path!r} is outside the {label} ({root}); file tools only "
                            "work inside it")
        rel = full.relative_to(root).parts
        if write:
            if ".git" in rel:
                raise ToolError(f"path {path!r} is inside .git; file tools never write there")
            if root == self.root and rel and rel[0] in STATE_DIRS:
                raise ToolError(
                    f"path {path!r} is in worklanes' state folder {rel[0]}/; use the task_* and "
                    "worktree_* tools, and the worktree argument to edit files in a lane")
        return full

    def command_cwd(self) -> Path:
        return self.lane_path(self.lane) if self.lane else self.root


# -- handlers -------------------------------------------------------------------------------

_FILE_TOOLS = ("read_file", "write_file", "edit_file")


def _command_result(result) -> ToolResult:
    return ToolResult(result.text(), is_error=result.exit_code != 0, cancelled=result.cancelled)


def _bash(tb: Toolbox, a: dict[str, Any], cancel) -> ToolResult:
    command = str(a["command"])
    reason = blocked_reason(command)
    if reason:
        return ToolResult(f"Error: {reason}", True)
    result = run_command(command, tb.command_cwd(), timeout=tb.command_timeout or BASH_TIMEOUT,
                         cap=OUTPUT_CAP, cancel=cancel)
    return _command_result(result)


def _read_file(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    path = tb.resolve(a["path"], a.get("worktree"), write=False)
    if path.is_dir():
        raise ToolError(f"{a['path']!r} is a directory; use bash (ls) to list it")
    with open(path, "rb") as fh:
        raw = fh.read(READ_BYTES_MAX + 1)
    note = ""
    if len(raw) > READ_BYTES_MAX:
        raw, note = raw[:READ_BYTES_MAX], f"\n[file larger than {READ_BYTES_MAX} bytes; only its start was read]"
    lines = raw.decode("utf-8", "replace").splitlines()
    offset = a.get("offset")
    if offset:
        lines = lines[max(int(offset) - 1, 0):]
    limit = a.get("limit")
    if limit and 0 < int(limit) < len(lines):
        lines = lines[:int(limit)] + [f"... ({len(lines) - int(limit)} more)"]
    return "\n".join(lines) + note


def _write_file(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    path = tb.resolve(a["path"], a.get("worktree"), write=True)
    if path.is_dir():
        raise ToolError(f"{a['path']!r} is a directory")
    content = str(a["content"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return f"Wrote {len(content.encode('utf-8'))} bytes to {a['path']}"


def _edit_file(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    path = tb.resolve(a["path"], a.get("worktree"), write=True)
    old, new = str(a["old_text"]), str(a["new_text"])
    if not old:
        raise ToolError("old_text is empty; give the exact text to replace")
    text = path.read_text(encoding="utf-8")
    count = text.count(old)
    if not count:
        raise ToolError(f"text not found in {a['path']}; read the file and copy the exact text")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    more = f" (it occurs {count} times; the first was replaced)" if count > 1 else ""
    return f"Edited {a['path']}{more}"


def _task_list(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    listing = tb.ws.tasks.list(status=a.get("status"), ready=bool(a.get("ready")))
    by_id = {t["id"]: t for t in tb.ws.tasks.list().tasks}
    lines = []
    for t in listing.tasks:
        mark = STATUS_MARK.get(t.get("status"), "[?]")
        owner = f" owner={t['owner']}" if t.get("owner") else ""
        wt = f" wt={t['worktree']}" if t.get("worktree") else ""
        blockers = open_blockers(t, by_id)
        blocked = f" blockedBy={blockers}" if blockers else ""
        lines.append(f"{mark} #{t['id']}: {t['subject']}{owner}{wt}{blocked}")
    lines += [f"(unreadable: {e})" for e in listing.errors]
    return "\n".join(lines) or "No tasks."


def _task_create(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    return _dump(tb.ws.tasks.create(str(a["subject"]), str(a.get("description") or ""),
                                    blocked_by=a.get("blocked_by") or ()))


def _task_update(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    return _dump(tb.ws.tasks.update(a["task_id"], status=a.get("status"), owner=a.get("owner"),
                                    subject=a.get("subject"), description=a.get("description")))


def _lane_created(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    res = tb.ws.lanes.create(str(a["name"]), a.get("task_id"), a.get("base_ref") or "HEAD")
    out = _dump(res.lane)
    if res.copied:
        out += f"\ncopied into the lane: {', '.join(res.copied)}"
    if res.setup is not None:
        out += f"\nsetup `{res.setup.command}`: {res.setup.summary()}\n{res.setup.text()}"
    return out


def _lane_list(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    lanes = tb.ws.lanes.list()
    lines = []
    for wt in lanes:
        task = f" task={wt['task_id']}" if wt.get("task_id") is not None else ""
        lines.append(f"[{wt.get('status', 'unknown')}] {wt['name']} -> {wt.get('path')} "
                     f"({wt.get('branch', '-')}){task}")
    return "\n".join(lines) or "No worktrees in index."


def _lane_status(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    st = tb.ws.lanes.status(str(a["name"]))
    out = _dump(st.to_dict())
    if st.status != "removed" and not st.missing:
        res = git.run(["status", "--short", "--branch"], tb.lane_path(st.name))
        out += "\n" + ((res.out or res.err).strip() or "Clean worktree")
    return out


def _lane_run(tb: Toolbox, a: dict[str, Any], cancel) -> ToolResult:
    name, command = str(a["name"]), str(a["command"])
    if tb.lane and name != tb.lane:
        raise ToolError(f"this agent works in lane {tb.lane!r}; it cannot run commands in {name!r}")
    reason = blocked_reason(command)
    if reason:
        return ToolResult(f"Error: {reason}", True)
    return _command_result(tb.ws.lanes.run(name, command, timeout=tb.command_timeout, cancel=cancel))


def _lane_remove(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    name = str(a["name"])
    entry = tb.ws.lanes.remove(name, force=bool(a.get("force")),
                               complete_task=bool(a.get("complete_task")),
                               delete_branch=bool(a.get("delete_branch")))
    out = f"Removed worktree '{name}'"
    if entry.get("archive_ref"):
        out += (f"; its uncommitted changes were saved under {entry['archive_ref']} "
                "(worktree_restore brings them back)")
    if a.get("complete_task") and entry.get("task_id") is not None:
        out += f"; task {entry['task_id']} completed"
    return out


def _events(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    try:
        n = int(a.get("limit") or 20)
    except (TypeError, ValueError):
        n = 20
    return _dump(tb.ws.events.tail(max(1, min(n, 200))))


def _reconcile(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    found = tb.ws.lanes.reconcile(fix=bool(a.get("fix")))
    if not found:
        return "Index and git agree; nothing to reconcile."
    return "\n".join(f"[{'fixed' if f.fixed else f.kind}] {f.name}: {f.detail} -> {f.fix}"
                     for f in found)


def _diff(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    return tb.ws.lanes.diff(str(a["name"])) or "No changes."


def _default_summary(a: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in a.items() if not isinstance(v, (dict, list))) or "-"


_TOOLS: list[Tool] = [
    Tool("bash", "Run a shell command in the workspace (in the agent's lane when it is bound "
         "to one). Output is capped (head and tail kept); the command is killed with all its "
         "children when it times out.",
         {"command": _s()}, ("command",), _bash, "always",
         lambda a: str(a.get("command"))),
    Tool("read_file", "Read file contents (relative to the repository root, or to a lane with "
         "worktree). Use limit (and offset, 1-based) for long files.",
         {"path": _s(), "limit": _i(), "offset": _i("First line to read, 1-based."),
          "worktree": _WT_ARG},
         ("path",), _read_file, "never", lambda a: str(a.get("path"))),
    Tool("write_file", "Write content to a file (created with its folders if missing). To "
         "change a lane's files, pass worktree.",
         {"path": _s(), "content": _s(), "worktree": _WT_ARG}, ("path", "content"), _write_file,
         "always",
         lambda a: f"{a.get('path')} ({len(str(a.get('content', '')))} chars)"),
    Tool("edit_file", "Replace exact text in a file (the first occurrence).",
         {"path": _s(), "old_text": _s(), "new_text": _s(), "worktree": _WT_ARG},
         ("path", "old_text", "new_text"), _edit_file, "always",
         lambda a: str(a.get("path"))),
    Tool("task_create", "Create a new task on the shared task board. blocked_by lists task ids "
         "that must be completed first.",
         {"subject": _s(), "description": _s(),
          "blocked_by": {"type": "array", "items": {"type": "integer"}}},
         ("subject",), _task_create),
    Tool("task_list", "List all tasks with status, owner, worktree binding and open blockers. "
         "ready=true lists only pending tasks with no open blocker.",
         {"status": {"type": "string", "enum": list(STATUSES)}, "ready": _b()}, (), _task_list),
    Tool("task_get", "Get task details by ID.", {"task_id": _i()}, ("task_id",),
         lambda tb, a, c: _dump(tb.ws.tasks.get(a["task_id"]))),
    Tool("task_update", "Update task status or owner (or subject / description). Completing a "
         "task unblocks the tasks that wait on it.",
         {"task_id": _i(), "status": {"type": "string", "enum": list(STATUSES)}, "owner": _s(),
          "subject": _s(), "description": _s()},
         ("task_id",), _task_update),
    Tool("task_bind_worktree", "Bind a task to a worktree name.",
         {"task_id": _i(), "worktree": _s(), "owner": _s()}, ("task_id", "worktree"),
         lambda tb, a, c: _dump(tb.ws.tasks.bind_worktree(a["task_id"], str(a["worktree"]),
                                                          str(a.get("owner") or "")))),
    Tool("task_block", "Make a task wait on another: task_id cannot be ready until blocked_by "
         "is completed. Cycles are refused.",
         {"task_id": _i(), "blocked_by": _i()}, ("task_id", "blocked_by"),
         lambda tb, a, c: _dump(tb.ws.tasks.block(a["task_id"], a["blocked_by"]))),
    Tool("task_unblock", "Remove a dependency added with task_block.",
         {"task_id": _i(), "blocked_by": _i()}, ("task_id", "blocked_by"),
         lambda tb, a, c: _dump(tb.ws.tasks.unblock(a["task_id"], a["blocked_by"]))),
    Tool("worktree_create", "Create a git worktree (a lane, on branch wt/<name>) and optionally "
         "bind it to a task, which moves the task to in_progress.",
         {"name": _s(), "task_id": _i(), "base_ref": _s()}, ("name",), _lane_created,
         lambda tb, a: bool(tb.ws.config.setup),   # creation runs the configured setup command
         lambda a: f"{a.get('name')}" + (f" for task {a['task_id']}" if a.get("task_id") else "")),
    Tool("worktree_list", "List worktrees tracked in .worktrees/index.json.", {}, (), _lane_list),
    Tool("worktree_status", "Show the live status of one worktree: dirty files, ahead/behind "
         "its base, last commit, and git status.", {"name": _s()}, ("name",), _lane_status),
    Tool("worktree_diff", "Show everything a lane changed since it left its base: commits, "
         "uncommitted edits and untracked files.", {"name": _s()}, ("name",), _diff),
    Tool("worktree_run", "Run a shell command in a named worktree directory. Output is capped; "
         "the command is killed with all its children on timeout.",
         {"name": _s(), "command": _s()}, ("name", "command"), _lane_run, "always",
         lambda a: f"[{a.get('name')}] {a.get('command')}"),
    Tool("worktree_remove", "Remove a worktree and optionally mark its bound task completed. A "
         "lane with uncommitted changes is refused unless force (then they are archived and "
         "can be restored); the branch stays unless delete_branch and it is merged.",
         {"name": _s(), "force": _b(), "complete_task": _b(), "delete_branch": _b()}, ("name",),
         _lane_remove, "always",
         lambda a: str(a.get("name")) + "".join(f" {k}" for k in ("force", "complete_task",
                                                                   "delete_branch") if a.get(k))),
    Tool("worktree_keep", "Mark a worktree as kept in lifecycle state without removing it.",
         {"name": _s()}, ("name",), lambda tb, a, c: _dump(tb.ws.lanes.keep(str(a["name"])))),
    Tool("worktree_restore", "Bring back a removed worktree: its branch in a new directory, plus "
         "the uncommitted changes a forced removal archived.",
         {"name": _s()}, ("name",), lambda tb, a, c: _dump(tb.ws.lanes.restore(str(a["name"])))),
    Tool("worktree_reconcile", "Compare the worktree index with git's own list (lanes deleted "
         "by hand, unregistered or prunable worktrees). fix=true applies the fixes.",
         {"fix": _b()}, (), _reconcile, lambda tb, a: bool(a.get("fix"))),
    Tool("worktree_events", "List recent worktree/task lifecycle events from "
         ".worktrees/events.jsonl.", {"limit": _i()}, (), _events),
]

SEED_TOOL_NAMES = ("bash", "read_file", "write_file", "edit_file", "task_create", "task_list",
                   "task_get", "task_update", "task_bind_worktree", "worktree_create",
                   "worktree_list", "worktree_status", "worktree_run", "worktree_keep",
                   "worktree_remove", "worktree_events")

__all__ = ["Toolbox", "ToolResult", "ToolError", "blocked_reason", "cap_text", "OUTPUT_CAP",
           "SEED_TOOL_NAMES"]
