"""Plotly figures for the Embedding explorer (pure: arrays in, ``go.Figure`` out).

Every user text placed in hover, legend or titles goes through ``html.escape`` first
(plotly renders a subset of HTML there), so ``<b>``, ``&`` or ``<script>`` show as typed.
Large maps use WebGL (``Scattergl``) and float32 coordinates rounded to 4 decimals, and
hover text is cut to ``HOVER_CHARS`` characters, so a 10,000-point figure stays small.
"""
from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.embeddings import HOVER_CHARS, hover_text

WEBGL_FROM = 1_000          # points; above this 2-D maps use Scattergl
MAX_LEGEND_LABELS = 20      # more distinct labels than this: the rest are grouped as "other"
# Okabe-Ito (colour-blind safe) followed by plotly's D3 palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31"]
NO_LABEL = "(no label)"
OTHER = "(other labels)"


def escape_hover(text: str, limit: int = HOVER_CHARS, width: int = 60) -> str:
    """Hover-ready text: cut to ``limit`` chars ("…"), wrapped at ``width`` with ``<br>``,
    every piece ``html.escape``d (so markup shows literally)."""
    cut = hover_text(text, limit).replace("\r", " ").replace("\n", " ⏎ ")
    lines = textwrap.wrap(cut, width=width, break_long_words=True, replace_whitespace=False) or [""]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float32), 4)


def label_groups(labels: Sequence[str] | None, n: int) -> tuple[list[str], np.ndarray]:
    """(legend names, ``(n,)`` group index). The ``MAX_LEGEND_LABELS`` most frequent labels
    keep their own colour; the rest share "(other labels)"; blank labels are "(no label)"."""
    if labels is None:
        return [NO_LABEL], np.zeros(n, dtype=np.int64)
    labs = np.array([str(x).strip() or NO_LABEL for x in labels], dtype=object)
    names, counts = np.unique(labs, return_counts=True)
    order = sorted(range(len(names)), key=lambda i: (-counts[i], str(names[i])))
    keep = [str(names[i]) for i in order[:MAX_LEGEND_LABELS]]
    if len(names) > MAX_LEGEND_LABELS:
        keep.append(OTHER)
    # stable display order: as first seen in the data
    first_seen = {}
    for lab in labs:
        key = lab if lab in keep else OTHER
        first_seen.setdefault(key, len(first_seen))
    legend = sorted(first_seen, key=first_seen.get)
    index = {name: i for i, name in enumerate(legend)}
    groups = np.fromiter((index[lab if lab in index else OTHER] for lab in labs), dtype=np.int64, count=n)
    return legend, groups


