"""Proves tests/fakeapi.py against the real anthropic SDK (no mocks)."""

from __future__ import annotations

import threading
import time

import anthropic
import httpx2
import pytest

from tests.fakeapi import (  # noqa: F401  (fakeapi is a fixture)
    NO_REPLY_LEFT,
    FakeAPI,
    Fault,
    Reply,
    Text,
    ToolUse,
    fakeapi,
    validate_request,
)

MODEL = "claude-test"
HI = [{"role": "user", "content": "hi"}]


def stream(client: anthropic.Anthropic, messages=HI, **kwargs):
    return client.messages.stream(model=MODEL, max_tokens=100, messages=messages, **kwargs)


def test_text_stream_and_final_message(fakeapi: FakeAPI) -> None:
    fakeapi.add_text("Hello there, general Kenobi")
    with stream(fakeapi.client()) as s:
        chunks = list(s.text_stream)
        final = s.get_final_message()

    assert chunks == Text("Hello there, general Kenobi").chunks()
    assert len(chunks) > 1
    assert final.content[0].text == "Hello there, general Kenobi"
    assert final.stop_reason == "end_turn"
    assert final.model == MODEL
    assert final.usage.input_tokens > 0 and final.usage.output_tokens == len(chunks)
    assert fakeapi.last_request["stream"] is True
    assert len(fakeapi.first_text_sent_at) == 1
    assert fakeapi.errors == []


def test_raw_event_order(fakeapi: FakeAPI) -> None:
    blocks = [Text("one two"), ToolUse("t", {"key": "value"})]
    fakeapi.add(Reply(blocks))
    with stream(fakeapi.client()) as s:
        # The SDK adds derived events (text, input_json); keep the wire ones.
        wire = [e.type for e in s if e.type not in ("text", "input_json")]

    expected = ["message_start"]
    for block in blocks:
        assert len(block.chunks()) > 1
        expected += ["content_block_start", *["content_block_delta"] * len(block.chunks()), "content_block_stop"]
    assert wire == [*expected, "message_delta", "message_stop"]


def test_tool_use_input_is_reassembled(fakeapi: FakeAPI) -> None:
    tool_input = {"path": "src/a.py", "lines": [1, 2, 3], "opts": {"deep": True}}
    fakeapi.add_tool_use("read_file", tool_input, text_before="Let me look.", tool_id="toolu_abc")
    with stream(fakeapi.client()) as s:
        final = s.get_final_message()

    text, tool = final.content
    assert text.text == "Let me look."
    assert (tool.type, tool.id, tool.name, tool.input) == ("tool_use", "toolu_abc", "read_file", tool_input)
    assert final.stop_reason == "tool_use"


def test_non_streaming_create(fakeapi: FakeAPI) -> None:
    fakeapi.add_tool_use("ls", {"dir": "."}, text_before="Listing.")
    message = fakeapi.client().messages.create(model=MODEL, max_tokens=100, messages=HI)

    assert message.content[0].text == "Listing."
    assert message.content[1].input == {"dir": "."}
    assert message.content[1].id.startswith("toolu_")
    assert message.stop_reason == "tool_use"
    assert "stream" not in fakeapi.last_request.body


def test_callable_reply_sees_request_in_agent_loop(fakeapi: FakeAPI) -> None:
    def echo_tool_result(body: dict) -> Reply:
        result = body["messages"][-1]["content"][0]
        return Reply([f"tool said {result['content']}"])

    fakeapi.add_tool_use("get_weather", {"city": "Oslo"})
    fakeapi.add(echo_tool_result)
    client = fakeapi.client()

    with stream(client) as s:
        first = s.get_final_message()
    tool = first.content[0]
    messages = [
        *HI,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "rainy"}]},
    ]
    with stream(client, messages) as s:
        assert s.get_final_text() == "tool said rainy"
    assert fakeapi.errors == []
    assert fakeapi.pending == 0


def test_unanswered_tool_use_is_rejected(fakeapi: FakeAPI) -> None:
    fakeapi.add_text("never sent")
    messages = [
        *HI,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}]},
        {"role": "user", "content": "what happened?"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="toolu_1"):
        with stream(fakeapi.client(), messages) as s:
            s.get_final_message()

    assert any("toolu_1" in e for e in fakeapi.errors)
    assert fakeapi.pending == 1  # an invalid request does not eat the script


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([], "at least one message"),
        ([{"role": "assistant", "content": "x"}], "expected role 'user'"),
        ([*HI, {"role": "user", "content": "again"}], "expected role 'assistant'"),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], "non-empty"),
        (
            [*HI, {"role": "assistant", "content": "ok"},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}]}],
            "unexpected tool_use_id",
        ),
        (
            [*HI, {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_y", "name": "t", "input": {}}]},
             {"role": "user", "content": [{"type": "text", "text": "first"},
                                          {"type": "tool_result", "tool_use_id": "toolu_y", "content": "r"}]}],
            "must come before any text",
        ),
    ],
)  # fmt: skip
def test_validation_rules(messages: list, needle: str) -> None:
    problems = validate_request({"model": MODEL, "max_tokens": 10, "messages": messages}, {"x-api-key": "k"})
    assert any(needle in p for p in problems), problems


def test_validation_of_model_max_tokens_and_credentials() -> None:
    problems = validate_request({"messages": HI}, {})
    assert len(problems) == 3, problems
    assert validate_request({"model": MODEL, "max_tokens": 5, "messages": HI}, {"x-api-key": "k"}) == []


