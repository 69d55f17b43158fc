"""Agent loop benchmark against the local fake Messages API (no network).

    python tests/bench/bench_agent.py [--runs N] [--rounds K]

1. First-token latency: from the fake server writing the first text_delta frame to the
   host's on_event receiving the TextDelta. Compared with the floor (a raw httpx2 read of
   the same SSE stream, no SDK) and the SDK alone (messages.stream, no agent loop).
2. Tool round trip: one user message whose reply asks for a cheap tool K times. The
   agent's wall time is compared with replaying the very same request bodies as bare
   HTTP requests (same server work, no SDK or loop) plus running the tool K times
   directly; the difference per round is the loop's overhead.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from core.agent import Agent, AgentConfig, TextDelta  # noqa: E402
from core.agent.tools import Toolbox  # noqa: E402
from core.workspace import Workspace  # noqa: E402
from tests.fakeapi import FakeAPI, Reply  # noqa: E402

KEY = "sk-bench-0000000000"
TEXT = "Sure - here is a short answer with a handful of words in it."


def make_repo() -> Path:
    root = Path(tempfile.mkdtemp(prefix="worklanes-bench-")) / "repo"
    root.mkdir()
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b", "PATH": "/usr/bin:/bin:/usr/local/bin"}
    (root / "README.md").write_text("# bench\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    return root


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def ms(v: float) -> str:
    return f"{v * 1000:8.2f}"


def raw_stream(http: httpx2.Client, url: str, body: dict, on_first_text=None) -> None:
    """Read one SSE response line by line, as cheaply as Python allows."""
    headers = {"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"}
    with http.stream("POST", f"{url}/v1/messages", json=body, headers=headers) as resp:
        first = True
        for line in resp.iter_lines():
            if first and "text_delta" in line:
                first = False
                if on_first_text:
                    on_first_text(time.perf_counter())


def bench_first_token(ws: Workspace, runs: int) -> list[tuple[str, list[float]]]:
    body = {"model": "bench", "max_tokens": 100, "stream": True,
            "messages": [{"role": "user", "content": "hi"}]}
    rows = []
    with FakeAPI() as api:
        # floor: raw httpx2
        http = httpx2.Client(timeout=30)
        seen: list[float] = []
        for _ in range(runs + 3):
            api.add(Reply([TEXT]))
            raw_stream(http, api.url, body, seen.append)
        http.close()
        rows.append(("raw httpx2 SSE read (floor)", _lat(api, seen)))

        # the SDK alone
        import anthropic
        client = anthropic.Anthropic(api_key=KEY, base_url=api.url, max_retries=0)
        seen = []
        start = len(api.first_text_sent_at)
        for _ in range(runs + 3):
            api.add(Reply([TEXT]))
            with client.messages.stream(model="bench", max_tokens=100,
                                        messages=body["messages"]) as s:
                got = False
                for ev in s:
                    if not got and ev.type == "content_block_delta":
                        got = True
                        seen.append(time.perf_counter())
        rows.append(("SDK messages.stream", _lat(api, seen, start)))

        # the agent: SDK + reader thread + queue + event to the host
        agent = Agent(ws, AgentConfig(api_key=KEY, base_url=api.url, model="bench"))
        seen = []
        start = len(api.first_text_sent_at)
        for _ in range(runs + 3):
            api.add(Reply([TEXT]))
            got = []

            def on_event(ev, got=got):
                if not got and isinstance(ev, TextDelta):
                    got.append(1)
                    seen.append(time.perf_counter())
            agent.history.clear()   # keep request bodies equal across runs
            agent.send("hi", on_event)
        rows.append(("agent loop -> host on_event", _lat(api, seen, start)))
    return rows


def _lat(api: FakeAPI, seen: list[float], start: int = 0) -> list[float]:
    sent = api.first_text_sent_at[start:start + len(seen)]
    return [s - t for s, t in zip(seen, sent)][3:]   # the first runs warm connections up


def bench_round_trips(ws: Workspace, rounds: int, repeats: int = 5) -> dict[str, float]:
    """Median of ``repeats`` runs of each path (interleaved, so noise hits all alike)."""
    import anthropic

    ws.tasks.create("bench task")
    tb = Toolbox(ws)
    times: dict[str, list[float]] = {"agent": [], "bare": [], "sdk": [], "tools": []}
    with FakeAPI() as api:

        def script():
            for _ in range(rounds):
                api.add_tool_use("task_get", {"task_id": 1})
            api.add_text("done")

        agent = Agent(ws, AgentConfig(api_key=KEY, base_url=api.url, model="bench",
                                      max_iterations=rounds + 1))
        http = httpx2.Client(timeout=30)
        client = anthropic.Anthropic(api_key=KEY, base_url=api.url, max_retries=0)
        bodies: list[dict] = []
        for i in range(repeats + 1):          # run 0 warms everything up
            script()
            agent.history.clear()
            first = len(api.requests)
            t0 = time.perf_counter()
            agent.send("go", lambda ev: None)
            t_agent = time.perf_counter() - t0
            bodies = [r.body for r in api.requests[first:]]

            script()                          # the same bodies, bare HTTP
            t0 = time.perf_counter()
            for body in bodies:
                raw_stream(http, api.url, body)
            t_bare = time.perf_counter() - t0

            script()                          # the same bodies, the SDK alone
            t0 = time.perf_counter()
            for body in bodies:
                with client.messages.stream(**{k: v for k, v in body.items()
                                               if k != "stream"}) as s:
                    s.get_final_message()
            t_sdk = time.perf_counter() - t0

            t0 = time.perf_counter()
            for _ in range(rounds):
                tb.run("task_get", {"task_id": 1})
            t_tools = time.perf_counter() - t0
            if i:
                for key, value in (("agent", t_agent), ("bare", t_bare), ("sdk", t_sdk),
                                   ("tools", t_tools)):
                    times[key].append(value)
        http.close()
    out = {k: statistics.median(v) for k, v in times.items()}
    return {**out, "requests": len(bodies), "rounds": rounds, "repeats": repeats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    ws = Workspace.open(make_repo())

    print(f"first-token latency: server writes first text_delta -> reader has it "
          f"({args.runs} runs, ms)")
    print(f"  {'path':40} {'p50':>8} {'p95':>8} {'max':>8}")
    rows = bench_first_token(ws, args.runs)
    for label, vals in rows:
        print(f"  {label:40} {ms(pct(vals, .5))} {ms(pct(vals, .95))} {ms(max(vals))}")
    floor, agent = rows[0][1], rows[-1][1]
    print(f"  agent over floor, p50: {ms(pct(agent, .5) - pct(floor, .5)).strip()} ms "
          f"(target: agent p95 < 20 ms)")

    r = bench_round_trips(ws, args.rounds)
    n = r["rounds"]
    print(f"\ntool round trip: one message, {n} task_get rounds, {r['requests']} requests "
          f"(median of {r['repeats']}, ms)")
    print(f"  {'':40} {'total':>8} {'/round':>8}")
    print(f"  {'agent turn':40} {ms(r['agent'])} {ms(r['agent'] / n)}")
    print(f"  {'bare HTTP, same bodies (floor)':40} {ms(r['bare'])} {ms(r['bare'] / n)}")
    print(f"  {'SDK alone, same bodies':40} {ms(r['sdk'])} {ms(r['sdk'] / n)}")
    print(f"  {'tool itself (Toolbox.run)':40} {ms(r['tools'])} {ms(r['tools'] / n)}")
    over = r["agent"] - r["bare"] - r["tools"]
    print(f"  {'overhead over floor (agent-bare-tool)':40} {ms(over)} {ms(over / n)}")
    loop = r["agent"] - r["sdk"] - r["tools"]
    print(f"  {'of which the loop (agent-SDK-tool)':40} {ms(loop)} {ms(loop / n)}")


if __name__ == "__main__":
    main()
