"""What merging each lane into its base would do now, with no working tree touched.

For every lane: the paths that would conflict (``git merge-tree --write-tree``), the tree a
clean merge would commit, and whether the base already holds the lane's work
(*integrated*: fast-forwarded, merged, rebased or squash-merged), detected as worktrunk
does: the same commit, a merge that would add nothing to the base's tree, or - when the
merge conflicts because the base moved on after a squash - a base commit with the same
patch-id as the lane's whole diff.

Cost, for any number of lanes: one ``cat-file --batch-check`` resolves every head and
base, one ``merge-tree --stdin`` does every merge, and only a conflicting lane pays for
the patch-id probe. Answers are cached by (base commit, lane commit), in memory and on
disk (``core.oidcache``), so a status refresh or a ``wt list`` where nothing moved runs no
merge at all; given the branch tips a caller already read (``known``), not even the
``cat-file``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from core import git, oidcache
from core.parallel import pmap

# How far back on the base the squash probe looks (commits since the fork); beyond it a
# squash-merged lane reads as not integrated - the safe direction (its branch is kept).
PATCH_ID_MAX_COMMITS = 500
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Probe:
    """The part of a forecast that depends only on the two commits (so it is cached)."""
    conflicts: tuple[str, ...] = ()
    tree: str = ""            # what a merge would commit (also when it conflicts)
    adds_nothing: bool = False
    squashed: bool = False    # conflicting, but a base commit has the lane's patch-id
    error: str = ""


@dataclass
class Forecast:
    name: str
    base: str = ""
    base_sha: str = ""
    base_tree: str = ""
    head: str = ""                   # the lane branch's commit
    conflicts: list[str] = field(default_factory=list)
    tree: str = ""
    integrated: bool = False
    reason: str = ""                 # same-commit | adds-nothing | squashed | empty
    error: str = ""

    @property
    def empty(self) -> bool:
        """The lane has no commits of its own yet: nothing to merge, nothing to lose."""
        return self.reason == "empty"

    def to_dict(self) -> dict[str, Any]:
        """The fields the CLI, the agent's tools and the lanes pane show."""
        return {"conflicts": list(self.conflicts), "integrated": self.integrated,
                "integrated_reason": self.reason if self.integrated else "",
                "forecast_error": self.error}


class _Cache:
    def __init__(self, size: int):
        self.size = size
        self.data: OrderedDict[tuple[str, str, str], Probe] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> Probe | None:
        with self.lock:
            probe = self.data.get(key)
            if probe is not None:
                self.data.move_to_end(key)
            return probe

    def put(self, key: tuple[str, str, str], probe: Probe) -> None:
        with self.lock:
            self.data[key] = probe
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_cache = _Cache(_CACHE_SIZE)


def lane_base(lane: dict[str, Any]) -> str:
    return lane.get("base") or lane.get("base_ref") or "HEAD"


