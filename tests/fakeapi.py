"""A real loopback HTTP server that speaks the Anthropic Messages API, for tests.

anthropic 2.x talks through httpx2, which respx-style transport mocks cannot
patch, so the honest way to exercise the SDK (retries, SSE parsing, stream
accumulation) is to give it a socket. Tests script the replies in order:

    with FakeAPI() as api:
        api.add_text("Hello there")
        api.add_tool_use("read_file", {"path": "a.txt"})
        api.add(Fault.status(529))                      # one overloaded answer
        api.add(lambda body: Reply(["echo"]))           # answer from the request
        client = api.client()                           # Anthropic(base_url=api.url)
        ...
        assert api.errors == []                         # every request was valid

Each POST /v1/messages is validated first (an invalid one gets a 400 and does
not consume a queued entry), then consumes the next queued entry.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union
from urllib.parse import urlsplit

import anthropic
import pytest

__all__ = [
    "FakeAPI",
    "Fault",
    "Gate",
    "GatedText",
    "Route",
    "RecordedRequest",
    "Reply",
    "Text",
    "ToolUse",
    "fakeapi",
    "validate_request",
]

NO_REPLY_LEFT = "fakeapi: no scripted reply left"


# --------------------------------------------------------------------------- script


@dataclass
class Text:
    """A text block. Streamed as several `text_delta`s: one per word (a lone
    word is split in two), or fixed `chunk_size` pieces."""

    text: str
    chunk_size: int | None = None
    # Benchmarks time token latency from here: when set, the moment the block's first delta
    # is written to the socket is appended (after any ``delay``, not before it).
    sent_at: list[float] | None = None

    def chunks(self) -> list[str]:
        if self.chunk_size:
            n = self.chunk_size
            return [self.text[i : i + n] for i in range(0, len(self.text), n)]
        pieces = re.findall(r"\S+\s*|\s+", self.text)
        if len(pieces) == 1 and len(self.text) > 1:
            # Consumers must cope with more than one delta even for one word.
            half = len(self.text) // 2
            pieces = [self.text[:half], self.text[half:]]
        return pieces


@dataclass
class ToolUse:
    """A tool_use block; `input` is streamed as `input_json_delta` pieces of its
    JSON encoding, so the SDK has to reassemble partial JSON."""

    name: str
    input: dict[str, Any] = field(default_factory=dict)
    id: str | None = None  # filled in with toolu_fake_NNNNNN when first served

    def chunks(self) -> list[str]:
        encoded = json.dumps(self.input)
        n = max(1, -(-len(encoded) // 3))  # about three pieces
        return [encoded[i : i + n] for i in range(0, len(encoded), n)]


Block = Union[Text, ToolUse]


@dataclass
class Reply:
    """One scripted assistant message, plus optional misbehaviour.

    Streaming knobs (a "delta" is one content_block_delta frame):
      error_after=k  send an SSE `error` event after k deltas and end the response
      drop_after=k   abruptly close the socket after k deltas (no message_stop)
      cut_after=k    send the stream close-delimited (HTTP/1.0 style: no length, no
                     chunking, `connection: close`) and close it cleanly after k
                     deltas, so the cut looks like a normal end of body
      delay=s        sleep s seconds before each delta (slow tokens)
      hang=True      after message_start, block until api.release() or stop()
      hold_after=k   after k deltas, block until api.release() or stop() (a reply
                     caught mid-stream, for as long as a test needs to look)
    If a reply has fewer than k deltas, the fault fires just before message_delta.
    Non-streaming requests honour hang (before answering), drop_after (close
    without answering) and error_after (HTTP 529).
    """

    blocks: list[Block | str] = field(default_factory=list)
    stop_reason: str | None = None  # default: "tool_use" if any ToolUse else "end_turn"
    usage: dict[str, int] | None = None  # overrides the computed usage fields
    error_after: int | None = None
    drop_after: int | None = None
    cut_after: int | None = None
    delay: float = 0.0
    hang: bool = False
    hold_after: int | None = None

    def __post_init__(self) -> None:
        self.blocks = [Text(b) if isinstance(b, str) else b for b in self.blocks]
        if self.stop_reason is None:
            has_tool = any(isinstance(b, ToolUse) for b in self.blocks)
            self.stop_reason = "tool_use" if has_tool else "end_turn"


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


@dataclass
class Fault:
    """An HTTP error answer sent instead of a reply (before any stream)."""

    status_code: int
    message: str | None = None
    n: int = 1

    @classmethod
    def status(cls, status_code: int, n: int = 1, message: str | None = None) -> Fault:
        """`n` consecutive answers with this status (FakeAPI.add expands them)."""
        return cls(status_code, message, n)

    @property
    def error_type(self) -> str:
        return _ERROR_TYPES.get(self.status_code, "api_error")

    def headers(self) -> dict[str, str]:
        retryable = self.status_code in (408, 409, 429) or self.status_code >= 500
        if not retryable:
            return {}
        # retry-after-ms wins over the SDK's 0.5 s+ exponential backoff, keeping
        # retry tests fast; retry-after: 0 mirrors what the real API sends on 429.
        headers = {"retry-after-ms": "10"}
        if self.status_code == 429:
            headers["retry-after"] = "0"
        return headers


Entry = Union[Reply, Fault, Callable[[dict[str, Any]], Union[Reply, Fault]]]


@dataclass
class RecordedRequest:
    """One request as the server saw it. Indexing reads the JSON body, so
    `api.last_request["messages"]` works."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


