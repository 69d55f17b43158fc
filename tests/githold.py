"""A real ``git`` behind a shim first on PATH that holds before or after a chosen subcommand
before or after a chosen one, so a test can kill -9 a worklanes process at an exact git
step (the stall is a hold file the test controls, never a sleep it guesses)."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = """#!/bin/sh
sub=""; skip=0
for a do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -c|-C) skip=1;; -*) ;; *) sub="$a"; break;; esac
done
[ -n "$SHIM_LOG" ] && echo "$sub" >> "$SHIM_LOG"
stall() {
  if [ "$sub" = "$SHIM_STALL" ] && [ "$SHIM_WHEN" = "$1" ]; then
    : > "$SHIM_MARK"
    while [ -e "$SHIM_HOLD" ]; do sleep 0.02; done
  fi
}
stall before
"$SHIM_REAL_GIT" "$@"; rc=$?
stall after
exit $rc
"""


@dataclass
class GitShim:
    dir: Path
    log: Path
    mark: Path
    hold: Path

    def env(self, stall: str = "", when: str = "after") -> dict[str, str]:
        """Environment for a process that should go through the shim."""
        self.hold.touch()
        return {"PATH": f"{self.dir}{os.pathsep}{os.environ['PATH']}", "SHIM_LOG": str(self.log),
                "SHIM_STALL": stall, "SHIM_WHEN": when, "SHIM_MARK": str(self.mark),
                "SHIM_HOLD": str(self.hold), "SHIM_REAL_GIT": shutil.which("git") or "git"}

    def wait_stalled(self, proc=None, timeout: float = 60) -> None:
        """Until the shim reports it is holding (or the process died first)."""
        deadline = time.monotonic() + timeout
        while not self.mark.exists():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"process ended (code {proc.returncode}) before the stall")
            if time.monotonic() > deadline:
                raise AssertionError("the git shim never reached its stall point")
            time.sleep(0.02)

    def release(self) -> None:
        self.hold.unlink(missing_ok=True)

    def calls(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []


def make_shim(tmp: Path) -> GitShim:
    d = Path(tmp) / "shim"
    d.mkdir(parents=True, exist_ok=True)
    script = d / "git"
    script.write_text(_SCRIPT)
    script.chmod(0o755)
    return GitShim(dir=d, log=d / "calls.log", mark=d / "stalled", hold=d / "hold")
