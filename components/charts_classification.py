"""Plotly figures for the Classification page (pure: data in, ``go.Figure`` out).

Every label or text placed in a figure is escaped with :func:`components.charts.plotly_literal`: plotly renders a subset of
HTML in tick labels, hover text and annotations, and labels are typed by users.
Titles, axis names and hover words come from the page, already translated
(``classification.chart.*`` of ``locales/<lang>/classification.toml``, see :data:`WORDS`). Colours: Okabe–Ito (categorical)
and cividis (heatmap) from :mod:`components.palettes` (colour-blind safe).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from components import palettes
from components.charts import plotly_literal

SINGLE_COLOUR = palettes.OKABE_ITO[0]   # blue: a distribution over the labels
MULTI_COLOUR = palettes.OKABE_ITO[2]    # bluish green: independent probabilities


_esc = plotly_literal  # labels, hover and template text shown literally (components.charts)


WORDS = ("probability", "raw", "single_sub", "multi_sub", "true_label", "predicted_label", "examples")
"""Names of the words a chart needs (``classification.chart.<name>``); ``single_sub`` keeps a
``{sum}`` placeholder that the chart fills."""


def label_scores_bar(scores: pd.DataFrame, multi_label: bool, words: Mapping[str, str],
                     title: str = "") -> go.Figure:
    """Horizontal bars of label probabilities for ONE text.

    Args:
        scores: rows of one text with columns ``label`` and ``score`` in [0, 1] (optionally
            ``raw``: cosine or logit, shown on hover).
        multi_label: True for independent probabilities (a dashed 0.5 line is drawn),
            False for a distribution that sums to 1.
        words: the translated :data:`WORDS` (subtitle, axis title, hover words).
        title: figure title (escaped here).

    Returns:
        figure with one ``go.Bar`` trace, best label on top, x axis fixed to [0, 1].
    """
    frame = scores.sort_values("score", ascending=True)
    labels = [_esc(l) for l in frame["label"]]
    hover_raw = frame["raw"] if "raw" in frame.columns else [None] * len(frame)
    prob, raw = _esc(words["probability"]), _esc(words["raw"])
    hover = [
        f"{lab}<br>{prob} {s:.3f}" + (f"<br>{raw} {r:+.4f}" if r is not None else "")
        for lab, s, r in zip(labels, frame["score"], hover_raw)
    ]
    fig = go.Figure(go.Bar(
        x=frame["score"].tolist(), y=labels, orientation="h",
        marker_color=MULTI_COLOUR if multi_label else SINGLE_COLOUR,
        text=[f"{s:.2f}" for s in frame["score"]], textposition="outside",
        hovertext=hover, hoverinfo="text",
    ))
    subtitle = (words["multi_sub"] if multi_label
                else words["single_sub"].replace("{sum}", f"{frame['score'].sum():.2f}"))
    fig.update_layout(
        title=_esc(title) + (" — " if title else "") + _esc(subtitle),
        xaxis=dict(range=[0, 1.12], title=prob),
        yaxis=dict(title=None, automargin=True),
        height=max(180, 60 + 32 * len(frame)), margin=dict(l=10, r=10, t=50, b=40),
    )
    if multi_label:
        fig.add_vline(x=0.5, line_dash="dash", line_color="grey")
    return fig


def confusion_heatmap(confusion: pd.DataFrame, title: str, words: Mapping[str, str]) -> go.Figure:
    """Heatmap of a confusion matrix (cividis).

    Args:
        confusion: counts, index = true label, columns = predicted label (same order).
        title: figure title (escaped here).
        words: the translated :data:`WORDS` (axis titles and hover words).

    Returns:
        figure with one ``go.Heatmap``; each cell annotated with its count; true labels
        top-to-bottom in the frame's order.
    """
    rows = [_esc(r) for r in confusion.index]
    cols = [_esc(c) for c in confusion.columns]
    z = confusion.to_numpy()
    true_word, pred_word, count_word = (words["true_label"], words["predicted_label"],
                                        words["examples"])
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale=palettes.SEQUENTIAL, showscale=False,
        text=z, texttemplate="%{text}",
        hovertemplate=f"{_esc(true_word)}: %{{y}}<br>{_esc(pred_word)}: %{{x}}<br>"
                      f"{_esc(count_word)}: %{{z}}<extra></extra>",
    ))
    fig.update_layout(
        title=_esc(title),
        xaxis=dict(title=_esc(pred_word), side="bottom", type="category"),
        yaxis=dict(title=_esc(true_word), autorange="reversed", type="category", automargin=True),
        height=max(260, 120 + 40 * len(rows)), margin=dict(l=10, r=10, t=50, b=40),
    )
    return fig
