"""Lane agents and dispatch in core, against the fake Messages API with one route (own
script) per conversation. Overlap, ordering and isolation are proven with gates that
hold replies mid-stream, never with the clock."""

from __future__ import annotations

import json
import os
import threading

import pytest

from core.agent import Decision
from core.agent.approvals import ApprovalQueue
from core.agent.lane_agent import (BUDGET_REACHED, LaneAgents, StateChanged, agent_state,
                                   process_token, task_prompt)
from core.agent.loop import Agent
from core.agent.transcript import INTERRUPTED, Transcript, chat_dir
from core.agent.config import LaneAgentConfig, load_lane_agent_config
from core.dispatch import Dispatched, Dispatcher, NotStarted
from core.errors import ConflictError, InvalidInputError, NotFoundError
from tests.fakeapi import Fault, Reply, validate_request
from tests.test_agent_support import api, approve_all, calls, config  # noqa: F401


class LaneEvents(list):
    """Every LaneEvent, from whichever thread sent it."""

    def of(self, lane: str, kind: type) -> list:
        return [e.event for e in list(self) if e.lane == lane and isinstance(e.event, kind)]

    def states(self, lane: str) -> list[str]:
        return [s.state for s in self.of(lane, StateChanged)]


def runner(ws, api, max_parallel=4, budget=None, approver=None, **kw):
    events = LaneEvents()
    agents = LaneAgents(ws, config(api, **kw), events.append, approver,
                        LaneAgentConfig(max_parallel=max_parallel, lane_token_budget=budget))
    return agents, events


def valid_history(ws, session: str) -> list:
    _, history, _ = Transcript(chat_dir(ws.root) / f"{session}.jsonl").load()
    body = {"model": "m", "max_tokens": 1, "messages": history}
    assert validate_request(body, {"authorization": "Bearer k"}) == []
    return history


def record(ws, lane: str) -> dict:
    return agent_state(ws.lanes.get(lane))


# -- one agent ---------------------------------------------------------------------------------

def test_a_lane_agent_works_in_its_lane_reports_and_records_its_state(ws, api):
    task = ws.tasks.create("alpha feature", "Add alpha.txt saying hi.\nKeep it short.")
    route = api.route("alpha")
    route.add(calls(("write_file", {"path": "alpha.txt", "content": "hi\n"}),
                    ("bash", {"command": "git add -A && git commit -qm 'Add alpha.txt'"})))
    route.add(calls(("task_update", {"task_id": task["id"], "status": "completed"})))
    route.add_text("Report: added alpha.txt and committed it.")
    agents, events = runner(ws, api)

    run = agents.start_task(task["id"])
    assert agents.wait(timeout=30)

    assert run.lane == "alpha-feature" and run.ok, run.error
    lane = ws.lanes.get("alpha-feature")
    assert (os.path.exists(os.path.join(lane["path"], "alpha.txt"))
            and not (ws.root / "alpha.txt").exists())
    first = route.requests[0]["messages"][0]["content"][0]["text"]
    assert first == task_prompt(ws.tasks.get(task["id"]), lane)
    assert first.startswith("Task #1: alpha feature\n\nAdd alpha.txt saying hi.\nKeep it short.")
    for rule in ("Work only in this lane", "Commit your work", "task_update", "short report"):
        assert rule in first
    done = ws.tasks.get(task["id"])
    assert done["status"] == "completed"
    assert done["report"] == "Report: added alpha.txt and committed it."
    rec = lane["agent"]
    assert rec["state"] == "done" and rec["session"] == run.agent.session_id
    assert rec["error"] is None and rec["finished_at"] >= rec["started_at"]
    assert rec["tokens"]["input"] > 0 and rec["tokens"]["output"] > 0
    assert rec["pid"] == os.getpid() and rec["proc_start"] == process_token(os.getpid())
    assert events.states("alpha-feature")[0] == "running"
    assert events.states("alpha-feature")[-1] == "done"
    valid_history(ws, rec["session"])
    logged = [(e["event"], e["worktree"].get("name")) for e in ws.events.tail(50)
              if e["event"].startswith("agent.")]
    assert logged == [("agent.started", "alpha-feature"), ("agent.done", "alpha-feature")]
    assert api.errors == []


