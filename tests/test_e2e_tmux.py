"""End to end in a real terminal: tmux runs the installed ``worklanes`` on a temporary
repository, keys are sent, the screen is read back with capture-pane.

A private tmux server (``-L``) per test keeps the user's sessions out of it, and it is
killed even when the test fails."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.workspace import Workspace
from tests.conftest import make_repo

if shutil.which("tmux") is None:
    # On CI a missing tmux is a broken setup (.ci/run installs it), not a reason to skip.
    if os.environ.get("CI"):
        raise RuntimeError("tmux is not installed; .ci/run installs it with apt-get")
    pytestmark = pytest.mark.skip(reason="tmux is not installed (apt-get install -y tmux)")


class Tmux:
    def __init__(self, cwd: Path, command: str, env: dict[str, str], size=(120, 36)):
        self.socket = f"worklanes-e2e-{uuid.uuid4().hex[:8]}"
        self.env = env
        w, h = size
        self.run("new-session", "-d", "-s", "e2e", "-x", str(w), "-y", str(h), "-c", str(cwd),
                 command)
        self.pane_pid = int(self.run("display-message", "-p", "-t", "e2e", "#{pane_pid}") or 0)

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              env=self.env, timeout=20).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "e2e", *(["-l"] if literal else []), *keys)

    def type(self, text: str) -> None:
        self.keys(text, literal=True)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e")

    def wait(self, predicate, timeout: float = 20.0, what: str = "") -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(0.1)

    def wait_text(self, needle: str, timeout: float = 20.0) -> str:
        return self.wait(lambda t: needle in t, timeout, repr(needle))

    def settle(self, quiet: float = 0.4, timeout: float = 20.0) -> str:
        """Wait until the screen stops changing: the first frames of a starting app
        race with its terminal set-up, and no person types within them."""
        deadline = time.monotonic() + timeout
        last = self.screen()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.screen()
            if now == last:
                return now
            last = now
        return last

    def exit_code(self, marker: Path, timeout: float = 15.0) -> str:
        """What the command wrote to ``marker`` once it exited (``cmd; echo $? > marker``)."""
        deadline = time.monotonic() + timeout
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), self.screen()
        return marker.read_text().strip()

    def kill_server_only(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       env=self.env, timeout=10)

    def kill(self) -> None:
        """Kill the server, then anything it started that outlived the hangup (an app
        left behind by a failed test must not keep running)."""
        left = descendants(self.pane_pid) if self.pane_pid else []
        self.kill_server_only()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def descendants(pid: int) -> list[int]:
    """Processes started (directly or not) by ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def installed_command() -> str:
    # The console script of the interpreter running the tests first: a `worklanes` found
    # on PATH may be another install's, or a pyenv shim - a bash script, which drops PS1
    # from the environment the lane shell gets.
    beside = Path(sys.executable).with_name("worklanes")
    exe = str(beside) if beside.is_file() else shutil.which("worklanes")
    return exe if exe else f"{sys.executable} -m tui"


def test_e2e_task_lane_keep_remove_shell_quit(tmp_path):
    repo = make_repo(tmp_path / "repo")
    ws = Workspace.open(repo)
    old = ws.tasks.create("Old work")
    ws.lanes.create("old-lane", task_id=old["id"])

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "TMUX", "TEXTUAL")) and k != "MODEL_ID"}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TERM="xterm-256color",
               SHELL="/bin/sh", PS1="$ ")
    marker = tmp_path / "exit-code"
    tmux = Tmux(repo, f"{installed_command()}; echo $? > {marker}; sleep 60", env)
    try:
        tmux.wait_text("Tasks 1")
        tmux.wait_text("ANTHROPIC_API_KEY")  # no key: the chat says what to set
        tmux.settle()

        # Create a task with the quick-add.
        tmux.keys("n")
        tmux.wait_text("New task subject")
        tmux.type("E2E task")
        tmux.keys("Enter")
        # The app's note, not the typed text still in the input: keys sent before the
        # task exists would act on the task selected before it. The note comes with
        # the cursor move (the row itself may be shown first by the file watcher).
        tmux.wait_text("Created task #2")

        # A lane for it (the name is proposed from the subject), then keep it.
        # Wait for the dialog's own text ("New lane" is also on the key bar), which
        # also shows that the new task is the selected one.
        tmux.keys("w")
        tmux.wait_text("for task #2 E2E task")
        tmux.keys("Enter")
        tmux.wait_text("Created lane e2e-task")
        tmux.wait(lambda t: "Lanes 2" in t, what="lane e2e-task")
        tmux.keys("k")
        tmux.wait(lambda t: "1 kept" in t, what="kept")

        # Open a shell in that lane: the app suspends and comes back when it exits.
        tmux.keys("o")
        tmux.wait_text("exit the shell to return")
        # Type only once the shell prompts: keys sent while the terminal is handed
        # over could still reach the app.
        tmux.wait(lambda t: t.rstrip().endswith(("$", "#")), what="the lane shell's prompt")
        tmux.type("touch opened-here; exit")
        tmux.keys("Enter")
        tmux.wait_text("Tasks 2")
        tmux.settle()
        assert (repo / ".worktrees" / "e2e-task" / "opened-here").exists()

        # Remove the other lane from the lanes pane.
        tmux.keys("Tab")
        tmux.keys("Up", "Up")
        tmux.keys("x")
        tmux.wait_text("Remove lane old-lane")
        tmux.keys("Enter")
        tmux.wait(lambda t: "Lanes 1" in t, what="one lane left")

        tmux.keys("q")
        assert tmux.exit_code(marker) == "0"
    finally:
        tmux.kill()

    lanes = {lane["name"]: lane["status"] for lane in Workspace.open(repo).lanes.list()}
    assert lanes == {"old-lane": "removed", "e2e-task": "kept"}


