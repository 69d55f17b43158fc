"""The shapes of the records on disk, as TypedDicts: a task file and a lane entry of
``.worktrees/index.json``. At run time they are plain dicts, so the seed's keys and any
extra keys another writer added survive every read-modify-write.

The shape checks here are what "corrupt" means for a file that is valid JSON."""

from __future__ import annotations

TYPE_CHECKING = False   # typing's own flag, without importing typing
if TYPE_CHECKING:
    from typing import Any, TypedDict

    class TaskRecord(TypedDict, total=False):
        id: int
        subject: str
        description: str
        status: str                 # pending | in_progress | completed
        owner: str
        worktree: str
        blockedBy: list[int]
        blocks: list[int]
        created_at: float
        updated_at: float

    class OpRecord(TypedDict, total=False):
        """An intent record: a multi-step operation in flight on one lane (core.lanes.ops)."""
        kind: str                   # create | remove | restore | (merge, sync: later)
        step: str                   # the last step that finished
        snapshot: str               # the archive ref the operation saves to or applies
        started_at: float
        pid: int

    class LaneEntry(TypedDict, total=False):
        name: str
        path: str
        branch: str
        task_id: int | None
        status: str                 # active | kept | removed
        created_at: float
        base_ref: str               # the ref the user gave (HEAD, main, a tag...)
        base: str                   # what ahead/behind is measured against
        archive_ref: str | None     # the newest snapshot not yet restored
        restored_archives: list[str]
        op: OpRecord | None
else:
    # For type checkers only: at run time each is what it describes, a dict. typing is
    # not imported for them (~3 ms): `wt diff` reads the index before anything else.
    TaskRecord = OpRecord = LaneEntry = dict


def lane_base(lane: LaneEntry | dict[str, Any]) -> str:
    """The one reading of a lane's base: the resolved base, else the ref it was made
    from, else HEAD (entries written by the seed have neither). A stored value that
    git would read as an option is never handed to it."""
    base = lane.get("base") or lane.get("base_ref") or "HEAD"
    return base if isinstance(base, str) and not base.startswith("-") else "HEAD"


def _int_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool)
                                           for v in value)


def task_shape_error(data: Any, file_id: int | None) -> str | None:
    """Why a parsed task file is not a usable task, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), int) \
            or isinstance(data.get("id"), bool):
        return "not a task object with an integer id"
    if file_id is not None and data["id"] != file_id:
        return f"its id is {data['id']} but its file name says {file_id}"
    for key in ("subject", "description", "status", "owner", "worktree"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            return f"{key!r} must be a string, not {type(data[key]).__name__}"
    for key in ("blockedBy", "blocks"):
        if key in data and data[key] is not None and not _int_list(data[key]):
            return f"{key!r} must be a list of task ids"
    return None


def find_entry(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    for entry in data.get("worktrees", []):
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def may_hold_intent(raw: bytes) -> bool:
    """Whether the index's bytes may hold an intent record (``"op"``): a byte search, so
    a command on a healthy repository pays no JSON parse and no lane code for recovery."""
    return b'"op"' in raw


def index_shape_error(data: Any) -> str | None:
    """Why a parsed index is not usable, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("worktrees", []), list):
        return 'expected {"worktrees": [...]}'
    for i, entry in enumerate(data.get("worktrees", [])):
        if not isinstance(entry, dict):
            return f"entry {i} is not an object"
        for key in ("name", "path"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                return f"entry {i} has no {key!r}"
        for key in ("status", "branch"):
            if key in entry and not isinstance(entry[key], str):
                return f"entry {i} ({entry['name']}): {key!r} must be a string"
        if entry.get("op") is not None and not isinstance(entry["op"], dict):
            return f"entry {i} ({entry['name']}): 'op' must be an object"
    return None
