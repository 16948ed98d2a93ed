"""The heavy libraries (torch, transformers, sentence-transformers, safetensors, the
scikit-learn parts the pages use), imported once per process under the loader's lock
(:data:`LOAD_LOCK`), and torch's thread count. No streamlit here.
"""
from __future__ import annotations

import os
import threading

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# One lock for every model load, GGUF conversion and heavy-library import of the process
# (the background warm-up included). transformers replaces its own ``sys.modules`` entry at
# the end of its ``__init__`` and imports model code lazily: a thread importing it while
# another is half-way through gets the half-built module ("cannot import name
# 'AutoModelForCausalLM' from 'transformers'"), and two lazy imports crossing each other trip
# Python's import-deadlock detection (a partially initialised module). Loads are rare and
# CPU-bound, so serialising them costs little; the same model is still loaded once.
LOAD_LOCK = threading.RLock()

PRELOADED: dict[str, tuple[str, ...]] = {
    "torch": (),
    # first: importing sentence_transformers puts a new ``transformers`` module object into
    # ``sys.modules``; names resolved on the old one would be resolved again, lazily
    "sentence_transformers": ("SentenceTransformer",),
    "transformers": ("AutoModel", "AutoModelForCausalLM", "AutoModelForSequenceClassification",
                     "AutoTokenizer", "StoppingCriteriaList", "set_seed"),
    "transformers.generation": ("LogitsProcessorList", "NoRepeatNGramLogitsProcessor", "RepetitionPenaltyLogitsProcessor",
                                "TemperatureLogitsWarper", "TopKLogitsWarper", "TopPLogitsWarper"),
    "transformers.cache_utils": ("DynamicCache", "DynamicLayer"),
    "safetensors": ("safe_open",),
    "safetensors.torch": ("save_model", "load_file"),
    "sklearn.linear_model": ("LogisticRegression",),
    "sklearn.metrics": ("accuracy_score", "confusion_matrix"),
    "sklearn.model_selection": ("StratifiedKFold", "cross_val_predict", "cross_val_score",
                                "train_test_split"),
    "sklearn.decomposition": ("PCA",),
    "sklearn.manifold": ("TSNE",),
}
"""Module -> names that :func:`import_libraries` imports and resolves under ``LOAD_LOCK``.
Pages and compute modules import only these at call time (a test checks it), so their
``from transformers import ...`` is then a plain attribute read, never a lazy import."""

_LIBRARIES_READY = threading.Event()


def libraries_ready() -> bool:
    """True once :func:`import_libraries` has finished in this process."""
    return _LIBRARIES_READY.is_set()


def import_libraries() -> None:
    """Import torch, transformers, sentence-transformers, safetensors and the scikit-learn
    parts the pages use, resolving every name of :data:`PRELOADED`, once per process, under
    ``LOAD_LOCK``; configure torch's thread count. Later calls return at once.

    Raises:
        ImportError: a library is missing (the caller's load reports it).
    """
    if _LIBRARIES_READY.is_set():
        return
    import importlib

    with LOAD_LOCK:
        if _LIBRARIES_READY.is_set():
            return
        configure_torch_threads()
        for module_name, names in PRELOADED.items():
            module = importlib.import_module(module_name)
            for name in names:
                value = getattr(module, name)  # a lazy module (transformers) imports it now
                if name not in vars(module):
                    setattr(module, name, value)
        _LIBRARIES_READY.set()


_threads_configured = False


def configure_torch_threads() -> int:
    """Set torch's intra-op thread count once per process; return it.

    ``$LLM_LAB_TORCH_THREADS`` (default 1). One thread per op because one server runs many
    sessions' scripts in threads at once and shares CPUs (Streamlit Cloud containers, CI):
    with oversubscribed cores torch's OpenMP workers wait for each other -- measured in
    ``bench`` on this 2-core machine under load: a SmolLM2 forward 5.6 s with 2 threads vs
    0.51 s with 1. On a dedicated multi-core machine set it higher for faster generation.
    """
    global _threads_configured
    import torch

    if not _threads_configured:
        wanted = os.environ.get("LLM_LAB_TORCH_THREADS", "1")
        try:
            torch.set_num_threads(max(1, int(wanted)))
        except ValueError:
            pass
        _threads_configured = True
    return torch.get_num_threads()
