"""What the lane agents report to the app (tui/lane_host.py posts these from their
threads): states into the lanes pane and the header, approvals as a toast and the queue
(never a modal of their own accord; J lists them), dispatch results, alerts. Mixed into
the app."""

from __future__ import annotations

from tui.messages import (ApprovalsChanged, DispatchEnded, LaneAgentChanged, LaneAgentNote,
                          LaneReplyStarted)


class LaneAgentEvents:
    """Needs the app's ``lane_table``, ``chat``, ``status_line``, ``alert``, ``notify``
    and ``report_error``."""

    def on_lane_agent_changed(self, msg: LaneAgentChanged) -> None:
        from core.agent.lane_state import LIVE_STATES

        before = (self.lane_table.agents.get(msg.lane) or {}).get("state")
        self.lane_table.agent_changed(msg.lane, msg.record)
        self._count_agents()
        if msg.lane == self.lane_table.selected_key and msg.state in LIVE_STATES \
                and before not in LIVE_STATES:
            # A turn starts on the selected lane: show it. Not on every later change,
            # which would undo a B pressed meanwhile.
            self.chat.follow(msg.lane, True)
        if msg.lane == self.chat.shown_lane:
            self.chat.sync_input()
        if msg.state in ("done", "failed"):
            error = msg.record.get("error")
            self.alert(f"worklanes: lane {msg.lane}",
                       f"agent {msg.state}" + (f": {error}" if error else ""))

    def on_lane_agent_note(self, msg: LaneAgentNote) -> None:
        from core.agent.lane_agent import ApprovalAsked
        from core.dispatch import Dispatched, NotStarted
        from core.safe_text import visible

        ev = msg.event
        if isinstance(ev, ApprovalAsked):
            # A toast and the queue, never a modal: the user may be typing elsewhere.
            self.notify(f"Lane {msg.lane} asks: {visible(ev.request.summary)} "
                        "(j answers, J lists all waiting)",
                        title="Waiting for you", severity="warning", timeout=6)
            self.alert(f"worklanes: lane {msg.lane}", f"asks to run {ev.request.tool}")
        elif isinstance(ev, Dispatched):
            made = " (new lane)" if ev.created else ""
            self.notify(f"Dispatched task #{ev.task_id} to lane {msg.lane}{made}", timeout=3)
        elif isinstance(ev, NotStarted):
            self.notify(f"Not started: {ev.reason}", severity="warning", timeout=5)

    def on_lane_reply_started(self, msg: LaneReplyStarted) -> None:
        self.lane_host.reply_started(msg.lane)

    def on_approvals_changed(self, msg: ApprovalsChanged) -> None:
        self.refresh_bindings()
        for screen in self.screen_stack:   # the queue, if it is open (under a toast, say)
            changed = getattr(screen, "approvals_changed", None)
            if changed is not None:
                changed()

    # -- J: the queue ----------------------------------------------------------------------
    def action_agent_queue(self) -> None:
        from tui.screens.approvals import ApprovalQueueScreen

        if isinstance(self.screen, ApprovalQueueScreen):
            return
        # Keys typed right after J are for the queue (y, n...), not for the pane under it:
        # they wait until it has the focus (Dialog.on_screen_resume lets them go).
        self.dialog_opening(True)
        self.push_screen(ApprovalQueueScreen(self.lane_host.queue), self._queue_closed)

    def _queue_closed(self, lane: str | None) -> None:
        if lane is None:
            return
        # Enter on a row: that agent's chat, where its work and its question show. The
        # focus goes to its lane, not into the chat: while the agent's turn runs, the chat
        # keeps what is typed there for its input, and j (answer) must stay a key.
        self.main.action_focus_pane_named("lanes")
        self.lane_table.select(lane)
        self.chat.show_lane(lane)

    def on_dispatch_ended(self, msg: DispatchEnded) -> None:
        if msg.error:
            self.report_error("dispatching ready tasks", msg.error)
            return
        result = msg.result
        if result is None or result.stopped:
            return
        ok = sum(1 for r in result.runs.values() if r.ok)
        if not result.runs:
            self.notify("Dispatch: no task was ready", timeout=4)
        else:
            self.notify(f"Dispatch done: {ok} of {len(result.runs)} agent(s) finished well",
                        severity="information" if ok == len(result.runs) else "warning",
                        timeout=6)

    def on_unmount(self) -> None:
        # Textual calls each class's own handler along the MRO: this runs beside the app's.
        for policy in getattr(self, "_streaming_policies", ()):
            policy.stop()

    def _count_agents(self) -> None:
        counts = self.lane_table.agent_counts()
        self.status_line.agents = counts
        policies = getattr(self, "_streaming_policies", None)
        if policies is None:
            # What the interpreter does differently while agents stream: when it collects
            # garbage, and how long a thread keeps the lock.
            from tui.gc_policy import StreamingCollector
            from tui.gil_policy import SwitchInterval

            policies = self._streaming_policies = (StreamingCollector(self), SwitchInterval())
        for policy in policies:
            policy.agents_running(counts[1] + counts[2] > 0)   # running or waiting
