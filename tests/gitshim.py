"""A `git` first on PATH that runs the real git, counts and logs each call, and stalls
forever after the call numbered ``WL_STALL_AT`` (so a test can kill -9 the process that
ran it at exactly that step)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SHIM = """#!/bin/sh
"{real}" "$@"
rc=$?
n=$(( $(cat "$WL_SHIM_DIR/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$WL_SHIM_DIR/count"
printf '%s %s\n' "$n" "$(printf '%s' "$*" | tr '\n' ' ')" >> "$WL_SHIM_DIR/log"
if [ "$n" = "${{WL_STALL_AT:-0}}" ]; then
  : > "$WL_SHIM_DIR/stalled"
  exec sleep 600
fi
exit $rc
"""

ROOT = Path(__file__).resolve().parents[1]


def install(folder: Path) -> Path:
    """Write the shim into ``folder/bin`` and return that folder (prepend it to PATH)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    real = shutil.which("git")
    (bin_dir / "git").write_text(SHIM.format(real=real))
    (bin_dir / "git").chmod(0o755)
    return bin_dir


def run_until(bin_dir: Path, cwd: Path, args: list[str], stall_at: int) -> tuple[bool, list[str]]:
    """Run ``python -m tui *args`` with the shim; if it reaches git call ``stall_at``,
    kill -9 the whole process group there. Returns (killed, the git calls it made)."""
    state = bin_dir.parent / "state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "WL_SHIM_DIR": str(state), "WL_STALL_AT": str(stall_at), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    killed = False
    while True:
        if (state / "stalled").exists():
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.wait(timeout=30)
    log = (state / "log").read_text().splitlines() if (state / "log").exists() else []
    return killed, log
