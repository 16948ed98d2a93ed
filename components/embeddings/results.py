"""One map as plain JSON-able data, and the tables and facts the page reads from it.

:func:`map_result` gathers texts, map coordinates, nearest neighbours (full-space cosine),
a query point and tokenizer coverage (:mod:`components.coverage`) into the dict the page
renders live and ``curated/embeddings.json`` stores; :func:`points_frame` /
:func:`neighbours_frame` turn it into tables, :func:`selected_item` reads a map click.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from components import coverage
from components.embeddings.inputs import md_code
from components.embeddings.items import hover_text
from components.embeddings.neighbours import nearest_for_all, nearest_neighbours, normalise_rows
from components.embeddings.projection import TSNE, Projection, project_query
from components.embeddings.vectors import SENTENCE
from components.messages import Message


def summary_stats(vectors: np.ndarray) -> dict[str, float]:
    """Quick facts for the page: n, d, mean L2 norm, mean pairwise cosine (on <= 2,000 rows)."""
    X = np.asarray(vectors, dtype=np.float32)
    sub = normalise_rows(X[:2000])
    n = sub.shape[0]
    mean_cos = float((sub @ sub.T).sum() - n) / (n * (n - 1)) if n > 1 else math.nan
    return {"n": float(X.shape[0]), "d": float(X.shape[1]),
            "mean_norm": float(np.linalg.norm(X, axis=1).mean()), "mean_cosine": mean_cos}


def text_coverage(loaded, texts: Sequence[str]) -> tuple[list[dict], list[Message]]:
    """How much of each text the model's tokenizer reads (:func:`components.coverage.tokenizer_coverage`,
    one :meth:`~components.coverage.Coverage.as_dict` per text; repeated texts computed once),
    and a note listing the items too unknown to place meaningfully (``embeddings.msg.low_coverage``:
    they reach the model mostly as ``[UNK]``, so e.g. ``😡😡`` and ``🎉`` get the same vector)."""
    memo: dict[str, dict] = {}
    out = []
    for text in texts:
        if text not in memo:
            memo[text] = coverage.model_coverage(loaded, str(text)).as_dict()
        out.append(memo[text])
    low = [i for i, c in enumerate(out) if not c["meaningful"]]
    notes = []
    if low:
        examples = ", ".join(md_code(hover_text(texts[i], 40)) for i in low[:5])
        notes.append(Message("embeddings.msg.low_coverage", {"n": len(low), "total": len(texts), "examples": examples,
                                                          "min": f"{coverage.MIN_KNOWN:.0%}"}))
    return out, notes


def _neighbour_dict(nn: pd.DataFrame) -> dict[str, list]:
    return {"index": [int(i) for i in nn["index"]], "cosine": [float(c) for c in nn["cosine"]]}


def map_result(
    texts: Sequence[str],
    vectors: np.ndarray,
    projection: Projection,
    *,
    labels: Sequence[str] | None = None,
    label_title: str = "",
    rows: Sequence[int] | None = None,
    model_key: str = "",
    method: str = SENTENCE,
    layer: int | None = None,
    perplexity: float | None = None,
    selected: int | None = None,
    k: int = 8,
    query: str = "",
    query_vector: np.ndarray | None = None,
    notices: Sequence[Message] = (),
    coverages: Sequence[dict] | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one map, as plain JSON-able data (the same structure is
    rendered live and from ``curated/embeddings.json``).

    Args:
        texts: n items; vectors: their ``(n, d)`` embeddings; projection: their map.
        labels: n labels (colours) or None; label_title: the legend title.
        rows: display row numbers (default 1..n).
        model_key, method, layer, perplexity: the settings (for the report and the title).
        selected: index of the chosen item (its k nearest neighbours are listed), or None.
        query, query_vector: a new text and its ``(d,)`` embedding (placed on a PCA map).
        notices: :class:`~components.messages.Message` s to keep with the result.
        coverages: n :func:`text_coverage` dicts, or None (then no "known" column).

    Returns:
        dict with ``texts``, ``labels``, ``label_title``, ``rows``, ``model``, ``method``,
        ``layer``, ``projection``, ``dims``, ``perplexity``, ``coords`` ``(n, dims)``,
        ``explained_variance_ratio_`` ``(dims,)`` or None, ``scree`` ``(m,)`` or None,
        ``vector_dims`` (d), ``mean_cosine``, ``nearest`` (each item's nearest other item:
        ``{"index", "cosine"}``), ``selected``, ``neighbours`` (``{"index", "cosine"}`` of the
        selected item, cosine in the full space), ``query``, ``query_xy`` (None for t-SNE),
        ``query_neighbours``, and with ``coverages``: ``known`` (n cells like ``"0% (0/2)"``)
        and ``meaningful`` (n bools).
    """
    n = len(texts)
    best, score = nearest_for_all(vectors)
    result: dict[str, Any] = {
        "texts": [str(t) for t in texts],
        "labels": None if labels is None else [str(x) for x in labels],
        "label_title": str(label_title or ""),
        "rows": list(range(1, n + 1)) if rows is None else [int(r) for r in rows],
        "model": model_key, "method": method, "layer": None if layer is None else int(layer),
        "projection": projection.method, "dims": int(projection.coords.shape[1]),
        "perplexity": None if projection.method != TSNE or perplexity is None else float(perplexity),
        "coords": np.asarray(projection.coords, dtype=float).tolist(),
        "explained_variance_ratio_": (None if projection.explained_variance_ratio_ is None
                                      else [float(r) for r in projection.explained_variance_ratio_]),
        "scree": None if projection.scree is None else [float(r) for r in projection.scree],
        "vector_dims": int(np.asarray(vectors).shape[1]),
        "mean_cosine": summary_stats(vectors)["mean_cosine"],
        "nearest": {"index": [int(i) for i in best],
                    "cosine": [float(c) if np.isfinite(c) else None for c in score]},
        "selected": None, "neighbours": None,
        "query": "", "query_xy": None, "query_neighbours": None,
        "notices": [{"code": x.code, "params": dict(x.params)} for x in notices if isinstance(x, Message)],
    }
    if coverages is not None:
        result["known"] = [coverage.short(c) for c in coverages]
        result["meaningful"] = [bool(c["meaningful"]) for c in coverages]
    if selected is not None and 0 <= int(selected) < n:
        result["selected"] = int(selected)
        result["neighbours"] = _neighbour_dict(nearest_neighbours(vectors, int(selected), k=k))
    if query and query_vector is not None:
        result["query"] = str(query)
        result["query_neighbours"] = _neighbour_dict(nearest_neighbours(vectors, query_vector, k=k))
        xy = project_query(projection, query_vector)
        result["query_xy"] = None if xy is None else [float(v) for v in xy]
    return result