def forecast_lanes(root: Path, lanes: Iterable[dict[str, Any]],
                   known: Mapping[str, tuple[str, str]] | None = None) -> dict[str, Forecast]:
    """Forecast every given lane (index entries; removed ones are skipped), by name.
    ``known``: {"refs/heads/...": (commit, tree)} of every branch, read by the caller."""
    root = Path(root)
    lanes = [ln for ln in lanes if ln.get("status") != "removed"]
    if not lanes:
        return {}
    disk = oidcache.for_repo(root)
    revs = _resolve(root, [ln for ln in lanes if ln.get("branch")], known)
    results: dict[str, Forecast] = {}
    todo: list[tuple[Forecast, tuple[str, str, str]]] = []
    for lane in lanes:
        fc = Forecast(name=lane["name"], base=lane_base(lane))
        results[fc.name] = fc
        fc.head = revs.get(_branch_ref(lane), ("", ""))[0] if lane.get("branch") else ""
        fc.base_sha, fc.base_tree = _base_rev(revs, fc.base)
        if not lane.get("branch"):
            fc.error = "the lane has no branch (a detached HEAD); nothing to merge"
        elif not fc.head:
            fc.error = f"branch {lane['branch']} does not exist"
        elif not fc.base_sha:
            fc.error = f"base {fc.base!r} does not name a commit"
        elif fc.head == fc.base_sha:
            fc.tree = fc.base_tree
        else:
            key = (str(root), fc.base_sha, fc.head)
            probe = _cache.get(key) or _stored(disk.get("forecast", fc.base_sha, fc.head))
            if probe is None:
                todo.append((fc, key))
            else:
                _cache.put(key, probe)
                _apply(fc, probe)
    if todo:
        probes = _merge_trees(root, [(key[1], key[2]) for _, key in todo])
        clashing = [key[1:] for (_, key), p in zip(todo, probes) if p.conflicts and not p.error]
        squashed = _squashed(root, clashing) if clashing else set()
        for (fc, key), probe in zip(todo, probes):
            if key[1:] in squashed:
                probe = Probe(conflicts=probe.conflicts, tree=probe.tree, squashed=True)
            elif not probe.conflicts and not probe.error and probe.tree == fc.base_tree:
                probe = Probe(tree=probe.tree, adds_nothing=True)
            if not probe.error:
                _cache.put(key, probe)
                disk.put("forecast", key[1], key[2], [list(probe.conflicts), probe.tree,
                                                      probe.adds_nothing, probe.squashed])
            _apply(fc, probe)
        disk.flush()
    forks = {ln["name"]: _fork_point(root, ln) for ln in lanes if ln.get("branch")}
    for fc in results.values():
        if fc.error:
            continue
        if fc.head == forks.get(fc.name):
            fc.reason = "empty"
        elif fc.head == fc.base_sha:
            fc.integrated, fc.reason = True, "same-commit"
        elif fc.reason:
            fc.integrated = True
    return results


def forecast_lane(root: Path, lane: dict[str, Any]) -> Forecast:
    return forecast_lanes(root, [lane]).get(lane["name"]) or Forecast(
        name=lane["name"], error=f"lane {lane['name']!r} is removed")


def _apply(fc: Forecast, probe: Probe) -> None:
    fc.conflicts, fc.tree, fc.error = list(probe.conflicts), probe.tree, probe.error
    if probe.adds_nothing:
        fc.reason = "adds-nothing"
    elif probe.squashed:
        fc.reason = "squashed"


def _branch_ref(lane: dict[str, Any]) -> str:
    return f"refs/heads/{lane['branch']}"


def _base_candidates(base: str) -> list[str]:
    """A base that names a branch means the branch (never a tag of the same name)."""
    return [base] if base.startswith("refs/") or base == "HEAD" else [f"refs/heads/{base}", base]


def _base_rev(revs: dict[str, tuple[str, str]], base: str) -> tuple[str, str]:
    for cand in _base_candidates(base):
        if revs.get(cand, ("", ""))[0]:
            return revs[cand]
    return "", ""


def _stored(value: Any) -> Probe | None:
    if not (isinstance(value, list) and len(value) == 4):
        return None
    conflicts, tree, adds_nothing, squashed = value
    return Probe(conflicts=tuple(conflicts), tree=tree, adds_nothing=bool(adds_nothing),
                 squashed=bool(squashed))


def _resolve(root: Path, lanes: list[dict[str, Any]],
             known: Mapping[str, tuple[str, str]] | None = None) -> dict[str, tuple[str, str]]:
    """{rev: (commit, tree)} for every lane branch and base, in one git process (none
    when every one is a branch and ``known`` holds them all)."""
    names: list[str] = []
    out: dict[str, tuple[str, str]] = {}
    for lane in lanes:
        for cands in ([_branch_ref(lane)], _base_candidates(lane_base(lane))):
            for n in cands:
                if known is not None and n.startswith("refs/heads/"):
                    out[n] = known.get(n, ("", ""))
                    if out[n][0]:
                        break   # the later candidates are never looked at
                else:
                    names.append(n)
    names = list(dict.fromkeys(n for n in names if n and not n.startswith("-")))
    if not names:
        return out
    query = "".join(f"{n}^{{commit}}\n{n}^{{tree}}\n" for n in names)
    res = git.feed(["cat-file", "--batch-check=%(objectname) %(objecttype)"], root, query)
    lines = res.out.splitlines()
    for i, name in enumerate(names):
        commit = _oid(lines, 2 * i, "commit")
        tree = _oid(lines, 2 * i + 1, "tree")
        out[name] = (commit, tree) if commit and tree else ("", "")
    return out


