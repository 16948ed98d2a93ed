"""Plotly figures for the Sentiment page. Pure: data in, ``go.Figure`` out.

Every piece of user or model text placed in labels or hover is ``html.escape``d (plotly
renders a subset of HTML there).
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

COLOURS = {"positive": "#009E73", "negative": "#D55E00", "neutral": "#999999"}  # Okabe-Ito
DEFAULT_COLOUR = "#0072B2"


def _esc(text) -> str:
    # quote=False: plotly shows &quot; literally in legends; < > & are what it would interpret
    return html.escape(str(text), quote=False)


def probability_bars(scores: Mapping[str, float], title: str = "", value_name: str = "probability",
                     height: int = 170) -> go.Figure:
    """Horizontal bars of label -> value (0..1), one colour per label.

    Args:
        scores: e.g. ``{"negative": 0.1, "positive": 0.9}``.
        title: figure title (escaped).
        value_name: word shown in the hover ("probability", "proportion" ...).
    """
    labels = list(scores)
    values = [float(scores[k]) for k in labels]
    fig = go.Figure(go.Bar(
        x=values, y=[_esc(k) for k in labels], orientation="h",
        marker_color=[COLOURS.get(k, DEFAULT_COLOUR) for k in labels],
        text=[f"{v:.2f}" for v in values], textposition="auto",
        hovertemplate="%{y}: %{x:.3f} " + _esc(value_name) + "<extra></extra>",
    ))
    fig.update_layout(
        title=_esc(title) if title else None, height=height, margin=dict(l=10, r=10, t=30 if title else 5, b=5),
        xaxis=dict(range=[0, 1], title=None), yaxis=dict(title=None, autorange="reversed"),
        showlegend=False,
    )
    return fig


def before_after_bars(before: Mapping[str, float], after: Mapping[str, float],
                      content_free: Mapping[str, float] | None = None, height: int = 220) -> go.Figure:
    """Grouped bars: label probabilities before and after contextual calibration (and the
    content-free input's distribution, which calibration divides by)."""
    labels = list(before)
    series = [("uncalibrated", before, "#BBBBBB"), ("calibrated", after, DEFAULT_COLOUR)]
    if content_free is not None:
        series.insert(0, ("content-free input (N/A)", content_free, "#E69F00"))
    fig = go.Figure()
    for name, data, colour in series:
        fig.add_bar(name=_esc(name), x=[_esc(k) for k in labels], y=[float(data[k]) for k in labels],
                    marker_color=colour, text=[f"{float(data[k]):.2f}" for k in labels],
                    textposition="auto",
                    hovertemplate=_esc(name) + " · %{x}: %{y:.3f}<extra></extra>")
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=5, b=5),
                      yaxis=dict(range=[0, 1], title="probability"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def label_distribution(table: pd.DataFrame, approach_columns: Mapping[str, str], height: int = 300) -> go.Figure:
    """Grouped bar chart: how many texts each approach put in each label.

    Args:
        table: batch results, one row per text.
        approach_columns: display name -> column of ``table`` holding that approach's labels.
    """
    labels = ["negative", "neutral", "positive"]
    fig = go.Figure()
    for label in labels:
        counts = [int((table[col] == label).sum()) for col in approach_columns.values()]
        if label == "neutral" and not any(counts):
            continue
        fig.add_bar(name=label, x=[_esc(n) for n in approach_columns], y=counts,
                    marker_color=COLOURS[label],
                    hovertemplate="%{x}<br>" + label + ": %{y} texts<extra></extra>")
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=5, b=5),
                      yaxis=dict(title="texts"), legend=dict(orientation="h", y=-0.2))
    return fig


def confusion_heatmap(confusion: pd.DataFrame, title: str = "", height: int = 260) -> go.Figure:
    """Heatmap of a confusion matrix (rows = true label, columns = predicted), counts shown."""
    z = confusion.to_numpy()
    rows = [_esc(r) for r in confusion.index]
    cols = [_esc(c) for c in confusion.columns]
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale="Blues", showscale=False,
        text=z, texttemplate="%{text}",
        hovertemplate="true %{y} · predicted %{x}: %{z}<extra></extra>",
    ))
    fig.update_layout(
        title=_esc(title) if title else None, height=height, margin=dict(l=10, r=10, t=30 if title else 5, b=5),
        xaxis=dict(title="predicted", side="bottom"), yaxis=dict(title="true", autorange="reversed"),
    )
    return fig


def accuracy_bars(accuracies: Sequence[tuple[str, float]], height: int = 240) -> go.Figure:
    """Horizontal bars: held-out accuracy per approach (names escaped)."""
    names = [_esc(n) for n, _ in accuracies]
    values = [float(a) for _, a in accuracies]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=DEFAULT_COLOUR,
                           text=[f"{v:.1%}" for v in values], textposition="auto",
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=5, b=5),
                      xaxis=dict(range=[0, 1], title="held-out accuracy"), yaxis=dict(autorange="reversed"))
    return fig
