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
from textual.reactive import Reactive
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

    # Each write sets Log's range (``virtual_size``), and Widget's reactive asks for a
    # layout of the whole screen when it changes: a layout for every event written. Here
    # the range lays the screen out only when a scrollbar may come or go
    # (tui/widgets/scrolling.py). Log assigns the range in its own write_lines, so the
    # reactive itself is declared again, without the layout.
    virtual_size = Reactive(Size(0, 0), layout=False, repaint=False)

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        from tui.widgets.scrolling import range_changed, scrollbars_may_change

        if scrollbars_may_change(self, old, new):
            self.refresh(layout=True)
        else:
            range_changed(self, new)


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


# -- partial screen updates: render what changed, not the whole screen -------------------------
# For a partial update Textual renders every widget on the screen in full (it picks the
# widgets whose clip, the screen, meets the update's crop), over the bounding box of
# everything dirty: a spinner in the lanes pane and a reply streaming into the chat made
# each frame render every line of every widget between them. Here dirty regions far
# apart get a crop each, and a widget renders only its rows inside a crop it meets. What
# is written to the terminal is Textual's, less cursor moves that nothing follows
# (tests/test_compat.py compares them).
# Compositor has no public hook for this; it uses ``render_partial_update``,
# ``_get_renders``, ``_dirty_regions``, ``_regions_to_spans``, ``_render_chops``, ``cuts``.
def _clusters(regions: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Regions grouped so that a group's bounding box is not much larger than what it
    covers (one crop over two far-apart regions renders everything between them)."""
    from textual.geometry import Region

    groups = [(r, [r]) for r in regions]
    merged = True
    while merged and len(groups) > 1:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                (a, ra), (b, rb) = groups[i], groups[j]
                box = Region.from_union([a, b])
                if a.overlaps(b) or box.area <= 1.5 * (a.area + b.area):
                    groups[i] = (box, ra + rb)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def render_partial_update_split(compositor: Any) -> Any:
    """What ``Compositor.render_partial_update`` returns, rendered one crop a group."""
    from textual._compositor import ChopsUpdate
    from textual.geometry import Region

    regions = [r for r in compositor._dirty_regions if r]
    compositor._dirty_regions.clear()
    if not regions:
        return None
    screen = compositor.size.region
    groups = _clusters(regions) if len(regions) > 1 else [(regions[0], regions)]
    if len(groups) > 6:   # scattered all over: one crop, as Textual does
        groups = [(Region.from_union(regions), regions)]
    cuts = compositor.cuts
    chop_ends = [cut_set[1:] for cut_set in cuts]
    if len(groups) == 1:
        box = groups[0][0]
        spans = list(compositor._regions_to_spans(regions))
        lines = {y for y, _, _ in spans}
        return ChopsUpdate(compositor._render_chops(box.intersection(screen), lines.__contains__),
                           spans, chop_ends)
    chops: list[dict[int, Any]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    for box, members in groups:
        crop = box.intersection(screen)
        if not crop:
            continue
        lines = {y for y, _, _ in compositor._regions_to_spans(members)}
        part = compositor._render_chops(crop, lines.__contains__)
        left, right = crop.x, crop.right
        for y in lines:
            line, got, ends = chops[y], part[y], chop_ends[y]
            # Only chops that meet this crop are right: one outside it was filled by
            # whatever lies under the crop, not by what covers that chop.
            for end, (x, strip) in zip(ends, got.items()):
                if strip is not None and x < right and end > left and line[x] is None:
                    line[x] = strip
    return ChopsUpdate(chops, list(compositor._regions_to_spans(regions)), chop_ends)


def get_renders_cropped(compositor: Any, crop: Any = None) -> Any:
    """``Compositor._get_renders``, each widget rendering only its rows inside ``crop``
    (the whole of what is visible of it when there is no crop)."""
    from textual.geometry import Region

    for widget, (region, clip) in compositor.visible_widgets.items():
        shown = region.intersection(clip)
        if crop is not None:
            rows = shown.intersection(crop)
            if not rows:
                continue
            shown = Region(shown.x, rows.y, shown.width, rows.height)
        if shown:
            # (shown, shown): _render_chops places the strips at their intersection.
            yield shown, shown, widget.render_lines(shown.translate((-region.x, -region.y)))


_ORIGINAL: dict[str, Any] = {}


def split_partial_updates() -> None:
    """Install the two above in Textual's compositor (once, for the whole process)."""
    from textual._compositor import Compositor

    if not _ORIGINAL:
        _ORIGINAL["render_partial_update"] = Compositor.render_partial_update
        _ORIGINAL["_get_renders"] = Compositor._get_renders
        Compositor.render_partial_update = render_partial_update_split  # type: ignore[method-assign]
        Compositor._get_renders = get_renders_cropped  # type: ignore[method-assign]


def textual_partial_update(compositor: Any) -> Any:
    """Textual's own partial update (what the two above must write the same as)."""
    mine = type(compositor)._get_renders
    type(compositor)._get_renders = _ORIGINAL["_get_renders"]
    try:
        return _ORIGINAL["render_partial_update"](compositor)
    finally:
        type(compositor)._get_renders = mine


class LayoutCounter:
    """How many times a screen was laid out (tests): ``Screen._refresh_layout`` is the
    one place every layout goes through; nothing public tells."""

    def __init__(self, screen: Screen) -> None:
        self.count = 0
        original = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]
