"""The agent chat: the conversation (one line widget, tui/widgets/chat_log.py: streamed
markdown, a tool call that updates in place when it finishes, notices) and the input. It
only draws; tui/panes/chat.py runs the agent."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from tui.format import clip
from tui.widgets.chat_items import Notice, ToolCall, UserMessage
from tui.widgets.chat_log import ConversationLog
from tui.widgets.stream import Reply


# An empty pane teaches nothing: say what the agent can do, and that it asks first.
WELCOME = ("The agent works on this board with the same actions as your keys: it reads and "
           "creates tasks, opens, keeps and removes lanes, reads diffs and runs commands in a "
           "lane. Creating, restoring and removing lanes, writing files and running commands "
           "ask you first.\n\n"
           "Try: \"Which tasks are ready, and what is left in each lane?\" or \"Make a lane "
           "for the first ready task\".")


class ChatLog(ConversationLog):
    """Focusable, so the pane keeps the focus (and its keys) while the input is off.

    While the input cannot take text (a turn runs, the agent is loading or off), what
    someone types here was meant for the input: printable keys are held for it, never
    taken as app keys (the ``q`` of "quickly" must not quit, its ``r`` not reconcile)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Textual leaves the app's bindings of the keys a widget consumes out of its
        # binding chain, priority ones included: so they reach on_key below.
        return self._holds_text() and character is not None and character.isprintable()

    def _holds_text(self) -> bool:
        view = self.parent
        return isinstance(view, ChatView) and view.input.disabled

    def on_key(self, event: Any) -> None:
        view = self.parent
        if event.is_printable and isinstance(view, ChatView) and self._holds_text():
            event.stop()
            event.prevent_default()
            view.hold_typed(event.character or "")

    def on_focus(self) -> None:
        view = self.parent
        if isinstance(view, ChatView):
            view.forget_typed()


class ChatInput(Input):
    BINDINGS = [Binding("escape", "leave", "Leave chat")]

    def action_leave(self) -> None:
        """Esc: back to the conversation, where the pane keys work again."""
        view = self.parent
        if isinstance(view, ChatView):
            view.log_view.focus()


