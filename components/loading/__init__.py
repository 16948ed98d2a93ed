"""Pure model loaders: resolve a :class:`~components.catalog.ModelSpec` to files and load it.

No streamlit here; :mod:`components.cache` wraps these in ``st.cache_resource``.

Resolution order (see :mod:`components.catalog`): bundled package -> operator-configured
local directory -> Hugging Face Hub id (only when the Hub answers an HTTP request within
``HUB_CHECK_TIMEOUT_S``). Security rules enforced here:

* only catalog entries load (:func:`load_model` refuses any spec or key not in ``CATALOG``);
* every ``from_pretrained`` / ``SentenceTransformer`` call passes ``trust_remote_code=False``;
* a bundled or operator directory whose files ask for custom Python code (``auto_map`` in
  ``config.json`` / ``tokenizer_config.json``, a non-``sentence_transformers`` module in
  ``modules.json``) is refused before any library reads it (:func:`custom_code_reasons`).

The bundled SmolLM2 ships as a Q4_1 GGUF file. Dequantizing it with transformers takes
15-30 s, so the first load converts it once into ``<cache>/<key>/`` (safetensors + config
+ tokenizer + ``manifest.json`` written last); later loads, also after a restart, read
that directory in about a second. A missing, partial or corrupt cache is detected
(manifest check: file sizes, head/tail and sampled digests; then a load failure) and rebuilt.
When the cache directory cannot be written, the model is loaded straight from the GGUF
(slower, every process) and :attr:`LoadedModel.notices` says so.

All models are loaded in float32 with ``attn_implementation="eager"`` so that
``output_attentions=True`` returns real weights everywhere (sdpa returns none in
transformers 5.x) and each model is held in memory only once for all pages.

Modules, by responsibility (their public names are re-exported here for callers):

* :mod:`~components.loading.records`: ``Progress``, ``Source``, ``LoadedModel``,
  ``ModelUnavailableError`` (and :func:`framed`), :func:`log_event`;
* :mod:`~components.loading.sources`: where weights come from (bundled, local, Hub);
* :mod:`~components.loading.gguf_cache`: the GGUF -> safetensors conversion cache;
* :mod:`~components.loading.safety`: catalog-only loads, custom-code refusal;
* :mod:`~components.loading.libraries`: heavy imports under the loader's lock, torch threads;
* :mod:`~components.loading.load`: :func:`load_model` builds the ``LoadedModel``;
* :mod:`~components.loading.preparation`: loads in a background thread, shared by all sessions.
"""
from __future__ import annotations

from components.loading.gguf_cache import (
    MANIFEST,
    cache_unwritable_reason,
    converted_dir,
    ensure_gguf_converted,
    gguf_cache_valid,
    needs_conversion,
)
from components.loading.libraries import PRELOADED, configure_torch_threads, import_libraries, libraries_ready
from components.loading.load import load_model
from components.loading.preparation import Preparation, collect, forget, prepare
from components.loading.records import LoadedModel, ModelUnavailableError, Progress, Source, framed, log_event
from components.loading.safety import catalogued, custom_code_reasons
from components.loading.sources import (
    HUB_CHECK_TIMEOUT_S,
    alternative,
    availability,
    bundled_dir,
    cache_root,
    hub_known_unreachable,
    hub_offline_forced,
    hub_reachable,
    hub_url,
    local_dir,
    pip_install_command,
    resolve,
    unavailable_wording,
)

__all__ = [
    "HUB_CHECK_TIMEOUT_S", "MANIFEST", "PRELOADED", "LoadedModel", "ModelUnavailableError", "Preparation", "Progress",
    "Source", "alternative", "availability", "bundled_dir", "cache_root", "cache_unwritable_reason", "catalogued",
    "collect", "configure_torch_threads", "converted_dir", "custom_code_reasons", "ensure_gguf_converted", "forget",
    "framed", "gguf_cache_valid", "hub_known_unreachable", "hub_offline_forced", "hub_reachable", "hub_url",
    "import_libraries", "libraries_ready", "load_model", "local_dir", "log_event", "needs_conversion",
    "pip_install_command", "prepare", "resolve", "unavailable_wording",
]
