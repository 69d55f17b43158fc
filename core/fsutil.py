"""Durable file primitives: atomic JSON writes, locked read-modify-write, one-write appends."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from core.errors import CorruptFileError, LockedError, WorklanesError
from core.paths import TEMP_SUFFIX, temp_prefix

LOCK_TIMEOUT = 30.0


def atomic_write_text(path: Path, text: str) -> None:
    """Write so that readers see the old file or the new one, never a torn one.

    A kill -9 at any moment leaves at worst a stray temp file (``.name.*.tmp``), which
    readers ignore, because the rename is the only step that touches the real name.
    """
    path = Path(path)
    try:
        import tempfile  # on first write: a board read (most commands) never pays for it

        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=TEMP_SUFFIX,
                                   dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


class StateWriteError(WorklanesError, OSError):
    """A state file could not be written (disk full, permissions...); the old file is
    intact. Still an OSError, so callers that survive a failed write keep doing so."""


def write_error(path: Path, exc: OSError) -> StateWriteError:
    return StateWriteError(f"cannot write {path} ({exc.strerror or exc}); nothing was changed "
                           "there - free disk space or fix permissions and retry")


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 16


def read_bytes(path: Path | str) -> bytes:
    """The whole file. os.read on a bare descriptor skips the buffered file object that
    open() builds, which was half the cost of reading a board of 1,000 small files; a
    read shorter than asked is the end of a regular file, so a small one is one read."""
    fd = os.open(path, _READ_FLAGS)
    try:
        chunk = os.read(fd, _CHUNK)
        if len(chunk) < _CHUNK:
            return chunk
        chunks = [chunk]
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """Parse a JSON file or raise CorruptFileError naming it (FileNotFoundError passes through)."""
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise CorruptFileError(Path(path), "it is a directory, not a file") from None
    except OSError as exc:
        raise CorruptFileError(Path(path), f"unreadable: {exc.strerror or exc}") from None
    return parse_json(raw, path)


def parse_json(raw: bytes, path: Path | str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = "empty file" if not raw.strip() else str(exc).split("\n")[0]
        raise CorruptFileError(Path(path), reason) from None


@contextmanager
def locked(lock_path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an inter-process lock on a separate lock file (never on the data file itself,
    which is replaced atomically and so cannot carry a lock)."""
    from filelock import FileLock, Timeout  # lazy: readers (and the first paint) never lock

    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        # The lock is an flock: it dies with its holder, so this is a live process.
        raise LockedError(f"{lock_path} stayed locked by another process for {timeout:g}s; "
                            "let it finish (a worklanes command or agent) and retry") from None
    try:
        yield
    finally:
        lock.release()


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write() on an O_APPEND descriptor, so concurrent
    writers never interleave inside a line."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise write_error(Path(path), exc) from None
    try:
        # A line torn by an earlier writer (killed, disk full, the seed) must not swallow
        # this one: start on a fresh line when the file does not end with one.
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(28, "short write (disk full?)")
    except OSError as exc:
        raise write_error(Path(path), exc) from None
    finally:
        os.close(fd)
