"""The agent's integration tools through the fake Messages API server: worktree_merge asks
first (a git write, and a command when the check runs), worktree_sync leaves a conflict in
the lane, and a lane-bound agent may sync its own lane but never merge."""

from __future__ import annotations

import json
from pathlib import Path

from core.agent import Decision
from core.agent.tools import Toolbox
from core.workspace import Workspace
from tests.conftest import git
from tests.test_agent_support import Events, agent, api, approve_all, calls, result_of  # noqa: F401
from tests.test_core_merge import commit, head, lane_path, nothing_in_progress


def lane_with_work(ws, name: str, files: dict[str, str], task: bool = True) -> Path:
    tid = ws.tasks.create(f"Work of {name}")["id"] if task else None
    ws.lanes.create(name, task_id=tid)
    path = lane_path(ws, name)
    commit(path, files, f"{name}: work")
    return path


def test_merge_asks_then_advances_the_base_and_a_denial_changes_nothing(ws, repo, api):
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    before = head(repo)
    approver = approve_all(Decision.DENY)
    api.add(calls(("worktree_merge", {"name": "feat", "strategy": "squash"})))
    api.add_text("ok, not merged")
    agent(ws, api, approver=approver, policy="ask").send("merge feat", Events())
    assert [(r.tool, r.effect, r.summary) for r in approver.asked] == [
        ("worktree_merge", "lane", "worktree_merge: feat (squash)")]
    assert result_of(api)[0].startswith("Denied")
    assert head(repo) == before and ws.lanes.get("feat")["status"] == "active"

    approver = approve_all(Decision.ALLOW_ONCE)
    api.add(calls(("worktree_merge", {"name": "feat", "strategy": "squash"})))
    api.add_text("merged")
    agent(ws, api, approver=approver, policy="ask").send("merge feat", Events())
    out = json.loads(result_of(api)[0])
    assert out["strategy"] == "squash" and out["old"] == before and out["new"] == head(repo)
    assert git(repo, "log", "-1", "--format=%s").strip() == "Work of feat"
    assert (repo / "feature.txt").read_text() == "new\n"
    assert ws.lanes.get("feat")["status"] == "merged"
    assert ws.tasks.get(1)["status"] == "completed"
    assert api.errors == []


def test_merge_with_a_check_is_command_execution_and_returns_the_failing_output(ws, repo, api):
    (repo / ".worklanes.toml").write_text('[lanes]\ncheck = "echo checking-it; exit 4"\n')
    ws = Workspace.open(repo)
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    tb = Toolbox(ws)
    assert tb.effect("worktree_merge", {"name": "feat"}) == "command"
    assert tb.effect("worktree_merge", {"name": "feat", "check": False}) == "lane"
    before = head(repo)
    api.add(calls(("worktree_merge", {"name": "feat"})))
    api.add_text("the check failed")
    agent(ws, api).send("merge feat", Events())
    (out,) = result_of(api)
    assert out.startswith("Error: the check `echo checking-it; exit 4` failed")
    assert "checking-it" in out and head(repo) == before


def test_sync_leaves_a_conflict_in_the_lane_and_abort_undoes_it(ws, repo, api):
    path = lane_with_work(ws, "clash", {"README.md": "# lane\n"})
    commit(repo, {"README.md": "# main\n"}, "main readme")
    lane_head = head(path, "HEAD")
    status = json.loads(Toolbox(ws).run("worktree_status", {"name": "clash"}).output
                        .split("\n## ")[0])
    assert status["conflicts"] == ["README.md"] and status["integrated"] is False

    api.add(calls(("worktree_sync", {"name": "clash"})))
    api.add_text("there is a conflict")
    api.add(calls(("worktree_sync", {"name": "clash", "abort": True})))
    api.add_text("aborted")
    ag = agent(ws, api)
    ag.send("sync clash", Events())
    (out,) = result_of(api)
    assert "stopped on 1 conflicting file(s)" in out and '"state": "conflict"' in out
    assert not nothing_in_progress(path) and nothing_in_progress(repo)
    assert git(repo, "status", "--porcelain") == ""
    ag.send("undo it", Events())
    (out,) = result_of(api)
    assert '"state": "aborted"' in out
    assert nothing_in_progress(path) and head(path, "HEAD") == lane_head


def test_a_lane_agent_may_sync_its_own_lane_but_never_merge(ws, repo, api):
    lane_with_work(ws, "feat", {"feature.txt": "new\n"})
    lane_with_work(ws, "other", {"other.txt": "x\n"})
    commit(repo, {"main.txt": "m\n"}, "main moves on")
    before = head(repo)
    api.add(calls(("worktree_merge", {"name": "feat"}),
                  ("worktree_sync", {"name": "other"}),
                  ("worktree_sync", {"name": "feat"})))
    api.add_text("done")
    agent(ws, api, lane="feat").send("work", Events())
    merge, other, mine = result_of(api)
    assert "worktree_merge acts on other lanes and is for the main agent only" in merge
    assert "works in lane 'feat'" in other
    assert "now has every commit of main" in mine and '"state": "synced"' in mine
    assert head(repo) == before and ws.lanes.get("feat")["status"] == "active"
    assert (lane_path(ws, "feat") / "main.txt").exists()
    assert not (lane_path(ws, "other") / "main.txt").exists()
