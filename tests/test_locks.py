"""The shared models' lock: re-entrant, granted in request order, and what that gives two
generations running at once on the real SmolLM2 (they advance in turn)."""
from __future__ import annotations

import threading
import time
from dataclasses import replace

from components.generation import COMPLETE, GenerationSettings, GenerationStream, prepare_inputs
from components.locks import FairRLock


def _wait_queued(lock: FairRLock, n: int) -> None:
    deadline = time.monotonic() + 60
    while lock.waiting < n:
        assert time.monotonic() < deadline, f"{lock.waiting} of {n} threads queued"
        time.sleep(0.001)


def test_waiters_get_the_lock_in_the_order_they_asked():
    lock = FairRLock()
    order: list[int] = []
    lock.acquire()
    threads = []
    for i in range(5):
        def take(i=i):
            with lock:
                order.append(i)
        th = threading.Thread(target=take)
        th.start()
        _wait_queued(lock, i + 1)  # thread i is queued before thread i+1 asks
        threads.append(th)
    assert order == [] and lock.waiting == 5
    lock.release()
    for th in threads:
        th.join(timeout=60)
    assert order == [0, 1, 2, 3, 4] and lock.waiting == 0 and not lock.locked()


def test_a_releasing_thread_cannot_cut_in_front_of_a_waiter():
    lock, order = FairRLock(), []
    lock.acquire()
    waiter = threading.Thread(target=lambda: (lock.acquire(), order.append("waiter"), lock.release()))
    waiter.start()
    _wait_queued(lock, 1)
    lock.release()
    with lock:  # asks again at once, as a decode loop does: the waiter already has its turn
        order.append("releaser")
    waiter.join(timeout=60)
    assert order == ["waiter", "releaser"]


def test_reentrant_timeout_and_foreign_release():
    lock = FairRLock()
    with lock, lock:  # the owner may take it again
        assert lock.locked()
        got = []
        th = threading.Thread(target=lambda: got.append(lock.acquire(timeout=0.05)))
        th.start()
        th.join(timeout=60)
        assert got == [False] and lock.waiting == 0  # a timed-out waiter leaves the queue
    assert not lock.locked()
    errors = []

    def foreign():
        try:
            lock.release()
        except RuntimeError as exc:
            errors.append(exc)

    lock.acquire()
    th = threading.Thread(target=foreign)
    th.start()
    th.join(timeout=60)
    lock.release()
    assert len(errors) == 1 and not lock.locked()
    assert lock.acquire(blocking=False) and lock.acquire(blocking=False)  # free, then re-entrant
    lock.release()
    lock.release()


class _RecordingLock(FairRLock):
    """Records which thread took the lock at each outermost acquisition."""

    def __init__(self) -> None:
        super().__init__()
        self.takers: list[int] = []
        self._depth: dict[int, int] = {}

    def acquire(self, blocking: bool = True, timeout: float = -1, on_wait=None) -> bool:
        ok = super().acquire(blocking, timeout, on_wait)
        if ok:
            me = threading.get_ident()
            self._depth[me] = self._depth.get(me, 0) + 1
            if self._depth[me] == 1:
                self.takers.append(me)
        return ok

    def release(self) -> None:
        self._depth[threading.get_ident()] -= 1
        super().release()

    __enter__ = acquire


def test_two_generations_on_one_model_take_turns_step_by_step(smollm2):
    """Decode steps not batched (``LLM_LAB_BATCH_DECODE=0``; batched steps are tested in
    test_decode_batch.py): two greedy streams started together on the real model alternate
    forward passes while both run (neither waits for the other's whole generation), and each
    text equals the same stream run alone."""
    lock = _RecordingLock()
    shared = replace(smollm2, lock=lock)  # same weights and tokenizer, a recording lock
    settings = GenerationSettings(max_new_tokens=12, do_sample=False)
    prompts = ["The capital of France is", "Water boils at a temperature of"]
    prepared = [prepare_inputs(shared, p, COMPLETE, settings.max_new_tokens) for p in prompts]
    alone = []
    for p in prepared:
        s = GenerationStream(shared, p, settings)
        list(s)
        alone.append(s.token_ids)

    lock.takers.clear()
    streams = [GenerationStream(shared, p, settings, batch_decode=False) for p in prepared]
    idents: dict[int, int] = {}

    def run(i: int) -> None:
        idents[threading.get_ident()] = i
        list(streams[i])

    # hold the lock so both streams are queued before either starts decoding
    lock.acquire()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    lock.release()
    for w in workers:
        w.join(timeout=600)
    assert [s.token_ids for s in streams] == alone
    # the streams' own decode threads take the lock; map them to streams by first appearance
    takers = [t for t in lock.takers if t not in idents and t != threading.get_ident()]
    first = list(dict.fromkeys(takers))
    assert len(first) == 2, first
    seq = [first.index(t) for t in takers]
    both_running = min(seq.count(0), seq.count(1))
    overlap = seq[: 2 * both_running]
    longest = max(len(run) for run in "".join(map(str, overlap)).replace("01", "0 1").replace("10", "1 0").split())
    assert longest <= 2, overlap  # in turn, at most a stray double step
    assert both_running == min(len(a) for a in alone)


