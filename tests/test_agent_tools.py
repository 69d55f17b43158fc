"""Every tool, path safety, the approval policy, and command limits. Tools run through
the Toolbox directly (fast) and, where the loop matters, through the agent."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from core.agent import Decision, ToolFinished
from core.agent.tools import OUTPUT_CAP, SEED_TOOL_NAMES, Toolbox, blocked_reason, cap_text
from core.errors import WorklanesError
from core.workspace import Workspace
from tests.conftest import git
from tests.test_agent_support import (Events, agent, api, approve_all, calls,  # noqa: F401
                                      result_of)

S, I, B = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
# The seed's 16 tool schemas (properties and required), as the seed defines them.
SEED_SCHEMAS = {
    "bash": ({"command": S}, ["command"]),
    "read_file": ({"path": S, "limit": I}, ["path"]),
    "write_file": ({"path": S, "content": S}, ["path", "content"]),
    "edit_file": ({"path": S, "old_text": S, "new_text": S}, ["path", "old_text", "new_text"]),
    "task_create": ({"subject": S, "description": S}, ["subject"]),
    "task_list": ({}, None),
    "task_get": ({"task_id": I}, ["task_id"]),
    "task_update": ({"task_id": I, "status": {"type": "string", "enum": [
        "pending", "in_progress", "completed"]}, "owner": S}, ["task_id"]),
    "task_bind_worktree": ({"task_id": I, "worktree": S, "owner": S}, ["task_id", "worktree"]),
    "worktree_create": ({"name": S, "task_id": I, "base_ref": S}, ["name"]),
    "worktree_list": ({}, None),
    "worktree_status": ({"name": S}, ["name"]),
    "worktree_run": ({"name": S, "command": S}, ["name", "command"]),
    "worktree_remove": ({"name": S, "force": B, "complete_task": B}, ["name"]),
    "worktree_keep": ({"name": S}, ["name"]),
    "worktree_events": ({"limit": I}, None),
}


def _pid_gone(pid: int, timeout: float = 5.0) -> bool:
    """Dead: no such process, or a zombie waiting for init to reap it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def tb(ws) -> Toolbox:
    return Toolbox(ws)


def run(tb: Toolbox, tool: str, /, **args):
    return tb.run(tool, args)


# -- the tool set ------------------------------------------------------------------------

def test_seed_tools_keep_their_names_and_schemas(tb):
    defs = {d["name"]: d for d in tb.definitions()}
    assert set(SEED_TOOL_NAMES) == set(SEED_SCHEMAS) <= set(defs)
    for name, (props, required) in SEED_SCHEMAS.items():
        schema = defs[name]["input_schema"]
        assert schema["type"] == "object"
        for prop, spec in props.items():   # every seed property, same type (may add a description)
            assert {k: v for k, v in schema["properties"][prop].items() if k != "description"} == spec
        assert schema.get("required") == required, name
    extra = set(defs) - set(SEED_SCHEMAS)
    assert {"task_block", "task_unblock", "worktree_diff", "worktree_reconcile",
            "worktree_restore"} <= extra
    assert all(d["description"] for d in defs.values())


def test_file_tools(tb, ws):
    assert run(tb, "write_file", path="src/app.py", content="a = 1\nb = 2\nb = 2\n").output \
        == "Wrote 18 bytes to src/app.py"
    assert run(tb, "read_file", path="src/app.py").output == "a = 1\nb = 2\nb = 2"
    assert run(tb, "read_file", path="src/app.py", limit=1).output == "a = 1\n... (2 more)"
    assert run(tb, "read_file", path="src/app.py", offset=2, limit=1).output == "b = 2\n... (1 more)"
    res = run(tb, "edit_file", path="src/app.py", old_text="b = 2", new_text="b = 3")
    assert "first was replaced" in res.output and not res.is_error
    assert (ws.root / "src/app.py").read_text() == "a = 1\nb = 3\nb = 2\n"
    res = run(tb, "edit_file", path="src/app.py", old_text="zzz", new_text="y")
    assert res.is_error and "not found" in res.output
    res = run(tb, "read_file", path="missing.txt")
    assert res.is_error and "FileNotFoundError" in res.output
    assert run(tb, "read_file", path="src").is_error


