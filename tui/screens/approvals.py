"""The approval queue as a list (``J``): every approval the lane agents wait for - its
lane, its tool, the call in one line, how long it has waited - answered right here, or
left for that agent's chat (Enter goes there).

A modal view rather than a pane: its answers are single letters (y, a, n) that would
otherwise be pane keys (a starts an agent, n makes a task), so it owns the keyboard
while it is open, and closing it puts the focus back where it was, with whatever was
typed there. It never opens by itself: an approval that arrives meanwhile is a new row,
and the cursor stays on the row it was on (rows are keyed by the approval)."""

from __future__ import annotations

import time
from typing import Any, Callable

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from core.present import ago
from core.safe_text import visible
from tui import format as fmt
from tui.screens.dialogs import Dialog
from tui.widgets.tables import Column, KeyedTable

TICK = 1.0   # seconds between updates of the "waited" column

ANSWERS = {"once": "Allowed once", "session": "Allowed for this session", "deny": "Denied"}


class ApprovalTable(KeyedTable):
    # The call gives way on a narrow screen; lane, tool and wait stay whole.
    COLUMNS = (Column("Lane", "lane"), Column("Tool", "tool"),
               Column("Call", "call", flex_min=16), Column("Waited", "waited"))


def _render(values: tuple) -> list[fmt.Cell]:
    lane, tool, call, waited = values
    return [fmt.cell(lane, "bold magenta"), fmt.cell(tool, "bold"), fmt.cell(call),
            fmt.cell(waited, "yellow")]


def queue_rows(pending: list[Any], now: float) -> list[fmt.Row]:
    """One row an approval, oldest first; what the model wrote is shown with its escapes
    visible, as the approval dialog shows it."""
    rows = []
    for p in pending:
        tool, call = visible(p.request.tool), " ".join(visible(p.request.summary).split())
        call = call.removeprefix(f"{tool}: ")   # "bash: make": the tool has its column
        rows.append(fmt.row(str(p.id), (visible(p.lane), tool, call, ago(p.asked_at, now)),
                            _render))
    return rows


class ApprovalQueueScreen(Dialog[str]):
    """Dismissed with a lane name (Enter: show that agent's chat) or None."""

    BINDINGS = [Binding("y", "answer('once')", "Allow once"),
                Binding("a", "answer('session')", "Allow for session"),
                Binding("n", "answer('deny')", "Deny"),
                Binding("enter", "show_chat", "Its chat"),
                Binding("escape,q", "cancel", "Close")]
    DEFAULT_CSS = """
    ApprovalQueueScreen .dialog { width: 110; }
    ApprovalQueueScreen ApprovalTable { height: auto; max-height: 16; margin: 1 0 0 0; }
    """

    def __init__(self, queue: Any, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.queue = queue
        self.clock = clock
        self.table = ApprovalTable(id="approvals")

    def compose(self):
        yield self.frame(Static(id="queue-note"), self.table, title="Waiting for you")

    def on_mount(self) -> None:
        super().on_mount()
        self.approvals_changed()
        self.set_interval(TICK, self.approvals_changed)
        self.set_focus(self.table)   # now: keys typed right after J come next

    def approvals_changed(self) -> None:
        """Show the queue as it is now (the app calls this whenever it changes)."""
        pending = self.queue.pending()
        self.table.sync(queue_rows(pending, self.clock()))
        self.table.display = bool(pending)
        frame = self.query_one(".dialog")
        frame.border_title = f"Waiting for you: {len(pending)}" if pending else "Waiting for you"
        self.query_one("#queue-note", Static).update(Text(
            "y allows once, a allows this tool for the agent's session, n denies; Enter "
            "goes to the agent's chat." if pending else
            "No agent is waiting for an answer. Esc closes.", style="dim"))

    def selected(self) -> Any:
        key = self.table.selected_key
        return next((p for p in self.queue.pending() if str(p.id) == key), None)

    def action_answer(self, which: str) -> None:
        from core.agent.events import Decision

        item = self.selected()
        if item is None:
            return
        decision = {"once": Decision.ALLOW_ONCE, "session": Decision.ALLOW_SESSION}.get(
            which, Decision.DENY)
        if self.queue.answer(item.id, decision):
            self.notify(f"{ANSWERS[decision.value]}: lane {visible(item.lane)}, "
                        f"{visible(item.request.tool)}", timeout=3)
        self.approvals_changed()

    def action_show_chat(self) -> None:
        item = self.selected()
        if item is not None:
            self.dismiss(item.lane)

    def confirm(self) -> None:
        self.action_show_chat()
