"""A streamed message put together from the API's raw events (core/agent/reply.py), as
the SDK parses them off the wire: every kind of block the loop sends back to the API."""

from __future__ import annotations

from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

from core.agent.reply import Reply

PARSE = TypeAdapter(RawMessageStreamEvent).validate_python


def events() -> list[dict]:
    def delta(i, **d):
        return {"type": "content_block_delta", "index": i, "delta": d}

    return [
        {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [],
            "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": 11, "output_tokens": 1, "cache_read_input_tokens": 5}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        delta(0, type="thinking_delta", thinking="Let me "),
        delta(0, type="thinking_delta", thinking="look."),
        delta(0, type="signature_delta", signature="sig=="),
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        delta(1, type="text_delta", text="Reading "),
        delta(1, type="text_delta", text="it now."),
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {
            "type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {}}},
        delta(2, type="input_json_delta", partial_json='{"pa'),
        delta(2, type="input_json_delta", partial_json='th": "a b'),
        delta(2, type="input_json_delta", partial_json='.txt"}'),
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3, "content_block": {
            "type": "tool_use", "id": "toolu_2", "name": "task_list", "input": {}}},
        {"type": "content_block_stop", "index": 3},   # a call without arguments: no delta
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"output_tokens": 42}},
        {"type": "message_stop"},
    ]


def test_every_block_is_put_together_as_it_goes_back_to_the_api():
    reply = Reply()
    texts = [reply.feed(PARSE(ev)) for ev in events()]
    assert [t for t in texts if t is not None] == ["Reading ", "it now."]
    assert reply.blocks == [
        {"type": "thinking", "thinking": "Let me look.", "signature": "sig=="},
        {"type": "text", "text": "Reading it now."},
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a b.txt"}},
        {"type": "tool_use", "id": "toolu_2", "name": "task_list", "input": {}},
    ]
    assert reply.stop_reason == "tool_use" and reply.stopped
    # message_delta's totals replace the start's; fields it leaves out stay.
    assert reply.usage == {"input_tokens": 11, "output_tokens": 42, "cache_read_input_tokens": 5}


def test_a_stream_cut_before_message_stop_reads_unfinished():
    reply = Reply()
    for ev in events()[:9]:
        reply.feed(PARSE(ev))
    assert not reply.stopped and reply.stop_reason is None
    assert reply.blocks[1] == {"type": "text", "text": "Reading it now."}
