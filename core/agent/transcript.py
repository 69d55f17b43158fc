"""Conversation history: the rules that keep it valid for the Messages API, and the
JSONL transcript it is saved to as it grows.

``<root>/.worktrees/.chat/<session_id>.jsonl``, one JSON object a line:

    {"type": "meta", "session_id": ..., "created_at": ..., "model": ..., "lane": ...}
    {"type": "message", "message": {"role": "user", "content": [...]}}
    {"type": "usage", "usage": {...session totals...}}

A message line is written once the message is complete (never half a streamed reply).
Loading replays the lines through the same rules as the live loop (consecutive user
messages merge) and then repairs what a crash can leave behind: a tool_use without its
tool_result gets an "interrupted" one, so the API accepts the history again. The folder
name starts with a dot because lane names cannot, so it never collides with a lane.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import secrets
from core.fsutil import append_line
from core.paths import StatePaths

if TYPE_CHECKING:
    # Loaded by load(): the lane states the board shows need this module, not these.
    from core.agent.events import Usage

INTERRUPTED = "interrupted: the session ended before this tool call finished"

Message = dict[str, Any]


def chat_dir(root: Path) -> Path:
    return StatePaths(Path(root)).chat_dir


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_result(tool_use_id: str, text: str, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text}
    if is_error:
        block["is_error"] = True
    return block


def tool_use_ids(message: Message) -> list[str]:
    if message.get("role") != "assistant":
        return []
    return [b["id"] for b in message.get("content", []) if b.get("type") == "tool_use"]


def add_message(history: list[Message], message: Message) -> Message:
    """Append ``message``; a user message right after a user message is merged into it
    (tool_result blocks first, as the API requires). This is how a new prompt joins a turn
    that ended early (error, cancel, iteration bound) without breaking role alternation.
    Returns the message as it now stands in ``history``."""
    if history and history[-1]["role"] == message["role"] == "user":
        last = history[-1]
        blocks = last["content"] + message["content"]
        last["content"] = ([b for b in blocks if b.get("type") == "tool_result"]
                           + [b for b in blocks if b.get("type") != "tool_result"])
        return last
    history.append(message)
    return message


def unanswered(history: list[Message]) -> list[str]:
    """tool_use ids of the last assistant message that no tool_result answers."""
    if not history:
        return []
    if history[-1]["role"] == "assistant":
        return tool_use_ids(history[-1])
    if len(history) >= 2:
        answered = {b.get("tool_use_id") for b in history[-1]["content"]
                    if b.get("type") == "tool_result"}
        return [i for i in tool_use_ids(history[-2]) if i not in answered]
    return []


def repair(history: list[Message], reason: str = INTERRUPTED) -> list[Message]:
    """Make ``history`` acceptable to the API again; returns the messages it added."""
    missing = unanswered(history)
    if not missing:
        return []
    msg = {"role": "user", "content": [tool_result(i, reason, True) for i in missing]}
    before = len(history)
    add_message(history, msg)
    return [msg] if len(history) > before else []


def cut_off(history: list[Message]) -> list[dict[str, Any]]:
    """The tool calls the conversation ends on that never finished because the session
    ended first (a crash, a kill, a quit that could not wait): their tool_use blocks, as
    long as they are the last thing in it. A resumed turn is the next message."""
    if len(history) < 2 or history[-1].get("role") != "user":
        return []
    ids = {b.get("tool_use_id") for b in history[-1].get("content") or []
           if isinstance(b, dict) and b.get("type") == "tool_result"
           and isinstance(b.get("content"), str) and b["content"].startswith(INTERRUPTED)}
    return [b for b in history[-2].get("content") or []
            if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("id") in ids]


def as_left(messages: list[Message], running: bool) -> list[Message]:
    """A saved conversation as it stands, without writing anything: read under the rules
    ``Transcript.load`` applies, and, unless its agent is still ``running``, with a tool
    call the session left open answered "interrupted" - what loading it to resume would
    write - so a viewer shows that call cut off, not running forever."""
    history = _clean(messages)
    if not running:
        repair(history)
    return history


def _clean(history: list[Message]) -> list[Message]:
    """Rebuild a loaded history under the live rules: first message user, roles alternate,
    no empty blocks, every tool_result answering the assistant message right before it."""
    out: list[Message] = []
    for msg in history:
        role, content = msg.get("role"), msg.get("content")
        if role not in ("user", "assistant") or not isinstance(content, list):
            continue
        content = [b for b in content if isinstance(b, dict)
                   and not (b.get("type") == "text" and not b.get("text"))]
        if role == "user":
            open_ids = set(tool_use_ids(out[-1])) if out and out[-1]["role"] == "assistant" else set()
            if out and out[-1]["role"] == "user" and len(out) >= 2:
                open_ids = set(tool_use_ids(out[-2]))
            content = [b for b in content
                       if b.get("type") != "tool_result" or b.get("tool_use_id") in open_ids]
        if not content:
            continue
        if role == "assistant":
            if not out:
                continue
            if out[-1]["role"] == "assistant":
                out[-1]["content"].extend(content)
                continue
            if unanswered(out):
                repair(out)
        add_message(out, {"role": role, "content": content})
    return out


class Transcript:
    def __init__(self, path: Path, key: str | None = None):
        self.path = Path(path)
        self.key = key if key and len(key) >= 8 else None
        secrets.register(self.key)
        self.error: str | None = None   # the last write failure (the chat goes on in memory)

    @classmethod
    def create(cls, root: Path, session_id: str, key: str | None = None,
               **meta: Any) -> "Transcript":
        t = cls(chat_dir(root) / f"{session_id}.jsonl", key)
        try:
            t.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass   # the first write reports it
        if not t.path.exists():
            t.write({"type": "meta", "session_id": session_id, "created_at": time.time(), **meta})
        return t

    def write(self, record: dict[str, Any]) -> None:
        # "at" orders sessions (list_sessions): a file's mtime is too coarse for it.
        record = {**record, "at": _stamp()}
        # Scrubbed as values, before JSON escaping could split an encoded key.
        line = json.dumps(secrets.scrub_obj(record), ensure_ascii=False, default=str)
        try:
            append_line(self.path, line)
        except OSError as exc:
            self.error = f"cannot save the conversation to {self.path}: {exc.strerror or exc}"

    def message(self, message: Message) -> None:
        self.write({"type": "message", "message": message})

    def usage(self, usage: Usage) -> None:
        self.write({"type": "usage", "usage": asdict(usage)})

    def load(self) -> tuple[dict[str, Any], list[Message], Usage]:
        """(meta, history, session usage); unparsable lines (a crash mid-write) are skipped."""
        from core.agent.events import Usage
        meta: dict[str, Any] = {}
        raw: list[Message] = []
        usage = Usage()
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict):
                continue
            kind = rec.get("type")
            if kind == "meta":
                meta = rec
            elif kind == "message" and isinstance(rec.get("message"), dict):
                raw.append(rec["message"])
            elif kind == "usage" and isinstance(rec.get("usage"), dict):
                known = Usage.__dataclass_fields__
                usage = Usage(**{k: int(v) for k, v in rec["usage"].items() if k in known})
        history = _clean(raw)
        for msg in repair(history):
            self.message(msg)
        return meta, history, usage


_last_stamp = 0


def _stamp() -> int:
    """When a record is written, in ns, strictly increasing within this process (two
    writes in one clock tick still get an order)."""
    global _last_stamp
    _last_stamp = max(time.time_ns(), _last_stamp + 1)
    return _last_stamp


def _written_at(path: Path) -> int:
    """The "at" of a transcript's last record; its mtime for one written before records
    carried it. Only the file's tail is read."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 8192))
        tail = fh.read().decode("utf-8", errors="replace")
    for line in reversed(tail.splitlines()):
        try:
            at = json.loads(line).get("at")
        except (ValueError, AttributeError):
            continue
        if isinstance(at, int):
            return at
    return os.stat(path).st_mtime_ns


def list_sessions(root: Path) -> list[Path]:
    """Transcripts, newest (last written to, by the time stamped in its records) first.
    Not by mtime: file times are coarser than two quick writes, and a tie would be
    broken by the session's random name."""
    folder = chat_dir(root)
    try:
        paths = [folder / n for n in os.listdir(folder) if n.endswith(".jsonl")]
    except FileNotFoundError:
        return []
    stamped = []
    for p in paths:
        try:
            stamped.append((_written_at(p), p.name, p))
        except OSError:
            continue
    return [p for _, _, p in sorted(stamped, reverse=True)]


def read_meta(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.loads(fh.readline())
    except (OSError, ValueError):
        return {}
    return rec if isinstance(rec, dict) and rec.get("type") == "meta" else {}