# --------------------------------------------------------------------------- validation


def validate_request(body: Any, headers: dict[str, str]) -> list[str]:
    """The Messages API rules our agent code most easily breaks; returns problems."""
    problems: list[str] = []
    # anthropic 2.x sends the api_key as `Authorization: Bearer ...`, not x-api-key.
    bearer = headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not headers.get("x-api-key") and not bearer:
        problems.append("missing credentials: neither x-api-key nor Authorization: Bearer header")
    if not isinstance(body, dict):
        return problems + ["request body must be a JSON object"]
    if not body.get("model"):
        problems.append("model: field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        problems.append(f"max_tokens: must be a positive integer, got {max_tokens!r}")
    system = body.get("system")
    if isinstance(system, list):
        problems += _empty_text_problems("system", system)

    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return problems + ["messages: at least one message is required"]

    open_tool_ids: list[str] = []  # tool_use ids of the previous assistant message
    for i, msg in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(msg, dict):
            problems.append(f"{where}: must be an object")
            continue
        role = msg.get("role")
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            problems.append(
                f"{where}: expected role {expected!r}, got {role!r} "
                "(the first message must be user, then roles strictly alternate)"
            )
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            problems.append(f"{where}.content: must be a string or a list of blocks")
            continue
        final_assistant = role == "assistant" and i == len(messages) - 1
        if not final_assistant:  # only a final assistant prefill may be empty
            if content == [] or content == "":
                problems.append(f"{where}: all messages must have non-empty content")
            else:
                problems += _empty_text_problems(f"{where}.content", blocks)

        if role == "user":
            result_ids = [b.get("tool_use_id") for b in blocks if _type(b) == "tool_result"]
            missing = [t for t in open_tool_ids if t not in result_ids]
            if missing:
                problems.append(
                    f"messages.{i - 1}: tool_use ids were found without tool_result "
                    f"blocks immediately after: {', '.join(missing)}"
                )
            stray = [t for t in result_ids if t not in open_tool_ids]
            if stray:
                problems.append(
                    f"{where}: unexpected tool_use_id found in tool_result blocks: "
                    f"{', '.join(map(str, stray))} (each tool_result must answer a "
                    "tool_use of the previous assistant message)"
                )
            types = [_type(b) for b in blocks]
            text_at = [j for j, t in enumerate(types) if t == "text"]
            result_at = [j for j, t in enumerate(types) if t == "tool_result"]
            if text_at and result_at and text_at[0] < result_at[-1]:
                problems.append(f"{where}: tool_result blocks must come before any text")
            open_tool_ids = []
        elif role == "assistant":
            open_tool_ids = [b.get("id") for b in blocks if _type(b) == "tool_use"]

    if open_tool_ids:
        problems.append(
            f"messages.{len(messages) - 1}: tool_use ids were found without tool_result "
            f"blocks immediately after: {', '.join(open_tool_ids)}"
        )
    return problems


def _type(block: Any) -> Any:
    return block.get("type") if isinstance(block, dict) else None


def _empty_text_problems(where: str, blocks: list[Any]) -> list[str]:
    problems = []
    for j, block in enumerate(blocks):
        if _type(block) == "text" and not block.get("text"):
            problems.append(f"{where}.{j}: text content blocks must be non-empty")
        if _type(block) == "tool_result" and isinstance(block.get("content"), list):
            problems += _empty_text_problems(f"{where}.{j}.content", block["content"])
    return problems


# --------------------------------------------------------------------------- server


class _Abort(Exception):
    """The reply was cut short on purpose (drop, or server stopping)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The stdlib default joins every handler thread on close, which would wait
    # forever on a hung or slow reply.
    block_on_close = False

    def __init__(self, api: FakeAPI) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        # SSE frames are small writes: without NODELAY, Nagle plus delayed ACK stall
        # each streamed reply by ~40 ms.
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # Wakes handler threads blocked on idle keep-alive reads or writes.
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client hang-ups are expected (drop, cancellation, stop); stay quiet.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # needed for chunked streaming and keep-alive
    server: _Server

    def do_POST(self) -> None:
        self.server.api._handle(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output readable

    responded = False  # once headers are out, a crash can only drop the connection
    close_delimited = False  # SSE body ends when the socket closes (Reply.cut_after)

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.responded = True
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_fake_{next(_ids):06d}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_error_json(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        self.send_json(status, body, headers)

    def start_sse(self) -> None:
        self.responded = True
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", f"req_fake_{next(_ids):06d}")
        # Chunked framing is what makes a dropped connection detectable: without
        # it, a closed socket looks like a normal end of body (cut_after wants that).
        if self.close_delimited:
            self.send_header("connection", "close")
        else:
            self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def sse(self, event: str, data: dict[str, Any]) -> None:
        frame = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
        self.wfile.write(frame if self.close_delimited else b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.flush()

    def end_sse(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


_ids = itertools.count(1)  # shared so ids stay unique across servers in one run


class FakeAPI:
    """Scriptable Anthropic Messages API on 127.0.0.1 (see module docstring).

    Attributes: url, requests (list[RecordedRequest]), errors (list[str]: invalid
    requests, unscripted requests, fixture crashes), first_text_sent_at
    (perf_counter() just before each reply's first text_delta frame).
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.first_text_sent_at: list[float] = []
        self._queue: deque[Entry] = deque()
        self._routes: list[Route] = []
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._hanging = 0
        self._released = False
        self._stopped = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeAPI:
        self._stopped.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopped.set()
        with self._cond:
            self._cond.notify_all()  # wake hung replies so they abort
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        assert self._thread is not None
        self._thread.join(timeout=2)
        self._server = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeAPI is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def client(self, **kwargs: Any) -> anthropic.Anthropic:
        """An `anthropic.Anthropic` pointed at this server (max_retries=0 unless given,
        so a test opts in to the SDK's retries)."""
        kwargs.setdefault("max_retries", 0)
        return anthropic.Anthropic(api_key="test-key", base_url=self.url, **kwargs)

    def async_client(self, **kwargs: Any) -> anthropic.AsyncAnthropic:
        kwargs.setdefault("max_retries", 0)
        return anthropic.AsyncAnthropic(api_key="test-key", base_url=self.url, **kwargs)

    # -- scripting

    def add(self, entry: Entry) -> FakeAPI:
        """Queue a Reply, a Fault (repeated fault.n times) or a callable(body) -> Reply|Fault."""
        entries = [Fault(entry.status_code, entry.message)] * entry.n if isinstance(entry, Fault) else [entry]
        with self._lock:
            self._queue.extend(entries)
        return self

    def add_text(self, text: str, **reply_kwargs: Any) -> FakeAPI:
        return self.add(Reply([Text(text)], **reply_kwargs))

    def add_tool_use(
        self,
        name: str,
        input: dict[str, Any],
        text_before: str | None = None,
        tool_id: str | None = None,
        **reply_kwargs: Any,
    ) -> FakeAPI:
        blocks: list[Block | str] = [Text(text_before)] if text_before else []
        blocks.append(ToolUse(name, input, tool_id))
        return self.add(Reply(blocks, **reply_kwargs))

    @property
    def pending(self) -> int:
        """Queued entries not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def last_request(self) -> RecordedRequest:
        assert self.requests, "no request received"
        return self.requests[-1]

    def release(self) -> None:
        """Let hung replies continue normally; later hang=True replies pass straight through."""
        with self._cond:
            self._released = True
            self._cond.notify_all()

    def wait_hanging(self, timeout: float = 2.0) -> bool:
        """Block until some reply is parked at its hang point (True) or timeout (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._hanging > 0, timeout)

    # -- serving (handler threads)

    def _handle(self, h: _Handler) -> None:
        try:
            self._serve(h)
        except (_Abort, OSError):
            h.close_connection = True
        except Exception:
            # A crash here is a fixture or callable-reply bug: make the test see it.
            self.errors.append("fakeapi: internal error:\n" + traceback.format_exc())
            if h.responded:
                h.drop()
                return
            h.close_connection = True
            try:
                h.send_error_json(500, "api_error", "fakeapi internal error", {"x-should-retry": "false"})
            except OSError:
                pass

    def _serve(self, h: _Handler) -> None:
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = urlsplit(h.path).path
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        recorded_body = body if isinstance(body, dict) else {}
        self.requests.append(RecordedRequest(h.command, h.path, headers, recorded_body))

        if h.command != "POST" or path != "/v1/messages":
            problem = f"fakeapi: unexpected request {h.command} {h.path}"
            self.errors.append(problem)
            return h.send_error_json(404, "not_found_error", problem)

        problems = validate_request(body, headers)
        if problems:
            self.errors.extend(problems)
            return h.send_error_json(400, "invalid_request_error", "; ".join(problems))

        entry = self._next_entry(body)
        if entry is None:
            self.errors.append(NO_REPLY_LEFT)
            # x-should-retry: false so the SDK fails now instead of retrying a 500.
            return h.send_error_json(500, "api_error", NO_REPLY_LEFT, {"x-should-retry": "false"})
        if callable(entry):
            entry = entry(body)
        if isinstance(entry, Fault):
            message = entry.message or f"fakeapi: scripted {entry.status_code}"
            return h.send_error_json(entry.status_code, entry.error_type, message, entry.headers())
        if not isinstance(entry, Reply):
            raise TypeError(f"scripted entry must be Reply or Fault, got {entry!r}")

        if body.get("stream") is True:
            self._stream(h, entry, body)
        else:
            self._respond(h, entry, body)

    def _hang(self, h: _Handler) -> None:
        with self._cond:
            self._hanging += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._released or self._stopped.is_set())
            self._hanging -= 1
        if self._stopped.is_set():
            h.drop()
            raise _Abort

    def _respond(self, h: _Handler, reply: Reply, body: dict[str, Any]) -> None:
        if reply.hang:
            self._hang(h)
        if reply.drop_after is not None:
            h.drop()
            raise _Abort
        if reply.error_after is not None:
            fault = Fault(529, "Overloaded")
            return h.send_error_json(529, fault.error_type, "Overloaded", fault.headers())
        message = self._message_start(reply, body)
        message["content"] = [self._block_start(b) for b in reply.blocks]
        for block, out in zip(reply.blocks, message["content"]):
            if isinstance(block, Text):
                out["text"] = block.text
            else:
                out["input"] = block.input
        message["stop_reason"] = reply.stop_reason
        message["usage"]["output_tokens"] = self._output_tokens(reply)
        h.send_json(200, message)

    def _stream(self, h: _Handler, reply: Reply, body: dict[str, Any]) -> None:
        h.close_delimited = reply.cut_after is not None
        h.start_sse()
        h.sse("message_start", {"type": "message_start", "message": self._message_start(reply, body)})
        h.sse("ping", {"type": "ping"})
        if reply.hang:
            self._hang(h)

        deltas_sent = 0
        first_text = True

        def before_delta() -> None:
            # error_after / drop_after / hold_after fire once k deltas are out.
            if reply.hold_after is not None and deltas_sent == reply.hold_after:
                self._hang(h)
            if reply.error_after is not None and deltas_sent >= reply.error_after:
                error = {"type": "overloaded_error", "message": "Overloaded"}
                h.sse("error", {"type": "error", "error": error})
                h.end_sse()
                raise _Abort
            if reply.drop_after is not None and deltas_sent >= reply.drop_after:
                h.drop()
                raise _Abort
            if reply.cut_after is not None and deltas_sent >= reply.cut_after:
                h.close_connection = True   # a clean close: the body just ends here
                raise _Abort

        for index, block in enumerate(reply.blocks):
            start = {"type": "content_block_start", "index": index, "content_block": self._block_start(block)}
            h.sse("content_block_start", start)
            for chunk in block.chunks():
                before_delta()
                if reply.delay and self._stopped.wait(reply.delay):
                    h.drop()
                    raise _Abort
                if isinstance(block, Text):
                    delta = {"type": "text_delta", "text": chunk}
                    if first_text:
                        first_text = False
                        now = time.perf_counter()
                        self.first_text_sent_at.append(now)
                        if block.sent_at is not None:
                            block.sent_at.append(now)
                else:
                    delta = {"type": "input_json_delta", "partial_json": chunk}
                h.sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                deltas_sent += 1
            h.sse("content_block_stop", {"type": "content_block_stop", "index": index})

        before_delta()
        h.sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": self._output_tokens(reply)},
            },
        )
        h.sse("message_stop", {"type": "message_stop"})
        h.end_sse()

    # -- payload pieces

    def _message_start(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        # Rough, deterministic token counts so usage grows with the conversation.
        usage = {
            "input_tokens": max(1, len(json.dumps(body.get("messages"))) // 4),
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        usage.update({k: v for k, v in (reply.usage or {}).items() if k != "output_tokens"})
        return {
            "id": f"msg_fake_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }

    @staticmethod
    def _block_start(block: Block) -> dict[str, Any]:
        if isinstance(block, Text):
            return {"type": "text", "text": ""}
        if block.id is None:
            block.id = f"toolu_fake_{next(_ids):06d}"
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}

    @staticmethod
    def _output_tokens(reply: Reply) -> int:
        if reply.usage and "output_tokens" in reply.usage:
            return reply.usage["output_tokens"]
        return max(1, sum(len(b.chunks()) for b in reply.blocks))  # one "token" per delta

    # -- routes: several conversations at once, each with its own script

    def route(self, keyword: str) -> Route:
        """A script of its own for every conversation whose first user message contains
        ``keyword`` (the same Route for the same keyword); it takes add / add_text /
        add_tool_use like the server. Requests that match no route use the server's own
        queue."""
        with self._lock:
            for r in self._routes:
                if r.keyword == keyword:
                    return r
            r = Route(self, keyword)
            self._routes.append(r)
        return r

    def gate(self) -> Gate:
        """A point inside a streamed reply where it stops until the gate opens."""
        return Gate(self)

    def _next_entry(self, body: dict[str, Any]) -> Entry | None:
        first = _first_user_text(body)
        with self._lock:
            for r in self._routes:
                if r.keyword in first:
                    r.requests.append(body)
                    return r._queue.popleft() if r._queue else None
            return self._queue.popleft() if self._queue else None


def _first_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    content = messages[0].get("content") if isinstance(messages[0], dict) else ""
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content or [] if _type(b) == "text")


class Gate:
    """Holds every reply streamed through it at one point until ``open()`` (or the
    server stops). ``wait_parked(n)`` proves n replies are in flight at the same time."""

    def __init__(self, api: FakeAPI) -> None:
        self.api = api
        self._cond = threading.Condition()
        self._open = False
        self.parked = 0      # replies waiting at the gate now
        self.passed = 0      # replies that reached it so far

    def open(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def wait_parked(self, n: int = 1, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.parked >= n, timeout)

    def wait_passed(self, n: int = 1, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.passed >= n, timeout)

    def _park(self) -> None:
        with self._cond:
            self.parked += 1
            self.passed += 1
            self._cond.notify_all()
            while not (self._open or self.api._stopped.is_set()):
                self._cond.wait(0.05)   # also notices the server stopping
            self.parked -= 1
        if self.api._stopped.is_set():
            raise _Abort

    def text(self, text: str, after: int = 1) -> GatedText:
        """A text block that stops at this gate after ``after`` deltas."""
        return GatedText(text, gate=self, after=after)


class _GatedChunks(list):
    def __init__(self, chunks: list[str], gate: Gate, after: int) -> None:
        super().__init__(chunks)
        self.gate, self.after = gate, after

    def __iter__(self):
        for i, chunk in enumerate(list.__iter__(self)):
            if i == self.after:
                self.gate._park()
            yield chunk


@dataclass
class GatedText(Text):
    """A Text whose stream stops at ``gate`` after ``after`` deltas (see Gate)."""

    gate: Gate | None = None
    after: int = 1

    def chunks(self) -> list[str]:
        plain = super().chunks()
        return _GatedChunks(plain, self.gate, self.after) if self.gate else plain


class Route:
    """One conversation's script on a shared server (see FakeAPI.route). ``requests``
    holds the bodies it served."""

    def __init__(self, api: FakeAPI, keyword: str) -> None:
        self.api, self.keyword = api, keyword
        self._queue: deque[Entry] = deque()
        self._lock = api._lock
        self.requests: list[dict[str, Any]] = []

    # The server's own scripting methods work on any object with _lock and _queue.
    add = FakeAPI.add
    add_text = FakeAPI.add_text
    add_tool_use = FakeAPI.add_tool_use
    pending = FakeAPI.pending


@pytest.fixture
def fakeapi():
    """A started FakeAPI; use it via `from tests.fakeapi import fakeapi`."""
    with FakeAPI() as api:
        yield api
