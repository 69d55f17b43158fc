"""What would stop a new lane, asked before creating it: a front end can say so while
the user still has the form in front of them (the app's new-lane dialog), instead of
after a failed attempt. Creating re-checks everything (core/lanes.py); these are the
same rules, worded without command-line flags."""

from __future__ import annotations

from typing import Any

from core import git
from core.errors import WorklanesError
from core.lanes import validate_name


def new_lane_problem(ws: Any, name: str, base_ref: str) -> str:
    """Why a lane of this name on this base cannot be created, in one line; "" if it can."""
    try:
        validate_name(name)
    except WorklanesError as exc:
        return exc.for_ui()
    entry = next((e for e in ws.lanes.list() if e.get("name") == name), None)
    if entry is not None:
        if entry.get("status") == "removed":
            return (f"lane {name!r} existed and was removed; pick another name "
                    f"(`worklanes wt restore {name}` brings it back)")
        return f"lane {name!r} already exists; pick another name"
    if (ws.lanes.lanes_dir / name).exists():
        return f"directory {ws.lanes.lanes_dir / name} already exists; pick another name"
    if git.run(["show-ref", "--verify", "--quiet", f"refs/heads/wt/{name}"], ws.root).ok:
        return f"branch wt/{name} already exists; pick another name"
    base = (base_ref or "HEAD").strip()
    if not git.run(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], ws.root).ok:
        return f"base ref {base!r} is not a branch, tag or commit here; e.g. HEAD or main"
    return ""
