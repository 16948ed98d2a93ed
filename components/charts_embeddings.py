"""Plotly figures and report sections for the Embedding explorer (pure: data in, ``go.Figure``
/ ``report.Section`` out, no streamlit).

Every user text placed in hover, legend or titles goes through :func:`components.charts.plotly_literal` first
(plotly renders a subset of HTML there), so ``<b>``, ``&`` or ``<script>`` show as typed.
Large maps use WebGL (``Scattergl``) and float32 coordinates rounded to 4 decimals, and
hover text is cut to ``HOVER_CHARS`` characters, so a 10,000-point figure stays small.
Visible chart text comes from ``locales/<lang>/embeddings.toml`` (``lang`` argument): figures,
tables and reports are presentation, not compute, so this UI-side module words them in the UI
language (message contract, :mod:`components.messages`); :mod:`components.embeddings` returns
numbers, records and message codes only.
Colours: Okabe–Ito (:mod:`components.palettes`); beyond 8 labels the colours repeat with a
different marker symbol, so every label stays distinguishable without colour vision.
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from components import i18n, palettes
from components.charts import plotly_literal
from components.embeddings import HOVER_CHARS, PCA, TSNE, hover_text

WEBGL_FROM = 1_000          # points; above this 2-D maps use Scattergl
MAX_LEGEND_LABELS = 20      # more distinct labels than this: the rest are grouped as "other"
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "cross")
"""Marker symbol per cycle of the 8 Okabe–Ito colours (labels 1-8 circles, 9-16 squares ...)."""
GREY = palettes.NEUTRAL


def _tr(lang: str, key: str, **values) -> str:
    return i18n.translate(lang, f"embeddings.chart.{key}", **values)


def escape_hover(text: str, limit: int = HOVER_CHARS, width: int = 60) -> str:
    """Hover-ready text: cut to ``limit`` chars ("…"), wrapped at ``width`` with ``<br>``,
    every piece escaped with :func:`components.charts.plotly_literal` (so markup shows literally)."""
    cut = hover_text(text, limit).replace("\r", " ").replace("\n", " ⏎ ")
    lines = textwrap.wrap(cut, width=width, break_long_words=True, replace_whitespace=False) or [""]
    return "<br>".join(plotly_literal(line) for line in lines)


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float32), 4)


def label_groups(labels: Sequence[str] | None, n: int, lang: str = "en") -> tuple[list[str], np.ndarray]:
    """(legend names, ``(n,)`` group index). The ``MAX_LEGEND_LABELS`` most frequent labels
    keep their own colour; the rest share "(other labels)"; blank labels are "(no label)"
    (both names translated to ``lang``)."""
    no_label, other = _tr(lang, "no_label"), _tr(lang, "other_labels")
    if labels is None:
        return [no_label], np.zeros(n, dtype=np.int64)
    labs = np.array([str(x).strip() or no_label for x in labels], dtype=object)
    names, counts = np.unique(labs, return_counts=True)
    order = sorted(range(len(names)), key=lambda i: (-counts[i], str(names[i])))
    keep = [str(names[i]) for i in order[:MAX_LEGEND_LABELS]]
    if len(names) > MAX_LEGEND_LABELS:
        keep.append(other)
    first_seen: dict[str, int] = {}  # stable display order: as first seen in the data
    for lab in labs:
        first_seen.setdefault(lab if lab in keep else other, len(first_seen))
    legend = sorted(first_seen, key=first_seen.get)
    index = {name: i for i, name in enumerate(legend)}
    groups = np.fromiter((index[lab if lab in index else other] for lab in labs), dtype=np.int64, count=n)
    return legend, groups


def _trace(dims: int, coords: np.ndarray, n_total: int, **kwargs):
    if dims == 3:
        marker = dict(kwargs.pop("marker", {}))
        if marker.get("symbol") not in (None, "circle", "square", "diamond", "cross", "x"):
            marker["symbol"] = "circle"  # Scatter3d has fewer symbols
        return go.Scatter3d(x=_round(coords[:, 0]), y=_round(coords[:, 1]), z=_round(coords[:, 2]),
                            marker=marker, **kwargs)
    cls = go.Scattergl if n_total > WEBGL_FROM else go.Scatter
    return cls(x=_round(coords[:, 0]), y=_round(coords[:, 1]), **kwargs)


def subtitle(projection: str, lang: str = "en") -> str:
    """The map's subtitle for ``projection`` (``"pca"`` or ``"tsne"``), translated."""
    if projection not in (PCA, TSNE):
        raise ValueError(f"unknown projection {projection!r}")
    return _tr(lang, "sub_tsne" if projection == TSNE else "sub_pca")


