"""Finding the main repository from any directory, also inside a linked worktree, as
every command and the app do first.

Read from the ``.git`` entries on the way up, the way git itself finds them, when the
layout is the plain one (``core.layout``): no git process, no subprocess module, on the
path of every CLI call and of the app's first paint. Anything else (GIT_DIR and friends
set, a bare repository, a separate git dir, ``core.worktree``, a folder someone else
owns, a file system boundary) is asked of ``git rev-parse``, whose answer is the rule.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import NotARepoError
from core.layout import plain_layout
from core.plain import record


@record(frozen=True)
class RepoPaths:
    root: Path        # the main working tree, where all state lives
    common_dir: Path  # the shared .git directory
    git_dir: Path | None = None  # the git dir of the checkout asked from (a lane's own)


def find_repo(cwd: Path | None = None) -> RepoPaths:
    """Find the main repository even from inside a linked worktree.

    ``--show-toplevel`` would name the linked worktree; the common dir is shared by all
    of them, and the main working tree is its parent.
    """
    cwd = Path(cwd or os.getcwd())
    if not cwd.is_dir():
        raise NotARepoError(f"{cwd} is not a directory; cd into a git repository first")
    return _read_layout(cwd) or _ask_git(cwd)


def _read_layout(cwd: Path) -> RepoPaths | None:
    """The repository from the ``.git`` entry nearest above ``cwd``, or None when its
    layout is not the plain one (then git decides)."""
    found = plain_layout(str(cwd))
    if found is None:
        return None
    root, common, own = found
    return RepoPaths(root=Path(root), common_dir=Path(common), git_dir=Path(own))


def _ask_git(cwd: Path) -> RepoPaths:
    from core.git import run

    proc = run(["rev-parse", "--path-format=absolute", "--git-common-dir",
                "--is-bare-repository", "--git-dir"], cwd, timeout=30)
    if not proc.ok:
        raise NotARepoError(
            f"{cwd} is not inside a git repository; cd into one or run `git init` first")
    # One answer a line (common dir, bare?, own git dir); a path itself may hold spaces,
    # tabs or any other character, so the bare flag's line is what splits them.
    lines = proc.out.rstrip("\n").split("\n")
    at = next((i for i, ln in enumerate(lines) if i and ln in ("true", "false")), None)
    if at is None:
        raise NotARepoError(f"git rev-parse gave no repository for {cwd}; check the git install")
    common, bare, own = "\n".join(lines[:at]), lines[at], "\n".join(lines[at + 1:])
    common_dir = Path(common).resolve()
    if bare == "true" or common_dir.name != ".git":
        raise NotARepoError(
            f"{common_dir} is a bare repository or has a separate git dir; worklanes needs "
            "a normal clone with a working tree")
    return RepoPaths(root=common_dir.parent, common_dir=common_dir,
                     git_dir=Path(own).resolve() if own else common_dir)
