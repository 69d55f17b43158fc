"""Run a shell command with a hard timeout, bounded memory, no credentials, and nothing
left behind.

The command runs in its own session (setsid). A process group is not enough to find what
it started: GNU ``timeout`` moves itself to a new group, and a background child
(``sleep 60 >/dev/null 2>&1 &``) outlives the shell. So while it runs, ``/proc`` is read
every poll to record every process in the command's session and every descendant of a
recorded process (which catches one that moved to a new session too); on timeout, cancel,
or the end of the call, all of them that still run are killed, and the result names
them. ``keep_children=True`` is the opt-in for a command whose children must outlive it
(a dev server): at a normal end they are left running (and named); a timeout or cancel
still kills them.

The environment is the caller's minus the credentials (``core.secrets.child_env``).
Output is kept as head + tail, so a command that prints gigabytes costs a few KiB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from codecs import getincrementaldecoder
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from core.secrets import DEFAULT_ENV_DROP, child_env

DEFAULT_TIMEOUT = 300.0
DEFAULT_CAP = 50_000  # characters kept: half from the start, half from the end


@dataclass
class CommandResult:
    command: str
    exit_code: int | None  # None when killed by timeout or cancel
    output: str
    truncated: bool
    omitted_bytes: int
    timed_out: bool
    cancelled: bool
    duration: float
    killed: list[str] = field(default_factory=list)     # "pid name" of what was killed
    left_running: list[str] = field(default_factory=list)   # keep_children survivors

    def summary(self) -> str:
        what = f"killed {len(self.killed)}: {', '.join(self.killed)}" if self.killed else \
            "nothing left to kill"
        if self.timed_out:
            return f"timed out after {self.duration:.0f}s ({what})"
        if self.cancelled:
            return f"cancelled ({what})"
        return f"exit {self.exit_code}"

    def text(self) -> str:
        """Output plus a trailer a reader (or a model) cannot miss when something is off."""
        body = self.output.rstrip("\n") or "(no output)"
        notes = []
        if self.truncated:
            notes.append(f"[output truncated: {self.omitted_bytes} bytes omitted from the middle]")
        if self.timed_out or self.cancelled or self.exit_code not in (0, None):
            notes.append(f"[{self.summary()}]")
        if self.killed and not (self.timed_out or self.cancelled):
            notes.append(f"[killed {len(self.killed)} process(es) the command left running: "
                         f"{', '.join(self.killed)}]")
        if self.left_running:
            notes.append(f"[left running (keep_children): {', '.join(self.left_running)}]")
        return "\n".join([body, *notes])


class _HeadTail:
    def __init__(self, cap: int):
        self.half = max(cap // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.omitted = 0

    def feed(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail += chunk
        extra = len(self.tail) - self.half
        if extra > 0:
            del self.tail[:extra]
            self.omitted += extra

    def text(self) -> str:
        if not self.omitted:
            return (bytes(self.head) + bytes(self.tail)).decode("utf-8", "replace")
        return (bytes(self.head).decode("utf-8", "replace")
                + "\n...\n" + bytes(self.tail).decode("utf-8", "replace"))


_PROC = "/proc"


def _proc_table() -> dict[int, tuple[int, int, int, str, str]]:
    """pid -> (ppid, session id, start time, state, name) of every visible process."""
    table = {}
    try:
        names = os.listdir(_PROC)
    except OSError:
        return table
    for entry in names:
        if not entry.isdigit():
            continue
        try:
            with open(f"{_PROC}/{entry}/stat", "rb") as fh:
                raw = fh.read().decode("utf-8", "replace")
        except OSError:
            continue   # gone meanwhile
        name, _, rest = raw[raw.find("(") + 1:].rpartition(")")
        fields = rest.split()
        try:
            table[int(entry)] = (int(fields[1]), int(fields[3]), int(fields[19]), fields[0], name)
        except (IndexError, ValueError):
            continue
    return table


class _Tracker:
    """Everything a command started: members of its session, and descendants of any
    recorded member, keyed by (pid, start time) so a reused pid is never mistaken."""

    def __init__(self, sid: int):
        self.sid = sid
        self.seen: dict[int, tuple[int, str]] = {}   # pid -> (start time, name)
        self.available = os.path.isdir(f"{_PROC}/self")

    def scan(self) -> dict[int, tuple[int, int, int, str, str]]:
        table = _proc_table()
        for pid, (ppid, sid, start, _, name) in table.items():
            if sid == self.sid:
                self.seen[pid] = (start, name)
        grew = True
        while grew:   # descendants of recorded processes, wherever they moved
            grew = False
            for pid, (ppid, _, start, _, name) in table.items():
                if pid not in self.seen and ppid in self.seen \
                        and table.get(ppid, (0, 0, -1))[2] == self.seen[ppid][0]:
                    self.seen[pid] = (start, name)
                    grew = True
        return table

    def alive(self, table: dict[int, tuple[int, int, int, str, str]]) -> list[int]:
        return [pid for pid, (start, _) in self.seen.items()
                if pid in table and table[pid][2] == start and table[pid][3] not in "ZX"]

    def kill_all(self, rounds: int = 20) -> list[str]:
        """SIGKILL every live tracked process until none is left (a process may fork
        while its siblings die: each round rescans)."""
        killed: dict[int, str] = {}
        for _ in range(rounds):
            table = self.scan() if self.available else {}
            pids = self.alive(table)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed[pid] = table[pid][4]   # its name now (it may have exec'd)
                except (ProcessLookupError, PermissionError):
                    pass
        return [f"{pid} {name}" for pid, name in sorted(killed.items())]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(command: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT,
                cap: int = DEFAULT_CAP, cancel: threading.Event | None = None,
                env: dict[str, str] | None = None,
                on_output: Callable[[str], None] | None = None,
                env_drop: Iterable[str] = DEFAULT_ENV_DROP,
                keep_children: bool = False) -> CommandResult:
    """``on_output`` gets the output as it arrives (whole characters, uncapped) so a
    front end can stream it; the result still holds the capped head + tail."""
    start = time.monotonic()
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command], cwd=str(cwd), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**child_env(env_drop), **(env or {})},
    )
    tracker = _Tracker(proc.pid)   # setsid: the session id is the shell's pid
    buf = _HeadTail(cap)
    decoder = getincrementaldecoder("utf-8")("replace")

    def pump() -> None:
        assert proc.stdout is not None
        stream = on_output
        while chunk := proc.stdout.read1(65536):
            buf.feed(chunk)
            if stream is not None and (text := decoder.decode(chunk)):
                try:
                    stream(text)
                except Exception:  # a broken listener must not stall the command's pipe
                    stream = None

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = cancelled = False
    deadline = start + timeout
    while True:
        if tracker.available:
            tracker.scan()   # record children while their parent links still exist
        try:
            proc.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            pass
        if cancel is not None and cancel.is_set():
            cancelled = True
        elif time.monotonic() >= deadline:
            timed_out = True
        if timed_out or cancelled:
            break
    killed_run = timed_out or cancelled
    left: list[str] = []
    if killed_run or not keep_children:
        killed = tracker.kill_all()
        _kill_group(proc)   # the whole guarantee where there is no /proc
    else:
        killed = []
        if tracker.available:
            left = [f"{pid} {tracker.seen[pid][1]}" for pid in tracker.alive(tracker.scan())
                    if pid != proc.pid]
    proc.wait()
    # A survivor (keep_children, or no /proc) may hold the pipe open: stop reading then.
    reader.join(timeout=2.0)
    if reader.is_alive() and not keep_children:
        _kill_group(proc)
        reader.join(timeout=2.0)
    if not reader.is_alive():
        proc.stdout.close()
    return CommandResult(
        command=command, exit_code=None if killed_run else proc.returncode, output=buf.text(),
        truncated=buf.omitted > 0, omitted_bytes=buf.omitted, timed_out=timed_out,
        cancelled=cancelled, duration=time.monotonic() - start, killed=killed,
        left_running=left,
    )
