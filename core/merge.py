"""Integrating a lane into the branch it was based on: merge, squash or rebase.

Never half-done and no working tree touched until the end: the new commits are built
from trees (``merge-tree --write-tree`` + ``commit-tree``), the intent is recorded on the
lane's index entry, the base ref moves with one compare-and-swap ``update-ref`` (the
commit point), and only then the checkout that has the base checked out - checked clean
beforehand - moves its files. A ``kill -9`` anywhere is recovered by ``recover_merge``:
the base ref either moved (finish the bookkeeping) or did not (drop the intent).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import quote

from core import git
from core.errors import ConflictError, DirtyLaneError, GitError, InvalidInputError, WorklanesError
from core.checkouts import changes, checkout_of, in_progress, move_checkout, rev
from core.commits import replay, subjects
from core.forecast import Forecast, forecast_lane, lane_base
from core.fsutil import locked
from core.lanes import Finding, ops, task_ref as _task_ref
from core.proc import CommandResult, run_command
from core.secrets import env_drop_of

STRATEGIES = ("merge", "squash", "rebase")


class CheckFailedError(ConflictError):
    """The lane's check command failed; ``result`` holds its (capped) output."""

    def __init__(self, message: str, result: CommandResult):
        super().__init__(message)
        self.result = result


@dataclass
class MergePlan:
    """Everything ``merge_lane`` decides before it runs the check: shown by the app's
    merge dialog, and the single place the refusals come from."""
    lane: dict[str, Any]
    strategy: str
    base: str = ""                   # branch name, e.g. main
    base_ref: str = ""               # refs/heads/main
    old: str = ""                    # the base's commit now
    forecast: Forecast | None = None
    base_checkout: str = ""          # worktree that has the base checked out, if any
    check: str = ""                  # the check command that will run ("" = none)
    problems: list[WorklanesError] = field(default_factory=list)
    base_dirty: WorklanesError | None = None   # the one of ``problems`` about the base's checkout

    @property
    def already(self) -> bool:
        return bool(self.forecast and self.forecast.integrated)

    def to_dict(self) -> dict[str, Any]:
        return {"lane": self.lane.get("name"), "strategy": self.strategy, "base": self.base,
                "base_checkout": self.base_checkout, "check": self.check,
                "already_integrated": self.already,
                **(self.forecast.to_dict() if self.forecast else {}),
                "problems": [str(p) for p in self.problems]}


@dataclass
class MergeResult:
    lane: dict[str, Any]
    strategy: str
    base: str
    old: str
    new: str
    commits: int = 0
    already: bool = False            # the base already held the lane's work
    check: CommandResult | None = None
    removed: bool = False
    remove_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"lane": self.lane, "strategy": self.strategy, "base": self.base,
                "old": self.old, "new": self.new, "commits": self.commits,
                "already_integrated": self.already, "removed": self.removed,
                "remove_error": self.remove_error,
                "check": None if self.check is None else
                {"command": self.check.command, "exit_code": self.check.exit_code}}


# -- the lane lock and the intent record (kept tiny: they move to core.lanes' own) -------
def lane_lock(ws, name: str):
    """One operation at a time on a lane (core.lanes' lane lock); other lanes are not
    held up."""
    return ws.lanes.lane_lock(name)


_KEEP: Any = object()


def _set_op(ws, name: str, op: dict[str, Any] | None = _KEEP, **changes: Any) -> dict[str, Any]:
    """Record (or, with None, drop) the lane's in-flight operation, with any other entry
    changes, in one locked index write."""
    lanes = ws.lanes
    with locked(lanes.lock_path):
        data = lanes._load()
        entry = next((e for e in data["worktrees"]
                      if isinstance(e, dict) and e.get("name") == name), None)
        if entry is None:
            raise lanes._unknown(name)
        entry.update(changes)
        if op is None:
            entry.pop("op", None)
        elif op is not _KEEP:
            entry["op"] = op
        lanes._save(data)
        return dict(entry)


@contextmanager
def base_lock(ws, ref: str) -> Iterator[None]:
    """Merges into one branch take turns (each builds on the base the last one left);
    merges into different branches do not wait for each other."""
    with locked(ws.state_dir / ".locks" / f"ref-{quote(ref, safe='')}.lock"):
        yield