def _oid(lines: list[str], i: int, kind: str) -> str:
    parts = lines[i].split() if i < len(lines) else []
    return parts[0] if len(parts) == 2 and parts[1] == kind else ""


def _merge_trees(root: Path, pairs: list[tuple[str, str]]) -> list[Probe]:
    """One ``merge-tree --stdin`` for all pairs; if git gives up on the batch (it stops
    at the first pair with unrelated histories), each pair alone, so one bad lane never
    hides the others."""
    if len(pairs) > 1:
        res = git.feed(["merge-tree", "--stdin", "-z", "--name-only", "--no-messages"], root,
                       "".join(f"{a} {b}\n" for a, b in pairs))
        if res.code == 0:
            probes = _parse_batch(res.out, len(pairs))
            if probes is not None:
                return probes
    return [_merge_one(root, a, b) for a, b in pairs]


def _parse_batch(out: str, count: int) -> list[Probe] | None:
    tokens = out.split("\0")
    probes, i = [], 0
    while len(probes) < count:
        if i + 1 >= len(tokens) or tokens[i] not in ("0", "1"):
            return None
        clean, tree, i = tokens[i] == "1", tokens[i + 1], i + 2
        paths = []
        while i < len(tokens) and tokens[i]:
            paths.append(tokens[i])
            i += 1
        i += 1  # the empty token that ends this merge
        probes.append(Probe(conflicts=() if clean else tuple(dict.fromkeys(paths)), tree=tree))
    return probes


def _merge_one(root: Path, base: str, head: str) -> Probe:
    res = git.run(["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages",
                   base, head], root)
    if res.code not in (0, 1):
        return Probe(error=f"cannot merge-tree {head[:12]} into {base[:12]}: {res.message()}")
    tokens = [t for t in res.out.split("\0") if t]
    return Probe(conflicts=tuple(dict.fromkeys(tokens[1:])) if res.code == 1 else (),
                 tree=tokens[0] if tokens else "")


def _squashed(root: Path, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (base, head) pairs whose merge conflicts are in the base all the same:
    squash-merged, then the base changed the same lines again. Such a base has a commit
    whose patch-id is the lane's whole diff. One ``merge-base`` a lane (in parallel), one
    ``rev-list`` a distinct fork, and one ``diff-tree --stdin | patch-id`` for them all."""
    forks = pmap(lambda p: git.run(["merge-base", *p], root).out.strip(), pairs, workers=4)
    ranges: dict[tuple[str, str], list[str]] = {}
    for (base, _), fork in zip(pairs, forks):
        if fork and (fork, base) not in ranges:
            res = git.run(["rev-list", "--no-merges", f"--max-count={PATCH_ID_MAX_COMMITS + 1}",
                           f"{fork}..{base}"], root)
            listed = res.out.split() if res.ok else []
            ranges[(fork, base)] = listed if len(listed) <= PATCH_ID_MAX_COMMITS else []
    lines = [f"{head} {fork}" for (_, head), fork in zip(pairs, forks) if fork]
    lines += sorted({c for listed in ranges.values() for c in listed})
    if not lines:
        return set()
    res = git.feed(["diff-tree", "--stdin", "-p"], root, "\n".join(lines) + "\n",
                   then=["patch-id", "--verbatim"])
    pid_of = {}
    for ln in res.out.splitlines() if res.ok else []:
        pid, _, commit = ln.partition(" ")
        pid_of.setdefault(commit, set()).add(pid)
    found = set()
    for (base, head), fork in zip(pairs, forks):
        mine = pid_of.get(head, set())
        theirs = set().union(*(pid_of.get(c, set()) for c in ranges.get((fork, base), [])))
        if fork and mine & theirs:
            found.add((base, head))
    return found


def _fork_point(root: Path, lane: dict[str, Any]) -> str:
    """The commit the lane's own work starts from: recorded by the last sync, else the
    first entry of the branch's reflog (where ``worktree add -b`` created it). A file
    read, not a git process. "" when unknown (the lane then never reads as empty)."""
    if lane.get("fork"):
        return str(lane["fork"])
    log = root / ".git" / "logs" / "refs" / "heads" / lane["branch"]
    try:
        with open(log, "rb") as fh:
            first = fh.readline().split()
    except OSError:
        return ""
    if len(first) >= 2 and set(first[0]) == {ord("0")}:
        return first[1].decode("ascii", "replace")
    return ""
