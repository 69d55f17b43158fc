"""The agent: a streamed tool-use loop over the Anthropic Messages API, in core so the
TUI (in a thread worker) and the headless ``worklanes chat`` share it.

Importing this package is cheap: the anthropic SDK (a second or two to import) is loaded
only when the first model call is made (or by ``Agent.warm_up``).
"""

from core.agent.config import DEFAULT_MODEL, AgentConfig
from core.agent.events import (AgentError, AgentEvent, ApprovalRequest, Decision, Retrying,
                               TextDelta, TextWithdrawn, ToolFinished, ToolStarted, TurnFinished,
                               Usage)

_FROM_LOOP = ("Agent", "Approver", "Binding", "EventSink")


def __getattr__(name: str):
    # The loop and its tools load on first use: the app imports the event types before
    # its first paint, and needs the loop only after it.
    if name in _FROM_LOOP:
        from core.agent import loop
        return getattr(loop, name)
    raise AttributeError(f"module 'core.agent' has no attribute {name!r}")

__all__ = [
    "Agent", "AgentConfig", "Approver", "Binding", "DEFAULT_MODEL", "EventSink",
    "AgentError", "AgentEvent", "ApprovalRequest", "Decision", "Retrying", "TextDelta",
    "TextWithdrawn", "ToolFinished", "ToolStarted", "TurnFinished", "Usage",
]
