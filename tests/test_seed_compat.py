"""Both ways compatible with the seed's files (s12_worktree_task_isolation.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from core.workspace import Workspace


def seed_task(task_id: int, subject: str, **kw) -> dict:
    """Exactly what the seed's TaskManager.create writes."""
    now = time.time()
    task = {"id": task_id, "subject": subject, "description": "", "status": "pending",
            "owner": "", "worktree": "", "blockedBy": [], "created_at": now, "updated_at": now}
    task.update(kw)
    return task


def test_seed_board_and_index_load(repo):
    tasks = repo / ".tasks"
    tasks.mkdir()
    for t in (seed_task(1, "Backend auth", status="in_progress", worktree="auth-refactor"),
              seed_task(2, "Frontend login", blockedBy=[1])):
        # The seed writes with json.dumps(task, indent=2) and no trailing newline.
        (tasks / f"task_{t['id']}.json").write_text(json.dumps(t, indent=2))
    (repo / ".worktrees").mkdir()
    (repo / ".worktrees" / "index.json").write_text(json.dumps({"worktrees": [{
        "name": "auth-refactor", "path": str(repo / ".worktrees" / "auth-refactor"),
        "branch": "wt/auth-refactor", "task_id": 1, "status": "active",
        "created_at": time.time()}]}, indent=2))
    (repo / ".worktrees" / "events.jsonl").write_text(json.dumps(
        {"event": "worktree.create.after", "ts": time.time(), "task": {"id": 1},
         "worktree": {"name": "auth-refactor"}}) + "\n")
    ws = Workspace.open(repo)
    listing = ws.tasks.list()
    assert listing.errors == [] and [t["id"] for t in listing.tasks] == [1, 2]
    assert [t["id"] for t in ws.tasks.list(ready=True).tasks] == []
    assert ws.lanes.get("auth-refactor")["task_id"] == 1
    assert ws.events.tail(1)[0]["event"] == "worktree.create.after"
    # The seed's lane has no base recorded: status falls back sensibly, reconcile sees the
    # directory the seed never created.
    assert ws.lanes.status("auth-refactor").missing
    assert {f.kind for f in ws.lanes.reconcile()} == {"missing"}
    # New ids continue after the seed's.
    assert ws.tasks.create("next")["id"] == 3


def seed_list_all(tasks_dir: Path) -> list[str]:
    """The seed's TaskManager.list_all and _max_id, field access for field access."""
    lines = []
    for f in sorted(tasks_dir.glob("task_*.json")):
        t = json.loads(f.read_text())
        marker = {"pending": "[ ]", "in_progress": "[>]", "completed": "[x]"}.get(t["status"], "[?]")
        owner = f" owner={t['owner']}" if t.get("owner") else ""
        wt = f" wt={t['worktree']}" if t.get("worktree") else ""
        lines.append(f"{marker} #{t['id']}: {t['subject']}{owner}{wt}")
    ids = [int(f.stem.split("_")[1]) for f in tasks_dir.glob("task_*.json")]
    assert max(ids) == len(ids)
    return lines


def test_what_worklanes_writes_reads_in_the_seed(ws):
    ws.tasks.create("Backend auth")
    ws.tasks.create("Frontend login", blocked_by=[1])
    ws.lanes.create("auth-refactor", task_id=1)
    ws.lanes.create("ui-login", task_id=2)
    ws.lanes.keep("ui-login")
    ws.lanes.remove("auth-refactor", complete_task=True)
    assert seed_list_all(ws.root / ".tasks") == [
        "[x] #1: Backend auth", "[>] #2: Frontend login wt=ui-login"]
    for f in (ws.root / ".tasks").glob("task_*.json"):
        data = json.loads(f.read_text())
        # The seed's TaskManager touches these keys directly.
        for key in ("id", "subject", "description", "status", "owner", "worktree",
                    "blockedBy", "created_at", "updated_at"):
            assert key in data
    index = json.loads((ws.root / ".worktrees" / "index.json").read_text())
    for wt in index["worktrees"]:
        for key in ("name", "path", "branch", "task_id", "status", "created_at"):
            assert key in wt
        assert f"[{wt['status']}] {wt['name']} -> {wt['path']} ({wt['branch']})"
    assert [w["status"] for w in index["worktrees"]] == ["removed", "kept"]
    for line in (ws.root / ".worktrees" / "events.jsonl").read_text().splitlines():
        e = json.loads(line)
        assert {"event", "ts", "task", "worktree"} <= set(e)
    # Nothing the seed globs for is a stray file of ours (locks, temp files).
    assert sorted(p.name for p in (ws.root / ".tasks").glob("task_*.json")) == [
        "task_1.json", "task_2.json"]
