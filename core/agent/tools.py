"""The agent's tools: the seed's 16 (same names, same input schemas, a few optional
properties added) plus the ones the core makes natural (dependencies, diff, reconcile,
restore). Every tool calls the same core the CLI uses, so locks and events are shared.

Safety lives here, not in a word list:
- file tools open paths race-free below their root (``core.agent.files``: component by
  component from a directory descriptor, no symlink followed out, regular files only,
  sizes capped before reading); the root is the repository, or a lane when the call
  names one (``worktree``) or the agent is bound to one; ``.git`` and the state folders
  are never written;
- every tool has an effect (``EFFECTS``: read, board, lane, file_write, command); the
  loop asks the host before the effects the config lists (``AgentConfig.ask``);
- git operations run without repository hooks unless the call's effect is command
  execution (which the user approved, or allowed by policy);
- an agent bound to a lane (``Binding``) acts only on that lane and its task;
- commands run through ``core.proc.run_command``: own session, no credentials in the
  environment, a hard timeout, everything they started killed at the end, head+tail
  capped output.
A short blocklist of catastrophic commands stays as an extra floor under the approval.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core import git, present
from core.agent.config import DEFAULT_ASK
from core.agent.file_tools import EDIT_BYTES_MAX, READ_BYTES_MAX  # noqa: F401 - re-exported
from core.agent.file_tools import edit_file as _edit_file
from core.agent.file_tools import read_file as _read_file
from core.agent.file_tools import write_file as _write_file
from core.agent.files import Root, ToolError
from core.agent.lane_tools import LANE_AGENT_TOOL_SPECS
from core.agent.merge_tools import MERGE_TOOL_SPECS
from core.errors import WorklanesError
from core.paths import STATE_DIRS
from core.proc import DEFAULT_CAP, run_command
from core.safe_text import visible
from core.secrets import env_drop_of
from core.tasks import STATUSES
from core.workspace import Workspace

OUTPUT_CAP = DEFAULT_CAP          # characters of tool output the model gets
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


@dataclass(frozen=True)
class Binding:
    """What a lane-bound agent may act on: its lane, and the lane's task (None: the lane
    has none, so no task may be updated). File tools and bash act inside the lane; lane
    tools naming another lane, and updates of another task, are refused."""
    lane: str
    task_id: int | None = None


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
    # One of EFFECTS, or a function of (toolbox, input) for tools whose effect depends
    # on the call (reconcile with fix, create when a setup command is configured).
    effect: str | Callable[["Toolbox", dict[str, Any]], str] = "read"
    summary: Callable[[dict[str, Any]], str] | None = None
    # What a lane-bound agent may do with it: "" anything, "lane" only its own lane
    # (input name), "task" only its own task (input task_id), "fix" not with fix=true,
    # "none" nothing (it acts on other lanes).
    bound: str = ""

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

    def __init__(self, workspace: Workspace, lane: "str | Binding | None" = None,
                 command_timeout: float | None = None):
        self.ws = workspace
        if isinstance(lane, str):
            entry = workspace.lanes.get(lane)
            lane = Binding(lane, entry.get("task_id"))
        self.binding: Binding | None = lane
        self.lane: str | None = lane.lane if lane else None
        self.command_timeout = command_timeout
        self.root = Path(workspace.root).resolve()
        self.tools: dict[str, Tool] = {t.name: t for t in _TOOLS}

    # -- what the model and the host see ------------------------------------------------
    def definitions(self) -> list[dict[str, Any]]:
        return [t.definition() for t in self.tools.values()]

    def effect(self, name: str, tool_input: dict[str, Any]) -> str:
        """What the call does, for the approval policy (an unknown tool reads: it only
        gets an error)."""
        tool = self.tools.get(name)
        if tool is None:
            return "read"
        if isinstance(tool.effect, str):
            return tool.effect
        try:
            return tool.effect(self, tool_input)
        except Exception:
            return "command"   # cannot tell: the strictest

    def needs_approval(self, name: str, tool_input: dict[str, Any],
                       ask: tuple[str, ...] = DEFAULT_ASK) -> bool:
        return self.effect(name, tool_input) in ask

    def summary(self, name: str, tool_input: dict[str, Any]) -> str:
        tool = self.tools.get(name)
        try:
            text = tool.summary(tool_input) if tool and tool.summary else _default_summary(tool_input)
        except Exception:
            text = _default_summary(tool_input)
        # Whole and escaped: a summary that cuts a tail, or lets ESC[2K erase its head,
        # is how an approval gets spoofed.
        return visible(f"{name}: {text}")

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
            self._check_binding(tool, tool_input)
            with git.hooks_disabled(not _hooks(self, name, tool_input)):
                out = tool.handler(self, tool_input, cancel)
        except WorklanesError as exc:
            return ToolResult(f"Error: {exc}", True)
        except Exception as exc:  # a tool must never take the loop down
            return ToolResult(f"Error: {type(exc).__name__}: {' '.join(str(exc).split())}", True)
        if isinstance(out, str):   # command results come capped (head + tail) already
            out = ToolResult(cap_text(out or "(no output)"))
        return out

    def _check_binding(self, tool: Tool, a: dict[str, Any]) -> None:
        if self.binding is None or not tool.bound:
            return
        if tool.bound == "lane":
            self.own_lane(a.get("name"), f"use {tool.name} on")
        elif tool.bound == "task":
            self.own_task(_task_id(a.get("task_id")))
            if tool.name == "task_bind_worktree":
                self.own_lane(a.get("worktree"), "bind a task to")
        elif tool.bound == "none" or (tool.bound == "fix" and a.get("fix")):
            raise ToolError(f"this agent works in lane {self.lane!r}; {tool.name}"
                            f"{' with fix' if tool.bound == 'fix' else ''} acts on other lanes "
                            "and is for the main agent only")

    # -- path safety ----------------------------------------------------------------------
    def lane_path(self, name: str) -> Path:
        lane = self.ws.lanes.get(name)
        if lane.get("status") == "removed":
            raise ToolError(f"lane {name!r} was removed; worktree_restore brings it back")
        path = Path(lane["path"])
        if not path.is_dir():
            raise ToolError(f"lane {name!r} directory {path} is missing; worktree_reconcile can fix the index")
        return path.resolve()

    def own_lane(self, name: Any, what: str) -> None:
        """A bound agent acts on its own lane only."""
        if self.lane and name != self.lane:
            raise ToolError(f"this agent works in lane {self.lane!r}; it cannot {what} lane "
                            f"{name!r}")

    def own_task(self, task_id: Any) -> None:
        """A bound agent updates its own task only (creating new tasks stays allowed)."""
        b = self.binding
        if b is None or task_id == b.task_id:
            return
        mine = f"its task is {b.task_id}" if b.task_id is not None else "its lane has no task"
        raise ToolError(f"this agent works in lane {b.lane!r} and {mine}; it cannot change "
                        f"task {task_id!r} (task_create can add a new one)")

    def file_root(self, worktree: str | None) -> Root:
        """The folder a file tool may touch."""
        if worktree:
            self.own_lane(worktree, "touch files of")
            return Root(self.lane_path(worktree), f"lane {worktree!r}")
        if self.lane:
            return Root(self.lane_path(self.lane), f"lane {self.lane!r}")
        return Root(self.root, "repository", STATE_DIRS)

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
                         cap=OUTPUT_CAP, cancel=cancel, env_drop=env_drop_of(tb.root),
                         keep_children=bool(a.get("keep_running")))
    return _command_result(result)


def _task_list(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    listing = tb.ws.tasks.list(status=a.get("status"), ready=bool(a.get("ready")))
    by_id = {t["id"]: t for t in tb.ws.tasks.list().tasks}
    lines = [present.task_line(t, by_id) for t in listing.tasks]
    lines += [f"(unreadable: {e})" for e in listing.errors]
    return "\n".join(lines) or "No tasks."


def _task_create(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    return _dump(tb.ws.tasks.create(str(a["subject"]), str(a.get("description") or ""),
                                    blocked_by=a.get("blocked_by") or ()))


def _task_update(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    return _dump(tb.ws.tasks.update(a["task_id"], status=a.get("status"), owner=a.get("owner"),
                                    subject=a.get("subject"), description=a.get("description")))


def _hooks(tb: Toolbox, name: str, a: dict[str, Any]) -> bool:
    """Repository hooks are code: they run only when the call counts as command execution
    (and so went through that approval)."""
    return tb.effect(name, a) == "command"


def _lane_created(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    res = tb.ws.lanes.create(str(a["name"]), a.get("task_id"), a.get("base_ref") or "HEAD",
                             hooks=_hooks(tb, "worktree_create", a))
    out = _dump(res.lane)
    if res.copied:
        out += f"\ncopied into the lane: {', '.join(res.copied)}"
    if res.setup is not None:
        out += f"\nsetup `{res.setup.command}`: {res.setup.summary()}\n{res.setup.text()}"
    return out


def _lane_list(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    lines = [present.lane_line(lane) for lane in tb.ws.lanes.list()]
    return "\n".join(lines) or "No worktrees in index."


def _lane_status(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    from core.forecast import forecast_lane

    st = tb.ws.lanes.status(str(a["name"]))
    info = st.to_dict()
    if st.status != "removed":
        info.update(forecast_lane(tb.ws.root, tb.ws.lanes.get(st.name)).to_dict())
    out = _dump(info)
    if st.status != "removed" and not st.missing:
        res = git.run(["status", "--short", "--branch"], tb.lane_path(st.name))
        out += "\n" + ((res.out or res.err).strip() or "Clean worktree")
    return out


def _lane_run(tb: Toolbox, a: dict[str, Any], cancel) -> ToolResult:
    name, command = str(a["name"]), str(a["command"])
    reason = blocked_reason(command)
    if reason:
        return ToolResult(f"Error: {reason}", True)
    return _command_result(tb.ws.lanes.run(name, command, timeout=tb.command_timeout, cancel=cancel))


def _lane_remove(tb: Toolbox, a: dict[str, Any], cancel) -> str:
    name = str(a["name"])
    entry = tb.ws.lanes.remove(name, force=bool(a.get("force")),
                               complete_task=bool(a.get("complete_task")),
                               delete_branch=bool(a.get("delete_branch")))
    return present.removal_note(present.Removal.of(entry, bool(a.get("complete_task"))),
                                present.RESTORE_TOOL)


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


def _task_id(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _create_effect(tb: Toolbox, a: dict[str, Any]) -> str:
    return "command" if tb.ws.config.setup else "lane"   # creation runs the setup command


def _default_summary(a: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in a.items() if not isinstance(v, (dict, list))) or "-"


_KEEP_RUNNING = _b("Leave processes the command started in the background running after it "
                   "ends (a dev server; redirect their output). Without it everything the "
                   "command started is killed when it ends. A timeout still kills them.")

# The effect of each tool is its policy row (README, "Approval and safety").
_TOOLS: list[Tool] = [
    Tool("bash", "Run a shell command in the workspace (in the agent's lane when it is bound "
         "to one). Output is capped (head and tail kept); the command is killed with all its "
         "children when it times out, and anything it left running is killed when it ends.",
         {"command": _s(), "keep_running": _KEEP_RUNNING}, ("command",), _bash, "command",
         lambda a: str(a.get("command")) + (" (keep_running)" if a.get("keep_running") else "")),
    Tool("read_file", "Read file contents (relative to the repository root, or to a lane with "
         "worktree). Use limit (and offset, 1-based) for long files.",
         {"path": _s(), "limit": _i(), "offset": _i("First line to read, 1-based."),
          "worktree": _WT_ARG},
         ("path",), _read_file, "read", lambda a: str(a.get("path"))),
    Tool("write_file", "Write content to a file (created with its folders if missing). To "
         "change a lane's files, pass worktree.",
         {"path": _s(), "content": _s(), "worktree": _WT_ARG}, ("path", "content"), _write_file,
         "file_write",
         lambda a: f"{a.get('path')} ({len(str(a.get('content', '')))} chars)"),
    Tool("edit_file", "Replace exact text in a file (the first occurrence).",
         {"path": _s(), "old_text": _s(), "new_text": _s(), "worktree": _WT_ARG},
         ("path", "old_text", "new_text"), _edit_file, "file_write",
         lambda a: str(a.get("path"))),
    Tool("task_create", "Create a new task on the shared task board. blocked_by lists task ids "
         "that must be completed first.",
         {"subject": _s(), "description": _s(),
          "blocked_by": {"type": "array", "items": {"type": "integer"}}},
         ("subject",), _task_create, "board"),
    Tool("task_list", "List all tasks with status, owner, worktree binding and open blockers. "
         "ready=true lists only pending tasks with no open blocker.",
         {"status": {"type": "string", "enum": list(STATUSES)}, "ready": _b()}, (), _task_list),
    Tool("task_get", "Get task details by ID.", {"task_id": _i()}, ("task_id",),
         lambda tb, a, c: _dump(tb.ws.tasks.get(a["task_id"]))),
    Tool("task_update", "Update task status or owner (or subject / description). Completing a "
         "task unblocks the tasks that wait on it.",
         {"task_id": _i(), "status": {"type": "string", "enum": list(STATUSES)}, "owner": _s(),
          "subject": _s(), "description": _s()},
         ("task_id",), _task_update, "board", bound="task"),
    Tool("task_bind_worktree", "Bind a task to a worktree name.",
         {"task_id": _i(), "worktree": _s(), "owner": _s()}, ("task_id", "worktree"),
         lambda tb, a, c: _dump(tb.ws.tasks.bind_worktree(a["task_id"], str(a["worktree"]),
                                                          str(a.get("owner") or ""))),
         "board", bound="task"),
    Tool("task_block", "Make a task wait on another: task_id cannot be ready until blocked_by "
         "is completed. Cycles are refused.",
         {"task_id": _i(), "blocked_by": _i()}, ("task_id", "blocked_by"),
         lambda tb, a, c: _dump(tb.ws.tasks.block(a["task_id"], a["blocked_by"])),
         "board", bound="task"),
    Tool("task_unblock", "Remove a dependency added with task_block.",
         {"task_id": _i(), "blocked_by": _i()}, ("task_id", "blocked_by"),
         lambda tb, a, c: _dump(tb.ws.tasks.unblock(a["task_id"], a["blocked_by"])),
         "board", bound="task"),
    Tool("worktree_create", "Create a git worktree (a lane, on branch wt/<name>) and optionally "
         "bind it to a task, which moves the task to in_progress.",
         {"name": _s(), "task_id": _i(), "base_ref": _s()}, ("name",), _lane_created,
         _create_effect,
         lambda a: f"{a.get('name')}" + (f" for task {a['task_id']}" if a.get("task_id") else ""),
         bound="none"),
    Tool("worktree_list", "List worktrees tracked in .worktrees/index.json.", {}, (), _lane_list),
    Tool("worktree_status", "Show the live status of one worktree: dirty files, ahead/behind "
         "its base, last commit, its merge forecast (conflicts, integrated) and git status.",
         {"name": _s()}, ("name",), _lane_status),
    Tool("worktree_diff", "Show everything a lane changed since it left its base: commits, "
         "uncommitted edits and untracked files.", {"name": _s()}, ("name",), _diff),
    Tool("worktree_run", "Run a shell command in a named worktree directory. Output is capped; "
         "the command is killed with all its children on timeout, and anything it left "
         "running is killed when it ends.",
         {"name": _s(), "command": _s()}, ("name", "command"), _lane_run, "command",
         lambda a: f"[{a.get('name')}] {a.get('command')}", bound="lane"),
    Tool("worktree_remove", "Remove a worktree and optionally mark its bound task completed. A "
         "lane with uncommitted changes is refused unless force (then they are archived and "
         "can be restored); the branch stays unless delete_branch and it is merged.",
         {"name": _s(), "force": _b(), "complete_task": _b(), "delete_branch": _b()}, ("name",),
         _lane_remove, "lane",
         lambda a: str(a.get("name")) + "".join(f" {k}" for k in ("force", "complete_task",
                                                                   "delete_branch") if a.get(k)),
         bound="lane"),
    Tool("worktree_keep", "Mark a worktree as kept in lifecycle state without removing it.",
         {"name": _s()}, ("name",), lambda tb, a, c: _dump(tb.ws.lanes.keep(str(a["name"]))),
         "board", bound="lane"),
    Tool("worktree_restore", "Bring back a removed worktree: its branch in a new directory, plus "
         "the uncommitted changes a forced removal archived.",
         {"name": _s()}, ("name",),
         lambda tb, a, c: _dump(tb.ws.lanes.restore(str(a["name"]),
                                                    hooks=_hooks(tb, "worktree_restore", a))),
         "lane", bound="lane"),
    Tool("worktree_reconcile", "Compare the worktree index with git's own list (lanes deleted "
         "by hand, unregistered or prunable worktrees). fix=true applies the fixes.",
         {"fix": _b()}, (), _reconcile, lambda tb, a: "lane" if a.get("fix") else "read",
         bound="fix"),
    Tool("worktree_events", "List recent worktree/task lifecycle events from "
         ".worktrees/events.jsonl.", {"limit": _i()}, (), _events),
]

_TOOLS += [Tool(*spec) for spec in LANE_AGENT_TOOL_SPECS]
_TOOLS += [Tool(*spec[:7], bound=spec[7]) for spec in MERGE_TOOL_SPECS]

SEED_TOOL_NAMES = ("bash", "read_file", "write_file", "edit_file", "task_create", "task_list",
                   "task_get", "task_update", "task_bind_worktree", "worktree_create",
                   "worktree_list", "worktree_status", "worktree_run", "worktree_keep",
                   "worktree_remove", "worktree_events")

__all__ = ["Binding", "Toolbox", "ToolResult", "ToolError", "blocked_reason", "cap_text", "OUTPUT_CAP",
           "SEED_TOOL_NAMES"]
