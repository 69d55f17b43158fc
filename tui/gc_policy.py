"""When the garbage collector may pause the app: briefly while lane agents stream.

Drawing a streamed reply makes a great deal of short-lived cyclic garbage (Textual's
rendered lines hold caches that refer back to them) and keeps making long-lived objects
(the conversation's widgets, each lane's log). A full collection walks every object not
frozen at start-up, and while agents streamed one came every second or so, at 25-150 ms
each: the longest UI stalls of tests/bench/bench_agents_tui.py. Deferring them only
makes the one that comes later longer. So while an agent runs, what survived a full
collection is frozen right after it (gc.freeze): the next one walks only what was made
since, a few milliseconds. When the first agent starts, what was made since the first
paint (the SDK, which that start imported) is frozen as well.

Frozen objects are never collected, and some die later (a line replaced in a widget's
cache, a conversation taken off the screen): once more than ``THAW_AFTER`` objects were
frozen that way, everything is thawed, collected once and frozen again, when no agent
has run for ``IDLE`` seconds. That one pause walks the whole heap (0.2-0.4 s measured),
so it never comes mid-stream: past ``FREEZE_AT_MOST`` nothing more is frozen until then
(full collections walk everything again, as without this policy), so memory stays
bounded however long agents stream.

While an agent runs the youngest generation is also collected later (``YOUNG``
allocations instead of CPython's 700): a frame allocates some 2,000 tracked objects
(Textual's lines and their caches), nearly all dead by its end, so at 700 a collection
came in the middle of nearly every frame and promoted what was still in use then. In
tests/bench/bench_agents_tui.py this took 2-3 points off the UI thread's CPU and the
longest stalls down with it; at 20,000 the rarer collections were long enough to be
stalls themselves.

Only once the app froze its start-up objects (tui/app.py, after the first paint), which
the app thaws when it exits.
"""

from __future__ import annotations

import gc
from typing import Any

CHECK_EVERY = 0.25      # seconds between looks at the collector while agents run
IDLE = 1.0              # seconds without a running agent before a thaw
THAW_AFTER = 150_000    # objects frozen while streaming before a thaw is due
FREEZE_AT_MOST = 3 * THAW_AFTER   # past this, full collections walk all again until idle
YOUNG = 5000            # allocations between collections of the youngest generation


class StreamingCollector:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._watch: Any = None     # freezes after full collections while agents run
        self._idle: Any = None      # the thaw once idle
        self._full_runs = 0
        self._base: int | None = None   # frozen before streaming froze anything
        self._frozen = 0                # frozen as of the last freeze (counting is O(n))
        self._thresholds: tuple[int, ...] | None = None   # to restore, while raised

    @property
    def frozen_since(self) -> int:
        """Objects frozen while agents streamed, since the last thaw."""
        return 0 if self._base is None else max(0, self._frozen - self._base)

    def agents_running(self, running: bool) -> None:
        """Told on every change of the lane agents' states."""
        if not getattr(self.app, "_gc_frozen", False):
            return
        if running:
            if self._idle is not None:
                self._idle.stop()
                self._idle = None
            if self._base is None:
                # What was made since the first paint lives as long as the app: the SDK
                # above all, which the first agent's start just imported (a full
                # collection walking it mid-stream took 60 ms, measured). Frozen now.
                gc.freeze()
                self._base = self._frozen = gc.get_freeze_count()
            if self._watch is None:
                self._full_runs = _full_collections()
                self._watch = self.app.set_interval(CHECK_EVERY, self.check)
            if self._thresholds is None:
                self._thresholds = gc.get_threshold()
                gc.set_threshold(YOUNG, *self._thresholds[1:])
        else:
            self.stop()
            if self.frozen_since > THAW_AFTER and self._idle is None:
                self._idle = self.app.set_timer(IDLE, self.thaw)

    def check(self) -> None:
        runs = _full_collections()
        if runs != self._full_runs and self.frozen_since <= FREEZE_AT_MOST:
            self._full_runs = runs
            gc.freeze()
            self._frozen = gc.get_freeze_count()

    def thaw(self) -> None:
        self._idle = None
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._base = self._frozen = gc.get_freeze_count()
        self._full_runs = _full_collections()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]
