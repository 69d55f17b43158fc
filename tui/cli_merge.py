"""`worklanes wt merge | sync | prune-merged`: integration of lanes into their bases
(core.merge, core.sync). Loaded only when one of them runs (tui.cli LAZY_LANE_COMMANDS)."""

from __future__ import annotations

import click

from core import present
from core.errors import InvalidInputError
from tui.cli import _dump, _ws, json_option

# -- integration: merge, sync, prune-merged ------------------------------------------------
@click.command("merge")
@click.argument("name")
@click.option("--squash", is_flag=True, help="One commit on the base, message from the task.")
@click.option("--rebase", is_flag=True, help="Replay the lane's commits on the base, then fast-forward.")
@click.option("--no-check", is_flag=True, help="Skip the [lanes] check command of .worklanes.toml.")
@click.option("--remove", is_flag=True, help="Then remove the lane and delete its branch.")
@json_option
@click.pass_context
def wt_merge(ctx, name, squash, rebase, no_check, remove, as_json):
    """Integrate lane NAME into the branch it was based on (merge commit by default).

    Refused, changing nothing, if the lane or the base's checkout has uncommitted work,
    the check fails or the forecast has conflicts (`wt sync NAME` first)."""
    from core.merge import CheckFailedError, merge_lane
    if squash and rebase:
        raise InvalidInputError("--squash and --rebase exclude each other; pick one")
    ws = _ws(ctx)
    stream = None
    if ws.config.check and not no_check and not as_json:
        click.echo(f"check: {ws.config.check}", err=True)
        stream = lambda text: click.echo(text, nl=False, err=True)  # noqa: E731
    try:
        res = merge_lane(ws, name, strategy="squash" if squash else "rebase" if rebase else "merge",
                         check=not no_check, remove=remove, on_output=stream)
    except CheckFailedError as exc:
        if stream is None:
            click.echo(exc.result.text(), err=True)
        raise
    if as_json:
        _dump(res.to_dict())
    else:
        click.echo(present.merge_note(res))
    if res.removed and not as_json:
        click.echo(f"removed lane {name} and deleted {res.lane.get('branch')}")
    if res.remove_error:
        click.echo(f"worklanes: merged, but removing the lane failed: {res.remove_error}", err=True)
        ctx.exit(1)


@click.command("sync")
@click.argument("name")
@click.option("--rebase", is_flag=True, help="Rebase the lane on its base instead of merging the base in.")
@click.option("--abort", is_flag=True, help="Undo a sync that stopped on conflicts.")
@json_option
@click.pass_context
def wt_sync(ctx, name, rebase, abort, as_json):
    """Bring the base's new commits into lane NAME, inside the lane; a conflict stays
    there to resolve (exit code 1)."""
    from core.sync import abort_sync, sync_lane
    ws = _ws(ctx)
    res = abort_sync(ws, name) if abort else sync_lane(ws, name, rebase=rebase)
    _dump(res.to_dict()) if as_json else click.echo(res.message, err=res.state == "conflict")
    if res.state == "conflict":
        ctx.exit(1)


@click.command("prune-merged")
@click.option("--dry-run", is_flag=True, help="Only say which lanes would go.")
@json_option
@click.pass_context
def wt_prune_merged(ctx, dry_run, as_json):
    """Remove every clean lane whose work its base already has, with its branch."""
    from core.sync import prune_merged
    items = prune_merged(_ws(ctx), dry_run=dry_run)
    if as_json:
        _dump([i.to_dict() for i in items])
        return
    if not items:
        click.echo("No integrated lanes.")
    for i in items:
        click.echo(f"{i.action:<13}{i.name}  {i.reason}")
