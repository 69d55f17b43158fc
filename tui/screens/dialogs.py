"""Modal dialogs. Each returns its answer through ``dismiss`` (``None`` = cancelled);
the app does the work. Every dialog is usable with keys only: Enter confirms, Esc
cancels, and letters toggle the options."""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

T = TypeVar("T")


class CheckBox(Checkbox):
    """A checkbox whose empty box looks empty: Textual draws a dim X in it, which reads
    as checked on many terminals."""

    def __init__(self, label: str, value: bool = False, **kwargs: Any) -> None:
        super().__init__(label, value, **kwargs)
        self.BUTTON_INNER = "X" if value else " "

    def validate_value(self, value: bool) -> bool:
        self.BUTTON_INNER = "X" if value else " "
        return value


class DialogInput(Input):
    # Keys typed after these wait until the dialog is gone, or shows an error
    # (tui/actions.py): they are not for this field.
    HOLD_KEYS_AFTER = ("enter", "escape")


class Dialog(ModalScreen[T], Generic[T]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    TITLE_TEXT = ""

    # Here rather than in app.tcss: parsed when a dialog first opens, not before the
    # app's first paint.
    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        background: $background 60%;
    }
    .dialog {
        width: 76;
        max-width: 95%;
        height: auto;
        max-height: 95%;
        border: thick $accent;
        border-title-style: bold;
        background: $surface;
        padding: 1 2;
    }
    .dialog Label { margin: 1 0 0 0; color: $text-muted; width: 100%; }
    .dialog .hint { color: $text-muted; margin: 1 0 0 0; }
    .dialog .warning { margin: 1 0; }
    .dialog .preview { max-height: 12; margin: 1 0; }
    .dialog Checkbox { margin: 1 0 0 0; }
    .dialog .error { color: $error; text-style: bold; margin: 1 0 0 0; }
    .buttons { height: auto; align-horizontal: right; margin: 1 0 0 0; }
    .buttons Button { margin: 0 0 0 1; }
    """

    def on_mount(self) -> None:
        # The dialog's own keys on the bottom line, over the main screen's (which do not
        # work while it is open).
        from tui.widgets.panes import KeyBar

        self.mount(KeyBar())
        # Earlier notes would sit over the dialog's buttons; what matters now is in it.
        self.app.clear_notifications()

    def on_screen_resume(self) -> None:
        # Keys typed since the key that opened this dialog were held for it (tui/actions.py):
        # focus where they belong first, then let them through.
        if self.focused is None:
            first = next((w for w in self.query("*") if w.focusable), None)
            if first is not None:
                self.set_focus(first)
        self.app.dialog_opening(False)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def frame(self, *children: Any, title: str = "") -> Vertical:
        box = Vertical(*children, classes="dialog")
        box.border_title = title or self.TITLE_TEXT
        return box

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.confirm()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        raise NotImplementedError

    def action_toggle(self, which: str) -> None:
        for box in self.query(f"#{which}").results(Checkbox):
            box.toggle()

    def _checked(self, which: str) -> bool:
        """A checkbox's value; False when the dialog does not offer it."""
        boxes = list(self.query(f"#{which}").results(Checkbox))
        return bool(boxes and boxes[0].value)

    def show_error(self, message: str) -> None:
        """Say what is wrong inside the dialog, which stays open with what was typed."""
        found = self.query(".error")
        if found:
            found.first(Static).update(Text(message))
        else:
            buttons = self.query(".buttons")
            error = Static(Text(message), classes="error")
            if buttons:
                self.query_one(".dialog").mount(error, before=buttons.first())
            else:
                self.query_one(".dialog").mount(error)
        self.app.release_keys()   # held after the Enter that asked (DialogInput)

    def submit(self, answer: Any, check: Any = None) -> None:
        """Close with ``answer``, unless ``check(answer)`` (run off the UI thread: it may
        ask git) names a problem: then show it and stay open."""
        if check is None:
            self.dismiss(answer)
            return

        async def checked() -> None:
            import asyncio

            problem = await asyncio.to_thread(check, answer)
            if problem:
                self.show_error(problem)
            else:
                self.dismiss(answer)
        self.run_worker(checked(), group="dialog-check", exclusive=True)

    @staticmethod
    def field(value: str = "", **kwargs: Any) -> Input:
        """A dialog's text field: focused with the cursor at the end and nothing
        selected, so typing appends (a select-all would replace the whole value)."""
        field = DialogInput(value, select_on_focus=False, **kwargs)
        field.cursor_position = len(value)
        return field

    @staticmethod
    def buttons(ok: str, variant: str = "primary") -> Horizontal:
        return Horizontal(Button(ok, id="ok", variant=variant), Button("Cancel", id="cancel"),
                          classes="buttons")


