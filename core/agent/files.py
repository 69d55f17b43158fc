"""File access confined to a root directory, without check-then-use races.

A path is never handed to the kernel whole. It is walked one component at a time from a
descriptor of the root, each directory opened with ``O_NOFOLLOW`` relative to the one
before (``os.open(..., dir_fd=...)``, i.e. openat). A symlink is never followed by the
kernel: its target is read and walked the same way, so one that points inside the root
works and one that points out is refused. ``..`` pops the walk's own stack of open
directories, never the kernel's parent, and cannot go above the root. A concurrent
process renaming directories and swapping in symlinks can therefore make a call fail,
but never make it read or write outside the root. Before any byte moves, the opened
directory's real location is checked against the root once more, so a directory moved
out of the root between the walk and the open is refused as well.

Only regular files are read or written: a FIFO, socket or device is refused without
blocking (opened ``O_NONBLOCK``, judged by ``fstat`` of the open descriptor), and the
size is checked on that same descriptor before reading. Writes go to a temporary file
in the same directory and are renamed over the name, so a symlink or hard link at the
target is replaced, never written through.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from core.errors import WorklanesError

MAX_HOPS = 40   # symlinks followed in one path, as the kernel allows
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}


class ToolError(WorklanesError):
    """A tool call that cannot run as asked (bad argument, path outside its root...)."""


@dataclass(frozen=True)
class Root:
    """A directory file tools may touch. ``protected`` are top-level names never
    written (the state folders, in the main checkout); ``.git`` never is, anywhere."""
    path: Path
    label: str                    # "repository", "lane 'feat'": for messages
    protected: tuple[str, ...] = ()


@dataclass
class Located:
    dir_fd: int          # the open directory that holds the last component
    name: str            # the last component
    parts: list[str]     # the resolved path below the root


def _outside(path: str, root: Root) -> ToolError:
    return ToolError(f"path {path!r} is outside the {root.label} ({root.path}); file tools only "
                     "work inside it")


def _start(path: str, root: Root) -> list[str]:
    """The components of ``path`` below the root; an absolute path must name a place
    inside it."""
    if os.path.isabs(path):
        rel = os.path.relpath(os.path.normpath(path), root.path)
        if rel == ".." or rel.startswith("../"):
            raise _outside(path, root)
        path = rel
    norm = os.path.normpath(path)
    if norm == ".." or norm.startswith("../"):   # refused before anything is created
        raise _outside(path, root)
    return path.split("/")


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


@contextmanager
def locate(root: Root, path: object, write: bool = False,
           make_dirs: bool = False) -> Iterator[Located]:
    """Walk ``path`` below ``root`` (see the module docstring); yields where its last
    component lives. ``write`` enforces the never-written folders; ``make_dirs``
    creates missing folders on the way."""
    if not isinstance(path, str) or not path.strip():
        raise ToolError("path must be a non-empty string")
    if "\0" in path:
        raise ToolError("path contains a NUL byte")
    root_fd = os.open(root.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fds, names = [root_fd], []
    todo, hops = _start(path, root), 0

    def follow(link_dir: int, name: str) -> bool:
        """Put the symlink's target in front of the rest; False if it is no longer one."""
        nonlocal todo, hops, fds, names
        hops += 1
        if hops > MAX_HOPS:
            raise ToolError(f"path {path!r} has too many levels of symbolic links")
        try:
            target = os.readlink(name, dir_fd=link_dir)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return False   # swapped meanwhile: look at it again
            raise
        if os.path.isabs(target):
            rel = os.path.relpath(os.path.normpath(target), root.path)
            if rel == ".." or rel.startswith("../"):
                raise _outside(path, root)
            for fd in fds[1:]:
                os.close(fd)
            fds, names = [root_fd], []
            target = rel
        todo = target.split("/") + todo
        return True

    try:
        while True:
            if not todo:
                raise ToolError(f"path {path!r} names the {root.label} itself, not a file")
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not names:
                    raise _outside(path, root)
                os.close(fds.pop())
                names.pop()
                continue
            if write and (part == ".git" or (not names and part in root.protected)):
                if part == ".git":
                    raise ToolError(f"path {path!r} is inside .git; file tools never write there")
                raise ToolError(
                    f"path {path!r} is in worklanes' state folder {part}/; use the task_* and "
                    "worktree_* tools, and the worktree argument to edit files in a lane")
            if not any(p not in ("", ".") for p in todo):   # the last component
                try:
                    st = os.stat(part, dir_fd=fds[-1], follow_symlinks=False)
                except FileNotFoundError:
                    st = None
                if st is not None and stat.S_ISLNK(st.st_mode):
                    if not follow(fds[-1], part):
                        todo.insert(0, part)
                    continue
                yield Located(fds[-1], part, names + [part])
                return
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=fds[-1])
            except FileNotFoundError:
                if not make_dirs:
                    raise ToolError(f"{path!r} does not exist in the {root.label} "
                                    f"({'/'.join(names + [part])} is missing)") from None
                try:
                    os.mkdir(part, 0o777, dir_fd=fds[-1])
                except FileExistsError:
                    pass
                todo.insert(0, part)
                continue
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = os.stat(part, dir_fd=fds[-1], follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    if not follow(fds[-1], part):
                        todo.insert(0, part)
                    continue
                raise ToolError(f"path {path!r}: {'/'.join(names + [part])} is not a "
                                "directory") from None
            fds.append(fd)
            names.append(part)
    finally:
        for fd in fds:
            os.close(fd)


def _still_inside(loc: Located, root: Root, path: str) -> None:
    """The directory we hold may have been renamed out of the root since we opened it."""
    try:
        where = os.readlink(f"/proc/self/fd/{loc.dir_fd}")
    except OSError:
        return   # no /proc: the walk alone has to do
    real_root = str(root.path)
    if where != real_root and not where.startswith(real_root.rstrip("/") + "/"):
        raise _outside(path, root)


def _open_regular(loc: Located, root: Root, path: str, flags: int) -> tuple[int, os.stat_result]:
    try:
        fd = os.open(loc.name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     dir_fd=loc.dir_fd)
    except FileNotFoundError:
        raise ToolError(f"{path!r} does not exist in the {root.label} (FileNotFoundError)") from None
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EWOULDBLOCK):
            raise
        try:   # say what is there: a socket (ENXIO), a symlink swapped in (ELOOP), ...
            mode = os.stat(loc.name, dir_fd=loc.dir_fd, follow_symlinks=False).st_mode
        except OSError:
            mode = 0
        what = ("a directory" if stat.S_ISDIR(mode) else
                "a symbolic link that appeared while it was opened" if stat.S_ISLNK(mode) else
                _kind(mode) if mode else "gone")
        raise ToolError(f"{path!r} is {what}; file tools only open regular files") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{path!r} is a directory; use bash (ls) to list it")
        if not stat.S_ISREG(st.st_mode):
            raise ToolError(f"{path!r} is {_kind(st.st_mode)}; file tools only open regular files")
        _still_inside(loc, root, path)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_bytes(root: Root, path: str, limit: int) -> tuple[bytes, int]:
    """At most ``limit`` bytes from the start of the file, and its whole size."""
    with locate(root, path) as loc:
        fd, st = _open_regular(loc, root, path, os.O_RDONLY)
    try:
        chunks, left = [], min(limit, st.st_size) if st.st_size else limit
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), st.st_size
    finally:
        os.close(fd)


