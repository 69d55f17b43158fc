"""The agent: a streamed tool-use loop over the Anthropic Messages API, in core so the
TUI (in a thread worker) and the headless ``worklanes chat`` share it.

Importing this package is cheap: the anthropic SDK (a second or two to import) is loaded
only when the first model call is made (or by ``Agent.warm_up``).
"""

from core.lazy import lazy_exports

# Every name loads on first use, so that importing one part of the package (the approval
# queue, the lane states the board shows) costs only that part: the event dataclasses
# alone take ~6 ms to define, the loop and its tools far more, and the app's first
# paint needs none of them.
__getattr__ = lazy_exports(__name__, {
    "DEFAULT_MODEL": "config", "AgentConfig": "config",
    **dict.fromkeys(("AgentError", "AgentEvent", "ApprovalRequest", "Decision", "Retrying",
                     "TextDelta", "TextWithdrawn", "ToolFinished", "ToolStarted", "TurnFinished",
                     "Usage"), "events"),
    **dict.fromkeys(("Agent", "Approver", "Binding", "EventSink"), "loop")})

__all__ = [
    "Agent", "AgentConfig", "Approver", "Binding", "DEFAULT_MODEL", "EventSink",
    "AgentError", "AgentEvent", "ApprovalRequest", "Decision", "Retrying", "TextDelta",
    "TextWithdrawn", "ToolFinished", "ToolStarted", "TurnFinished", "Usage",
]
