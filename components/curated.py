"""Curated examples for presenter mode: precomputed results shipped with the app.

``curated/<page>.json`` holds a short list of examples per page, each a
:class:`CuratedExample` ``{"id": str, "title": {"en": str, "zh": str}, "params": {query-param
name: value}, "result": <JSON data the page knows how to render>}`` (optionally ``"why"``, worded
like ``title``), checked by :func:`check_example` when loaded. Presenter mode shows them at once,
before any model has loaded. They are written by ``python -m scripts.build_curated``, which
calls ``build(get_model)`` in ``components/curated_<page>.py`` on the live bundled models;
``tests/test_curated.py`` rebuilds them and fails if the shipped file no longer matches.

Pure module (no streamlit).
"""
from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

CURATED_DIR = Path(__file__).resolve().parents[1] / "curated"
PAGES: tuple[str, ...] = ("generation", "sentiment", "classification", "embeddings", "attention", "lens")


class Wording(TypedDict):
    """A text shipped in both UI languages."""

    en: str
    zh: str


class CuratedOptional(TypedDict, total=False):
    """The optional keys of a :class:`CuratedExample` (a class of its own: ``NotRequired`` is
    not read from postponed annotations on Python 3.11)."""

    why: Wording
    kind: str


class CuratedExample(CuratedOptional):
    """One presenter-mode example as ``curated/<page>.json`` stores it.

    Keys:
        id: stable identifier (the live run remembers which example it came from).
        title: the stepper's heading per language.
        params: the page's query parameters (its permalink ``SCHEMA`` names) that reproduce it live.
        result: what the page's renderers draw, JSON data (:func:`to_jsonable`).
        why: optional one-line reason the example is shown, per language.
        kind: optional view the example is drawn in, for a page with more than one
            (sentiment: ``"domains"``, the approaches × sets table).
    """

    id: str
    title: Wording
    params: dict[str, Any]
    result: Any


def _is_wording(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(lang), str) and value[lang] for lang in ("en", "zh"))


def check_example(item: Any) -> CuratedExample | None:
    """``item`` when it has the :class:`CuratedExample` shape, else None: ``id`` a non-empty
    string, ``title`` (and ``why`` when present) non-empty ``en`` and ``zh`` strings, ``kind``
    (when present) a string, ``params`` a dict with string keys, ``result`` present."""
    if not isinstance(item, dict) or "result" not in item:
        return None
    if not (isinstance(item.get("id"), str) and item["id"]) or not _is_wording(item.get("title")):
        return None
    params = item.get("params")
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        return None
    if "why" in item and not _is_wording(item["why"]):
        return None
    if "kind" in item and not isinstance(item["kind"], str):
        return None
    return item  # type: ignore[return-value]


def path_for(page: str) -> Path:
    """``curated/<page>.json``. Raises ValueError for an unknown page."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}")
    return CURATED_DIR / f"{page}.json"


def load(page: str) -> list[CuratedExample]:
    """The shipped examples of ``page`` that pass :func:`check_example` (``[]`` if the file is
    missing or unreadable)."""
    try:
        data = json.loads(path_for(page).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in data if check_example(e) is not None] if isinstance(data, list) else []


def save(page: str, examples: list[dict]) -> Path:
    """Write ``examples`` to ``curated/<page>.json`` (UTF-8, stable key order); returns the path."""
    path = path_for(page)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(examples, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def builder(page: str) -> Callable[[Callable[[str], Any]], list[dict]]:
    """``components.curated_<page>.build``: ``build(get_model) -> list[dict]`` where
    ``get_model(catalog_key) -> LoadedModel``."""
    path_for(page)
    return importlib.import_module(f"components.curated_{page}").build


def to_jsonable(obj: Any) -> Any:
    """numpy / pandas / tuples -> plain JSON types (floats rounded to 6 significant digits)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if np is not None and isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if np is not None and isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if hasattr(obj, "to_dict") and hasattr(obj, "columns"):  # DataFrame
        return to_jsonable(obj.to_dict(orient="list"))
    if isinstance(obj, float):
        return float(f"{obj:.6g}") if math.isfinite(obj) else None
    return obj


def differences(stored: Any, fresh: Any, atol: float = 2e-3, path: str = "$") -> list[str]:
    """Where ``fresh`` differs from ``stored``: numbers beyond ``atol`` (absolute), anything
    else unequal. Returns human-readable paths (empty list = same)."""
    if isinstance(stored, bool) or isinstance(fresh, bool):
        return [] if stored == fresh else [f"{path}: {stored!r} != {fresh!r}"]
    if isinstance(stored, (int, float)) and isinstance(fresh, (int, float)):
        return [] if abs(stored - fresh) <= atol else [f"{path}: {stored!r} != {fresh!r}"]
    if isinstance(stored, dict) and isinstance(fresh, dict):
        out = [f"{path}: keys {sorted(set(stored) ^ set(fresh))} differ"] if set(stored) != set(fresh) else []
        for k in stored.keys() & fresh.keys():
            out += differences(stored[k], fresh[k], atol, f"{path}.{k}")
        return out
    if isinstance(stored, list) and isinstance(fresh, list):
        if len(stored) != len(fresh):
            return [f"{path}: length {len(stored)} != {len(fresh)}"]
        out = []
        for i, (a, b) in enumerate(zip(stored, fresh)):
            out += differences(a, b, atol, f"{path}[{i}]")
        return out
    return [] if stored == fresh else [f"{path}: {stored!r} != {fresh!r}"]
