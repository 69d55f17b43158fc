"""Helpers shared by the agent and chat tests (this module holds no tests itself)."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

import pytest

from core.agent import (Agent, AgentConfig, AgentError, Decision, Retrying, TextDelta,
                        ToolFinished, ToolStarted, TurnFinished)
from tests.fakeapi import FakeAPI, Reply, Text, ToolUse

KEY = "sk-ant-test-SECRET-0123456789"


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


def config(api: FakeAPI, **kw: Any) -> AgentConfig:
    kw.setdefault("policy", "auto")
    kw.setdefault("retry_base_delay", 0.01)
    return AgentConfig(api_key=KEY, base_url=api.url, model="claude-test", **kw)


def agent(ws, api: FakeAPI, approver=None, lane=None, **kw: Any) -> Agent:
    return Agent(ws, config(api, **kw), approver=approver, lane=lane)


class Events(list):
    """Records what the agent emits; optional hooks run on given event types."""

    def __init__(self, hook: Callable[[Any], None] | None = None):
        super().__init__()
        self.hook = hook
        self.threads: list[tuple[str, str]] = []   # (the event's type, the thread it came on)

    def __call__(self, ev: Any) -> None:
        self.threads.append((type(ev).__name__, threading.current_thread().name))
        self.append(ev)
        if self.hook:
            self.hook(ev)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self if isinstance(e, kind)]

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.of(TextDelta))

    @property
    def finished(self) -> TurnFinished:
        done = self.of(TurnFinished)
        assert len(done) == 1, self
        return done[0]

    def results(self) -> dict[str, ToolFinished]:
        return {e.name: e for e in self.of(ToolFinished)}


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last (user) message of a request body."""
    return [b for b in body["messages"][-1]["content"] if b.get("type") == "tool_result"]


def calls(*uses: tuple[str, dict[str, Any]], text: str | None = None) -> Reply:
    """One assistant message asking for several tools at once."""
    blocks: list[Any] = [Text(text)] if text else []
    blocks += [ToolUse(name, args) for name, args in uses]
    return Reply(blocks)


def approve_all(decision: Decision = Decision.ALLOW_ONCE):
    asked = []

    def approver(req):
        asked.append(req)
        return decision

    approver.asked = asked  # type: ignore[attr-defined]
    return approver


def result_of(api: FakeAPI, request_index: int = -1) -> list[str]:
    """The tool_result texts the model received in one request."""
    return [b["content"] for b in tool_results(api.requests[request_index].body)]


def read_json(text: str) -> Any:
    return json.loads(text)


__all__ = ["KEY", "api", "config", "agent", "Events", "tool_results", "calls", "approve_all",
           "result_of", "read_json", "AgentError", "Retrying", "TextDelta", "ToolFinished",
           "ToolStarted", "TurnFinished"]


def test_a_stored_tool_result_says_how_it_ended():
    from core.agent.events import result_kind
    from core.agent.loop import CANCELLED
    from core.agent.transcript import INTERRUPTED

    assert result_kind("Denied: the user did not allow this bash call.") == "denied"
    assert result_kind(f"{CANCELLED}\npartial output") == "cancelled"
    assert result_kind(INTERRUPTED) == "interrupted"
    assert result_kind("Denied nothing: a file's text") == ""
    assert result_kind("") == ""
