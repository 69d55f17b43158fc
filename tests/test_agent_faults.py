"""A flaky API and an impatient user: SDK-level retries, mid-stream breaks retried as a
whole call, clear errors after the last try, and cancellation at every stage. After each,
the next message must go through the fake server's request validator cleanly."""

from __future__ import annotations

import threading
import time

import pytest

from core.agent import (AgentError, Retrying, TextDelta, TextWithdrawn, ToolFinished,
                        ToolStarted)
from tests.fakeapi import Fault, Reply, Text, ToolUse
from tests.test_agent_support import KEY, Events, agent, api, calls  # noqa: F401


def assert_next_message_works(ag, api):
    api.add_text("still here")
    done = ag.send("are you there?", ev := Events())
    assert done.stop_reason == "end_turn" and ev.text == "still here"
    assert api.errors == []
    roles = [m["role"] for m in ag.history]
    assert roles == ["user", "assistant"] * (len(roles) // 2)


def cancel_when(pred):
    """A cancel event, and an event recorder that sets it when ``pred(event)``."""
    cancel = threading.Event()
    return cancel, Events(hook=lambda e: pred(e) and cancel.set())


def run_in_thread(fn):
    out: dict = {}
    t = threading.Thread(target=lambda: out.update(result=fn()), daemon=True)
    t.start()
    return t, out


# -- before the stream: the SDK retries ------------------------------------------------------

@pytest.mark.parametrize("status", [429, 529, 500, 503])
def test_sdk_retries_transient_statuses_before_the_stream(ws, api, status):
    api.add(Fault.status(status, n=2))
    api.add_text("finally")
    ev = Events()
    done = agent(ws, api, max_retries=2).send("hi", ev)
    assert done.stop_reason == "end_turn" and ev.text == "finally"
    assert ev.of(Retrying) == [] and len(api.requests) == 3


def test_persistent_overload_is_a_clear_error_and_history_survives(ws, api):
    api.add(Fault.status(529, n=3))
    ag = agent(ws, api, max_retries=2)
    ev = Events()
    done = ag.send("hi", ev)
    assert done.stop_reason == "error"
    (err,) = ev.of(AgentError)
    assert "529" in err.message and "overloaded" in err.message and "\n" not in err.message
    assert ag.history == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert_next_message_works(ag, api)
    assert [b["text"] for b in api.last_request.body["messages"][0]["content"]] == [
        "hi", "are you there?"]


def test_bad_key_is_not_retried_and_the_message_says_what_to_check(ws, api):
    api.add(Fault.status(401, message=f"invalid x-api-key {KEY}"))
    ev = Events()
    done = agent(ws, api).send("hi", ev)
    assert done.stop_reason == "error" and len(api.requests) == 1
    msg = ev.of(AgentError)[0].message
    assert "ANTHROPIC_API_KEY" in msg and "401" in msg and KEY not in msg


def test_unreachable_server_is_a_clear_error(ws, api):
    from core.agent import Agent, AgentConfig
    cfg = AgentConfig(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)
    ev = Events()
    done = Agent(ws, cfg).send("hi", ev)
    assert done.stop_reason == "error"
    assert ev.of(AgentError)[0].message.startswith("cannot reach the API")


# -- in the stream: retried as a whole call ---------------------------------------------------

@pytest.mark.parametrize("fault", [{"error_after": 2}, {"drop_after": 2}, {"cut_after": 2}])
def test_broken_stream_is_retried_as_a_whole_call(ws, api, fault):
    api.add(Reply(["one two three four"], **fault))
    api.add_text("one two three four")
    ag = agent(ws, api)
    ev = Events()
    done = ag.send("count", ev)
    assert done.stop_reason == "end_turn"
    (retry,) = ev.of(Retrying)
    assert (retry.attempt, retry.max_attempts) == (2, 3) and retry.delay == pytest.approx(0.01)
    # the host saw the partial text, its withdrawal, the retry, then the whole reply
    kinds = [type(e).__name__ for e in ev]
    assert kinds[:4] == ["TextDelta", "TextDelta", "TextWithdrawn", "Retrying"]
    assert ev.of(TextWithdrawn) == [TextWithdrawn("one two ")]
    assert ev.text == "one two " + "one two three four"
    assert ag.history[-1] == {"role": "assistant",
                              "content": [{"type": "text", "text": "one two three four"}]}
    assert len(ag.history) == 2
    assert_next_message_works(ag, api)


def test_broken_tool_call_stream_never_runs_half_a_tool(ws, api):
    api.add(Reply([Text("Writing."), ToolUse("write_file", {"path": "a.txt", "content": "x"})],
                  drop_after=2))
    api.add(Reply([Text("Writing."), ToolUse("write_file", {"path": "a.txt", "content": "x"})]))
    api.add_text("written")
    ev = Events()
    ag = agent(ws, api)
    ag.send("write", ev)
    assert len(ev.of(ToolStarted)) == 1 and (ws.root / "a.txt").read_text() == "x"
    assert_next_message_works(ag, api)


# cut_after: a clean close before message_stop, which the SDK sees as an ordinary end of
# body; it must never be stored as the (half) answer.
@pytest.mark.parametrize(("fault", "why"), [({"drop_after": 1}, "connection broke"),
                                            ({"cut_after": 1}, "before message_stop")])
def test_stream_that_keeps_breaking_gives_up_with_history_intact(ws, api, fault, why):
    for _ in range(3):
        api.add(Reply(["a b c"], **fault))
    ag = agent(ws, api, stream_attempts=3)
    ev = Events()
    done = ag.send("hi", ev)
    assert done.stop_reason == "error"
    assert [r.attempt for r in ev.of(Retrying)] == [2, 3]
    assert why in ev.of(Retrying)[0].reason
    assert "gave up after 3 tries" in ev.of(AgentError)[0].message
    assert ev.of(TextWithdrawn) == [TextWithdrawn("a ")] * 3
    assert len(ag.history) == 1
    assert_next_message_works(ag, api)


def test_single_attempt_config_fails_at_once(ws, api):
    api.add(Reply(["x y"], error_after=1))
    ev = Events()
    done = agent(ws, api, stream_attempts=1).send("hi", ev)
    assert done.stop_reason == "error" and ev.of(Retrying) == []
    assert "overloaded" in ev.of(AgentError)[0].message


# -- cancellation ---------------------------------------------------------------------------

def test_cancel_while_the_server_is_silent(ws, api):
    api.add(Reply(["never"], hang=True))
    ag = agent(ws, api)
    cancel = threading.Event()
    ev = Events()
    t, out = run_in_thread(lambda: ag.send("hi", ev, cancel))
    assert api.wait_hanging(5)
    cancel.set()
    t.join(5)
    assert not t.is_alive() and out["result"].stop_reason == "cancelled"
    assert ev.text == "" and len(ag.history) == 1
    api.release()
    assert_next_message_works(ag, api)


def test_cancel_between_stream_events_drops_the_partial_reply(ws, api):
    api.add(Reply(["one two three four five six"], delay=0.02))
    cancel, ev = cancel_when(lambda e: isinstance(e, TextDelta))
    ag = agent(ws, api)
    done = ag.send("count", ev, cancel)
    assert done.stop_reason == "cancelled"
    assert len(ev.of(TextDelta)) == 1            # nothing after the cancel reached the host
    assert [m["role"] for m in ag.history] == ["user"]
    assert_next_message_works(ag, api)


def test_cancel_during_retry_backoff(ws, api):
    api.add(Reply(["a b"], drop_after=1))
    cancel, ev = cancel_when(lambda e: isinstance(e, Retrying))
    started = time.monotonic()
    done = agent(ws, api, retry_base_delay=30).send("hi", ev, cancel)
    assert done.stop_reason == "cancelled" and time.monotonic() - started < 20
    assert api.pending == 0 and len(api.requests) == 1


def test_cancel_mid_tool_kills_the_command_and_answers_every_call(ws, api):
    api.add(calls(("bash", {"command": "sleep 60 & echo $! > child.pid; sleep 60"}),
                  ("write_file", {"path": "later.txt", "content": "never"})))
    ag = agent(ws, api)
    cancel = threading.Event()
    ev = Events()
    t, out = run_in_thread(lambda: ag.send("slow", ev, cancel))
    pid_file = ws.root / "child.pid"
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    cancel.set()
    t.join(10)
    assert out["result"].stop_reason == "cancelled"
    bash, write = ag.history[-1]["content"]
    assert bash["is_error"] and bash["content"].startswith("cancelled by the user")
    assert write == {"type": "tool_result", "tool_use_id": write["tool_use_id"],
                     "content": "cancelled by the user", "is_error": True}
    assert not (ws.root / "later.txt").exists()
    assert [e.name for e in ev.of(ToolFinished)] == ["bash"]    # write_file never started
    from tests.test_agent_tools import _pid_gone
    assert _pid_gone(int(pid_file.read_text()))
    assert_next_message_works(ag, api)


def test_cancel_before_tools_run(ws, api):
    api.add(Reply([Text("About to write."), ToolUse("write_file", {"path": "a", "content": "b"})]))
    cancel, ev = cancel_when(lambda e: isinstance(e, TextDelta) and e.text.startswith("write"))
    ag = agent(ws, api)
    done = ag.send("go", ev, cancel)
    assert done.stop_reason == "cancelled" and not (ws.root / "a").exists()
    assert_next_message_works(ag, api)


def test_host_callback_crash_still_leaves_a_valid_history(ws, api):
    api.add(calls(("task_list", {}), ("task_list", {})))

    def boom(ev):
        if isinstance(ev, ToolFinished):
            raise RuntimeError("host bug")

    ag = agent(ws, api)
    with pytest.raises(RuntimeError, match="host bug"):
        ag.send("go", boom)
    assert ag.history[-1]["role"] == "user"
    assert all(b["type"] == "tool_result" for b in ag.history[-1]["content"])
    assert_next_message_works(ag, api)


def test_host_crash_on_streamed_text_reaches_the_caller_and_leaves_a_valid_history(ws, api):
    # Text deltas are handed on from the stream's own thread: the host's exception must
    # still come out of send(), as itself, not as a stream failure to retry.
    api.add_text("one two three four")
    seen = []

    def boom(ev):
        if isinstance(ev, TextDelta):
            seen.append(ev.text)
            raise OSError("host pipe closed")   # an OSError from the stream would be retried

    ag = agent(ws, api)
    with pytest.raises(OSError, match="host pipe closed"):
        ag.send("go", boom)
    assert seen == ["one "] and len(api.requests) == 1
    assert ag.history[-1]["role"] == "user"
    assert_next_message_works(ag, api)
