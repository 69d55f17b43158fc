"""The four panes. Each is a widget that owns its keys' actions (tui/keys.py names the
owner), draws what the app's loaders hand it, and runs core calls through the app's
``run_core``. Panes talk to each other by Messages (tui/messages.py) through the app."""

import functools
from typing import Any, Callable

from textual import work

from tui.compat import QuietAfterExit
from tui.messages import AppMessage
from tui.widgets.tables import KeyedTable


class Quiet(QuietAfterExit):
    """What a pane is still sent while the app quits has nothing left to draw on."""
    QUIET_AFTER_EXIT = (AppMessage, KeyedTable.RowHighlighted)


def dialog_flow(description: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A dialog flow: a worker that awaits its dialogs (push_screen_wait). Keys typed
    right after the key that started it are held until its dialog has the focus
    (tui/actions.py), so they land in the dialog, in order."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        worker = work(group="dialog", exit_on_error=False, description=description)(fn)

        @functools.wraps(fn)
        def start(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.app.dialog_opening(True)
            return worker(self, *args, **kwargs)
        return start
    return wrap
