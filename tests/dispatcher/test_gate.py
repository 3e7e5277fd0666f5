"""The per-configuration fair share of a worker's delivery threads (dispatcher.gate)."""

from __future__ import annotations

import threading

from dispatcher.gate import Gate
from tests.conftest import wait_until


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_takes_at_most_cap_places_and_others_are_not_affected():
    gate = Gate(cap=2, slow_after=1, clock=Clock())
    assert gate.admit("hanging") and gate.admit("hanging")
    assert not gate.admit("hanging"), "a third place with no wait allowed"
    assert gate.admit("healthy") and gate.admit("healthy")
    assert gate.admitted("hanging") == 2 and gate.admitted("healthy") == 2


def test_a_key_whose_oldest_attempt_has_run_slow_after_is_refused_at_once():
    clock = Clock()
    gate = Gate(cap=1, slow_after=1, clock=clock)
    assert gate.admit(7)
    gate.start(7, "first")
    clock.now += 1.5
    # However long it may wait, it does not: the key is slow.
    assert gate.admit(7, give_up_after=3600) is False


def waiter_for(gate: Gate, key, *, give_up_after: float) -> tuple[threading.Thread, list[bool]]:
    """A thread asking ``gate`` for a place for ``key``, returned once it waits (its answer lands in the list)."""
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(gate.admit(key, give_up_after=give_up_after)))
    thread.start()
    wait_until(lambda: key in gate._freed or got, timeout=10, message="the waiter to wait")
    return thread, got


def test_a_waiter_gets_the_place_its_key_frees():
    gate = Gate(cap=1, slow_after=3600)
    assert gate.admit("c")
    gate.start("c", "first")
    waiter, got = waiter_for(gate, "c", give_up_after=60)
    gate.finish("c", "first")
    waiter.join(timeout=30)
    assert got == [True]
    assert gate.admitted("c") == 1


def test_a_waiter_stops_waiting_when_the_running_attempt_turns_slow():
    # Real clock: the running attempt becomes slow after 50 ms, and the waiter, which would otherwise wait an
    # hour for a place, gives up then.
    gate = Gate(cap=1, slow_after=0.05)
    assert gate.admit("c")
    gate.start("c", "hangs")
    waiter, got = waiter_for(gate, "c", give_up_after=3600)
    waiter.join(timeout=30)
    assert not waiter.is_alive() and got == [False]
    assert gate.admitted("c") == 1


def test_finishing_frees_the_place_and_forgets_the_key():
    gate = Gate(cap=1, slow_after=1, clock=Clock())
    assert gate.admit("c")
    gate.start("c", "t")
    gate.finish("c", "t")
    assert gate.admitted("c") == 0
    assert gate.admit("c")


def test_a_waiter_behind_places_not_yet_started_still_notices_when_they_turn_slow():
    # The place is taken but its attempt waits for a thread; once it starts and hangs, the waiter gives up
    # slow_after later instead of sleeping its whole allowance.
    gate = Gate(cap=1, slow_after=0.05)
    assert gate.admit("c")
    waiter, got = waiter_for(gate, "c", give_up_after=3600)  # waiting before the attempt starts
    gate.start("c", "queued, now running")
    waiter.join(timeout=30)
    assert not waiter.is_alive() and got == [False]
