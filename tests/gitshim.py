"""A real ``git`` behind a shim first on PATH, for the tests that need to see or stop git.

It logs every call (numbered, with its subcommand and arguments) and can hold one: the
call numbered ``at`` (after it ran), or the first call of a named subcommand, before or
after it runs. A held call waits on a hold file the test controls - never a sleep it
guesses - so a test can kill -9 a worklanes process at an exact git step, or change
something while it waits, then release it. The same shim serves the tests that only
count git processes (no hold asked for)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The subcommand is the first argument that is not an option (-C and -c take a value).
# Calls are numbered when they end, in the order they end: the kill tests stop "after
# call k", so k counts the git steps that completed.
_SCRIPT = """#!/bin/sh
sub=""; skip=0
for a do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -c|-C) skip=1;; -*) ;; *) sub="$a"; break;; esac
done
hold() {
  : > "$SHIM_DIR/stalled"
  while [ -e "$SHIM_DIR/hold" ]; do sleep 0.02; done
}
[ "$SHIM_WHEN" = before ] && [ -n "$sub" ] && [ "$sub" = "$SHIM_STALL" ] && hold
"$SHIM_REAL_GIT" "$@"; rc=$?
n=$(( $(cat "$SHIM_DIR/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$SHIM_DIR/count"
printf '%s %s %s\\n' "$n" "${sub:--}" "$(printf '%s' "$*" | tr '\\n' ' ')" >> "$SHIM_DIR/log"
if [ "$n" = "${SHIM_AT:-0}" ] || { [ "$SHIM_WHEN" = after ] && [ -n "$sub" ] \\
    && [ "$sub" = "$SHIM_STALL" ]; }; then
  hold
fi
exit $rc
"""


@dataclass
class GitShim:
    dir: Path

    @property
    def log(self) -> Path:
        return self.dir / "log"

    @property
    def mark(self) -> Path:
        return self.dir / "stalled"

    @property
    def hold(self) -> Path:
        return self.dir / "hold"

    def env(self, stall: str = "", when: str = "after", at: int = 0) -> dict[str, str]:
        """Environment for a process that should go through the shim, starting a fresh
        log: hold the first ``stall`` subcommand (``when`` before or after it ran), or
        the call numbered ``at``; neither: only log."""
        for name in ("log", "count", "stalled"):
            (self.dir / name).unlink(missing_ok=True)
        self.hold.touch()
        return {"PATH": f"{self.dir}{os.pathsep}{os.environ['PATH']}", "SHIM_DIR": str(self.dir),
                "SHIM_STALL": stall, "SHIM_WHEN": when, "SHIM_AT": str(at),
                "SHIM_REAL_GIT": shutil.which("git") or "git"}

    def stalled(self) -> bool:
        return self.mark.exists()

    def wait_stalled(self, proc=None, timeout: float = 60) -> None:
        """Until the shim reports it is holding (or the process died first)."""
        deadline = time.monotonic() + timeout
        while not self.stalled():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"process ended (code {proc.returncode}) before the stall")
            if time.monotonic() > deadline:
                raise AssertionError("the git shim never reached its stall point")
            time.sleep(0.02)

    def release(self) -> None:
        self.hold.unlink(missing_ok=True)

    def lines(self) -> list[str]:
        """``N subcommand args`` for every call that ended, in order."""
        return self.log.read_text().splitlines() if self.log.exists() else []

    def calls(self) -> list[str]:
        """The subcommand of every call that ended, in order."""
        return [line.split(" ", 2)[1] for line in self.lines()]

    def clear(self) -> None:
        self.log.write_text("")


def make_shim(tmp: Path) -> GitShim:
    """The shim in ``tmp/shim`` (put first on PATH by ``env()``)."""
    d = Path(tmp) / "shim"
    d.mkdir(parents=True, exist_ok=True)
    script = d / "git"
    script.write_text(_SCRIPT)
    script.chmod(0o755)
    return GitShim(d)


def run_until(shim: GitShim, cwd: Path, args: list[str], stall_at: int) -> tuple[bool, list[str]]:
    """Run ``python -m tui *args`` through the shim; if it reaches the end of git call
    ``stall_at``, kill -9 its whole process group there. Returns (killed, the git calls it
    made, one ``N subcommand args`` line each)."""
    env = {**os.environ, **shim.env(at=stall_at), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    killed = False
    try:
        while True:
            if shim.stalled():
                os.killpg(proc.pid, signal.SIGKILL)   # the CLI and the git it waits on
                killed = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        proc.wait(timeout=30)
    finally:
        shim.release()
    return killed, shim.lines()
