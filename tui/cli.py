"""The `worklanes` command line. Headless, fast, and a thin skin over core: every
command opens the workspace, makes one core call and prints the result.

Imports of textual and anthropic stay inside the commands that need them, so the
board commands start in a fraction of the app's start-up time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from core import present
from core.errors import WorklanesError
from core.tasks import STATUSES
from tui.entry import report

# Commands that live in their own modules, loaded only when run (or listed by --help):
# the agent's (anthropic, the tools) cost several times a board command's whole run.
LAZY_COMMANDS = {"chat": "tui.chat_cli:chat", "dispatch": "tui.dispatch_cli:dispatch"}
# The lane commands, too: a board command (`task list`) would build every one of them.
LAZY_LANE_COMMANDS = {
    **{name: f"tui.cli_lanes:wt_{name}" for name in (
        "create", "list", "status", "diff", "keep", "unkeep", "remove", "restore", "archives",
        "archive", "run", "reconcile")},
    "merge": "tui.cli_merge:wt_merge", "sync": "tui.cli_merge:wt_sync",
    "prune-merged": "tui.cli_merge:wt_prune_merged"}


class LazyGroup(click.Group):
    """A group some of whose commands live in other modules, imported when run or
    listed (click's lazy group pattern): ``lazy`` maps a name to ``module:attribute``."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            import importlib
            module, attr = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


class _Group(LazyGroup):
    """Turns every WorklanesError, usage error and OS error into one line on stderr
    (``worklanes: <what>; <fix>``) and a non-zero exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (WorklanesError, OSError) as exc:
            ctx.exit(report(exc))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "worklanes"
            what = " ".join(exc.format_message().split()).rstrip(".")
            click.echo(f"worklanes: {what}; see `{where} --help`", err=True)
            code = exc.exit_code
        except click.ClickException as exc:
            click.echo(f"worklanes: {' '.join(exc.format_message().split())}", err=True)
            code = exc.exit_code
        except click.Abort:
            click.echo("worklanes: aborted", err=True)
            code = 1
        if not standalone:
            return code
        raise SystemExit(code if isinstance(code, int) else 0)


def _ws(ctx: click.Context):
    from core.workspace import Workspace
    return Workspace.open(ctx.obj.get("cwd"))


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print the stored object(s) as JSON (the seed's field names).")


def _json_text(obj: Any) -> str:
    import json
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)


def _dump(obj: Any) -> None:
    click.echo(_json_text(obj))


@click.group(cls=_Group, lazy=LAZY_COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "cwd", type=click.Path(file_okay=False, path_type=Path),
              help="Run as if started in this directory.")
@click.version_option(package_name="worklanes")
@click.pass_context
def main(ctx: click.Context, cwd: Path | None) -> None:
    """worklanes: one git worktree lane per task, a live board, an agent.

    With no command, opens the full-screen app on the repository of the current
    directory (also from inside a lane)."""
    ctx.ensure_object(dict)
    ctx.obj["cwd"] = cwd
    if ctx.invoked_subcommand is None:
        from tui.app import run_app
        run_app(Path(cwd or Path.cwd()))


@main.command()
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
def demo(path: Path | None) -> None:
    """Open the app on a throwaway demo repository (made in PATH or a temp folder)."""
    from tui.app import run_app
    from tui.demo import make_demo_repo
    root = make_demo_repo(path)
    click.echo(f"demo repository: {root}", err=True)
    run_app(root)


@main.group()
def config() -> None:
    """The user's settings ($XDG_CONFIG_HOME/worklanes/config.toml)."""


@config.command("check")
def config_check() -> None:
    """Check the config file (key remapping) and say what is wrong, one line each."""
    from tui.keys import read_user_keymap

    check = read_user_keymap()
    for problem in check.problems:
        click.echo(f"worklanes: {problem}", err=True)
    if check.problems:
        raise SystemExit(1)
    if not check.found:
        click.echo(f"no config file at {check.path}; the default keys apply")
    else:
        remapped = ", ".join(f"{k} = {v}" for k, v in sorted(check.keymap.items())) or "none"
        click.echo(f"{check.path}: OK (remapped: {remapped})")


# -- tasks ------------------------------------------------------------------------------
@main.group()
def task() -> None:
    """The task board (.tasks/)."""


def _print_task(t: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _dump(t)
    else:
        click.echo(present.task_line(t, {}))


@task.command("add")
@click.argument("subject")
@click.option("-d", "--description", default="", help="Longer description.")
@click.option("--owner", default="", help="Who works on it.")
@click.option("--blocked-by", "blocked_by", multiple=True, type=int, help="Task id it waits on (repeat for several).")
@json_option
@click.pass_context
def task_add(ctx, subject, description, owner, blocked_by, as_json):
    """Create a task."""
    _print_task(_ws(ctx).tasks.create(subject, description, owner=owner, blocked_by=blocked_by), as_json)


@task.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--owner")
@click.option("--ready", is_flag=True, help="Only pending tasks with no open blocker.")
@json_option
@click.pass_context
def task_list(ctx, status, owner, ready, as_json):
    """List tasks. Unreadable task files are reported (exit code 2) but never hide the rest."""
    # Streamed: a line is written as its task is read (a board of 50,000 is not held),
    # in chunks, not one click.echo each (which costs more than the reading).
    errors, shown, chunk = [], 0, []
    write = sys.stdout.write
    for item in _ws(ctx).tasks.stream(status=status, owner=owner, ready=ready):
        if not isinstance(item, tuple):
            errors.append(item)
            continue
        t, blockers = item
        if as_json:
            chunk.append(("[\n  " if not shown else ",\n  ") + _json_text(t).replace("\n", "\n  "))
        else:
            chunk.append(present.task_line(t, blockers=blockers) + "\n")
        shown += 1
        if len(chunk) >= 512:
            write("".join(chunk))
            chunk.clear()
    if as_json:
        chunk.append("\n]\n" if shown else "[]\n")
    elif not shown and not errors:
        chunk.append("No tasks.\n")
    write("".join(chunk))
    for err in errors:
        click.echo(f"worklanes: {err}", err=True)
    if errors:
        ctx.exit(2)


@task.command("show")
@click.argument("task_id", type=int)
@json_option
@click.pass_context
def task_show(ctx, task_id, as_json):
    """Show one task."""
    t = _ws(ctx).tasks.get(task_id)
    if as_json:
        _dump(t)
        return
    for key in ("id", "subject", "status", "owner", "worktree", "blockedBy", "blocks"):
        click.echo(f"{key:>11}: {t.get(key, '')}")
    if t.get("description"):
        click.echo(f"\n{t['description']}")
    if t.get("report"):
        click.echo(f"\nreport:\n{t['report']}")


@task.command("update")
@click.argument("task_id", type=int)
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--owner")
@click.option("--subject")
@click.option("-d", "--description")
@json_option
@click.pass_context
def task_update(ctx, task_id, status, owner, subject, description, as_json):
    """Change a task's status, owner, subject or description."""
    t = _ws(ctx).tasks.update(task_id, status=status, owner=owner, subject=subject,
                              description=description)
    _print_task(t, as_json)


@task.command("block")
@click.argument("task_id", type=int)
@click.option("--by", "by", type=int, required=True, help="The task it waits on.")
@json_option
@click.pass_context
def task_block(ctx, task_id, by, as_json):
    """Make TASK_ID wait on another task (cycles are refused)."""
    _print_task(_ws(ctx).tasks.block(task_id, by), as_json)


@task.command("unblock")
@click.argument("task_id", type=int)
@click.option("--by", "by", type=int, required=True)
@json_option
@click.pass_context
def task_unblock(ctx, task_id, by, as_json):
    """Remove a dependency."""
    _print_task(_ws(ctx).tasks.unblock(task_id, by), as_json)


# -- lanes ------------------------------------------------------------------------------
@main.group(cls=LazyGroup, lazy=LAZY_LANE_COMMANDS)
def wt() -> None:
    """Lanes: git worktrees bound to tasks (.worktrees/)."""


# -- events -----------------------------------------------------------------------------
@main.command()
@click.option("-n", "limit", default=20, show_default=True, type=click.IntRange(min=0),
              help="How many of the newest events (0 with -f: only new ones).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events as they are appended.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.pass_context
def events(ctx, limit, follow, as_json):
    """The lifecycle event log (.worktrees/events.jsonl)."""
    ws = _ws(ctx)
    import json
    show = (lambda e: click.echo(json.dumps(e, default=str))) if as_json else (lambda e: click.echo(present.event_line(e)))
    follower = ws.events.follower(from_end=True) if follow else None
    for e in ws.events.tail(limit):
        show(e)
    if follower is None:
        return
    from watchfiles import watch
    try:
        for _ in watch(ws.events.path.parent, recursive=False, debounce=50, step=20,
                       rust_timeout=1000, yield_on_timeout=True):
            for e in follower.poll():
                show(e)
    except KeyboardInterrupt:
        pass

