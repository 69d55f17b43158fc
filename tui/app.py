"""The full-screen app: four live panes over the core (tasks, lanes, events) and the agent.

Threads: core calls run in thread workers that end by posting a Message (tui/messages.py);
the watcher is a daemon thread that reads what changed and posts it too. Widgets are
only touched on the UI thread. ``create_app`` is the one factory the CLI, the tests, the
screenshot script and the benchmarks share.
"""

from __future__ import annotations

import datetime as _dt
import gc
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from textual import on, work
from textual.app import App
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from core.errors import NotFoundError, WorklanesError
from core.lanes import slugify, validate_name
from core.tasks import STATUSES
from core.workspace import Workspace
from tui import format as fmt
from tui import keys
from tui.messages import (ActionDone, ActionFailed, AgentEvent, AgentReady, AgentTurnEnded,
                          AgentUnavailable, AppMessage, ApprovalNeeded, CommandFinished, DiffLoaded,
                          EventsAppended, LanesLoaded, LaneStatusesLoaded, ReconcileDone,
                          TasksLoaded)
from tui.state import BoardCache, LaneReader, current_branch, task_file_count
from tui.watch import Changes, Watcher
from tui.widgets.chat import ChatInput, ChatPane
from tui.widgets.panes import EventTail, KeyBar, Pane, QuickAdd, StatusLine, pane
from tui.widgets.tables import KeyedTable, LaneTable, TaskTable

# Old events shown at startup: enough to fill a zoomed pane on a tall terminal; the tail
# keeps more as new ones arrive. Each one drawn is formatted before the first paint.
INITIAL_TAIL = 150
# Up to this many task files, the state is read on the UI thread before the first frame
# (about 25 ms for 1,000): a reader thread running beside Textual's start-up fights it for
# the GIL and costs more than it saves. Bigger boards load in a worker after a first frame.
FIRST_READ_INLINE_MAX = 3000


def _palette_provider():
    # Imported when the palette first opens: the command machinery is not needed to paint.
    from tui.commands import WorklanesCommands
    return WorklanesCommands


# Keys that act on the selected row. While an action that moves the cursor (creating a
# task or a lane) is still running, they wait for it: typed ahead ("n", a subject,
# Enter, "w"), they must reach the new row, not the one selected before it.
ACTS_ON_SELECTION = frozenset({"task_edit", "task_cycle_status", "task_blockers", "lane_create",
                               "lane_keep", "lane_remove", "lane_diff", "lane_run",
                               "lane_shell"})

# Each pane's bordered widget, and the widget that takes the focus in it.
PANES = {"tasks": "#tasks-pane", "lanes": "#lanes", "events": "#events", "chat": "#chat"}
PANE_WIDGETS = {"tasks": "#tasks", "lanes": "#lanes", "events": "#events", "chat": "#chat"}


@dataclass
class AppOptions:
    clock: Callable[[], float] = time.time
    tz: _dt.tzinfo | None = None                 # None: local time
    model: str | None = None
    base_url: str | None = None
    policy: str | None = None
    agent: bool = True                           # create the agent after the first paint
    keymap: dict[str, str] = field(default_factory=dict)
    user_keymap: bool = True                     # read ~/.config/worklanes/config.toml [keys]
    watch: bool = True
    debounce_ms: int = 50
    step_ms: int = 20
    status_interval: float = 10.0                # lane status and full resync, seconds
    shell_runner: Callable[[Path], int] | None = None
    cursor_blink: bool = True
    max_event_lines: int = 2000
    on_first_paint: Callable[[], None] | None = None  # called once the first full frame is drawn


class MainScreen(Screen):
    BINDINGS = keys.bindings("global")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    def compose(self):
        opts: AppOptions = self.app.options
        # Textual sets the breakpoint class on the first Resize, which restyles every
        # widget after the first layout; with the class already right it changes nothing.
        for name in self._get_breakpoint_classes(self.app.size.width, self.HORIZONTAL_BREAKPOINTS):
            self.add_class(name, update=False)
        yield StatusLine(id="status")
        # A pane is the bordered widget itself; only the board needs a frame around two
        # widgets (the table and, on n, the quick-add). Fewer widgets, sooner first frame.
        with Pane("Tasks", id="tasks-pane"):
            yield TaskTable(id="tasks")
        yield pane(ChatPane(cursor_blink=opts.cursor_blink, id="chat"), "Agent")
        yield pane(LaneTable(id="lanes"), "Lanes")
        yield pane(EventTail(max_lines=opts.max_event_lines, tz=opts.tz, id="events"), "Events")
        yield KeyBar()

    def on_mount(self) -> None:
        self.app.start()


class WorklanesApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "worklanes"
    COMMANDS = App.COMMANDS | {_palette_provider}

    def __init__(self, ws: Workspace, options: AppOptions | None = None) -> None:
        super().__init__()
        self.ws = ws
        self.options = options or AppOptions()
        self.board = BoardCache(ws)
        self.lane_reader = LaneReader(ws)
        self._gens = {"tasks": 0, "lanes": 0}
        self.tasks_by_id: dict[int, dict[str, Any]] = {}
        self.lanes_index: list[dict[str, Any]] = []
        self.statuses: dict[str, Any] = {}
        self.keymap: dict[str, str] = {}
        self.watcher: Watcher | None = None
        self.first_full_paint: float | None = None   # perf_counter() of the first full frame
        self._follower = ws.events.follower(from_end=True)
        self._follow_lock = threading.Lock()
        self._loaded: set[str] = set()
        self._status_running = False
        self._status_again = False
        self._lanes_error = ""
        self._pending_task: int | None = None
        self._pending_lane: str | None = None
        self._cursor_moves: set[Worker] = set()
        self._typed_ahead: list[tuple[str, Any]] = []
        self._run_cancel: threading.Event | None = None
        self._last_command = ""
        from tui.agent_host import AgentHost
        self.agent_host = AgentHost(ws, self.post_message, self.options.model,
                                    self.options.base_url, self.options.policy)
        self._gc_paused = False
        self._gc_frozen = False

    def get_default_screen(self) -> Screen:
        return MainScreen()

    # -- widgets -----------------------------------------------------------------------
    @property
    def task_table(self) -> TaskTable:
        return self.screen_stack[0].query_one("#tasks", TaskTable)

    @property
    def lane_table(self) -> LaneTable:
        return self.screen_stack[0].query_one("#lanes", LaneTable)

    @property
    def event_tail(self) -> EventTail:
        return self.screen_stack[0].query_one("#events", EventTail)

    @property
    def chat(self) -> ChatPane:
        return self.screen_stack[0].query_one("#chat", ChatPane)

    @property
    def status_line(self) -> StatusLine:
        return self.screen_stack[0].query_one("#status", StatusLine)

    def _pane(self, name: str) -> Widget:
        return self.screen_stack[0].query_one(PANES[name])

    # -- startup -----------------------------------------------------------------------
    def start(self) -> None:
        """Called once the main screen is composed."""
        self.keymap = {**(keys.load_user_keymap() if self.options.user_keymap else {}),
                       **self.options.keymap}
        if self.keymap:
            self.set_keymap(self.keymap)
        self.status_line.repo = self.ws.root.name
        # Textual hides its (empty) toast rack a moment after the first frame, by setting
        # an inline style that lays the whole screen out again. Hidden now, it is merged
        # into the first layout.
        for rack in self.screen.query("#textual-toastrack"):
            rack.display = False
        self.task_table.focus()
        first: list[AppMessage] = []
        if task_file_count(self.ws) <= FIRST_READ_INLINE_MAX:
            # Nothing is on screen yet, so this costs no responsiveness, and the data
            # is in the first layout instead of forcing a second one per pane.
            try:
                first = self._first_messages()
            except Exception:
                pass  # read again in the worker, whose failure is reported like any other
        if first:
            for msg in first:
                self._apply(msg)
        else:
            self._pane("tasks").border_title = "Tasks · loading…"
            self._initial_load()
        if self.options.status_interval:
            self.set_interval(self.options.status_interval, self._periodic)

    def _first_messages(self) -> list[AppMessage]:
        """The state the first frame shows, as the messages a live change would bring.
        The follower was placed at the end of the log before the tail is read: an event
        written in between can show up twice, but is never lost."""
        tail = self.ws.events.tail(min(INITIAL_TAIL, self.options.max_event_lines))
        return [EventsAppended(tail, initial=True), self._lanes_message(),
                self._tasks_message(self.board.load_all())]

    def _tasks_message(self, snap: Any) -> TasksLoaded:
        rows, ready = fmt.board_rows(snap.tasks, snap.errors)
        return TasksLoaded(snap.tasks, snap.errors, snap.gen, rows, ready)

    def _lanes_message(self) -> LanesLoaded:
        return LanesLoaded(*self.lane_reader.read())

    def _stale(self, kind: str, gen: int) -> bool:
        """A snapshot read before the one already shown (two threads raced): skip it."""
        if gen and gen < self._gens[kind]:
            return True
        self._gens[kind] = gen
        return False

    def _apply(self, msg: AppMessage) -> None:
        handler = {EventsAppended: self.on_events_appended, LanesLoaded: self.on_lanes_loaded,
                   TasksLoaded: self.on_tasks_loaded}[type(msg)]
        handler(msg)

    @work(thread=True, exit_on_error=False, group="load", description="loading the board")
    def _initial_load(self) -> None:
        for msg in self._first_messages():
            self.post_message(msg)

    def _start_watching(self) -> None:
        if self.options.watch:
            self.watcher = Watcher(self.ws.tasks_dir, self.ws.state_dir, self._on_changes,
                                   self.options.debounce_ms, self.options.step_ms)
            self.watcher.start()

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
        self._resume_gc(freeze=True)
        if not self._exit:
            self._after_first_paint()
        if self.options.on_first_paint is not None:
            self.options.on_first_paint()

    def _after_first_paint(self) -> None:
        # Started now, not before the frame: importing watchfiles on a thread beside the
        # first layout fights it for the GIL. What changed in between is caught up by a
        # full re-read (rows that did not change are not redrawn).
        self._start_watching()
        if self.options.watch:
            self._resync()
        self.request_status_refresh()
        self.chat.input  # noqa: B018 - mounts it, disabled until the agent is ready
        if self.options.agent:
            self._load_agent()
        else:
            self.chat.notice("The agent is off in this window.", "info")
            self.chat.input.placeholder = "Agent off"
            self.status_line.model = "off"

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
        self.request_status_refresh()
        self._resync()

    @work(thread=True, exit_on_error=False, group="resync", exclusive=True,
          description="re-reading the state")
    def _resync(self) -> None:
        """A safety net for changes a file watcher can miss (network file systems,
        a watcher that fell back to polling)."""
        self._on_changes(Changes.everything())

    def request_status_refresh(self) -> None:
        if self._status_running:
            self._status_again = True
            return
        self._status_running = True
        self._load_statuses([dict(lane) for lane in self.lanes_index])

    @work(thread=True, exit_on_error=False, group="status", description="reading lane status")
    def _load_statuses(self, lanes: list[dict[str, Any]]) -> None:
        statuses = self.ws.lanes.statuses(lanes) if lanes else []
        self.post_message(LaneStatusesLoaded(statuses, current_branch(self.ws)))

    # -- drawing (UI thread) ---------------------------------------------------------------
    def on_tasks_loaded(self, msg: TasksLoaded) -> None:
        if self._stale("tasks", msg.gen):
            return
        self.tasks_by_id = {t["id"]: t for t in msg.tasks}
        self.task_table.sync(msg.rows)
        title = f"Tasks {len(msg.tasks)} · {msg.ready} ready"
        if msg.errors:
            title += f" · {len(msg.errors)} corrupt"
        self._pane("tasks").border_title = title
        if self._pending_task is not None and self.task_table.select_key(str(self._pending_task)):
            self._pending_task = None
        self._mark_loaded("tasks")

    def on_lanes_loaded(self, msg: LanesLoaded) -> None:
        if self._stale("lanes", msg.gen):
            return
        if msg.error:
            if msg.error != self._lanes_error:
                self.report_error("reading the lane index", msg.error, logged=True)
            self._lanes_error = msg.error
            self._pane("lanes").border_subtitle = "index.json is corrupt - see the notification"
        else:
            self._lanes_error = ""
            self._pane("lanes").border_subtitle = ""
            old = {lane["name"]: lane.get("status") for lane in self.lanes_index}
            self.lanes_index = msg.lanes
            self._draw_lanes()
            if old != {lane["name"]: lane.get("status") for lane in msg.lanes} \
                    and "lanes" in self._loaded:
                self.request_status_refresh()
        self._mark_loaded("lanes")

    def on_lane_statuses_loaded(self, msg: LaneStatusesLoaded) -> None:
        self._status_running = False
        self.statuses = {st.name: st for st in msg.statuses}
        self.status_line.branch = msg.branch
        self._draw_lanes()
        if self._status_again:
            self._status_again = False
            self.request_status_refresh()

    def _draw_lanes(self) -> None:
        self.lane_table.show(self.lanes_index, self.statuses, self.options.clock())
        kept = sum(1 for lane in self.lanes_index if lane.get("status") == "kept")
        dirty = sum(1 for st in self.statuses.values() if st.dirty)
        self._pane("lanes").border_title = (f"Lanes {len(self.lanes_index)} · {kept} kept"
                                            f" · {dirty} dirty")
        if self._pending_lane is not None and self.lane_table.select_key(self._pending_lane):
            self._pending_lane = None

    def on_events_appended(self, msg: EventsAppended) -> None:
        tail = self.event_tail
        tail.add_events(msg.events, initial=msg.initial)
        title = "Events"
        if tail.new:
            title += f" · {tail.new:,} new"
        if tail.failed:
            title += f" · {tail.failed} failed"
        self._pane("events").border_title = title
        self._mark_loaded("events")

    @on(KeyedTable.RowHighlighted, "#tasks")
    def _follow_task_lane(self, event: KeyedTable.RowHighlighted) -> None:
        lane = self.task_table.lane_of_selected()
        if lane:
            self.lane_table.select_key(lane)

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
        if msg.select_task is not None and not self.task_table.select_key(str(msg.select_task)):
            self._pending_task = msg.select_task
        if msg.select_lane is not None and not self.lane_table.select_key(msg.select_lane):
            self._pending_lane = msg.select_lane
        if msg.refresh_lanes:
            self.request_status_refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker in self._cursor_moves and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            # Its ActionDone (or ActionFailed) was posted before this: the cursor is
            # where the action put it.
            self._cursor_moves.discard(event.worker)
            if event.state != WorkerState.SUCCESS or event.worker.result is False:
                # The row they were typed for never came: acting on the old selection
                # instead could remove or change the wrong thing.
                dropped, self._typed_ahead = len(self._typed_ahead), []
                if dropped:
                    keys = f"{dropped} key" + ("s" if dropped > 1 else "")
                    self.notify(f"Skipped {keys} typed ahead: the action they waited for "
                                "failed", severity="warning")
            elif not self._cursor_moves and self._typed_ahead:
                self.call_later(self._run_typed_ahead)
        if event.state == WorkerState.ERROR:
            err = event.worker.error
            what = event.worker.description or event.worker.name
            if event.worker.group == "status":
                self._status_running = False
            if event.worker.group == "load":
                # The board could not be read: say so, and start the rest of the app
                # anyway (the watcher and the periodic re-read may still bring it).
                for part in ("tasks", "lanes", "events"):
                    self._mark_loaded(part)
            if event.worker.group == "agent":
                self.post_message(AgentTurnEnded(f"{type(err).__name__}: {err}"))
                return
            self.report_error(what, f"{type(err).__name__}: {err}"
                              if not isinstance(err, WorklanesError) else str(err))

    # -- running core calls -------------------------------------------------------------
    def run_core(self, what: str, fn: Callable[[], AppMessage | None],
                 logged: Callable[[Exception], bool] = lambda exc: False,
                 moves_cursor: bool = False) -> None:
        """Run one user action off the UI thread. Expected failures become a
        notification and an event; anything else reaches on_worker_state_changed.
        ``moves_cursor``: keys acting on the selection wait until it is done."""
        worker = self._run_core(what, fn, logged)
        if moves_cursor:
            self._cursor_moves.add(worker)

    async def run_action(self, action: str, default_namespace: Any = None) -> bool:
        if self._cursor_moves and action.split("(")[0].rsplit(".", 1)[-1] in ACTS_ON_SELECTION:
            self._typed_ahead.append((action, default_namespace))
            return True
        return await super().run_action(action, default_namespace)

    async def _run_typed_ahead(self) -> None:
        while self._typed_ahead and not self._cursor_moves:
            action, namespace = self._typed_ahead.pop(0)
            await self.run_action(action, namespace)

    @work(thread=True, exit_on_error=False, group="action")
    def _run_core(self, what: str, fn: Callable[[], AppMessage | None],
                  logged: Callable[[Exception], bool]) -> bool:
        try:
            done = fn()
        except WorklanesError as exc:
            self.post_message(ActionFailed(what, str(exc), logged(exc)))
            return False
        if isinstance(done, ActionDone):
            if done.lanes:
                done.updates.append(self._lanes_message())
            if done.tasks:
                snap = self.board.load_all() if done.tasks is True else self.board.reload(done.tasks)
                done.updates.append(self._tasks_message(snap))
        if done is not None:
            self.post_message(done)
        return True

    def _post_tasks(self, ids: list[int] | None = None) -> None:
        """From a worker: re-read these tasks now, not when the watcher gets to it."""
        snap = self.board.reload(ids) if ids is not None else self.board.load_all()
        self.post_message(self._tasks_message(snap))

    # -- selection ---------------------------------------------------------------------
    def selected_task(self, quiet: bool = False) -> dict[str, Any] | None:
        tid = self.task_table.selected_task_id
        task = self.tasks_by_id.get(tid) if tid is not None else None
        if task is None and not quiet:
            self.notify("Select a task on the board first (n creates one)", severity="warning")
        return task

    def selected_lane(self) -> dict[str, Any] | None:
        """The lane under the lanes cursor; from the board, the selected task's lane."""
        if self.focused is self.task_table:
            task = self.selected_task(quiet=True)
            name = task.get("worktree") if task else ""
            if not name:
                self.notify("The selected task has no lane; w creates one", severity="warning")
                return None
        else:
            name = self.lane_table.selected_key
        lane = next((lane for lane in self.lanes_index if lane["name"] == name), None)
        if lane is None:
            self.notify("Select a lane first (w on a task creates one)", severity="warning")
        return lane

    # -- task actions --------------------------------------------------------------------
    @property
    def quick_add(self) -> QuickAdd:
        """Mounted when first needed: a hidden Input would cost the first paint."""
        pane = self._pane("tasks")
        found = pane.query(QuickAdd)
        if found:
            return found.first()
        quick = QuickAdd(id="quick-add")
        quick.cursor_blink = self.options.cursor_blink
        pane.mount(quick)
        return quick

    def action_task_new(self) -> None:
        self.action_focus_pane_named("tasks")
        quick = self.quick_add
        quick.display = True
        self._focus_now(quick)

    @on(QuickAdd.Submitted, "#quick-add")
    def _quick_add(self, event: QuickAdd.Submitted) -> None:
        event.stop()
        subject = event.value.strip()
        quick = self.quick_add
        quick.value = ""
        quick.display = False
        self._focus_now(self.task_table)
        if not subject:
            return

        def create() -> ActionDone:
            task = self.ws.tasks.create(subject)
            return ActionDone(f"Created task #{task['id']}", select_task=task["id"],
                              refresh_lanes=False, tasks=[task["id"]])
        self.run_core("creating a task", create, moves_cursor=True)

    @on(QuickAdd.Closed)
    def _quick_closed(self) -> None:
        self._focus_now(self.task_table)

    def action_task_edit(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        from tui.screens.dialogs import EditTaskScreen

        def save(changes: dict | None) -> None:
            if not changes:
                return
            tid = task["id"]

            def update() -> ActionDone:
                self.ws.tasks.update(tid, **changes)
                return ActionDone(f"Saved task #{tid}", refresh_lanes=False, tasks=[tid])
            self.run_core(f"editing task #{tid}", update)
        self.push_screen(EditTaskScreen(task), save)

    def action_task_cycle_status(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        tid = task["id"]

        def cycle() -> ActionDone:
            current = self.ws.tasks.get(tid)
            nxt = STATUSES[(STATUSES.index(current["status"]) + 1) % len(STATUSES)] \
                if current["status"] in STATUSES else STATUSES[0]
            updated = self.ws.tasks.update(tid, status=nxt)
            # Completing releases dependents: their files changed too.
            return ActionDone(f"#{tid} is {nxt}", refresh_lanes=False,
                              tasks=[tid, *(updated.get("blocks") or [])])
        self.run_core(f"changing the status of task #{tid}", cycle)

    def action_task_blockers(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        from tui.screens.dialogs import BlockersScreen

        candidates = [t for t in self.tasks_by_id.values()
                      if t["id"] != task["id"] and t.get("status") != "completed"]

        def save(ids: list | None) -> None:
            if ids is None:
                return
            tid = task["id"]

            def apply() -> ActionDone:
                current = set(self.ws.tasks.get(tid).get("blockedBy") or [])
                wanted = set(ids)
                touched = [tid, *(wanted ^ current)]
                try:
                    for b in sorted(wanted - current):
                        self.ws.tasks.block(tid, b)
                    for b in sorted(current - wanted):
                        self.ws.tasks.unblock(tid, b)
                except WorklanesError:
                    self._post_tasks(touched)  # some may have been applied: show them
                    raise
                shown = " ".join(f"#{b}" for b in sorted(wanted)) or "nothing"
                return ActionDone(f"#{tid} is blocked by {shown}", refresh_lanes=False,
                                  tasks=touched)
            self.run_core(f"changing the blockers of task #{tid}", apply)
        self.push_screen(BlockersScreen(task, candidates), save)

    # -- lane actions --------------------------------------------------------------------
    def action_lane_create(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        from tui.screens.dialogs import CreateLaneScreen

        def create(answer: tuple | None) -> None:
            if answer is None:
                return
            name, base = answer
            try:
                validate_name(name)
            except WorklanesError as exc:
                self.report_error("creating a lane", str(exc))
                return
            tid = task["id"]

            def run() -> ActionDone:
                self.ws.lanes.create(name, task_id=tid, base_ref=base)
                return ActionDone(f"Created lane {name} for task #{tid}", select_lane=name,
                                  lanes=True, tasks=[tid])
            # Core writes worktree.create.failed itself.
            self.run_core(f"creating lane {name}", run, logged=lambda exc: True,
                          moves_cursor=True)
        self.push_screen(CreateLaneScreen(task, slugify(task.get("subject", ""))), create)

    def action_lane_keep(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        name = lane["name"]

        def keep() -> ActionDone:
            self.ws.lanes.keep(name)
            return ActionDone(f"Kept lane {name}", refresh_lanes=False, lanes=True)
        self.run_core(f"keeping lane {name}", keep)

    def action_lane_remove(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        from tui.screens.dialogs import RemoveLaneScreen

        name = lane["name"]
        status = self.statuses.get(name)
        task = self.tasks_by_id.get(lane.get("task_id")) if lane.get("task_id") is not None else None

        def remove(answer: tuple | None) -> None:
            if answer is None:
                return
            complete, force = answer

            def run() -> ActionDone:
                entry = self.ws.lanes.remove(name, force=force, complete_task=complete)
                note = f"Removed lane {name}" + (" and completed its task" if complete else "")
                if entry.get("archive_ref"):
                    note += (f"; uncommitted work saved under {entry['archive_ref']} "
                             f"(`worklanes wt restore {name}` brings it back)")
                return ActionDone(note, lanes=True, tasks=True)
            self.run_core(f"removing lane {name}", run,
                          logged=lambda exc: not isinstance(exc, NotFoundError))
        where = os.path.relpath(lane.get("path", ""), self.ws.root)
        self.push_screen(RemoveLaneScreen(lane, where, status.dirty if status else None, task),
                         remove)

    def action_lane_diff(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        name = lane["name"]
        self.run_core(f"diff of lane {name}", lambda: DiffLoaded(name, self.ws.lanes.diff(name)))

    def on_diff_loaded(self, msg: DiffLoaded) -> None:
        from tui.screens.views import DiffScreen

        self.push_screen(DiffScreen(msg.lane, msg.text))

    def action_lane_run(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        from tui.screens.dialogs import CommandScreen
        from tui.screens.views import OutputScreen

        name = lane["name"]

        def run(command: str | None) -> None:
            if not command:
                return
            self._last_command = command
            cancel = threading.Event()
            self._run_cancel = cancel
            self.push_screen(OutputScreen(name, command, cancel))

            def go() -> CommandFinished:
                try:
                    return CommandFinished(name, command,
                                           self.ws.lanes.run(name, command, cancel=cancel))
                except WorklanesError as exc:
                    self.post_message(CommandFinished(name, command, None, str(exc)))
                    raise
            self.run_core(f"running a command in lane {name}", go)
        self.push_screen(CommandScreen(name, self._last_command), run)

    def on_command_finished(self, msg: CommandFinished) -> None:
        from tui.screens.views import OutputScreen

        if isinstance(self.screen, OutputScreen) and self.screen.command == msg.command:
            self.screen.show_result(msg.result, msg.error)
        self.request_status_refresh()

    def action_lane_shell(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        path = Path(lane["path"])
        if not path.is_dir():
            self.report_error(f"opening a shell in lane {lane['name']}",
                              f"{path} is missing; r (reconcile) offers the fix")
            return
        runner = self.options.shell_runner or self._run_shell
        try:
            runner(path)
        except Exception as exc:  # SuspendNotSupported, a shell that does not exist...
            if not _terminal_alive(self):
                self.exit(return_code=1)  # the terminal closed while the shell ran
                return
            self.report_error(f"opening a shell in lane {lane['name']}", str(exc) or type(exc).__name__)
        if not _terminal_alive(self):
            self.exit(return_code=1)
            return
        self.request_status_refresh()

    def _run_shell(self, path: Path) -> int:
        shell = os.environ.get("SHELL") or "/bin/sh"
        with self.suspend():
            print(f"worklanes: a shell in {path}\nworklanes: exit the shell to return to the app",
                  flush=True)
            return subprocess.call([shell], cwd=path)

    def action_reconcile(self) -> None:
        self.run_core("reconciling lanes", lambda: ReconcileDone(self.ws.lanes.reconcile()))

    def on_reconcile_done(self, msg: ReconcileDone) -> None:
        if not msg.findings:
            self.notify("Lane index and git worktrees agree", timeout=3)
            return
        from tui.screens.dialogs import ReconcileScreen

        def fix(yes: bool | None) -> None:
            if yes:
                self.run_core("fixing lanes", apply_fixes)

        def apply_fixes() -> ActionDone:
            findings = self.ws.lanes.reconcile(fix=True)
            fixed = sum(1 for f in findings if f.fixed)
            return ActionDone(f"Reconcile fixed {fixed} of {len(findings)} finding(s)",
                              lanes=True, tasks=True)
        self.push_screen(ReconcileScreen(msg.findings), fix)

    # -- panes -------------------------------------------------------------------------
    def _focus_now(self, widget: Any) -> None:
        # Widget.focus() waits for the next loop turn; keys typed right after "n" or
        # tab (a paste, a fast typist, tmux send-keys) would still go to the old widget.
        self.screen_stack[0].set_focus(widget)

    def _current_pane(self) -> str | None:
        node = self.focused
        while node is not None:
            if node.has_class("pane"):
                return next((name for name, sel in PANES.items() if sel == f"#{node.id}"), None)
            node = node.parent
        return None

    def action_focus_pane(self, delta: int) -> None:
        current = self._current_pane()
        order = list(keys.PANES)
        idx = order.index(current) if current in order else -1
        self.action_focus_pane_named(order[(idx + delta) % len(order)])

    def action_focus_pane_named(self, pane: str) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        if pane == "chat":
            inp = self.chat.input
            self._focus_now(inp if not inp.disabled else self.chat.log_view)
        else:
            self._focus_now(self.screen_stack[0].query_one(PANE_WIDGETS[pane]))

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        else:
            pane = self._current_pane()
            if pane:
                screen.maximize(self._pane(pane), container=False)
        self.refresh_bindings()

    def action_chat_focus(self) -> None:
        if self.chat.input.disabled:
            reason = "a turn is running (esc cancels it)" if self.agent_host.running \
                else "the agent is not available - see the chat pane"
            self.notify(f"Chat input is off: {reason}", severity="warning")
            self.action_focus_pane_named("chat")
            return
        self.action_focus_pane_named("chat")

    def action_help(self) -> None:
        from tui.screens.views import HelpScreen

        self.push_screen(HelpScreen(self.keymap))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "agent_cancel":
            # Shown (and live) only when there is something to cancel.
            return self.agent_host.running or self.screen.maximized is not None
        return True

    def action_agent_cancel(self) -> None:
        if self.agent_host.running:
            self.agent_host.cancel.set()
            self.chat.notice("Cancelling the turn…", "warn")
        elif self.screen.maximized is not None:
            self.screen.minimize()
            self.refresh_bindings()

    # -- the agent -----------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, group="agent-load", description="starting the agent")
    def _load_agent(self) -> None:
        try:
            msg = self.agent_host.load()
        except WorklanesError as exc:
            self.post_message(AgentUnavailable(f"The agent could not start: {exc}"))
            return
        self.post_message(msg)
        if isinstance(msg, AgentReady):
            try:
                self.agent_host.warm_up()
            except Exception:
                pass  # a broken SDK install shows up as an AgentError on the first turn

    async def on_agent_ready(self, msg: AgentReady) -> None:
        self.status_line.model = msg.model
        if msg.usage is not None:
            self.status_line.tokens = (msg.usage.input_tokens + msg.usage.cache_read_input_tokens
                                       + msg.usage.cache_creation_input_tokens,
                                       msg.usage.output_tokens)
        await self.chat.show_history(msg.history)
        inp = self.chat.input
        inp.disabled = False
        inp.placeholder = "Ask the agent… (Enter sends)"

    def on_agent_unavailable(self, msg: AgentUnavailable) -> None:
        self.status_line.model = msg.model or "none"
        self.chat.notice(msg.message, "warn")
        self.chat.notice("Everything else works without it.", "info")
        self.chat.input.placeholder = "Chat is off: set ANTHROPIC_API_KEY and restart"

    @on(ChatInput.Submitted, "#chat-input")
    def _send(self, event: ChatInput.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text or self.agent_host.agent is None or self.agent_host.running:
            return
        event.input.value = ""
        self.chat.add_user(text)
        self.chat.set_running(True)
        self._pane("chat").border_subtitle = "working… esc cancels"
        self.agent_host.running = True
        self.refresh_bindings()
        self._run_turn(text)

    @work(thread=True, exit_on_error=False, group="agent", description="agent turn")
    def _run_turn(self, text: str) -> None:
        error = ""
        try:
            self.agent_host.run_turn(text)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.post_message(AgentTurnEnded(error))

    async def on_agent_event(self, msg: AgentEvent) -> None:
        from core.agent import (AgentError, Retrying, TextDelta, TextWithdrawn, ToolFinished,
                                ToolStarted, TurnFinished)

        ev, chat = msg.event, self.chat
        if isinstance(ev, TextDelta):
            await chat.add_text(ev.text)
        elif isinstance(ev, TextWithdrawn):
            await chat.withdraw_text()
        elif isinstance(ev, ToolStarted):
            await chat.tool_started(ev.tool_use_id, ev.name, ev.input)
        elif isinstance(ev, ToolFinished):
            chat.tool_finished(ev.tool_use_id, ev.name, ev.output, ev.is_error, ev.denied)
        elif isinstance(ev, Retrying):
            chat.notice(f"Retrying ({ev.attempt}/{ev.max_attempts}) in {ev.delay:.1f}s: {ev.reason}",
                        "warn")
        elif isinstance(ev, TurnFinished):
            await chat.end_text()
            u = ev.session_usage
            self.status_line.tokens = (u.input_tokens + u.cache_read_input_tokens
                                       + u.cache_creation_input_tokens, u.output_tokens)
            if ev.stop_reason in ("cancelled", "max_tokens", "max_iterations"):
                chat.notice(f"Turn ended: {ev.stop_reason.replace('_', ' ')}", "warn")
        elif isinstance(ev, AgentError):
            await chat.end_text()
            chat.notice(ev.message, "error")
            self._agent_error(ev.message)

    def _agent_error(self, message: str) -> None:
        self.notify(message, title="Agent error", severity="error", timeout=8)
        try:
            self.ws.events.emit("agent.error", error=message)
        except OSError:
            pass

    async def on_agent_turn_ended(self, msg: AgentTurnEnded) -> None:
        self.agent_host.running = False
        self.refresh_bindings()
        await self.chat.end_text()
        self.chat.set_running(False)
        self._pane("chat").border_subtitle = ""
        if msg.error:
            self.chat.notice(msg.error, "error")
            self._agent_error(msg.error)
        if self.screen is self.screen_stack[0] and self._current_pane() in (None, "chat"):
            self.chat.input.focus()

    def on_approval_needed(self, msg: ApprovalNeeded) -> None:
        from core.agent import Decision
        from tui.screens.dialogs import ApprovalScreen

        self.chat.notice(f"Approval asked: {msg.request.summary}", "warn")

        def answered(decision: Any) -> None:
            decision = decision if isinstance(decision, Decision) else Decision.DENY
            msg.answer.append(decision)
            msg.done.set()
            self.chat.notice({Decision.ALLOW_ONCE: "Allowed once", Decision.ALLOW_SESSION:
                              f"Allowed {msg.request.tool} for this session",
                              Decision.DENY: "Denied"}[decision], "info")
        if self.agent_host.cancel.is_set():
            answered(Decision.DENY)
            return
        self.push_screen(ApprovalScreen(msg.request), answered)

    # -- quitting ------------------------------------------------------------------------
    async def _on_message(self, message: Any) -> None:
        # Past exit (or a shutdown without exit(), as run_test does) the screens are
        # being taken down: what workers and tables still post has nothing to update.
        if (self._exit or not self._running) and isinstance(
                message, (AppMessage, KeyedTable.RowHighlighted)):
            return
        await super()._on_message(message)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self._stop_threads()
        super().exit(*args, **kwargs)

    def _stop_threads(self) -> None:
        """Threads cannot be killed: tell each one to stop, so the interpreter's final
        join of worker threads returns at once, even mid-turn. Also on unmount: a
        shutdown without exit() (run_test, a crash) must not leave the watcher behind."""
        self.agent_host.cancel.set()
        if self._run_cancel is not None:
            self._run_cancel.set()
        if self.watcher is not None:
            self.watcher.stop()


def _terminal_alive(app: App) -> bool:
    """False once our terminal hung up. A window closed while the shell of ``o`` ran
    sends SIGHUP to the shell's process group only; the app must notice and quit rather
    than resume on a dead terminal (where it would spin)."""
    if app.is_headless:
        return True
    try:
        os.tcgetpgrp(sys.__stdin__.fileno())  # EIO (or ENOTTY) once the terminal is gone
        return True
    except (OSError, AttributeError, ValueError):
        return False


def create_app(root: Path, **options: Any) -> WorklanesApp:
    """The one app factory (CLI, tests, screenshots, benchmarks). Raises
    core.errors.NotARepoError outside a git repository."""
    ws = Workspace.open(Path(root))
    return WorklanesApp(ws, AppOptions(**options))


def run_app(cwd: Path | None = None, **options: Any) -> None:
    app = create_app(Path(cwd or os.getcwd()), **options)
    app.run()
