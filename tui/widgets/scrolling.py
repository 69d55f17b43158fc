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


def _bars(widget: Widget, size: Size) -> tuple[bool, bool]:
    """The scrollbars (horizontal, vertical) Textual shows for a range of ``size``: each
    axis by its overflow, and an "auto" one also when the other's bar narrows the room."""
    width, height = widget.container_size
    styles: Any = widget.styles
    ox, oy = styles.overflow_x, styles.overflow_y
    show_h = ox == "scroll" or (ox == "auto" and size.width > width)
    show_v = oy == "scroll" or (oy == "auto" and size.height > height)
    if ox == "auto" and show_v and not show_h:
        show_h = size.width > width - styles.scrollbar_size_vertical
    if oy == "auto" and show_h and not show_v:
        show_v = size.height > height - styles.scrollbar_size_horizontal
    return show_h, show_v


def scrollbars_may_change(widget: Widget, old: Size, new: Size) -> bool:
    """Whether a range going from ``old`` to ``new`` may show or hide a scrollbar (or
    nothing is laid out yet, or the bars shown are not the ones the range asks for)."""
    width, height = widget.container_size
    if not (width and height):
        return True
    shown = (widget.show_horizontal_scrollbar, widget.show_vertical_scrollbar)
    return not (_bars(widget, old) == _bars(widget, new) == shown)


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
