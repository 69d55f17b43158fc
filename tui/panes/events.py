"""The event tail pane: the newest lines of events.jsonl, live."""

from __future__ import annotations

from tui.panes import Quiet
from tui.messages import EventsAppended
from tui.widgets.panes import EventTail


class EventsPane(Quiet, EventTail):

    def show(self, msg: EventsAppended) -> None:
        self.add_events(msg.events, initial=msg.initial)
        title = "Events"
        if self.new:
            title += f" · {self.new:,} new"
        if self.failed:
            title += f" · {self.failed} failed"
        self.border_title = title
