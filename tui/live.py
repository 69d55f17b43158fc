"""The app's live updates, a room of their own: the state-folder watcher (tasks, the
index, the event log), the lane watcher (the lanes' own files), and the slow safety pass
behind both. Mixed into the app; the watchers' threads only read and post Messages."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from tui.messages import EventsAppended, LanesChanged

if TYPE_CHECKING:
    # Imported when watching starts, after the first paint (as core.lane_watch is).
    from tui.watch import Changes


class LiveUpdates:
    """Needs the app's ``ws``, ``options``, ``board``, ``lane_table``, ``watcher``,
    ``lane_watcher``, ``_follower``/``_follow_lock`` and the message makers."""

    def _start_watching(self) -> None:
        if self.options.watch:
            from tui.watch import Watcher
            self.watcher = Watcher(self.ws.tasks_dir, self.ws.state_dir, self._on_changes,
                                   self.options.debounce_ms, self.options.step_ms)
            self.watcher.start()
            from core.lane_watch import LaneWatcher
            self.lane_watcher = LaneWatcher(
                self.ws.common_dir, lambda names, base: self.post_message(LanesChanged(names, base)),
                debounce_ms=self.options.lane_debounce_ms, step_ms=self.options.step_ms * 2)
            self._watch_lanes()
            self.lane_watcher.start()
            if self.options.polled_interval:
                self.set_interval(self.options.polled_interval, self._refresh_polled)

    def _watch_lanes(self) -> None:
        if self.lane_watcher is not None:
            self.lane_watcher.set_lanes((lane["name"], Path(lane["path"]))
                                        for lane in self.lane_table.lanes if lane.get("path"))

    def _refresh_polled(self) -> None:
        """Lanes past the file-watch budget are refreshed on a timer instead."""
        watcher = self.lane_watcher
        if watcher is not None and watcher.polled:
            self.lane_table.request_status_refresh(watcher.polled)

    # -- live updates (watcher thread) ---------------------------------------------------
    def _on_changes(self, changes: Changes) -> None:
        """Runs in the watcher thread: read what changed, post it. Events first: their
        latency is the one people notice."""
        if changes.events:
            self._poll_events()
        if changes.all_tasks:
            self.post_message(self._tasks_message(self.board.load_all()))
        elif changes.task_ids:
            self.post_message(self._tasks_message(self.board.reload(changes.task_ids)))
        if changes.index:
            self.post_message(self._lanes_message())

    def _poll_events(self) -> None:
        with self._follow_lock:
            events = self._follower.poll()
        if events:
            self.post_message(EventsAppended(events))

    def _periodic(self) -> None:
        self.lane_table.request_status_refresh()
        self._resync()

    @work(thread=True, exit_on_error=False, group="resync", exclusive=True,
          description="re-reading the state")
    def _resync(self) -> None:
        """A safety net for changes a file watcher can miss (network file systems,
        a watcher that fell back to polling)."""
        from tui.watch import Changes
        self._on_changes(Changes.everything())

    def on_lanes_changed(self, msg: LanesChanged) -> None:
        self.lane_table.on_lanes_changed(msg)
        watcher = self.lane_watcher
        if watcher is not None and watcher.plan.notes and not self._lane_note_shown:
            self._lane_note_shown = True
            self.notify(watcher.plan.notes[0], severity="warning", timeout=10)
