"""Every use of a private Textual name, in one place (textual is pinned in pyproject.toml).

Each use says why no public API serves. tests/test_compat.py checks each one against the
installed Textual and fails naming the use, so an upgrade that breaks one says which.
Nothing else in the project may touch a Textual name that starts with an underscore.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.app import App
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Log

# The toast rack's id. Textual hides its (empty) rack a moment after the first frame by
# setting an inline style, which lays the whole screen out again; hidden before the first
# layout, the change is merged into it. No public API names or hides the rack.
TOAST_RACK_ID = "textual-toastrack"


def hide_toast_rack(screen: Screen) -> None:
    for rack in screen.query(f"#{TOAST_RACK_ID}"):
        rack.display = False


class QuietAfterExit:
    """Mixed into the app and the panes: drops their own messages once the app quits.

    Past exit (or a shutdown without exit(), as run_test does) the screens are being taken
    down: what workers and tables still post has nothing left to update, and a handler
    would fail on a widget already gone. ``check_message_enabled`` (public) only filters
    at post time, not the messages already queued; ``_on_message`` is the one hook on the
    way from the queue to the handlers."""

    QUIET_AFTER_EXIT: tuple[type, ...] = ()

    async def _on_message(self, message: Any) -> None:
        app = self.app  # type: ignore[attr-defined]
        if (app.return_code is not None or not app.is_running) \
                and isinstance(message, self.QUIET_AFTER_EXIT):
            return
        await super()._on_message(message)  # type: ignore[misc]


class LogWithoutMeasureThread(Log):
    """A Log that measures its new lines' width on the spot.

    Log measures every write in a new thread worker (``_update_size``) whose answer lays
    the whole screen out again one frame later, the first paint included. A pane that
    never scrolls sideways (overflow-x: hidden) can use a cheap upper bound, set now.
    Log has no public option for this; ``_width`` is the width it keeps."""

    def _update_size(self, updates: int, lines: list[str]) -> None:
        width = max(map(len, lines), default=0)
        if width > self._width:
            self._width = width
            self.virtual_size = Size(width, self.line_count)


def render_screen_text(app: App) -> str:
    """What the terminal shows, as plain text: the app's SVG screenshot without its
    styles. ``export_screenshot`` (public) renders the same way but only to SVG; this is
    its body with a plain console (for tests and scripts, never the running app)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system=None, record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


def notifications(app: App) -> list[Any]:
    """The notifications the app holds now (shown or waiting). App offers ``notify`` and
    ``clear_notifications`` but no way to read them; tests and the screenshot script ask."""
    return list(app._notifications)


def write_to_terminal(app: App, text: str) -> None:
    """Write an escape sequence (a desktop notification, OSC 9 / OSC 777) to the terminal
    beside the app's output. ``App.bell`` writes "\\a" the same way but has no public
    sibling for other sequences; ``_driver`` is the one writer of the terminal."""
    driver = app._driver
    if driver is not None and not app.is_headless:
        driver.write(text)