def test_a_live_record_whose_process_is_gone_reads_interrupted(ws):
    ws.lanes.create("solo")
    mine = {"state": "running", "pid": os.getpid(), "proc_start": process_token(os.getpid())}
    ws.lanes.update("solo", agent=mine)
    assert record(ws, "solo")["state"] == "running"
    ws.lanes.update("solo", agent={**mine, "proc_start": "1"})      # the pid was reused
    assert record(ws, "solo")["state"] == "interrupted"
    ws.lanes.update("solo", agent={**mine, "pid": 2 ** 22 + 12345})  # no such process
    assert record(ws, "solo")["state"] == "interrupted"
    ws.lanes.update("solo", agent={**mine, "state": "done"})
    assert record(ws, "solo")["state"] == "done"


def test_start_refuses_what_it_must(ws, api):
    blocker = ws.tasks.create("first")
    later = ws.tasks.create("later", blocked_by=[blocker["id"]])
    agents, _ = runner(ws, api)
    with pytest.raises(ConflictError, match="blocked by #1"):
        agents.start_task(later["id"])
    ws.tasks.update(blocker["id"], status="completed")
    with pytest.raises(ConflictError, match="is completed"):
        agents.start_task(blocker["id"])
    with pytest.raises(NotFoundError):
        agents.start("nope")
    ws.lanes.create("bare")
    with pytest.raises(InvalidInputError, match="no task"):
        agents.start("bare")
    assert api.requests == [] and [ln["name"] for ln in ws.lanes.list()] == ["bare"]


def test_token_budget_stops_the_agent_cleanly(ws, api):
    task = ws.tasks.create("alpha budget")
    route = api.route("alpha")
    route.add(calls(("write_file", {"path": "a.txt", "content": "a"})))
    route.add_text("never asked for")
    agents, _ = runner(ws, api, budget=10)
    run = agents.start_task(task["id"])
    assert agents.wait(timeout=30)
    assert run.state == "failed" and run.error.startswith(BUDGET_REACHED)
    assert len(route.requests) == 1 and route.pending == 1     # no call after the budget
    rec = record(ws, run.lane)
    assert rec["state"] == "failed" and BUDGET_REACHED in rec["error"]
    history = valid_history(ws, rec["session"])
    assert history[-1]["content"][0]["type"] == "tool_result"   # the call it made was answered


def test_budget_and_parallelism_come_from_worklanes_toml(ws):
    (ws.root / ".worklanes.toml").write_text("[agent]\nmax_parallel = 2\nlane_token_budget = 5000\n"
                                             "env_drop = ['X']\n")
    assert load_lane_agent_config(ws.root) == LaneAgentConfig(2, 5000)
    from core.agent.config import agent_table   # the agent's own keys, in the same table
    assert agent_table(ws.root) == {"env_drop": ["X"]}
    (ws.root / ".worklanes.toml").write_text("[agent]\nmax_parallel = 0\n")
    with pytest.raises(InvalidInputError, match="max_parallel must be a whole number >= 1"):
        load_lane_agent_config(ws.root)


# -- many at once ----------------------------------------------------------------------------

def two_tasks(ws, api, gate_alpha=None, gate_beta=None):
    a = ws.tasks.create("alpha side")
    b = ws.tasks.create("beta side")
    ra, rb = api.route("alpha"), api.route("beta")
    if gate_alpha:
        ra.add(Reply([gate_alpha.text("alpha is working on it")]))
    if gate_beta:
        rb.add(Reply([gate_beta.text("beta is working on it")]))
    return a, b, ra, rb


def test_two_agents_really_overlap_and_share_one_client(ws, api):
    gate = api.gate()
    a, b, ra, rb = two_tasks(ws, api, gate, gate)
    agents, events = runner(ws, api)
    run_a, run_b = agents.start_task(a["id"]), agents.start_task(b["id"])
    assert gate.wait_parked(2)       # both replies are mid-stream at the same moment
    assert sorted(agents.running()) == ["alpha-side", "beta-side"]
    assert {record(ws, n)["state"] for n in agents.running()} == {"running"}
    gate.open()
    assert agents.wait(timeout=30)
    assert run_a.ok and run_b.ok
    assert run_a.agent._client is run_b.agent._client is not None
    assert run_a.agent.session_id != run_b.agent.session_id
    assert ws.tasks.get(a["id"])["report"] == "alpha is working on it"
    assert ws.tasks.get(b["id"])["report"] == "beta is working on it"
    assert api.errors == []


