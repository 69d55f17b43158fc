"""A lane's diff for a reader (the app's view, the agent's tool), streamed as git writes
it: the two git processes of ``core.lanes.diff_cmd``, whose output is handed on in
chunks, so the first screen of a very large diff shows while git still works on the
rest. ``cancel`` stops both processes from any thread; leaving the ``with`` block reaps
them, so nothing outlives the stream.
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
from core.lanes.diff_cmd import LIST_ARGS, diff_args, failure, untracked_note, untracked_paths

CHUNK = 64 * 1024


class DiffStream:
    """Read it with ``chunks()``."""

    def __init__(self, name: str, path: Path, base: str):
        self.name = name
        self.cancelled = threading.Event()
        argv, env = git.command(diff_args(base))
        list_argv, _ = git.command(LIST_ARGS)
        self.diff = subprocess.Popen(argv, cwd=path, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
            raise failure(self.name, code, b"".join(self._err))
        return untracked_note(untracked_paths(b"".join(self._untracked)))

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
