"""What a lane's diff is (the two git commands and the note that follows them), and
`wt diff`'s way of showing it: git writes straight to the terminal.

Two git processes, started together: ``git diff --merge-base BASE --stat --patch``
(commits and uncommitted edits against the fork point, in one working-tree scan) and
``git ls-files --others --exclude-standard -z`` (the untracked files, which no diff can
show, listed after it). The app's view and the agent's tool read the same two through
``core.lanes.diff.DiffStream``.

`wt diff NAME` is the one command whose own work is a fraction of a second of git's, so
what Python does before git starts shows in its time: the entry point (``tui.entry``)
asks ``quick_lane`` for the lane before it imports the command line, and this module
imports nothing but ``os``, ``json``, ``signal`` and the core's lean readers. Whatever
is not plainly healthy (an operation to recover, an index that does not parse, a lane
that is not there) is left to the full command, which opens the workspace and says
what is wrong.
"""

from __future__ import annotations

import json
import os
from signal import SIGKILL, SIGPIPE, SIGXFSZ

from core.errors import GitError
from core.gitenv import git_env
from core.layout import plain_layout
from core.paths import INDEX_FILE, STATE_DIR
from core.records import find_entry, index_shape_error, lane_base, may_hold_intent

LIST_ARGS = ("ls-files", "--others", "--exclude-standard", "-z")


def diff_args(base: str) -> list[str]:
    return ["diff", "--merge-base", base, "--stat", "--patch", "--no-color"]


def untracked_note(paths: list[str]) -> str:
    """How untracked files are listed after the diff."""
    if not paths:
        return ""
    return "\n" + "".join(f"?? {p} (untracked, not in the diff)\n" for p in paths)


def untracked_paths(listing: bytes) -> list[str]:
    """``ls-files -z`` output as paths."""
    return [n for n in listing.decode("utf-8", "replace").split("\0") if n]


def failure(name: str, code: int, err: bytes) -> GitError:
    from core.git import GitResult   # only when git failed: its message's one reader

    res = GitResult(code, "", err.decode("utf-8", "replace"))
    return GitError(f"diff of lane {name!r} failed: {res.message()}")


def quick_lane(cwd: str, name: str) -> tuple[str, str] | None:
    """(path, base) of a live lane of a healthy workspace, read straight from the index;
    None for anything else (the full command reports it)."""
    found = plain_layout(cwd)
    if found is None:
        return None
    try:
        with open(os.path.join(found[0], STATE_DIR, INDEX_FILE), "rb") as fh:
            raw = fh.read()
        if may_hold_intent(raw):
            return None   # opening the workspace recovers it first
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if index_shape_error(data):
        return None
    entry = find_entry(data, name)
    if entry is None or entry.get("status") == "removed" or not os.path.isdir(entry["path"]):
        return None
    return entry["path"], lane_base(entry)


def write_diff(name: str, path: str, base: str, out: int) -> None:
    """Have git write the lane's diff to file descriptor ``out`` as it goes, then write
    the untracked list after it. Raises GitError when the diff failed, BrokenPipeError
    when ``out``'s reader went away."""
    env = git_env()
    listing_r, listing_w = os.pipe()
    err_r, err_w = os.pipe()
    null = os.open(os.devnull, os.O_RDWR)
    pids: list[int] = []
    try:
        try:
            pids.append(_spawn(diff_args(base), path, env, null, out, err_w))
            pids.append(_spawn(LIST_ARGS, path, env, null, listing_w, null))
        finally:
            for fd in (listing_w, err_w, null):
                os.close(fd)
        # In turn, not together: ls-files ends on its own, and until it has, git diff
        # can only block on a full stderr pipe, which is read next.
        listing, err = _read_all(listing_r), _read_all(err_r)
        diff, lister = pids
        code = os.waitstatus_to_exitcode(_reap(pids, diff))
        _reap(pids, lister)
    finally:
        for pid in list(pids):   # interrupted (Ctrl-C): nothing is left running
            os.kill(pid, SIGKILL)
            _reap(pids, pid)
        os.close(listing_r)
        os.close(err_r)
    if code == -SIGPIPE:
        raise BrokenPipeError("the diff's reader went away")
    if code != 0:
        raise failure(name, code, err)
    data = untracked_note(untracked_paths(listing)).encode("utf-8", "surrogateescape")
    while data:
        data = data[os.write(out, data):]


def _spawn(args, path: str, env: dict[str, str], stdin: int, stdout: int, stderr: int) -> int:
    # As subprocess does for its children: SIGPIPE back to its default (Python ignores
    # it), so git stops quietly when the reader (`| head`) leaves.
    return os.posix_spawnp("git", ["git", "-C", path, *args], env,
                           file_actions=[(os.POSIX_SPAWN_DUP2, stdin, 0),
                                         (os.POSIX_SPAWN_DUP2, stdout, 1),
                                         (os.POSIX_SPAWN_DUP2, stderr, 2)],
                           setsigdef=(SIGPIPE, SIGXFSZ))


def _reap(pids: list[int], pid: int) -> int:
    status = os.waitpid(pid, 0)[1]
    pids.remove(pid)
    return status


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