def test_a_waiter_is_told_how_many_requests_are_ahead_until_its_turn():
    """A thread queued behind the owner and two earlier waiters hears 3, 2, 1 requests ahead
    (in that order, each once), then 0 when it gets the lock; the earlier waiters went first."""
    lock = FairRLock()
    order: list[str] = []
    heard: list[int] = []
    done = [threading.Event(), threading.Event()]  # each holder keeps the lock until told

    def hold(i: int) -> None:
        with lock:
            order.append(f"early{i}")
            done[i].wait(60)

    lock.acquire()
    early = []
    for i in range(2):
        th = threading.Thread(target=hold, args=(i,))
        th.start()
        _wait_queued(lock, i + 1)
        early.append(th)

    def last() -> None:
        lock.acquire(on_wait=heard.append)
        order.append("last")
        lock.release()

    waiter = threading.Thread(target=last)
    waiter.start()
    _wait_queued(lock, 3)
    _wait_heard(heard, [3])
    lock.release()  # early0 takes it: "last" has 2 ahead
    _wait_heard(heard, [3, 2])
    done[0].set()  # early1 takes it: 1 ahead
    _wait_heard(heard, [3, 2, 1])
    done[1].set()
    for th in early:
        th.join(timeout=60)
    waiter.join(timeout=60)
    assert heard == [3, 2, 1, 0] and order == ["early0", "early1", "last"]
    assert lock.waiting == 0 and not lock.locked()


def _wait_heard(heard: list[int], expected: list[int]) -> None:
    deadline = time.monotonic() + 60
    while heard != expected:
        assert time.monotonic() < deadline and heard == expected[: len(heard)], heard
        time.sleep(0.001)


def test_no_position_report_when_the_lock_is_free_and_a_timed_out_waiter_leaves_the_line():
    lock = FairRLock()
    heard: list[int] = []
    assert lock.acquire(on_wait=heard.append) and heard == []  # free: nothing to wait for
    behind: list[int] = []
    queued_behind = threading.Event()

    def told(ahead: int) -> None:  # holds the first waiter until the second has queued
        heard.append(ahead)
        queued_behind.wait(60)

    first = threading.Thread(target=lambda: lock.acquire(timeout=0.01, on_wait=told))
    first.start()
    _wait_queued(lock, 1)
    second = threading.Thread(target=lambda: (lock.acquire(on_wait=behind.append), lock.release()))
    second.start()
    _wait_queued(lock, 2)
    queued_behind.set()
    first.join(timeout=60)  # timed out: it leaves, the one behind it moves up
    assert heard == [1]
    _wait_heard(behind, [2, 1])
    lock.release()
    second.join(timeout=60)
    assert behind == [2, 1, 0] and not lock.locked()


def test_a_generation_queued_behind_others_reports_its_position_then_runs(smollm2):
    """A stream whose first forward pass waits behind the lock's owner and one queued request
    reports 2, then 1 requests ahead, then 0 when it runs; its greedy text is the text it gets
    with nobody ahead."""
    lock = FairRLock()
    shared = replace(smollm2, lock=lock)
    settings = GenerationSettings(max_new_tokens=3, do_sample=False)
    prepared = prepare_inputs(shared, "The capital of France is", COMPLETE, settings.max_new_tokens)
    alone = GenerationStream(shared, prepared, settings)
    list(alone)
    assert alone.ahead == 0

    stream = GenerationStream(shared, prepared, settings)
    seen: list[int] = []
    other_may_go = threading.Event()

    def other() -> None:
        with lock:
            other_may_go.wait(60)

    def consume() -> None:
        for delta in stream:
            if not delta:  # an empty delta: the queue position changed
                seen.append(stream.ahead)

    lock.acquire()
    first = threading.Thread(target=other)
    first.start()
    _wait_queued(lock, 1)
    consumer = threading.Thread(target=consume)
    consumer.start()
    _wait_queued(lock, 2)
    _wait_heard(seen, [2])
    lock.release()  # the other request runs: one ahead
    _wait_heard(seen, [2, 1])
    other_may_go.set()
    first.join(timeout=60)
    consumer.join(timeout=600)
    assert seen == [2, 1, 0] and stream.ahead == 0
    assert stream.token_ids == alone.token_ids and stream.stats.finish_reason == alone.stats.finish_reason
