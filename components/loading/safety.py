"""Safety checks made before any library reads a model: only catalog entries load
(:func:`catalogued`), and a bundled or operator folder whose files ask for custom Python code is
refused (:func:`custom_code_reasons`). Every ``from_pretrained`` / ``SentenceTransformer`` call
(:mod:`components.loading.load`) passes ``trust_remote_code=False``. No streamlit here.
"""
from __future__ import annotations

import json
from pathlib import Path

from components.catalog import ModelSpec

_REMOTE_CODE_FILES = ("config.json", "tokenizer_config.json", "preprocessor_config.json",
                      "processor_config.json")


def custom_code_reasons(folder: Path) -> list[str]:
    """Why the model folder asks for custom Python code; [] when it does not.

    Looks for ``auto_map`` in ``config.json`` / ``tokenizer_config.json`` /
    ``(pre)processor_config.json`` (transformers' remote-code hook) and for
    ``modules.json`` entries whose ``type`` is not a ``sentence_transformers.`` class
    (sentence-transformers imports whatever module such an entry names). Reads only those
    JSON files; unreadable or malformed JSON is left for the library to reject.
    """
    reasons = []
    for name in _REMOTE_CODE_FILES:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("auto_map"):
            reasons.append(f"`{name}` has an `auto_map` (custom model code)")
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        modules = []
    for entry in modules if isinstance(modules, list) else [modules]:
        kind = entry.get("type") if isinstance(entry, dict) else entry
        if not (isinstance(kind, str) and kind.startswith("sentence_transformers.")):
            reasons.append(f"`modules.json` names a module outside sentence-transformers ({str(kind)[:80]!r})")
    return reasons


def catalogued(spec: ModelSpec | str) -> ModelSpec:
    """The catalog entry ``spec`` stands for (a key or a ``ModelSpec``).

    Raises:
        KeyError: not a catalog key, or a ``ModelSpec`` that differs from the catalog's entry
            of that key (a forged spec could name any Hub id or package). Nothing is read from
            disk or the network before this check.
    """
    from components.catalog import get_spec

    if isinstance(spec, str):
        return get_spec(spec)
    if not isinstance(spec, ModelSpec):
        raise KeyError(f"Not a catalog model: {type(spec).__name__}")
    known = get_spec(spec.key)
    if known != spec:
        raise KeyError(f"Model spec {spec.key!r} differs from the catalog entry; only catalog models load")
    return known