def test_read_file_output_is_capped(tb, ws):
    (ws.root / "big.txt").write_text("x" * 80 + "\n" + "y\n" * 100_000)
    res = run(tb, "read_file", path="big.txt")
    assert len(res.output) < OUTPUT_CAP + 200
    assert res.output.startswith("x" * 80) and "[output truncated:" in res.output


def test_task_tools(tb, ws):
    one = json.loads(run(tb, "task_create", subject="Backend auth", description="jwt").output)
    two = json.loads(run(tb, "task_create", subject="Login page", blocked_by=[1]).output)
    assert (one["id"], two["blockedBy"]) == (1, [1])
    assert run(tb, "task_list").output.splitlines() == ["[ ] #1: Backend auth",
                                                        "[ ] #2: Login page  blocked by #1"]
    assert run(tb, "task_list", ready=True).output == "[ ] #1: Backend auth"
    assert json.loads(run(tb, "task_get", task_id=2).output)["subject"] == "Login page"
    upd = json.loads(run(tb, "task_update", task_id=1, status="completed", owner="me").output)
    assert (upd["status"], upd["owner"]) == ("completed", "me")
    assert ws.tasks.get(2)["blockedBy"] == []      # completing unblocks
    assert "task 1 is completed" in run(tb, "task_block", task_id=1, blocked_by=2).output
    run(tb, "task_create", subject="Docs")
    assert json.loads(run(tb, "task_block", task_id=3, blocked_by=2).output)["blockedBy"] == [2]
    assert "cycle" in run(tb, "task_block", task_id=2, blocked_by=3).output
    assert json.loads(run(tb, "task_unblock", task_id=3, blocked_by=2).output)["blockedBy"] == []
    bound = json.loads(run(tb, "task_bind_worktree", task_id=2, worktree="ui", owner="a").output)
    assert (bound["worktree"], bound["status"], bound["owner"]) == ("ui", "in_progress", "a")
    res = run(tb, "task_update", task_id=1, status="done")
    assert res.is_error and "unknown status" in res.output
    res = run(tb, "task_get", task_id=99)
    assert res.is_error and "does not exist" in res.output


def test_worktree_tools(tb, ws):
    run(tb, "task_create", subject="feature")
    lane = json.loads(run(tb, "worktree_create", name="feat", task_id=1).output)
    assert lane["branch"] == "wt/feat" and ws.tasks.get(1)["worktree"] == "feat"
    assert run(tb, "worktree_list").output.startswith("[active]  feat  ")
    run(tb, "write_file", path="new.txt", content="hello\n", worktree="feat")
    status = run(tb, "worktree_status", name="feat").output
    assert json.loads(status[:status.rindex("}") + 1])["dirty"] == 1 and "?? new.txt" in status
    res = run(tb, "worktree_run", name="feat", command="git add -A && git commit -qm 'add new' "
              "&& git log --oneline -1")
    assert not res.is_error and "add new" in res.output
    assert "+hello" in run(tb, "worktree_diff", name="feat").output
    assert json.loads(run(tb, "worktree_keep", name="feat").output)["status"] == "kept"
    run(tb, "write_file", path="wip.txt", content="wip", worktree="feat")
    res = run(tb, "worktree_remove", name="feat")
    assert res.is_error and "uncommitted" in res.output
    res = run(tb, "worktree_remove", name="feat", force=True, complete_task=True)
    assert "refs/worklanes/archive/feat" in res.output and "completed task #1" in res.output
    assert json.loads(run(tb, "worktree_restore", name="feat").output)["status"] == "active"
    assert (ws.root / ".worktrees/feat/wip.txt").read_text() == "wip"
    events = [e["event"] for e in json.loads(run(tb, "worktree_events", limit=100).output)]
    assert {"worktree.create.after", "worktree.run", "worktree.keep", "worktree.remove.after",
            "task.completed", "worktree.restore"} <= set(events)
    assert len(json.loads(run(tb, "worktree_events", limit=2).output)) == 2
    assert run(tb, "worktree_reconcile").output.startswith("Index and git agree")
    git(ws.root, "worktree", "add", "-q", "-b", "stray", str(ws.root / "stray"))
    assert "[unregistered] stray" in run(tb, "worktree_reconcile").output
    assert "[fixed] stray" in run(tb, "worktree_reconcile", fix=True).output
    res = run(tb, "worktree_status", name="nope")
    assert res.is_error and "not in the index" in res.output