class ChatView(Vertical):
    """Draws one conversation; the chat pane (tui/panes/chat.py) runs the agent."""

    ALLOW_MAXIMIZE = True

    def __init__(self, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cursor_blink = cursor_blink
        self._stream: Any = None
        self._tools: dict[str, ToolCall] = {}
        self._held = ""           # typed while the input could not take it
        self.off_reason = ""      # why the input is off for good (no agent), if it is
        self._log = ChatLog(id="chat-log")

    def compose(self):
        yield self._log

    def on_mount(self) -> None:
        self._log.anchor()

    @property
    def stream(self) -> Any:
        """The reply being written (tui/widgets/stream.py's Reply), if any."""
        return self._stream

    @property
    def log_view(self) -> ChatLog:
        # Its own log, not a query: a chat view may hold another (the lane agents' view).
        return self._log

    @property
    def input(self) -> ChatInput:
        """Mounted when first asked for (right after the first paint: the agent loads
        after it anyway, and an Input is one of the costlier widgets to style)."""
        found = self.query(ChatInput)
        if found:
            return found.first()
        inp = ChatInput(placeholder="Loading the agent…", id="chat-input", disabled=True)
        inp.cursor_blink = self.cursor_blink
        self.mount(inp)
        return inp

    # -- drawing ---------------------------------------------------------------------
    def text(self) -> str:
        """The conversation drawn, as plain text."""
        return self._log.text()

    def tool_calls(self) -> list[ToolCall]:
        return [item for item in self._log.items if isinstance(item, ToolCall)]

    def notice(self, text: str, kind: str = "info") -> None:
        self.log_view.add(Notice(text, kind))

    def add_user(self, text: str) -> None:
        self.log_view.add(UserMessage(text))

    async def add_text(self, delta: str) -> None:
        if self._stream is None:
            self._stream = self.log_view.add(Reply())
        self.log_view.append_text(self._stream, delta)

    async def end_text(self) -> None:
        """The reply ended: drawn again as one Markdown document (or gone, if it said
        nothing)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if stream.source.strip():
            stream.finish()
            self.log_view.item_changed(stream)
        else:
            self.log_view.remove(stream)

    async def withdraw_text(self) -> None:
        """Take back the reply being streamed: its model call failed (the agent retries
        it or reports the error), so those words were never the answer. A reply only
        streams after the previous call's tools started, so the open reply holds
        nothing else."""
        stream, self._stream = self._stream, None
        if stream is not None:
            self.log_view.remove(stream)

    async def tool_started(self, tool_use_id: str, name: str, data: Any) -> None:
        await self.end_text()
        call = ToolCall(tool_use_id, name, data)
        self._tools[tool_use_id] = call
        self.log_view.add(call)

    def awaiting_approval(self, tool: str) -> "ToolCall | None":
        """The running call of this tool an approval is about (the newest one)."""
        calls = [w for w in self._tools.values() if w.tool_name == tool and w.state == "running"]
        return calls[-1] if calls else None

    def tool_finished(self, tool_use_id: str, name: str, output: str, is_error: bool = False,
                      denied: bool = False) -> None:
        call = self._tools.get(tool_use_id)
        if call is None:
            call = self._tools[tool_use_id] = ToolCall(tool_use_id, name, {})
            self.log_view.add(call)
        call.finish(output, is_error, denied)

    def set_running(self, running: bool) -> None:
        if running and self.input.has_focus:
            self.log_view.focus()
        self.set_class(running, "-running")
        if running:
            self.input.disabled = True
        else:
            self.enable_input()

    def hold_typed(self, text: str) -> None:
        """Text typed while the input is off: kept for it, or (the agent is off for
        good) dropped with a hint instead of reaching an app key."""
        if self.off_reason:
            if not self._held:
                self.notify(f"Chat is off: {self.off_reason}. Tab or esc leaves the chat.",
                            severity="warning")
            self._held = "x"   # one hint per visit, not one per key
            return
        self._held += text
        running = "working… esc cancels · " if self.has_class("-running") else ""
        self.border_subtitle = f"{running}kept for the input: {clip(self._held, 24)}"

    def forget_typed(self) -> None:
        """Focus left the pane: the next visit gets its hint again."""
        if self.off_reason:
            self._held = ""

    def enable_input(self) -> None:
        """The input takes text again, starting with what was typed while it could not."""
        inp = self.input
        inp.disabled = False
        if self._held and not self.off_reason:
            inp.value += self._held
            inp.cursor_position = len(inp.value)
            self._held = ""
        if "kept for the input" in (self.border_subtitle or ""):
            self.border_subtitle = ""

    async def clear(self) -> None:
        """Take the drawn conversation off the pane (another one is about to be drawn)."""
        await self.end_text()
        self._tools.clear()
        self.log_view.clear()

    async def draw_event(self, ev: Any) -> None:
        """Draw one event of a turn (core.agent.events), as it streams or replayed."""
        from core.agent import (AgentError, Retrying, TextDelta, TextWithdrawn, ToolFinished,
                                ToolStarted, TurnFinished)

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
            if ev.stop_reason in ("cancelled", "max_tokens", "max_iterations", "token_budget"):
                self.notice(f"Turn ended: {ev.stop_reason.replace('_', ' ')}", "warn")
        elif isinstance(ev, AgentError):
            await self.end_text()
            self.notice(ev.message, "error")

    async def show_history(self, history: list[dict[str, Any]],
                           restored: str = "— restored from the last session —",
                           empty: str | None = WELCOME, cut_off_hint: str = "") -> None:
        """Draw a restored conversation (API message format) without streaming it;
        ``cut_off_hint`` follows the note under calls it ends on that were cut off."""
        items: list[Any] = []
        results: dict[str, tuple[str, bool]] = {}
        for msg in history:
            content = msg.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
            for block in blocks:
                kind = block.get("type") if isinstance(block, dict) else None
                if kind == "text" and block.get("text", "").strip():
                    if msg.get("role") == "user":
                        items.append(UserMessage(block["text"]))
                    else:
                        items.append(Reply(block["text"], finished=True))
                elif kind == "tool_use":
                    tool = ToolCall(block.get("id", ""), block.get("name", "?"), block.get("input"))
                    self._tools[tool.tool_use_id] = tool
                    items.append(tool)
                elif kind == "tool_result":
                    results[block.get("tool_use_id", "")] = (_result_text(block.get("content")),
                                                             bool(block.get("is_error")))
        from core.agent.events import result_kind
        from core.agent.transcript import cut_off

        last = {b.get("id") for b in cut_off(history)} if cut_off_hint else set()
        for tid, (text, is_error) in results.items():
            if tid in self._tools:
                kind = result_kind(text)
                # Drawn as it was live: a denial as a denial, and a turn that was cut off
                # says so after its last call.
                self._tools[tid].finish(text, is_error, denied=kind == "denied")
                if kind in ("cancelled", "interrupted"):
                    at = items.index(self._tools[tid]) + 1
                    note = f"Turn ended: {kind}" + (f" - {cut_off_hint}" if tid in last else "")
                    items.insert(at, Notice(note, "warn"))
        if not items:
            if empty:
                self.notice(empty)
            return
        items.insert(0, Notice(restored, "info"))
        self.log_view.extend(items)
        self.log_view.scroll_end(animate=False)
        self.log_view.anchor()


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""
