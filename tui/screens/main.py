"""The main screen: the layout of the four panes, the header and the key bar, and the
keys that move between panes (focus, zoom, help, the chat key and esc)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widget import Widget

from tui import keys
from tui.panes.chat import BOARD_TITLE, ChatPane
from tui.panes.events import EventsPane
from tui.panes.lanes import LanesPane
from tui.panes.tasks import TasksPane
from tui.widgets.panes import KeyBar, StatusLine, pane

# Each pane's bordered widget, and the widget that takes the focus in it.
PANES = {"tasks": "#tasks-pane", "lanes": "#lanes", "events": "#events", "chat": "#chat"}
PANE_WIDGETS = {"tasks": "#tasks", "lanes": "#lanes", "events": "#events", "chat": "#chat"}


def breakpoint_class(size: int, breakpoints: list[tuple[int, str]]) -> str | None:
    """The class Textual gives a screen of this size (the widest breakpoint it reaches)."""
    reached = [(at, name) for at, name in breakpoints if size >= at]
    return max(reached)[1] if reached else None


class MainScreen(Screen):
    BINDINGS = keys.bindings("global")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    _zoomed: str | None = None

    def compose(self):
        opts = self.app.options
        # Textual sets the breakpoint class on the first Resize, which restyles every
        # widget after the first layout; with the class already right it changes nothing.
        name = breakpoint_class(self.app.size.width, self.HORIZONTAL_BREAKPOINTS)
        if name:
            self.add_class(name, update=False)
        yield StatusLine(id="status")
        # A pane is the bordered widget itself; only the board needs a frame around two
        # widgets (the table and, on n, the quick-add). Fewer widgets, sooner first frame.
        yield TasksPane(cursor_blink=opts.cursor_blink, id="tasks-pane")
        yield pane(ChatPane(self.app.agent_host, self.app.lane_host,
                            cursor_blink=opts.cursor_blink, id="chat"), BOARD_TITLE)
        yield pane(LanesPane(clock=opts.clock, id="lanes"), "Lanes")
        yield pane(EventsPane(max_lines=opts.max_event_lines, tz=opts.tz, id="events"), "Events")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.start()

    def on_screen_resume(self) -> None:
        self.app.release_keys()   # held after Enter or Esc in a dialog that closed

    def pane(self, name: str) -> Widget:
        return self.query_one(PANES[name])

    def focus_now(self, widget: Any) -> None:
        # Widget.focus() waits for the next loop turn; keys typed right after "n" or
        # tab (a paste, a fast typist, tmux send-keys) would still go to the old widget.
        self.set_focus(widget)

    def current_pane(self) -> str | None:
        node = self.app.focused
        while node is not None:
            if node.has_class("pane"):
                return next((name for name, sel in PANES.items() if sel == f"#{node.id}"), None)
            node = node.parent
        return None

    # -- keys ------------------------------------------------------------------------------
    def action_focus_pane(self, delta: int) -> None:
        current = self.current_pane()
        order = list(keys.PANES)
        idx = order.index(current) if current in order else -1
        self.action_focus_pane_named(order[(idx + delta) % len(order)])

    # -- zoom ------------------------------------------------------------------------------
    # Not Screen.maximize: it lays the pane out alone on a hatch, at its grid size, and hides
    # the header and the key bar. Zoom is a layout of this screen: the other panes step
    # aside and the zoomed one takes all the room between the header and the key bar.
    @property
    def zoomed(self) -> str | None:
        """The zoomed pane's name, or None."""
        return self._zoomed

    def zoom_pane(self, name: str | None) -> None:
        self._zoomed = name
        for other, selector in PANES.items():
            self.query_one(selector).set_class(other == name, "-zoom")
        self.set_class(name is not None, "-zoomed")
        self.app.refresh_bindings()

    def action_focus_pane_named(self, name: str) -> None:
        if self.zoomed is not None and self.zoomed != name:
            self.zoom_pane(None)
        if name == "chat":
            chat = self.query_one(ChatPane)
            self.focus_now(chat.input if not chat.input.disabled else chat.log_view)
        else:
            self.focus_now(self.query_one(PANE_WIDGETS[name]))

    def action_zoom(self) -> None:
        self.zoom_pane(None if self.zoomed is not None else self.current_pane())

    def action_chat_focus(self) -> None:
        chat = self.query_one(ChatPane)
        if chat.input.disabled:
            reason = "a turn is running (esc cancels it)" if chat.running \
                else "the agent is not available - see the chat pane"
            self.notify(f"Chat input is off: {reason}", severity="warning")
        self.action_focus_pane_named("chat")

    def action_help(self) -> None:
        from tui.screens.views import HelpScreen

        self.app.push_screen(HelpScreen(self.app.keymap))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "agent_cancel":
            # Shown (and live) only when there is something to cancel.
            return self.query_one(ChatPane).running or self.zoomed is not None
        return True

    def key_applies(self, when: str) -> bool:
        """Whether a key that matters only at times (keys.KeySpec.when) is on the bar now."""
        if when == "waiting":
            return bool(self.app.lane_host.queue.pending())
        if when == "lane":
            return self.query_one(ChatPane).shown_lane is not None
        return True

    def action_agent_cancel(self) -> None:
        if self.query_one(ChatPane).cancel_turn():
            return
        if self.zoomed is not None:
            self.zoom_pane(None)
