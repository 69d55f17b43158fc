"""`worklanes wt ...`: the lane commands (core.lanes). Loaded only when one of them runs
or is listed (tui.cli LAZY_LANE_COMMANDS): a board command never builds them."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from core import present
from tui.cli import _dump, _ws, json_option


def agent_state(lane: dict[str, Any]) -> dict[str, Any] | None:
    from core.agent.lane_state import agent_state as state
    return state(lane) if "agent" in lane else None


@click.command("create")
@click.argument("name")
@click.option("--task", "task_id", type=int, help="Bind the lane to this task (-> in_progress).")
@click.option("--base", "base_ref", default="HEAD", show_default=True, help="Branch, tag or commit to start from.")
@click.option("--no-setup", is_flag=True, help="Skip the setup command from .worklanes.toml.")
@json_option
@click.pass_context
def wt_create(ctx, name, task_id, base_ref, no_setup, as_json):
    """Create lane NAME on a new branch wt/NAME."""
    res = _ws(ctx).lanes.create(name, task_id=task_id, base_ref=base_ref, run_setup=not no_setup)
    if as_json:
        _dump(res.lane)
    else:
        click.echo(f"created lane {name} at {res.lane['path']} on {res.lane['branch']}")
        for c in res.copied:
            click.echo(f"  copied {c}")
    if res.setup is not None:
        click.echo(f"setup: {res.setup.summary()}", err=True)
        if res.setup.exit_code != 0:
            click.echo(res.setup.text(), err=True)
            ctx.exit(1)


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include removed lanes.")
@json_option
@click.pass_context
def wt_list(ctx, show_all, as_json):
    """List lanes with live status (dirty files, ahead/behind, last commit)."""
    ws = _ws(ctx)
    lanes = ws.lanes.list(include_removed=show_all or as_json)
    found, forecasts = ws.lanes.overview([ln for ln in lanes if ln.get("status") != "removed"])
    statuses = {s.name: s for s in found}
    if as_json:
        _dump([{**ln, "live": {**statuses[ln["name"]].to_dict(), **forecasts[ln["name"]].to_dict()}
                if ln["name"] in statuses else None,
                **({"agent": agent_state(ln)} if "agent" in ln else {})} for ln in lanes])
        return
    if not lanes:
        click.echo("No lanes.")
    for ln in lanes:
        click.echo(present.lane_line(ln, statuses.get(ln["name"]), forecasts.get(ln["name"]),
                                     agent_state(ln)))


@click.command("status")
@click.argument("name")
@json_option
@click.pass_context
def wt_status(ctx, name, as_json):
    """Live status of one lane, with its merge forecast."""
    ws = _ws(ctx)
    lane = ws.lanes.get(name)
    found, forecasts = ws.lanes.overview([lane])
    info = found[0].to_dict()
    if name in forecasts:
        info.update(forecasts[name].to_dict())
    agent = agent_state(lane)
    if as_json:
        _dump({**info, **({"agent": agent} if agent else {})})
        return
    for key, value in info.items():
        if key == "last_commit_ts":
            value = present.ago(value, time.time(), " ago", missing="-")
        click.echo(f"{key:>14}: {value}")
    if agent:
        why = f", error: {agent['error']}" if agent.get("error") else ""
        click.echo(f"{'agent':>14}: {agent.get('state')} (session {agent.get('session')}, "
                   f"{present.agent_tokens(agent)}{why})")


@click.command("diff")
@click.argument("name")
@click.pass_context
def wt_diff(ctx, name):
    """Everything the lane changed since its base: commits and uncommitted edits."""
    # Mostly run by tui.entry before this module loads; here when that path left it to
    # the workspace (to recover an operation, or to say what is wrong), or with -C.
    lanes = _ws(ctx).lane_index
    try:
        out = sys.stdout.fileno()
        sys.stdout.flush()
    except (OSError, ValueError):
        # No file behind stdout (an embedding caller's buffer): the text passes through.
        with lanes.diff_stream(name) as stream:
            for text in stream.chunks():
                click.echo(text, nl=False)
        return
    from core.lanes.diff_cmd import write_diff
    from core.records import lane_base

    lane = lanes.live(name)
    write_diff(name, lane["path"], lane_base(lane), out)


@click.command("keep")
@click.argument("name")
@json_option
@click.pass_context
def wt_keep(ctx, name, as_json):
    """Close out a lane by keeping it for later."""
    entry = _ws(ctx).lanes.keep(name)
    _dump(entry) if as_json else click.echo(f"kept lane {name}")


@click.command("unkeep")
@click.argument("name")
@json_option
@click.pass_context
def wt_unkeep(ctx, name, as_json):
    """Undo `wt keep`: the lane is active again."""
    entry = _ws(ctx).lanes.unkeep(name)
    _dump(entry) if as_json else click.echo(f"lane {name} is active again")


@click.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove even with uncommitted work (saved as a snapshot first).")
@click.option("--complete-task", is_flag=True, help="Mark the bound task completed.")
@click.option("--delete-branch", is_flag=True, help="Also delete wt/NAME if it is fully merged.")
@click.option("--dry-run", is_flag=True, help="Only say what would be saved, kept and dropped.")
@json_option
@click.pass_context
def wt_remove(ctx, name, force, complete_task, delete_branch, dry_run, as_json):
    """Remove a lane's directory; the branch stays."""
    lanes = _ws(ctx).lanes
    if dry_run:
        plan = lanes.removal_plan(name)
        if as_json:
            _dump(plan.to_dict())
        else:
            for line in plan.lines() or ["nothing to save: the lane is clean"]:
                click.echo(line)
        return
    entry = lanes.remove(name, force=force, complete_task=complete_task,
                         delete_branch=delete_branch)
    plan = entry.pop("plan")
    if as_json:
        _dump({**entry, "plan": plan.to_dict()})
        return
    click.echo(present.removal_note(present.Removal.of(entry, complete_task)))
    for line in plan.lines():
        click.echo(f"  {line}")


