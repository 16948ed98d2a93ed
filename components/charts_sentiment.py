"""Plotly figures (and one HTML snippet) for the Sentiment page. Pure: data in, ``go.Figure`` out.

Every visible word comes in as an argument, already translated by the page (``ui.t``); label
*keys* (``"positive"``, ``"negative"``, ``"neutral"``) pick the colours, ``names`` maps them to
the words shown. Every piece of user or model text placed in labels or hover is
escaped with :func:`components.charts.plotly_literal` (plotly renders a subset of HTML there). Colours come from
:mod:`components.palettes` (Okabe–Ito; cividis for the confusion matrix; the diverging
vermillion ↔ blue pair for signed attributions).
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go

from components import palettes
from components import sentiment as S
from components.charts import plotly_literal

COLOURS = {"positive": palettes.POSITIVE, "negative": palettes.NEGATIVE, "neutral": palettes.NEUTRAL,
           S.NOT_MEANINGFUL: palettes.UNREADABLE}
DEFAULT_COLOUR = palettes.OKABE_ITO[2]
LABEL_ORDER = ("negative", "neutral", "positive", S.NOT_MEANINGFUL)


_esc = plotly_literal  # labels, hover and template text shown literally (components.charts)


def html_text(text: str) -> str:
    """``text`` escaped for HTML inside ``st.markdown``: every ``:`` as ``&#58;`` too, because
    Streamlit rewrites ``:material/`` in the markdown source before parsing (a word typed as
    ``:material/home:`` would show as ``:material_home:``); the browser shows ``:`` again."""
    return html.escape(str(text), quote=True).replace(":", "&#58;")


def _name(names: Mapping[str, str] | None, key: str) -> str:
    return _esc((names or {}).get(key, key))


def probability_bars(scores: Mapping[str, float], title: str = "", value_name: str = "probability",
                     names: Mapping[str, str] | None = None, height: int = 170) -> go.Figure:
    """Horizontal bars of label -> value (0..1), one colour per label.

    Args:
        scores: label key -> value, e.g. ``{"negative": 0.1, "positive": 0.9}``.
        title: figure title (escaped).
        value_name: word shown in the hover ("probability", "proportion" ..., translated).
        names: label key -> displayed (translated) label.
    """
    labels = list(scores)
    values = [float(scores[k]) for k in labels]
    fig = go.Figure(go.Bar(
        x=values, y=[_name(names, k) for k in labels], orientation="h",
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


def compound_chart(compound: float, pos_threshold: float = 0.05, neg_threshold: float = -0.05,
                   names: Mapping[str, str] | None = None, value_name: str = "compound",
                   height: int = 130) -> go.Figure:
    """VADER's compound score on its −1 … +1 axis, with the bands that decide the label:
    ≥ ``pos_threshold`` positive, ≤ ``neg_threshold`` negative, else neutral (Hutto & Gilbert
    2014 / vaderSentiment README convention). The score is one bar from 0, coloured by the
    band it falls in, so the chart and the label can never disagree. Ticks only at
    −1, −0.5, 0, +0.5, +1; the neutral band's half-width is written once in its heading.

    Args:
        compound: VADER compound score in [-1, 1].
        names: label key -> displayed label (band names). value_name: axis/hover word.
    """
    label = "positive" if compound >= pos_threshold else "negative" if compound <= neg_threshold else "neutral"
    # A long bar carries its value inside (it would run past the axis end, above all in
    # presenter mode's large type); a short one beside its tip, on the side away from 0.
    inside = abs(compound) >= 0.5
    fig = go.Figure(go.Bar(
        x=[float(compound)], y=[_esc(value_name)], orientation="h", base=0,
        marker_color=COLOURS[label], width=0.5, text=[f"{compound:+.3f}"],
        textposition="inside" if inside else "outside", insidetextanchor="end", cliponaxis=False,
        hovertemplate=_esc(value_name) + ": %{x:+.3f} → " + _name(names, label) + "<extra></extra>",
    ))
    bands = (("negative", -1.0, neg_threshold), ("neutral", neg_threshold, pos_threshold), ("positive", pos_threshold, 1.0))
    half = max(abs(pos_threshold), abs(neg_threshold))
    for key, lo, hi in bands:
        fig.add_vrect(x0=lo, x1=hi, fillcolor=COLOURS[key], opacity=0.12, line_width=0, layer="below")
        # the neutral band is too narrow for tick labels at its edges: its width is named once, here
        text = _name(names, key) + (f" ±{half:.2f}" if key == "neutral" else "")
        fig.add_annotation(x=(lo + hi) / 2 if key != "neutral" else 0, y=1.02, yref="paper", showarrow=False,
                           text=text, font=dict(size=11), yanchor="bottom")
    for x in (neg_threshold, pos_threshold):
        fig.add_vline(x=x, line_width=1, line_dash="dot", line_color="#555555")
    fig.update_layout(height=height, margin=dict(l=30, r=30, t=25, b=5), showlegend=False,
                      xaxis=dict(range=[-1.2, 1.2], title=None, zeroline=True, tickvals=[-1, -0.5, 0, 0.5, 1],
                                 ticktext=["−1", "−0.5", "0", "+0.5", "+1"]),
                      yaxis=dict(title=None, showticklabels=False))
    return fig


def before_after_bars(before: Mapping[str, float], after: Mapping[str, float],
                      content_free: Mapping[str, float] | None = None,
                      series_names: Mapping[str, str] | None = None, names: Mapping[str, str] | None = None,
                      y_title: str = "probability", height: int = 220) -> go.Figure:
    """Grouped bars: label probabilities before and after contextual calibration (and the
    content-free input's distribution, which calibration divides by).

    Args:
        series_names: ``{"content_free", "uncalibrated", "calibrated"}`` -> legend text.
        names: label key -> displayed label. y_title: axis title.
    """
    labels = list(before)
    sn = {"content_free": "content-free input (N/A)", "uncalibrated": "uncalibrated",
          "calibrated": "calibrated", **(series_names or {})}
    series = [(sn["uncalibrated"], before, "#BBBBBB"), (sn["calibrated"], after, palettes.OKABE_ITO[0])]
    if content_free is not None:
        series.insert(0, (sn["content_free"], content_free, palettes.OKABE_ITO[1]))
    fig = go.Figure()
    for name, data, colour in series:
        fig.add_bar(name=_esc(name), x=[_name(names, k) for k in labels], y=[float(data[k]) for k in labels],
                    marker_color=colour, text=[f"{float(data[k]):.2f}" for k in labels],
                    textposition="auto",
                    hovertemplate=_esc(name) + " · %{x}: %{y:.3f}<extra></extra>")
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=5, b=5),
                      yaxis=dict(range=[0, 1], title=_esc(y_title)),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def attribution_heatmap(words: Sequence[str], rows: Mapping[str, Sequence[float | None]], title: str = "",
                        colorbar_title: str = "weight", height: int | None = None) -> go.Figure:
    """Word attributions of several approaches side by side: one row per approach, one
    column per word (text order), signed colour (:data:`palettes.DIVERGING`, centred on 0:
    blue = towards positive, vermillion = towards negative), the weight printed in each cell.

    Args:
        words: column labels (escaped; repeated words get a ``#position`` suffix so columns
            never merge; words over 24 characters are shortened with "…").
        rows: approach name (translated) -> one weight per word (None / NaN = not computed).
        title, colorbar_title: translated titles.
    """
    seen: dict[str, int] = {}
    ticks = []
    for i, w in enumerate(words):
        shown = w if len(w) <= 24 else w[:23] + "…"
        seen[shown] = seen.get(shown, 0) + 1
        ticks.append(_esc(shown if seen[shown] == 1 else f"{shown} #{i + 1}"))
    z = [[None if v is None or v != v else float(v) for v in vals] for vals in rows.values()]
    span = max([abs(v) for r in z for v in r if v is not None] + [1e-9])
    fig = go.Figure(go.Heatmap(
        z=z, x=ticks, y=[_esc(n) for n in rows], colorscale=palettes.DIVERGING, zmid=0,
        zmin=-span, zmax=span, texttemplate="%{z:+.2f}", xgap=1, ygap=1,
        colorbar=dict(title=dict(text=_esc(colorbar_title))),
        hovertemplate="%{y} · %{x}: %{z:+.4f}<extra></extra>",
    ))
    fig.update_layout(
        title=_esc(title) if title else None, height=height or 120 + 45 * len(rows),
        margin=dict(l=10, r=10, t=30 if title else 5, b=5),
        xaxis=dict(type="category", tickangle=-45), yaxis=dict(autorange="reversed", type="category"),
    )
    return fig


def attribution_html(pieces: Sequence[Sequence], title: str = "") -> str:
    """The text re-assembled from its words, each tinted by its signed weight (scaled to the
    largest absolute weight): blue = towards positive, vermillion = towards negative; the exact
    weight on hover. Every string is escaped, so the result is safe for
    ``st.markdown(..., unsafe_allow_html=True)`` and for reports.

    Args:
        pieces: ``[(word, weight, spaced)]`` (``spaced``: whitespace before the word; when a
            piece has only two fields a space is put between words).
        title: a small heading (escaped).
    """
    scale = max([abs(float(p[1])) for p in pieces] + [1e-12])
    spans = []
    for i, piece in enumerate(pieces):
        word, weight = str(piece[0]), float(piece[1])
        spaced = bool(piece[2]) if len(piece) > 2 else i > 0
        w = max(-1.0, min(1.0, weight / scale))
        rgb = "0,114,178" if w >= 0 else "213,94,0"  # palettes.POSITIVE / palettes.NEGATIVE
        spans.append(
            (" " if spaced and i > 0 else "")
            + f'<span title="{weight:+.4f}" style="unicode-bidi:isolate;background:rgba({rgb},{0.6 * abs(w):.2f});'
            f'padding:1px 2px;border-radius:3px;white-space:pre-wrap">{html_text(word)}</span>'
        )
    head = f"<div style='font-size:0.8em;opacity:0.7'>{html_text(title)}</div>" if title else ""
    return head + "<div style='line-height:1.9;white-space:pre-wrap'>" + "".join(spans) + "</div>"


def label_distribution(table: pd.DataFrame, approach_columns: Mapping[str, str],
                       names: Mapping[str, str] | None = None, y_title: str = "texts",
                       height: int = 300) -> go.Figure:
    """Grouped bar chart: how many texts each approach put in each label.

    Args:
        table: batch results, one row per text; label columns hold label keys, with
            :data:`components.sentiment.NOT_MEANINGFUL` for a text the approach could not
            read (its own hatched bar, as the results table shows it).
        approach_columns: displayed approach name -> column of ``table`` holding its label keys.
        names: label key -> displayed label. y_title: axis title.
    """
    fig = go.Figure()
    most = 0
    for label in LABEL_ORDER:
        counts = [int((table[col] == label).sum()) for col in approach_columns.values()]
        most = max([most, *counts])
        if label in ("neutral", S.NOT_MEANINGFUL) and not any(counts):
            continue
        fig.add_bar(name=_name(names, label), x=[_esc(n) for n in approach_columns], y=counts,
                    marker_color=COLOURS[label], marker_pattern_shape="/" if label == S.NOT_MEANINGFUL else "",
                    hovertemplate="%{x}<br>" + _name(names, label) + ": %{y}<extra></extra>")
    fig.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=5, b=5),
                      yaxis=dict(title=_esc(y_title), rangemode="tozero",
                                 dtick=1 if most <= 10 else None),   # counts: no "2.5 texts" tick
                      legend=dict(orientation="h", y=-0.2))
    return fig


def confusion_heatmap(confusion: pd.DataFrame, title: str = "", x_title: str = "predicted",
                      y_title: str = "true", names: Mapping[str, str] | None = None,
                      height: int = 260) -> go.Figure:
    """Heatmap (cividis) of a confusion matrix (rows = true label, columns = predicted), counts shown."""
    z = confusion.to_numpy()
    rows = [_name(names, r) for r in confusion.index]
    cols = [_name(names, c) for c in confusion.columns]
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, colorscale=palettes.SEQUENTIAL, showscale=False,
        text=z, texttemplate="%{text}",
        hovertemplate=_esc(y_title) + " %{y} · " + _esc(x_title) + " %{x}: %{z}<extra></extra>",
    ))
    fig.update_layout(
        title=_esc(title) if title else None, height=height, margin=dict(l=10, r=10, t=30 if title else 5, b=5),
        xaxis=dict(title=_esc(x_title), side="bottom"), yaxis=dict(title=_esc(y_title), autorange="reversed"),
    )
    return fig


def accuracy_bars(accuracies: Sequence[tuple[str, float]], x_title: str = "held-out accuracy",
                  height: int = 240) -> go.Figure:
    """Horizontal bars: held-out accuracy per approach (names escaped)."""
    names = [_esc(n) for n, _ in accuracies]
    values = [float(a) for _, a in accuracies]
    fig = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=palettes.OKABE_ITO[0],
                           text=[f"{v:.1%}" for v in values], textposition="auto",
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=5, b=5),
                      xaxis=dict(range=[0, 1], title=_esc(x_title)), yaxis=dict(autorange="reversed"))
    return fig
