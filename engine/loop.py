"""The engine of a worker process: one asyncio event loop, on a thread of its own, that keeps hundreds of POSTs in
flight and holds no database connection while they fly.

How it runs, top to bottom:

1. A doorbell (``engine.tasks.doorbell``, a Celery message on a lane's queue) wakes the lane's loop here.
2. The lane's loop claims a batch of due notifications of that lane (``batches.claim``, on one of the engine's
   two database threads), as many as the worker has room for, and launches a POST for each.
3. Every POST runs on the event loop (``transport.Client``); its configuration and its host each have a fair
   share of the worker (``Shares``): a configuration with no place left is skipped by the claim itself, so a
   slow receiver only ever waits on its own notifications. One whose oldest POST has run ``SLOW_AFTER`` with no
   place left has its waiting notifications moved to the retries lane.
4. Each answer is decided (``attempts.conclude``) and queued; the queue is saved a batch at a time
   (``batches.save``: one statement for up to ``RECORD_BATCH`` attempts).
5. A freed place wakes the lanes that had more work; a retry due soon in a lane served here wakes that lane at
   its time; the beat sweep rings every lane with due work, so nothing depends on this process staying alive.

A worker killed mid-POST loses nothing: the claims it held run out, and the next claim records the attempts it
was making as interrupted, then makes the next ones.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from django.utils import timezone

from dispatcher import metrics
from engine import attempts, batches, transport
from engine.attempts import Outcome, Send
from engine.conf import DispatcherSettings, dispatcher_settings
from history import lanes

log = structlog.get_logger(__name__)

RECORD_WAIT = 0.01  # seconds an answer may wait for others to be saved with it
REFILL_WAIT = 0.01  # seconds freed places gather before the lanes claim again
HOUSEKEEPING_EVERY = 0.25
DB_THREADS = 2  # database connections of the engine: one claims while the other saves

_rng = random.SystemRandom()


def limits_for(conf: DispatcherSettings) -> transport.Limits:
    return transport.Limits(
        connect_timeout=conf.connect_timeout,
        read_timeout=conf.read_timeout,
        total_timeout=conf.total_timeout,
        max_response_bytes=conf.response_max_bytes,
        addresses=transport.policy_for(conf),
    )


class Shares:
    """The POSTs in flight in this worker, per configuration and per host, against their caps."""

    def __init__(self, *, per_configuration: int, per_host: int):
        self.per_configuration = per_configuration
        self.per_host = per_host
        self.running: dict[int, dict[int, float]] = {}  # configuration -> {send id: started (monotonic)}
        self.hosts: dict[str, int] = {}
        self.host_of: dict[int, str] = {}  # configuration -> its host, as last seen
        self.owner_of: dict[int, int] = {}  # configuration -> its owner, as last seen

    def places(self) -> dict[int, int]:
        """Places left per configuration with POSTs in flight (or on a host with no place left)."""
        left = {pk: self.per_configuration - len(running) for pk, running in self.running.items()}
        for pk, host in self.host_of.items():
            if self.hosts.get(host, 0) >= self.per_host:
                left[pk] = 0
        return left

    def host_full(self, host: str) -> bool:
        return self.hosts.get(host, 0) >= self.per_host

    def start(self, send: Send) -> None:
        self.running.setdefault(send.configuration_id, {})[id(send)] = time.monotonic()
        self.hosts[send.host] = self.hosts.get(send.host, 0) + 1
        self.host_of[send.configuration_id] = send.host
        self.owner_of[send.configuration_id] = send.claimed.owner_id

    def finish(self, send: Send) -> None:
        running = self.running.get(send.configuration_id, {})
        running.pop(id(send), None)
        if not running:
            self.running.pop(send.configuration_id, None)
        left = self.hosts.get(send.host, 0) - 1
        if left > 0:
            self.hosts[send.host] = left
        else:
            self.hosts.pop(send.host, None)

    def slow(self, *, after: float, now: float) -> list[int]:
        """Configurations with no place left whose oldest POST has run ``after`` seconds."""
        return [
            pk
            for pk, running in self.running.items()
            if len(running) >= self.per_configuration and now - min(running.values()) >= after
        ]


@dataclass
class _Lane:
    name: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    hungry: bool = False  # the last claim was cut short by room or batch size: more may be due
    blocked: set[int] = field(default_factory=set)  # configurations held back by their share at the last claim
    refill: bool = False  # a place it waits for came free: claim again
    task_id: str = ""  # the doorbell that woke it last
    timer: asyncio.TimerHandle | None = None
    timer_at: float = 0.0
    rang_others_at: float = 0.0


class Engine:
    def __init__(self, conf: DispatcherSettings | None = None):
        self.conf = conf or dispatcher_settings()
        self.limits = limits_for(self.conf)
        self.shares = Shares(per_configuration=self.conf.configuration_concurrency, per_host=self.conf.host_concurrency)
        self.in_flight = 0
        self.claiming = 0  # places asked for by claims on their way
        self.stopping = False
        self.loop = asyncio.new_event_loop()
        self.db = _DatabaseThreads()
        self.lanes: dict[str, _Lane] = {}
        self.host_queue: dict[str, deque[tuple[float, Send]]] = {}
        self.pending: list[Outcome] = []
        self.saving: set[asyncio.Task] = set()
        self.posting: set[asyncio.Task] = set()
        self.flush_handle: asyncio.TimerHandle | None = None
        self.refill_handle: asyncio.TimerHandle | None = None
        self.rerouted: dict[int, float] = {}
        self.background: set[asyncio.Task] = set()  # the lanes' loops and the housekeeping
        self.client: transport.Client | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)

    # --- From other threads ---------------------------------------------------------------------------------

    def start(self) -> Engine:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the delivery engine did not start")
        return self

    def ring(self, lane: str, *, task_id: str = "") -> None:
        """Lane ``lane`` has due work (thread-safe)."""
        self.loop.call_soon_threadsafe(self._wake, lane, task_id)

    def stop(self, *, timeout: float | None = None) -> None:
        """Stop claiming, let the POSTs in flight end (within their time limits) and save them (thread-safe)."""
        if not self._thread.is_alive():
            return
        timeout = timeout if timeout is not None else self.conf.connect_timeout + self.conf.total_timeout + 2
        future = asyncio.run_coroutine_threadsafe(self._drain(timeout), self.loop)
        try:
            future.result(timeout + 30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.db.shutdown()

    # --- On the loop ------------------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.create_task(self._begin())
        self.loop.run_forever()

    async def _begin(self) -> None:
        self.client = transport.Client(self.limits.addresses)  # its connection pool belongs to this loop
        self.background.add(self.loop.create_task(self._housekeeping()))
        self._ready.set()

    def _wake(self, name: str, task_id: str = "") -> None:
        if self.stopping:
            return
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = _Lane(name)
            self.background.add(self.loop.create_task(self._run_lane(lane)))
        if task_id:
            lane.task_id = task_id
        lane.wake.set()

    async def _run_lane(self, lane: _Lane) -> None:
        while not self.stopping:
            await lane.wake.wait()
            lane.wake.clear()
            if self.stopping:
                return
            room = self.conf.concurrency - self.in_flight - self.claiming
            if room <= 0:
                lane.hungry = True  # a freed place wakes it
                continue
            limit = min(room, self.conf.claim_batch)
            places = self.shares.places()
            self.claiming += limit  # another lane claiming meanwhile counts these places as taken
            try:
                sends = await self.db.run(
                    batches.claim, lane=lane.name, limit=limit, places=places, conf=self.conf, task_id=lane.task_id
                )
            except Exception:  # noqa: BLE001 - the database away: the sweep rings again later
                log.exception("claim_failed_will_retry", lane=lane.name)
                self._wake_later(lane, self.conf.sweep_interval)
                continue
            finally:
                self.claiming -= limit
            # Cut short by the batch (more may be due: any freed place wakes the lane), or by a configuration's
            # places, taken up or none left (more of its own may be due: a place it frees wakes the lane). A claim
            # that found less than it could take leaves the lane to doorbells and timers.
            lane.hungry = len(sends) == limit
            lane.blocked = _held_back(sends, places, self.conf.configuration_concurrency)
            for send in sends:
                self._launch(send)
            if lane.hungry and self.conf.concurrency - self.in_flight - self.claiming > 0:
                lane.wake.set()  # room left and more due: claim again at once
            elif lane.hungry or lane.blocked:
                self._ring_others(lane)  # more may be due than this worker takes now: another may take it

    def _launch(self, send: Send) -> None:
        if self.shares.host_full(send.host):
            # Its host has no place left: it waits here for one (briefly; see _housekeeping).
            self.host_queue.setdefault(send.host, deque()).append((time.monotonic(), send))
            return
        self.in_flight += 1
        self.shares.start(send)
        task = self.loop.create_task(self._post(send))
        self.posting.add(task)
        task.add_done_callback(self.posting.discard)

    async def _post(self, send: Send) -> None:
        try:
            result = await self.client.post(url=send.url, body=send.body, headers=send.headers, limits=self.limits)
        finally:
            self.in_flight -= 1
            self.shares.finish(send)
            self._freed(send)
        outcome = attempts.conclude(send, result, conf=self.conf, now=timezone.now(), jitter=_rng.uniform(-1, 1))
        self._queue_record(outcome)

    def _freed(self, send: Send) -> None:
        waiting = self.host_queue.get(send.host)
        if waiting and not self.shares.host_full(send.host) and not self.stopping:
            _, next_send = waiting.popleft()
            if not waiting:
                self.host_queue.pop(send.host, None)
            self._launch(next_send)
        for lane in self.lanes.values():
            if lane.hungry or send.configuration_id in lane.blocked:
                lane.refill = True
        if self.refill_handle is None and not self.stopping:
            self.refill_handle = self.loop.call_later(REFILL_WAIT, self._refill)

    def _refill(self) -> None:
        self.refill_handle = None
        for lane in self.lanes.values():
            if lane.refill:
                lane.refill = False
                lane.wake.set()

    def _ring_others(self, lane: _Lane) -> None:
        """The lane has more than this worker takes now (it is full, or the shares hold some back): ring the
        lane's doorbell, at most twice a second, so that another worker, with shares of its own, takes some."""
        now = time.monotonic()
        if now - lane.rang_others_at < 0.5:
            return
        lane.rang_others_at = now
        self.loop.run_in_executor(None, lanes.ring, [lane.name])

    def _wake_later(self, lane: _Lane, delay: float) -> None:
        at = self.loop.time() + delay
        if lane.timer is not None and lane.timer_at <= at:
            return
        if lane.timer is not None:
            lane.timer.cancel()
        lane.timer_at = at
        lane.timer = self.loop.call_at(at, self._timer_fired, lane)

    def _timer_fired(self, lane: _Lane) -> None:
        lane.timer = None
        lane.wake.set()

    # --- Saving -----------------------------------------------------------------------------------------------

    def _queue_record(self, outcome: Outcome) -> None:
        self.pending.append(outcome)
        if len(self.pending) >= self.conf.record_batch:
            self._flush()
        elif self.flush_handle is None:
            self.flush_handle = self.loop.call_later(RECORD_WAIT, self._flush)

    def _flush(self) -> None:
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        batch, self.pending = self.pending, []
        if batch:
            task = self.loop.create_task(self._save(batch))
            self.saving.add(task)
            task.add_done_callback(self.saving.discard)

    async def _save(self, batch: list[Outcome]) -> None:
        try:
            saved = await self.db.run(batches.save, outcomes=batch)
        except Exception:  # noqa: BLE001 - their claims run out and the next claims record them as interrupted
            log.exception("attempts_not_saved", notifications=[o.record.notification_id for o in batch])
            return
        for outcome in batch:
            if outcome.record.notification_id not in saved:
                log.warning("attempt_dropped_lease_lost", notification=outcome.record.notification_id)
                continue
            _report(outcome)
            lane = self.lanes.get(outcome.lane)
            if outcome.retry_in is not None and lane is not None:
                self._wake_later(lane, outcome.retry_in)  # punctual retries; the sweep stays the safety net

    # --- Slow receivers, waiting hosts, stopping --------------------------------------------------------------

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_EVERY)
            now = time.monotonic()
            for configuration_id in self.shares.slow(after=self.conf.slow_after, now=now):
                if now - self.rerouted.get(configuration_id, -1e9) >= max(10.0, self.conf.slow_after):
                    self.rerouted[configuration_id] = now
                    owner_id = self.shares.owner_of[configuration_id]
                    self.loop.create_task(self._reroute(configuration_id, owner_id))
            stale = []
            for host, waiting in list(self.host_queue.items()):
                while waiting and now - waiting[0][0] >= self.conf.slow_after:
                    stale.append(waiting.popleft()[1])
                if not waiting:
                    self.host_queue.pop(host, None)
            if stale:
                self.loop.create_task(self._give_back(stale))

    async def _reroute(self, configuration_id: int, owner_id: int) -> None:
        try:
            moved = await self.db.run(batches.reroute_slow, configuration_id=configuration_id, owner_id=owner_id)
        except Exception:  # noqa: BLE001
            log.exception("reroute_failed", configuration=configuration_id)
            return
        if moved:
            log.info("rerouted_slow", configuration=configuration_id, notifications=moved)

    async def _give_back(self, sends: list[Send]) -> None:
        try:
            await self.db.run(batches.release, sends=sends)
        except Exception:  # noqa: BLE001 - their leases run out instead
            log.exception("release_failed", notifications=[send.claimed.pk for send in sends])

    async def _drain(self, timeout: float) -> None:
        self.stopping = True
        for lane in self.lanes.values():
            lane.wake.set()
        waiting = [send for queue in self.host_queue.values() for _, send in queue]
        self.host_queue.clear()
        if waiting:
            await self._give_back(waiting)
        deadline = time.monotonic() + timeout
        while self.posting and time.monotonic() < deadline:
            await asyncio.wait(set(self.posting), timeout=max(0.0, deadline - time.monotonic()))
        self._flush()
        if self.saving:
            await asyncio.wait(set(self.saving), timeout=30)
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await self.client.close()


