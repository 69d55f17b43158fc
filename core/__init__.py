"""worklanes core: tasks, lanes (git worktrees), events, the agent. Never imports textual."""

from core.errors import WorklanesError

__all__ = ["WorklanesError"]
