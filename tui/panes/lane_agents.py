"""The lanes pane's lane-agent part: each lane's agent state (a spinner while it runs)
and the keys that start agents: ``a`` (start, resume or show the selected one's) and
``A`` (dispatch every ready task). Mixed into tui/panes/lanes.py's LanesPane."""

from __future__ import annotations

from typing import Any

from textual import work

from core.agent.lane_state import agent_state
from core.errors import WorklanesError
from tui.messages import ActionDone, DispatchEnded

SPIN_EVERY = 0.15    # seconds between spinner frames while an agent runs
# ``a`` on a lane in these states starts a turn (resuming the conversation); in the
# others it shows the agent (type in the chat to send it a follow-up).
STARTS = (None, "idle", "interrupted", "cancelled")


class LaneAgentColumn:
    """Needs the pane's ``lanes`` (index entries) and ``_draw``."""

    lanes: list[dict[str, Any]]

    def init_agents(self) -> None:
        self.agents: dict[str, dict[str, Any]] = {}    # lane -> its agent record, as it stands
        self._live: dict[str, dict[str, Any]] = {}     # records of this process's agents
        self.frame = 0
        self._spinner: Any = None

    def read_agents(self) -> None:
        """After a new index: this process's agents as they told us (newer than any
        index read can be), the others' from the index (a dead process: interrupted)."""
        agents = {}
        for lane in self.lanes:
            record = self._live.get(lane["name"]) or agent_state(lane)
            if record is not None:
                agents[lane["name"]] = record
        # An agent of another process (worklanes dispatch, a second window) moved on: the
        # conversation this app read of it is old - a call it showed running may have
        # finished, or been cut off by that process dying. Read it again when shown.
        moved = [name for name, record in agents.items()
                 if name not in self._live and self.agents.get(name, record) != record]
        self.agents = agents
        self._spin()
        for name in moved:
            self.app.lane_host.forget(name)
            if self.app.chat.shown_lane == name:
                self.app.chat.lane_view.show(name)

    def agent_changed(self, lane: str, record: dict[str, Any]) -> None:
        self._live[lane] = record
        if any(entry["name"] == lane for entry in self.lanes):
            self.agents[lane] = record
            self._draw()
        self._spin()

    def has_agent(self, lane: str | None) -> bool:
        return bool(lane) and (lane in self.agents
                               or self.app.lane_host.existing_log(lane) is not None)

    def agent_counts(self) -> tuple[int, int, int, int]:
        states = [r.get("state") for r in self.agents.values()]
        from tui.format import agent_tokens

        return (len(states), states.count("running"), states.count("waiting"),
                sum(agent_tokens(r) for r in self.agents.values()))

    def _spin(self) -> None:
        running = any(r.get("state") == "running" for r in self.agents.values())
        if running and self._spinner is None:
            self._spinner = self.set_interval(SPIN_EVERY, self._next_frame)
        elif not running and self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _next_frame(self) -> None:
        self.frame += 1
        self._draw()

    # -- a, A ------------------------------------------------------------------------------
    def action_agent_start(self) -> None:
        app = self.app
        board = app.tasks_pane
        task_id = None
        if app.focused is board.table:
            task = board.selected_task()
            if task is None:
                return
            lane = task.get("worktree") or ""
            if not self.live(lane):
                task_id, lane = task["id"], ""
        else:
            entry = self.selected_lane()
            if entry is None:
                return
            lane = entry["name"]
        state = (self.agents.get(lane) or {}).get("state") if lane else None
        if lane and state not in STARTS:
            app.chat.show_lane(lane)
            app.main.action_focus_pane_named("chat")
            return
        host = app.lane_host

        def start() -> ActionDone:
            runner = host.ensure()
            run = runner.start_task(task_id) if task_id is not None else runner.start(lane)
            what = "Resumed" if state in ("interrupted", "cancelled") else "Started"
            return ActionDone(f"{what} the agent of lane {run.lane}", select_lane=run.lane,
                              lanes=True, tasks=task_id is not None)
        app.run_core("starting a lane agent", start, moves_cursor=True)

    def action_agent_dispatch(self) -> None:
        host = self.app.lane_host
        if host.dispatcher is not None:
            self.notify("Dispatch is running already; its agents show in the lanes pane",
                        timeout=4)
            return
        self._dispatch()

    @work(thread=True, exit_on_error=False, group="dispatch", description="dispatching tasks")
    def _dispatch(self) -> None:
        from core.dispatch import Dispatcher

        host = self.app.lane_host
        try:
            dispatcher = host.dispatcher = Dispatcher(host.ensure())
            if host.stopped:
                return
            result = dispatcher.run()
        except WorklanesError as exc:
            self.post_message(DispatchEnded(None, str(exc)))
            return
        finally:
            host.dispatcher = None
        self.post_message(DispatchEnded(result))
