"""Every key of the app in one table: the pane bindings, the footer, the help screen,
the command palette and the README all come from here, so they cannot drift apart.

Each key has a binding id, so a user can remap it (``[keys]`` in
``$XDG_CONFIG_HOME/worklanes/config.toml``, or ``create_app(keymap=...)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding


@dataclass(frozen=True)
class KeySpec:
    id: str
    key: str          # Textual key names, comma separated
    action: str       # an action of the key's owner (see ``owner``)
    label: str        # short, for the footer
    help: str         # one line, for the help screen and the palette
    pane: str         # tasks | lanes | chat | global
    show: bool = True
    shown_as: str = ""  # how the help screen spells the key, when it is not obvious
    # Who carries out the action: a pane (tasks | lanes | events | chat), "screen" (the
    # layout: focus, zoom, help) or "app". Default: the pane the key belongs to.
    owner: str = ""

    @property
    def action_owner(self) -> str:
        return self.owner or self.pane


KEYS: tuple[KeySpec, ...] = (
    KeySpec("task.new", "n", "task_new", "New", "New task: type a subject, Enter creates it", "tasks"),
    KeySpec("task.edit", "e", "task_edit", "Edit", "Edit the selected task (subject, owner, description)", "tasks"),
    KeySpec("task.status", "s", "task_cycle_status", "Status",
            "Cycle the selected task's status: pending, in_progress, completed", "tasks"),
    KeySpec("task.blockers", "b", "task_blockers", "Blockers",
            "Add or remove the tasks that block the selected task", "tasks"),
    KeySpec("lane.create", "w", "lane_create", "New lane",
            "Create a lane (git worktree) for the selected task; name and base ref editable", "tasks"),
    KeySpec("lane.keep", "k", "lane_keep", "Keep", "Keep the selected lane for later work", "lanes"),
    KeySpec("lane.remove", "x", "lane_remove", "Remove",
            "Remove the selected lane (confirm: complete the task? force when dirty)", "lanes"),
    KeySpec("lane.diff", "d", "lane_diff", "Diff", "Show everything the lane changed since its base", "lanes"),
    KeySpec("lane.run", "exclamation_mark", "lane_run", "Run", "Run a shell command in the lane", "lanes",
            shown_as="!"),
    KeySpec("lane.shell", "o", "lane_shell", "Shell",
            "Open a shell in the lane (the app suspends and returns when it exits)", "lanes"),
    KeySpec("lanes.reconcile", "r", "reconcile", "Reconcile",
            "Compare the lane index with git's worktrees and offer fixes", "global",
            owner="lanes"),
    KeySpec("agent.start", "a", "agent_start", "Agent",
            "Start, resume or show the selected task's lane agent", "global", owner="lanes"),
    KeySpec("agent.dispatch", "A", "agent_dispatch", "Dispatch",
            "Dispatch: a lane agent for every ready task", "global", owner="lanes"),
    KeySpec("agent.next_waiting", "j", "agent_next_waiting", "Answer",
            "Answer the next agent waiting for you", "global", owner="chat", show=False),
    KeySpec("agent.board", "B", "agent_board", "Board agent",
            "Show the board agent's conversation", "global", owner="chat", show=False),
    KeySpec("pane.next", "tab", "focus_pane(1)", "Next pane", "Move to the next pane", "global",
            show=False, owner="screen"),
    KeySpec("pane.previous", "shift+tab", "focus_pane(-1)", "Previous pane", "Move to the previous pane",
            "global", show=False, owner="screen"),
    KeySpec("pane.zoom", "z", "zoom", "Zoom", "Zoom the focused pane to the full screen (again to restore)",
            "global", owner="screen"),
    KeySpec("chat.focus", "slash,c", "chat_focus", "Chat", "Focus the chat input", "global",
            owner="screen"),
    KeySpec("agent.cancel", "escape", "agent_cancel", "Cancel turn",
            "Cancel the shown agent's turn (others go on), or leave zoom", "global", shown_as="esc",
            owner="screen"),
    KeySpec("app.help", "question_mark", "help", "Help", "Show all keys", "global", shown_as="?",
            owner="screen"),
    KeySpec("app.quit", "q", "quit", "Quit", "Quit (running agent turns are cancelled)", "global",
            owner="app"),
)

# Lane keys also work from the task board: the lanes cursor follows the selected
# task's lane, so "x" there removes the lane of the task you are looking at.
LANE_KEYS_ON_BOARD = True

PANES = ("tasks", "lanes", "events", "chat")


def key_display(key: str) -> str:
    names = {"exclamation_mark": "!", "question_mark": "?", "slash": "/", "escape": "esc",
             "shift+tab": "shift+tab"}
    return " or ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def bindings(pane: str) -> list[Binding]:
    """The bindings a pane's widget (or, for "global", the main screen) carries. Actions
    have no namespace: the app delivers each one to its owner (``owner_of``)."""
    specs = [k for k in KEYS if k.pane == pane]
    out = [Binding(k.key, k.action, k.label, show=k.show, id=k.id, tooltip=k.help)
           for k in specs]
    if pane == "tasks" and LANE_KEYS_ON_BOARD:
        out += [Binding(k.key, k.action, k.label, show=False, id=k.id)
                for k in KEYS if k.pane == "lanes"]
    return out


_OWNERS = {k.action.split("(")[0]: k.action_owner for k in KEYS}


def owner_of(action_name: str) -> str | None:
    """Who carries out a key's action (by action name, without parameters); None for
    actions that are not in the table (Textual's own, a dialog's)."""
    return _OWNERS.get(action_name)


def load_user_keymap() -> dict[str, str]:
    """``[keys]`` of the user's config file: ``binding id = "keys"``. A broken file is
    ignored rather than keeping the app from starting; the caller can say so."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    path = Path(base) / "worklanes" / "config.toml"
    import tomllib  # here: most people have no config file, and the app's start pays

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    keys = data.get("keys", {})
    known = {k.id for k in KEYS}
    return {str(k): str(v) for k, v in keys.items() if k in known and isinstance(v, str)} \
        if isinstance(keys, dict) else {}