class EditTaskScreen(Dialog[dict]):
    TITLE_TEXT = "Edit task"

    def __init__(self, task: dict[str, Any]) -> None:
        super().__init__()
        self.task_data = task

    def compose(self):
        t = self.task_data
        yield self.frame(
            Label("Subject"), self.field(t.get("subject", ""), id="subject"),
            Label("Owner"), self.field(t.get("owner", ""), id="owner", placeholder="who works on it"),
            Label("Description"), self.field(t.get("description", ""), id="description"),
            self.buttons("Save"),
            title=f"Edit task #{t['id']}",
        )

    def confirm(self) -> None:
        values = {k: self.query_one(f"#{k}", Input).value for k in ("subject", "owner", "description")}
        if not values["subject"].strip():
            self.show_error("A task needs a subject: type one (Esc leaves it as it was)")
            return
        changed = {k: v for k, v in values.items() if v != (self.task_data.get(k) or "")}
        self.dismiss(changed)


class BlockersScreen(Dialog[list]):
    """The task's open blockers as an editable list of ids: add one, delete one, Enter."""

    def __init__(self, task: dict[str, Any], candidates: list[dict[str, Any]],
                 known: set[int] | None = None) -> None:
        super().__init__()
        self.task_data = task
        self.candidates = candidates
        self.known = known   # every task id on the board, when the caller knows them

    def compose(self):
        t = self.task_data
        current = " ".join(str(b) for b in t.get("blockedBy") or [])
        hint = Text("Open tasks: ", style="dim")
        for c in self.candidates[:12]:
            hint.append(f"#{c['id']} ", style="bold")
            hint.append(f"{c.get('subject', '')[:24]}  ", style="dim")
        yield self.frame(
            Label(f"#{t['id']} {t.get('subject', '')} is blocked by (task ids, space separated):"),
            self.field(current, id="blockers", placeholder="e.g. 1 3"),
            Static(hint, classes="hint"),
            self.buttons("Save"),
            title="Blockers",
        )

    def confirm(self) -> None:
        raw = self.query_one("#blockers", Input).value.replace(",", " ").replace("#", " ")
        try:
            ids = sorted({int(x) for x in raw.split()})
        except ValueError:
            self.show_error("Task ids are whole numbers, e.g. 1 3")
            return
        if self.task_data["id"] in ids:
            self.show_error(f"#{self.task_data['id']} cannot block itself")
            return
        unknown = [i for i in ids if self.known is not None and i not in self.known]
        if unknown:
            self.show_error("No task " + ", ".join(f"#{i}" for i in unknown)
                            + " on the board; nothing was changed")
            return
        self.dismiss(ids)


