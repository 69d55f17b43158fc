"""read_file, write_file and edit_file: what the model asked, done through the race-free
opens of core.agent.files, with the sizes capped before anything is read."""

from __future__ import annotations

from typing import Any

from core.agent import files
from core.agent.files import ToolError

READ_BYTES_MAX = 8 * 1024 * 1024  # read_file never loads more than this
EDIT_BYTES_MAX = 8 * 1024 * 1024  # edit_file refuses bigger files (it holds two copies)


def read_file(tb: Any, a: dict[str, Any], cancel) -> str:
    raw, size = files.read_bytes(tb.file_root(a.get("worktree")), a["path"], READ_BYTES_MAX)
    note = ""
    if size > READ_BYTES_MAX:
        note = f"\n[file larger than {READ_BYTES_MAX} bytes; only its start was read]"
    lines = raw.decode("utf-8", "replace").splitlines()
    offset = a.get("offset")
    if offset:
        lines = lines[max(int(offset) - 1, 0):]
    limit = a.get("limit")
    if limit and 0 < int(limit) < len(lines):
        lines = lines[:int(limit)] + [f"... ({len(lines) - int(limit)} more)"]
    return "\n".join(lines) + note


def write_file(tb: Any, a: dict[str, Any], cancel) -> str:
    data = str(a["content"]).encode("utf-8")
    files.write_bytes(tb.file_root(a.get("worktree")), a["path"], data)
    return f"Wrote {len(data)} bytes to {a['path']}"


def edit_file(tb: Any, a: dict[str, Any], cancel) -> str:
    old, new = str(a["old_text"]), str(a["new_text"])
    if not old:
        raise ToolError("old_text is empty; give the exact text to replace")
    root = tb.file_root(a.get("worktree"))
    raw, mode = files.read_for_edit(root, a["path"], EDIT_BYTES_MAX)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{a['path']!r} is not UTF-8 text; edit_file only edits text") from None
    count = text.count(old)
    if not count:
        raise ToolError(f"text not found in {a['path']}; read the file and copy the exact text")
    files.write_bytes(root, a["path"], text.replace(old, new, 1).encode("utf-8"), mode)
    more = f" (it occurs {count} times; the first was replaced)" if count > 1 else ""
    return f"Edited {a['path']}{more}"
