"""The only place Streamlit touches models: cached getters keyed on catalog keys.

Cache policy (also in docs/performance.md):
* models: ``st.cache_resource(max_entries=MODEL_CACHE_ENTRIES)``, keyed on the catalog key
  only. The two bundled models stay resident; a third/fourth (Hub) model evicts the least
  recently used one, so switching models never keeps every model alive. Streamlit holds a
  per-key compute lock, so two sessions asking for the same not-yet-loaded model load it once.
* everything derived from a model is cached per page with ``st.cache_data`` and bounded
  ``max_entries`` / ``ttl`` (see the page modules).

Cached objects are shared by every session and never mutated; forward passes hold
``LoadedModel.lock`` and tokenizer calls ``LoadedModel.tokenizer_lock`` (see
:mod:`components.loading`).

Loads run in the background (:func:`components.loading.prepare`): the warm-up thread starts
the bundled models' preparation when the server starts, and :func:`get_model` joins the
running preparation (one progress bar that moves) or starts one. The cached getter then takes
the prepared model, so the one ``st.cache_resource`` entry per catalog key holds it.

Failures are never cached: ``st.cache_resource`` stores nothing when the loader raises, and
:func:`get_model` turns any unexpected exception into :class:`ModelUnavailableError` (which
``ui.load_or_explain`` shows as a message), so the next rerun simply tries again.
"""
from __future__ import annotations

import math
import time

import streamlit as st

from components import i18n, loading
from components.catalog import get_spec
from components.loading import LoadedModel, ModelUnavailableError, alternative, load_model, log_event

MODEL_CACHE_ENTRIES = 4
POLL_S = 0.5  # progress refresh interval while a model is prepared, seconds


def configured_dirs() -> dict[str, str]:
    """Operator-configured model directories from ``[model_dirs]`` in ``.streamlit/secrets.toml``."""
    try:
        section = st.secrets.get("model_dirs", {})
        return {str(k): str(v) for k, v in dict(section).items()}
    except Exception:  # no secrets file: the normal case
        return {}


def _load(spec, configured, progress=None) -> LoadedModel:
    return load_model(spec, configured, progress=progress)  # looked up at call time (tests patch it)


@st.cache_resource(max_entries=MODEL_CACHE_ENTRIES, show_spinner=False)
def _cached_model(key: str) -> LoadedModel:
    return loading.collect(key, configured_dirs(), _load)


def forget(key: str) -> None:
    """Drop ``key`` from the model cache and its background preparation (the next
    :func:`get_model` loads it again)."""
    _cached_model.clear(key)
    loading.forget(key)


def _t(key: str, **values) -> str:
    # i18n.message reads the session language through the provider components.ui registers,
    # so this module needs no import of components.ui (which imports this one)
    from components import i18n

    return i18n.message(key, **values)


def shown_fraction(job: loading.Preparation, now: float) -> float:
    """The bar's position: the loader's fraction, eased towards the next quarter of what is
    left as the current stage runs (half-way after 10 s), so the bar moves during long
    stages (dequantizing takes 15-30 s) and never passes 99 %."""
    ahead = (1.0 - job.fraction) * 0.25 * (1.0 - math.exp(-(now - job.stage_started) / 14.4))
    return min(0.99, job.fraction + ahead)


def progress_text(job: loading.Preparation, name: str, now: float) -> str:
    """``"<stage sentence> · <elapsed> s"`` in the UI language."""
    return _t("ui.model.progress", stage=_t(f"ui.model.stage.{job.stage}", name=name),
              seconds=int(now - job.started))


def wait_with_progress(job: loading.Preparation, name: str, container=None) -> None:
    """Show one progress bar in ``container`` (default: the page) until ``job`` finished,
    refreshed every ``POLL_S`` seconds; then remove it."""
    if job.wait(0.05):
        return
    where = container if container is not None else st.empty()
    now = time.monotonic()
    bar = where.progress(shown_fraction(job, now), text=progress_text(job, name, now))
    try:
        while not job.wait(POLL_S):
            now = time.monotonic()
            bar.progress(shown_fraction(job, now), text=progress_text(job, name, now))
    finally:
        where.empty()


def get_model(key: str, container=None) -> LoadedModel:
    """Cached :class:`LoadedModel` for catalog ``key``, waiting with visible progress.

    When the model is not ready yet (its background preparation is running -- started by the
    server's warm-up or another session -- or must start now), shows one progress bar in
    ``container`` (an ``st.empty()``; default: a new one) with the stage and the elapsed
    seconds, then hands the model to the ``st.cache_resource`` entry of ``key``. A cache
    directory that cannot be written is not an error: the model then loads straight from the
    GGUF and ``LoadedModel.notices`` says so.

    Raises:
        KeyError: ``key`` is not catalogued (before any file or network access).
        ModelUnavailableError: see :func:`components.loading.load_model`; also any other
            exception of the load, wrapped with a message (nothing is cached, so the next
            call retries from scratch).
    """
    spec = get_spec(key)
    try:
        wait_with_progress(loading.prepare(spec, configured_dirs(), _load), i18n.model_name(spec), container)
        return _cached_model(key)
    except ModelUnavailableError:
        raise
    except Exception as exc:  # anything else: a message for the page, never a traceback
        log_event(f"model-load error key={key}: {type(exc).__name__}: {exc}"[:400])
        raise ModelUnavailableError(
            spec,
            f"{spec.display_name} could not be loaded ({type(exc).__name__}: {str(exc)[:300]}). "
            "Nothing was kept from this attempt: rerun the page (or choose the model again) to retry.",
            alternative(spec),
            wording=loading.framed("error.unexpected", spec, error=f"{type(exc).__name__}: {str(exc)[:300]}"),
        ) from exc
