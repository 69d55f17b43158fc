"""The agent loop against the fake Messages API: streaming, the seed's five "try it"
steps, configuration, the iteration bound, transcripts and resume, key hygiene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.agent import (DEFAULT_MODEL, Agent, AgentConfig, AgentError, TextDelta, ToolFinished,
                        ToolStarted, TurnFinished)
from core.agent.transcript import Transcript, chat_dir
from core.errors import InvalidInputError
from tests.fakeapi import Reply, Text, ToolUse
from tests.test_agent_support import (KEY, Events, agent, api, calls, config,  # noqa: F401
                                      result_of)

ROOT = Path(__file__).resolve().parents[1]


# -- imports and configuration -----------------------------------------------------------

def test_import_does_not_load_anthropic():
    code = ("import sys, core.agent, tui.chat_cli; "
            "print(sorted(m for m in ('anthropic', 'httpx2', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_config_defaults_env_dotenv_and_flags(tmp_path, monkeypatch):
    cfg = AgentConfig.load(tmp_path)
    assert (cfg.api_key, cfg.base_url, cfg.model, cfg.policy) == (None, None, DEFAULT_MODEL, "ask")
    assert not cfg.has_key
    assert "ANTHROPIC_API_KEY" in cfg.missing_key_message()
    assert str(tmp_path / ".env") in cfg.missing_key_message()
    assert "\n" not in cfg.missing_key_message()

    (tmp_path / ".env").write_text(f"ANTHROPIC_API_KEY={KEY}\nMODEL_ID=from-dotenv\n"
                                   "ANTHROPIC_BASE_URL=http://dotenv\n")
    cfg = AgentConfig.load(tmp_path)
    assert (cfg.api_key, cfg.model, cfg.base_url) == (KEY, "from-dotenv", "http://dotenv")
    assert "ANTHROPIC_API_KEY" not in os.environ   # .env is read, never exported

    monkeypatch.setenv("MODEL_ID", "from-env")     # the environment beats .env
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://env")
    cfg = AgentConfig.load(tmp_path)
    assert (cfg.model, cfg.base_url) == ("from-env", "http://env")

    cfg = AgentConfig.load(tmp_path, model="from-flag", base_url="http://flag", policy="auto")
    assert (cfg.model, cfg.base_url, cfg.policy) == ("from-flag", "http://flag", "auto")


def test_empty_base_url_in_the_environment_means_the_default(ws, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "")
    cfg = AgentConfig.load(ws.root)
    assert cfg.base_url is None
    client = Agent(ws, cfg)._get_client()
    assert str(client.base_url).rstrip("/") == "https://api.anthropic.com"


def test_config_repr_hides_key_and_rejects_bad_policy(tmp_path):
    cfg = AgentConfig(api_key=KEY)
    assert KEY not in repr(cfg) and KEY not in str(cfg) and "***" in repr(cfg)
    with pytest.raises(InvalidInputError):
        AgentConfig.load(tmp_path, policy="yolo")


# -- the loop ------------------------------------------------------------------------------

def test_text_streams_as_deltas_and_history_is_plain_json(ws, api):
    api.add_text("Hello there, general Kenobi")
    ag = agent(ws, api)
    ev = Events()
    done = ag.send("hi", ev)

    deltas = ev.of(TextDelta)
    assert len(deltas) > 1 and ev.text == "Hello there, general Kenobi"
    assert isinstance(ev[-1], TurnFinished) and done is ev[-1]
    assert done.stop_reason == "end_turn"
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert done.session_usage == ag.usage == done.usage
    assert ag.history == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hello there, general Kenobi"}]},
    ]
    json.dumps(ag.history)
    assert api.errors == []


def test_request_shape_prompt_caching_and_model(ws, api):
    api.add_text("one")
    api.add_text("two")
    ag = agent(ws, api, max_tokens=1234)
    ag.send("first", Events())
    ag.send("second", Events())
    body = api.last_request.body
    assert body["model"] == "claude-test" and body["max_tokens"] == 1234 and body["stream"] is True
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert str(ws.root) in body["system"][0]["text"]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in t for t in body["tools"][:-1])
    # a moving breakpoint on the newest message; the stored history stays clean
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in json.dumps(ag.history)
    assert api.last_request.headers["authorization"] == f"Bearer {KEY}"
    assert len(api.requests[1].body["messages"]) == 3


def test_session_usage_accumulates_with_cache_fields(ws, api):
    api.add(Reply(["a"], usage={"input_tokens": 10, "output_tokens": 3,
                                "cache_creation_input_tokens": 100}))
    api.add(Reply(["b"], usage={"input_tokens": 5, "output_tokens": 2,
                                "cache_read_input_tokens": 100}))
    ag = agent(ws, api)
    ag.send("one", Events())
    done = ag.send("two", Events())
    assert (done.usage.input_tokens, done.usage.cache_read_input_tokens) == (5, 100)
    u = done.session_usage
    assert (u.input_tokens, u.output_tokens, u.cache_creation_input_tokens,
            u.cache_read_input_tokens) == (15, 5, 100, 100)


def test_text_comes_from_the_stream_thread_and_the_rest_from_the_caller(ws, api):
    # Text deltas are handed on by the thread reading the stream (one hop fewer to the
    # screen); every other event comes from the thread that called send().
    import threading
    api.add_tool_use("task_list", {}, text_before="Looking.")
    api.add_text("Empty board.")
    ev = Events()
    out = {}
    worker = threading.Thread(target=lambda: out.update(done=agent(ws, api).send("x", ev)),
                              name="host-worker")
    worker.start()
    worker.join(10)
    assert out["done"].stop_reason == "end_turn"
    assert ev.text == "Looking.Empty board."
    assert {thread for kind, thread in ev.threads if kind == "TextDelta"} == {
        "worklanes-agent-stream"}
    assert {thread for kind, thread in ev.threads if kind != "TextDelta"} == {"host-worker"}


def test_send_rejects_empty_text_and_works_without_touching_history_when_no_key(ws, api):
    ag = agent(ws, api)
    with pytest.raises(ValueError):
        ag.send("   ", Events())
    nokey = Agent(ws, AgentConfig.load(ws.root))
    ev = Events()
    done = nokey.send("hello", ev)
    assert done.stop_reason == "error"
    assert "ANTHROPIC_API_KEY" in ev.of(AgentError)[0].message
    assert nokey.history == [] and api.requests == []


# -- the seed's five "try it" steps --------------------------------------------------------

def test_lesson_try_it_steps_through_the_agent(ws, api):
    ag = agent(ws, api)

    # 1. Create tasks for backend auth and frontend login page, then list tasks.
    api.add(calls(("task_create", {"subject": "Backend auth"}),
                  ("task_create", {"subject": "Frontend login page"}),
                  text="Creating both tasks."))
    api.add(calls(("task_list", {})))
    api.add_text("Two tasks are on the board.")
    done = ag.send("Create tasks for backend auth and frontend login page, then list tasks.",
                   ev := Events())
    assert done.stop_reason == "end_turn"
    assert [t["subject"] for t in ws.tasks.list().tasks] == ["Backend auth", "Frontend login page"]
    assert result_of(api, -1)[0].splitlines() == ["[ ] #1: Backend auth",
                                                  "[ ] #2: Frontend login page"]
    assert [e.name for e in ev.of(ToolStarted)] == ["task_create", "task_create", "task_list"]

    # 2. Create worktree "auth-refactor" for task 1, then bind task 2 to a new worktree "ui-login".
    api.add(calls(("worktree_create", {"name": "auth-refactor", "task_id": 1})))
    api.add(calls(("worktree_create", {"name": "ui-login"}),
                  ("task_bind_worktree", {"task_id": 2, "worktree": "ui-login"})))
    api.add_text("Both lanes exist.")
    ag.send('Create worktree "auth-refactor" for task 1, then bind task 2 to a new worktree '
            '"ui-login".', Events())
    t1, t2 = ws.tasks.get(1), ws.tasks.get(2)
    assert (t1["worktree"], t1["status"]) == ("auth-refactor", "in_progress")
    assert (t2["worktree"], t2["status"]) == ("ui-login", "in_progress")
    assert (ws.root / ".worktrees" / "auth-refactor" / "README.md").is_file()

    # 3. Run "git status --short" in worktree "auth-refactor".
    api.add(calls(("worktree_run", {"name": "auth-refactor", "command": "git status --short"})))
    api.add_text("Clean.")
    ev = Events()
    ag.send('Run "git status --short" in worktree "auth-refactor".', ev)
    assert ev.results()["worktree_run"].is_error is False
    assert result_of(api, -1) == ["(no output)"]

    # 4. Keep worktree "ui-login", then list worktrees and inspect events.
    api.add(calls(("worktree_keep", {"name": "ui-login"})))
    api.add(calls(("worktree_list", {}), ("worktree_events", {"limit": 50})))
    api.add_text("Kept.")
    ag.send('Keep worktree "ui-login", then list worktrees and inspect events.', Events())
    assert ws.lanes.get("ui-login")["status"] == "kept"
    listing, events = result_of(api, -1)
    assert "[kept]  ui-login" in listing and "[active]  auth-refactor" in listing
    names = [e["event"] for e in json.loads(events)]
    assert {"worktree.create.before", "worktree.create.after", "worktree.keep",
            "worktree.run"} <= set(names)

    # 5. Remove worktree "auth-refactor" with complete_task=true, then list tasks/worktrees/events.
    api.add(calls(("worktree_remove", {"name": "auth-refactor", "complete_task": True})))
    api.add(calls(("task_list", {}), ("worktree_list", {}), ("worktree_events", {})))
    api.add_text("Done.")
    ev = Events()
    ag.send('Remove worktree "auth-refactor" with complete_task=true, then list '
            'tasks/worktrees/events.', ev)
    assert not (ws.root / ".worktrees" / "auth-refactor").exists()
    assert ws.tasks.get(1)["status"] == "completed" and ws.tasks.get(1)["worktree"] == ""
    assert ws.lanes.get("auth-refactor")["status"] == "removed"
    tasks, lanes, events = result_of(api, -1)
    assert "[x] #1: Backend auth" in tasks and "[removed]  auth-refactor" in lanes
    tail = [e["event"] for e in json.loads(events)]
    assert "task.completed" in tail and tail[-1] == "worktree.remove.after"
    assert api.errors == [] and api.pending == 0


# -- bounds and odd replies ----------------------------------------------------------------

def test_tool_rounds_are_bounded_per_message_and_next_message_continues(ws, api):
    for _ in range(3):
        api.add_tool_use("task_list", {})
    api.add_text("continuing")
    ag = agent(ws, api, max_iterations=3)
    ev = Events()
    done = ag.send("loop forever", ev)
    assert done.stop_reason == "max_iterations"
    assert len(ev.of(ToolFinished)) == 3 and len(api.requests) == 3
    assert ag.history[-1]["role"] == "user"       # ends on the tool results
    done = ag.send("go on", Events())
    assert done.stop_reason == "end_turn"
    last_user = api.last_request.body["messages"][-1]["content"]
    assert [b["type"] for b in last_user] == ["tool_result", "text"]   # merged, results first
    assert api.errors == []


def test_tool_call_cut_by_max_tokens_is_answered_not_run(ws, api):
    api.add(Reply([Text("Writing"), ToolUse("write_file", {"path": "x.txt", "content": "x"})],
                  stop_reason="max_tokens"))
    api.add_text("ok")
    ag = agent(ws, api)
    done = ag.send("write", Events())
    assert done.stop_reason == "max_tokens"
    assert not (ws.root / "x.txt").exists()
    assert "not run" in ag.history[-1]["content"][0]["content"]
    ag.send("again", Events())
    assert api.errors == []


def test_empty_assistant_reply_keeps_history_valid(ws, api):
    api.add(Reply([]))
    api.add_text("now something")
    ag = agent(ws, api)
    assert ag.send("say nothing", Events()).stop_reason == "end_turn"
    assert [m["role"] for m in ag.history] == ["user"]
    ag.send("say something", Events())
    assert api.errors == []
    assert [m["role"] for m in ag.history] == ["user", "assistant"]


# -- transcripts and resume ----------------------------------------------------------------

def test_transcript_is_written_as_it_goes_and_resume_continues(ws, api):
    api.add_tool_use("task_create", {"subject": "remember me"})
    api.add_text("Created.")
    ag = agent(ws, api)
    ag.send("make a task", Events())
    path = ag.transcript_path
    assert path.parent == chat_dir(ws.root) and path.name == f"{ag.session_id}.jsonl"
    kinds = [json.loads(ln)["type"] for ln in path.read_text().splitlines()]
    assert kinds == ["meta", "message", "message", "message", "message", "usage"]

    api.add_text("You asked for a task.")
    again = Agent.resume_last(ws, config(api))
    assert again.session_id == ag.session_id
    assert again.history == ag.history and again.usage == ag.usage
    done = again.send("what did I ask?", Events())
    assert len(api.last_request.body["messages"]) == 5
    assert done.session_usage.input_tokens > ag.usage.input_tokens
    assert api.errors == []


def test_resume_last_picks_the_newest_and_starts_fresh_when_none(ws, api):
    fresh = Agent.resume_last(ws, config(api))
    assert fresh.history == []
    api.add_text("a")
    api.add_text("b")
    first, second = agent(ws, api), agent(ws, api)
    first.send("first", Events())
    second.send("second", Events())
    paths = {a.session_id: chat_dir(ws.root) / f"{a.session_id}.jsonl" for a in (first, second)}

    def same_mtimes() -> None:
        # File times are coarse: quick writes often share one. "Newest" must not hang on it.
        for p in paths.values():
            os.utime(p, ns=(1_000_000_000, 1_000_000_000))
    same_mtimes()
    assert Agent.resume_last(ws, config(api)).session_id == second.session_id
    api.add_text("c")
    first.send("first again", Events())
    same_mtimes()
    assert Agent.resume_last(ws, config(api)).session_id == first.session_id


def test_resume_repairs_an_interrupted_tool_call(ws, api):
    t = Transcript.create(ws.root, "20200101-000000-abcdef")
    t.message({"role": "user", "content": [{"type": "text", "text": "run it"}]})
    t.message({"role": "assistant", "content": [
        {"type": "text", "text": "Running."},
        {"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {"command": "make"}}]})
    with open(t.path, "a") as fh:
        fh.write('{"type": "message", "message": {"role": "us')   # killed mid-write
    api.add_text("It was interrupted; shall I retry?")
    ag = Agent.resume_last(ws, config(api))
    assert ag.history[-1]["content"][0]["tool_use_id"] == "toolu_1"
    assert ag.history[-1]["content"][0]["is_error"] is True
    ag.send("what happened?", Events())
    assert api.errors == []
    # the repair was saved, so a second resume sees the same history
    assert Agent.resume_last(ws, config(api)).history == ag.history


def test_resume_of_a_lane_session(ws, api):
    ws.lanes.create("feat")
    api.add_text("in lane")
    api.add_text("main")
    lane_agent = agent(ws, api, lane="feat")
    lane_agent.send("hi", Events())
    agent(ws, api).send("hi", Events())
    assert Agent.resume_last(ws, config(api), lane="feat").session_id == lane_agent.session_id
    back = Agent.resume_last(ws, config(api))
    assert back.lane is None


def test_unwritable_transcript_is_reported_and_the_chat_goes_on(ws, api):
    ag = agent(ws, api)
    ag.transcript_path.unlink()
    ag.transcript_path.mkdir()      # appends now fail (root ignores permission bits)
    api.add_text("still talking")
    ev = Events()
    done = ag.send("hi", ev)
    assert done.stop_reason == "end_turn" and ev.text == "still talking"
    (err,) = ev.of(AgentError)
    assert err.message.startswith("cannot save the conversation to ")
    assert len(ag.history) == 2


# -- the key never leaves --------------------------------------------------------------------

def test_api_key_never_reaches_events_transcript_or_tool_output(ws, api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)  # the command below must not see it
    api.add_tool_use("bash", {"command": "echo key=$ANTHROPIC_API_KEY"})
    api.add(Reply([f"I saw {KEY}"]))   # even a model that repeats it
    ag = agent(ws, api)
    ev = Events()
    ag.send("print the key", ev)
    out = ev.results()["bash"].output
    assert out == "key="
    assert KEY not in repr(list(ev))
    assert KEY not in ag.transcript_path.read_text()
    assert result_of(api, -1) == ["key="]