def _trace(dims: int, coords: np.ndarray, n_total: int, **kwargs):
    if dims == 3:
        kwargs.pop("selected", None)
        return go.Scatter3d(x=_round(coords[:, 0]), y=_round(coords[:, 1]), z=_round(coords[:, 2]), **kwargs)
    cls = go.Scattergl if n_total > WEBGL_FROM else go.Scatter
    return cls(x=_round(coords[:, 0]), y=_round(coords[:, 1]), **kwargs)


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
    nonlinear: bool = False,
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
        nonlinear: True for t-SNE (axes carry no units; said in the subtitle).

    Returns:
        ``go.Figure``; WebGL (``Scattergl``) above 1,000 points in 2-D, ``Scatter3d`` in 3-D.
    """
    coords = np.asarray(coords, dtype=np.float32)
    n, dims = coords.shape
    if len(texts) != n:
        raise ValueError(f"{len(texts)} texts for {n} points")
    hover = np.array([escape_hover(t) for t in texts], dtype=object)
    legend, groups = label_groups(labels, n)
    has_search = highlight is not None and bool(np.any(highlight))
    size = 4 if dims == 3 else (5 if n > WEBGL_FROM else 8)
    fig = go.Figure()
    for g, name in enumerate(legend):
        idx = np.flatnonzero(groups == g)
        if idx.size == 0:
            continue
        colour = "#9a9a9a" if name in (OTHER,) or (name == NO_LABEL and len(legend) > 1) else PALETTE[g % len(PALETTE)]
        safe = html.escape(name if len(name) <= 40 else name[:39] + "…", quote=False)  # cut, then escape
        fig.add_trace(_trace(
            dims, coords[idx], n,
            mode="markers",
            name=safe,
            hovertext=hover[idx].tolist(),
            hovertemplate="%{hovertext}<extra>" + safe + "</extra>",
            marker=dict(size=size, color=colour, opacity=0.15 if has_search else (0.75 if n > WEBGL_FROM else 0.9)),
            showlegend=labels is not None,
        ))
    if has_search:
        idx = np.flatnonzero(highlight)
        fig.add_trace(_trace(
            dims, coords[idx], n, mode="markers", name=f"search matches ({idx.size})",
            hovertext=hover[idx].tolist(), hovertemplate="%{hovertext}<extra>match</extra>",
            marker=dict(size=size + 5, color="#D55E00", line=dict(color="black", width=1), opacity=1.0),
        ))
    if selected is not None:
        near = [int(i) for i in neighbours if 0 <= int(i) < n]
        if near:
            fig.add_trace(_trace(
                dims, coords[near], n, mode="markers", name="nearest neighbours",
                hovertext=hover[near].tolist(), hovertemplate="%{hovertext}<extra>neighbour</extra>",
                marker=dict(size=size + 6, color="rgba(0,0,0,0)", line=dict(color="#009E73", width=2)),
            ))
        fig.add_trace(_trace(
            dims, coords[[selected]], n, mode="markers", name="chosen point",
            hovertext=[hover[selected]], hovertemplate="%{hovertext}<extra>chosen</extra>",
            marker=dict(size=size + 10, color="rgba(0,0,0,0)", line=dict(color="black", width=3)),
        ))
    if query_point is not None:
        q = np.asarray(query_point, dtype=np.float32).reshape(1, dims)
        fig.add_trace(_trace(
            dims, q, n, mode="markers+text" if dims == 2 else "markers", name="your query",
            text=["query"] if dims == 2 else None, textposition="top center",
            hovertext=[escape_hover(query_text)], hovertemplate="%{hovertext}<extra>your query</extra>",
            marker=dict(size=18 if dims == 2 else 9, color="#CC0000", symbol="star" if dims == 2 else "diamond",
                        line=dict(color="black", width=1)),
        ))
    sub = ("t-SNE is non-linear: neighbourhoods are meaningful, distances between clusters are not"
           if nonlinear else "PCA: a linear projection keeping the directions of most variance")
    head = html.escape(title, quote=False)
    fig.update_layout(
        title=dict(text=f"{head}<br><sup>{html.escape(sub)}</sup>" if head else f"<sup>{html.escape(sub)}</sup>"),
        legend=dict(itemsizing="constant", title=dict(text="label")),
        margin=dict(l=10, r=10, t=60, b=10),
        height=620,
        hovermode="closest",
        uirevision="embedding-map",  # keep zoom/rotation when only colours/search change
    )
    titles = [html.escape(t) for t in axis_titles]
    if dims == 3:
        fig.update_layout(scene=dict(xaxis_title=titles[0], yaxis_title=titles[1], zaxis_title=titles[2]))
    else:
        fig.update_xaxes(title_text=titles[0], zeroline=False)
        fig.update_yaxes(title_text=titles[1], zeroline=False)
    return fig


def scree_bar(ratios: np.ndarray, used: int = 2) -> go.Figure:
    """Bar of ``explained_variance_ratio_`` per principal component (percent), the first
    ``used`` (the map's axes) coloured, plus the cumulative share as a line."""
    ratios = np.asarray(ratios, dtype=float)
    names = [f"PC{i + 1}" for i in range(len(ratios))]
    colours = ["#0072B2" if i < used else "#b8c7d6" for i in range(len(ratios))]
    fig = go.Figure(go.Bar(x=names, y=100 * ratios, marker_color=colours,
                           text=[f"{100 * r:.1f}%" for r in ratios], textposition="outside",
                           hovertemplate="%{x}: %{y:.2f}% of variance<extra></extra>", name="per component"))
    fig.add_trace(go.Scatter(x=names, y=100 * np.cumsum(ratios), mode="lines+markers", name="cumulative",
                             line=dict(color="#D55E00"), hovertemplate="up to %{x}: %{y:.1f}%<extra></extra>"))
    fig.update_layout(title=dict(text="Explained variance (scree)"), height=300,
                      margin=dict(l=10, r=10, t=40, b=10), yaxis_title="% of total variance",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def png_config(filename: str = "embedding-map") -> dict:
    """``st.plotly_chart(config=...)`` for the modebar's "download as PNG" button."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
    }
