"""What the agent loop tells its host. The core never prints: a CLI prints these, the
TUI turns them into Messages. All are plain dataclasses, safe to pass between threads."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, Union


def result_kind(output: str) -> str:
    """How a stored tool result ended, read back from its text (a reopened conversation
    has only the text): "denied", "cancelled", "interrupted", or "" for a real result.
    The texts are the ones the loop (core/agent/loop.py) and repair (transcript.py) write."""
    from core.agent.loop import CANCELLED
    from core.agent.transcript import INTERRUPTED

    text = (output or "").lstrip()
    if text.startswith("Denied:"):
        return "denied"
    if text.startswith(CANCELLED):
        return "cancelled"
    if text.startswith(INTERRUPTED):
        return "interrupted"
    return ""


def brief_output(output: str, limit: int = 70) -> str:
    """One line for a human to glance at (the full output went to the model).

    Tools answer tasks and lanes as JSON objects: name the thing instead of showing ``{``.
    """
    text = (output or "").strip()
    if text[:1] in "{[":
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and "subject" in data and "id" in data:
            text = f"#{data['id']} {data['subject']} [{data.get('status', '?')}]"
        elif isinstance(data, dict) and "name" in data and "branch" in data:
            text = f"lane {data['name']} [{data.get('status', '?')}] on {data['branch']}"
        elif data is not None:
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines = [" ".join(ln.split()) for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "(no output)"
    first = lines[0] if len(lines[0]) <= limit else lines[0][:limit - 1] + "…"
    more = len(lines) - 1
    return first + (f"  (+{more} more line{'s' if more > 1 else ''})" if more else "")


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def add(self, other: "Usage") -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens

    @property
    def total(self) -> int:
        return (self.input_tokens + self.output_tokens + self.cache_creation_input_tokens
                + self.cache_read_input_tokens)


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolStarted:
    tool_use_id: str
    name: str
    input: dict[str, Any]


@dataclass
class ToolFinished:
    tool_use_id: str
    name: str
    output: str            # full text given to the model (already capped)
    is_error: bool = False
    denied: bool = False   # the host's approval said no

    def brief(self, limit: int = 70) -> str:
        return brief_output(self.output, limit)


@dataclass
class Retrying:
    attempt: int           # the attempt that is about to start (2 = first retry)
    max_attempts: int
    delay: float           # seconds of backoff before it
    reason: str


@dataclass
class TextWithdrawn:
    """The text streamed by a model call that then failed (it will be retried, or the
    turn ends in an error): never part of the answer, so a host takes it off the screen.
    ``text`` is exactly what the withdrawn TextDeltas carried."""
    text: str


@dataclass
class TurnFinished:
    stop_reason: str       # end_turn | max_tokens | cancelled | max_iterations | token_budget
    #                        | error
    usage: Usage           # this user message
    session_usage: Usage   # the whole session so far


@dataclass
class AgentError:
    message: str           # one line, never contains the API key


AgentEvent = Union[TextDelta, TextWithdrawn, ToolStarted, ToolFinished, Retrying, TurnFinished,
                   AgentError]


class Decision(enum.Enum):
    ALLOW_ONCE = "once"
    ALLOW_SESSION = "session"   # allow this tool for the rest of the session
    DENY = "deny"


@dataclass
class ApprovalRequest:
    tool: str
    input: dict[str, Any]
    summary: str               # one line a human can judge, e.g. "bash: rm -rf build"
    lane: str | None = None    # the lane the call acts in, if any
    effect: str = ""           # its row of the policy: board, lane, file_write, command
    extra: dict[str, Any] = field(default_factory=dict)