def test_bash_runs_in_root_and_reports_exit_codes(tb, ws):
    res = run(tb, "bash", command="pwd; ls")
    assert not res.is_error and res.output.splitlines()[0] == str(ws.root)
    res = run(tb, "bash", command="echo oops >&2; exit 3")
    assert res.is_error and res.output == "oops\n[exit 3]"


def test_bad_calls_become_error_results(tb):
    assert "unknown tool" in run(tb, "rm_everything").output
    res = run(tb, "write_file", path="a.txt")
    assert res.is_error and "needs content" in res.output
    res = tb.run("bash", ["not", "a", "dict"])
    assert res.is_error


# -- path safety -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/etc/passwd",
                                  "{outside}/outside.txt"])
def test_paths_outside_the_root_are_refused(tb, ws, path):
    outside = ws.root.parent / "outside.txt"
    outside.write_text("secret")
    path = path.format(outside=ws.root.parent)
    for name, extra in (("read_file", {}), ("write_file", {"content": "x"}),
                        ("edit_file", {"old_text": "secret", "new_text": "x"})):
        res = tb.run(name, {"path": path, **extra})
        assert res.is_error and "outside the repository" in res.output, (name, res.output)
    assert outside.read_text() == "secret"


def test_symlinks_cannot_escape(tb, ws):
    secret_dir = ws.root.parent / "secret"
    secret_dir.mkdir()
    (secret_dir / "key.txt").write_text("secret")
    (ws.root / "link_dir").symlink_to(secret_dir)
    (ws.root / "link_file").symlink_to(secret_dir / "key.txt")
    (ws.root / "dangling").symlink_to(secret_dir / "new.txt")
    for path in ("link_dir/key.txt", "link_file", "dangling"):
        assert "outside the repository" in run(tb, "read_file", path=path).output
        assert "outside the repository" in run(tb, "write_file", path=path, content="x").output
    assert not (secret_dir / "new.txt").exists()
    assert (secret_dir / "key.txt").read_text() == "secret"
    (ws.root / "inner").symlink_to(ws.root / "README.md")   # a link that stays inside is fine
    assert run(tb, "read_file", path="inner").output == "# demo"


def test_git_and_state_folders_are_never_written(tb, ws):
    assert "inside .git" in run(tb, "write_file", path=".git/hooks/pre-commit", content="x").output
    res = run(tb, "write_file", path=".worktrees/index.json", content="{}")
    assert res.is_error and "state folder" in res.output
    assert run(tb, "write_file", path=".tasks/task_9.json", content="{}").is_error
    assert run(tb, "read_file", path=".git/HEAD").output.startswith("ref:")   # reading is fine


def test_worktree_argument_confines_file_tools_to_the_lane(tb, ws):
    ws.lanes.create("feat")
    lane_dir = ws.root / ".worktrees" / "feat"
    assert run(tb, "write_file", path="f.txt", content="lane", worktree="feat").output.startswith("Wrote")
    assert (lane_dir / "f.txt").read_text() == "lane" and not (ws.root / "f.txt").exists()
    assert run(tb, "read_file", path="f.txt", worktree="feat").output == "lane"
    res = run(tb, "read_file", path="../../README.md", worktree="feat")
    assert res.is_error and "outside the lane 'feat'" in res.output
    assert "inside .git" in run(tb, "write_file", path=".git", content="x", worktree="feat").output
    assert "not in the index" in run(tb, "read_file", path="f.txt", worktree="nope").output