def read_for_edit(root: Root, path: str, limit: int) -> tuple[bytes, int]:
    """The whole file and its mode; refused (before reading) when larger than ``limit``."""
    with locate(root, path, write=True) as loc:
        fd, st = _open_regular(loc, root, path, os.O_RDONLY)
    try:
        if st.st_size > limit:
            raise ToolError(f"{path!r} is {st.st_size} bytes; edit_file works on files up to "
                            f"{limit} bytes (use bash for bigger ones)")
        data = os.read(fd, limit + 1)
        while len(data) <= limit and (more := os.read(fd, limit + 1 - len(data))):
            data += more
        if len(data) > limit:
            raise ToolError(f"{path!r} grew past {limit} bytes while it was read")
        return data, stat.S_IMODE(st.st_mode)
    finally:
        os.close(fd)


def write_bytes(root: Root, path: str, data: bytes, mode: int | None = None) -> None:
    """Replace (or create) the file: a temporary file in the same open directory, renamed
    over the name. An existing regular file keeps its mode; anything else there (a
    directory, FIFO, socket, device) is refused."""
    with locate(root, path, write=True, make_dirs=True) as loc:
        try:
            st = os.stat(loc.name, dir_fd=loc.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise ToolError(f"{path!r} is a directory")
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise ToolError(f"{path!r} is {_kind(st.st_mode)}; file tools only write regular files")
        if mode is None and st is not None:
            mode = stat.S_IMODE(st.st_mode)
        tmp = f".{loc.name[:100]}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o666, dir_fd=loc.dir_fd)
        try:
            try:
                if mode is not None:
                    os.fchmod(fd, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            _still_inside(loc, root, path)
            os.rename(tmp, loc.name, src_dir_fd=loc.dir_fd, dst_dir_fd=loc.dir_fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=loc.dir_fd)
            except OSError:
                pass
            raise
