"""`worklanes dispatch`: lane agents without the app.

    worklanes dispatch [TASK_ID...] [--max N] [--yes] [--json]

Runs a lane agent for each given task (default: every ready task), at most N at once,
and the tasks their completions unblock. One line per event, prefixed with the lane
(``[auth] > bash: pytest -x``); streamed text comes a line at a time. ``--json``: one
JSON object per event instead, then a summary object. Approvals ask on a terminal, one
prompt at a time, naming the lane (other lanes' lines wait until it is answered); without
a terminal they are denied unless --yes. Ctrl-C cancels every agent (their histories stay
valid); a second one leaves at once. Exit codes: 0 every agent ended its turn without
error, 1 otherwise, 130 cancelled.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from dataclasses import asdict, is_dataclass, replace
from typing import Any

import click

from core.agent import (AgentError, ApprovalRequest, Decision, Retrying, TextDelta,
                        ToolFinished, ToolStarted, TurnFinished)
from core.errors import WorklanesError
from tui.chat_cli import (_ABANDONED, EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, TerminalApprover, _fail,
                          _tool_arg, in_worker, open_agent)

FINAL_STATES = ("done", "failed", "cancelled")


def _kind(ev: Any) -> str:
    if isinstance(ev, TextDelta):
        return "text"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(ev).__name__).lower()


class LanePrinter:
    """Turns LaneEvents from many agent threads into whole lines, one writer at a time."""

    def __init__(self, as_json: bool = False, out=None, err=None):
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._lock = threading.RLock()
        self._partial: dict[str, str] = {}    # streamed text not yet ended by a newline
        self._started: dict[str, Any] = {}    # lane -> started_at of the turn announced
        self._held: list[str] | None = None   # lines that wait while a prompt is open

    # -- writing ---------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        if self._held is not None:
            self._held.append(text)
            return
        self.out.write(text + "\n")
        self.out.flush()

    def line(self, text: str, err: bool = False) -> None:
        """A line of the CLI's own (TerminalApprover's notes go here)."""
        with self._lock:
            stream = self.err if err else self.out
            stream.write(text + "\n")
            stream.flush()

    def hold(self) -> None:
        with self._lock:
            self._held = []

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
            for text in held:
                self._write(text)

    def _emit(self, lane: str, task_id: Any, ev: Any, line: str, **fields: Any) -> None:
        if self.as_json:
            self._write(json.dumps({"lane": lane, "task_id": task_id, "event": _kind(ev),
                                    **fields}, ensure_ascii=False, default=str))
        else:
            self._write(f"[{lane}] {line}")

    def _flush_text(self, lane: str, task_id: Any) -> None:
        rest = self._partial.pop(lane, "")
        if rest.strip():
            self._emit(lane, task_id, TextDelta(""), rest, text=rest)

    # -- events ------------------------------------------------------------------------------
    def __call__(self, lev: Any) -> None:
        with self._lock:
            self._event(lev.lane, lev.task_id, lev.event)

    def _event(self, lane: str, tid: Any, ev: Any) -> None:
        from core.agent.lane_agent import ApprovalAnswered, ApprovalAsked, StateChanged
        from core.dispatch import Dispatched, NotStarted
        if isinstance(ev, TextDelta):
            text = self._partial.get(lane, "") + ev.text
            *lines, self._partial[lane] = text.split("\n")
            for ln in lines:
                self._emit(lane, tid, ev, ln, text=ln)
            return
        self._flush_text(lane, tid)
        if isinstance(ev, ToolStarted):
            arg = " ".join(_tool_arg(ev.name, ev.input).split())[:120]
            self._emit(lane, tid, ev, f"> {ev.name}: {arg}", tool=ev.name, input=ev.input)
        elif isinstance(ev, ToolFinished):
            word = "denied" if ev.denied else "error" if ev.is_error else "ok"
            self._emit(lane, tid, ev, f"  {word}: {ev.brief(100)}", tool=ev.name,
                       output=ev.output, is_error=ev.is_error, denied=ev.denied)
        elif isinstance(ev, Retrying):
            self._emit(lane, tid, ev, f"[retrying ({ev.attempt}/{ev.max_attempts}) in "
                       f"{ev.delay:.1f}s: {ev.reason}]", **asdict(ev))
        elif isinstance(ev, AgentError):
            self._emit(lane, tid, ev, f"error: {ev.message}", message=ev.message)
        elif isinstance(ev, TurnFinished):
            if self.as_json:
                self._emit(lane, tid, ev, "", stop_reason=ev.stop_reason,
                           usage=asdict(ev.usage), session_usage=asdict(ev.session_usage))
        elif isinstance(ev, StateChanged):
            self._state(lane, tid, ev)
        elif isinstance(ev, (ApprovalAsked, ApprovalAnswered)):
            req = ev.request
            if self.as_json:
                self._emit(lane, tid, ev, "", tool=req.tool, summary=req.summary,
                           **({"decision": ev.decision} if isinstance(ev, ApprovalAnswered) else {}))
            elif isinstance(ev, ApprovalAnswered):
                self._emit(lane, tid, ev, f"approval {ev.decision}: {req.summary}")
        elif isinstance(ev, Dispatched):
            how = " (lane created)" if ev.created else ""
            self._emit(lane, tid, ev, f"dispatched task #{ev.task_id}{how}", created=ev.created)
        elif isinstance(ev, NotStarted):
            self._emit(lane, tid, ev, f"not started: {ev.reason}", reason=ev.reason)
        elif is_dataclass(ev):
            self._emit(lane, tid, ev, _kind(ev), **asdict(ev))

    def _state(self, lane: str, tid: Any, ev: Any) -> None:
        rec = ev.record
        if self.as_json:
            if ev.state in ("running", "waiting", *FINAL_STATES):
                self._emit(lane, tid, ev, "", state=ev.state, agent=rec)
            return
        tokens = rec.get("tokens") or {}
        used = f"tokens in {tokens.get('input', 0)}, out {tokens.get('output', 0)}"
        if ev.state == "running" and self._started.get(lane) != rec.get("started_at"):
            self._started[lane] = rec.get("started_at")   # once a turn, not after each approval
            self._emit(lane, tid, ev, f"agent running (session {rec.get('session')})")
        elif ev.state in FINAL_STATES:
            why = f": {rec['error']}" if rec.get("error") else ""
            self._emit(lane, tid, ev, f"{ev.state}{why} ({used})")


class LaneApprover:
    """Asks on the terminal, one prompt at a time, naming the agent's lane; other lanes'
    output waits while a prompt is open so it cannot bury it."""

    def __init__(self, printer: LanePrinter):
        self.printer = printer
        self.ask = TerminalApprover(printer, interactive=True)   # type: ignore[arg-type]
        self._one_at_a_time = threading.Lock()

    def __call__(self, lane: str, req: ApprovalRequest) -> Decision:
        with self._one_at_a_time:
            self.printer.hold()
            try:
                return self.ask(replace(req, lane=req.lane or lane))
            finally:
                self.printer.release()


def summary(result: Any, printer: LanePrinter) -> None:
    runs = [{"task_id": tid, "lane": r.lane, "state": r.state, "error": r.error,
             "session": r.agent.session_id, "tokens": r.tokens()}
            for tid, r in result.runs.items()]
    if printer.as_json:
        printer._write(json.dumps({"event": "summary", "ok": result.ok, "stopped": result.stopped,
                                   "runs": runs, "not_started": {str(k): v for k, v in
                                                                 result.not_started.items()}}))
        return
    if not runs and not result.not_started:
        printer.line("worklanes: nothing to dispatch: no task is ready", err=True)
    done = sum(r["state"] == "done" and not r["error"] for r in runs)
    printer.line(f"[dispatch: {len(runs)} agent(s), {done} done, {len(runs) - done} not, "
                 f"{len(result.not_started)} task(s) not started]", err=True)


@click.command()
@click.argument("task_ids", nargs=-1, type=int)
@click.option("--max", "max_parallel", type=click.IntRange(min=1), metavar="N",
              help="Lane agents at once (default: [agent] max_parallel, 4).")
@click.option("--yes", "-y", is_flag=True, help="Allow side-effecting tools without asking.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
@click.option("--model", "-m", metavar="MODEL", help="Model id (default: MODEL_ID).")
@click.option("--base-url", metavar="URL", help="API base URL (default: ANTHROPIC_BASE_URL).")
@click.pass_context
def dispatch(ctx: click.Context, task_ids: tuple[int, ...], max_parallel: int | None,
             yes: bool, as_json: bool, model: str | None, base_url: str | None) -> None:
    """Run a lane agent for each TASK_ID (default: every ready task), and for the tasks
    their completions make ready."""
    from core.agent.lane_agent import LaneAgents
    from core.agent.config import load_lane_agent_config
    from core.dispatch import Dispatcher
    printer = LanePrinter(as_json)
    try:
        ws, config = open_agent(ctx, model, base_url, yes)
        settings = load_lane_agent_config(ws.root)
        if max_parallel:
            settings = replace(settings, max_parallel=max_parallel)
        approver = LaneApprover(printer) if sys.stdin.isatty() and not yes else None
        agents = LaneAgents(ws, config, printer, approver, settings)
        dispatcher = Dispatcher(agents, list(task_ids) or None)
        for tid in task_ids:
            ws.tasks.get(tid)   # an unknown id: one line, nothing started
    except WorklanesError as exc:
        _fail(str(exc))
    sys.exit(_run(dispatcher, printer))


def _run(dispatcher: Any, printer: LanePrinter) -> int:
    def stop() -> None:
        printer.line("[cancelling every lane agent...]", err=True)
        dispatcher.stop()

    try:
        # Cancelled agents stop at their next read; one that does not within the grace
        # is left to read as interrupted (its history is valid) rather than hang the exit.
        result = in_worker(dispatcher.run, stop, "worklanes-dispatch", grace=20.0)
    except WorklanesError as exc:
        printer.line(f"worklanes: {exc}", err=True)
        return EXIT_ERROR
    if result is _ABANDONED:   # a second Ctrl-C: leave now; running agents read as interrupted
        return EXIT_CANCELLED
    summary(result, printer)
    if result.stopped:
        return EXIT_CANCELLED
    return EXIT_OK if result.ok else EXIT_ERROR