def test_a_fault_in_one_agent_leaves_the_other_running(ws, api):
    gate = api.gate()
    a, b, ra, rb = two_tasks(ws, api, gate_alpha=gate)
    rb.add(Fault.status(400, message="beta request rejected"))
    agents, _ = runner(ws, api)
    run_a = agents.start_task(a["id"])
    assert gate.wait_parked(1)
    run_b = agents.start_task(b["id"])
    assert agents.wait(["beta-side"], timeout=30)
    assert run_b.state == "failed" and "beta request rejected" in run_b.error
    assert record(ws, "beta-side")["state"] == "failed"
    assert run_a.alive and gate.parked == 1 and record(ws, "alpha-side")["state"] == "running"
    gate.open()
    assert agents.wait(timeout=30)
    assert run_a.ok


def test_cancelling_one_agent_leaves_the_other_running(ws, api):
    gate = api.gate()
    a, b, ra, rb = two_tasks(ws, api, gate, gate)
    agents, _ = runner(ws, api)
    run_a, run_b = agents.start_task(a["id"]), agents.start_task(b["id"])
    assert gate.wait_parked(2)
    assert agents.cancel("beta-side") and not agents.cancel("no-such-lane")
    assert agents.wait(["beta-side"], timeout=30)
    assert run_b.state == "cancelled" and record(ws, "beta-side")["state"] == "cancelled"
    assert run_a.alive
    gate.open()
    assert agents.wait(timeout=30)
    assert run_a.ok
    valid_history(ws, run_b.agent.session_id)


def test_a_crashing_host_callback_only_fails_its_own_agent(ws, api):
    a, b, ra, rb = two_tasks(ws, api)
    ra.add_text("alpha fine")
    rb.add(calls(("bash", {"command": "true"})))
    rb.add_text("beta accepts the denial")

    def approver(lane, req):
        raise RuntimeError("the host's dialog broke")   # only beta asks for approval

    agents, _ = runner(ws, api, approver=approver, policy="ask")
    run_a, run_b = agents.start_task(a["id"]), agents.start_task(b["id"])
    assert agents.wait(timeout=30)
    assert run_a.ok
    assert run_b.ok   # a broken approver means "deny": the turn still ends properly
    denied = run_b.agent.history[2]["content"][0]
    assert denied["is_error"] and denied["content"].startswith("Denied")


def test_max_parallel_holds_back_the_rest(ws, api):
    gate = api.gate()
    a, b, ra, rb = two_tasks(ws, api, gate_alpha=gate)
    seen = []
    agents, events = runner(ws, api, max_parallel=1)
    rb.add(lambda body: (seen.append(agents.running()), Reply(["beta after"]))[1])
    out = {}
    t = threading.Thread(target=lambda: out.update(r=Dispatcher(agents).run()))
    t.start()
    assert gate.wait_parked(1)
    assert agents.running() == ["alpha-side"] and rb.requests == []
    with pytest.raises(ConflictError, match="max_parallel 1"):
        agents.start_task(b["id"])
    assert ws.tasks.get(b["id"])["worktree"] == ""      # refused before its lane was made
    gate.open()
    t.join(30)
    assert seen == [["beta-side"]]        # beta ran alone, after alpha ended
    assert out["r"].ok and sorted(out["r"].runs) == [a["id"], b["id"]]


# -- dispatch ----------------------------------------------------------------------------------

def test_dispatch_starts_a_blocked_task_only_after_its_blocker_completes(ws, api):
    a = ws.tasks.create("alpha base")
    b = ws.tasks.create("beta on top", blocked_by=[a["id"]])
    done = ws.tasks.create("gamma finished")
    ws.tasks.update(done["id"], status="completed")
    ra, rb = api.route("alpha"), api.route("beta")
    ra.add(calls(("task_update", {"task_id": a["id"], "status": "completed"})))
    ra.add_text("alpha report")
    seen = []
    rb.add(lambda body: (seen.append(ws.tasks.get(a["id"])["status"]), Reply(["beta report"]))[1])
    agents, events = runner(ws, api)

    result = Dispatcher(agents).run()

    assert seen == ["completed"]          # beta's first call came after alpha completed
    assert result.ok and sorted(result.runs) == [a["id"], b["id"]]
    assert [ev.task_id for e in events for ev in [e.event] if isinstance(ev, Dispatched)] \
        == [a["id"], b["id"]]
    assert ws.tasks.get(b["id"])["report"] == "beta report"
    assert ws.tasks.get(b["id"])["worktree"] == "beta-on-top"
    assert not any(ln.get("task_id") == done["id"] for ln in ws.lanes.list())
    assert api.errors == []


