"""Durable file primitives: atomic JSON writes, locked read-modify-write, one-write appends."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from core.errors import ConflictError, CorruptFileError

LOCK_TIMEOUT = 30.0


def atomic_write_text(path: Path, text: str) -> None:
    """Write so that readers see the old file or the new one, never a torn one.

    A kill -9 at any moment leaves at worst a stray temp file (``.name.*.tmp``), which
    readers ignore, because the rename is the only step that touches the real name.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def read_bytes(path: Path | str) -> bytes:
    """The whole file. os.read on a bare descriptor skips the buffered file object that
    open() builds, which was half the cost of reading a board of 1,000 small files."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """Parse a JSON file or raise CorruptFileError naming it (FileNotFoundError passes through)."""
    return parse_json(read_bytes(path), path)


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
        raise ConflictError(f"{lock_path} stayed locked by another process for {timeout:g}s; "
                            "let it finish (a worklanes command or agent) and retry") from None
    try:
        yield
    finally:
        lock.release()


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write() on an O_APPEND descriptor, so concurrent
    writers never interleave inside a line."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
