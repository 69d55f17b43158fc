"""One function over many items on a few threads, in order: what the lane commands need
of ``concurrent.futures``, without its import (it brings ``logging`` and more, ~8 ms of
every ``wt list``)."""

from __future__ import annotations

import threading
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def pmap(fn: Callable[[T], R], items: Iterable[T], workers: int = 8) -> list[R]:
    """``[fn(x) for x in items]``, run on up to ``workers`` threads; the first exception
    is raised once every thread has stopped."""
    todo = list(enumerate(items))
    if len(todo) <= 1 or workers <= 1:
        return [fn(x) for _, x in todo]
    results: list = [None] * len(todo)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        while not errors:
            with lock:
                if not todo:
                    return
                i, x = todo.pop(0)
            try:
                results[i] = fn(x)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                errors.append(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(workers, len(todo)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
