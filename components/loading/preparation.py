"""Background preparation: one load of a catalog model in a daemon thread, shared by everyone
who asks for that model meanwhile (the warm-up, any session). No streamlit here.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping

from components.catalog import ModelSpec
from components.loading.load import load_model
from components.loading.records import LoadedModel, log_event
from components.loading.safety import catalogued


class Preparation:
    """One load of a catalog model running in a background thread, shared by everyone who
    asks for that model meanwhile (the warm-up, any session).

    Attributes:
        key: catalog key.
        started: ``time.monotonic()`` when it started, seconds.
        fraction: progress in [0, 1] reported by the loader.
        stage: the loader's stage code (see :data:`Progress`).
        stage_started: ``time.monotonic()`` when ``stage`` began.
        error: the exception of a failed load, else None.
    """

    def __init__(self, key: str):
        self.key = key
        self.started = time.monotonic()
        self.fraction = 0.0
        self.stage = "waiting"
        self.stage_started = self.started
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._model: LoadedModel | None = None
        self._ref: Callable[[], LoadedModel | None] = lambda: None

    def report(self, fraction: float, stage: str) -> None:
        """The loader's progress callback (:data:`Progress`)."""
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.monotonic()
        self.fraction = max(self.fraction, min(float(fraction), 1.0))

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds; True when the load has finished (either way)."""
        return self._done.wait(timeout)

    def available(self) -> LoadedModel | None:
        """The loaded model while it is not yet handed out or still alive somewhere."""
        return self._model if self._model is not None else self._ref()

    def take(self) -> LoadedModel | None:
        """Hand the model out: from now on only a weak reference is kept here, so a model the
        app's cache evicts is freed (and a later :func:`prepare` loads it again)."""
        model = self.available()
        if model is not None:
            self._ref = weakref.ref(model)
        self._model = None
        return model

    def _run(self, load: Callable[..., LoadedModel], spec: ModelSpec, configured) -> None:
        try:
            self._model = load(spec, configured, progress=self.report)
            self.report(1.0, "done")
        except BaseException as exc:  # kept for the caller; never raised in this thread
            self.error = exc
            log_event(f"model-prepare failed key={self.key}: {type(exc).__name__}")
        finally:
            self._done.set()


_PREPARATIONS: dict[str, Preparation] = {}
_PREPARATIONS_LOCK = threading.Lock()


def prepare(spec: ModelSpec | str, configured: Mapping[str, str] | None = None,
            load: Callable[..., LoadedModel] | None = None) -> Preparation:
    """The running or finished :class:`Preparation` of ``spec``; starts one in a daemon thread
    when there is none (a failed one is dropped by :func:`collect`) or its model was handed
    out and freed since.

    Args:
        spec: a catalog entry or key (checked first: KeyError otherwise).
        configured: operator directories by catalog key.
        load: ``load(spec, configured, progress=...)``, :func:`load_model` by default.
    """
    spec = catalogued(spec)
    with _PREPARATIONS_LOCK:
        job = _PREPARATIONS.get(spec.key)
        # a failed one stays until collect() has raised its error to a caller
        if job is not None and (not job.done() or job.error is not None or job.available() is not None):
            return job
        job = Preparation(spec.key)
        _PREPARATIONS[spec.key] = job
    threading.Thread(target=job._run, args=(load or load_model, spec, configured),
                     name=f"llm-lab-prepare-{spec.key}", daemon=True).start()
    return job


def collect(spec: ModelSpec | str, configured: Mapping[str, str] | None = None,
            load: Callable[..., LoadedModel] | None = None) -> LoadedModel:
    """The model of ``spec``'s preparation (started by :func:`prepare` if needed), waiting for
    it to finish.

    Raises:
        the load's exception (the failed preparation is dropped, so the next call retries).
    """
    while True:
        job = prepare(spec, configured, load)
        job.wait()
        if job.error is not None:
            with _PREPARATIONS_LOCK:
                if _PREPARATIONS.get(job.key) is job:
                    del _PREPARATIONS[job.key]
            raise job.error
        model = job.take()
        if model is not None:
            return model
        # freed between prepare() and take(): prepare() starts a new load


def forget(key: str) -> None:
    """Drop the preparation of ``key`` (tests; after the app's cache entry was cleared)."""
    with _PREPARATIONS_LOCK:
        _PREPARATIONS.pop(key, None)
