"""A lane's diff, streamed: everything it changed since it left its base.

Two git processes, started together: ``git diff --merge-base BASE --stat --patch``
(commits and uncommitted edits against the fork point, in one working-tree scan) and
``git ls-files --others --exclude-standard -z`` (the untracked files, which no diff can
show, listed after it). The diff's output is handed on as git writes it - straight to a
file descriptor (the CLI's stdout: git writes to the terminal itself) or in chunks to a
reader (the app's view, the agent's tool) - so the first screen of a very large diff
shows while git still works on the rest. ``cancel`` stops both processes from any
thread; leaving the ``with`` block reaps them, so nothing outlives the stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from codecs import getincrementaldecoder
from pathlib import Path
from typing import Iterator

from core import git
from core.errors import GitError

CHUNK = 64 * 1024


def diff_args(base: str) -> list[str]:
    return ["diff", "--merge-base", base, "--stat", "--patch", "--no-color"]


def untracked_note(paths: list[str]) -> str:
    """How untracked files are listed after the diff."""
    if not paths:
        return ""
    return "\n" + "".join(f"?? {p} (untracked, not in the diff)\n" for p in paths)


class DiffStream:
    """``stdout``: a file descriptor git writes the diff to directly; without one, read
    it with ``chunks()``."""

    def __init__(self, name: str, path: Path, base: str, stdout: int | None = None):
        self.name = name
        self.cancelled = threading.Event()
        argv, env = git.command(diff_args(base))
        list_argv, _ = git.command(["ls-files", "--others", "--exclude-standard", "-z"])
        self.diff = subprocess.Popen(argv, cwd=path, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if stdout is None else stdout,
                                     stderr=subprocess.PIPE)
        self.listing = subprocess.Popen(list_argv, cwd=path, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # Both drained in threads so that neither a chatty stderr nor a long untracked
        # list can fill a pipe and stall git while the diff is being read.
        self._err: list[bytes] = []
        self._untracked: list[bytes] = []
        self._drains = [threading.Thread(target=_drain, args=(self.diff.stderr, self._err), daemon=True),
                        threading.Thread(target=_drain, args=(self.listing.stdout, self._untracked),
                                         daemon=True)]
        for t in self._drains:
            t.start()

    def __enter__(self) -> "DiffStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chunks(self, size: int = CHUNK) -> Iterator[str]:
        """The diff as it arrives, then the untracked list; raises GitError if git
        failed. Ends early, quietly, once cancelled."""
        decoder = getincrementaldecoder("utf-8")("replace")
        out = self.diff.stdout
        assert out is not None, "a stream writing to a file descriptor has no chunks"
        while not self.cancelled.is_set():
            data = os.read(out.fileno(), size)
            if not data:
                break
            text = decoder.decode(data)
            if text:
                yield text
        if self.cancelled.is_set():
            return
        tail = decoder.decode(b"", final=True) + self.finish()
        if tail:
            yield tail

    def finish(self) -> str:
        """Wait for git; the untracked list to print after the diff. Raises GitError
        when the diff failed ("" when its reader went away: a closed pipe)."""
        code = self.diff.wait()
        for t in self._drains:
            t.join()
        self.listing.wait()
        if code == -signal.SIGPIPE or self.cancelled.is_set():
            return ""
        if code != 0:
            res = git.GitResult(code, "", b"".join(self._err).decode("utf-8", "replace"))
            raise GitError(f"diff of lane {self.name!r} failed: {res.message()}")
        names = b"".join(self._untracked).decode("utf-8", "replace").split("\0")
        return untracked_note([n for n in names if n])

    def cancel(self) -> None:
        """Stop both git processes and what they started (an external diff driver, a
        textconv filter) now; safe from any thread."""
        self.cancelled.set()
        for proc in (self.diff, self.listing):
            if proc.poll() is None:
                git.kill_tree(proc)

    def close(self) -> None:
        if self.diff.poll() is None or self.listing.poll() is None:
            self.cancel()
        for proc in (self.diff, self.listing):
            proc.wait()
        for t in self._drains:
            t.join()
        for pipe in (self.diff.stdout, self.diff.stderr, self.listing.stdout):
            if pipe is not None:
                pipe.close()


def _drain(stream, into: list[bytes]) -> None:
    if stream is not None:
        into.append(stream.read())
