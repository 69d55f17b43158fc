"""The merge key of the lanes pane (m): plan in a worker, confirm in a dialog flow, run
the check with its output streamed, report. A mixin of LanesPane, which owns the lane
selection, the output view and the status refresh."""

from __future__ import annotations

import threading
from typing import Any

from core import present
from core.errors import NotFoundError, WorklanesError
from tui.messages import ActionDone, MergeFinished, MergePlanned, OutputArrived, OutputStream
from tui.panes import dialog_flow


class MergeFlow:
    def action_lane_merge(self) -> None:
        lane = self.selected_lane()
        if lane is None:
            return
        from core.merge import plan_merge

        name = lane["name"]
        self.app.dialog_opening(True)  # keys typed after m wait for the dialog, not the plan
        self.app.run_core(f"planning the merge of lane {name}",
                          lambda: MergePlanned(plan_merge(self.ws, name)), reply_to=self)

    def on_merge_planned(self, msg: MergePlanned) -> None:
        self._merge(msg.plan)

    @dialog_flow("merging a lane")
    async def _merge(self, plan: Any) -> None:
        from core.merge import merge_lane
        from tui.screens.merge import MergeLaneScreen
        from tui.screens.views import OutputScreen

        answer = await self.app.push_screen_wait(MergeLaneScreen(plan))
        if answer is None:
            return
        strategy, check, remove = answer
        name = plan.lane["name"]
        cancel = threading.Event()
        on_output = None
        if check and plan.check:
            # The check can take minutes: its output streams into a view where Esc
            # cancels it (the merge is then refused, nothing changed).
            self.app.command_cancel = cancel
            self.app.push_screen(OutputScreen(name, plan.check, cancel,
                                              f"{name}: check before merging into {plan.base}"))
            stream = OutputStream(lambda: self.post_message(OutputArrived(name, stream)))
            on_output = stream.write

        def go() -> ActionDone:
            try:
                res = merge_lane(self.ws, name, strategy, check=check, remove=remove,
                                 on_output=on_output, cancel=cancel)
            except WorklanesError as exc:
                self.post_message(MergeFinished(name, None, str(exc)))
                raise
            self.post_message(MergeFinished(name, res))
            note = present.merge_note(res)
            if res.removed:
                note += f"; removed the lane and deleted {res.lane.get('branch')}"
            elif res.remove_error:
                note += f"; removing the lane failed: {res.remove_error}"
            return ActionDone(note, lanes=True, tasks=True)
        self.app.run_core(f"merging lane {name}", go, reply_to=self,
                          logged=lambda exc: not isinstance(exc, NotFoundError))

    def on_merge_finished(self, msg: MergeFinished) -> None:
        view = self._output_view(msg.lane)
        if view is not None:
            if msg.result is None:
                view.finish("merge refused", True, msg.error)
            else:
                view.finish("check passed, merged", False, present.merge_note(msg.result))
        self.request_status_refresh()
