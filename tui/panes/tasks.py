"""The task board pane: the table, the quick-add, and the task keys (n e s b w)."""

from __future__ import annotations

from typing import Any

from textual import on, work

from core.lanes import slugify
from core.tasks import next_status, related_ids
from tui import format as fmt
from tui.panes import Quiet, dialog_flow
from tui.messages import ActionDone, BoardSelected, TasksLoaded
from tui.widgets.panes import Pane, QuickAdd, retitle
from tui.widgets.tables import KeyedTable, TaskTable


class TasksPane(Quiet, Pane):
    """The board. Its table carries the bindings (keys.bindings("tasks")); the app hands
    their actions to this pane."""

    def __init__(self, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__("Tasks", **kwargs)
        self.cursor_blink = cursor_blink
        # Compact (core BoardTask), read like the task's dict; the rest of a task, such as
        # its description, is read from its file when a dialog needs it.
        self.tasks_by_id: dict[int, Any] = {}
        # Only the first rows of a big board are read yet. Not ``loading``: that is
        # Textual's own (Widget.loading), which covered the first rows with a spinner.
        self.partial = False
        self._gen = 0
        self._pending: int | None = None   # a task to select once its row arrives

    def compose(self):
        yield TaskTable(id="tasks")

    @property
    def table(self) -> TaskTable:
        return self.query_one(TaskTable)

    @property
    def ws(self):
        return self.app.ws

    # -- drawing ---------------------------------------------------------------------------
    def show(self, msg: TasksLoaded) -> None:
        if msg.gen and msg.gen < self._gen:
            return  # read before the snapshot already shown (two threads raced)
        self._gen = msg.gen or self._gen
        self.tasks_by_id = msg.by_id or {t["id"]: t for t in msg.tasks}
        self.partial = msg.partial
        self.table.sync(msg.rows)
        if msg.partial:
            # Counts of the rows read so far would be wrong.
            title = "Tasks · loading…"
        else:
            title = f"Tasks {len(msg.tasks)} · {msg.ready} ready"
            if msg.errors:
                title += f" · {len(msg.errors)} corrupt"
        # An empty board says how to start.
        retitle(self, title, "" if msg.tasks or msg.errors else "empty: n adds a task")
        if self._pending is not None and self.table.select_key(str(self._pending)):
            self._pending = None

    def select(self, task_id: int) -> None:
        """Move the cursor to this task, now or as soon as its row arrives."""
        if not self.table.select_key(str(task_id)):
            self._pending = task_id

    @on(KeyedTable.RowHighlighted, "#tasks")
    def _follow(self, event: KeyedTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(BoardSelected(self.table.selected_task_id,
                                        self.table.lane_of_selected()))

    def selected_task(self, quiet: bool = False) -> dict[str, Any] | None:
        tid = self.table.selected_task_id
        task = self.tasks_by_id.get(tid) if tid is not None else None
        if task is None and not quiet:
            key = self.table.selected_key
            if key is not None and tid is None:   # a corrupt file's row (!!)
                self.notify(f"Task file task_{key}.json is corrupt and cannot be changed "
                            f"here: fix or remove .tasks/task_{key}.json", severity="warning")
            else:
                self.notify("Select a task on the board first (n creates one)",
                            severity="warning")
        return task

    # -- n: the quick-add ------------------------------------------------------------------
    @property
    def quick_add(self) -> QuickAdd:
        """Mounted when first needed: a hidden Input would cost the first paint."""
        found = self.query(QuickAdd)
        if found:
            return found.first()
        quick = QuickAdd(id="quick-add")
        quick.cursor_blink = self.cursor_blink
        self.mount(quick)
        return quick

    async def action_task_new(self) -> None:
        self.screen.action_focus_pane_named("tasks")
        if not self.query(QuickAdd):
            # The key runs as it arrives (a priority binding): the keys after it wait for
            # this, so they reach a focused quick-add, not the table.
            quick = QuickAdd(id="quick-add")
            quick.cursor_blink = self.cursor_blink
            await self.mount(quick)
        quick = self.quick_add
        quick.display = True
        self.screen.focus_now(quick)

    @on(QuickAdd.Submitted, "#quick-add")
    def _quick_add(self, event: QuickAdd.Submitted) -> None:
        event.stop()
        subject = event.value.strip()
        quick = self.quick_add
        quick.value = ""
        quick.display = False
        self.screen.focus_now(self.table)
        self.app.release_keys()   # held after Enter (QuickAdd.HOLD_KEYS_AFTER)
        if not subject:
            return

        def create() -> ActionDone:
            task = self.ws.tasks.create(subject)
            return ActionDone(f"Created task #{task['id']}", select_task=task["id"],
                              refresh_lanes=False, tasks=[task["id"]])
        self.app.run_core("creating a task", create, moves_cursor=True)

    @on(QuickAdd.Closed)
    def _quick_closed(self) -> None:
        self.screen.focus_now(self.table)
        self.app.release_keys()

    # -- e s b -----------------------------------------------------------------------------
    def action_task_edit(self) -> None:
        task = self.selected_task()
        if task is not None:
            self._edit(task)

    @dialog_flow("editing a task")
    async def _edit(self, task: Any) -> None:
        import asyncio

        from core.errors import WorklanesError
        from tui.screens.dialogs import EditTaskScreen

        try:   # the whole task, as it is now: the board keeps no descriptions
            task = await asyncio.to_thread(self.ws.tasks.get, task["id"])
        except WorklanesError as exc:
            self.app.report_error(f"editing task #{task['id']}", fmt.ui_message(exc))
            return
        changes = await self.app.push_screen_wait(EditTaskScreen(task))
        if not changes:
            return
        tid = task["id"]

        def update() -> ActionDone:
            self.ws.tasks.update(tid, **changes)
            return ActionDone(f"Saved task #{tid}", refresh_lanes=False, tasks=[tid])
        self.app.run_core(f"editing task #{tid}", update)

    def action_task_cycle_status(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        lane = task.get("worktree") or ""
        if next_status(task.get("status", "")) == "completed" and self.app.live_lane(lane):
            self._confirm_complete(task, lane)
        else:
            self._cycle(task["id"])

    @dialog_flow("completing a task")
    async def _confirm_complete(self, task: dict[str, Any], lane: str) -> None:
        from tui.screens.dialogs import ConfirmScreen

        question = (f"Task #{task['id']} still has lane {lane}. Complete it anyway? The lane "
                    "stays; x on the lane removes it (and can complete the task too).")
        if await self.app.push_screen_wait(ConfirmScreen("Complete task", question, "Complete")):
            self._cycle(task["id"])

    def _cycle(self, tid: int) -> None:
        def cycle() -> ActionDone:
            updated = self.ws.tasks.cycle_status(tid)
            # Completing releases dependents, re-opening blocks them again: their files
            # changed too.
            return ActionDone(f"#{tid} is {updated['status']}", refresh_lanes=False,
                              tasks=[tid, *related_ids(updated)])
        self.app.run_core(f"changing the status of task #{tid}", cycle)

    def action_task_blockers(self) -> None:
        task = self.selected_task()
        if task is not None:
            self._blockers(task)

    @dialog_flow("changing blockers")
    async def _blockers(self, task: dict[str, Any]) -> None:
        from tui.screens.dialogs import BlockersScreen

        candidates = [t for t in self.tasks_by_id.values()
                      if t["id"] != task["id"] and t.get("status") != "completed"]
        # While a big board loads, core alone can say which ids exist (it refuses others).
        known = None if self.partial else set(self.tasks_by_id)
        ids = await self.app.push_screen_wait(BlockersScreen(task, candidates, known))
        if ids is None:
            return
        tid = task["id"]

        def apply() -> ActionDone:
            _, touched = self.ws.tasks.set_blockers(tid, ids)   # all or nothing
            shown = " ".join(f"#{b}" for b in sorted(ids)) or "nothing"
            return ActionDone(f"#{tid} is blocked by {shown}", refresh_lanes=False,
                              tasks=[tid, *touched])
        self.app.run_core(f"changing the blockers of task #{tid}", apply)

    # -- w: a lane for the selected task --------------------------------------------------
    def action_lane_create(self) -> None:
        task = self.selected_task()
        if task is None:
            return
        lane = task.get("worktree") or ""
        if self.app.live_lane(lane):
            # Said before the dialog, not after it: a task has one lane.
            self.notify(f"Task #{task['id']} already has lane {lane}; x removes it first "
                        "(or pick another task)", severity="warning")
            return
        self._create_lane(task)

    @dialog_flow("creating a lane")
    async def _create_lane(self, task: dict[str, Any]) -> None:
        from core.lane_checks import new_lane_problem
        from tui.screens.dialogs import CreateLaneScreen

        ws = self.ws
        answer = await self.app.push_screen_wait(CreateLaneScreen(
            task, slugify(task.get("subject", ""), fallback=f"task-{task['id']}"),
            check=lambda name, base: new_lane_problem(ws, name, base)))
        if answer is None:
            return
        name, base = answer
        tid = task["id"]

        def run() -> ActionDone:
            self.ws.lanes.create(name, task_id=tid, base_ref=base)
            return ActionDone(f"Created lane {name} for task #{tid}", select_lane=name,
                              lanes=True, tasks=[tid])
        # Core writes worktree.create.failed itself.
        self.app.run_core(f"creating lane {name}", run, logged=lambda exc: True,
                          moves_cursor=True)