@click.command("restore")
@click.argument("name")
@click.option("--archive", "archive_id", help="The snapshot to put back (`wt archives NAME`); default: the newest not yet restored.")
@json_option
@click.pass_context
def wt_restore(ctx, name, archive_id, as_json):
    """Bring back a removed lane with the work its removal saved."""
    entry = _ws(ctx).lanes.restore(name, archive_id=archive_id)
    if as_json:
        _dump(entry)
        return
    click.echo(f"restored lane {name} at {entry['path']}")
    if entry.get("applied"):
        click.echo(f"  with the work saved under {entry['applied']}")


@click.command("archives")
@click.argument("name", required=False)
@json_option
@click.pass_context
def wt_archives(ctx, name, as_json):
    """List the snapshots forced removals made (of one lane, or all)."""
    found = _ws(ctx).lanes.archives(name)
    if as_json:
        _dump([a.to_dict() for a in found])
        return
    if not found:
        click.echo("No archives.")
    for a in found:
        files = "?" if a.files is None else a.files
        size = "?" if a.size is None else f"{a.size:,} B"
        mark = "  (restored)" if a.restored else ""
        when = present.ago(a.created_at, time.time(), " ago", missing="-")
        click.echo(f"{a.lane}  {a.id}  {when}  {files} file(s)  {size}  {a.ref}{mark}")


@click.group("archive")
def wt_archive() -> None:
    """Manage snapshots (`wt archives` lists them)."""


@wt_archive.command("drop")
@click.argument("name")
@click.argument("archive_id")
@click.pass_context
def wt_archive_drop(ctx, name, archive_id):
    """Delete snapshot ARCHIVE_ID of lane NAME for good: the only way one goes away."""
    a = _ws(ctx).lanes.drop_archive(name, archive_id)
    click.echo(f"dropped archive {a.id} of lane {name} ({a.ref} was {a.commit[:12]})")


@click.command("run", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--timeout", type=float, help="Seconds before the command and everything it started are killed.")
@click.pass_context
def wt_run(ctx, name, command, timeout):
    """Run COMMAND in the lane: worklanes wt run NAME -- pytest -x"""
    import shlex
    line = command[0] if len(command) == 1 else shlex.join(command)
    res = _ws(ctx).lanes.run(name, line, timeout=timeout)
    click.echo(res.text())
    ctx.exit(res.exit_code if res.exit_code is not None else 124)


@click.command("reconcile")
@click.option("--fix", is_flag=True, help="Prune, adopt and mark to make the index agree with git.")
@json_option
@click.pass_context
def wt_reconcile(ctx, fix, as_json):
    """Compare the index with `git worktree list` and report (or fix) disagreements."""
    from core.merge import merge_findings
    ws = _ws(ctx)
    found = ws.lanes.reconcile(fix=fix) + merge_findings(ws, fix=fix)
    if as_json:
        _dump([f.to_dict() for f in found])
        return
    if not found:
        click.echo("index and git agree.")
    for f in found:
        done = "fixed: " if f.fixed else "fix: "
        click.echo(f"{f.kind:<13}{f.name}  {f.detail}  ({done}{f.fix})")
