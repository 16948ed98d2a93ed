"""A first-come, first-served re-entrant lock for the shared models.

Every visitor's work on one model (a decode step, a batch of sentences) takes the model's
lock for one forward pass. CPython's ``threading.RLock`` wakes waiters in no promised order,
and a thread that releases and re-acquires at once (a generation's next decode step) usually
wins again, so one long generation can keep other sessions waiting for many steps. This lock
hands itself to the waiter that asked first, so concurrent generations advance in turn and a
short request waits at most one forward pass of each session ahead of it.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["FairRLock", "queued"]


class FairRLock:
    """Re-entrant lock granted in request order (FIFO), with the ``threading.RLock`` API.

    ``acquire(blocking=True, timeout=-1, on_wait=None) -> bool``, ``release()``, context
    manager. The owner may acquire again (re-entrant); other threads queue and get the lock in
    the order they asked for it. :attr:`waiting` is the number of threads queued now.

    ``on_wait(ahead)`` (optional) is called in the waiting thread, outside the lock's internal
    mutex, each time the number of requests ahead of it changes: the owner plus the threads
    queued before it (``ahead >= 1``; FIFO, so it only goes down), and once with 0 when the
    lock is granted. Not called when the lock is free at once (nobody to wait for).

    Raises:
        RuntimeError: ``release()`` by a thread that does not hold the lock.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._moved = threading.Condition(self._mutex)  # notified when the queue moves
        self._owner: int | None = None
        self._count = 0
        self._queue: deque[list] = deque()  # [thread id, granted]

    @property
    def waiting(self) -> int:
        """Threads queued for the lock now (the owner not counted)."""
        with self._mutex:
            return len(self._queue)

    def locked(self) -> bool:
        with self._mutex:
            return self._owner is not None

    def acquire(self, blocking: bool = True, timeout: float = -1,
                on_wait: Callable[[int], None] | None = None) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._count += 1
                return True
            if self._owner is None and not self._queue:
                self._owner, self._count = me, 1
                return True
            if not blocking:
                return False
            entry = [me, False]
            self._queue.append(entry)
            deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
            told = None
            try:
                while not entry[1]:
                    ahead = self._queue.index(entry) + 1  # the owner, then those queued before
                    if on_wait is not None and ahead != told:
                        told = ahead
                        self._mutex.release()  # the callback may look at the lock
                        try:
                            on_wait(ahead)
                        finally:
                            self._mutex.acquire()
                        continue
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        self._queue.remove(entry)
                        self._moved.notify_all()  # those behind moved up
                        return False
                    self._moved.wait(remaining)
            except BaseException:
                if entry[1]:
                    self._release_locked()
                else:
                    self._queue.remove(entry)
                    self._moved.notify_all()
                raise
        if on_wait is not None and told is not None:
            try:
                on_wait(0)
            except BaseException:
                self.release()
                raise
        return True

    def release(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner != me:
                raise RuntimeError("cannot release a lock held by another thread")
            self._release_locked()

    def _release_locked(self) -> None:
        self._count -= 1
        if self._count:
            return
        if self._queue:
            entry = self._queue.popleft()
            self._owner, self._count = entry[0], 1  # handed over: nobody can cut in
            entry[1] = True
            self._moved.notify_all()
        else:
            self._owner = None

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()


@contextmanager
def queued(lock, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
    """Hold ``lock`` for the ``with`` block, reporting the requests ahead through ``on_wait``
    while waiting when ``lock`` is a :class:`FairRLock` (any other lock is simply held)."""
    if isinstance(lock, FairRLock):
        lock.acquire(on_wait=on_wait)
    else:
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
