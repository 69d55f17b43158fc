"""The repository read from the ``.git`` entries on the way up, as git itself finds it,
when the layout is the plain one (a ``.git`` folder, or a linked worktree's ``.git`` file
and its ``commondir``). ``None`` for anything else: then ``git rev-parse`` decides
(``core.repo``).

Strings and ``os`` only, no ``pathlib``: this is also the first step of `wt diff`,
which reads its lane and starts git before anything else is imported (``tui.entry``).
"""

from __future__ import annotations

import os

# Variables that change where git looks or what it accepts: with any of them set, git
# alone knows the answer.
GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
                     "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG_PARAMETERS",
                     "GIT_CONFIG_COUNT")


def plain_layout(cwd: str) -> tuple[str, str, str] | None:
    """(main working tree, common git dir, the git dir of the checkout ``cwd`` is in),
    resolved; None when the layout is not the plain one, or anything on the way cannot
    be read."""
    if any(name in os.environ for name in GIT_LOCATION_VARS):
        return None
    try:
        folder = os.path.realpath(cwd, strict=True)
        device = os.stat(folder).st_dev
        while True:
            if os.stat(folder).st_dev != device:
                return None   # git stops at a file system boundary
            dot_git = os.path.join(folder, ".git")
            if os.path.isdir(dot_git):
                return _plain(dot_git, dot_git)
            if os.path.isfile(dot_git):
                with open(dot_git, encoding="utf-8") as fh:
                    text = fh.read()
                if not text.startswith("gitdir: ") or text.count("\n") > 1:
                    return None
                own = os.path.realpath(os.path.join(folder, text[len("gitdir: "):].strip()),
                                       strict=True)
                with open(os.path.join(own, "commondir"), encoding="utf-8") as fh:
                    common = os.path.join(own, fh.read().strip())
                return _plain(os.path.realpath(common, strict=True), own)
            if os.path.isfile(os.path.join(folder, "HEAD")) \
                    and os.path.isdir(os.path.join(folder, "objects")):
                return None   # inside a git dir, or a bare repository
            parent = os.path.dirname(folder)
            if parent == folder:
                return None
            folder = parent
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _plain(common: str, own: str) -> tuple[str, str, str] | None:
    """The answer for a normal clone's ``.git`` folder, if it is one this process may use."""
    if os.path.basename(common) != ".git" or not os.path.isfile(os.path.join(common, "HEAD")) \
            or os.stat(common).st_uid != os.geteuid():   # git's safe.directory check
        return None
    with open(os.path.join(common, "config"), "rb") as fh:
        config = fh.read().lower()
    for line in config.splitlines():
        # core.bare (any value but false) and core.worktree move the working tree;
        # extensions.worktreeConfig may, from another file.
        key, _, value = line.replace(b" ", b"").replace(b"\t", b"").partition(b"=")
        if key.startswith(b"worktree") or (key == b"bare" and value != b"false"):
            return None
    return os.path.dirname(common), common, own
