"""The lanes pane: the lane table with live status and merge forecast, and the lane keys
(k x d m ! o r).

From the board the lane keys act on the selected task's lane (keys.LANE_KEYS_ON_BOARD)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from textual import work
from textual.worker import Worker, WorkerState

from core import present
from core.errors import NotFoundError, WorklanesError
from tui import format as fmt
from tui.format import ui_message
from tui.panes import Quiet, dialog_flow
from tui.panes.lane_agents import LaneAgentColumn
from tui.panes.merge import MergeFlow
from tui.messages import (ActionDone, CommandFinished, DiffLoaded, LanesChanged, LanesLoaded,
                          LaneStatusesLoaded, OutputArrived, OutputStream, ReconcileDone)
from tui.state import current_branch
from tui.widgets.panes import retitle
from tui.widgets.tables import LaneTable


class LanesPane(Quiet, LaneAgentColumn, MergeFlow, LaneTable):
    def __init__(self, clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.lanes: list[dict[str, Any]] = []     # the index, without removed lanes
        self.statuses: dict[str, Any] = {}        # live git status by lane name
        self.forecasts: dict[str, Any] = {}       # merge forecast by lane name
        self.loaded = False
        self._gen = 0
        self._error = ""
        self._pending: str | None = None
        self._status_running = False
        self._again_all = False                   # refresh requests that came in while
        self._again: set[str] = set()             # one ran: all lanes, or these
        self._last_command = ""
        self.init_agents()

    @property
    def ws(self):
        return self.app.ws

    # -- drawing ---------------------------------------------------------------------------
    def show_index(self, msg: LanesLoaded) -> None:
        if msg.gen and msg.gen < self._gen:
            return
        self._gen = msg.gen or self._gen
        if msg.error:
            if msg.error != self._error:
                self.app.report_error("reading the lane index", msg.error, logged=True)
            self._error = msg.error
            retitle(self, subtitle="index.json is corrupt - see the notification")
        else:
            self._error = ""
            retitle(self, subtitle="")
            old = {lane["name"]: lane.get("status") for lane in self.lanes}
            self.lanes = msg.lanes
            self.read_agents()
            self._draw()
            if old != {lane["name"]: lane.get("status") for lane in msg.lanes} and self.loaded:
                self.request_status_refresh()
        self.loaded = True

    def on_lane_statuses_loaded(self, msg: LaneStatusesLoaded) -> None:
        # Not stopped: the app shows the branch in the header.
        self._status_running = False
        fresh = {st.name: st for st in msg.statuses}
        self.statuses = {**self.statuses, **fresh} if msg.partial else fresh
        self.forecasts = {**self.forecasts, **msg.forecasts} if msg.partial else msg.forecasts
        self._draw()
        if self._again_all or self._again:
            names = None if self._again_all else self._again
            self._again_all, self._again = False, set()
            self.request_status_refresh(names)

    def _draw(self) -> None:
        self.show(self.lanes, self.statuses, self.clock(), self.forecasts, self.agents,
                  self.frame)
        kept = sum(1 for lane in self.lanes if lane.get("status") == "kept")
        dirty = sum(1 for st in self.statuses.values() if st.dirty)
        clash = sum(1 for lane in self.lanes
                    if fmt.merge_mark(lane.get("status", ""), self.forecasts.get(lane["name"]))
                    .startswith("✗"))
        retitle(self, f"Lanes {len(self.lanes)} · {kept} kept · {dirty} dirty"
                + (f" · {clash} conflicting" if clash else ""))
        if self._pending is not None and self.select_key(self._pending):
            self._pending = None

    def select(self, name: str) -> None:
        """Move the cursor to this lane, now or as soon as its row arrives."""
        if not self.select_key(name):
            self._pending = name

    def live(self, name: str) -> bool:
        return bool(name) and any(lane["name"] == name for lane in self.lanes)

    # -- live status -----------------------------------------------------------------------
    def request_status_refresh(self, names: Iterable[str] | None = None) -> None:
        """Re-read the live status of every lane, or only of ``names`` (the lanes whose
        files changed). One read at a time; what is asked meanwhile is merged and read
        next, so a burst of changes costs one more read, not one per change."""
        wanted = None if names is None else set(names)
        if self._status_running:
            if wanted is None:
                self._again_all = True
            else:
                self._again |= wanted
            return
        lanes = [dict(lane) for lane in self.lanes if wanted is None or lane["name"] in wanted]
        if wanted is not None and not lanes:
            return
        self._status_running = True
        self._load_statuses(lanes, wanted is not None)

    @work(thread=True, exit_on_error=False, group="status", description="reading lane status")
    def _load_statuses(self, lanes: list[dict[str, Any]], partial: bool) -> None:
        # One for-each-ref for both; the forecast, cached by (base, lane) commits, runs
        # beside the status calls and costs no git process when nothing moved.
        statuses, forecasts = self.ws.lanes.overview(lanes) if lanes else ([], {})
        self.post_message(LaneStatusesLoaded(statuses, current_branch(self.ws), partial, forecasts))

    def on_lanes_changed(self, msg: LanesChanged) -> None:
        self.request_status_refresh(None if msg.base else msg.names)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Not stopped: the app reports the error.
        if event.worker.group == "status" and event.state == WorkerState.ERROR:
            self._status_running = False

    # -- selection -------------------------------------------------------------------------
    def selected_lane(self) -> dict[str, Any] | None:
        """The lane under the cursor; from the board, the selected task's lane."""
        board = self.app.tasks_pane
        if self.app.focused is board.table:
            task = board.selected_task(quiet=True)
            name = task.get("worktree") if task else ""
            if not name:
                self.notify("The selected task has no lane; w creates one", severity="warning")
                return None
        else:
            name = self.selected_key
        lane = next((lane for lane in self.lanes if lane["name"] == name), None)
        if lane is None:
            self.notify("Select a lane first (w on a task creates one)", severity="warning")
        return lane

    # -- k x d -----------------------------------------------------------------------------
    def action_lane_keep(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        name = lane["name"]
        if lane.get("status") == "kept":   # k again: undo the keep
            def unkeep() -> ActionDone:
                self.ws.lanes.unkeep(name)
                return ActionDone(f"Lane {name} is active again", refresh_lanes=False, lanes=True)
            self.app.run_core(f"un-keeping lane {name}", unkeep)
            return

        def keep() -> ActionDone:
            self.ws.lanes.keep(name)
            return ActionDone(f"Kept lane {name}", refresh_lanes=False, lanes=True)
        self.app.run_core(f"keeping lane {name}", keep)

    def action_lane_remove(self) -> None:
        lane = self.selected_lane()
        if lane is not None:
            self._remove(lane)

    @dialog_flow("removing a lane")
    async def _remove(self, lane: dict[str, Any]) -> None:
        from tui.screens.dialogs import RemoveLaneScreen

        name = lane["name"]
        tid = lane.get("task_id")
        task = self.app.tasks_pane.tasks_by_id.get(tid) if tid is not None else None
        where = os.path.relpath(lane.get("path", ""), self.ws.root)
        # Asked now, not taken from the last refresh: what the dialog offers (Force, what
        # is saved) must match the lane as it is when the user decides.
        try:
            plan = await asyncio.to_thread(self.ws.lanes.removal_plan, name)
        except WorklanesError as exc:
            self.app.report_error(f"removing lane {name}", str(exc))
            return
        answer = await self.app.push_screen_wait(RemoveLaneScreen(lane, where, plan, task))
        if answer is None:
            return
        complete, force = answer

        def run() -> ActionDone:
            entry = self.ws.lanes.remove(name, force=force, complete_task=complete)
            return ActionDone(present.removal_note(present.Removal.of(entry, complete)),
                              lanes=True, tasks=True)
        self.app.run_core(f"removing lane {name}", run,
                          logged=lambda exc: not isinstance(exc, NotFoundError))

    def action_lane_diff(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        name = lane["name"]
        self.app.run_core(f"diff of lane {name}",
                          lambda: DiffLoaded(name, self.ws.lanes.diff_stream(name)), reply_to=self)

    def on_diff_loaded(self, msg: DiffLoaded) -> None:
        from tui.screens.views import DiffScreen

        self.app.push_screen(DiffScreen(msg.lane, msg.stream))

    def _output_view(self, name: str) -> Any:
        from tui.screens.views import OutputScreen

        screen = self.app.screen
        return screen if isinstance(screen, OutputScreen) and screen.lane == name \
            and not screen.done else None

    def on_output_arrived(self, msg: OutputArrived) -> None:
        text = msg.stream.take()
        view = self._output_view(msg.lane)
        if view is not None and text:
            view.append(text)

    def report_recovered(self) -> None:
        """Say what opening the workspace finished or rolled back of operations (create,
        remove, restore, merge) a killed process left behind."""
        done = self.ws.recovered
        if done:
            self.notify(f"Recovered {len(done)} interrupted operation(s): " + "; ".join(done),
                        timeout=10)

    # -- ! o: commands and a shell ---------------------------------------------------------
    def action_lane_run(self) -> None:
        lane = self.selected_lane()
        if lane is not None:
            self._run(lane["name"])

    @dialog_flow("running a command")
    async def _run(self, name: str) -> None:
        from tui.screens.dialogs import CommandScreen
        from tui.screens.views import OutputScreen

        command = await self.app.push_screen_wait(CommandScreen(name, self._last_command))
        if not command:
            return
        self._last_command = command
        cancel = self.app.command_cancel = threading.Event()
        self.app.push_screen(OutputScreen(name, command, cancel))
        # Streamed as it runs (one message a frame at most), as lazygit and k9s do.
        stream = OutputStream(lambda: self.post_message(OutputArrived(name, stream)))

        def go() -> CommandFinished:
            try:
                return CommandFinished(name, command, self.ws.lanes.run(
                    name, command, cancel=cancel, on_output=stream.write))
            except WorklanesError as exc:
                self.post_message(CommandFinished(name, command, None, ui_message(exc)))
                raise
        self.app.run_core(f"running a command in lane {name}", go, reply_to=self)

    def on_command_finished(self, msg: CommandFinished) -> None:
        from tui.screens.views import OutputScreen

        screen = self.app.screen
        if isinstance(screen, OutputScreen) and screen.command == msg.command:
            screen.show_result(msg.result, msg.error, streamed=True)
        self.request_status_refresh()

    def action_lane_shell(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        path = Path(lane["path"])
        what = f"opening a shell in lane {lane['name']}"
        if not path.is_dir():
            self.app.report_error(what, f"{path} is missing; r (reconcile) offers the fix")
            return
        runner = self.app.options.shell_runner or self._run_shell
        try:
            runner(path)
        except Exception as exc:  # SuspendNotSupported, a shell that does not exist...
            if terminal_alive(self.app):
                self.app.report_error(what, str(exc) or type(exc).__name__)
        if not terminal_alive(self.app):
            self.app.exit(return_code=1)  # the terminal closed while the shell ran
            return
        self.request_status_refresh()

    def _run_shell(self, path: Path) -> int:
        shell, note = choose_shell(os.environ.get("SHELL", ""))
        with self.app.suspend():
            if note:
                print(f"worklanes: {note}", flush=True)
            print(f"worklanes: a shell in {path}\nworklanes: exit the shell to return to the app",
                  flush=True)
            return subprocess.call([shell], cwd=path)

    # -- r ---------------------------------------------------------------------------------
    def action_reconcile(self) -> None:
        self.app.run_core("reconciling lanes", lambda: ReconcileDone(self.ws.lanes.reconcile()),
                          reply_to=self)

    def on_reconcile_done(self, msg: ReconcileDone) -> None:
        if not msg.findings:
            self.notify("Lane index and git worktrees agree", timeout=3)
            return
        self._offer_fixes(msg.findings)

    @dialog_flow("reconciling lanes")
    async def _offer_fixes(self, findings: list[Any]) -> None:
        from tui.screens.dialogs import ReconcileScreen

        if not await self.app.push_screen_wait(ReconcileScreen(findings)):
            return

        def apply_fixes() -> ActionDone:
            found = self.ws.lanes.reconcile(fix=True)
            fixed = sum(1 for f in found if f.fixed)
            return ActionDone(f"Reconcile fixed {fixed} of {len(found)} finding(s)",
                              lanes=True, tasks=True)
        self.app.run_core("fixing lanes", apply_fixes)


FALLBACK_SHELL = "/bin/sh"


def choose_shell(wanted: str) -> tuple[str, str]:
    """The shell ``o`` starts, and a note when it is not $SHELL. Checked before the app
    suspends: a $SHELL that cannot start must not leave the terminal handed over."""
    if wanted:
        found = shutil.which(wanted)
        if found:
            return found, ""
        return FALLBACK_SHELL, f"$SHELL ({wanted}) cannot be started; using {FALLBACK_SHELL}"
    return FALLBACK_SHELL, ""


def terminal_alive(app: Any) -> bool:
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
