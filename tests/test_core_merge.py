"""Integration of lanes into their base, against real repositories: the forecast, merge /
squash / rebase, the refusals that change nothing, the check gate, sync and prune."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from core.errors import ConflictError, DirtyLaneError, InvalidInputError
from core.forecast import forecast_lane, forecast_lanes
from core.merge import CheckFailedError, merge_lane, plan_merge
from core.sync import abort_sync, prune_merged, sync_lane
from core.workspace import Workspace
from tests.conftest import git
from tests.gitshim import make_shim


def commit(path: Path, files: dict[str, str], msg: str) -> str:
    for name, text in files.items():
        (Path(path) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(path) / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", msg)
    return git(path, "rev-parse", "HEAD").strip()


def lane_path(ws, name: str) -> Path:
    return Path(ws.lanes.get(name)["path"])


def head(repo: Path, ref: str = "main") -> str:
    return git(repo, "rev-parse", ref).strip()


def events(ws) -> list[str]:
    return [e["event"] for e in ws.events.tail(200)]


def nothing_in_progress(*paths: Path) -> bool:
    for p in paths:
        for marker in ("MERGE_HEAD", "rebase-merge", "rebase-apply"):
            rel = git(p, "rev-parse", "--git-path", marker).strip()
            if (Path(p) / rel).exists():
                return False
    return True


@pytest.fixture
def lanes3(ws, repo):
    """clean: adds a file; clash: edits the line main also edits; fresh: no commits."""
    for n in ("clean", "clash", "fresh"):
        ws.lanes.create(n)
    commit(lane_path(ws, "clean"), {"feature.txt": "new\n"}, "add feature")
    commit(lane_path(ws, "clash"), {"README.md": "# lane\n"}, "lane readme")
    commit(repo, {"README.md": "# main\n"}, "main readme")
    return ws


# -- forecast ----------------------------------------------------------------------------
def test_forecast_reports_conflicts_and_touches_no_working_tree(lanes3, repo):
    ws = lanes3
    before = {p: git(p, "status", "--porcelain") for p in (repo, lane_path(ws, "clash"))}
    heads = {n: head(repo, f"wt/{n}") for n in ("clean", "clash", "fresh")}
    fc = forecast_lanes(ws.root, ws.lanes.list())
    assert (fc["clean"].conflicts, fc["clean"].integrated, fc["clean"].error) == ([], False, "")
    assert fc["clash"].conflicts == ["README.md"] and not fc["clash"].integrated
    assert fc["fresh"].empty and not fc["fresh"].integrated
    assert {p: git(p, "status", "--porcelain") for p in before} == before
    assert {n: head(repo, f"wt/{n}") for n in heads} == heads
    assert fc["clash"].to_dict() == {"conflicts": ["README.md"], "integrated": False,
                                     "integrated_reason": "", "forecast_error": ""}


def test_forecast_of_many_lanes_is_two_git_processes_then_one(ws, repo, tmp_path, monkeypatch):
    for i in range(6):
        ws.lanes.create(f"l{i}")
        commit(lane_path(ws, f"l{i}"), {f"f{i}.txt": "x\n"}, f"lane {i}")
    commit(repo, {"other.txt": "main moved\n"}, "main moves")
    shim = make_shim(tmp_path)
    for k, v in shim.env().items():
        monkeypatch.setenv(k, v)
    first = forecast_lanes(ws.root, ws.lanes.list())
    assert shim.calls() == ["cat-file", "merge-tree"]
    assert all(not f.conflicts and not f.integrated for f in first.values())
    again = forecast_lanes(ws.root, ws.lanes.list())  # nothing moved: the cache answers
    assert shim.calls() == ["cat-file", "merge-tree", "cat-file"]
    assert {n: (f.tree, f.conflicts) for n, f in again.items()} == \
        {n: (f.tree, f.conflicts) for n, f in first.items()}


def test_one_unrelated_lane_does_not_hide_the_others(lanes3, repo):
    ws = lanes3
    p = lane_path(ws, "fresh")
    git(p, "checkout", "-q", "--orphan", "tmp")
    commit(p, {"alone.txt": "x\n"}, "unrelated root")
    git(p, "branch", "-f", "wt/fresh", "tmp")
    git(p, "checkout", "-q", "wt/fresh")
    fc = forecast_lanes(ws.root, ws.lanes.list())
    assert "unrelated" in fc["fresh"].error
    assert fc["clash"].conflicts == ["README.md"] and fc["clean"].conflicts == []


# -- merge ---------------------------------------------------------------------------------
def test_merge_makes_a_merge_commit_moves_main_checkout_and_completes_the_task(ws, repo):
    t = ws.tasks.create("Add feature", "the feature file")
    dep = ws.tasks.create("Use feature", blocked_by=[t["id"]])
    ws.lanes.create("feat", task_id=t["id"])
    tip = commit(lane_path(ws, "feat"), {"feature.txt": "new\n"}, "add feature")
    old = head(repo)
    res = merge_lane(ws, "feat")
    new = head(repo)
    assert res.new == new != old and res.commits == 1
    assert git(repo, "log", "-1", "--format=%P").split() == [old, tip]
    assert "Task #1: Add feature" in git(repo, "log", "-1", "--format=%B")
    assert (repo / "feature.txt").read_text() == "new\n"            # the checkout followed
    assert git(repo, "status", "--porcelain") == ""
    lane = ws.lanes.get("feat")
    assert lane["status"] == "merged" and lane["merged"]["commit"] == new and "op" not in lane
    assert ws.tasks.get(t["id"])["status"] == "completed"
    assert [x["id"] for x in ws.tasks.list(ready=True).tasks] == [dep["id"]]
    assert {"worktree.merge.before", "worktree.merge.after", "task.completed"} <= set(events(ws))
    assert forecast_lane(ws.root, lane).integrated
    assert nothing_in_progress(repo, lane_path(ws, "feat"))


def test_squash_is_one_commit_then_integrated_then_branch_deleted(ws, repo):
    t = ws.tasks.create("Login form", "email and password")
    ws.lanes.create("login", task_id=t["id"])
    p = lane_path(ws, "login")
    commit(p, {"login.txt": "form\n"}, "wip")
    commit(p, {"login.txt": "form v2\n"}, "finish form")
    old = head(repo)
    res = merge_lane(ws, "login", strategy="squash")
    assert git(repo, "log", "-1", "--format=%P").split() == [old]
    body = git(repo, "log", "-1", "--format=%B")
    assert body.startswith("Login form\n\nemail and password") and "- wip" in body and "Task #1" in body
    assert subprocess.run(["git", "merge-base", "--is-ancestor", "wt/login", "main"],
                          cwd=repo).returncode == 1
    fc = forecast_lane(ws.root, ws.lanes.get("login"))
    assert fc.integrated and fc.reason == "adds-nothing"
    # Not an ancestor of main, yet removal may delete the branch: nothing is lost.
    ws.lanes.remove("login", delete_branch=True)
    assert git(repo, "branch", "--list", "wt/login") == ""


def test_squash_merged_lane_stays_integrated_after_main_edits_the_same_lines(ws, repo):
    ws.lanes.create("sq")
    commit(lane_path(ws, "sq"), {"README.md": "# from lane\n"}, "lane edit")
    merge_lane(ws, "sq", strategy="squash")
    commit(repo, {"README.md": "# main again\n"}, "main edits the same line")
    fc = forecast_lane(ws.root, ws.lanes.get("sq"))
    assert fc.conflicts == ["README.md"]          # a merge would conflict...
    assert fc.integrated and fc.reason == "squashed"  # ...but the work is already in main


def test_rebase_replays_the_lanes_commits_and_moves_both_checkouts(ws, repo):
    ws.lanes.create("rb")
    p = lane_path(ws, "rb")
    commit(p, {"a.txt": "a\n"}, "lane one")
    git(p, "commit", "-q", "--amend", "--no-edit", "--author=Ann <ann@example.com>",
        "--date=2001-02-03T04:05:06")
    commit(p, {"b.txt": "b\n"}, "lane two")
    main_tip = commit(repo, {"m.txt": "m\n"}, "main moves on")
    res = merge_lane(ws, "rb", strategy="rebase")
    log = git(repo, "log", "--format=%s|%an|%ad|%cn|%P", "--date=short", "-3").splitlines()
    assert [ln.split("|")[0] for ln in log] == ["lane two", "lane one", "main moves on"]
    assert log[1].split("|")[1:4] == ["Ann", "2001-02-03", "Test"]   # author kept
    assert log[1].split("|")[4] == main_tip and len(log[0].split("|")[4].split()) == 1
    assert head(repo, "wt/rb") == head(repo) == res.new
    assert (p / "m.txt").exists() and git(p, "status", "--porcelain") == ""
    assert (repo / "b.txt").exists() and git(repo, "status", "--porcelain") == ""
    assert forecast_lane(ws.root, ws.lanes.get("rb")).reason == "same-commit"


def test_rebase_of_a_lane_on_an_unmoved_base_fast_forwards(ws, repo):
    ws.lanes.create("ff")
    tip = commit(lane_path(ws, "ff"), {"a.txt": "a\n"}, "lane one")
    merge_lane(ws, "ff", strategy="rebase")
    assert head(repo) == tip == head(repo, "wt/ff")


def test_merge_remove_deletes_the_lane_and_its_branch(ws, repo):
    ws.lanes.create("gone")
    commit(lane_path(ws, "gone"), {"x.txt": "x\n"}, "x")
    res = merge_lane(ws, "gone", strategy="squash", remove=True)
    assert res.removed and ws.lanes.get("gone")["status"] == "removed"
    assert not lane_path(ws, "gone").exists() and git(repo, "branch", "--list", "wt/gone") == ""


def test_an_already_integrated_lane_is_only_marked_merged(ws, repo):
    ws.lanes.create("byhand")
    commit(lane_path(ws, "byhand"), {"x.txt": "x\n"}, "x")
    git(repo, "merge", "-q", "--ff-only", "wt/byhand")
    before = head(repo)
    res = merge_lane(ws, "byhand")
    assert res.already and head(repo) == before and ws.lanes.get("byhand")["status"] == "merged"


# -- refusals: nothing changes -----------------------------------------------------------
def _unchanged(ws, repo, name, main_before, fn, exc, *words):
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    assert all(w in msg for w in words), msg
    assert head(repo) == main_before
    assert ws.lanes.get(name)["status"] == "active" and "op" not in ws.lanes.get(name)
    assert nothing_in_progress(repo, lane_path(ws, name))
    assert events(ws)[-1] == "worktree.merge.failed"
    return msg


def test_refusals_name_the_problem_and_change_nothing(lanes3, repo):
    ws = lanes3
    before = head(repo)
    _unchanged(ws, repo, "clash", before, lambda: merge_lane(ws, "clash"), ConflictError,
               "README.md", "wt sync clash")
    _unchanged(ws, repo, "fresh", before, lambda: merge_lane(ws, "fresh"), ConflictError,
               "no commits")
    (lane_path(ws, "clean") / "draft.txt").write_text("not committed\n")
    _unchanged(ws, repo, "clean", before, lambda: merge_lane(ws, "clean"), DirtyLaneError,
               "uncommitted", "commit")
    (lane_path(ws, "clean") / "draft.txt").unlink()
    (repo / "README.md").write_text("edited in the main checkout\n")
    _unchanged(ws, repo, "clean", before, lambda: merge_lane(ws, "clean"), DirtyLaneError,
               "main is checked out at", "commit or stash")
    git(repo, "checkout", "README.md")
    with pytest.raises(InvalidInputError, match="strategy"):
        merge_lane(ws, "clean", strategy="octopus")
    assert merge_lane(ws, "clean").new != before   # and once all is well, it merges


def test_an_untracked_file_the_merge_would_overwrite_is_refused(ws, repo):
    ws.lanes.create("adds")
    commit(lane_path(ws, "adds"), {"notes.txt": "lane\n"}, "notes")
    (repo / "notes.txt").write_text("mine, untracked\n")
    _unchanged(ws, repo, "adds", head(repo), lambda: merge_lane(ws, "adds"), ConflictError,
               "notes.txt")
    assert (repo / "notes.txt").read_text() == "mine, untracked\n"


def test_a_base_that_is_not_a_branch_is_refused(ws, repo):
    sha = head(repo)
    ws.lanes.create("pinned", base_ref=sha)
    commit(lane_path(ws, "pinned"), {"x.txt": "x\n"}, "x")
    _unchanged(ws, repo, "pinned", sha, lambda: merge_lane(ws, "pinned"), InvalidInputError,
               "not a branch")


# -- check gate ------------------------------------------------------------------------------
def test_the_check_gates_the_merge_and_streams_its_output(repo):
    (repo / ".worklanes.toml").write_text(
        '[lanes]\ncheck = "echo checking; test -f ok.txt || { echo ok.txt missing; exit 3; }"\n')
    ws = Workspace.open(repo)
    ws.lanes.create("gated")
    p = lane_path(ws, "gated")
    commit(p, {"code.txt": "x\n"}, "code")
    before = head(repo)
    streamed: list[str] = []
    with pytest.raises(CheckFailedError) as info:
        merge_lane(ws, "gated", on_output=streamed.append)
    assert info.value.result.exit_code == 3 and "ok.txt missing" in info.value.result.output
    assert "ok.txt missing" in "".join(streamed)
    assert head(repo) == before and ws.lanes.get("gated")["status"] == "active"
    assert "worktree.check.failed" in events(ws)
    assert plan_merge(ws, "gated").check.startswith("echo checking")
    commit(p, {"ok.txt": "fine\n"}, "make the check pass")
    res = merge_lane(ws, "gated")
    assert res.check.exit_code == 0 and head(repo) == res.new != before


def test_a_cancelled_check_refuses_the_merge_and_kills_the_command(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "echo started; sleep 300"\n')
    ws = Workspace.open(repo)
    ws.lanes.create("slow")
    commit(lane_path(ws, "slow"), {"x.txt": "x\n"}, "x")
    before, cancel = head(repo), threading.Event()

    def listener(text: str) -> None:
        if "started" in text:
            cancel.set()
        raise RuntimeError("a broken listener must not stall the check")

    with pytest.raises(CheckFailedError, match="cancelled") as info:
        merge_lane(ws, "slow", on_output=listener, cancel=cancel)
    assert info.value.result.cancelled and "started" in info.value.result.output
    assert head(repo) == before and ws.lanes.get("slow")["status"] == "active"


def test_no_check_skips_a_failing_check(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "exit 1"\n')
    ws = Workspace.open(repo)
    ws.lanes.create("skip")
    commit(lane_path(ws, "skip"), {"x.txt": "x\n"}, "x")
    res = merge_lane(ws, "skip", check=False)
    assert res.check is None and head(repo) == res.new


# -- sync ------------------------------------------------------------------------------------
def test_sync_conflict_stays_in_the_lane_and_abort_restores_it(lanes3, repo):
    ws = lanes3
    p = lane_path(ws, "clash")
    lane_head, main_head = head(p, "HEAD"), head(repo)
    res = sync_lane(ws, "clash")
    assert res.state == "conflict" and res.conflicts == ["README.md"]
    assert "--abort" in res.message and "README.md" in res.message
    assert not nothing_in_progress(p) and "<<<<<<<" in (p / "README.md").read_text()
    assert nothing_in_progress(repo) and git(repo, "status", "--porcelain") == ""
    assert head(repo) == main_head
    with pytest.raises(ConflictError, match="stopped"):
        merge_lane(ws, "clash")
    assert abort_sync(ws, "clash").state == "aborted"
    assert nothing_in_progress(p) and head(p, "HEAD") == lane_head
    assert (p / "README.md").read_text() == "# lane\n"
    with pytest.raises(ConflictError, match="nothing to abort"):
        abort_sync(ws, "clash")
    assert {"worktree.sync.conflict", "worktree.sync.abort"} <= set(events(ws))


def test_sync_resolved_in_the_lane_then_merges_cleanly(lanes3, repo):
    ws = lanes3
    p = lane_path(ws, "clash")
    assert sync_lane(ws, "clash").state == "conflict"
    (p / "README.md").write_text("# both\n")
    git(p, "commit", "-qam", "resolve")
    assert forecast_lane(ws.root, ws.lanes.get("clash")).conflicts == []
    merge_lane(ws, "clash")
    assert (repo / "README.md").read_text() == "# both\n"


def test_sync_merges_or_rebases_the_base_into_the_lane(lanes3, repo):
    ws = lanes3
    res = sync_lane(ws, "clean")
    p = lane_path(ws, "clean")
    assert res.state == "synced" and (p / "README.md").read_text() == "# main\n"
    assert len(git(p, "log", "-1", "--format=%P").split()) == 2
    assert sync_lane(ws, "clean").state == "up-to-date"
    commit(repo, {"later.txt": "l\n"}, "later")
    ws.lanes.create("rb")
    commit(lane_path(ws, "rb"), {"r.txt": "r\n"}, "r")
    commit(repo, {"later2.txt": "l\n"}, "later 2")
    assert sync_lane(ws, "rb", rebase=True).state == "synced"
    assert git(lane_path(ws, "rb"), "log", "--format=%s", "-2").split("\n")[:2] == ["r", "later 2"]
    assert "worktree.sync" in events(ws)


def test_sync_of_a_fresh_lane_keeps_it_empty_not_integrated(lanes3):
    ws = lanes3
    assert sync_lane(ws, "fresh").state == "synced"
    fc = forecast_lane(ws.root, ws.lanes.get("fresh"))
    assert fc.empty and not fc.integrated


def test_sync_refuses_a_dirty_lane(lanes3):
    ws = lanes3
    (lane_path(ws, "clean") / "wip.txt").write_text("x\n")
    with pytest.raises(DirtyLaneError, match="commit them first"):
        sync_lane(ws, "clean")
    assert nothing_in_progress(lane_path(ws, "clean"))


# -- cleanup ---------------------------------------------------------------------------------
def test_prune_merged_removes_only_integrated_clean_lanes(lanes3, repo):
    ws = lanes3
    merge_lane(ws, "clean", strategy="squash")
    ws.lanes.create("dirty")
    commit(lane_path(ws, "dirty"), {"d.txt": "d\n"}, "d")
    merge_lane(ws, "dirty")
    (lane_path(ws, "dirty") / "more.txt").write_text("unsaved\n")
    dry = {i.name: i.action for i in prune_merged(ws, dry_run=True)}
    assert dry == {"clean": "would remove", "dirty": "kept"}
    assert ws.lanes.get("clean")["status"] == "merged"
    done = {i.name: i.action for i in prune_merged(ws)}
    assert done == {"clean": "removed", "dirty": "kept"}
    assert git(repo, "branch", "--list", "wt/clean") == ""
    assert (lane_path(ws, "dirty") / "more.txt").exists()
    assert {ln["name"]: ln["status"] for ln in ws.lanes.list()} == {
        "clean": "removed", "clash": "active", "fresh": "active", "dirty": "merged"}


def test_merged_lanes_are_listed_and_reconciled_like_live_ones(ws, repo):
    ws.lanes.create("m")
    commit(lane_path(ws, "m"), {"x.txt": "x\n"}, "x")
    merge_lane(ws, "m")
    assert ws.lanes.status("m").status == "merged"
    assert ws.lanes.reconcile() == []
    shutil.rmtree(lane_path(ws, "m"))
    assert "missing" in [f.kind for f in ws.lanes.reconcile()]
    ws.lanes.reconcile(fix=True)
    assert ws.lanes.get("m")["status"] == "removed"


def test_rebase_refuses_a_commit_that_conflicts_even_when_the_whole_merge_is_clean(ws, repo):
    ws.lanes.create("back")
    p = lane_path(ws, "back")
    commit(p, {"README.md": "# lane try\n"}, "try a title")
    commit(p, {"README.md": "# demo\n", "x.txt": "x\n"}, "undo the title, add x")
    commit(repo, {"README.md": "# main title\n"}, "main title")
    assert forecast_lane(ws.root, ws.lanes.get("back")).conflicts == []
    _unchanged(ws, repo, "back", head(repo), lambda: merge_lane(ws, "back", strategy="rebase"),
               ConflictError, "stops at commit", "try a title")
    assert merge_lane(ws, "back").new == head(repo)      # a plain merge is fine


def test_rebase_skips_a_commit_the_base_already_has(ws, repo):
    ws.lanes.create("dup")
    p = lane_path(ws, "dup")
    commit(p, {"same.txt": "same\n"}, "same change")
    commit(p, {"own.txt": "own\n"}, "own change")
    commit(repo, {"same.txt": "same\n"}, "same change, made on main")
    merge_lane(ws, "dup", strategy="rebase")
    assert git(repo, "log", "--format=%s", "-3").splitlines() == [
        "own change", "same change, made on main", "initial commit"]
