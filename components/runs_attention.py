"""Attention page, cached runs: the attention of every layer and head of a text (``st.cache_data``
on catalog id, text, pair, token cap and exact ids) and the figures and tables of a curated example
(``st.cache_resource``, shared by every session). The computing is :mod:`components.attention`;
the charts are :mod:`components.charts_attention`; this module only caches them."""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from components import i18n, ui
from components.attention import AttentionResult, get_attention
from components.charts_attention import (
    COLOR_SCALES,
    attention_heatmap,
    heads_small_multiples,
    heads_table,
    matrix_table,
    tokens_table,
)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def cached_attention(model_key: str, text: str, text_pair: str | None, max_tokens: int,
                     input_ids: tuple[int, ...] | None = None) -> AttentionResult:
    """:func:`components.attention.get_attention`, cached on (model key, text, pair, cap, ids)."""
    from components.cache import get_model

    return get_attention(get_model(model_key), text, text_pair, max_tokens=max_tokens,
                         input_ids=list(input_ids) if input_ids else None)



@st.cache_resource(max_entries=16, show_spinner=False)
def example_views(result_json: str, code: str, presenter: bool) -> dict:
    """Figures and tables of one curated example, built once per (example, language, presenter
    mode) and shared by every session: the slide then only hands them to ``st.plotly_chart``.
    Drawn with ``ready=True`` (never modified; the report copies its figures).

    Args:
        result_json: the example's ``result`` as JSON (the cache key follows its content).
        code: the session's language (titles, axis labels, table headers).
        presenter: lay the figures out for the projector (:func:`ui.present_figure`).

    Returns:
        ``{"head": go.Figure, "head_table": DataFrame, "heads": go.Figure | None,
        "heads_table": DataFrame | None, "tokens_table": DataFrame, "matrix": (n, n) float64}``.
    """
    snap = json.loads(result_json)
    colorscale = COLOR_SCALES["cividis"]
    layer, head = int(snap["layer"]), int(snap["head"])
    labels = snap["labels"]
    matrix = np.asarray(snap["matrix"], dtype=np.float64)
    views = {
        "matrix": matrix,
        "head": attention_heatmap(matrix, labels, snap["raw_tokens"], colorscale=colorscale, lang=code,
                                  title=i18n.translate(code, "attention.chart.head_title", layer=layer, head=head)),
        "head_table": matrix_table(matrix, labels, labels, code),
        "heads": None,
        "heads_table": None,
        "tokens_table": tokens_table(labels, snap["raw_tokens"], snap["input_ids"], snap["special"], lang=code),
    }
    if snap.get("layer_heads"):
        layer_attn = np.asarray(snap["layer_heads"])
        views["heads"] = heads_small_multiples(layer_attn, labels, layer, colorscale=colorscale, lang=code)
        views["heads_table"] = heads_table(layer_attn, labels, code)
    for name in ("head", "heads"):
        if presenter and views[name] is not None:
            ui.present_figure(views[name])
    return views

