"""A lane agent's state as recorded on its lane's index entry, and how to read it: a
record saying running or waiting whose process is gone reads ``interrupted``. Kept apart
from the runner so the board commands can show states without loading the agent loop."""

from __future__ import annotations

import os
from typing import Any

from core.agent.transcript import chat_dir
from core.errors import ConflictError

AGENT_STATES = ("idle", "running", "waiting", "done", "failed", "cancelled", "interrupted")
LIVE_STATES = ("running", "waiting")


# -- process identity: telling a live agent from one whose process died ---------------------

def process_token(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot), which tells it from a
    later process that reuses the pid; None if there is no such process (or no /proc)."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: count after its last ')'.
    rest = stat[stat.rfind(b")") + 2:].split()
    return rest[19].decode() if len(rest) > 19 else None


def _alive(pid: Any, token: Any) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if os.path.isdir("/proc"):
        now = process_token(pid)
        return now is not None and (token is None or str(token) == now)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def agent_state(lane: dict[str, Any]) -> dict[str, Any] | None:
    """The lane's agent record as it stands now: a live state whose process is gone reads
    ``interrupted``. None when the lane never had an agent."""
    agent = lane.get("agent")
    if not isinstance(agent, dict):
        return None
    if agent.get("state") in LIVE_STATES and not _alive(agent.get("pid"), agent.get("proc_start")):
        return {**agent, "state": "interrupted"}
    return dict(agent)


def lane_session(ws: Any, lane: str) -> str | None:
    """The session of ``lane``'s agent, to continue its conversation (None: it has none).
    Refused while that agent runs: two writers would fork one transcript."""
    state = agent_state(ws.lanes.get(lane)) or {}
    if state.get("state") in LIVE_STATES:
        raise ConflictError(f"the agent of lane {lane!r} is running (process {state.get('pid')}); "
                            "wait for it to finish or cancel it first")
    session = state.get("session")
    if session and (chat_dir(ws.root) / f"{session}.jsonl").exists():
        return session
    return None
