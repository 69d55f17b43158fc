"""The agent loop: one user message in, a streamed tool-use conversation out.

Threading. ``Agent.send`` blocks its caller (the TUI's thread worker, the CLI's worker
thread). Each model call is read by a small daemon thread that feeds a queue; the caller
waits on that queue in 50 ms slices, so a cancel is noticed between stream events and also
while the server is silent (hung stream, SDK retry back-off). On cancel the reader is told
to close its connection and is left behind; the caller returns at once.

History rules (the reason a failed or cancelled turn never breaks the next one):
- an assistant message enters the history only when its stream completed (message_stop
  and a stop reason seen: a close-delimited body cut short ends "normally" for the SDK);
  a broken or cancelled stream leaves nothing behind, and the text it showed is
  withdrawn (TextWithdrawn) before the retry;
- every tool_use is answered by a tool_result before the turn returns (its real output,
  "denied", "cancelled by the user", or "not run");
- a turn that stops with the history ending on a user message (error, cancel, iteration
  bound) is fine: the next prompt is merged into that message.
"""

from __future__ import annotations

import copy
import queue
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from core.agent.config import DEFAULT_BASE_URL, AgentConfig
from core.agent.events import (AgentError, AgentEvent, ApprovalRequest, Decision, Retrying,
                               TextDelta, TextWithdrawn, ToolFinished, ToolStarted,
                               TurnFinished, Usage)
from core.agent.reply import Reply
from core.agent.tools import Binding, Toolbox, ToolResult
from core.agent.transcript import (Transcript, add_message, list_sessions, new_session_id,
                                   read_meta, repair, text_block, tool_result, unanswered)
from core import secrets
from core.errors import WorklanesError
from core.workspace import Workspace

Approver = Callable[[ApprovalRequest], Decision]
EventSink = Callable[[AgentEvent], None]

CANCELLED = "cancelled by the user"
_SESSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
POLL = 0.05  # seconds between cancel checks while the model is silent


class _Cancelled(Exception):
    pass


class _Failed(Exception):
    pass


def system_prompt(ws: Workspace, lane: dict[str, Any] | None) -> str:
    text = (
        f"You are a coding agent working in the git repository at {ws.root}, managed with "
        "worklanes: tasks on a shared board (.tasks/) and lanes, which are git worktrees on "
        "their own branches (.worktrees/). Isolate by directory, coordinate by task ID. "
        "Use task + worktree tools for multi-task work. For parallel or risky changes: create "
        "tasks, allocate a worktree lane per task, make the changes and run commands in those "
        "lanes (the worktree argument of the file tools, worktree_run), then choose keep or "
        "remove for closeout. Do not edit files in the main checkout for work that belongs to "
        "a task. Use worktree_events when you need lifecycle visibility. Some tools need the "
        "user's approval; when a call is denied, do not repeat it - explain and ask."
    )
    if lane:
        task = lane.get("task_id")
        text += (
            f"\n\nYou are bound to lane {lane['name']!r} (directory {lane['path']}, branch "
            f"{lane.get('branch')}" + (f", task {task}" if task is not None else "")
            + "). File tools and bash act inside that lane and cannot leave it; lane tools "
            "work on this lane only, and you may update "
            + (f"task {task} only" if task is not None else "no existing task")
            + " (task_create can add new tasks).")
    return text