def neighbours_frame(result: dict[str, Any], which: str = "neighbours") -> pd.DataFrame | None:
    """The neighbours of the selected item (``which="neighbours"``) or of the query
    (``"query_neighbours"``) as a DataFrame with ``rank``, ``row``, ``text``, [``label``],
    [``known``: coverage of the item's text], ``cosine`` (English column ids; the page renames
    them for display). None if absent."""
    nn = result.get(which)
    if not nn:
        return None
    idx = nn["index"]
    frame = pd.DataFrame({"rank": range(1, len(idx) + 1), "row": [result["rows"][i] for i in idx],
                          "text": [result["texts"][i] for i in idx]})
    if result.get("labels") is not None:
        frame["label"] = [result["labels"][i] for i in idx]
    if result.get("known") is not None:
        frame["known"] = [result["known"][i] for i in idx]
    frame["cosine"] = np.round(np.asarray(nn["cosine"], dtype=float), 4)
    return frame


def points_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per item: ``row``, ``text``, [``label``], the map coordinates (one column per
    axis, ``x``/``y``/``z``), and its nearest other item (``nearest_row``, ``nearest_text``,
    ``nearest_cosine``, full-space cosine)."""
    coords = np.asarray(result["coords"], dtype=float).reshape(len(result["texts"]), -1)
    frame = pd.DataFrame({"row": result["rows"], "text": result["texts"]})
    if result.get("labels") is not None:
        frame["label"] = result["labels"]
    for j, axis in enumerate("xyz"[: coords.shape[1]]):
        frame[axis] = np.round(coords[:, j], 4)
    best = result["nearest"]["index"]
    frame["nearest_row"] = [result["rows"][i] if i >= 0 else None for i in best]
    frame["nearest_text"] = [result["texts"][i] if i >= 0 else "" for i in best]
    frame["nearest_cosine"] = [None if c is None else round(float(c), 4) for c in result["nearest"]["cosine"]]
    if result.get("known") is not None:
        frame["known"] = result["known"]
    return frame


def selected_item(selection: Any, n: int) -> int | None:
    """The item index picked by a click on the map, from Streamlit's plotly selection state
    (``{"points": [{"customdata": i | [i], ...}, ...]}``; every trace of
    :func:`components.charts_embeddings.scatter_map` carries the item index as ``customdata``,
    the query star carries -1). The last selected point counts; None when no item is selected
    or the value is malformed/out of range (never raises)."""
    try:
        points = (selection or {}).get("points") or []
    except AttributeError:
        return None
    for point in reversed(list(points)):
        try:
            data = point.get("customdata")
            if isinstance(data, (list, tuple)):
                data = data[0] if data else None
            index = int(data)
        except (AttributeError, TypeError, ValueError, OverflowError):
            continue
        if 0 <= index < n:
            return index
    return None