def test_e2e_outside_a_repo_prints_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["HOME"] = str(tmp_path)
    cmd = shutil.which("worklanes")
    args = [cmd] if cmd else [sys.executable, "-m", "tui"]
    res = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert "not inside a git repository" in res.stderr


def test_e2e_window_closed_while_the_lane_shell_runs(tmp_path):
    """A terminal closed during ``o`` hangs up the shell only; the app must notice
    when it would resume, and quit instead of running on without a terminal."""
    repo = make_repo(tmp_path / "repo")
    ws = Workspace.open(repo)
    ws.lanes.create("l1", task_id=ws.tasks.create("t")["id"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "TMUX"))}
    env.update(HOME=str(tmp_path), TERM="xterm-256color", SHELL="/bin/sh")
    tmux = Tmux(repo, f"{installed_command()}; sleep 60", env)
    try:
        tmux.wait_text("Tasks 1")
        tmux.settle()
        tmux.keys("o")
        tmux.wait_text("exit the shell to return")
        app_pids = [p for p in descendants(tmux.pane_pid)
                    if Path(f"/proc/{p}/comm").read_text().strip() not in ("sh", "sleep")]
        assert app_pids
    finally:
        tmux.kill_server_only()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(p) for p in app_pids):
        time.sleep(0.1)
    alive = [p for p in app_pids if running(p)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "the app kept running after its terminal closed"


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_e2e_bursts_land_in_the_input_they_were_typed_for(tmp_path):
    """tmux send-keys delivers a burst in one read, as a paste or a fast typist does:
    the keys after one that opens an input must reach that input, in order."""
    repo = make_repo(tmp_path / "repo")
    ws = Workspace.open(repo)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "TMUX", "TEXTUAL")) and k != "MODEL_ID"}
    # A $SHELL that does not exist: o falls back to /bin/sh instead of hanging.
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"),
               TERM="xterm-256color", SHELL="/nonexistent/zsh", PS1="$ ")
    # Set on the command line: tmux gives the commands it starts its own SHELL.
    tmux = Tmux(repo, f"env SHELL=/nonexistent/zsh PS1='$ ' {installed_command()}; sleep 60", env)
    try:
        tmux.wait_text("Tasks 0")
        tmux.wait_text("ANTHROPIC_API_KEY")
        tmux.settle()
        # One send-keys: the quick-add opens while its text is already on the way.
        tmux.keys("n", "Burst task", "Enter")
        tmux.wait_text("Created task #1")
        assert [t["subject"] for t in ws.tasks.list().tasks] == ["Burst task"]

        # A new lane, its proposed name wiped with 40 backspaces and retyped, in one go.
        tmux.keys("w", *["BSpace"] * 40, "typed-name", "Enter")
        tmux.wait_text("Created lane typed-name")
        assert [lane["name"] for lane in ws.lanes.list()] == ["typed-name"]

        tmux.keys("o")
        tmux.wait_text("using /bin/sh")
        tmux.wait(lambda t: t.rstrip().endswith(("$", "#")), what="the fallback shell's prompt")
        tmux.type("touch fell-back; exit")
        tmux.keys("Enter")
        tmux.wait_text("Tasks 1")
        assert (repo / ".worktrees" / "typed-name" / "fell-back").exists()
    finally:
        tmux.kill()