def _blocks_of(reply: Reply) -> list[dict[str, Any]]:
    """The message's blocks as they go back to the API (empty text dropped)."""
    out = []
    for b in reply.blocks:
        if b.get("type") == "text":
            if b.get("text"):
                out.append(text_block(b["text"]))
        elif b.get("type") == "tool_use":
            out.append({"type": "tool_use", "id": b.get("id", ""), "name": b.get("name", ""),
                        "input": b["input"] if isinstance(b.get("input"), dict) else {}})
        elif b:  # thinking and friends go back to the API as they came
            out.append(b)
    return out


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def describe_error(exc: BaseException) -> str:
    """A one-line, human message for an API or transport failure."""
    import anthropic
    import httpx2
    body = getattr(exc, "body", None)
    detail = ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        detail = f"{err.get('type', 'error')}: {err.get('message', '')}"
    if isinstance(exc, anthropic.AuthenticationError):
        text = (f"the API rejected the key (401 {detail or 'authentication_error'}); check "
                "ANTHROPIC_API_KEY")
    elif isinstance(exc, anthropic.APITimeoutError):
        text = "the API did not answer in time (request timed out)"
    elif isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        text = f"cannot reach the API ({type(cause).__name__}: {cause})"
    elif isinstance(exc, anthropic.APIStatusError):
        if exc.status_code == 200:   # an SSE error event inside a started stream
            text = f"the API reported an error mid-stream ({detail or exc.message})"
        else:
            text = f"API error {exc.status_code} ({detail or exc.message})"
    elif isinstance(exc, IncompleteStream):
        text = str(exc)
    elif isinstance(exc, (httpx2.TransportError, OSError)):
        text = f"the connection broke mid-stream ({type(exc).__name__}: {exc})"
    else:
        text = f"the stream failed ({type(exc).__name__}: {exc})"
    return _one_line(text)


