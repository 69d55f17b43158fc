"""The one way core talks to git: a git process a call, its errors turned into one-line
messages. Plain ``subprocess``, not GitPython's command wrapper: that wrapper cost every
lane command ~55-70 ms of imports and a ``git version`` process before its first real
call, and added nothing ``run`` needs (no Repo objects are ever kept either way)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from core.errors import GitError
from core.repo import RepoPaths, find_repo  # noqa: F401  (their home before core.repo)
from core.gitenv import git_env


@dataclass(frozen=True)
class GitResult:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def message(self) -> str:
        text = (self.err or self.out).strip()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        # git puts the cause in the "fatal:"/"error:" line; hints and usage come after.
        for ln in lines:
            if ln.startswith(("fatal:", "error:")):
                return ln.split(":", 1)[1].strip()
        return lines[0] if lines else f"git exited with {self.code}"


NO_HOOKS = ("-c", "core.hooksPath=/dev/null")   # hooks=False: the repository's hooks never run
# Set by the agent's tools around a call that is not approved command execution: every
# git process that call starts (remove's archive and branch delete too) runs hook-free.
_hooks_off: ContextVar[bool] = ContextVar("worklanes_git_hooks_off", default=False)


@contextmanager
def hooks_disabled(disabled: bool = True) -> Iterator[None]:
    token = _hooks_off.set(disabled or _hooks_off.get())
    try:
        yield
    finally:
        _hooks_off.reset(token)


def command(args: Sequence[str], env: Mapping[str, str] | None = None,
            hooks: bool = True) -> tuple[list[str], dict[str, str]]:
    """The argv and environment of ``git *args``, for ``run`` and for a caller that must
    own the process itself (a diff streamed as it arrives)."""
    if not hooks or _hooks_off.get():
        args = [*NO_HOOKS, *args]
    return ["git", *args], git_env(env)


def run(args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None,
        timeout: float | None = 120, hooks: bool = True) -> GitResult:
    """Run ``git *args`` in ``cwd``; never raises for a non-zero exit. ``hooks=False``
    (or ``hooks_disabled()`` around the call) makes sure no repository hook runs."""
    argv, full_env = command(args, env, hooks)
    if not os.path.isdir(cwd):
        return GitResult(128, "", f"fatal: cannot change to '{cwd}': No such directory")
    proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(proc)
        proc.communicate()
        return GitResult(124, "", f"error: git {args[0] if args else ''} timed out after "
                                  f"{timeout:g}s")
    return GitResult(proc.returncode, out.decode("utf-8", "surrogateescape"),
                     err.decode("utf-8", "surrogateescape"))


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a git process and what it started (a hook, a pager, a helper), which would
    otherwise hold its pipes open; then reap it."""
    pids, grew = {proc.pid}, True
    table = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                table[int(entry)] = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    while grew:
        found = {pid for pid, ppid in table.items() if ppid in pids} - pids
        grew, pids = bool(found), pids | found
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def feed(args: Sequence[str], cwd: Path, data: str, then: Sequence[str] | None = None,
         timeout: float = 120) -> GitResult:
    """``git *args`` with ``data`` on stdin, for git's batch modes (one process for many
    questions); with ``then``, its output is piped into ``git *then`` (as in
    ``diff-tree -p | patch-id``) without passing through Python."""
    argv, env = command(args)
    if then is None:
        try:
            proc = subprocess.run(argv, cwd=cwd, env=env, input=data.encode(),
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return GitResult(124, "", f"error: git {args[0]} timed out after {timeout:g}s")
        return GitResult(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                         proc.stderr.decode("utf-8", "replace"))
    first = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    last = subprocess.Popen(command(then)[0], cwd=cwd, env=env, stdin=first.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first.stdout.close()  # the reader sees EOF when the writer ends

    def write() -> None:
        try:
            first.stdin.write(data.encode())
            first.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()  # a thread, so a full pipe on either side cannot deadlock us
    try:
        out, err = last.communicate(timeout=timeout)
        first.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in (first, last):
            p.kill()
            p.wait()
        return GitResult(124, "", f"error: git {args[0]} timed out after {timeout:g}s")
    writer.join()
    code = first.returncode or last.returncode
    return GitResult(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


@contextmanager
def temp_index() -> Iterator[dict[str, str]]:
    """An environment with a throwaway index, for git work that must not touch a
    checkout's own index."""
    import tempfile  # here: core.git is on every command's path, this is not

    fd, path = tempfile.mkstemp(prefix="worklanes-index-")
    os.close(fd)
    os.unlink(path)  # git wants to create it itself
    try:
        yield {"GIT_INDEX_FILE": path}
    finally:
        if os.path.exists(path):
            os.unlink(path)
def verify(rev: str, cwd: Path, lenient: bool = False) -> str:
    """The object ``rev`` names, or "" if it names none. Any other failure (git killed,
    the repository unreadable) is asked once more and then raised, not read as "no
    such ref": remove and restore decide what to archive or delete by this answer.
    ``lenient`` keeps "" for every failure, for a checkout that may be broken or gone."""
    for _ in range(2):
        res = run(["rev-parse", "-q", "--verify", "--end-of-options", rev], cwd)
        if res.ok:
            return res.out.strip()
        if res.code == 1 or lenient:   # -q --verify: 1, silently, for an unknown name
            return ""
    raise GitError(f"git rev-parse {rev} failed: {res.message()}")


def check(args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None,
          what: str | None = None, timeout: float | None = 120, hooks: bool = True) -> str:
    """Run git and return stdout; on failure raise GitError with git's own reason."""
    res = run(args, cwd, env=env, timeout=timeout, hooks=hooks)
    if not res.ok:
        label = what or f"git {' '.join(args[:2])}"
        raise GitError(f"{label} failed: {res.message()}")
    return res.out


def head_of(common_dir: Path) -> tuple[str, bool]:
    """The main checkout's HEAD as (branch name, True), or (commit, False) when detached;
    ("", False) if unreadable. A file read, not a git process: it is asked often. Given
    a linked worktree's own git dir, that checkout's HEAD."""
    try:
        head = (Path(common_dir) / "HEAD").read_text(encoding="utf-8").strip()
    except OSError:
        return "", False
    if head.startswith("ref: refs/heads/"):
        return head[len("ref: refs/heads/"):], True
    return head, False
