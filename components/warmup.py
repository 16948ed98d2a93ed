"""Background import of the heavy libraries, so the first model page after a (re)start does
not pay for them.

Importing torch + transformers + sentence-transformers takes several seconds (measured in
``bench``: most of a warm "model ready" time is imports; the load itself is ~1 s). Home must
be served without them (target <= 5 s), so ``app.py`` starts this thread *after* the page has
run: by the time a user opens a model page, the imports are usually done. No model is loaded
here (that would cost memory on a server that only shows Home). No streamlit.
"""
from __future__ import annotations

import os
import threading

_started = threading.Event()


def _import_heavy() -> None:
    # Hold the loader's lock: transformers imports model code lazily, and a model load racing
    # these imports could see a partially initialised module (ImportError). Loads wait instead.
    from components.loading import _LOAD_LOCK, configure_torch_threads

    try:
        with _LOAD_LOCK:
            configure_torch_threads()
            import transformers  # noqa: F401
            from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer  # noqa: F401
            import sentence_transformers  # noqa: F401
    except Exception:  # a failed warm-up only means the page imports them itself
        pass


def start() -> None:
    """Start the import thread once per process (idempotent). Set ``LLM_LAB_NO_WARMUP=1``
    to disable it (the bench does, to measure cold imports)."""
    if _started.is_set() or os.environ.get("LLM_LAB_NO_WARMUP"):
        return
    _started.set()
    threading.Thread(target=_import_heavy, name="llm-lab-warmup", daemon=True).start()
