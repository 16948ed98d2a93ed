"""The only place Streamlit touches models: cached getters keyed on catalog keys.

Cache policy (also in the README):
* models: ``st.cache_resource(max_entries=MODEL_CACHE_ENTRIES)``, keyed on the catalog key
  only. The two bundled models stay resident; a third/fourth (Hub) model evicts the least
  recently used one, so switching models never keeps every model alive. Streamlit holds a
  per-key compute lock, so two sessions asking for the same not-yet-loaded model load it once.
* everything derived from a model is cached per page with ``st.cache_data`` and bounded
  ``max_entries`` / ``ttl`` (see the page modules).

Cached objects are shared by every session and never mutated; forward passes hold
``LoadedModel.lock`` and tokenizer calls ``LoadedModel.tokenizer_lock`` (see
:mod:`components.loading`).

Failures are never cached: ``st.cache_resource`` stores nothing when the loader raises, and
:func:`get_model` turns any unexpected exception into :class:`ModelUnavailableError` (which
``ui.load_or_explain`` shows as a message), so the next rerun simply tries again.
"""
from __future__ import annotations

import streamlit as st

from components.catalog import get_spec
from components.loading import (
    LoadedModel,
    ModelUnavailableError,
    _alternative,
    _log_event,
    bundled_dir,
    cache_root,
    ensure_gguf_converted,
    load_model,
    needs_conversion,
)

MODEL_CACHE_ENTRIES = 4

# (key, cache dir) pairs whose bundled GGUF conversion this process already found complete.
# ``needs_conversion`` re-reads the manifest and hashes ~4 MiB of the weights (~15 ms, more on
# a busy CPU), and ``get_model`` runs on every rerun of every model page: check once per
# process. (Should the disk cache vanish later, a reload still converts, under the spinner.)
_CONVERSION_CHECKED: set[tuple[str, str]] = set()


def configured_dirs() -> dict[str, str]:
    """Operator-configured model directories from ``[model_dirs]`` in ``.streamlit/secrets.toml``."""
    try:
        section = st.secrets.get("model_dirs", {})
        return {str(k): str(v) for k, v in dict(section).items()}
    except Exception:  # no secrets file: the normal case
        return {}


@st.cache_resource(max_entries=MODEL_CACHE_ENTRIES, show_spinner=False)
def _cached_model(key: str) -> LoadedModel:
    return load_model(get_spec(key), configured_dirs())


def _t(key: str, **values) -> str:
    # i18n.message reads the session language through the provider components.ui registers,
    # so this module needs no import of components.ui (which imports this one)
    from components import i18n

    return i18n.message(key, **values)


def get_model(key: str) -> LoadedModel:
    """Cached :class:`LoadedModel` for catalog ``key``, loading it with visible progress.

    Shows a spinner naming the model and its rough load time; when the bundled GGUF must be
    converted first (first run only), shows a progress bar for that conversion instead. A
    cache directory that cannot be written is not an error: the model then loads straight
    from the GGUF and ``LoadedModel.notices`` says so.

    Raises:
        KeyError: ``key`` is not catalogued (before any file or network access).
        ModelUnavailableError: see :func:`components.loading.load_model`; also any other
            exception of the load, wrapped with a message (nothing is cached, so the next
            call retries from scratch).
    """
    spec = get_spec(key)
    checked = (key, str(cache_root()))
    try:
        if checked not in _CONVERSION_CHECKED:
            if needs_conversion(spec):
                bar = st.progress(0.0, text=_t("ui.model.preparing", name=spec.display_name))
                try:
                    ensure_gguf_converted(spec, bundled_dir(spec),
                                          lambda f, m: bar.progress(min(f, 1.0), text=m))
                except OSError as exc:  # e.g. disk full: the load reads the GGUF directly instead
                    _log_event(f"model-cache conversion failed key={key}: {exc}")
                finally:
                    bar.empty()
            _CONVERSION_CHECKED.add(checked)
        with st.spinner(_t("ui.model.loading", name=spec.display_name, seconds=max(1, spec.size_mb // 150))):
            return _cached_model(key)
    except ModelUnavailableError:
        _CONVERSION_CHECKED.discard(checked)
        raise
    except Exception as exc:  # anything else: a message for the page, never a traceback
        _CONVERSION_CHECKED.discard(checked)
        _log_event(f"model-load error key={key}: {type(exc).__name__}: {exc}"[:400])
        raise ModelUnavailableError(
            spec,
            f"{spec.display_name} could not be loaded ({type(exc).__name__}: {str(exc)[:300]}). "
            "Nothing was kept from this attempt: rerun the page (or choose the model again) to retry.",
            _alternative(spec),
        ) from exc
