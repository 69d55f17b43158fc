"""Run a shell command with a hard timeout and bounded memory.

The command gets its own process group so a timeout or a cancel kills everything it
started (a ``sleep`` in a subshell, a dev server it forked), not just the shell.
Output is kept as head + tail, so a command that prints gigabytes costs a few KiB.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from codecs import getincrementaldecoder
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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

    def summary(self) -> str:
        if self.timed_out:
            return f"timed out after {self.duration:.0f}s (process group killed)"
        if self.cancelled:
            return "cancelled (process group killed)"
        return f"exit {self.exit_code}"

    def text(self) -> str:
        """Output plus a trailer a reader (or a model) cannot miss when something is off."""
        body = self.output.rstrip("\n") or "(no output)"
        notes = []
        if self.truncated:
            notes.append(f"[output truncated: {self.omitted_bytes} bytes omitted from the middle]")
        if self.timed_out or self.cancelled or self.exit_code not in (0, None):
            notes.append(f"[{self.summary()}]")
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


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(command: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT,
                cap: int = DEFAULT_CAP, cancel: threading.Event | None = None,
                env: dict[str, str] | None = None,
                on_output: Callable[[str], None] | None = None) -> CommandResult:
    """``on_output`` gets the output as it arrives (whole characters, uncapped) so a
    front end can stream it; the result still holds the capped head + tail."""
    start = time.monotonic()
    proc = subprocess.Popen(
        ["/bin/sh", "-c", command], cwd=str(cwd), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, **(env or {})},
    )
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
            _kill_group(proc)
            proc.wait()
            break
    # A grandchild that escaped to its own session could hold the pipe open forever.
    reader.join(timeout=2.0)
    if reader.is_alive():
        _kill_group(proc)
        reader.join(timeout=2.0)
    if not reader.is_alive():
        proc.stdout.close()
    killed = timed_out or cancelled
    return CommandResult(
        command=command, exit_code=None if killed else proc.returncode, output=buf.text(),
        truncated=buf.omitted > 0, omitted_bytes=buf.omitted, timed_out=timed_out,
        cancelled=cancelled, duration=time.monotonic() - start,
    )
