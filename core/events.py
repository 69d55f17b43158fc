"""The append-only lifecycle log, ``.worktrees/events.jsonl``, in the seed's shape.

Writers append one line with one write. Readers never load the whole file: ``tail``
seeks back from the end, ``EventFollower`` reads forward from a byte offset and copes
with partial last lines, truncation and the file being replaced.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from core.fsutil import append_line
from core.secrets import scrub_obj

PARSE_ERROR = "parse_error"


def parse_line(line: bytes | str) -> dict[str, Any]:
    """A line that is not a JSON object comes back as a ``parse_error`` event (as in the
    seed), so one bad line never hides the rest of the log."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    line = line.rstrip("\r\n")
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if not isinstance(obj, dict) or "event" not in obj:
        return {"event": PARSE_ERROR, "raw": line[:500], "ts": None, "task": {}, "worktree": {}}
    return obj


class EventLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def emit(self, event: str, task: dict | None = None, worktree: dict | None = None,
             error: str | None = None, **extra: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event": event,
            "ts": time.time(),
            "task": task or {},
            "worktree": worktree or {},
        }
        if error:
            payload["error"] = error
        payload.update(extra)
        payload = scrub_obj(payload)   # the README promises: no key in anything written
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append_line(self.path, json.dumps(payload, ensure_ascii=False, default=str))
        return payload

    def tail(self, n: int = 20) -> list[dict[str, Any]]:
        """The last ``n`` events, reading backwards in blocks: cost grows with ``n``,
        not with the size of the log."""
        if n <= 0:
            return []
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return []
        with fh:
            end = fh.seek(0, os.SEEK_END)
            pos, block, data = end, 65536, b""
            while pos > 0 and data.count(b"\n") <= n:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                data = fh.read(step) + data
        lines = [ln for ln in data.split(b"\n") if ln.strip()]
        if pos > 0:
            lines = lines[1:]  # the first piece may start mid-line
        return [parse_line(ln) for ln in lines[-n:]]

    def follower(self, from_end: bool = True) -> "EventFollower":
        return EventFollower(self.path, from_end=from_end)


class EventFollower:
    """Incremental reader: each ``poll()`` returns the complete lines added since the last.

    Identity is (device, inode): if the file is replaced (log rotation, an editor's atomic
    save) or truncated, reading restarts from the top of the new content.
    """

    def __init__(self, path: Path, from_end: bool = True):
        self.path = Path(path)
        self.offset = 0
        self._ident: tuple[int, int] | None = None
        self._partial = b""
        self._skip_partial = False  # started mid-line: drop that line's tail
        if from_end:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                return
            self._ident = (st.st_dev, st.st_ino)
            self.offset = st.st_size
            # Start at a line boundary even if a writer is mid-line right now.
            if st.st_size:
                with open(self.path, "rb") as fh:
                    fh.seek(st.st_size - 1)
                    if fh.read(1) != b"\n":
                        self._skip_partial = True

    def poll(self, max_bytes: int = 8 * 1024 * 1024) -> list[dict[str, Any]]:
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            self._ident, self.offset, self._partial = None, 0, b""
            return []
        with fh:
            st = os.fstat(fh.fileno())
            ident = (st.st_dev, st.st_ino)
            if ident != self._ident or st.st_size < self.offset:
                self._ident, self.offset, self._partial = ident, 0, b""
                self._skip_partial = False
            if st.st_size == self.offset:
                return []
            fh.seek(self.offset)
            chunk = fh.read(max_bytes)
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished line waits for its newline
        if self._skip_partial and lines:
            lines = lines[1:]
            self._skip_partial = False
        return [parse_line(ln) for ln in lines if ln.strip()]