# -- plan -----------------------------------------------------------------------------------
def plan_merge(ws, name: str, strategy: str = "merge") -> MergePlan:
    if strategy not in STRATEGIES:
        raise InvalidInputError(f"unknown merge strategy {strategy!r}; use one of: {', '.join(STRATEGIES)}")
    lane = ws.lanes.live(name)
    plan = MergePlan(lane=lane, strategy=strategy, check=ws.config.check)
    path = Path(lane["path"])
    base = lane_base(lane).removeprefix("refs/heads/")
    plan.base, plan.base_ref = base, f"refs/heads/{base}"
    plan.old = rev(ws.root, plan.base_ref)
    if not plan.old:
        plan.problems.append(InvalidInputError(
            f"lane {name!r} is based on {base!r}, which is not a branch; merge wt/{name} by "
            "hand (git merge) or create lanes from a branch (--base main)"))
        return plan
    dirty = changes(path)
    stopped = in_progress(path)
    if dirty or stopped:
        what = f"a stopped {stopped}" if stopped else f"{len(dirty)} uncommitted change(s)"
        plan.problems.append(DirtyLaneError(
            f"lane {name!r} has {what}; commit them first (git -C {path} add -A && "
            f"git -C {path} commit), then merge"))
    plan.forecast = fc = forecast_lane(ws.root, lane)
    if fc.error:
        plan.problems.append(GitError(f"cannot forecast lane {name!r}: {fc.error}"))
    elif fc.empty:
        plan.problems.append(ConflictError(
            f"lane {name!r} has no commits of its own; commit its work first, then merge"))
    elif fc.conflicts and not fc.integrated:
        shown = ", ".join(fc.conflicts[:5]) + (f" and {len(fc.conflicts) - 5} more"
                                               if len(fc.conflicts) > 5 else "")
        plan.problems.append(ConflictError(
            f"merging lane {name!r} into {base} would conflict in {len(fc.conflicts)} file(s): "
            f"{shown}; run `worklanes wt sync {name}` to bring {base} into the lane, resolve "
            "there, then merge"))
    plan.base_checkout = checkout_of(ws, plan.base_ref)
    if plan.base_checkout and not plan.already:
        where = Path(plan.base_checkout)
        dirty = changes(where, untracked=False)
        stopped = in_progress(where)
        if dirty or stopped:
            what = f"a stopped {stopped}" if stopped else f"{len(dirty)} uncommitted change(s)"
            plan.base_dirty = DirtyLaneError(
                f"{base} is checked out at {where} with {what}; commit or stash them there, "
                "then merge")
            plan.problems.append(plan.base_dirty)
    return plan


def run_check(ws, lane: dict[str, Any], on_output: Callable[[str], None] | None = None,
              cancel: threading.Event | None = None) -> CommandResult:
    """The project's gate, ``[lanes] check``, run in the lane (as `wt run`)."""
    result = run_command(ws.config.check, Path(lane["path"]), timeout=ws.config.check_timeout,
                         cancel=cancel, on_output=on_output, env_drop=env_drop_of(ws.root))
    ok = result.exit_code == 0
    ws.events.emit("worktree.check" if ok else "worktree.check.failed", task=_task_ref(lane),
                   worktree={"name": lane["name"]}, command=ws.config.check,
                   exit_code=result.exit_code, error=None if ok else result.summary())
    return result


# -- merge ----------------------------------------------------------------------------------
def merge_lane(ws, name: str, strategy: str = "merge", check: bool = True, remove: bool = False,
               on_output: Callable[[str], None] | None = None,
               cancel: threading.Event | None = None) -> MergeResult:
    """Integrate lane ``name`` into its base branch, or refuse having changed nothing."""
    lane = ws.lanes.get(name)
    wt_ev = {"name": name, "branch": lane.get("branch"), "base": lane_base(lane)}
    ws.events.emit("worktree.merge.before", task=_task_ref(lane), worktree=wt_ev, strategy=strategy)
    try:
        with lane_lock(ws, name):
            recover_merge(ws, name)
            result = _merge(ws, name, strategy, check, on_output, cancel)
    except Exception as exc:
        ws.events.emit("worktree.merge.failed", task=_task_ref(lane), worktree=wt_ev,
                       strategy=strategy, error=str(exc))
        raise
    if remove:
        # Outside the lane lock: removal takes it itself once lanes own their locks.
        try:
            result.lane = ws.lanes.remove(name, delete_branch=True)
            result.removed = True
        except WorklanesError as exc:
            result.remove_error = str(exc)
    return result


