"""Watch the state folders for changes made by anyone: this app, the CLI, another
window, the seed script.

Only ``.tasks/`` and ``.worktrees/`` are watched, and not recursively: a lane's own
files (a build, node_modules) must never flood the app with events. watchfiles'
default debounce is 1.6 s; here a change is reported ~20 ms after the writes stop and
never later than 50 ms after the first one, which keeps an appended event on screen
well within 100 ms.

The watcher is a daemon thread, so a stuck file system can never keep the app from
quitting, and the callback (which does the reading) runs in it, off the UI thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.paths import EVENTS_FILE, INDEX_FILE, is_scratch
from core.tasks import task_file_id


@dataclass
class Changes:
    task_ids: set[int] = field(default_factory=set)
    all_tasks: bool = False
    index: bool = False
    events: bool = False

    def __bool__(self) -> bool:
        return bool(self.task_ids or self.all_tasks or self.index or self.events)

    @classmethod
    def everything(cls) -> "Changes":
        return cls(all_tasks=True, index=True, events=True)


def classify(raw: set[tuple[object, str]], tasks_dir: Path, state_dir: Path) -> Changes:
    out = Changes()
    for _change, path_str in raw:
        path = Path(path_str)
        if path == tasks_dir:
            out.all_tasks = True
            continue
        if path == state_dir:
            out.index = out.events = True
            continue
        parent, name = path.parent, path.name
        if parent == tasks_dir:
            tid = task_file_id(path)
            if tid is not None:
                out.task_ids.add(tid)
        elif parent == state_dir:
            if name == EVENTS_FILE:
                out.events = True
            elif name == INDEX_FILE:
                out.index = True
            elif not is_scratch(name):
                out.index = True  # a lane directory came or went
    return out


class Watcher:
    def __init__(self, tasks_dir: Path, state_dir: Path, on_changes: Callable[[Changes], None],
                 debounce_ms: int = 50, step_ms: int = 20, force_polling: bool | None = None):
        self.tasks_dir = Path(tasks_dir).resolve()
        self.state_dir = Path(state_dir).resolve()
        self.on_changes = on_changes
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.force_polling = force_polling
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="worklanes-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        from watchfiles import watch  # imported here: not needed for the first paint

        polling = self.force_polling
        while not self._stop.is_set():
            try:
                for raw in watch(self.tasks_dir, self.state_dir, watch_filter=None,
                                 debounce=self.debounce_ms, step=self.step_ms,
                                 stop_event=self._stop, rust_timeout=500,
                                 raise_interrupt=False, recursive=False,
                                 force_polling=polling, poll_delay_ms=200):
                    changes = classify(raw, self.tasks_dir, self.state_dir)
                    if changes:
                        self.on_changes(changes)
                return
            except Exception as exc:  # inotify limits, a folder removed by hand...
                self.error = f"file watching failed ({exc}); polling instead"
                if polling:
                    # Even polling failed (the folders are gone?): wait and retry.
                    if self._stop.wait(1.0):
                        return
                polling = True
                self.on_changes(Changes.everything())
