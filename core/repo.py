"""Finding the main repository from any directory, also inside a linked worktree, as
every command and the app do first.

Read from the ``.git`` entries on the way up, the way git itself finds them, when
the layout is the plain one (a ``.git`` folder, or a linked worktree's ``.git`` file
and its ``commondir``): no git process, no subprocess module, on the path of every CLI
call and of the app's first paint. Anything else (GIT_DIR and friends set, a bare
repository, a separate git dir, ``core.worktree``, a folder someone else owns, a file
system boundary) is asked of ``git rev-parse``, whose answer is the rule.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import NotARepoError
from core.plain import record

# Variables that change where git looks or what it accepts: with any of them set, git
# alone knows the answer.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
                      "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG_PARAMETERS",
                      "GIT_CONFIG_COUNT")


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
    if any(name in os.environ for name in _GIT_LOCATION_VARS):
        return None
    try:
        here = cwd.resolve(strict=True)
        device = os.stat(here).st_dev
        for folder in (here, *here.parents):
            if os.stat(folder).st_dev != device:
                return None   # git stops at a file system boundary
            dot_git = folder / ".git"
            if dot_git.is_dir():
                return _plain(dot_git, dot_git)
            if dot_git.is_file():
                text = dot_git.read_text(encoding="utf-8")
                if not text.startswith("gitdir: ") or text.count("\n") > 1:
                    return None
                own = (folder / text[len("gitdir: "):].strip()).resolve(strict=True)
                common = (own / (own / "commondir").read_text(encoding="utf-8").strip())
                return _plain(common.resolve(strict=True), own)
            if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
                return None   # inside a git dir, or a bare repository
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None


def _plain(common: Path, own: Path) -> RepoPaths | None:
    """The answer for a normal clone's ``.git`` folder, if it is one this process may use."""
    if common.name != ".git" or not (common / "HEAD").is_file() \
            or os.stat(common).st_uid != os.geteuid():   # git's safe.directory check
        return None
    with open(common / "config", "rb") as fh:
        config = fh.read().lower()
    for line in config.splitlines():
        # core.bare (any value but false) and core.worktree move the working tree;
        # extensions.worktreeConfig may, from another file.
        key, _, value = line.replace(b" ", b"").replace(b"\t", b"").partition(b"=")
        if key.startswith(b"worktree") or (key == b"bare" and value != b"false"):
            return None
    return RepoPaths(root=common.parent, common_dir=common, git_dir=own)


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
