"""Facts about the checkouts a merge or sync touches: what is uncommitted or half-done in
them, which one has a branch checked out, and moving one's files from commit to commit."""

from __future__ import annotations

from pathlib import Path

from core import git
from core.errors import GitError

_MARKERS = ("MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD")


def in_progress(path: Path) -> str:
    """The git operation stopped half-way in this worktree ("" if none)."""
    res = git.run(["rev-parse", *[a for m in _MARKERS for a in ("--git-path", m)]], path)
    for marker, rel in zip(_MARKERS, res.out.splitlines()):
        if (path / rel).exists():
            return marker
    return ""


def changes(path: Path, untracked: bool = True) -> list[str]:
    res = git.run(["status", "--porcelain",
                   "--untracked-files=all" if untracked else "--untracked-files=no"], path)
    if not res.ok:
        raise GitError(f"cannot read the status of {path}: {res.message()}")
    return [ln for ln in res.out.splitlines() if ln.strip()]


def rev(root: Path, name: str) -> str:
    res = git.run(["rev-parse", "-q", "--verify", f"{name}^{{commit}}"], root)
    return res.out.strip() if res.ok else ""


def checkout_of(ws, ref: str) -> str:
    """The worktree (main checkout or a lane) that has ``ref`` checked out, or ""."""
    for wt in ws.lanes.git_worktrees():
        if wt.get("branch") == ref:
            return str(wt["worktree"])
    return ""


def move_checkout(where: Path, old: str, new: str, recovering: bool = False) -> None:
    """Move a clean checkout whose branch went from ``old`` to ``new``: only the files
    that differ, local changes elsewhere kept (``read-tree -m -u``, as a fast-forward)."""
    res = git.run(["read-tree", "-m", "-u", old, new], where)
    if res.ok:
        return
    # A kill in the middle of that very step leaves some files moved and the index not.
    # Finish it only if every file is at one side or the other: then nothing is lost.
    if not (recovering and _half_moved(where, old, new)):
        raise GitError(f"updating the checkout at {where} to {new[:10]} failed: {res.message()}; "
                       "commit or move away your changes there, then `worklanes wt reconcile --fix`")
    git.check(["reset", "-q", "--hard", new], where, what=f"finishing the update of {where}")


def _half_moved(where: Path, old: str, new: str) -> bool:
    status = git.run(["diff", "--name-status", "-z", "--no-renames", old, new], where).out.split("\0")
    added = {p for k, p in zip(status[::2], status[1::2]) if k == "A"}
    deleted = {p for k, p in zip(status[::2], status[1::2]) if k == "D"}
    off_new, off_old = _differs_from(where, new), _differs_from(where, old)
    for path in off_new | off_old:
        if path in off_new and path in off_old:
            return False                          # neither side's content: someone's edit
        if (path in added or path in deleted) and (where / path).exists():
            return False                          # a file in the way that is not ours
    return True


def _differs_from(where: Path, commit: str) -> set[str]:
    """Paths of ``commit``'s tree whose file in the checkout differs (or is gone),
    compared through a throwaway index so the checkout's own index is not touched."""
    with git.temp_index() as env:
        git.check(["read-tree", commit], where, env=env, what="reading a tree")
        out = git.check(["diff", "--name-only", "-z"], where, env=env, what="comparing a checkout")
    return {p for p in out.split("\0") if p}