def _held_back(sends: list[Send], places: dict[int, int], default: int) -> set[int]:
    """The configurations a claim may have left notifications of: those with no place, and those that got as
    many notifications as they had places."""
    taken: dict[int, int] = {}
    for send in sends:
        if not send.manual:
            taken[send.configuration_id] = taken.get(send.configuration_id, 0) + 1
    full = {pk for pk, left in places.items() if left <= 0}
    return full | {pk for pk, count in taken.items() if count >= places.get(pk, default)}


def _report(outcome: Outcome) -> None:
    send, result = outcome.send, outcome.result
    metrics.record_attempt(
        outcome="manual" if send.manual else outcome.verdict,
        status_code=result.status_code,
        duration=result.duration_ms / 1000,
        latency=outcome.latency,
    )
    log.info(
        "attempt",
        notification=send.claimed.pk,
        configuration=send.configuration_id,
        attempt=send.number,
        trigger="manual" if send.manual else "automatic",
        status=result.status_code,
        error=result.error_kind or None,
        ms=result.duration_ms,
        verdict=outcome.verdict,
    )


class _DatabaseThreads:
    """The engine's database work runs here, on a few threads, each with its own connection (Django's are per
    thread): the event loop never waits on the database, and a worker holds a handful of connections."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="engine-db")

    async def run(self, fn: Callable, **kwargs):
        call = functools.partial(batches.db_retrying, functools.partial(fn, **kwargs))
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)


_engine: Engine | None = None
_engine_pid = 0
_engine_lock = threading.Lock()


def running_engine() -> Engine:
    """This process's engine, started on first use (after a fork, a new one for the child)."""
    global _engine, _engine_pid
    with _engine_lock:
        if _engine is None or _engine_pid != os.getpid():
            _engine = Engine().start()
            _engine_pid = os.getpid()
        return _engine


def stop_running_engine() -> None:
    """Stop this process's engine, if it runs, letting its POSTs in flight end and be saved."""
    global _engine
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None and _engine_pid == os.getpid():
        engine.stop()
