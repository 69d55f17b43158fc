"""The app's side of the agent, all of it run off the UI thread: create the agent after
the first paint, run one turn, and turn the approval callback into a modal question.
Everything reaches the screen as a posted Message."""

from __future__ import annotations

import threading
from typing import Any, Callable

from textual.message import Message

from core.workspace import Workspace
from tui.messages import (AgentEvent, AgentReady, AgentUnavailable, ApprovalNeeded)

Post = Callable[[Message], Any]


class AgentHost:
    def __init__(self, ws: Workspace, post: Post, model: str | None = None,
                 base_url: str | None = None, policy: str | None = None):
        self.ws = ws
        self.post = post
        self.model = model
        self.base_url = base_url
        self.policy = policy
        self.agent: Any = None
        self.cancel = threading.Event()
        self.running = False
        self.lane_host: Any = None

    def load(self) -> Message:
        """Build the agent, resuming the last session. Importing core.agent is cheap;
        the anthropic SDK loads in ``warm_up``, after this message is on screen."""
        from core.agent import Agent, AgentConfig

        config = AgentConfig.load(self.ws.root, model=self.model, base_url=self.base_url,
                                  policy=self.policy)
        if not config.has_key:
            return AgentUnavailable(config.missing_key_message(), config.model)
        self.agent = Agent.resume_last(self.ws, config, approver=self.approve)
        if self.lane_host is not None:   # the board agent can delegate to lane agents
            self.agent.tools.lane_agents = self.lane_host.ensure(config)
        return AgentReady(self.agent, config.model, list(self.agent.history), self.agent.usage)

    def new_session(self) -> Any:
        """A fresh conversation with the same settings; the old one stays saved (and is
        no longer the newest, so the next start resumes this one)."""
        from core.agent import Agent

        self.agent = Agent(self.ws, self.agent.config, approver=self.approve)
        return self.agent

    def warm_up(self) -> None:
        if self.agent is not None:
            self.agent.warm_up()

    def run_turn(self, text: str) -> None:
        """Blocking: run in a thread worker. Cancel with ``self.cancel``."""
        self.cancel.clear()
        self.running = True
        try:
            self.agent.send(text, on_event=lambda ev: self.post(AgentEvent(ev)), cancel=self.cancel)
        finally:
            self.running = False
        self.lane_host: Any = None

    def approve(self, request: Any) -> Any:
        """Called by the agent from its thread; blocks until the user answers, the turn
        is cancelled (a refusal), or the app quits."""
        from core.agent import Decision

        done = threading.Event()
        answer: list = []
        if not self.post(ApprovalNeeded(request, done, answer)):
            return Decision.DENY
        while not done.wait(0.05):
            if self.cancel.is_set():
                return Decision.DENY
        return answer[0] if answer else Decision.DENY
