"""How the app runs a user's action: one thread worker a core call, and the keys that
act on the selection held back ("typed ahead") while an action that moves the cursor is
still running. Also where every key, click and palette entry is delivered to the owner
of its action (tui/keys.py)."""

from __future__ import annotations

from typing import Any, Callable

from textual import events, work
from textual.actions import parse as parse_action
from textual.message_pump import MessagePump
from textual.worker import Worker, WorkerState

from core.errors import WorklanesError
from tui import format as fmt
from tui import keys
from tui.messages import ActionDone, ActionFailed, AppMessage

# Keys that act on the selected row. While an action that moves the cursor (creating a
# task or a lane) is still running, they wait for it: typed ahead ("n", a subject,
# Enter, "w"), they must reach the new row, not the one selected before it.
ACTS_ON_SELECTION = frozenset({"task_edit", "task_cycle_status", "task_blockers", "lane_create",
                               "lane_keep", "lane_remove", "lane_diff", "lane_run",
                               "lane_shell", "lane_merge", "agent_start"})



class ActionRunner:
    """Mixed into the app (it needs ``main``, ``board``, the loaders' messages)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cursor_moves: set[Worker] = set()
        self._typed_ahead: list[tuple[str, Any]] = []
        self._hold_for: set[str] = set()      # why keys wait for the one before them
        self._held: list[events.Key] = []
        self._hold_gen = 0

    # -- keys typed before the widget they are for is ready --------------------------------
    # Textual hands a key to the focused widget as it arrives but runs its binding only
    # when it comes back up, so in a burst the keys after a bound one are handled first:
    # after "n" the subject reaches the table, not the quick-add; after 40 backspaces the
    # retyped name is typed before them and wiped. Here a key with a binding holds the
    # keys after it, as they arrive, until its action has run; a dialog flow's key holds
    # them until its dialog has the focus; a widget's HOLD_KEYS_AFTER key (Enter in the
    # quick-add) until the widget says it is done. Then they go on, in order.
    def hold_keys(self, reason: str) -> None:
        self._hold_for.add(reason)
        self._hold_gen += 1
        gen = self._hold_gen
        # A safety net only: a key that never reaches its binding (a widget took it) or a
        # dialog that never shows must not keep the keyboard held.
        self.set_timer(2.0, lambda: self._release_stuck(gen))

    def release_keys(self, reason: str = "widget") -> None:
        self._hold_for.discard(reason)
        if self._held and not self._hold_for:
            self.call_later(self._replay_keys)   # on the app's queue: after what it holds

    def dialog_opening(self, opening: bool) -> None:
        """A dialog flow started (keys wait for its dialog), or its dialog is up."""
        if opening:
            self.hold_keys("dialog")
        else:
            self.release_keys("dialog")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._hold_for or self._held:
                self._held.append(event)
                return
            await self._deliver(event)
            return
        await super().on_event(event)  # type: ignore[misc]

    async def _deliver(self, event: events.Key) -> None:
        if event.key in getattr(self.focused, "HOLD_KEYS_AFTER", ()):
            reason = "widget"
        elif event.key in self.screen.active_bindings:
            reason = "binding"
        else:
            reason = ""
        await super().on_event(event)  # type: ignore[misc]
        if reason:
            self.hold_keys(reason)

    def _release_stuck(self, gen: int) -> None:
        if gen == self._hold_gen and self._hold_for:
            self._hold_for.clear()
            self.release_keys()

    async def _replay_keys(self) -> None:
        while self._held and not self._hold_for:
            await self._deliver(self._held.pop(0))

    def run_core(self, what: str, fn: Callable[[], AppMessage | None],
                 logged: Callable[[Exception], bool] = lambda exc: False,
                 moves_cursor: bool = False, reply_to: MessagePump | None = None) -> None:
        """Run one user action off the UI thread. Expected failures become a
        notification and an event; anything else reaches on_worker_state_changed.
        ``moves_cursor``: keys acting on the selection wait until it is done.
        ``reply_to``: the pane that gets ``fn``'s message (an ActionDone always comes
        here, before the worker's end, which typed-ahead keys wait for)."""
        worker = self._run_core(what, fn, logged, reply_to)
        if moves_cursor:
            self._cursor_moves.add(worker)

    async def run_action(self, action: Any, default_namespace: Any = None,
                         namespaces: Any = None) -> bool:
        """Every key, click and palette entry comes through here: an action of the key
        table goes to its owner (keys.owner_of), wherever its binding sits."""
        destination, name, params = parse_action(action) if isinstance(action, str) else action
        if self._cursor_moves and name in ACTS_ON_SELECTION:
            # The keys after it still wait: for its dialog, once it runs.
            self._typed_ahead.append((action, default_namespace))
            return True
        owner = None if destination else keys.owner_of(name)
        if owner is not None:
            main = self.main
            default_namespace = self if owner == "app" else main if owner == "screen" \
                else main.pane(owner)
        try:
            return await super().run_action(action, default_namespace, namespaces)
        finally:
            self.release_keys("binding")

    async def _run_typed_ahead(self) -> None:
        while self._typed_ahead and not self._cursor_moves:
            action, namespace = self._typed_ahead.pop(0)
            await self.run_action(action, namespace)

    @work(thread=True, exit_on_error=False, group="action")
    def _run_core(self, what: str, fn: Callable[[], AppMessage | None],
                  logged: Callable[[Exception], bool], reply_to: MessagePump | None) -> bool:
        try:
            done = fn()
        except WorklanesError as exc:
            self.post_message(ActionFailed(what, fmt.ui_message(exc), logged(exc)))
            return False
        if isinstance(done, ActionDone):
            if done.lanes:
                done.updates.append(self._lanes_message())
            if done.tasks:
                snap = self.board.load_all() if done.tasks is True else self.board.reload(done.tasks)
                done.updates.append(self._tasks_message(snap))
        if done is not None:
            to = self if isinstance(done, ActionDone) or reply_to is None else reply_to
            to.post_message(done)
        return True

    def release_typed_ahead(self, event: Worker.StateChanged) -> None:
        """A cursor-moving action ended: run the keys typed ahead of it, or drop them.
        A dialog's worker ended (perhaps before its dialog showed): keys held for it go on."""
        if event.worker.group == "dialog" and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self.dialog_opening(False)
        if event.worker in self._cursor_moves and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            # Its ActionDone (or ActionFailed) was posted before this: the cursor is
            # where the action put it.
            self._cursor_moves.discard(event.worker)
            if event.state != WorkerState.SUCCESS or event.worker.result is False:
                # The row they were typed for never came: acting on the old selection
                # instead could remove or change the wrong thing.
                dropped, self._typed_ahead = len(self._typed_ahead), []
                self.release_keys("binding")
                if dropped:
                    count = f"{dropped} key" + ("s" if dropped > 1 else "")
                    self.notify(f"Skipped {count} typed ahead: the action they waited for "
                                "failed", severity="warning")
            elif not self._cursor_moves and self._typed_ahead:
                self.call_later(self._run_typed_ahead)
