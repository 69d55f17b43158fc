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
    .dialog Label { margin: 1 0 0 0; color: $text-muted; }
    .dialog .hint { color: $text-muted; margin: 1 0 0 0; }
    .dialog .warning { margin: 1 0; }
    .dialog .preview { max-height: 12; margin: 1 0; }
    .dialog Checkbox { margin: 1 0 0 0; }
    .buttons { height: auto; align-horizontal: right; margin: 1 0 0 0; }
    .buttons Button { margin: 0 0 0 1; }
    """

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
            Label("Subject"), Input(t.get("subject", ""), id="subject"),
            Label("Owner"), Input(t.get("owner", ""), id="owner", placeholder="who works on it"),
            Label("Description"), Input(t.get("description", ""), id="description"),
            self.buttons("Save"),
            title=f"Edit task #{t['id']}",
        )

    def confirm(self) -> None:
        values = {k: self.query_one(f"#{k}", Input).value for k in ("subject", "owner", "description")}
        changed = {k: v for k, v in values.items() if v != (self.task_data.get(k) or "")}
        self.dismiss(changed)


class BlockersScreen(Dialog[list]):
    """The task's open blockers as an editable list of ids: add one, delete one, Enter."""

    def __init__(self, task: dict[str, Any], candidates: list[dict[str, Any]]) -> None:
        super().__init__()
        self.task_data = task
        self.candidates = candidates

    def compose(self):
        t = self.task_data
        current = " ".join(str(b) for b in t.get("blockedBy") or [])
        hint = Text("Open tasks: ", style="dim")
        for c in self.candidates[:12]:
            hint.append(f"#{c['id']} ", style="bold")
            hint.append(f"{c.get('subject', '')[:24]}  ", style="dim")
        yield self.frame(
            Label(f"#{t['id']} {t.get('subject', '')} is blocked by (task ids, space separated):"),
            Input(current, id="blockers", placeholder="e.g. 1 3"),
            Static(hint, classes="hint"),
            self.buttons("Save"),
            title="Blockers",
        )

    def confirm(self) -> None:
        raw = self.query_one("#blockers", Input).value.replace(",", " ").replace("#", " ")
        try:
            ids = sorted({int(x) for x in raw.split()})
        except ValueError:
            self.notify("task ids are whole numbers, e.g. 1 3", severity="error")
            return
        self.dismiss(ids)


class CreateLaneScreen(Dialog[tuple]):
    def __init__(self, task: dict[str, Any], name: str) -> None:
        super().__init__()
        self.task_data = task
        self.proposed = name

    def compose(self):
        t = self.task_data
        yield self.frame(
            Label(f"A lane (git worktree on branch wt/<name>) for task #{t['id']} {t.get('subject', '')}"),
            Label("Name"), Input(self.proposed, id="name"),
            Label("Base ref"), Input("HEAD", id="base", placeholder="branch, tag or commit"),
            self.buttons("Create"),
            title="New lane",
        )

    def confirm(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        base = self.query_one("#base", Input).value.strip() or "HEAD"
        self.dismiss((name, base))


class RemoveLaneScreen(Dialog[tuple]):
    """Closeout is an explicit choice: complete the task or not; force when dirty."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("c", "toggle('complete')", "Complete task"),
                Binding("f", "toggle('force')", "Force")]

    def __init__(self, lane: dict[str, Any], where: str, dirty: int | None,
                 task: dict[str, Any] | None) -> None:
        super().__init__()
        self.lane = lane
        self.where = where
        self.dirty = dirty
        self.task_data = task

    def compose(self):
        name = self.lane["name"]
        parts: list[Any] = [
            Static(Text.assemble("Remove lane ", (name, "bold"), f" ({self.where})?\n",
                                 ("The branch ", "dim"), (self.lane.get("branch", ""), "magenta"),
                                 (" stays.", "dim"))),
        ]
        if self.task_data is not None:
            t = self.task_data
            parts.append(Checkbox(f"[u]C[/u]omplete task #{t['id']} {t.get('subject', '')}",
                                  value=False, id="complete"))
        if self.dirty:
            parts.append(Static(Text(
                f"The lane has {self.dirty} uncommitted change(s). Forcing saves them under "
                f"refs/worklanes/archive/{name} first; `worklanes wt restore {name}` brings them back.",
                style="yellow"), classes="warning"))
            parts.append(Checkbox("[u]F[/u]orce (save the work under the archive ref, then remove)",
                                  value=False, id="force"))
        parts.append(self.buttons("Remove", variant="error"))
        yield self.frame(*parts, title="Remove lane")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def action_toggle(self, which: str) -> None:
        for box in self.query(f"#{which}").results(Checkbox):
            box.toggle()

    def _checked(self, which: str) -> bool:
        boxes = list(self.query(f"#{which}").results(Checkbox))
        return bool(boxes and boxes[0].value)

    def confirm(self) -> None:
        self.dismiss((self._checked("complete"), self._checked("force")))


class CommandScreen(Dialog[str]):
    def __init__(self, lane: str, last: str = "") -> None:
        super().__init__()
        self.lane = lane
        self.last = last

    def compose(self):
        yield self.frame(
            Label(f"Command to run in lane {self.lane} (its own process group; Esc in the output cancels it)"),
            Input(self.last, id="command", placeholder="e.g. git status --short"),
            self.buttons("Run"),
            title=f"Run in {self.lane}",
        )

    def confirm(self) -> None:
        command = self.query_one("#command", Input).value.strip()
        if command:
            self.dismiss(command)


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
        self.query_one("#ok", Button).focus()

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

    BINDINGS = [Binding("escape", "answer('deny')", "Deny"),
                Binding("y", "answer('once')", "Allow once"),
                Binding("a", "answer('session')", "Always for this tool"),
                Binding("n", "answer('deny')", "Deny")]
    DEFAULT_CSS = """
    ApprovalScreen .call { height: auto; max-height: 16; margin: 1 0; }
    """

    def __init__(self, request: Any, asker: str = "") -> None:
        super().__init__()
        self.request = request
        self.asker = asker      # whose agent asks ("lane x"), when it is not the board's

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