class CreateLaneScreen(Dialog[tuple]):
    def __init__(self, task: dict[str, Any], name: str, check: Any = None) -> None:
        super().__init__()
        self.task_data = task
        self.proposed = name
        self.check = check   # (name, base) -> the problem in one line, or ""

    def compose(self):
        t = self.task_data
        yield self.frame(
            Label(f"A lane (git worktree on branch wt/<name>) for task #{t['id']} {t.get('subject', '')}"),
            Label("Name"), self.field(self.proposed, id="name"),
            Label("Base ref"), self.field("HEAD", id="base", placeholder="branch, tag or commit"),
            self.buttons("Create"),
            title="New lane",
        )

    def confirm(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        base = self.query_one("#base", Input).value.strip() or "HEAD"
        check = self.check
        self.submit((name, base), (lambda answer: check(*answer)) if check else None)


class RemoveLaneScreen(Dialog[tuple]):
    """Closeout is an explicit choice: complete the task or not; force when dirty."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("c", "toggle('complete')", "Complete task"),
                Binding("f", "toggle('force')", "Force")]

    def __init__(self, lane: dict[str, Any], where: str, plan: Any,
                 task: dict[str, Any] | None) -> None:
        """``plan``: core's RemovalPlan, read when the dialog opens."""
        super().__init__()
        self.lane = lane
        self.where = where
        self.plan = plan
        self.task_data = task

    def compose(self):
        name, plan = self.lane["name"], self.plan
        parts: list[Any] = [
            Static(Text.assemble("Remove lane ", (name, "bold"), f" ({self.where})?\n",
                                 ("The branch ", "dim"), (self.lane.get("branch", ""), "magenta"),
                                 (" stays.", "dim"))),
        ]
        if self.task_data is not None:
            t = self.task_data
            parts.append(CheckBox(f"[u]C[/u]omplete task #{t['id']} {t.get('subject', '')}",
                                  value=False, id="complete"))
        refusal = plan.refusal()
        if refusal:
            parts.append(Static(Text(refusal, style="red"), classes="warning"))
        elif plan.dirty:
            parts.append(Static(Text(
                f"The lane has uncommitted work. Forcing saves it as a new snapshot under "
                f"refs/worklanes/archive/{name}/ first; `worklanes wt restore {name}` brings "
                "it back.", style="yellow"), classes="warning"))
            parts.append(CheckBox("[u]F[/u]orce (save the work as a snapshot, then remove)",
                                  value=False, id="force"))
        lines = plan.lines()
        if lines:
            from core.safe_text import visible  # file names come from the lane: no escapes
            parts.append(Static(Text("\n".join(visible(ln) for ln in lines), style="dim"),
                                id="plan"))
        parts.append(self.buttons("Remove", variant="error"))
        yield self.frame(*parts, title="Remove lane")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#ok", Button))   # now: typed-ahead keys come next

    def confirm(self) -> None:
        self.dismiss((self._checked("complete"), self._checked("force")))


class CommandScreen(Dialog[str]):
    def __init__(self, lane: str, last: str = "") -> None:
        super().__init__()
        self.lane = lane
        self.last = last

    def compose(self):
        yield self.frame(
            Label(f"Command to run in lane {self.lane} (its own session; Esc in the output cancels "
                  "it and all it started)"),
            self.field(self.last, id="command", placeholder="e.g. git status --short"),
            self.buttons("Run"),
            title=f"Run in {self.lane}",
        )

    def confirm(self) -> None:
        command = self.query_one("#command", Input).value.strip()
        if command:
            self.dismiss(command)
        else:
            self.show_error("Type a command to run, e.g. git status --short")


class ConfirmScreen(Dialog[bool]):
    """A yes/no question: Enter (or y) confirms, Esc (or n) cancels."""

    BINDINGS = [Binding("escape,n", "cancel", "Cancel"), Binding("y", "ok", "Confirm")]

    def __init__(self, title: str, question: str, ok: str = "OK") -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.ok = ok

    def compose(self):
        yield self.frame(Static(Text(self.question)), self.buttons(f"{self.ok} (y)"),
                         title=self.title_text)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#ok", Button))   # now: typed-ahead keys come next

    def action_ok(self) -> None:
        self.confirm()

    def confirm(self) -> None:
        self.dismiss(True)


class ReconcileScreen(Dialog[bool]):
    BINDINGS = [Binding("escape", "cancel", "Close"), Binding("f", "fix", "Fix all")]

    def __init__(self, findings: list[Any]) -> None:
        super().__init__()
        self.findings = findings

    def compose(self):
        text = Text()
        for f in self.findings:
            text.append(f"{f.kind:<13}", style="bold yellow")
            text.append(f"{f.name}  ", style="bold")
            text.append(f"{f.detail}\n", style="")
            text.append(f"{'':13}fix: {f.fix}\n", style="dim")
        fixable = any(f.kind in ("missing", "stale", "unregistered", "prunable") for f in self.findings)
        yield self.frame(
            Static(text, classes="findings"),
            self.buttons("Fix all (f)") if fixable else Horizontal(Button("Close", id="cancel"),
                                                                    classes="buttons"),
            title=f"Reconcile: {len(self.findings)} finding(s)",
        )

    def action_fix(self) -> None:
        self.confirm()

    def confirm(self) -> None:
        self.dismiss(True)


class ApprovalScreen(Dialog[Any]):
    """The agent wants to do something with side effects. Esc is a refusal.

    What it shows is untrusted (the model wrote it): every control character, escape
    sequence and bidi override is drawn as a visible escape, and the whole call is
    shown, scrollable, never cut, so no tail can hide behind a harmless head."""

    BINDINGS = [Binding("y", "answer('once')", "Allow once"),
                Binding("a", "answer('session')", "Always for this tool"),
                Binding("n", "answer('deny')", "Deny"),
                # q and esc close it as a refusal, as they close every other view.
                Binding("escape,q", "answer('deny')", "Deny", show=False)]
    DEFAULT_CSS = """
    ApprovalScreen .call { height: auto; max-height: 16; margin: 1 0; }
    """

    def __init__(self, request: Any, asker: str = "", pending: Any = None) -> None:
        super().__init__()
        self.request = request
        self.asker = asker      # whose agent asks ("lane x"), when it is not the board's
        self.pending = pending  # () -> whether a queued question still waits for this answer

    def approvals_changed(self) -> None:
        """The queue changed (the app calls this): a question its agent took back - the
        turn was cancelled - closes, as a refusal no one waits for any more."""
        if self.pending is not None and not self.pending():
            self.notify(f"{self.asker or 'The agent'} no longer asks: its turn ended",
                        severity="warning", timeout=4)
            self.dismiss(None)

    def compose(self):
        from textual.containers import VerticalScroll

        from core.safe_text import visible

        req = self.request
        args = {k: v for k, v in req.input.items() if k != "command"}
        body = Text()
        if isinstance(req.input.get("command"), str):
            body.append("command:\n", style="dim")
            body.append(visible(req.input["command"], keep="\n") + "\n", style="bold")
        if args:
            body.append(visible(json.dumps(args, indent=2, ensure_ascii=False, default=str),
                                keep="\n"), style="dim")
        yield self.frame(
            Static(Text.assemble(("The agent asks to run: ", ""), (visible(req.summary), "bold"))),
            Static(Text(f"in lane {visible(req.lane)}", style="magenta") if req.lane else Text("")),
            VerticalScroll(Static(body, id="call-text"), classes="call"),
            Horizontal(Button("Allow once (y)", id="once", variant="primary"),
                       Button(f"Always allow {req.tool} (a)", id="session", variant="warning"),
                       Button("Deny (n)", id="deny", variant="error"), classes="buttons"),
            title=f"{visible(self.asker)}: approve {req.tool}?" if self.asker
            else f"Approve {req.tool}?",
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id or "deny")

    def action_answer(self, which: str) -> None:
        from core.agent.events import Decision

        self.dismiss({"once": Decision.ALLOW_ONCE, "session": Decision.ALLOW_SESSION}
                     .get(which, Decision.DENY))
