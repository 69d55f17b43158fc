"""The four panes. Each is a widget that owns its keys' actions (tui/keys.py names the
owner), draws what the app's loaders hand it, and runs core calls through the app's
``run_core``. Panes talk to each other by Messages (tui/messages.py) through the app."""

from tui.compat import QuietAfterExit
from tui.messages import AppMessage
from tui.widgets.tables import KeyedTable


class Quiet(QuietAfterExit):
    """What a pane is still sent while the app quits has nothing left to draw on."""
    QUIET_AFTER_EXIT = (AppMessage, KeyedTable.RowHighlighted)
