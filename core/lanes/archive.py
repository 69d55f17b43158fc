"""Snapshots of a lane's work: ``refs/worklanes/archive/<lane>/<n>``, one commit each
(the work on top of the lane's HEAD), created with a reflog and never overwritten
(``update-ref`` with an empty old value fails if the ref exists). Only ``drop`` deletes
one.

Versions before numbered snapshots kept one ref, ``refs/worklanes/archive/<lane>``.
Git cannot hold ``a`` and ``a/1`` at once, so the first new snapshot of such a lane
moves the old one to ``.../<lane>/0``, through a holding ref so that a kill at any step
leaves the commit referenced (and the next snapshot finishes the move)."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core import git
from core.errors import GitError, NotFoundError

ARCHIVE_PREFIX = "refs/worklanes/archive/"
HOLDING_PREFIX = "refs/worklanes/legacy/"
_IDENT = ["-c", "user.name=worklanes", "-c", "user.email=worklanes@localhost"]
_FILES, _BYTES = "Worklanes-Files", "Worklanes-Bytes"


@dataclass
class Archive:
    lane: str
    id: str
    ref: str
    commit: str
    created_at: float | None
    files: int | None
    size: int | None
    restored: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def archive_ref(name: str, archive_id: str | int) -> str:
    return f"{ARCHIVE_PREFIX}{name}/{archive_id}"


def legacy_ref(name: str) -> str:
    return ARCHIVE_PREFIX + name


def _trailer(body: str, key: str) -> int | None:
    for line in body.splitlines():
        if line.startswith(key + ":"):
            value = line.split(":", 1)[1].strip()
            return int(value) if value.isdigit() else None
    return None


def list_archives(root: Path, name: str | None = None,
                  restored: set[str] = frozenset()) -> list[Archive]:
    """Every snapshot (of one lane, or all), oldest first per lane: one git process."""
    prefixes = [ARCHIVE_PREFIX, HOLDING_PREFIX]
    out = git.check(["for-each-ref", "--format=%(refname)%00%(objectname)%00"
                     "%(creatordate:unix)%00%(contents:body)%00%00", *prefixes], root,
                    what="listing archives")
    found: list[Archive] = []
    for rec in out.split("\0\0\n"):
        if not rec.strip():
            continue
        ref, commit, ts, body = (rec.split("\0") + ["", "", ""])[:4]
        if ref.startswith(HOLDING_PREFIX):
            lane, aid = ref[len(HOLDING_PREFIX):], "0"
        else:
            rest = ref[len(ARCHIVE_PREFIX):]
            lane, _, aid = rest.partition("/")
            aid = aid or "0"  # the legacy single ref
        if name is not None and lane != name:
            continue
        if any(a.lane == lane and a.id == aid for a in found):
            continue  # mid-migration: the same snapshot under two names
        found.append(Archive(lane, aid, ref, commit, float(ts) if ts.isdigit() else None,
                             _trailer(body, _FILES), _trailer(body, _BYTES), ref in restored
                             or archive_ref(lane, aid) in restored))
    found.sort(key=lambda a: (a.lane, int(a.id) if a.id.isdigit() else -1))
    return found


def find_archive(root: Path, name: str, archive_id: str) -> Archive:
    for a in list_archives(root, name):
        if a.id == str(archive_id):
            return a
    raise NotFoundError(f"lane {name!r} has no archive {archive_id!r}; "
                        f"`worklanes wt archives {name}` lists them")


def migrate_legacy(root: Path, name: str) -> None:
    """Move ``archive/<name>`` to ``archive/<name>/0`` (kill-safe, idempotent)."""
    old, hold, new = legacy_ref(name), HOLDING_PREFIX + name, archive_ref(name, 0)
    sha = git.verify(old, root) or git.verify(hold, root)
    if not sha:
        return
    if not git.verify(hold, root):
        _create_ref(root, hold, sha, "worklanes: holding a legacy archive")
    if git.verify(old, root):
        git.check(["update-ref", "-d", old], root, what="moving the legacy archive")
    if not git.verify(new, root):
        _create_ref(root, new, sha, "worklanes: legacy archive")
    git.check(["update-ref", "-d", hold], root, what="moving the legacy archive")


def _create_ref(root: Path, ref: str, sha: str, msg: str) -> None:
    # The empty old value makes git refuse if the ref exists: never overwrite a snapshot.
    git.check(["update-ref", "--create-reflog", "-m", msg, ref, sha, ""], root,
              what=f"creating {ref}")


def next_ref(root: Path, name: str) -> str:
    """The ref the next snapshot of ``name`` gets (call with the lane lock held)."""
    found = list_archives(root, name)
    if any(a.ref in (legacy_ref(name), HOLDING_PREFIX + name) for a in found):
        migrate_legacy(root, name)
    ids = [int(a.id) for a in found if a.id.isdigit()]
    return archive_ref(name, max(ids, default=0) + 1)


def snapshot(root: Path, lane_path: Path, name: str, ref: str, paths: list[str],
             size: int) -> str:
    """Commit ``paths`` of the lane (as they are on disk) on top of its HEAD under
    ``ref``, through a throwaway index so the lane's own index is untouched."""
    import tempfile  # here: the lane commands that never snapshot skip its imports

    fd, tmp_index = tempfile.mkstemp(prefix="worklanes-index-")
    os.close(fd)
    os.unlink(tmp_index)
    env = {"GIT_INDEX_FILE": tmp_index, "GIT_LITERAL_PATHSPECS": "1"}
    try:
        git.check(["read-tree", "HEAD"], lane_path, env=env, what="archive (read-tree)")
        listing = Path(tmp_index + ".paths")
        listing.write_bytes(b"\0".join(p.rstrip("/").encode() for p in paths))
        try:
            git.check(["add", "-A", "-f", f"--pathspec-from-file={listing}",
                       "--pathspec-file-nul"], lane_path, env=env, what="archive (add)")
        finally:
            listing.unlink()
        tree = git.check(["write-tree"], lane_path, env=env, what="archive (write-tree)").strip()
        msg = (f"worklanes: work of lane {name}\n\n{_FILES}: {len(paths)}\n{_BYTES}: {size}\n"
               f"Worklanes-Time: {time.time():.0f}\n")
        commit = git.check([*_IDENT, "commit-tree", tree, "-p", "HEAD", "-m", msg],
                           lane_path, what="archive (commit-tree)").strip()
    finally:
        try:
            os.unlink(tmp_index)
        except FileNotFoundError:
            pass
    _create_ref(root, ref, commit, f"worklanes: snapshot of lane {name}")
    return ref


def apply(lane_path: Path, ref: str, hooks: bool = True) -> None:
    """Put a snapshot's files back in the lane's working tree (idempotent)."""
    git.check(["restore", f"--source={ref}", "--worktree", "--", "."], lane_path,
              what="restoring archived changes", hooks=hooks)


def drop(root: Path, name: str, archive_id: str) -> Archive:
    a = find_archive(root, name, archive_id)
    res = git.run(["update-ref", "-d", a.ref, a.commit], root)
    if not res.ok:
        raise GitError(f"dropping {a.ref} failed: {res.message()}")
    return a
