"""The chat pane: the board agent's conversation, and the host side of its turns.

The agent runs in thread workers of this pane (tui/agent_host.py posts what it does here);
approvals open a modal and answer the waiting agent thread."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.worker import Worker, WorkerState

from core.errors import WorklanesError
from tui.panes import Quiet
from tui.messages import (AgentEvent, AgentReady, AgentTurnEnded, AgentUnavailable,
                          ApprovalNeeded, TokensUsed)
from tui.widgets.chat import ChatInput, ChatView


def _tokens(usage: Any) -> tuple[int, int]:
    return (usage.input_tokens + usage.cache_read_input_tokens
            + usage.cache_creation_input_tokens, usage.output_tokens)


class ChatPane(Quiet, ChatView):
    def __init__(self, host: Any, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(cursor_blink=cursor_blink, **kwargs)
        self.host = host
        host.post = self.post_message

    @property
    def running(self) -> bool:
        return self.host.running

    def cancel_turn(self) -> bool:
        """Esc: cancel the running turn; False when there is none."""
        if not self.host.running:
            return False
        self.host.cancel.set()
        self.notice("Cancelling the turn…", "warn")
        return True

    # -- start-up --------------------------------------------------------------------------
    def start(self, enabled: bool) -> None:
        """After the first paint: the input (disabled until the agent is ready), then the
        agent itself in a worker."""
        self.input  # noqa: B018 - mounts it
        if enabled:
            self._load_agent()
        else:
            self.notice("The agent is off in this window.", "info")
            self.off_reason = "the agent is off in this window"
            self.input.placeholder = "Agent off"
            self.app.post_message(TokensUsed("off"))

    @work(thread=True, exit_on_error=False, group="agent-load", description="starting the agent")
    def _load_agent(self) -> None:
        try:
            msg = self.host.load()
        except WorklanesError as exc:
            self.post_message(AgentUnavailable(f"The agent could not start: {exc}"))
            return
        self.post_message(msg)
        if isinstance(msg, AgentReady):
            try:
                self.host.warm_up()
            except Exception:
                pass  # a broken SDK install shows up as an AgentError on the first turn

    async def on_agent_ready(self, msg: AgentReady) -> None:
        self.app.post_message(TokensUsed(msg.model, _tokens(msg.usage) if msg.usage else None))
        await self.show_history(msg.history)
        self.input.placeholder = "Ask the agent… (Enter sends, esc leaves)"
        self.enable_input()

    def on_agent_unavailable(self, msg: AgentUnavailable) -> None:
        self.app.post_message(TokensUsed(msg.model or "none"))
        self.notice(msg.message, "warn")
        self.notice("Everything else works without it.", "info")
        self.off_reason = "set ANTHROPIC_API_KEY and restart"
        self.input.placeholder = "Chat off: no API key (see above)"

    # -- a turn ----------------------------------------------------------------------------
    @on(ChatInput.Submitted, "#chat-input")
    def _send(self, event: ChatInput.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text or self.host.agent is None or self.host.running:
            return
        event.input.value = ""
        self.add_user(text)
        self.set_running(True)
        self.border_subtitle = "working… esc cancels"
        self.host.running = True
        self.app.refresh_bindings()
        self._run_turn(text)

    @work(thread=True, exit_on_error=False, group="agent", description="agent turn")
    def _run_turn(self, text: str) -> None:
        error = ""
        try:
            self.host.run_turn(text)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(AgentTurnEnded(error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "agent" and event.state == WorkerState.ERROR:
            event.stop()
            err = event.worker.error
            self.post_message(AgentTurnEnded(f"{type(err).__name__}: {err}"))

    async def on_agent_event(self, msg: AgentEvent) -> None:
        from core.agent import (AgentError, Retrying, TextDelta, TextWithdrawn, ToolFinished, ToolStarted,
                                TurnFinished)

        ev = msg.event
        if isinstance(ev, TextDelta):
            await self.add_text(ev.text)
        elif isinstance(ev, TextWithdrawn):
            await self.withdraw_text()
        elif isinstance(ev, ToolStarted):
            await self.tool_started(ev.tool_use_id, ev.name, ev.input)
        elif isinstance(ev, ToolFinished):
            self.tool_finished(ev.tool_use_id, ev.name, ev.output, ev.is_error, ev.denied)
        elif isinstance(ev, Retrying):
            self.notice(f"Retrying ({ev.attempt}/{ev.max_attempts}) in {ev.delay:.1f}s: {ev.reason}",
                        "warn")
        elif isinstance(ev, TurnFinished):
            await self.end_text()
            self.app.post_message(TokensUsed(None, _tokens(ev.session_usage)))
            if ev.stop_reason in ("cancelled", "max_tokens", "max_iterations"):
                self.notice(f"Turn ended: {ev.stop_reason.replace('_', ' ')}", "warn")
        elif isinstance(ev, AgentError):
            await self.end_text()
            self.notice(ev.message, "error")
            self._agent_error(ev.message)

    def _agent_error(self, message: str) -> None:
        self.notify(message, title="Agent error", severity="error", timeout=8)
        try:
            self.app.ws.events.emit("agent.error", error=message)
        except OSError:
            pass

    async def on_agent_turn_ended(self, msg: AgentTurnEnded) -> None:
        self.host.running = False
        self.app.refresh_bindings()
        await self.end_text()
        self.border_subtitle = ""
        self.set_running(False)
        if msg.error:
            self.notice(msg.error, "error")
            self._agent_error(msg.error)
        if self.app.screen is self.screen and self.screen.current_pane() in (None, "chat"):
            self.input.focus()

    # -- ctrl+n: a new conversation ------------------------------------------------------
    async def action_chat_new(self) -> None:
        if self.host.agent is None:
            self.notify("The agent is not available - see the chat pane", severity="warning")
            return
        if self.host.running:
            self.notify("A turn is running: esc cancels it first", severity="warning")
            return
        agent = self.host.new_session()
        await self.clear()
        self.notice("New conversation.", "info")
        await self.show_history([])
        self.app.post_message(TokensUsed(None, (0, 0)))
        self.notify(f"New conversation {agent.session_id}", timeout=3)

    # -- approvals -------------------------------------------------------------------------
    def on_approval_needed(self, msg: ApprovalNeeded) -> None:
        from core.agent import Decision

        call = self.awaiting_approval(msg.request.tool)
        if call is not None:
            call.approval = "waiting"   # on the call's own line, not a notice below it
            call.refresh(layout=True)
        else:
            self.notice(f"Approval asked: {msg.request.summary}", "warn")
        if self.host.cancel.is_set():
            self._answer(msg, Decision.DENY)
        else:
            self._ask(msg)

    @work(group="approval", exit_on_error=False, description="asking for approval")
    async def _ask(self, msg: ApprovalNeeded) -> None:
        from tui.screens.dialogs import ApprovalScreen

        self._answer(msg, await self.app.push_screen_wait(ApprovalScreen(msg.request)))

    def _answer(self, msg: ApprovalNeeded, decision: Any) -> None:
        from core.agent import Decision

        decision = decision if isinstance(decision, Decision) else Decision.DENY
        msg.answer.append(decision)
        msg.done.set()
        said = {Decision.ALLOW_ONCE: "allowed once", Decision.ALLOW_SESSION:
                f"{msg.request.tool} allowed for this session", Decision.DENY: "denied"}[decision]
        call = self.awaiting_approval(msg.request.tool)
        if call is not None and call.approval == "waiting":
            call.approval = said
            call.refresh(layout=True)
        else:
            self.notice(said.capitalize(), "info")