def test_lane_bound_agent_stays_in_its_lane(ws, api):
    ws.lanes.create("feat")
    ws.lanes.create("other")
    lane_dir = (ws.root / ".worktrees" / "feat").resolve()
    api.add(calls(("bash", {"command": "pwd"}),
                  ("write_file", {"path": "mine.txt", "content": "x"}),
                  ("read_file", {"path": "../../README.md"}),
                  ("write_file", {"path": "y.txt", "content": "y", "worktree": "other"}),
                  ("worktree_run", {"name": "other", "command": "touch z"})))
    api.add_text("done")
    ag = agent(ws, api, lane="feat")
    ag.send("work", Events())
    pwd, wrote, escape, other, run_other = result_of(api, -1)
    assert pwd == str(lane_dir) and wrote.startswith("Wrote")
    assert (lane_dir / "mine.txt").exists() and not (ws.root / "mine.txt").exists()
    assert "outside the lane 'feat'" in escape
    assert "works in lane 'feat'" in other and "works in lane 'feat'" in run_other
    assert not (ws.root / ".worktrees/other/z").exists()
    assert "bound to lane 'feat'" in api.requests[0].body["system"][0]["text"]


# -- approval --------------------------------------------------------------------------------

SIDE_EFFECT_CALLS = calls(("bash", {"command": "echo ran > ran.txt"}),
                          ("write_file", {"path": "w.txt", "content": "w"}),
                          ("task_list", {}))


def test_ask_policy_allow_once_asks_each_time(ws, api):
    approver = approve_all(Decision.ALLOW_ONCE)
    api.add(SIDE_EFFECT_CALLS)
    api.add(calls(("bash", {"command": "echo again"})))
    api.add_text("done")
    ag = agent(ws, api, approver=approver, policy="ask")
    ev = Events()
    ag.send("go", ev)
    assert [r.tool for r in approver.asked] == ["bash", "write_file", "bash"]
    req = approver.asked[0]
    assert req.summary == "bash: echo ran > ran.txt" and req.input == {"command": "echo ran > ran.txt"}
    assert (ws.root / "ran.txt").exists() and (ws.root / "w.txt").exists()
    assert not any(e.denied for e in ev.of(ToolFinished))


def test_ask_policy_allow_session_remembers_the_tool(ws, api):
    approver = approve_all(Decision.ALLOW_SESSION)
    api.add(calls(("bash", {"command": "true"}), ("bash", {"command": "true"})))
    api.add_text("done")
    api.add(calls(("bash", {"command": "true"})))
    api.add_text("done again")
    ag = agent(ws, api, approver=approver, policy="ask")
    ag.send("one", Events())
    ag.send("two", Events())
    assert [r.tool for r in approver.asked] == ["bash"]
    assert ag.allowed_tools == {"bash"}


def test_ask_policy_deny_tells_the_model(ws, api):
    approver = approve_all(Decision.DENY)
    api.add(SIDE_EFFECT_CALLS)
    api.add_text("ok, I will not")
    ev = Events()
    agent(ws, api, approver=approver, policy="ask").send("go", ev)
    bash, write, listing = result_of(api, -1)
    assert bash.startswith("Denied: the user did not allow this bash call")
    assert write.startswith("Denied")
    assert listing == "No tasks."
    assert not (ws.root / "ran.txt").exists() and not (ws.root / "w.txt").exists()
    finished = ev.results()
    assert finished["bash"].denied and finished["bash"].is_error and not finished["task_list"].denied
    assert api.errors == []


def test_ask_policy_without_approver_denies(ws, api):
    api.add(SIDE_EFFECT_CALLS)
    api.add_text("ok")
    agent(ws, api, policy="ask").send("go", Events())
    bash, write, _ = result_of(api, -1)
    assert "no one to ask" in bash and "no one to ask" in write
    assert not (ws.root / "ran.txt").exists()


def test_auto_policy_and_read_only_tools_never_ask(ws, api):
    approver = approve_all(Decision.DENY)
    api.add(SIDE_EFFECT_CALLS)
    api.add_text("ok")
    agent(ws, api, approver=approver, policy="auto").send("go", Events())
    assert approver.asked == [] and (ws.root / "ran.txt").exists()