def _retryable_mid_stream(exc: BaseException) -> bool:
    """Errors after the stream started that a fresh try can cure: an SSE error event of
    a transient kind, or the connection going away."""
    import anthropic
    import httpx2
    if isinstance(exc, anthropic.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        kind = (body.get("error") or {}).get("type", "") if isinstance(body.get("error"), dict) else ""
        return kind in ("overloaded_error", "api_error", "rate_limit_error", "timeout_error", "")
    return isinstance(exc, (anthropic.APIConnectionError, httpx2.TransportError, OSError,
                            IncompleteStream))


class IncompleteStream(Exception):
    """The body ended without ``message_stop`` or without a stop reason: a close-delimited
    response cut short looks like a normal end of body to the SDK, so the loop checks."""


class _StreamReader(threading.Thread):
    """Reads one streamed model call. Each text delta goes to ``on_text`` from this thread,
    in order, and what it returns (the text as shown) is kept in ``shown``; the queue
    then gets ("final", message) or ("error", exception), or ("host", exception) when
    ``on_text`` raised. ``started`` is set once the response began (HTTP 200), which
    splits SDK-retried failures from mid-stream ones.

    The deltas are handed on here, not through the queue to the agent's own thread: with
    many agents streaming, every hop between threads is one more wait for the interpreter
    lock (the UI thread may hold it for a whole frame) before the token reaches the
    screen. Once ``abandon`` returns, ``on_text`` is not called again."""

    def __init__(self, client: Any, params: dict[str, Any], on_text: Callable[[str], str]):
        super().__init__(name="worklanes-agent-stream", daemon=True)
        self.client, self.params, self.on_text = client, params, on_text
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.shown: list[str] = []
        self.started = False
        self.abandoned = False
        self._stream: Any = None
        self._handing = threading.Lock()   # abandon waits for a delta being handed on

    def run(self) -> None:
        put = self.q.put
        try:
            # The raw events, not the SDK's stream helper (see core/agent/reply.py).
            with self.client.messages.create(**self.params, stream=True) as stream:
                self._stream = stream
                self.started = True
                if self.abandoned:
                    return
                reply = Reply()
                feed = reply.feed
                for ev in stream:
                    if self.abandoned:
                        return
                    text = feed(ev)
                    if text is not None and not self._hand_on(text):
                        return
                if not reply.stopped or not reply.stop_reason:
                    raise IncompleteStream("the stream ended before message_stop (connection "
                                           "closed mid-reply)")
                put(("final", reply))
        except BaseException as exc:  # handed to the caller, which classifies it
            put(("error", exc))

    def _hand_on(self, text: str) -> bool:
        with self._handing:
            if self.abandoned:
                return False
            try:
                self.shown.append(self.on_text(text))
            except BaseException as exc:   # the host's failure, not the stream's
                self.q.put(("host", exc))
                self.abandoned = True
                return False
            return True

    def abandon(self) -> None:
        with self._handing:
            self.abandoned = True
        stream = self._stream
        if stream is not None:
            try:
                stream.close()  # wakes a read blocked on a silent server
            except Exception:
                pass


def make_client(config: AgentConfig) -> Any:
    """The SDK client for ``config``. One client may serve many agents at once: it is a
    thread-safe connection pool."""
    import anthropic  # lazy: importing the SDK takes a second or two
    # Always a concrete URL: given None, the SDK would re-read ANTHROPIC_BASE_URL
    # itself, and an empty one (which the config rightly ignored) breaks every call.
    return anthropic.Anthropic(
        api_key=config.api_key, base_url=config.base_url or DEFAULT_BASE_URL,
        max_retries=config.max_retries, timeout=config.request_timeout)


class Agent:
    def __init__(self, workspace: Workspace, config: AgentConfig,
                 approver: Approver | None = None, lane: "str | Binding | None" = None,
                 session_id: str | None = None, client: Any = None):
        """``lane``: bind the agent to a lane, by name (its task is the lane's) or as a
        ``Binding(lane, task_id)``; see ``Toolbox``. ``client``: an SDK client to share
        with other agents (``make_client``)."""
        self.ws = workspace
        self.config = config
        self.approver = approver
        secrets.register(config.api_key)   # scrubbed from everything written, in any form
        self.tools = Toolbox(workspace, lane, config.command_timeout)
        self.binding = self.tools.binding
        self.lane = self.tools.lane
        self._lane_entry = ({**workspace.lanes.get(self.lane), "task_id": self.binding.task_id}
                            if self.binding else None)
        if self.lane:
            self.tools.lane_path(self.lane)  # refuse a removed or missing lane now, not mid-turn
        if session_id is not None and not _SESSION_RE.fullmatch(session_id):
            raise ValueError(f"bad session id {session_id!r}")
        self.session_id = session_id or new_session_id()
        self.transcript = Transcript.create(workspace.root, self.session_id, config.api_key,
                                            model=config.model, lane=self.lane)
        self.transcript_path: Path = self.transcript.path
        meta, self.history, self.usage = self.transcript.load()
        self.created_at: float = meta.get("created_at") or time.time()
        self.allowed_tools: set[str] = set()   # ALLOW_SESSION answers
        self.token_budget: int | None = None   # session tokens after which no call is made
        self._client: Any = client   # lane agents share one (thread-safe) SDK client
        self._busy = threading.Lock()
        self._system = [{"type": "text", "text": system_prompt(workspace, self._lane_entry),
                         "cache_control": {"type": "ephemeral"}}]
        tools = self.tools.definitions()
        tools[-1]["cache_control"] = {"type": "ephemeral"}
        self._tool_defs = tools

    @classmethod
    def resume_last(cls, workspace: Workspace, config: AgentConfig,
                    approver: Approver | None = None,
                    lane: "str | Binding | None" = None) -> "Agent":
        """The newest saved session (of ``lane``, when given), or a new one. A session
        whose lane no longer exists resumes unbound."""
        lane_name = lane.lane if isinstance(lane, Binding) else lane
        for path in list_sessions(workspace.root):
            meta = read_meta(path)
            if lane_name is not None and meta.get("lane") != lane_name:
                continue
            use_lane = lane if lane is not None else meta.get("lane")
            if use_lane and lane is None:
                try:
                    Toolbox(workspace).lane_path(use_lane)
                except WorklanesError:
                    use_lane = None
            return cls(workspace, config, approver, use_lane, session_id=path.stem)
        return cls(workspace, config, approver, lane)

    # -- public ------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Import the SDK and build the client now (about a second, once), e.g. from a
        worker thread while the user types the first message."""
        if self.config.has_key:
            self._get_client()

    def send(self, text: str, on_event: EventSink,
             cancel: threading.Event | None = None) -> TurnFinished:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("send() needs a non-empty message")
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("Agent.send() is already running for this agent")
        try:
            return self._turn(text, on_event, cancel or threading.Event())
        finally:
            self._busy.release()

    # -- the turn ----------------------------------------------------------------------
    def _turn(self, text: str, on_event: EventSink, cancel: threading.Event) -> TurnFinished:
        turn = Usage()

        def finish(reason: str) -> TurnFinished:
            self.transcript.usage(self.usage)
            if self.transcript.error:   # say it once a turn; the chat itself goes on
                on_event(AgentError(self.transcript.error))
                self.transcript.error = None
            ev = TurnFinished(reason, replace(turn), replace(self.usage))
            on_event(ev)
            return ev

        if not self.config.has_key:
            on_event(AgentError(self.config.missing_key_message()))
            return finish("error")
        try:
            self._append({"role": "user", "content": [text_block(text)]})
            rounds = 0
            while True:
                if cancel.is_set():
                    return finish("cancelled")
                if self.token_budget and self.usage.total >= self.token_budget:
                    return finish("token_budget")   # before a call, so the history stays whole
                try:
                    message = self._call_model(on_event, cancel)
                except _Cancelled:
                    return finish("cancelled")
                except _Failed as exc:
                    on_event(AgentError(self._scrub(str(exc))))
                    return finish("error")
                used = Usage(**message.usage)
                turn.add(used)
                self.usage.add(used)
                blocks = _blocks_of(message)
                if blocks:
                    self._append({"role": "assistant", "content": blocks})
                stop = message.stop_reason   # never None: the reader refuses such a stream
                if not unanswered(self.history):
                    return finish(stop)
                if stop != "tool_use":   # e.g. max_tokens cut a tool call short
                    self._answer_open(f"not run: the reply stopped ({stop}) before the call "
                                      "was complete")
                    return finish(stop)
                if not self._run_tools(blocks, on_event, cancel):
                    return finish("cancelled")
                rounds += 1
                if rounds >= self.config.max_iterations:
                    return finish("max_iterations")
        finally:
            # Whatever happened (even a host callback raising), leave a valid history.
            self._answer_open(CANCELLED if cancel.is_set() else "not run: the turn ended early")

    def _append(self, message: dict[str, Any]) -> None:
        add_message(self.history, message)
        self.transcript.message(message)

    def _answer_open(self, reason: str) -> None:
        for msg in repair(self.history, reason):
            self.transcript.message(msg)

    # -- model calls ---------------------------------------------------------------------
    def _get_client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.config)
        return self._client

    def _request(self) -> dict[str, Any]:
        messages = self.history
        if messages:   # a moving cache breakpoint: the conversation so far is reused
            messages = messages[:-1] + [copy.deepcopy(messages[-1])]
            messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
        return {"model": self.config.model, "max_tokens": self.config.max_tokens,
                "system": self._system, "tools": self._tool_defs, "messages": messages}

    def _call_model(self, on_event: EventSink, cancel: threading.Event) -> Any:
        """One assistant message, streamed. Mid-stream breaks are retried as a whole call
        (the partial reply is discarded) with backoff; raises _Cancelled or _Failed."""
        try:
            client = self._get_client()
        except Exception as exc:
            raise _Failed(f"cannot create the API client: {_one_line(exc)}") from None
        attempts = max(1, self.config.stream_attempts)
        params = self._request()
        scrub = self._scrub

        def on_text(text: str) -> str:   # on the reader's thread
            shown = scrub(text)
            if not cancel.is_set():
                on_event(TextDelta(shown))
            return shown

        for attempt in range(1, attempts + 1):
            reader = _StreamReader(client, params, on_text)
            reader.start()
            get = reader.q.get
            while True:
                try:
                    kind, value = get(timeout=POLL)
                except queue.Empty:
                    if cancel.is_set():
                        reader.abandon()
                        raise _Cancelled from None
                    continue
                if cancel.is_set():
                    reader.abandon()
                    raise _Cancelled
                if kind == "final":
                    return value
                if kind == "host":
                    raise value
                break
            exc = value
            if reader.shown:   # this attempt's text, withdrawn as the attempt failed
                on_event(TextWithdrawn("".join(reader.shown)))
            if not reader.started or not _retryable_mid_stream(exc):
                raise _Failed(describe_error(exc))
            if attempt == attempts:
                raise _Failed(f"{describe_error(exc)}; gave up after {attempts} tries")
            delay = self.config.retry_base_delay * 2 ** (attempt - 1)
            on_event(Retrying(attempt + 1, attempts, delay, self._scrub(describe_error(exc))))
            if cancel.wait(delay):
                raise _Cancelled
        raise AssertionError("unreachable")

    # -- tools ---------------------------------------------------------------------------
    def _run_tools(self, blocks: list[dict[str, Any]], on_event: EventSink,
                   cancel: threading.Event) -> bool:
        """Answer every tool_use of the assistant message; False if cancelled."""
        results = []
        for block in blocks:
            if block.get("type") != "tool_use":
                continue
            tid, name, args = block["id"], block["name"], block.get("input") or {}
            if cancel.is_set():
                results.append(tool_result(tid, CANCELLED, True))
                continue
            on_event(ToolStarted(tid, name, self._scrub_obj(args)))
            res, denied = self._run_one(name, args, cancel)
            out = self._scrub(res.output)
            results.append(tool_result(tid, out, res.is_error))
            on_event(ToolFinished(tid, name, out, res.is_error, denied))
        self._append({"role": "user", "content": results})
        return not cancel.is_set()

    def _run_one(self, name: str, args: dict[str, Any],
                 cancel: threading.Event) -> tuple[ToolResult, bool]:
        """(result, denied). Approval first, unless the policy is auto or the tool was
        allowed for the session."""
        if (self.config.policy != "auto" and name not in self.allowed_tools
                and self.tools.needs_approval(name, args, self.config.ask)):
            decision = self._ask(name, args)
            if cancel.is_set():
                return ToolResult(CANCELLED, True), False
            if decision is None:
                return ToolResult(
                    f"Denied: {name} needs the user's approval and there was no one to ask "
                    "(headless without --yes). Do not retry; tell the user what you wanted "
                    "to do.", True), True
            if decision == Decision.DENY:
                return ToolResult(f"Denied: the user did not allow this {name} call. Do not "
                                  "retry it; ask the user how to proceed.", True), True
            if decision == Decision.ALLOW_SESSION:
                self.allowed_tools.add(name)
        res = self.tools.run(name, args, cancel)
        if res.cancelled:
            res = ToolResult(f"{CANCELLED}\n{res.output}", True, True)
        return res, False

    def _ask(self, name: str, args: dict[str, Any]) -> Decision | None:
        if self.approver is None:
            return None
        req = ApprovalRequest(tool=name, input=self._scrub_obj(args),
                              summary=self._scrub(self.tools.summary(name, args)),
                              lane=self.tools.lane_of(name, args),
                              effect=self.tools.effect(name, args),
                              extra={"session_id": self.session_id})
        try:
            decision = self.approver(req)
        except Exception:
            return Decision.DENY
        return decision if isinstance(decision, Decision) else Decision.DENY

    # -- the key never leaves (core.secrets: also reversed, hex, base64, wrapped) --------
    _scrub = staticmethod(secrets.scrub)
    _scrub_obj = staticmethod(secrets.scrub_obj)
