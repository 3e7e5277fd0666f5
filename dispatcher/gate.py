"""Fair shares of a worker process's delivery threads, per configuration.

A message's notifications (a fan-out) are delivered side by side on a small pool of threads. A receiver that
hangs would take every one of those threads for the whole time limit, one per message, long before its first
attempt ends and marks its configuration as failing. So each configuration may have at most ``cap`` of its
notifications handed to the pool at once. One more waits for a place; if the configuration's oldest running
attempt has gone on for ``slow_after`` seconds, the configuration is slow and the notification is not
handed over at all: the caller sends it to the retries lane instead. A fast receiver frees its places within
milliseconds and never notices the cap.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable


class Gate:
    def __init__(self, *, cap: int, slow_after: float, clock=time.monotonic):
        self.cap = max(1, cap)
        self.slow_after = slow_after
        self._clock = clock
        self._lock = threading.Lock()
        # Per key, on the one lock: a place came free (kept: one small object per configuration seen).
        self._freed: dict[Hashable, threading.Condition] = {}
        self._admitted: dict[Hashable, int] = {}  # handed to the pool and not finished, per key
        self._running: dict[Hashable, dict[object, float]] = {}  # started attempts' start times, per key

    def admit(self, key: Hashable, *, give_up_after: float = 0) -> bool:
        """Take a place for ``key``: True when taken (then call ``start`` and ``finish``), else False.

        While ``key`` holds all its places it waits, at most ``give_up_after`` seconds, for one to come free;
        it stops waiting (False) as soon as ``key``'s oldest running attempt is ``slow_after`` seconds old.
        """
        deadline = self._clock() + give_up_after
        with self._lock:
            while self._admitted.get(key, 0) >= self.cap:
                now = self._clock()
                if now >= deadline or self._slow(key, now):
                    return False
                oldest = min(self._running.get(key, {}).values(), default=now)
                # Woken by a place coming free or an attempt starting; else when the oldest would turn slow.
                wait = min(deadline - now, self.slow_after - (now - oldest))
                self._freed.setdefault(key, threading.Condition(self._lock)).wait(wait)
            self._admitted[key] = self._admitted.get(key, 0) + 1
            return True

    def _slow(self, key: Hashable, now: float) -> bool:
        oldest = min(self._running.get(key, {}).values(), default=None)
        return oldest is not None and now - oldest >= self.slow_after

    def start(self, key: Hashable, token: object) -> None:
        """The admitted work ``token`` of ``key`` has begun."""
        with self._lock:
            self._running.setdefault(key, {})[token] = self._clock()
            freed = self._freed.get(key)
            if freed is not None:
                freed.notify_all()  # the waiters' clock for slowness starts now

    def finish(self, key: Hashable, token: object) -> None:
        """The admitted work ``token`` of ``key`` is over: its place is free."""
        with self._lock:
            running = self._running.get(key, {})
            running.pop(token, None)
            if not running:
                self._running.pop(key, None)
            left = self._admitted.get(key, 0) - 1
            if left > 0:
                self._admitted[key] = left
            else:
                self._admitted.pop(key, None)
            freed = self._freed.get(key)
            if freed is not None:
                freed.notify()  # one place, one waiter

    def admitted(self, key: Hashable) -> int:
        with self._lock:
            return self._admitted.get(key, 0)