@pytest.mark.parametrize("status", [529, 429, 500])
def test_fault_then_success_with_sdk_retries(fakeapi: FakeAPI, status: int) -> None:
    fakeapi.add(Fault.status(status, n=2))
    fakeapi.add_text("finally")
    with stream(fakeapi.client(max_retries=2)) as s:
        assert s.get_final_text() == "finally"

    assert [r.headers["x-stainless-retry-count"] for r in fakeapi.requests] == ["0", "1", "2"]
    assert fakeapi.errors == []


def test_fault_asks_for_a_quick_retry(fakeapi: FakeAPI) -> None:
    # retry-after-ms overrides the SDK's 0.5 s+ backoff: retry tests stay fast.
    fakeapi.add(Fault.status(529))
    res = httpx2.post(f"{fakeapi.url}/v1/messages", headers={"x-api-key": "k"},
                      json={"model": MODEL, "max_tokens": 5, "messages": HI})
    assert res.status_code == 529
    assert int(res.headers["retry-after-ms"]) <= 100


def test_fault_without_retries_raises_typed_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(Fault.status(529))
    with pytest.raises(anthropic.OverloadedError) as info:
        with stream(fakeapi.client()) as s:
            s.get_final_message()
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_mid_stream_error_event(fakeapi: FakeAPI) -> None:
    fakeapi.add(Reply(["a b c d"], error_after=2))
    received = []
    # An `event: error` frame arrives on a 200 response, so the SDK raises the
    # plain APIStatusError (no status-specific subclass matches).
    with pytest.raises(anthropic.APIStatusError) as info:
        with stream(fakeapi.client()) as s:
            received.extend(s.text_stream)
    assert received == ["a ", "b "]
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_dropped_connection(fakeapi: FakeAPI) -> None:
    fakeapi.add(Reply(["a b c d"], drop_after=1))
    received = []
    # The SDK does not wrap mid-stream transport failures: the raw
    # httpx2.RemoteProtocolError ("incomplete chunked read") escapes, not an
    # anthropic.APIConnectionError.
    with pytest.raises(httpx2.RemoteProtocolError):
        with stream(fakeapi.client()) as s:
            received.extend(s.text_stream)
    assert received == ["a "]


def test_close_delimited_cut_looks_like_a_normal_end(fakeapi: FakeAPI) -> None:
    fakeapi.add(Reply(["a b c d"], cut_after=2))
    received = []
    # No chunking and no length: the SDK cannot tell the cut from an end of body, so
    # it raises nothing; only the missing message_stop (no stop_reason) shows it.
    with stream(fakeapi.client()) as s:
        received.extend(s.text_stream)
        final = s.get_final_message()
    assert received == ["a ", "b "]
    assert final.stop_reason is None


def test_slow_tokens(fakeapi: FakeAPI) -> None:
    fakeapi.add(Reply(["one two three"], delay=0.02))
    started = time.perf_counter()
    with stream(fakeapi.client()) as s:
        assert list(s.text_stream) == ["one ", "two ", "three"]
    assert time.perf_counter() - started >= 3 * 0.02


def test_hang_until_release(fakeapi: FakeAPI) -> None:
    fakeapi.add(Reply(["after release"], hang=True))
    received: list[str] = []

    def consume() -> None:
        with stream(fakeapi.client()) as s:
            received.extend(s.text_stream)

    worker = threading.Thread(target=consume)
    worker.start()
    assert fakeapi.wait_hanging(timeout=10)
    assert received == []
    fakeapi.release()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert "".join(received) == "after release"


def test_stop_does_not_wait_for_hung_reply() -> None:
    outcome: list[BaseException | None] = []

    with FakeAPI() as api:
        api.add(Reply(["never"], hang=True))

        def consume() -> None:
            try:
                with stream(api.client()) as s:
                    s.get_final_message()
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=consume)
        worker.start()
        assert api.wait_hanging(timeout=10)
    # Leaving the with block stopped the server. The reply would never end by itself,
    # so a client that got its error shows the hung handler was woken and closed.
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert isinstance(outcome[0], httpx2.RemoteProtocolError)


def test_empty_script_fails_loudly(fakeapi: FakeAPI) -> None:
    # x-should-retry: false stops even a retrying client from hammering us.
    with pytest.raises(anthropic.InternalServerError, match=NO_REPLY_LEFT):
        with stream(fakeapi.client(max_retries=2)) as s:
            s.get_final_message()
    assert fakeapi.errors == [NO_REPLY_LEFT]
    assert len(fakeapi.requests) == 1


def test_broken_callable_is_reported(fakeapi: FakeAPI) -> None:
    fakeapi.add(lambda body: 1 / 0)
    with pytest.raises(anthropic.InternalServerError):
        fakeapi.client(max_retries=2).messages.create(model=MODEL, max_tokens=10, messages=HI)
    assert len(fakeapi.errors) == 1 and "ZeroDivisionError" in fakeapi.errors[0]


async def test_async_client_stream(fakeapi: FakeAPI) -> None:
    fakeapi.add_text("async works")
    client = fakeapi.async_client()
    async with client.messages.stream(model=MODEL, max_tokens=10, messages=HI) as s:
        chunks = [c async for c in s.text_stream]
        final = await s.get_final_message()
    await client.close()
    assert chunks == ["async ", "works"]
    assert final.content[0].text == "async works"