def _merge(ws, name: str, strategy: str, check: bool, on_output, cancel) -> MergeResult:
    plan = plan_merge(ws, name, strategy)
    if plan.base_dirty is not None:
        # A merge of another lane into this base may be moving the checkout's files right
        # now (under the base lock), and it looks dirty for that moment: ask again after.
        with base_lock(ws, plan.base_ref):
            plan = plan_merge(ws, name, strategy)
    if plan.problems:
        raise plan.problems[0]
    ran = None
    if check and plan.check and not plan.already:
        # Before the base lock: a long check must not hold up merges of other lanes.
        ran = run_check(ws, plan.lane, on_output, cancel)
        if ran.exit_code != 0:
            raise CheckFailedError(
                f"the check `{plan.check}` failed in lane {name!r} ({ran.summary()}); "
                f"fix it in the lane, or merge with --no-check", ran)
    with base_lock(ws, plan.base_ref):
        tested = plan.forecast.head if plan.forecast else ""
        plan = plan_merge(ws, name, strategy)  # again: the base may have moved meanwhile
        if plan.problems:
            raise plan.problems[0]
        if ran is not None and plan.forecast and plan.forecast.head != tested:
            raise ConflictError(f"lane {name!r} changed while its check ran; merge again")
        result = _commit(ws, plan)
    result.check = ran
    return result


def _commit(ws, plan: MergePlan) -> MergeResult:
    """Build the new commits, record the intent, move the refs, finish (base lock held)."""
    lane, fc, name, strategy = plan.lane, plan.forecast, plan.lane["name"], plan.strategy
    assert fc is not None
    result = MergeResult(lane=lane, strategy=strategy, base=plan.base, old=plan.old, new=plan.old)
    if plan.already:  # merged by other means: only the bookkeeping is left
        result.already = True
        result.lane = _finish(ws, name, {"kind": "merge", "strategy": "already-integrated",
                                         "ref": plan.base_ref, "old": plan.old, "new": plan.old})
        return result
    titles = subjects(ws.root, plan.old, fc.head)
    result.commits = len(titles)
    op: dict[str, Any] = {"kind": "merge", "step": "update-ref", "strategy": strategy,
                          "ref": plan.base_ref, "old": plan.old, "checkout": plan.base_checkout,
                          "ts": time.time()}
    if strategy == "rebase":
        new = replay(ws.root, name, plan.old, fc.head)
        op.update(lane_ref=f"refs/heads/{lane['branch']}", lane_old=fc.head, lane_new=new,
                  lane_checkout=lane["path"])
    else:
        parents = ["-p", plan.old] + (["-p", fc.head] if strategy == "merge" else [])
        message = _message(ws, lane, plan.base, strategy, titles)
        new = git.check(["commit-tree", fc.tree, *parents, "-m", message], ws.root,
                        what="building the merge commit").strip()
    op["new"] = result.new = new
    for where, a, b in _moves(op):
        dry = git.run(["read-tree", "-m", "-u", "-n", a, b], Path(where))
        if not dry.ok:
            raise ConflictError(f"cannot update the checkout at {where}: {dry.message()}; "
                                "move those files away, then merge")
    _set_op(ws, name, op)
    try:
        _advance(ws.root, op)
    except BaseException:
        _set_op(ws, name, None)
        raise
    result.lane = _finish(ws, name, op)
    return result


def _message(ws, lane: dict[str, Any], base: str, strategy: str, subjects: list[str]) -> str:
    task = _task(ws, lane)
    ref = f"Task #{task['id']}: {task.get('subject', '')}" if task else ""
    if strategy == "merge":
        return "\n\n".join(filter(None, [f"Merge lane {lane['name']} into {base}", ref]))
    title = (task or {}).get("subject") or (subjects[-1] if len(subjects) == 1 else f"Lane {lane['name']}")
    body = (task or {}).get("description", "").strip()
    listing = "\n".join(f"- {s}" for s in reversed(subjects))
    squashed = f"Squashed from lane {lane['name']} ({len(subjects)} commit(s)):\n{listing}"
    return "\n\n".join(filter(None, [title, body, squashed, f"Task #{task['id']}" if task else ""]))


