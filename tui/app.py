"""The app is the frame: start-up, the loading and watch workers, running core calls,
error reporting and the screen. The panes (tui/panes/) own their keys and actions.

Threads: core calls run in thread workers that end by posting a Message (tui/messages.py);
the watcher is a daemon thread that reads what changed and posts it too. Widgets are
only touched on the UI thread. ``create_app`` is the one factory the CLI, the tests, the
screenshot script and the benchmarks share.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import threading
import time
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import work
from textual.app import App
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from core.errors import WorklanesError
from core.plain import record
from core.workspace import Workspace
from tui import format as fmt
from tui import keys
from tui.actions import ActionRunner
from tui.app_agents import LaneAgentEvents
from tui.compat import QuietAfterExit, hide_toast_rack, split_partial_updates, write_to_terminal
from tui.live import LiveUpdates
from tui.messages import (ActionDone, ActionFailed, AppMessage, BoardSelected, EventsAppended,
                          LanesLoaded, LaneStatusesLoaded, TasksLoaded, TokensUsed)
from tui.state import BoardCache, LaneReader
from tui.widgets.panes import retitle
from tui.widgets.tables import KeyedTable

if TYPE_CHECKING:
    from tui.notify import Notifier
    from tui.watch import Watcher

# Quitting waits this long for the lane agents to notice their cancel and record it
# (each notices within 50 ms); one that does not reads "interrupted" when reopened.
AGENTS_STOP_WAIT = 5.0
# Old events shown at startup: enough to fill a zoomed pane on a tall terminal; the tail
# keeps more as new ones arrive. Each one drawn is formatted before the first paint.
INITIAL_TAIL = 150
# The state the first frame shows is read on the UI thread before it: a reader thread
# running beside Textual's start-up fights it for the GIL and costs more than it saves.
# Of the board that is the rows the screen can show (and the blockers they name); the
# rest loads in a worker after the first frame. A board whose first files are not
# there to open in turn (a small one, or one with gaps) is listed instead, and read
# whole when the listing finds it this small (about 5 ms), sparing it the second pass.
FIRST_READ_INLINE_MAX = 200


def _palette_provider():
    # Imported when the palette first opens: the command machinery is not needed to paint.
    from tui.commands import WorklanesCommands
    return WorklanesCommands


@record
class AppOptions:
    clock: Callable[[], float] = time.time
    tz: _dt.tzinfo | None = None                 # None: local time
    model: str | None = None
    base_url: str | None = None
    policy: str | None = None
    agent: bool = True                           # create the agent after the first paint
    keymap: dict[str, str] = field(default_factory=dict)
    user_keymap: bool = True                     # read ~/.config/worklanes/config.toml [keys]
    watch: bool = True                           # the state folders and the lanes' files
    debounce_ms: int = 50
    step_ms: int = 20
    lane_debounce_ms: int = 80                   # a burst of lane writes is one refresh
    status_interval: float = 120.0               # safety pass: every lane, full resync
    polled_interval: float = 10.0                # lanes the file-watch budget left out
    shell_runner: Callable[[Path], int] | None = None
    cursor_blink: bool = True
    max_event_lines: int = 2000
    on_first_paint: Callable[[], None] | None = None  # called as the first full frame is drawn
    alert_sink: Callable[[str], None] | None = None   # where bell / OSC 9 / OSC 777 go (the terminal)


class WorklanesApp(QuietAfterExit, ActionRunner, LiveUpdates, LaneAgentEvents, App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "worklanes"
    # Only the app's own commands: Textual's system ones add a second zoom ("Maximize"),
    # a second quit and theme switching, listed beside the key table's.
    COMMANDS = {_palette_provider}
    QUIET_AFTER_EXIT = (AppMessage, KeyedTable.RowHighlighted)

    def __init__(self, ws: Workspace, options: AppOptions | None = None) -> None:
        super().__init__()
        self.ws = ws
        self.options = options or AppOptions()
        self.board = BoardCache(ws)
        self.lane_reader = LaneReader(ws)
        self.keymap: dict[str, str] = {}
        self.watcher: Watcher | None = None
        self.lane_watcher: Any = None                # core.lane_watch.LaneWatcher
        self.first_full_paint: float | None = None   # perf_counter() of the first full frame
        self._follower = ws.events.follower(from_end=True)
        self._follow_lock = threading.Lock()
        self._loaded: set[str] = set()
        self.command_cancel: threading.Event | None = None   # of the command ! runs now
        from tui.agent_host import AgentHost
        from tui.lane_host import LaneHost
        self.lane_host = LaneHost(ws, self.post_message, self.options.model,
                                  self.options.base_url, self.options.policy)
        self.agent_host = AgentHost(ws, self.post_message, self.options.model,
                                    self.options.base_url, self.options.policy)
        self.agent_host.lane_host = self.lane_host
        self._alert: Notifier | None = None
        self._gc_paused = False
        self._gc_frozen = False
        self._lane_note_shown = False

    @property
    def alert(self) -> Notifier:
        """Bell and desktop notifications (tui/notify.py), made when first used: most
        sessions never ring, and the first paint does not wait for the module."""
        if self._alert is None:
            from tui.notify import Notifier
            self._alert = Notifier(self.ws.root, self.options.alert_sink
                                   or (lambda text: write_to_terminal(self, text)),
                                   lambda problem: self.report_error("reading [notify]", problem))
        return self._alert

    def get_default_screen(self) -> Screen:
        from tui.screens.main import MainScreen
        return MainScreen()

    # -- the panes -------------------------------------------------------------------------
    @property
    def main(self) -> Any:
        """The main screen (under any dialog)."""
        return self.screen_stack[0]

    @property
    def tasks_pane(self) -> Any:
        return self.main.query_one("#tasks-pane")

    @property
    def task_table(self) -> Any:
        return self.tasks_pane.table

    @property
    def lane_table(self) -> Any:
        return self.main.query_one("#lanes")

    @property
    def event_tail(self) -> Any:
        return self.main.query_one("#events")

    @property
    def chat(self) -> Any:
        return self.main.query_one("#chat")

    @property
    def status_line(self) -> Any:
        return self.main.query_one("#status")

    def live_lane(self, name: str) -> bool:
        """Whether a lane of this name is in the index (active or kept)."""
        return self.lane_table.live(name)

    # -- startup -----------------------------------------------------------------------
    def start(self) -> None:
        """Called once the main screen is composed."""
        user = keys.read_user_keymap() if self.options.user_keymap else None
        if user is not None and user.problems:
            # Once, at start-up: `worklanes config check` says the same on a terminal.
            self.notify("\n".join(user.problems), title="Key remapping", severity="warning",
                        timeout=12)
        self.keymap = {**(user.keymap if user is not None else {}), **self.options.keymap}
        if self.keymap:
            self.set_keymap(self.keymap)
        self.status_line.repo = self.ws.root.name
        hide_toast_rack(self.screen)   # one layout fewer (tui/compat.py)
        split_partial_updates()        # a spinner and the chat: two crops, not the screen
        self.task_table.focus()
        try:
            first = self._first_messages()
        except Exception:
            first = []  # read again in the worker, whose failure is reported like any other
        if first:
            for msg in first:
                self._apply(msg)
        else:
            retitle(self.tasks_pane, "Tasks · loading…")
            self._initial_load()
        if self.options.status_interval:
            self.set_interval(self.options.status_interval, self._periodic)

    def _first_messages(self) -> list[AppMessage]:
        """The state the first frame shows, as the messages a live change would bring.
        The follower was placed at the end of the log before the tail is read: an event
        written in between can show up twice, but is never lost."""
        tail = self.ws.events.tail(min(INITIAL_TAIL, self.options.max_event_lines))
        # No more rows than the terminal has lines: the pane cannot show more.
        first = self.board.load_first(self.size.height, whole=FIRST_READ_INLINE_MAX)
        return [EventsAppended(tail, initial=True), self._lanes_message(),
                self._tasks_message(first)]

    def _tasks_message(self, snap: Any) -> TasksLoaded:
        rows, ready = fmt.board_rows(snap.tasks, snap.errors, snap.blockers)
        return TasksLoaded(list(snap.tasks.values()), list(snap.errors.values()), snap.gen,
                           rows, ready, snap.partial, snap.tasks)

    def _lanes_message(self) -> LanesLoaded:
        return LanesLoaded(*self.lane_reader.read())

    def _apply(self, msg: AppMessage) -> None:
        """Hand what a loader read to the pane that shows it."""
        if isinstance(msg, TasksLoaded):
            self.tasks_pane.show(msg)
            self._mark_loaded("tasks")
        elif isinstance(msg, LanesLoaded):
            self.lane_table.show_index(msg)
            self._count_agents()
            self._mark_loaded("lanes")
            self._watch_lanes()
        elif isinstance(msg, EventsAppended):
            self.event_tail.show(msg)
            self._mark_loaded("events")

    on_tasks_loaded = on_lanes_loaded = on_events_appended = _apply

    @work(thread=True, exit_on_error=False, group="load", description="loading the board")
    def _initial_load(self) -> None:
        for msg in self._first_messages():
            self.post_message(msg)

    def _mark_loaded(self, part: str) -> None:
        if part in self._loaded:
            return
        self._loaded.add(part)
        if self._loaded >= {"tasks", "lanes", "events"}:
            self.call_after_refresh(self._first_paint_done)

    def on_load(self) -> None:
        # Start-up allocates a great many long-lived objects (Textual's styles, the
        # board), and the collector would walk all of them at least once on the way to
        # the first frame (a 25 ms full collection, measured). Collection resumes right
        # after the first paint, or on exit.
        self._gc_paused = gc.isenabled()
        gc.disable()

    def _resume_gc(self, freeze: bool = False) -> None:
        if self._gc_paused:
            self._gc_paused = False
            if freeze:
                # What start-up built lives as long as the app; frozen, later full
                # collections skip it instead of walking it all (a 35 ms stall,
                # measured, in the middle of an event burst). Thawed on exit.
                gc.freeze()
                self._gc_frozen = True
            gc.enable()

    def on_unmount(self) -> None:
        self._stop_threads()
        self._resume_gc()  # an app that never painted (a test, an early exit)
        if self._gc_frozen:
            self._gc_frozen = False
            gc.unfreeze()

    def _first_paint_done(self) -> None:
        self.first_full_paint = time.perf_counter()
        # Told at the frame: what starts after it (the watchers, the workers, the agent;
        # 15-20 ms on this thread) is not part of it.
        if self.options.on_first_paint is not None:
            self.options.on_first_paint()
        self._resume_gc(freeze=True)
        if self.return_code is None:   # not quitting already
            self._after_first_paint()

    def _after_first_paint(self) -> None:
        # Started now, not before the frame: importing watchfiles on a thread beside the
        # first layout fights it for the GIL. What changed in between is caught up by a
        # full re-read (rows that did not change are not redrawn).
        self.event_tail.backfill()
        self._start_watching()
        if self.options.watch or self.board.partial:
            self._resync()   # with the rest of a big board
        self.lane_table.request_status_refresh()
        self.lane_table.report_recovered()
        self.chat.start(self.options.agent)

    # -- between panes -----------------------------------------------------------------
    def on_board_selected(self, msg: BoardSelected) -> None:
        if msg.lane:
            self.lane_table.select_key(msg.lane)   # the lanes cursor follows the board
        self.chat.follow(msg.lane, self.lane_table.has_agent(msg.lane))

    def on_keyed_table_row_highlighted(self, msg: KeyedTable.RowHighlighted) -> None:
        if msg.table is self.lane_table and msg.key:
            self.chat.follow(msg.key, self.lane_table.has_agent(msg.key))

    def on_lane_statuses_loaded(self, msg: LaneStatusesLoaded) -> None:
        self.status_line.branch = msg.branch

    def on_tokens_used(self, msg: TokensUsed) -> None:
        if msg.model is not None:
            self.status_line.model = msg.model
        if msg.tokens is not None:
            self.status_line.tokens = msg.tokens

    # -- errors ------------------------------------------------------------------------
    def report_error(self, what: str, error: str, logged: bool = False) -> None:
        """One place for every failure: a notification, and an event unless core
        already wrote one (lane create/remove log their own *.failed)."""
        self.notify(f"{what}: {error}", title="Failed", severity="error", timeout=8)
        if not logged:
            try:
                self.ws.events.emit("ui.error", error=error, what=what)
            except OSError:
                pass

    def on_action_failed(self, msg: ActionFailed) -> None:
        self.report_error(msg.what, msg.error, msg.logged)

    def on_action_done(self, msg: ActionDone) -> None:
        for update in msg.updates:
            self._apply(update)
        if msg.note:
            self.notify(msg.note, timeout=3)
        if msg.select_task is not None:
            self.tasks_pane.select(msg.select_task)
        if msg.select_lane is not None:
            self.lane_table.select(msg.select_lane)
        if msg.refresh_lanes:
            self.lane_table.request_status_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.release_typed_ahead(event)
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            what = event.worker.description or event.worker.name
            if event.worker.group == "load":
                # The board could not be read: say so, and start the rest of the app
                # anyway (the watcher and the periodic re-read may still bring it).
                for part in ("tasks", "lanes", "events"):
                    self._mark_loaded(part)
            self.report_error(what, f"{type(err).__name__}: {err}"
                              if not isinstance(err, WorklanesError) else fmt.ui_message(err))

    # -- quitting --------------------------------------------------------------------------
    def exit(self, *args: Any, **kwargs: Any) -> None:
        self._stop_threads()
        super().exit(*args, **kwargs)

    def _stop_threads(self) -> None:
        """Threads cannot be killed: tell each one to stop, so the interpreter's final
        join of worker threads returns at once, even mid-turn. Also on unmount: a
        shutdown without exit() (run_test, a crash) must not leave the watcher behind."""
        self.agent_host.cancel.set()
        self.lane_host.stop()
        self.lane_host.wait(AGENTS_STOP_WAIT)
        if self.command_cancel is not None:
            self.command_cancel.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.lane_watcher is not None:
            self.lane_watcher.stop()


def create_app(root: Path, **options: Any) -> WorklanesApp:
    """The one app factory (CLI, tests, screenshots, benchmarks). Raises
    core.errors.NotARepoError outside a git repository."""
    ws = Workspace.open(Path(root))
    return WorklanesApp(ws, AppOptions(**options))


def run_app(cwd: Path | None = None, **options: Any) -> None:
    app = create_app(Path(cwd or os.getcwd()), **options)
    app.run()
