"""The fake Messages API for benchmarks that time the app: in a process of its own, as the
real API is a remote server, so its threads do not share the app's GIL (an in-process
server's threads would be timed as the app's own work), or in this process to compare.

Both offer the same few calls the app benchmarks need: a reply per conversation (routed
by a key word of its first message) that stops at a gate until all are in flight and
notes when its first text delta goes out (time.perf_counter, which is CLOCK_MONOTONIC on
Linux and so comparable across processes).

    python -m tests.bench.remote_api     # serves; one JSON command a line on stdin
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class InProcess:
    """The fake server on threads of this process."""

    def __init__(self) -> None:
        from tests.fakeapi import FakeAPI

        self.api = FakeAPI()
        self._gate: Any = None
        self.sent: dict[str, list[float]] = defaultdict(list)

    def __enter__(self) -> "InProcess":
        self.api.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.api.stop()

    @property
    def url(self) -> str:
        return self.api.url

    def new_gate(self) -> None:
        self._gate = self.api.gate()

    def script(self, key: str, text: str, delay: float, gated: bool) -> None:
        from tests.bench.bench_lane_agents import StampedText
        from tests.fakeapi import Reply

        self.api.route(key).add(Reply([StampedText(text, self._gate if gated else None,
                                                   self.sent[key])], delay=delay))

    def wait_parked(self, n: int, timeout: float) -> bool:
        return self._gate.wait_parked(n, timeout)

    def open(self) -> None:
        self._gate.open()

    def stamps(self) -> dict[str, list[float]]:
        return self.sent

    def errors(self) -> list[str]:
        return list(self.api.errors)


class Remote:
    """The same calls, served by ``python -m tests.bench.remote_api`` in a child process."""

    def __enter__(self) -> "Remote":
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.bench.remote_api"],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.url = self._read()["url"]
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call("stop")
        except (OSError, ValueError):
            pass
        self.proc.wait(timeout=10)

    def _read(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake API process ended")
        return json.loads(line)

    def _call(self, op: str, **args: Any) -> dict[str, Any]:
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def new_gate(self) -> None:
        self._call("gate")

    def script(self, key: str, text: str, delay: float, gated: bool) -> None:
        self._call("script", key=key, text=text, delay=delay, gated=gated)

    def wait_parked(self, n: int, timeout: float) -> bool:
        return self._call("wait_parked", n=n, timeout=timeout)["ok"]

    def open(self) -> None:
        self._call("open")

    def stamps(self) -> dict[str, list[float]]:
        return self._call("stamps")["sent"]

    def errors(self) -> list[str]:
        return self._call("errors")["errors"]


def serve() -> None:
    with InProcess() as api:
        print(json.dumps({"url": api.url}), flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            op = cmd.pop("op")
            if op == "stop":
                print("{}", flush=True)
                break
            result = {"gate": api.new_gate, "script": api.script, "open": api.open,
                      "wait_parked": lambda **a: {"ok": api.wait_parked(**a)},
                      "stamps": lambda: {"sent": api.stamps()},
                      "errors": lambda: {"errors": api.errors()}}[op](**cmd)
            print(json.dumps(result or {}), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    serve()
