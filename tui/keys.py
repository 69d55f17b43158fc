"""Every key of the app in one table: the pane bindings, the footer, the help screen,
the command palette and the README all come from here, so they cannot drift apart.

Each key has a binding id, so a user can remap it (``[keys]`` in
``$XDG_CONFIG_HOME/worklanes/config.toml``, or ``create_app(keymap=...)``)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.binding import Binding

from core.plain import record


@record(frozen=True)
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
    # A key that matters only at times is on the key bar only then (and first, since it
    # is news): "waiting" (an agent waits for an answer), "lane" (the chat shows a lane
    # agent). The main screen says when (MainScreen.key_applies); the key works always.
    when: str = ""

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
    KeySpec("lane.keep", "k", "lane_keep", "Keep", "Keep the selected lane for later work (k again un-keeps it)", "lanes"),
    KeySpec("lane.remove", "x", "lane_remove", "Remove",
            "Remove the selected lane (confirm: complete the task? force when dirty)", "lanes"),
    KeySpec("lane.diff", "d", "lane_diff", "Diff", "Show everything the lane changed since its base", "lanes"),
    KeySpec("lane.merge", "m", "lane_merge", "Merge",
            "Merge the lane into its base: pick merge, squash or rebase", "lanes"),
    KeySpec("lane.run", "exclamation_mark", "lane_run", "Run", "Run a shell command in the lane", "lanes",
            shown_as="!"),
    KeySpec("lane.shell", "o", "lane_shell", "Shell",
            "Open a shell in the lane (the app returns when it exits)", "lanes"),
    KeySpec("lanes.reconcile", "r", "reconcile", "Reconcile",
            "Compare the lane index with git's worktrees and offer fixes", "global",
            owner="lanes"),
    KeySpec("agent.start", "a", "agent_start", "Agent",
            "Start, resume or show the selected task's lane agent", "global", owner="lanes"),
    KeySpec("agent.dispatch", "A", "agent_dispatch", "Dispatch",
            "Dispatch: a lane agent for every ready task", "global", owner="lanes"),
    KeySpec("agent.next_waiting", "j", "agent_next_waiting", "Answer",
            "Answer the next agent waiting for you", "global", owner="chat", when="waiting"),
    KeySpec("agent.queue", "J", "agent_queue", "Queue",
            "List every approval the agents wait for: answer one, or go to its agent's chat",
            "global", owner="app", when="waiting"),
    KeySpec("agent.board", "B", "agent_board", "Board agent",
            "Show the board agent's conversation", "global", owner="chat", when="lane"),
    KeySpec("pane.next", "tab", "focus_pane(1)", "Next pane", "Move to the next pane", "global",
            show=False, owner="screen"),
    KeySpec("pane.previous", "shift+tab", "focus_pane(-1)", "Previous pane", "Move to the previous pane",
            "global", show=False, owner="screen"),
    KeySpec("pane.zoom", "z", "zoom", "Zoom", "Zoom the focused pane to the full screen (again to restore)",
            "global", owner="screen"),
    KeySpec("chat.focus", "slash,c", "chat_focus", "Chat", "Focus the chat input", "global",
            owner="screen"),
    KeySpec("chat.new", "ctrl+n", "chat_new", "New chat",
            "Start a new conversation with the agent (the current one stays saved)", "global",
            show=False, owner="chat"),
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
IDS = frozenset(k.id for k in KEYS)
WHEN = {k.id: k.when for k in KEYS if k.when}   # binding id -> when it is on the key bar


def owner_of(action_name: str) -> str | None:
    """Who carries out a key's action (by action name, without parameters); None for
    actions that are not in the table (Textual's own, a dialog's)."""
    return _OWNERS.get(action_name)


@record
class KeymapCheck:
    path: Path
    keymap: dict[str, str]     # what applies: the remaps that are fine
    problems: list[str]        # one line each, naming the thing and the fix
    found: bool = True         # whether the file exists


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "worklanes" / "config.toml"


def check_keymap(raw: object, where: str = "[keys]") -> tuple[dict[str, str], list[str]]:
    """The remaps of a ``[keys]`` table that can apply, and a line for each that cannot:
    an unknown binding id, a value that is not a string of key names, or a key another
    binding already has (applied, it would silently take that binding off the app)."""
    if not isinstance(raw, dict):
        return {}, [f"{where} must be a table of binding id = \"keys\"; see ? in the app"]
    specs = {k.id: k for k in KEYS}
    problems: list[str] = []
    good: dict[str, str] = {}
    for bid, value in raw.items():
        if bid not in specs:
            problems.append(f"{where}: unknown binding id {bid!r}; the ids are listed on the "
                            "help screen (?), e.g. \"task.new\"")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: {bid} must be a string of key names, e.g. \"ctrl+n\"")
        else:
            good[bid] = value
    # Every key of the table can be live at once (lane keys work on the board, global
    # ones everywhere), so no two bindings may share a key.
    def keys_of(bid: str) -> set[str]:
        return {k.strip() for k in (good.get(bid) or specs[bid].key).split(",")}
    for bid in list(good):
        mine = keys_of(bid)
        other = next((o for o in specs if o != bid and mine & keys_of(o)), None)
        if other is not None:
            shared = ", ".join(sorted(mine & keys_of(other)))
            problems.append(f"{where}: {bid} = {good[bid]!r} clashes with {other} "
                            f"({shared}); pick a free key - this remap is ignored")
            del good[bid]
    return good, problems


def read_user_keymap() -> KeymapCheck:
    """``[keys]`` of the user's config file, checked. A broken file changes nothing (no
    remap applies) and is reported rather than keeping the app from starting."""
    path = config_path()
    import tomllib  # here: most people have no config file, and the app's start pays

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return KeymapCheck(path, {}, [], found=False)
    except (OSError, UnicodeDecodeError) as exc:
        return KeymapCheck(path, {}, [f"{path}: cannot be read ({exc}); fix or remove it"])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return KeymapCheck(path, {}, [f"{path}: not valid TOML ({exc}); no key is remapped "
                                      "until it is fixed"])
    keymap, problems = check_keymap(data.get("keys", {}), f"{path} [keys]")
    return KeymapCheck(path, keymap, problems)


def load_user_keymap() -> dict[str, str]:
    """The remaps of the user's config file that apply (``read_user_keymap`` says why
    the others do not)."""
    return read_user_keymap().keymap
