"""The queue of lane agents' approvals: each waits in its agent's thread until the user
answers it (the app's queue, the approvals list) or its turn ends. Kept apart from the
runner so the app can make its queue before its first paint without loading the agent
loop, its tools and the lane code."""

from __future__ import annotations

import threading
import time
from dataclasses import field
from typing import TYPE_CHECKING, Callable

from core.plain import record

if TYPE_CHECKING:
    # Only when an agent asks: the app makes its queue before its first paint, which
    # needs none of the agent's event types.
    from core.agent.events import ApprovalRequest, Decision


@record
class PendingApproval:
    id: int
    lane: str
    request: ApprovalRequest
    decision: Decision | None = None
    answered: threading.Event = field(default_factory=threading.Event)
    asked_at: float = field(default_factory=time.monotonic)   # how long it waits, for a host


class ApprovalQueue:
    """Approvals of background agents, answered whenever the user gets to them (the app's
    queue); use it as the runner's approver. Each waits in its agent's thread; cancelling
    that agent withdraws it (answered deny). ``on_change()`` is called, from the thread
    that changed it, whenever one is added or resolved."""

    def __init__(self, on_change: Callable[[], None] | None = None):
        self.on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self._pending: list[PendingApproval] = []
        self._ids = 0

    def __call__(self, lane: str, req: ApprovalRequest) -> Decision:
        with self._lock:
            self._ids += 1
            item = PendingApproval(self._ids, lane, req)
            self._pending.append(item)
        self._changed()
        item.answered.wait()
        from core.agent.events import Decision
        return item.decision or Decision.DENY

    def pending(self, lane: str | None = None) -> list[PendingApproval]:
        """Oldest first."""
        with self._lock:
            return [p for p in self._pending if lane is None or p.lane == lane]

    def answer(self, approval_id: int, decision: Decision) -> bool:
        with self._lock:
            item = next((p for p in self._pending if p.id == approval_id), None)
            if item is None:
                return False
            self._pending.remove(item)
        item.decision = decision
        item.answered.set()
        self._changed()
        return True

    def withdraw(self, lane: str) -> None:
        from core.agent.events import Decision
        for item in self.pending(lane):
            self.answer(item.id, Decision.DENY)

    def _changed(self) -> None:
        try:
            self.on_change()
        except Exception:
            pass   # a host's display bug must not hang an agent
