"""Helpers for driving the app headless: tests, the screenshot script, the benchmarks.
Not shipped: they live with the tests, and read Textual internals only through
tui/compat.py."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Callable

from tui import compat


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (the SVG screenshot without the styles)."""
    return compat.render_screen_text(app)


def notes(app: Any) -> str:
    """The app's notifications so far, one per line."""
    return "\n".join(str(n.message) for n in compat.notifications(app))


async def wait_for(pilot: Any, condition: Callable[[], Any], timeout: float = 10.0,
                   what: str = "") -> Any:
    """Let the app run until ``condition()`` is truthy: no fixed sleeps in the tests."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.02)


async def settle(pilot: Any, app: Any, timeout: float = 10.0) -> None:
    """Wait until the first full paint and every running worker is done."""
    await wait_for(pilot, lambda: app.first_full_paint is not None, timeout, "first paint")
    deadline = time.monotonic() + timeout
    while any(w.is_running for w in app.workers if w.group not in ("agent", "agent-load")):
        if time.monotonic() > deadline:
            raise AssertionError("workers did not finish")
        await asyncio.sleep(0.02)
    await pilot.pause()


FIXED_EPOCH = 1_700_000_000


def fixed_options(**overrides: Any) -> dict[str, Any]:
    """App options for reproducible runs: a fixed clock and UTC, no cursor blink, no
    user keymap, no periodic refresh, and no agent unless asked for."""
    import datetime

    options: dict[str, Any] = dict(agent=False, clock=lambda: FIXED_EPOCH + 3600,
                                   tz=datetime.timezone.utc, cursor_blink=False,
                                   user_keymap=False, status_interval=0)
    options.update(overrides)
    return options


@contextlib.asynccontextmanager
async def running(root: Any, size: tuple[int, int] = (120, 36), message_hook: Any = None,
                  **overrides: Any):
    """The app on ``root`` with ``fixed_options(**overrides)``, settled after its
    first full paint: ``async with running(repo) as (pilot, app): ...``."""
    from tui.app import create_app

    app = create_app(root, **fixed_options(**overrides))
    async with app.run_test(size=size, message_hook=message_hook) as pilot:
        await settle(pilot, app)
        yield pilot, app
