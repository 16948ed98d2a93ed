"""Figures and tables of the "Inside the prediction" page (pure: data in, figure/DataFrame out).

Every token label is escaped with :func:`components.charts.plotly_literal` (plotly renders
a subset of HTML and fills ``%{...}`` placeholders); titles and axis words are translated
with :func:`components.i18n.translate` in the ``lang`` given.

UI side of the message contract (:mod:`components.messages`): figures and their tables are
presentation, not compute, so they are worded here in the UI language; :mod:`components.lens`
and :mod:`components.ablation` return numbers and token labels only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import i18n, palettes
from components.charts import plotly_literal as esc

MAX_CELL_TEXT = 24
"""Up to this many positions, the top token is written in every cell (beyond: hover only)."""
MAX_TICKS = 64


def tr(lang: str, key: str, **values) -> str:
    """``lens.<key>`` in ``lang``."""
    return i18n.translate(lang, f"lens.{key}", **values)


def row_names(num_layers: int, lang: str = "en") -> list[str]:
    """Name of each lens row: row 0 = embeddings, row n = after n layers."""
    return [tr(lang, "chart.row_embed")] + [tr(lang, "chart.row_after", n=n) for n in range(1, num_layers + 1)]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


# --------------------------------------------------------------------------- lens grid
def lens_grid(res, lang: str = "en", title: str = "") -> go.Figure:
    """Heatmap ``(L + 1) × seq`` of the lens's top-token probability, the top token written
    in each cell (short inputs) and on hover.

    Args:
        res: :class:`components.lens.LensResult`.
        lang: UI language. title: translated title (escaped here).

    Returns:
        Figure; y = rows (embeddings at the bottom, the model's output at the top), x =
        input positions (tick = the token AT that position; the cell = the lens's guess for
        the NEXT token).
    """
    z = np.round(res.top_probs[:, :, 0].astype(np.float64), 4)
    rows = row_names(res.num_layers, lang)
    text = [[esc(label) for label in row] for row in res.top_labels]
    inputs = [esc(label) for label in res.labels]
    custom = [[[text[r][p], inputs[p], esc(rows[r])] for p in range(res.seq_len)] for r in range(len(rows))]
    hover = (esc(tr(lang, "chart.hover_cell", row="\x00R", pos="\x00P", token="\x00T", next="\x00N"))
             .replace("\x00R", "%{customdata[2]}").replace("\x00P", "%{x}").replace("\x00T", "%{customdata[1]}")
             .replace("\x00N", "%{customdata[0]}"))
    heat = go.Heatmap(z=z, x=list(range(res.seq_len)), y=list(range(len(rows))), customdata=custom,
                      colorscale=palettes.SEQUENTIAL, zmin=0.0, zmax=1.0,
                      hovertemplate=hover + "<br>p = %{z:.4f}<extra></extra>",
                      colorbar=dict(title=dict(text=esc(tr(lang, "chart.prob"))), thickness=12))
    if res.seq_len <= MAX_CELL_TEXT:
        heat.update(text=text, texttemplate="%{text}", textfont=dict(size=9))
    fig = go.Figure(heat)
    step = max(1, -(-res.seq_len // MAX_TICKS))
    ticks = list(range(0, res.seq_len, step))
    fig.update_layout(
        title=dict(text=esc(title), font=dict(size=14)),
        height=int(min(1100, max(420, 22 * len(rows) + 160))),
        margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(tickmode="array", tickvals=ticks, ticktext=[inputs[i] for i in ticks], tickangle=-60,
                   title=dict(text=esc(tr(lang, "chart.position_axis")))),
        yaxis=dict(tickmode="array", tickvals=list(range(len(rows))), ticktext=[esc(r) for r in rows],
                   title=dict(text=esc(tr(lang, "chart.row_axis")))),
    )
    return fig


def lens_table(res, lang: str = "en") -> pd.DataFrame:
    """Long table of the grid: one row per (lens row, position)."""
    rows = row_names(res.num_layers, lang)
    records = []
    for r in range(len(rows)):
        for p in range(res.seq_len):
            records.append({
                tr(lang, "col.row"): rows[r], tr(lang, "col.position"): p, tr(lang, "col.token"): res.labels[p],
                tr(lang, "col.top_token"): res.top_labels[r][p], tr(lang, "col.top_id"): int(res.top_ids[r, p, 0]),
                tr(lang, "col.top_prob"): round(float(res.top_probs[r, p, 0]), 6),
                tr(lang, "col.final_prob"): round(float(res.final_prob[r, p]), 6),
                tr(lang, "col.final_rank"): int(res.final_rank[r, p]),
                tr(lang, "col.entropy"): round(float(res.entropy[r, p]), 4),
            })
    return pd.DataFrame(records)


# --------------------------------------------------------------------------- one position
def position_figure(res, position: int, final_label: str, lang: str = "en") -> go.Figure:
    """Probability (left axis) and rank (right axis, log) of the finally predicted token at
    ``position``, row by row."""
    rows = row_names(res.num_layers, lang)
    x = list(range(len(rows)))
    worst = int(res.final_rank[:, position].max())
    decades = [10 ** i for i in range(len(str(max(1, worst))) + 1)]  # 1, 10, 100 … past the worst rank
    fig = go.Figure()
    fig.add_scatter(x=x, y=np.round(res.final_prob[:, position].astype(np.float64), 5), mode="lines+markers",
                    name=esc(tr(lang, "chart.prob")), marker_color=palettes.OKABE_ITO[0],
                    hovertemplate="%{x}: p = %{y:.4f}<extra></extra>")
    fig.add_scatter(x=x, y=res.final_rank[:, position].astype(int).tolist(), mode="lines+markers", yaxis="y2",
                    name=esc(tr(lang, "chart.rank")), marker_color=palettes.OKABE_ITO[1], line=dict(dash="dot"),
                    hovertemplate="%{x}: " + esc(tr(lang, "chart.rank")) + " %{y}<extra></extra>")
    fig.update_layout(
        title=dict(text=esc(tr(lang, "chart.position_title", token=final_label, pos=position)), font=dict(size=14)),
        height=400, margin=dict(l=10, r=10, t=100, b=10),  # title above the legend, also at presenter sizes
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        xaxis=dict(tickmode="array", tickvals=x, ticktext=[esc(r) for r in rows], tickangle=-60),
        yaxis=dict(title=dict(text=esc(tr(lang, "chart.prob"))), range=[0, 1.02]),
        yaxis2=dict(title=dict(text=esc(tr(lang, "chart.rank_axis"))), overlaying="y", side="right",
                    type="log", autorange="reversed", showgrid=False, tickmode="array",
                    tickvals=decades, ticktext=[f"{v:,}" for v in decades]),
    )
    return fig


def position_table(res, position: int, lang: str = "en") -> pd.DataFrame:
    rows = row_names(res.num_layers, lang)
    return pd.DataFrame({
        tr(lang, "col.row"): rows,
        tr(lang, "col.top_token"): [res.top_labels[r][position] for r in range(len(rows))],
        tr(lang, "col.top_prob"): np.round(res.top_probs[:, position, 0].astype(np.float64), 6),
        tr(lang, "col.final_prob"): np.round(res.final_prob[:, position].astype(np.float64), 6),
        tr(lang, "col.final_rank"): res.final_rank[:, position].astype(int),
        tr(lang, "col.entropy"): np.round(res.entropy[:, position].astype(np.float64), 4),
    })


# --------------------------------------------------------------------------- ablation
def ablation_table(result, lang: str = "en") -> pd.DataFrame:
    """Tokens in either top list with their probability intact and ablated (intact order)."""
    p, q = _softmax(result.intact_logits), _softmax(result.ablated_logits)
    seen, records = set(), []
    for entry in [*result.intact_top, *result.ablated_top]:
        tid = entry["token_id"]
        if tid in seen:
            continue
        seen.add(tid)
        records.append({tr(lang, "col.token"): entry["token"], tr(lang, "col.token_id"): tid,
                        tr(lang, "col.p_intact"): round(float(p[tid]), 6),
                        tr(lang, "col.p_ablated"): round(float(q[tid]), 6),
                        tr(lang, "col.delta_p"): round(float(q[tid] - p[tid]), 6)})
    return pd.DataFrame(records)


def ablation_figure(result, lang: str = "en") -> go.Figure:
    """Grouped bars: probability of each listed token, intact vs ablated."""
    table = ablation_table(result, lang)
    x = list(range(len(table)))
    ticks = [esc(v) for v in table[tr(lang, "col.token")]]
    fig = go.Figure()
    for col, colour in ((tr(lang, "col.p_intact"), palettes.OKABE_ITO[0]),
                        (tr(lang, "col.p_ablated"), palettes.OKABE_ITO[1])):
        fig.add_bar(x=x, y=table[col], name=esc(col), marker_color=colour, customdata=ticks,
                    hovertemplate="%{customdata}: %{y:.4f}<extra>" + esc(col) + "</extra>")
    fig.update_layout(
        barmode="group", height=380, margin=dict(l=10, r=10, t=70, b=10),
        title=dict(text=esc(tr(lang, "chart.ablation_title", kl=f"{result.kl:.3f}")), font=dict(size=14)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        xaxis=dict(tickmode="array", tickvals=x, ticktext=ticks, tickangle=-40),
        yaxis=dict(title=dict(text=esc(tr(lang, "chart.prob"))), rangemode="tozero"),
    )
    return fig


# --------------------------------------------------------------------------- head scan
def scan_table(scan, lang: str = "en") -> pd.DataFrame:
    return pd.DataFrame([{
        tr(lang, "col.layer"): r["layer"], tr(lang, "col.head"): r["head"],
        tr(lang, "col.p_ablated"): round(r["p_ablated"], 6), tr(lang, "col.delta_p"): round(r["delta_p"], 6),
        tr(lang, "col.delta_logit"): round(r["delta_logit"], 4), tr(lang, "col.kl"): round(r["kl"], 6),
        tr(lang, "col.top_changed"): bool(r["top_changed"]),
        tr(lang, "col.attn_first"): round(r["attn_first"], 4),
        tr(lang, "col.attn_max_other"): round(r["attn_max_other"], 4),
        tr(lang, "col.attn_argmax"): r["attn_argmax"],
    } for r in scan.rows])


def scan_figure(scan, labels: list[str], lang: str = "en") -> go.Figure:
    """Mattering vs looking: x = the head's largest attention weight on a position other
    than the first (from the read position), y = change of the predicted token's
    probability when the head is switched off; one colour per layer."""
    fig = go.Figure()
    colours = palettes.categorical(max(1, len(scan.layers)))
    for i, layer in enumerate(scan.layers):
        rows = [r for r in scan.rows if r["layer"] == layer]
        looked = [esc(labels[r["attn_argmax"]]) if r["attn_argmax"] < len(labels) else "" for r in rows]
        fig.add_scatter(
            x=[round(r["attn_max_other"], 4) for r in rows], y=[round(r["delta_p"], 5) for r in rows],
            mode="markers", marker=dict(size=10, color=colours[i % len(colours)],
                                        symbol=["x" if r["top_changed"] else "circle" for r in rows]),
            name=esc(tr(lang, "chart.layer_name", layer=layer)),
            customdata=[[r["layer"], r["head"], looked[j], round(r["kl"], 4)] for j, r in enumerate(rows)],
            hovertemplate=esc(tr(lang, "chart.hover_head", layer="\x00L", head="\x00H", token="\x00T"))
            .replace("\x00L", "%{customdata[0]}").replace("\x00H", "%{customdata[1]}")
            .replace("\x00T", "%{customdata[2]}") + "<br>Δp = %{y:.4f}<br>KL = %{customdata[3]}<extra></extra>",
        )
    fig.update_layout(
        title=dict(text=esc(tr(lang, "chart.scan_title")), font=dict(size=14)),
        height=420, margin=dict(l=10, r=10, t=70, b=10),
        xaxis=dict(title=dict(text=esc(tr(lang, "chart.scan_x"))), range=[-0.02, 1.02]),
        yaxis=dict(title=dict(text=esc(tr(lang, "chart.scan_y")))),
    )
    return fig
