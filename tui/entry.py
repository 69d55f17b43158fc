"""The `worklanes` command's first step (``python -m tui`` too): `wt diff NAME` on a
healthy workspace runs from here, before the command line is imported, and everything
else goes on to ``tui.cli``.

The command line (click and its commands) takes longer to import than a diff of a
small lane takes git; `wt diff` is what one runs again and again while a lane's agent
works, so its git starts first (``core.lanes.diff_cmd``). Anything the quick path is
not sure of takes the full path, which gives the same output and reports what is wrong.
"""

from __future__ import annotations

import os
import sys

from core.errors import WorklanesError


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 3 and args[:2] == ["wt", "diff"] and not args[2].startswith("-"):
        _quick_diff(args[2])
    from tui.cli import main as cli

    cli()


def _quick_diff(name: str) -> None:
    """Exits when it showed the diff or an error; returns for the full path to decide."""
    from core.lanes.diff_cmd import quick_lane, write_diff

    try:
        out = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return   # no file behind stdout
    try:
        lane = quick_lane(os.getcwd(), name)
        if lane is None:
            return
        write_diff(name, *lane, out)
        code = 0
    except KeyboardInterrupt:
        print("\nworklanes: aborted", file=sys.stderr)   # as click says it (off the ^C line)
        code = 1
    except (WorklanesError, OSError) as exc:
        code = report(exc)
    raise SystemExit(code)


def report(exc: WorklanesError | OSError) -> int:
    """The one line a command that failed ends on, and its exit code: every
    WorklanesError, and OS errors (disk full, permissions), never a traceback."""
    if isinstance(exc, WorklanesError):
        print(f"worklanes: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, BrokenPipeError):
        # The reader left (`task list | head`): nothing went wrong. Quiet, with the
        # status git has then, and stdout pointed at nothing so exit's flush is too.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141
    where = f" ({exc.filename})" if exc.filename else ""
    print(f"worklanes: {exc.strerror or exc}{where}; check free disk space and permissions, "
          "then retry", file=sys.stderr)
    return 1
