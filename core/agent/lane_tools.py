"""The board agent's delegation tools: start a lane agent for a task, read the lane
agents' states and reports, send one a follow-up.

They act through the ``LaneAgents`` runner the host hands the toolbox
(``agent.tools.lane_agents = runner``); without one they say so. A lane-bound agent may
read the states but not start or message agents. Starting and messaging an agent runs
commands on the user's behalf, so both always ask for approval.

Exported as plain specs, so ``core.agent.tools`` builds its Tool objects from them
without this module importing it back.
"""

from __future__ import annotations

import json
from typing import Any

from core.errors import ConflictError, InvalidInputError


def _runner(tb: Any, acting: bool) -> Any:
    if acting and tb.lane:
        raise ConflictError(f"this agent works in lane {tb.lane!r}; only the board agent starts "
                            "or messages lane agents - say what is needed in your report")
    runner = getattr(tb, "lane_agents", None)
    if runner is None:
        raise ConflictError("lane agents are not available in this session; run "
                            "`worklanes dispatch TASK_ID` to start one")
    return runner


def _started(run: Any) -> str:
    return (f"started the agent of lane {run.lane!r}"
            + (f" for task {run.task_id}" if run.task_id is not None else "")
            + f" (session {run.agent.session_id}); it runs in the background - "
            "lane_agent_status shows its state and, when it is done, its report")


def _start(tb: Any, a: dict[str, Any], cancel: Any) -> str:
    return _started(_runner(tb, True).start_task(a["task_id"]))


def _send(tb: Any, a: dict[str, Any], cancel: Any) -> str:
    message = str(a["message"])
    if not message.strip():
        raise InvalidInputError("message is empty; say what the lane agent should do")
    return _started(_runner(tb, True).send(str(a["lane"]), message))


def _status(tb: Any, a: dict[str, Any], cancel: Any) -> str:
    lane = a.get("lane")
    rows = _runner(tb, False).status(str(lane) if lane else None)
    if not rows:
        return "No lane agents yet."
    keep = ("state", "session", "tokens", "error", "started_at", "finished_at")
    return json.dumps([{**r, "agent": {k: r["agent"].get(k) for k in keep if k in r["agent"]}}
                       for r in rows], indent=2, ensure_ascii=False, default=str)


# (name, description, properties, required, handler, effect, summary, lane-bound use):
# starting or messaging an agent sets commands running, so both are command execution.
LANE_AGENT_TOOL_SPECS: list[tuple[Any, ...]] = [
    ("lane_agent_start", "Start a lane agent for a task: it gets the task's lane (created if "
     "the task has none) and works there in the background, then completes the task and "
     "reports. Blocked or completed tasks are refused.",
     {"task_id": {"type": "integer"}}, ("task_id",), _start, "command",
     lambda a: f"start an agent for task {a.get('task_id')}", "none"),
    ("lane_agent_status", "States of the lane agents (running, waiting for approval, done, "
     "failed, cancelled, interrupted), their token usage and the reports kept on their tasks. "
     "Give lane for one, or nothing for all.",
     {"lane": {"type": "string"}}, (), _status, "read", None, ""),
    ("lane_agent_send", "Send a follow-up message to a lane's agent (a new turn of its "
     "conversation, in the background). Refused while that agent is running.",
     {"lane": {"type": "string"}, "message": {"type": "string"}}, ("lane", "message"), _send,
     "command", lambda a: f"[{a.get('lane')}] {a.get('message')}", "none"),
]
