"""How long a thread may keep the interpreter lock while lane agents stream.

The app's UI thread is the one thread whose work must not be cut up: a frame costs it
5-30 ms of CPU. The agents' threads are the opposite: each holds the lock for well under
a millisecond per token and gives it back at every socket read. At CPython's default
switch interval (5 ms) a thread waiting for the lock takes it from the UI thread every
5 ms, and the UI thread then waits its turn behind the other threads to get it back:
with 8 agents streaming, frames took twice their CPU time in wall time
(tests/bench/bench_agents_tui.py), and that was the longest stall. While an agent runs,
the interval is ``STREAMING`` instead, so a frame finishes before it is asked to yield
(measured: frames' wall time came down to their CPU time, 8.5 ms against 22 ms on
average), and the default comes back once none runs and when the app exits (the setting
belongs to the whole process).

The price: a background thread doing CPU work while an agent runs keeps the lock up to
``STREAMING`` before the UI thread gets it, so it is the UI's stall target (50 ms), not
more. 20 ms did no better than 5 in the benchmark's runs.
"""

from __future__ import annotations

import sys

STREAMING = 0.05   # seconds; a background thread doing CPU work keeps the lock this long


class SwitchInterval:
    def __init__(self) -> None:
        self._default: float | None = None   # the interval to restore, while raised

    def agents_running(self, running: bool) -> None:
        """Told on every change of the lane agents' states."""
        if running and self._default is None:
            self._default = sys.getswitchinterval()
            sys.setswitchinterval(STREAMING)
        elif not running and self._default is not None:
            sys.setswitchinterval(self._default)
            self._default = None

    def stop(self) -> None:
        self.agents_running(False)