# The README's policy table, row by row: a tool added without a row fails here.
POLICY = {
    "read": ["read_file", "task_list", "task_get", "worktree_list", "worktree_status",
             "worktree_diff", "worktree_events", "worktree_reconcile", "lane_agent_status"],
    "board": ["task_create", "task_update", "task_bind_worktree", "task_block", "task_unblock",
              "worktree_keep"],
    "lane": ["worktree_create", "worktree_restore", "worktree_remove", "worktree_merge",
             "worktree_sync"],
    "file_write": ["write_file", "edit_file"],
    "command": ["bash", "worktree_run", "lane_agent_start", "lane_agent_send"],
}


def test_every_tool_has_its_effect_and_the_defaults_ask_for_the_last_three(ws):
    tb = Toolbox(ws)
    table: dict[str, list[str]] = {}
    for name in tb.tools:
        table.setdefault(tb.effect(name, {}), []).append(name)
    assert {k: sorted(v) for k, v in table.items()} == {k: sorted(v) for k, v in POLICY.items()}
    assert tb.effect("worktree_reconcile", {"fix": True}) == "lane"
    asks = {n for n in tb.tools if tb.needs_approval(n, {})}
    assert asks == set(POLICY["lane"] + POLICY["file_write"] + POLICY["command"])


def test_the_policy_is_configurable_in_worklanes_toml(ws, api):
    (ws.root / ".worklanes.toml").write_text('[agent]\nask = ["command", "board"]\n')
    approver = approve_all(Decision.DENY)
    api.add(calls(("write_file", {"path": "w.txt", "content": "w"}),
                  ("task_create", {"subject": "x"}), ("bash", {"command": "true"})))
    api.add_text("ok")
    from core.agent import Agent, AgentConfig
    cfg = AgentConfig.load(ws.root)
    cfg.api_key, cfg.base_url = "sk-test-0123456789", api.url
    Agent(ws, cfg, approver=approver).send("go", Events())
    assert [(r.tool, r.effect) for r in approver.asked] == [("task_create", "board"),
                                                            ("bash", "command")]
    assert (ws.root / "w.txt").exists() and ws.tasks.list().tasks == []
    for bad, why in (('ask = ["read"]', "read-only tools never ask"),
                     ('ask = ["bogus"]', "unknown effect(s) bogus"),
                     ('ask = "command"', "must be a list of strings"),
                     ('asks = []', "unknown key(s) asks")):
        (ws.root / ".worklanes.toml").write_text(f"[agent]\n{bad}\n")
        with pytest.raises(WorklanesError, match=re.escape(why)):
            AgentConfig.load(ws.root)


def test_lane_creation_asks_when_it_runs_a_setup_command(repo):
    (repo / ".worklanes.toml").write_text('[lanes]\nsetup = "echo setting up"\n')
    tb = Toolbox(Workspace.open(repo))
    assert tb.needs_approval("worktree_create", {"name": "x"})


def test_approval_request_names_the_lane(ws, api):
    ws.lanes.create("feat")
    approver = approve_all(Decision.ALLOW_ONCE)
    api.add(calls(("worktree_run", {"name": "feat", "command": "ls"}),
                  ("write_file", {"path": "a", "content": "b", "worktree": "feat"})))
    api.add_text("ok")
    agent(ws, api, approver=approver, policy="ask").send("go", Events())
    assert [(r.lane, r.summary) for r in approver.asked] == [
        ("feat", "worktree_run: [feat] ls"), ("feat", "write_file: a (1 chars)")]


def test_blocklist_floor_holds_even_in_auto_mode(tb):
    for bad in ("rm -rf /", "rm -rf ~", "sudo rm x", "echo hi; rm -fr / ", "shutdown -h now"):
        assert blocked_reason(bad), bad
        res = run(tb, "bash", command=bad)
        assert res.is_error and "blocked" in res.output
    for fine in ("rm -rf build", "rm -rf ./dist/", "echo /", "git status"):
        assert blocked_reason(fine) is None, fine


# -- command limits ----------------------------------------------------------------------------

