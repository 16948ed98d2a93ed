"""Plotly figure builders shared by pages (pure: data in, ``go.Figure`` out).

Any user or model text placed in labels or hover is HTML-escaped here, because plotly
renders a subset of HTML (``<b>``, ``<br>``...) in those strings.
"""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

# Okabe-Ito colour-blind-safe palette
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

STAGE_LABELS = {
    "p_raw": "softmax(logits)",
    "p_penalties": "after repetition penalties",
    "p_temperature": "after temperature",
    "p_top_k": "after top-k",
    "p_top_p": "after top-p",
    "p_final": "sampled from",
}


def esc(text: str) -> str:
    """Escape text for plotly labels/hover (``<``, ``>``, ``&`` show as typed)."""
    return html.escape(str(text), quote=False)


def next_token_figure(table: pd.DataFrame, stages: list[str]) -> go.Figure:
    """Grouped bars: probability of each candidate token at each sampling stage.

    Args:
        table: ``NextTokenDistribution.table`` (columns ``token``, ``raw_token``, ``token_id``
            and the ``p_*`` stage columns), rows in display order.
        stages: ``p_*`` column names to draw, in pipeline order.

    Returns:
        Figure with one bar trace per stage; x = token (position-indexed so duplicate labels
        stay apart), y = probability in [0, 1].
    """
    x = list(range(len(table)))
    ticktext = [esc(t) for t in table["token"]]
    fig = go.Figure()
    for i, stage in enumerate(stages):
        fig.add_bar(
            x=x,
            y=table[stage].round(5),
            name=STAGE_LABELS.get(stage, stage),
            marker_color=OKABE_ITO[i % len(OKABE_ITO)],
            customdata=list(zip(ticktext, [esc(r) for r in table["raw_token"]], table["token_id"])),
            hovertemplate="token %{customdata[0]} (raw %{customdata[1]}, id %{customdata[2]})"
            "<br>p = %{y:.4f}<extra>" + esc(STAGE_LABELS.get(stage, stage)) + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        height=360,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", y=1.12),
        yaxis=dict(title="probability", rangemode="tozero"),
        xaxis=dict(tickmode="array", tickvals=x, ticktext=ticktext, tickangle=-40),
    )
    return fig
