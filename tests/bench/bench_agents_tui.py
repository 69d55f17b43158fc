"""Lane agents in the app: 8 agents streaming at once into the running app, against one
agent alone, in the same run, against the local fake Messages API (no network).

    python tests/bench/bench_agents_tui.py [--rounds N] [--agents K] [--words W]
                                           [--server process|thread]

Measured, per case:
- the longest UI stall: the worst gap of a 10 ms timer on the app's loop while the
  agents stream (the chat pane draws the selected lane's agent, as a user would see it);
- first-token latency per agent: from the fake server writing a reply's first text
  delta to the app's UI loop handling that lane's first wake-up (the moment the app
  could draw it);
- the UI thread's CPU time over the same windows, as a share of one core: what the
  drawing costs, which the machine's load changes far less than it changes stalls.
Every round of the parallel case holds the K replies at a gate until all K are in
flight, then opens it, so their tokens really race each other. Targets: stall <= 50 ms,
first token p95 <= 20 ms with K at once. By default the gate opens as soon as the last
reply is in flight, while the app is still drawing the K turns starting; ``--ttft S``
opens it S seconds later, as a model's time to its first token would (0.3 s or more).

The fake server runs in a process of its own by default, as the real API is a remote
server (tests/bench/remote_api.py); ``--server thread`` runs it on threads of the app's
process, where its threads compete with the app for the GIL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_agent import KEY, make_repo, ms, pct  # noqa: E402
from tests.bench.remote_api import InProcess, Remote  # noqa: E402


def words(n: int) -> str:
    return " ".join(f"word{i}" + ("." if i % 12 == 11 else "") for i in range(n))


async def run(k: int, rounds: int, n_words: int, delay: float, hidden: bool = False,
              server: type = Remote, ttft: float = 0.0) -> tuple[list[float], list[float], float]:
    """(first-token latencies, per-round longest stalls) in seconds, and the UI thread's
    CPU time while the rounds streamed as a share of their wall time."""
    import os

    from core.agent import TextDelta
    from core.workspace import Workspace
    from tui.app import create_app
    from tui.messages import LaneOutput, LaneReplyStarted

    os.environ["ANTHROPIC_API_KEY"] = KEY
    root = make_repo()
    ws = Workspace.open(root)
    (root / ".worklanes.toml").write_text(f"[agent]\nmax_parallel = {k}\n")
    lanes = [(f"bench{i:02d}", ws.tasks.create(f"bench{i:02d} task")["id"]) for i in range(k)]
    got: dict[str, list[float]] = defaultdict(list)
    seen: set[str] = set()
    base: dict[str, int] = {}    # each lane's log length when the round began

    def hook(msg) -> None:
        # The first wake-up the UI loop handles after the round's first text delta: the
        # chat's, for the lane on screen; the app's, for the others.
        if isinstance(msg, (LaneOutput, LaneReplyStarted)) and msg.lane not in seen:
            log = app.lane_host.existing_log(msg.lane)
            items = log.items[base.get(msg.lane, 0):] if log else []
            if any(isinstance(i, TextDelta) for i in items):
                seen.add(msg.lane)
                got[msg.lane].append(time.perf_counter())

    stalls: list[float] = []
    cpu = wall = 0.0
    with server() as api:
        app = create_app(root, agent=False, base_url=api.url, policy="auto", user_keymap=False,
                         status_interval=0, cursor_blink=False)
        async with app.run_test(size=(140, 40), message_hook=hook) as pilot:
            while app.first_full_paint is None:
                await pilot.pause(0.01)
            runner = await asyncio.to_thread(app.lane_host.ensure)
            last = [time.perf_counter()]
            worst = [0.0]

            def tick() -> None:
                now = time.perf_counter()
                worst[0] = max(worst[0], now - last[0])
                last[0] = now
            timer = app.set_interval(0.01, tick)
            for r in range(rounds + 1):               # one warm-up round
                gated = k > 1
                if gated:
                    api.new_gate()
                await pilot.pause()
                seen.clear()
                for key, _ in lanes:
                    log = app.lane_host.existing_log(f"{key}-task")
                    base[f"{key}-task"] = len(log.items) if log else 0
                for key, _ in lanes:
                    api.script(key, words(n_words), delay, gated)

                def start() -> None:
                    for key, tid in lanes:
                        if r == 0:
                            runner.start_task(tid)
                        else:
                            runner.send(f"{key}-task", "again")
                await asyncio.to_thread(start)
                if gated:
                    ok = await asyncio.to_thread(api.wait_parked, k, 60)
                    assert ok, "replies did not all start"
                    if ttft:   # a model's time to its first token, after the last request
                        await asyncio.sleep(ttft)
                # Opened from a thread: the call waits on the server's answer, which is the
                # benchmark's own work, not a stall of the app.
                if gated:
                    opening = asyncio.ensure_future(asyncio.to_thread(api.open))
                last[0], worst[0] = time.perf_counter(), 0.0
                cpu0, opened = time.thread_time(), time.perf_counter()   # on the UI thread
                if gated:
                    await opening
                while runner.running():
                    await asyncio.sleep(0.02)
                if r:
                    stalls.append(worst[0])
                    cpu += time.thread_time() - cpu0
                    wall += time.perf_counter() - opened
                assert app.chat.shown_lane is not None or hidden, "no lane agent on screen"
            timer.stop()
        sent = api.stamps()
        assert api.errors() == [], api.errors()
    latencies = []
    for key, _ in lanes:
        lane = f"{key}-task"
        latencies += [g - s for s, g in zip(sent[key][1:], got[lane][1:])]
    return latencies, stalls, cpu / wall if wall else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--agents", type=int, default=8)
    ap.add_argument("--words", type=int, default=300)
    ap.add_argument("--delay", type=float, default=0.003, help="seconds between deltas")
    ap.add_argument("--server", choices=("process", "thread"), default="process",
                    help="where the fake API runs (default: a process of its own)")
    ap.add_argument("--ttft", type=float, default=0.0,
                    help="seconds the K replies wait, once all are in flight, before their "
                         "first tokens (default 0: at once, while the app is still drawing "
                         "the K turns starting; a real model takes 0.3 s or more)")
    args = ap.parse_args()
    k = args.agents
    server = Remote if args.server == "process" else InProcess
    solo_lat, solo_stall, solo_cpu = asyncio.run(run(1, args.rounds * k, args.words,
                                                     args.delay, server=server))
    many_lat, many_stall, many_cpu = asyncio.run(run(k, args.rounds, args.words, args.delay,
                                                     server=server, ttft=args.ttft))
    print(f"{k} lane agents streaming {args.words} words each into the app "
          f"({args.rounds} rounds; one alone: {args.rounds * k} rounds; fake API in "
          f"{'its own process' if server is Remote else 'this process'}"
          f"{f'; first tokens {args.ttft * 1000:.0f} ms after the last request' if args.ttft else ''})\n")
    print(f"  {'case':30} {'stall max':>9} {'median':>7} {'1st tok p50':>11} {'p95':>7} "
          f"{'max':>7} {'UI CPU':>7}")
    for label, lat, stall, cpu in (("one lane agent alone (floor)", solo_lat, solo_stall,
                                    solo_cpu),
                                   (f"{k} lane agents at once", many_lat, many_stall, many_cpu)):
        print(f"  {label:30} {ms(max(stall)):>9} {ms(statistics.median(stall)):>7} "
              f"{ms(pct(lat, .5)):>11} {ms(pct(lat, .95)):>7} {ms(max(lat)):>7} {cpu:7.0%}")
    print("  (ms; stall median: the median round's longest stall; UI CPU: the UI thread's CPU "
          "time while streaming, as a share of one core)")
    stall_ok = max(many_stall) <= 0.050
    tok_ok = pct(many_lat, .95) <= 0.020
    print(f"\n  target: longest stall <= 50 ms: {'met' if stall_ok else 'MISSED'}; "
          f"first token p95 <= 20 ms: {'met' if tok_ok else 'MISSED'}")


if __name__ == "__main__":
    main()
