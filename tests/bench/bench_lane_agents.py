"""Lane agents benchmark: first-token latency of 8 agents streaming at once, against one
agent alone, in the same run, against the local fake Messages API (no network).

    python tests/bench/bench_lane_agents.py [--rounds N] [--agents K]

Latency is from the fake server writing a reply's first text_delta frame to the host's
on_event receiving that agent's first TextDelta (through LaneAgents, as the CLI and the
app receive it). In the parallel case every round holds the K replies at a gate until
all K are in flight, then opens it, so their first tokens really race each other; the
solo case runs one agent the same number of times. Target: parallel p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.agent import AgentConfig, TextDelta  # noqa: E402
from core.agent.lane_agent import LaneAgents  # noqa: E402
from core.agent.config import LaneAgentConfig  # noqa: E402
from core.workspace import Workspace  # noqa: E402
from tests.bench.bench_agent import KEY, TEXT, make_repo, ms, pct  # noqa: E402
from tests.fakeapi import FakeAPI, Gate, Reply, Text  # noqa: E402


class _GatedChunks(list):
    """A reply's deltas that wait at ``gate`` (if any) before the first goes out."""

    def __init__(self, chunks, gate: Gate | None):
        super().__init__(chunks)
        self.gate = gate

    def __iter__(self):
        for i, chunk in enumerate(list.__iter__(self)):
            if i == 0 and self.gate is not None:
                self.gate._park()
            yield chunk


class StampedText(Text):
    """Text whose first delta waits at ``gate``; the server notes in ``stamps`` when that
    delta is written (Text.sent_at)."""

    def __init__(self, text: str, gate: Gate | None, stamps: list[float]):
        super().__init__(text, sent_at=stamps)
        self.gate = gate

    def chunks(self):
        return _GatedChunks(super().chunks(), self.gate)


def run(k: int, rounds: int) -> list[float]:
    """Latencies (s) of ``k`` lane agents started together, ``rounds`` times."""
    ws = Workspace.open(make_repo())
    sent: dict[str, list[float]] = defaultdict(list)
    got: dict[str, list[float]] = defaultdict(list)
    first_seen: set[str] = set()
    lock = threading.Lock()

    def on_event(lev) -> None:
        if isinstance(lev.event, TextDelta):
            now = time.perf_counter()
            with lock:
                if lev.lane not in first_seen:
                    first_seen.add(lev.lane)
                    got[lev.lane].append(now)

    with FakeAPI() as api:
        config = AgentConfig(api_key=KEY, base_url=api.url, model="bench", policy="auto")
        agents = LaneAgents(ws, config, on_event, settings=LaneAgentConfig(max_parallel=k))
        lanes = []
        for i in range(k):
            task = ws.tasks.create(f"bench{i:02d} task")
            lanes.append((f"bench{i:02d}", task["id"]))
        for r in range(rounds + 2):            # two warm-up rounds
            gate = api.gate() if k > 1 else None
            first_seen.clear()
            for key, _ in lanes:
                api.route(key).add(Reply([StampedText(TEXT, gate, sent[key])]))
            for key, tid in lanes:
                if r == 0:
                    agents.start_task(tid)
                else:
                    agents.send(f"{key}-task", "again")
            if gate is not None:
                assert gate.wait_parked(k, timeout=60), "replies did not all start"
                gate.open()
            assert agents.wait(timeout=60)
        assert api.errors == [], api.errors
    out = []
    for key, _ in lanes:
        out += [g - s for s, g in zip(sent[key][2:], got[f"{key}-task"][2:])]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--agents", type=int, default=8)
    args = ap.parse_args()
    k = args.agents
    solo = run(1, args.rounds * k)
    many = run(k, args.rounds)
    print(f"first-token latency: server writes first text_delta -> host on_event (ms; "
          f"{len(many)} samples each)")
    print(f"  {'case':40} {'p50':>8} {'p95':>8} {'max':>8}")
    for label, vals in (("one lane agent alone (floor)", solo),
                        (f"{k} lane agents streaming at once", many)):
        print(f"  {label:40} {ms(pct(vals, .5))} {ms(pct(vals, .95))} {ms(max(vals))}")
    verdict = "met" if pct(many, .95) <= 0.020 else "MISSED"
    print(f"  target: {k} at once p95 <= 20 ms: {verdict}")


if __name__ == "__main__":
    main()