def _moves(op: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(checkout, from, to) for every worktree whose files follow the moved refs."""
    moves = [(op["checkout"], op["old"], op["new"])] if op.get("checkout") else []
    if op.get("lane_ref") and op["lane_old"] != op["lane_new"]:
        moves.append((op["lane_checkout"], op["lane_old"], op["lane_new"]))
    return moves


def _advance(root: Path, op: dict[str, Any]) -> None:
    """The commit point: every ref moves, or none does (and none that someone else
    moved meanwhile)."""
    lines = [f"update {op['ref']} {op['new']} {op['old']}\n"]
    if op.get("lane_ref") and op["lane_old"] != op["lane_new"]:
        lines.append(f"update {op['lane_ref']} {op['lane_new']} {op['lane_old']}\n")
    msg = f"worklanes: {op['strategy']} lane"
    res = (git.run(["update-ref", "-m", msg, op["ref"], op["new"], op["old"]], root)
           if len(lines) == 1 else git.feed(["update-ref", "-m", msg, "--stdin"], root, "".join(lines)))
    if not res.ok:
        raise ConflictError(f"{op['ref'].removeprefix('refs/heads/')} moved while merging "
                            f"({res.message()}); nothing was changed - merge again")


def _finish(ws, name: str, op: dict[str, Any]) -> dict[str, Any]:
    """Everything after the commit point; safe to run again (recovery does)."""
    for where, a, b in _moves(op):
        if Path(where).is_dir():
            move_checkout(Path(where), a, b, recovering=bool(op.get("recovering")))
    lane = ws.lanes.get(name)
    task = _task(ws, lane)
    if task is not None and task.get("status") != "completed":
        ws.tasks.update(task["id"], status="completed")
    merged = {"strategy": op["strategy"], "base": op["ref"].removeprefix("refs/heads/"),
              "commit": op["new"], "at": time.time()}
    entry = _set_op(ws, name, None, status="merged", merged=merged)
    ws.events.emit("worktree.merge.after", task=_task_ref(entry),
                   worktree={"name": name, "branch": entry.get("branch"), "status": "merged",
                             "base": merged["base"]},
                   strategy=op["strategy"], commit=op["new"],
                   **({"recovered": True} if op.get("recovering") else {}))
    return entry


# -- recovery ---------------------------------------------------------------------------------
def recover_merge(ws, name: str) -> str:
    """Finish or roll back a merge of ``name`` that a crash interrupted; the caller holds
    the lane lock. Returns "finished", "rolled back" or "" (nothing to do)."""
    op = ws.lanes.get(name).get("op")
    if not isinstance(op, dict) or op.get("kind") != "merge":
        return ""
    with base_lock(ws, op["ref"]):
        if rev(ws.root, op["ref"]) == op.get("new"):
            _finish(ws, name, {**op, "recovering": True})
            return "finished"
        _set_op(ws, name, None)
    ws.events.emit("worktree.merge.failed", worktree={"name": name}, strategy=op.get("strategy"),
                   error="interrupted before the base moved; rolled back (nothing had changed)")
    return "rolled back"


@ops.recovery("merge")
def _recover_op(lanes, entry: dict[str, Any]) -> str:
    """What every command does at start (``Workspace.open``) for a merge a kill cut
    short; the lane lock is held."""
    ws = SimpleNamespace(root=lanes.root, lanes=lanes, tasks=lanes.tasks, events=lanes.events,
                         state_dir=lanes.state_dir, config=lanes.config)
    done = recover_merge(ws, entry["name"])
    return f"merge {done}" if done else "nothing to do"


def interrupted_merges(ws) -> list[dict[str, Any]]:
    return [ln for ln in ws.lanes.list()
            if isinstance(ln.get("op"), dict) and ln["op"].get("kind") == "merge"]


def merge_findings(ws, fix: bool = False) -> list[Finding]:
    """Interrupted merges, as `wt reconcile` reports them; with ``fix``, recovered."""
    found = []
    for lane in interrupted_merges(ws):
        op, name = lane["op"], lane["name"]
        base = str(op.get("ref", "")).removeprefix("refs/heads/")
        moved = rev(ws.root, op.get("ref", "")) == op.get("new")
        f = Finding("interrupted", name, lane.get("path", ""),
                    f"a {op.get('strategy')} into {base} was interrupted "
                    f"{'after' if moved else 'before'} {base} moved",
                    "finish it" if moved else "roll it back (nothing had changed)")
        if fix:
            with lane_lock(ws, name):
                f.fixed = bool(recover_merge(ws, name))
        found.append(f)
    return found


def _task(ws, lane: dict[str, Any]) -> dict[str, Any] | None:
    tid = lane.get("task_id")
    if tid is None or not ws.tasks.exists(tid):
        return None
    return ws.tasks.get(tid)

