"""The merge dialog (m): the strategy, the forecast, the check, and every reason core
would refuse - then the merge button is off and says why."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from tui.screens.dialogs import CheckBox, Dialog


class MergeLaneScreen(Dialog[tuple]):
    """Merge a lane into its base: the strategy, what the forecast says, whether a check
    runs, and every reason core would refuse - then the merge button is off and says why.
    Answers (strategy, run the check, remove after)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("m", "strategy('merge')", "Merge commit"),
                Binding("s", "strategy('squash')", "Squash"),
                Binding("r", "strategy('rebase')", "Rebase"),
                Binding("k", "toggle('check')", "Check"),
                Binding("x", "toggle('remove')", "Remove after")]
    # Compact (no borders round the options): with the forecast and the refusals it must
    # still fit an 80x24 terminal.
    DEFAULT_CSS = """
    MergeLaneScreen .dialog { padding: 0 2; }
    MergeLaneScreen RadioSet, MergeLaneScreen Checkbox {
        width: 100%; border: none; padding: 0; margin: 1 0 0 0; background: $surface;
    }
    MergeLaneScreen RadioSet:focus-within, MergeLaneScreen Checkbox:focus { background: $boost; }
    MergeLaneScreen .problems { margin: 1 0 0 0; }
    MergeLaneScreen .buttons { margin: 1 0 0 0; }
    """
    MAX_LISTED = 6

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan

    def compose(self):
        from textual.widgets import RadioButton, RadioSet

        plan, lane = self.plan, self.plan.lane
        name = lane["name"]
        parts: list[Any] = [
            Static(Text.assemble("Merge lane ", (name, "bold"), " (",
                                 (lane.get("branch", ""), "magenta"), ") into ",
                                 (plan.base or "?", "bold"))),
            RadioSet(RadioButton("[u]M[/u]erge commit", value=True, id="merge"),
                     RadioButton("[u]S[/u]quash into one commit (message from the task)",
                                 id="squash"),
                     RadioButton("[u]R[/u]ebase the lane's commits, then fast-forward",
                                 id="rebase"), id="strategy"),
            Static(self._forecast(), id="forecast", classes="hint"),
        ]
        if plan.check and not plan.already:
            parts.append(CheckBox(f"Run the chec[u]k[/u] first: {plan.check}", value=True,
                                  id="check"))
        elif not plan.check:
            parts.append(Static(Text("No check configured ([lanes] check in .worklanes.toml)",
                                     style="dim"), classes="hint"))
        parts.append(CheckBox("Remove the lane after, and delete its branch ([u]x[/u])",
                              value=False, id="remove"))
        if plan.problems:
            text = Text("Cannot merge:\n", style="bold red")
            for problem in plan.problems:
                text.append(f"- {problem}\n", style="red")
            text.rstrip()
            parts.append(Static(text, id="problems", classes="problems"))
        ok = Button("Merge", id="ok", variant="success", disabled=bool(plan.problems))
        if plan.problems:
            ok.label = "Merge (refused, see above)"
            ok.tooltip = str(plan.problems[0])
        parts.append(Horizontal(ok, Button("Cancel", id="cancel"), classes="buttons"))
        yield self.frame(*parts, title=f"Merge {name} into {plan.base or '?'}")

    def _forecast(self) -> Text:
        fc = self.plan.forecast
        if fc is None or fc.error:
            return Text(f"Forecast: {fc.error if fc else 'not available'}", style="yellow")
        if fc.integrated:
            return Text(f"Already integrated into {self.plan.base} ({fc.reason}): merging marks "
                        "the lane merged and completes its task", style="green")
        if fc.empty:
            return Text("The lane has no commits of its own yet", style="yellow")
        if not fc.conflicts:
            return Text(f"Forecast: merges into {self.plan.base} without conflicts", style="green")
        text = Text(f"Forecast: {len(fc.conflicts)} file(s) would conflict:\n", style="bold red")
        for path in fc.conflicts[:self.MAX_LISTED]:
            text.append(f"  {path}\n", style="red")
        if len(fc.conflicts) > self.MAX_LISTED:
            text.append(f"  and {len(fc.conflicts) - self.MAX_LISTED} more\n", style="red")
        text.rstrip()
        return text

    def on_mount(self) -> None:
        self.query_one("#cancel" if self.plan.problems else "#ok", Button).focus()

    def action_strategy(self, which: str) -> None:
        from textual.widgets import RadioButton

        self.query_one(f"#{which}", RadioButton).value = True

    def confirm(self) -> None:
        from textual.widgets import RadioSet

        if self.plan.problems:
            self.notify(str(self.plan.problems[0]), severity="error")
            return
        pressed = self.query_one(RadioSet).pressed_button
        self.dismiss((pressed.id if pressed else "merge", self._checked("check"),
                      self._checked("remove")))