def test_dispatch_reports_what_it_will_not_start(ws, api):
    a = ws.tasks.create("alpha one")
    blocked = ws.tasks.create("beta blocked", blocked_by=[a["id"]])
    finished = ws.tasks.create("gamma done")
    ws.tasks.update(finished["id"], status="completed")
    busy = ws.tasks.create("delta busy")
    ws.lanes.create("delta-busy", task_id=busy["id"])
    ws.lanes.update("delta-busy", agent={"state": "running", "pid": os.getpid(),
                                         "proc_start": process_token(os.getpid())})
    agents, events = runner(ws, api)
    with pytest.raises(NotFoundError):
        Dispatcher(agents, [blocked["id"], 99]).run()
    result = Dispatcher(agents, [blocked["id"], finished["id"], busy["id"]]).run()
    assert not result.ok and result.runs == {}
    assert result.not_started == {
        blocked["id"]: "task 2 is blocked by #1",
        finished["id"]: "task 3 is completed",
        busy["id"]: "lane 'delta-busy' already has a running agent",
    }
    assert [e.event.task_id for e in events if isinstance(e.event, NotStarted)] \
        == [finished["id"], busy["id"], blocked["id"]]
    assert api.requests == [] and len(ws.lanes.list()) == 1


def test_dispatch_names_lanes_from_subjects_without_clashes(ws, api):
    ws.lanes.create("alpha-task")
    t = ws.tasks.create("Alpha task!")
    api.route("Alpha").add_text("ok")
    result = Dispatcher(runner(ws, api)[0], [t["id"]]).run()
    assert result.ok and result.runs[t["id"]].lane == "alpha-task-2"


def test_stopping_a_dispatch_cancels_its_agents_and_starts_nothing_more(ws, api):
    gate = api.gate()
    a, b, ra, rb = two_tasks(ws, api, gate, gate)
    c = ws.tasks.create("gamma waits", blocked_by=[a["id"]])
    agents, _ = runner(ws, api)
    d = Dispatcher(agents)
    out = {}
    t = threading.Thread(target=lambda: out.update(r=d.run()))
    t.start()
    assert gate.wait_parked(2)
    d.stop()
    t.join(30)
    r = out["r"]
    assert r.stopped and not r.ok
    assert {run.state for run in r.runs.values()} == {"cancelled"}
    assert c["id"] not in r.runs
    for run in r.runs.values():
        assert record(ws, run.lane)["state"] == "cancelled"
        valid_history(ws, run.agent.session_id)


# -- confinement -------------------------------------------------------------------------------

def test_a_lane_agents_writes_land_only_in_its_lane(ws, api):
    a, b, ra, rb = two_tasks(ws, api)
    ws.lanes.create("beta-side", task_id=b["id"])
    ra.add(calls(("write_file", {"path": "mine.txt", "content": "ok"}),
                 ("write_file", {"path": "../beta-side/stolen.txt", "content": "x"}),
                 ("write_file", {"path": "theirs.txt", "content": "x", "worktree": "beta-side"}),
                 ("write_file", {"path": str(ws.root / "root.txt"), "content": "x"}),
                 ("worktree_run", {"name": "beta-side", "command": "touch ran.txt"}),
                 ("bash", {"command": "touch bashed.txt"})))
    ra.add_text("done")
    agents, _ = runner(ws, api)
    run = agents.start_task(a["id"])
    assert agents.wait(timeout=30) and run.ok
    results = [b_["content"] for b_ in ra.requests[1]["messages"][-1]["content"]]
    assert results[0].startswith("Wrote") and results[-1] == "(no output)"
    assert all(r.startswith("Error") for r in results[1:5]), results
    mine = ws.lanes.get("alpha-side")["path"]
    theirs = ws.lanes.get("beta-side")["path"]
    assert sorted(os.listdir(mine)) == [".git", "README.md", "bashed.txt", "mine.txt"]
    assert sorted(os.listdir(theirs)) == [".git", "README.md"]
    assert not (ws.root / "root.txt").exists()


