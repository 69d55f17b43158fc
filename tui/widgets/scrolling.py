"""Growing what a scrolling widget holds without laying the whole screen out again.

Assigning ``virtual_size`` asks Textual for a layout of the screen (every widget placed
and drawn again: tens of milliseconds with the four panes), though a scroll range that
grows or shrinks only changes which scrollbars show when it crosses the widget's size.
While it does not cross it, the range is set on the widget and its scrollbars alone.
"""

from __future__ import annotations

from typing import Any

from textual.geometry import Size
from textual.widget import Widget


def _same_side(old: int, new: int, *limits: int) -> bool:
    return all((old > limit) == (new > limit) for limit in limits)


def scrollbars_may_change(widget: Widget, old: Size, new: Size) -> bool:
    """Whether a range going from ``old`` to ``new`` may show or hide a scrollbar: it
    crosses one of the sizes Textual compares a range with (or nothing is laid out yet)."""
    width, height = widget.container_size
    styles: Any = widget.styles
    return not (width and height) or not (
        _same_side(old.width, new.width, width, width - styles.scrollbar_size_vertical)
        and _same_side(old.height, new.height, height, height - styles.scrollbar_size_horizontal))


def range_changed(widget: Widget, size: Size) -> None:
    """What a layout would do for a new range that shows and hides no scrollbar: the
    scrollbars' thumbs, the view kept inside the range, a repaint."""
    width, height = widget.container_size
    if widget.show_vertical_scrollbar:
        bar = widget.vertical_scrollbar
        bar.window_virtual_size, bar.window_size = size.height, height
    if widget.show_horizontal_scrollbar:
        bar = widget.horizontal_scrollbar
        bar.window_virtual_size, bar.window_size = size.width, width
    if widget.scroll_y > widget.max_scroll_y:
        widget.scroll_y = widget.scroll_target_y = widget.max_scroll_y
    if widget.scroll_x > widget.max_scroll_x:
        widget.scroll_x = widget.scroll_target_x = widget.max_scroll_x
    widget.refresh()


def set_virtual_size(widget: Widget, size: Size) -> None:
    """``widget.virtual_size = size``, with a layout only when a scrollbar may come or go."""
    old = widget.virtual_size
    if old == size:
        return
    if scrollbars_may_change(widget, old, size):
        widget.virtual_size = size
        return
    widget.set_reactive(Widget.virtual_size, size)
    range_changed(widget, size)
