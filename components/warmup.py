"""Background preparation at server start, so visitors find the bundled models ready.

Started by ``app.py`` after the first page has run (Home is served without the heavy
libraries). In one daemon thread: import torch / transformers / sentence-transformers
(:func:`components.loading.import_libraries`, under the loader's lock), then prepare each
installed bundled model -- the one-time GGUF conversion if needed, then the load -- through
:func:`components.loading.prepare`, the same shared preparation a page waits for (with a
progress bar) when it arrives first. ``components.cache`` hands the prepared model to its
``st.cache_resource`` entry. No streamlit here.
"""
from __future__ import annotations

import os
import threading

_started = threading.Event()


def _prepare_bundled() -> None:
    from components.catalog import CATALOG
    from components.loading import bundled_dir, import_libraries, log_event, prepare

    try:
        import_libraries()
    except Exception as exc:  # a failed warm-up only means the page imports them itself
        log_event(f"warm-up import failed: {type(exc).__name__}: {exc}"[:400])
        return
    for spec in CATALOG:
        if spec.has_bundled_source and bundled_dir(spec) is not None:
            prepare(spec).wait()  # one at a time: loads share the loader's lock anyway


def start() -> None:
    """Start the warm-up thread once per process (idempotent). ``LLM_LAB_NO_WARMUP=1``
    disables it (the bench measures cold imports; tests load models themselves)."""
    if _started.is_set() or os.environ.get("LLM_LAB_NO_WARMUP"):
        return
    _started.set()
    threading.Thread(target=_prepare_bundled, name="llm-lab-warmup", daemon=True).start()


def disable() -> None:
    """Never start the warm-up in this process (the test process loads models itself)."""
    _started.set()