def test_a_lane_agent_cannot_update_another_task(ws, api):
    a, b, ra, rb = two_tasks(ws, api)
    ra.add(calls(("task_update", {"task_id": b["id"], "status": "completed"}),
                 ("task_create", {"subject": "follow-up found by alpha"})))
    ra.add_text("done")
    agents, _ = runner(ws, api)
    assert agents.start_task(a["id"]) and agents.wait(timeout=30)
    refused, created = ra.requests[1]["messages"][-1]["content"]
    assert ws.tasks.get(b["id"])["status"] == "pending"
    assert refused.get("is_error") and "task" in refused["content"]
    assert not created.get("is_error") and ws.tasks.get(3)["subject"].startswith("follow-up")


# -- resume --------------------------------------------------------------------------------------

def test_resuming_an_interrupted_agent_continues_its_transcript(ws, api):
    """A crash left a tool call open and the record saying running under a dead pid."""
    task = ws.tasks.create("alpha resume")
    ws.lanes.create("alpha-resume", task_id=task["id"])
    cfg = config(api)
    crashed = Agent(ws, cfg, lane="alpha-resume")
    crashed.transcript.message({"role": "user", "content": [{"type": "text", "text": "Task #1: alpha"}]})
    crashed.transcript.message({"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_open", "name": "bash", "input": {"command": "make"}}]})
    ws.lanes.update("alpha-resume", agent={"state": "running", "session": crashed.session_id,
                                           "pid": 2 ** 22 + 7, "proc_start": "1"})
    assert record(ws, "alpha-resume")["state"] == "interrupted"
    route = api.route("alpha")
    route.add_text("picked up where I stopped")
    agents, _ = runner(ws, api)
    run = agents.start("alpha-resume")
    assert agents.wait(timeout=30) and run.ok
    assert run.agent.session_id == crashed.session_id
    sent = route.requests[0]["messages"]
    assert sent[0]["content"][0]["text"] == "Task #1: alpha"
    assert sent[2]["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_open",
                                     "content": INTERRUPTED, "is_error": True}
    assert "interrupted" in sent[2]["content"][-1]["text"]
    assert record(ws, "alpha-resume")["state"] == "done"


# -- the board agent's delegation tools -------------------------------------------------------------

def test_board_agent_delegates_reads_states_and_follows_up(ws, api):
    task = ws.tasks.create("alpha chore")
    agents, events = runner(ws, api)
    approver = approve_all()
    board = Agent(ws, config(api, policy="ask"), approver=approver)
    board.tools.lane_agents = agents
    route = api.route("alpha")
    route.add_text("alpha report one")
    route.add_text("alpha report two")

    api.add(calls(("lane_agent_start", {"task_id": task["id"]})))
    api.add_text("started it")
    board.send("board: please hand the open task over", lambda ev: None)
    assert agents.wait(timeout=30)
    board_calls = lambda: [r for r in api.requests  # noqa: E731
                           if r["messages"][0]["content"][0]["text"].startswith("board:")]
    out = [b["content"] for b in board_calls()[1]["messages"][-1]["content"]]
    assert out[0].startswith("started the agent of lane 'alpha-chore' for task 1")

    api.add(calls(("lane_agent_status", {}), ("lane_agent_send", {"lane": "alpha-chore",
                                                                   "message": "one more thing"})))
    api.add_text("asked for more")
    board.send("how is it going?", lambda ev: None)
    assert agents.wait(timeout=30)
    status, sent = [b["content"] for b in board_calls()[3]["messages"][-1]["content"]
                    if b["type"] == "tool_result"]
    rows = json.loads(status)
    assert rows[0]["lane"] == "alpha-chore" and rows[0]["agent"]["state"] == "done"
    assert rows[0]["report"] == "alpha report one"
    assert sent.startswith("started the agent of lane 'alpha-chore'")
    assert route.requests[1]["messages"][-1]["content"][-1]["text"] == "one more thing"
    assert ws.tasks.get(task["id"])["report"] == "alpha report two"
    assert [r.tool for r in approver.asked] == ["lane_agent_start", "lane_agent_send"]
    assert api.errors == []


