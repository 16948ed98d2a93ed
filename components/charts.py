"""Plotly figure builders shared by pages (pure: data in, ``go.Figure`` out).

Any user or model text placed in labels or hover is HTML-escaped here, because plotly
renders a subset of HTML (``<b>``, ``<br>``...) in those strings.
"""
from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from components.palettes import OKABE_ITO, categorical

STAGE_LABELS = {
    "p_raw": "softmax(logits)",
    "p_penalties": "after repetition penalties",
    "p_temperature": "after temperature",
    "p_top_k": "after top-k",
    "p_top_p": "after top-p",
    "p_final": "sampled from",
}
"""English fallback names of the stages (the page passes translated ones)."""

__all__ = ["OKABE_ITO", "STAGE_LABELS", "esc", "next_token_figure", "plotly_literal"]


def plotly_literal(text) -> str:
    """``text`` as plotly shows it literally anywhere: hover, tick labels, titles, legend
    names, and inside ``hovertemplate``/``texttemplate`` strings. The one escaper of every
    ``charts*`` module.

    ``<``, ``>``, ``&`` become entities (plotly renders a subset of HTML), and ``%`` becomes
    the numeric entity ``&#37;``: plotly.js substitutes template placeholders (``%{x}``,
    ``%{y:.2f}``, ``%{customdata[0]}``, ``%{meta[0]}`` in titles) *before* it decodes
    entities (``svg_text_utils.convertEntities`` decodes numeric ones), so an escaped
    ``%{x}`` is never a placeholder and still reads ``%{x}``. Quotes stay as typed
    (plotly leaves ``&quot;`` undecoded).
    """
    return html.escape(str(text), quote=False).replace("%", "&#37;")


esc = plotly_literal


TICK_ANGLE = 40
"""Rotation of the next-token chart's tick labels, degrees."""


def rotated_label_margin(labels: list[str], angle: float, char_px: float = 8.0, wide_px: float = 14.0,
                         base: int = 10) -> int:
    """Left margin (px) so tick labels rotated by ``angle`` degrees, hanging left from the
    first ticks, are not cut: the horizontal extent ``width * cos(angle)`` of the widest of
    ``labels`` (``char_px`` per narrow character, ``wide_px`` per East Asian wide one, by
    ``unicodedata.east_asian_width``), plus ``base``, at least the y-axis title's room (60)."""
    import math
    import unicodedata

    def width(text: str) -> float:
        return sum(wide_px if unicodedata.east_asian_width(ch) in "WF" else char_px for ch in text)

    extent = max((width(lab) for lab in labels), default=0.0) * math.cos(math.radians(angle))
    return int(max(60, base + extent))


def next_token_figure(table: pd.DataFrame, stages: list[str], stage_labels: dict[str, str] | None = None,
                      y_title: str = "probability", hover: str = "token {token} (raw {raw}, id {id})",
                      title: str | None = None) -> go.Figure:
    """Grouped bars: probability of each candidate token at each sampling stage.

    Args:
        table: ``NextTokenDistribution.table`` (columns ``token``, ``raw_token``, ``token_id``
            and the ``p_*`` stage columns), rows in display order.
        stages: ``p_*`` column names to draw, in pipeline order.
        stage_labels: legend name per stage column (translated by the page; default
            :data:`STAGE_LABELS`). Escaped here.
        y_title: y-axis title (translated). Escaped here.
        hover: hover line template with ``{token}``, ``{raw}``, ``{id}`` (translated; the
            values are escaped before they are filled in).
        title: optional chart title (escaped).

    Returns:
        Figure with one bar trace per stage (Okabe–Ito colours, colour-blind safe); x = token
        (position-indexed so duplicate labels stay apart), y = probability in [0, 1].
    """
    labels = {**STAGE_LABELS, **(stage_labels or {})}
    x = list(range(len(table)))
    ticktext = [esc(t) for t in table["token"]]
    colours = categorical(len(stages))
    head = esc(hover).replace("{token}", "%{customdata[0]}").replace("{raw}", "%{customdata[1]}") \
        .replace("{id}", "%{customdata[2]}")
    fig = go.Figure()
    for i, stage in enumerate(stages):
        name = esc(labels.get(stage, stage))
        fig.add_bar(
            x=x,
            y=table[stage].round(5),
            name=name,
            marker_color=colours[i],
            customdata=list(zip(ticktext, [esc(r) for r in table["raw_token"]], table["token_id"])),
            hovertemplate=head + "<br>p = %{y:.4f}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        height=360,
        # rotated tick labels hang down-left from their tick: the first ones need room on the
        # left, or their start is cut off ("‹E4 BD›→你" showed as "BD›→你")
        margin=dict(l=rotated_label_margin(ticktext[:3], TICK_ANGLE), r=10, t=90 if title else 40, b=10),
        # legend in its own row under the title (never on top of it)
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        yaxis=dict(title=esc(y_title), rangemode="tozero"),
        xaxis=dict(tickmode="array", tickvals=x, ticktext=ticktext, tickangle=-TICK_ANGLE, automargin=True),
    )
    if title:
        fig.update_layout(title=dict(text=esc(title), y=0.98, yanchor="top"))
    return fig
