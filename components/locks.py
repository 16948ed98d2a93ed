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
from collections import deque

__all__ = ["FairRLock"]


class FairRLock:
    """Re-entrant lock granted in request order (FIFO), with the ``threading.RLock`` API.

    ``acquire(blocking=True, timeout=-1) -> bool``, ``release()``, context manager. The owner
    may acquire again (re-entrant); other threads queue and get the lock in the order they
    asked for it. :attr:`waiting` is the number of threads queued now (for a "N ahead of you"
    display).

    Raises:
        RuntimeError: ``release()`` by a thread that does not hold the lock.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._count = 0
        self._queue: deque[tuple[int, threading.Event]] = deque()

    @property
    def waiting(self) -> int:
        """Threads queued for the lock now (the owner not counted)."""
        with self._mutex:
            return len(self._queue)

    def locked(self) -> bool:
        with self._mutex:
            return self._owner is not None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
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
            turn = threading.Event()
            entry = (me, turn)
            self._queue.append(entry)
        granted = turn.wait(None if timeout is None or timeout < 0 else timeout)
        if granted:
            return True
        with self._mutex:
            if turn.is_set():  # handed over between the timeout and here: keep it
                return True
            self._queue.remove(entry)
            return False

    def release(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner != me:
                raise RuntimeError("cannot release a lock held by another thread")
            self._count -= 1
            if self._count:
                return
            if self._queue:
                owner, turn = self._queue.popleft()
                self._owner, self._count = owner, 1  # handed over: nobody can cut in
                turn.set()
            else:
                self._owner = None

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()