def test_delegation_tools_refuse_without_a_runner_and_in_a_lane(ws, api):
    ws.tasks.create("alpha x")
    ws.lanes.create("alpha-x", task_id=1)
    bound = Agent(ws, config(api), lane="alpha-x")
    bound.tools.lane_agents = runner(ws, api)[0]
    res = bound.tools.run("lane_agent_start", {"task_id": 1})
    assert res.is_error and "for the main agent only" in res.output
    assert not bound.tools.run("lane_agent_status", {}).is_error
    unhosted = Agent(ws, config(api))
    res = unhosted.tools.run("lane_agent_status", {})
    assert res.is_error and "worklanes dispatch" in res.output
    defs = {d["name"]: d for d in unhosted.tools.definitions()}
    for name in ("lane_agent_start", "lane_agent_status", "lane_agent_send"):
        schema = defs[name]["input_schema"]
        assert schema["type"] == "object"
        assert set(schema.get("required", [])) <= set(schema["properties"])
        assert all(p["type"] in ("string", "integer") for p in schema["properties"].values())
    assert unhosted.tools.needs_approval("lane_agent_start", {"task_id": 1})
    assert not unhosted.tools.needs_approval("lane_agent_status", {})


def test_the_approval_queue_waits_per_lane_and_a_cancel_withdraws(ws, api):
    a, b, ra, rb = two_tasks(ws, api)
    ra.add(calls(("bash", {"command": "touch alpha.txt"})))
    rb.add(calls(("bash", {"command": "touch beta.txt"})))
    rb.add_text("beta wrote it")
    changed = threading.Condition()

    def notify():
        with changed:
            changed.notify_all()

    queue = ApprovalQueue(on_change=notify)
    agents, events = runner(ws, api, approver=queue, policy="ask")
    run_a, run_b = agents.start_task(a["id"]), agents.start_task(b["id"])
    with changed:
        assert changed.wait_for(lambda: len(queue.pending()) == 2, 30)
    assert {p.lane: p.request.summary for p in queue.pending()} == {
        "alpha-side": "bash: touch alpha.txt", "beta-side": "bash: touch beta.txt"}
    assert {record(ws, "alpha-side")["state"], record(ws, "beta-side")["state"]} == {"waiting"}
    agents.cancel("alpha-side")               # withdraws alpha's question, beta's stays
    assert agents.wait(["alpha-side"], timeout=30)
    assert run_a.state == "cancelled" and [p.lane for p in queue.pending()] == ["beta-side"]
    assert queue.answer(queue.pending()[0].id, Decision.ALLOW_ONCE)
    assert agents.wait(timeout=30) and run_b.ok
    assert os.path.exists(os.path.join(ws.lanes.get("beta-side")["path"], "beta.txt"))
    assert not os.path.exists(os.path.join(ws.lanes.get("alpha-side")["path"], "alpha.txt"))
    valid_history(ws, run_a.agent.session_id)


def test_a_call_left_open_reads_interrupted_once_its_agent_is_not_running():
    from core.agent.transcript import as_left, cut_off

    use = {"type": "tool_use", "id": "toolu_open", "name": "bash", "input": {"command": "make"}}
    saved = [{"role": "user", "content": [{"type": "text", "text": "Task #1"}]},
             {"role": "assistant", "content": [use]}]
    live = as_left(saved, running=True)          # its agent still runs it: left open
    assert live[-1]["role"] == "assistant" and cut_off(live) == []
    left = as_left(saved, running=False)         # its process is gone: cut off
    assert left[-1]["content"] == [{"type": "tool_result", "tool_use_id": "toolu_open",
                                    "content": INTERRUPTED, "is_error": True}]
    assert cut_off(left) == [use]
    assert len(saved) == 2 and saved[-1]["content"] == [use]      # nothing changed
    resumed = left[:-1] + [{"role": "user", "content": left[-1]["content"]
                            + [{"type": "text", "text": "Continue"}]}]
    assert cut_off(resumed) == [use]             # the resume note joins the same message
    resumed += [{"role": "assistant", "content": [{"type": "text", "text": "done"}]}]
    assert cut_off(resumed) == []                # no longer the end of the conversation
