"""`worklanes chat`: the agent without the app.

    worklanes chat "PROMPT"   one user message, streamed to stdout, then exit
    worklanes chat            a REPL (empty line, q or exit to leave)

Text streams to stdout as it arrives; each tool call is one line (``> bash: git status``)
and its outcome another (``  ok: ...`` / ``  error: ...`` / ``  denied``). Retries, errors
and the token usage go to stderr. Side-effecting tools ask on a terminal; without one they
are denied unless --yes. Ctrl-C cancels the running turn (in the REPL, the session goes
on). Exit codes: 0 done, 1 error (no key, API failure, not a repository), 130 cancelled.

Only click and core are imported here; the anthropic SDK loads on the first model call.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

import click

from core.agent import (Agent, AgentConfig, AgentError, ApprovalRequest, Decision, Retrying,
                        TextDelta, TextWithdrawn, ToolFinished, ToolStarted, TurnFinished)
from core.errors import WorklanesError
from core.safe_text import has_hidden, visible

EXIT_OK, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 130
_ABANDONED = -1   # a second Ctrl-C: the turn was left running in its thread


class Printer:
    """Turns agent events into terminal lines (called from the worker thread)."""

    def __init__(self, out=None, err=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.mid_line = False     # streamed text left the cursor mid-line
        self.col = 0              # the cursor's column on a terminal (for withdrawing)
        self.streaming_from: int | None = None   # column where the current reply began
        self.failed = False
        self.finished: TurnFinished | None = None

    def end_line(self) -> None:
        self.streaming_from = None
        if self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False
        self.col = 0

    def withdraw(self, text: str) -> None:
        """Take a failed attempt's words back. On a terminal they are erased (cursor up
        over the rows they took, clear to the end of the screen); a pipe cannot take
        bytes back, so stderr says plainly that they were not the answer."""
        start, self.streaming_from = self.streaming_from, None
        tty = getattr(self.out, "isatty", lambda: False)()
        if not tty or start is None:
            self.line(f"[withdrawn: the {len(text)} characters above broke off mid-reply and "
                      "are not part of the answer]", err=True)
            return
        import shutil
        width = max(shutil.get_terminal_size().columns, 1)
        rows, col = 0, start
        for ch in text:
            if ch == "\n":
                rows, col = rows + 1, 0
            elif col >= width:
                rows, col = rows + 1, 1
            else:
                col += 1
        self.out.write("\r" + "\x1b[A" * rows + (f"\x1b[{start}C" if start else "") + "\x1b[J")
        self.out.flush()
        self.col, self.mid_line = start, start > 0

    def line(self, text: str, err: bool = False) -> None:
        self.end_line()
        stream = self.err if err else self.out
        stream.write(text + "\n")
        stream.flush()

    def __call__(self, ev: Any) -> None:
        if isinstance(ev, TextDelta):
            if self.streaming_from is None:
                self.streaming_from = self.col
            text = visible(ev.text, keep="\n\t")   # model text must not drive the terminal
            self.out.write(text)
            self.out.flush()
            self.mid_line = not text.endswith("\n")
            tail = text.rsplit("\n", 1)
            self.col = len(tail[-1]) + (self.col if len(tail) == 1 else 0)
        elif isinstance(ev, TextWithdrawn):
            self.withdraw(visible(ev.text, keep="\n\t"))
        elif isinstance(ev, ToolStarted):
            summary = visible(" ".join(_tool_arg(ev.name, ev.input).split()))
            self.line(f"> {visible(ev.name)}: {summary[:120]}")
        elif isinstance(ev, ToolFinished):
            if ev.denied:
                self.line("  denied")
            elif ev.is_error:
                self.line(f"  error: {visible(ev.brief(100))}")
            else:
                self.line(f"  ok: {visible(ev.brief(100))}")
        elif isinstance(ev, Retrying):
            self.line(f"[retrying ({ev.attempt}/{ev.max_attempts}) in {ev.delay:.1f}s: "
                       f"{ev.reason}]", err=True)
        elif isinstance(ev, AgentError):
            self.failed = True
            self.line(f"worklanes: {visible(ev.message)}", err=True)
        elif isinstance(ev, TurnFinished):
            self.finished = ev
            self.end_line()
            if ev.stop_reason == "max_iterations":
                self.line("[stopped: tool round limit for one message reached; send another "
                           "message to continue]", err=True)
            elif ev.stop_reason == "cancelled":
                self.line("[cancelled]", err=True)
            u, s = ev.usage, ev.session_usage
            self.line(f"[tokens: in {u.input_tokens}, out {u.output_tokens}, cache read "
                       f"{u.cache_read_input_tokens}, cache write {u.cache_creation_input_tokens}"
                       f" | session total {s.total}]", err=True)


def _tool_arg(name: str, args: dict[str, Any]) -> str:
    """The most telling argument of a call, for the one-line view."""
    for key in ("command", "path", "name", "subject", "task_id"):
        if key in args:
            value = str(args[key])
            if name == "worktree_run" and key == "command":
                value = f"[{args.get('name')}] {value}"
            return value
    return ", ".join(f"{k}={v}" for k, v in args.items()) or "-"


class TerminalApprover:
    """Asks on the terminal; denies (and says why) when there is none."""

    def __init__(self, printer: Printer, interactive: bool):
        self.printer = printer
        self.interactive = interactive
        self.warned = False

    def __call__(self, req: ApprovalRequest) -> Decision:
        if not self.interactive:
            if not self.warned:
                self.warned = True
                self.printer.line("worklanes: no terminal to ask for approval; side-effecting "
                                   "tools are denied (pass --yes to allow them)", err=True)
            return Decision.DENY
        err = self.printer.err
        err.write(approval_prompt(req))
        err.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return Decision.ALLOW_ONCE
        if answer in ("a", "always"):
            return Decision.ALLOW_SESSION
        return Decision.DENY


def approval_prompt(req: ApprovalRequest) -> str:
    """The question as the terminal shows it: every control character and escape sequence
    in what the model wrote is shown escaped (an ESC[2K must not erase the line it is on),
    and a command that does not fit the one-line summary is printed in full above it."""
    where = f" (lane {visible(req.lane)})" if req.lane else ""
    command = str(req.input.get("command", ""))
    head = ""
    if has_hidden(command) or len(command) > 150:
        head = "".join(f"    {ln}\n" for ln in visible(command, keep="\n").split("\n"))
    return f"{head}Allow {visible(req.summary)}{where}? [y]es once / [a]lways / [n]o "


def in_worker(fn: Callable[[], Any], on_interrupt: Callable[[], None], name: str,
              grace: float | None = None) -> Any:
    """``fn()`` in a worker thread, so Ctrl-C in the main thread can ask it to stop: the
    first Ctrl-C calls ``on_interrupt``, a second stops waiting (returns _ABANDONED).
    What ``fn`` raises is raised here. ``grace``: after the first Ctrl-C, stop waiting
    after that many seconds too."""
    result: dict[str, Any] = {}
    # Waited for on an Event, not Thread.join: a Ctrl-C inside join can leave Python 3.11
    # believing a thread that still runs has ended (bpo-45274's fix releases its lock).
    done = threading.Event()

    def work() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # a bug: report it on the main thread
            result["exc"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name=name, daemon=True).start()
    interrupted = False
    deadline = None
    while not done.is_set():
        try:
            done.wait(timeout=0.1)
        except KeyboardInterrupt:
            if interrupted:   # a second Ctrl-C (e.g. at an approval prompt): stop waiting
                return _ABANDONED
            interrupted = True
            on_interrupt()
            if grace is not None:
                deadline = time.monotonic() + grace
        if deadline is not None and time.monotonic() > deadline:
            return _ABANDONED   # what was asked to stop did not: leave rather than hang
    if "exc" in result:
        raise result["exc"]
    return result["value"]


def run_turn(agent: Agent, text: str, printer: Printer) -> int:
    """One user message in a worker thread, so Ctrl-C in the main thread can cancel it."""
    cancel = threading.Event()
    finished = in_worker(lambda: agent.send(text, printer, cancel), cancel.set, "worklanes-chat")
    if finished is _ABANDONED or _await_lane_agents(agent) is _ABANDONED:
        return _ABANDONED
    if finished.stop_reason == "cancelled":
        return EXIT_CANCELLED
    if finished.stop_reason == "error" or printer.failed:
        return EXIT_ERROR
    return EXIT_OK


def host_lane_agents(agent: Agent, ws: Any, config: AgentConfig) -> None:
    """Let the board agent delegate: lane agents it starts print prefixed lines here."""
    from core.agent.lane_agent import LaneAgents
    from tui.dispatch_cli import LaneApprover, LanePrinter
    printer = LanePrinter()
    agent.tools.lane_agents = LaneAgents(ws, config, printer, LaneApprover(printer)
                                         if sys.stdin.isatty() else None)


def _await_lane_agents(agent: Agent) -> Any:
    """Lane agents the turn started run to their end before the next prompt (their
    approvals need the terminal the prompt would read); Ctrl-C cancels them."""
    runner = getattr(agent.tools, "lane_agents", None)
    if runner is None or not runner.running():
        return None
    click.echo(f"[waiting for {len(runner.running())} lane agent(s); Ctrl-C cancels them]",
               err=True)
    return in_worker(runner.wait, runner.cancel_all, "worklanes-chat-lanes")


def _fail(message: str) -> None:
    click.echo(f"worklanes: {message}", err=True)
    sys.exit(EXIT_ERROR)


def open_agent(ctx: click.Context, model: str | None, base_url: str | None, yes: bool):
    """(workspace, agent config) for an agent command; exits with one line without a key."""
    from core.workspace import Workspace
    obj = ctx.find_root().obj   # `worklanes -C DIR chat` runs as if started in DIR
    ws = Workspace.open(obj.get("cwd") if isinstance(obj, dict) else None)
    config = AgentConfig.load(ws.root, model=model, base_url=base_url,
                              policy="auto" if yes else "ask")
    if not config.has_key:
        _fail(config.missing_key_message())
    return ws, config


@click.command()
@click.argument("prompt", required=False)
@click.option("--yes", "-y", is_flag=True, help="Allow side-effecting tools without asking "
              "(approval policy auto).")
@click.option("--model", "-m", metavar="MODEL", help="Model id (default: MODEL_ID or "
              "claude-sonnet-4-6).")
@click.option("--resume", "-r", is_flag=True, help="Continue the last saved conversation.")
@click.option("--lane", "-l", metavar="NAME", help="Bind the agent to a lane: its file tools "
              "and bash act only inside that worktree, its lane tools only on that lane, "
              "its task updates only on the lane's task; continues the lane agent's "
              "conversation.")
@click.option("--base-url", metavar="URL", help="API base URL (default: ANTHROPIC_BASE_URL).")
@click.pass_context
def chat(ctx: click.Context, prompt: str | None, yes: bool, model: str | None, resume: bool,
         lane: str | None, base_url: str | None) -> None:
    """Talk to the agent: one PROMPT, or a REPL without one.

    Configured by ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL and MODEL_ID, from the
    environment or the repository's .env (the environment wins; flags win over both)."""
    from core.agent.lane_state import lane_session
    from core.agent.transcript import cut_off
    try:
        ws, config = open_agent(ctx, model, base_url, yes)
        printer = Printer()
        approver = TerminalApprover(printer, sys.stdin.isatty())
        if resume:
            agent = Agent.resume_last(ws, config, approver, lane=lane)
        else:   # a lane whose agent has a conversation continues it
            agent = Agent(ws, config, approver, lane=lane,
                          session_id=lane_session(ws, lane) if lane else None)
        if agent.lane is None:
            host_lane_agents(agent, ws, config)
    except WorklanesError as exc:
        _fail(str(exc))
    where = f", lane {agent.lane}" if agent.lane else ""
    resumed = f", resumed with {len(agent.history)} messages" if agent.history else ""
    click.echo(f"[worklanes chat: model {config.model}{where}, session {agent.session_id}"
               f"{resumed}]", err=True)
    for call in cut_off(agent.history):   # the app's lane view says the same
        click.echo(f"[interrupted: {agent.tools.summary(call.get('name', '?'), call.get('input') or {})}"
                   " - the agent stopped before this call finished; your message resumes it]",
                   err=True)
    if prompt is not None:
        if not prompt.strip():
            _fail("the prompt is empty")
        code = run_turn(agent, prompt, printer)
        sys.exit(EXIT_CANCELLED if code == _ABANDONED else code)
    sys.exit(_repl(agent, printer))


def _repl(agent: Agent, printer: Printer) -> int:
    code = EXIT_OK
    tty = sys.stdin.isatty()
    while True:
        try:
            if tty:
                line = input("worklanes >> ")
            else:
                line = sys.stdin.readline()
                if not line:
                    break
        except (EOFError, KeyboardInterrupt):
            if tty:
                click.echo("", err=True)
            break
        text = line.strip()
        if text.lower() in ("", "q", "quit", "exit"):
            if not tty and text == "":
                continue   # blank lines in piped input are not a request to leave
            break
        printer.failed = False
        code = run_turn(agent, text, printer)
        if code == _ABANDONED:
            return EXIT_CANCELLED
    return code if code != EXIT_CANCELLED else EXIT_OK