def test_hanging_command_with_children_is_killed_by_its_timeout(ws, api):
    api.add_tool_use("bash", {"command": "sleep 60 & echo $! > child.pid; sleep 60"})
    api.add_text("it hung")
    ev = Events()
    agent(ws, api, command_timeout=0.5).send("hang", ev)
    res = ev.results()["bash"]
    assert res.is_error and "timed out" in res.output and " sleep" in res.output
    assert _pid_gone(int((ws.root / "child.pid").read_text()))


def _running(*argv: str) -> list[int]:
    """Live processes whose command line is exactly ``argv``."""
    want = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == want \
                    and not _pid_gone(int(entry.name), timeout=0):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_gnu_timeout_in_its_own_process_group_is_killed_too(ws, api):
    # GNU timeout moves itself to a new process group: a group kill misses it and its
    # sleep. The session (and the result) must not.
    api.add_tool_use("bash", {"command": "timeout 1005 sleep 1005"})
    api.add_text("it hung")
    ev = Events()
    agent(ws, api, command_timeout=1).send("hang", ev)
    res = ev.results()["bash"]
    assert "timed out" in res.output and " timeout" in res.output and " sleep" in res.output
    assert _running("sleep", "1005") == [] and _running("timeout", "1005", "sleep", "1005") == []


def test_background_children_do_not_outlive_the_command(tb):
    res = tb.run("bash", {"command": "sleep 1008 >/dev/null 2>&1 & echo started"})
    assert not res.is_error and res.output.startswith("started\n")
    # (named sleep, or sh if it was killed before it got to exec sleep)
    assert "[killed 1 process(es) the command left running:" in res.output
    assert _running("sleep", "1008") == []


def test_a_child_that_moved_to_its_own_session_is_found_through_its_parent(ws):
    # setsid leaves the session; its parent link (the shell still waits) finds it.
    res = Toolbox(ws, command_timeout=1).run(
        "bash", {"command": "setsid sleep 1009 >/dev/null 2>&1 & wait"})
    assert "timed out" in res.output and " sleep" in res.output
    assert _running("sleep", "1009") == []


def test_keep_running_is_the_opt_in_for_children_that_must_outlive_the_call(tb):
    res = tb.run("bash", {"command": "sleep 1011 >/dev/null 2>&1 &", "keep_running": True})
    try:
        assert "[left running (keep_children):" in res.output
        deadline = time.monotonic() + 10   # it may not have exec'd sleep yet
        while not _running("sleep", "1011") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(_running("sleep", "1011")) == 1
    finally:
        for pid in _running("sleep", "1011"):
            os.kill(pid, signal.SIGKILL)
    assert tb.summary("bash", {"command": "x", "keep_running": True}) == "bash: x (keep_running)"


def test_huge_output_is_capped_and_says_so(tb):
    res = run(tb, "bash", command="seq 1 2000000")
    assert len(res.output) < OUTPUT_CAP + 500
    assert res.output.startswith("1\n2\n3\n") and res.output.rstrip().endswith(
        "bytes omitted from the middle]")
    assert "2000000" in res.output   # the tail is kept


def test_cap_text_keeps_head_and_tail():
    text = "a" * 100 + "b" * 100
    out = cap_text(text, 50)
    assert out.startswith("a" * 25) and "b" * 25 in out and "150 characters omitted" in out
    assert cap_text("short", 50) == "short"


def test_worktree_run_is_cancelled_with_its_process_group(ws):
    ws.lanes.create("feat")
    tb = Toolbox(ws)
    cancel = threading.Event()
    lane_dir = ws.root / ".worktrees" / "feat"
    out = {}
    t = threading.Thread(target=lambda: out.update(res=tb.run(
        "worktree_run", {"name": "feat", "command": "sleep 60 & echo $! > c.pid; sleep 60"},
        cancel)))
    t.start()
    deadline = time.monotonic() + 10
    while not (lane_dir / "c.pid").exists() or not (lane_dir / "c.pid").read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    cancel.set()
    t.join(10)
    assert out["res"].cancelled and "cancelled" in out["res"].output
    assert _pid_gone(int((lane_dir / "c.pid").read_text()))