def scatter_map(
    coords: np.ndarray,
    texts: Sequence[str],
    labels: Sequence[str] | None = None,
    axis_titles: Sequence[str] = ("PC1", "PC2"),
    highlight: np.ndarray | None = None,
    query_point: np.ndarray | None = None,
    query_text: str = "",
    selected: int | None = None,
    neighbours: Sequence[int] = (),
    title: str = "",
    projection: str = PCA,
    label_title: str = "",
    lang: str = "en",
) -> go.Figure:
    """Scatter of a 2-D/3-D embedding map, one trace per label.

    Args:
        coords: ``(n, 2)`` or ``(n, 3)`` map coordinates.
        texts: n item texts (shown literally in hover, cut to 200 chars).
        labels: n labels for colour, or None.
        axis_titles: one per dimension, e.g. "PC1 (34.2%)".
        highlight: ``(n,)`` bool search matches: matches drawn large on top, the rest dimmed.
        query_point: ``(dims,)`` position of a new query sentence (a star), or None.
        query_text: its text (hover).
        selected: index of the chosen point (ringed), or None.
        neighbours: indices of its nearest neighbours (ringed, smaller).
        title: figure title (escaped here).
        projection: ``"pca"`` or ``"tsne"`` -- the subtitle names the method actually shown.
        label_title: legend title (escaped; default: the translated word "label").
        lang: language of the chart's own words.

    Returns:
        ``go.Figure``; WebGL (``Scattergl``) above 1,000 points in 2-D, ``Scatter3d`` in 3-D.
        Every trace's ``customdata`` is the item index per point (-1 for the query star), so
        a click selection maps back to the item (:func:`components.embeddings.selected_item`).

    Raises:
        ValueError: ``len(texts)`` differs from the number of points, or unknown projection.
    """
    coords = np.asarray(coords, dtype=np.float32)
    n, dims = coords.shape
    if len(texts) != n:
        raise ValueError(f"{len(texts)} texts for {n} points")
    sub = subtitle(projection, lang)
    hover = np.array([escape_hover(t) for t in texts], dtype=object)
    legend, groups = label_groups(labels, n, lang)
    special = {_tr(lang, "other_labels")} | ({_tr(lang, "no_label")} if len(legend) > 1 else set())
    has_search = highlight is not None and bool(np.any(highlight))
    size = 4 if dims == 3 else (5 if n > WEBGL_FROM else 8)
    fig = go.Figure()
    for g, name in enumerate(legend):
        idx = np.flatnonzero(groups == g)
        if idx.size == 0:
            continue
        colour = GREY if name in special else palettes.OKABE_ITO[g % len(palettes.OKABE_ITO)]
        symbol = SYMBOLS[(g // len(palettes.OKABE_ITO)) % len(SYMBOLS)]
        safe = plotly_literal(name if len(name) <= 40 else name[:39] + "…")  # cut, then escape
        fig.add_trace(_trace(
            dims, coords[idx], n,
            mode="markers",
            name=safe,
            customdata=idx.tolist(),
            hovertext=hover[idx].tolist(),
            hovertemplate="%{hovertext}<extra>" + safe + "</extra>",
            marker=dict(size=size, color=colour, symbol=symbol,
                        opacity=0.15 if has_search else (0.75 if n > WEBGL_FROM else 0.9)),
            showlegend=labels is not None,
        ))
    if has_search:
        idx = np.flatnonzero(highlight)
        fig.add_trace(_trace(
            dims, coords[idx], n, mode="markers", name=plotly_literal(_tr(lang, "search_matches", n=idx.size)),
            customdata=idx.tolist(), hovertext=hover[idx].tolist(),
            hovertemplate="%{hovertext}<extra>" + plotly_literal(_tr(lang, "match")) + "</extra>",
            marker=dict(size=size + 5, color="#D55E00", line=dict(color="black", width=1), opacity=1.0),
        ))
    if selected is not None and 0 <= int(selected) < n:
        near = [int(i) for i in neighbours if 0 <= int(i) < n]
        if near:
            fig.add_trace(_trace(
                dims, coords[near], n, mode="markers", name=plotly_literal(_tr(lang, "neighbours")),
                customdata=near, hovertext=hover[near].tolist(),
                hovertemplate="%{hovertext}<extra>" + plotly_literal(_tr(lang, "neighbour")) + "</extra>",
                # a neutral ring: a palette colour would read as one more category
                marker=dict(size=size + 6, color="rgba(0,0,0,0)", line=dict(color="#333333", width=1.5)),
            ))
        fig.add_trace(_trace(
            dims, coords[[int(selected)]], n, mode="markers", name=plotly_literal(_tr(lang, "chosen")),
            customdata=[int(selected)], hovertext=[hover[int(selected)]],
            hovertemplate="%{hovertext}<extra>" + plotly_literal(_tr(lang, "chosen")) + "</extra>",
            marker=dict(size=size + 10, color="rgba(0,0,0,0)", line=dict(color="black", width=3)),
        ))
    if query_point is not None:
        q = np.asarray(query_point, dtype=np.float32).reshape(1, dims)
        fig.add_trace(_trace(
            dims, q, n, mode="markers+text" if dims == 2 else "markers", name=plotly_literal(_tr(lang, "query")),
            customdata=[-1],
            text=[plotly_literal(_tr(lang, "query_marker"))] if dims == 2 else None, textposition="top center",
            hovertext=[escape_hover(query_text)],
            hovertemplate="%{hovertext}<extra>" + plotly_literal(_tr(lang, "query")) + "</extra>",
            marker=dict(size=18 if dims == 2 else 9, color="#000000", symbol="star" if dims == 2 else "diamond",
                        line=dict(color="#F0E442", width=1.5)),
        ))
    head = plotly_literal(title)
    fig.update_layout(
        title=dict(text=f"{head}<br><sup>{plotly_literal(sub)}</sup>" if head else f"<sup>{plotly_literal(sub)}</sup>"),
        legend=dict(itemsizing="constant",
                    title=dict(text=plotly_literal(hover_text(label_title, 60) if label_title.strip()
                                                else _tr(lang, "legend_label")))),
        margin=dict(l=10, r=10, t=60, b=10),
        height=620,
        hovermode="closest",
        clickmode="event+select",
        uirevision=f"embedding-map-{projection}-{dims}",  # keep zoom/rotation while only colours/search change
    )
    titles = [plotly_literal(t) for t in axis_titles]
    if dims == 3:
        fig.update_layout(scene=dict(xaxis_title=titles[0], yaxis_title=titles[1], zaxis_title=titles[2]))
    else:
        fig.update_xaxes(title_text=titles[0], zeroline=False)
        fig.update_yaxes(title_text=titles[1], zeroline=False)
    return fig


def axis_titles(result: dict[str, Any]) -> list[str]:
    """"PC1 (34.2%)" per PCA axis, "t-SNE 1" per t-SNE axis, from a
    :func:`components.embeddings.map_result` dict."""
    ratios = result.get("explained_variance_ratio_")
    if result["projection"] == PCA and ratios:
        return [f"PC{i + 1} ({100 * r:.1f}%)" for i, r in enumerate(ratios)]
    return [f"t-SNE {i + 1}" for i in range(int(result["dims"]))]


def result_map(result: dict[str, Any], title: str = "", lang: str = "en", colour: bool = True,
               highlight: np.ndarray | None = None) -> go.Figure:
    """:func:`scatter_map` of a :func:`components.embeddings.map_result` dict (selected item,
    its neighbours and the query placed as in the result)."""
    nn = result.get("neighbours") or {}
    return scatter_map(
        np.asarray(result["coords"], dtype=np.float32).reshape(len(result["texts"]), -1),
        result["texts"], result["labels"] if colour else None, axis_titles(result),
        highlight=highlight,
        query_point=None if result.get("query_xy") is None else np.asarray(result["query_xy"]),
        query_text=result.get("query") or "",
        selected=result.get("selected"), neighbours=nn.get("index", []),
        title=title, projection=result["projection"], label_title=result.get("label_title") or "", lang=lang,
    )


def scree_bar(ratios: np.ndarray, used: int = 2, lang: str = "en") -> go.Figure:
    """Bar of ``explained_variance_ratio_`` per principal component (percent), the first
    ``used`` (the map's axes) coloured, plus the cumulative share as a line."""
    ratios = np.asarray(ratios, dtype=float)
    names = [f"PC{i + 1}" for i in range(len(ratios))]
    colours = [palettes.OKABE_ITO[0] if i < used else "#b8c7d6" for i in range(len(ratios))]
    fig = go.Figure(go.Bar(x=names, y=100 * ratios, marker_color=colours,
                           text=[f"{100 * r:.1f}%" for r in ratios], textposition="outside",
                           hovertemplate=_tr(lang, "hover_variance") + "<extra></extra>",
                           name=_tr(lang, "scree_per")))
    fig.add_trace(go.Scatter(x=names, y=100 * np.cumsum(ratios), mode="lines+markers", name=_tr(lang, "scree_cum"),
                             line=dict(color=palettes.OKABE_ITO[5]),
                             hovertemplate=_tr(lang, "hover_cumulative") + "<extra></extra>"))
    fig.update_layout(title=dict(text=_tr(lang, "scree_title")), height=300,
                      margin=dict(l=10, r=36, t=40, b=10), yaxis_title=_tr(lang, "scree_y"),
                      legend=dict(orientation="h", y=-0.2))
    return fig


# --------------------------------------------------------------------------- tables and report
def display_frame(frame, lang: str = "en"):
    """``frame`` with its column ids (``rank``, ``row``, ``text``, ``label``, ``cosine``,
    ``x``/``y``/``z``, ``nearest_*``, ``component``, ``ratio``) renamed to the translated headers
    ``embeddings.col.<id>``; unknown columns keep their name. Returns a new DataFrame."""
    return frame.rename(columns={c: i18n.translate(lang, f"embeddings.col.{c}")
                                 for c in frame.columns if f"embeddings.col.{c}" in i18n.strings(lang)})


def variance_frame(result: dict[str, Any]):
    """``component`` (PC1..), ``ratio`` (explained_variance_ratio_, 0..1) and ``cumulative`` of
    the scree components, or None for a t-SNE map."""
    import pandas as pd

    scree = result.get("scree")
    if not scree:
        return None
    ratios = np.asarray(scree, dtype=float)
    return pd.DataFrame({"component": [f"PC{i + 1}" for i in range(len(ratios))],
                         "ratio": np.round(ratios, 6), "cumulative": np.round(np.cumsum(ratios), 6)})


def settings_dict(result: dict[str, Any], lang: str = "en", model_name: str = "") -> dict[str, str]:
    """The map's settings as translated ``{name: value}`` rows (for the report)."""
    tr = lambda key, **v: i18n.translate(lang, f"embeddings.{key}", **v)  # noqa: E731
    out = {
        tr("report.model"): model_name or result.get("model", ""),
        tr("report.method"): tr(f"method.{result['method']}"),
    }
    if result.get("layer") is not None:
        out[tr("report.layer")] = str(result["layer"])
    out[tr("report.projection")] = tr(f"proj.{result['projection']}")
    out[tr("report.dims")] = f"{result['dims']}-D"
    if result.get("perplexity") is not None:
        out[tr("report.perplexity")] = f"{result['perplexity']:g}"
    out[tr("report.vector_dims")] = str(result.get("vector_dims", ""))
    if result.get("explained_variance_ratio_"):
        out[tr("report.kept")] = f"{100 * sum(result['explained_variance_ratio_']):.1f}%"
    mc = result.get("mean_cosine")
    out[tr("report.mean_cosine")] = "–" if mc is None or not np.isfinite(mc) else f"{mc:.3f}"
    return out


def report_sections(result: dict[str, Any], lang: str = "en", model_name: str = "", title: str = "",
                    source: str = "") -> list:
    """The HTML report of one map (:func:`components.report.build_report`): inputs (source,
    items with labels), settings, the map figure, the scree figure and explained variance
    table, and the neighbours tables (selected item and query). Text is escaped by the report.

    Args:
        result: a :func:`components.embeddings.map_result` dict.
        lang: report language; model_name: the model's display name; title: the map's title;
        source: where the items came from (e.g. the example set's title).

    Returns:
        list of :class:`components.report.Section`.
    """
    from components import embeddings as emb
    from components.report import Section

    tr = lambda key, **v: i18n.translate(lang, f"embeddings.{key}", **v)  # noqa: E731
    items = emb.points_frame(result)
    inputs = {tr("report.source"): source or "–", tr("report.items"): f"{len(result['texts']):,}"}
    if result.get("labels") is not None:
        inputs[tr("report.label_title")] = result.get("label_title") or tr("chart.legend_label")
    sections = [
        Section(tr("report.inputs"), "kv", inputs),
        Section(tr("report.settings"), "kv", settings_dict(result, lang, model_name)),
        Section(tr("report.map"), "figure", result_map(result, title=title, lang=lang)),
        Section(tr("report.points"), "table", display_frame(items, lang)),
    ]
    variance = variance_frame(result)
    if variance is not None:
        sections.append(Section(tr("report.variance"), "figure",
                                scree_bar(np.asarray(result["scree"]), used=int(result["dims"]), lang=lang)))
        sections.append(Section(tr("report.variance_table"), "table", display_frame(variance, lang)))
    else:
        sections.append(Section(tr("report.variance"), "markdown", tr("map.tsne_no_variance")))
    for which, heading, text in (("neighbours", "report.neighbours_item", None),
                                 ("query_neighbours", "report.neighbours_query", result.get("query"))):
        frame = emb.neighbours_frame(result, which)
        if frame is None:
            continue
        source_text = text if which == "query_neighbours" else result["texts"][result["selected"]]
        sections.append(Section(tr(heading), "text", source_text))
        sections.append(Section(tr("report.neighbours_table"), "table", display_frame(frame, lang)))
    sections.append(Section(tr("report.about"), "markdown", tr("report.about_text")))
    return sections
