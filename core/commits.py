"""Commits built from trees, never from a checkout: the lane's commits listed, and
replayed onto another commit as ``git rebase`` would."""

from __future__ import annotations

from pathlib import Path

from core import git
from core.errors import ConflictError, GitError


def subjects(root: Path, base: str, head: str) -> list[str]:
    out = git.check(["log", "--no-merges", "--format=%s", f"{base}..{head}"], root,
                    what="listing the lane's commits")
    return [s for s in out.splitlines() if s.strip()]


def replay(root: Path, name: str, onto: str, head: str) -> str:
    """The lane's own commits replayed onto ``onto`` (as ``git rebase`` would: merges
    dropped, commits already in the base skipped, authors kept), built from trees so no
    checkout is touched. Each pick is a three-way merge of the commit against its parent,
    which ``merge-tree`` does when both sides share a root holding the parent's tree."""
    log = git.check(["log", "--reverse", "--topo-order", "--no-merges", "--date=raw",
                     "--format=%H%x00%P%x00%an%x00%ae%x00%ad%x00%B%x1e", f"{onto}..{head}"],
                    root, what="listing the lane's commits")
    cur = onto
    for record in filter(str.strip, log.split("\x1e")):
        sha, parents, an, ae, ad, body = record.lstrip("\n").split("\x00", 5)
        parent = parents.split()[0]
        if parent == cur:  # already on top: keep the commit as it is
            cur = sha
            continue
        tree = _pick(root, parent, sha, cur)
        if tree is None:
            raise ConflictError(
                f"rebasing lane {name!r} stops at commit {sha[:10]} ({body.splitlines()[0] if body else ''}) "
                f"with conflicts; use a merge (no --rebase), or `worklanes wt sync {name} --rebase` "
                "and resolve in the lane")
        if tree == _tree(root, cur):
            continue  # the base already has this change
        env = {"GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": ad}
        cur = git.check(["commit-tree", tree, "-p", cur, "-m", body.rstrip()], root, env=env,
                        what="replaying a commit").strip()
    return cur


def _pick(root: Path, parent: str, commit: str, onto: str) -> str | None:
    def scratch(tree: str, *parents: str) -> str:  # unreferenced, gc takes them
        return git.check(["commit-tree", tree, *parents, "-m", "worklanes pick"], root,
                         what="replaying a commit").strip()

    fork = scratch(f"{parent}^{{tree}}")
    ours = scratch(f"{onto}^{{tree}}", "-p", fork)
    theirs = scratch(f"{commit}^{{tree}}", "-p", fork)
    res = git.run(["merge-tree", "--write-tree", "--no-messages", ours, theirs], root)
    if res.code == 1:
        return None
    if not res.ok:
        raise GitError(f"replaying commit {commit[:10]} failed: {res.message()}")
    return res.out.split()[0]


def _tree(root: Path, commit: str) -> str:
    return git.check(["rev-parse", f"{commit}^{{tree}}"], root).strip()
