"""The agent's integration tools, worktree_merge and worktree_sync (core.merge,
core.sync), as specs the Toolbox turns into tools (as core.agent.lane_tools): a lane-bound
agent may sync its own lane, never merge; merging is a git write, and command execution
when it runs the project's check."""

from __future__ import annotations

import json
from typing import Any


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def _lane_merge(tb: Any, a: dict[str, Any], cancel) -> Any:
    from core.agent.tools import ToolResult
    from core.merge import CheckFailedError, merge_lane

    try:
        res = merge_lane(tb.ws, str(a["name"]), strategy=str(a.get("strategy") or "merge"),
                         check=a.get("check") is not False, remove=bool(a.get("remove")),
                         cancel=cancel)
    except CheckFailedError as exc:  # the model needs the output to fix what failed
        return ToolResult(f"Error: {exc}\n{exc.result.text()}", True)
    return _dump(res.to_dict())


def _merge_effect(tb: Any, a: dict[str, Any]) -> str:
    # A git write; with the check enabled it also runs the project's check command.
    return "command" if tb.ws.config.check and a.get("check") is not False else "lane"


def _lane_sync(tb: Any, a: dict[str, Any], cancel) -> str:
    from core.sync import abort_sync, sync_lane

    name = str(a["name"])
    res = abort_sync(tb.ws, name) if a.get("abort") else sync_lane(tb.ws, name,
                                                                   rebase=bool(a.get("rebase")))
    return f"{res.message}\n{_dump(res.to_dict())}"


# (name, description, properties, required, handler, effect, summary, lane-bound use)
MERGE_TOOL_SPECS: list[tuple[Any, ...]] = [
    ("worktree_merge", "Integrate a lane into the branch it was based on: a merge commit "
         "(strategy merge), one squashed commit (squash) or its commits replayed then "
         "fast-forwarded (rebase). Refused, changing nothing, when the lane or the base's "
         "checkout has uncommitted work, the conflict forecast is not empty (worktree_sync "
         "first) or the check command fails (its output is returned). Completes the lane's "
         "task; remove=true then removes the lane and deletes its branch.",
         {"name": {"type": "string"}, "strategy": {"type": "string", "enum": ["merge", "squash", "rebase"]},
          "check": {"type": "boolean", "description": "Run the [lanes] check command first (default true)."}, "remove": {"type": "boolean"}},
         ("name",), _lane_merge, _merge_effect,
         lambda a: f"{a.get('name')} ({a.get('strategy') or 'merge'})"
         + (" without check" if a.get("check") is False else "")
         + (" then remove" if a.get("remove") else ""),
         "none"),
    ("worktree_sync", "Bring the base branch's new commits into a lane, inside the lane "
         "(merge, or rebase=true). A conflict stops there, in the lane, to resolve and commit "
         "(or `git rebase --continue`); abort=true undoes a sync that stopped.",
         {"name": {"type": "string"}, "rebase": {"type": "boolean"}, "abort": {"type": "boolean"}}, ("name",), _lane_sync, "lane",
         lambda a: str(a.get("name")) + (" abort" if a.get("abort") else
                                         " (rebase)" if a.get("rebase") else ""),
         "lane"),
]
