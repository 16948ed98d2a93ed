"""Plotly figures for the Attention visualizer (pure: arrays in, ``go.Figure`` out).

Payload policy (the JSON sent to the browser): matrices go in as float32 numpy arrays
rounded to 4 decimals, which plotly serialises as base64 typed arrays (4 bytes a cell, not
~8 characters of decimal text). Token text appears once per axis (``ticktext``) and, for the
one-head view only, in a per-cell hover string. Small multiples carry no per-cell strings
and are max-pooled when the input is long (see :func:`pool_max`). ``bench/attention.py``
measures the resulting sizes.

Every token string placed in labels or hover is HTML-escaped (plotly renders a subset of
HTML there).

UI side of the message contract (:mod:`components.messages`): figures are presentation, not
compute, so titles, axes and hover words are worded here in the UI language given as ``lang``
(``locales/<lang>/attention.toml``); :mod:`components.attention` returns numbers only.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import i18n, palettes
from components.charts import plotly_literal

# Both perceptually uniform and readable with colour-vision deficiency; cividis (the
# project's heatmap palette, components.palettes.SEQUENTIAL) is optimised for it
# (Nuñez, Anderton & Renslow 2018). Keys are the page's choice ids (also in links).
COLOR_SCALES = {
    "cividis": palettes.SEQUENTIAL,
    "viridis": "viridis",
}
DEFAULT_COLOR_SCALE = palettes.SEQUENTIAL
DIVERGING = palettes.DIVERGING  # signed values (Q, K, V, scores): vermillion negative, blue positive
SMALL_MULTIPLE_MAX = 128  # small multiples of one layer: pooled above this many tokens
THUMB_MAX = 16  # layers x heads grid: each thumbnail at most 16 x 16 cells
MAX_TICKS = 64  # above this, only every n-th token label is written on an axis


def tr(lang: str, key: str, **values) -> str:
    """``attention.<key>`` in ``lang`` (:func:`components.i18n.translate`)."""
    return i18n.translate(lang, f"attention.{key}", **values)


esc = plotly_literal  # labels, hover and template text shown literally (components.charts)


def _f32(matrix, decimals: int = 4) -> np.ndarray:
    """float32, rounded: compact base64 payload; ±inf/NaN become NaN (blank cells)."""
    m = np.asarray(matrix, dtype=np.float64)
    m = np.where(np.isfinite(m), m, np.nan)
    return np.round(m, decimals).astype(np.float32)


def pool_max(matrix: np.ndarray, target: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Max-pool the last two axes of ``(..., n, n)`` into at most ``target`` x ``target`` blocks.

    Max (not mean) keeps one-token patterns -- the diagonal, previous-token stripes, sinks --
    visible in a thumbnail. Returns the pooled array and the ``[start, end)`` token range of
    each block (identity blocks when ``n <= target``).
    """
    m = np.asarray(matrix)
    n = m.shape[-1]
    if n <= target:
        return m, [(i, i + 1) for i in range(n)]
    edges = np.linspace(0, n, target + 1).round().astype(int)
    blocks = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    rows = np.stack([m[..., a:b, :].max(axis=-2) for a, b in blocks], axis=-2)
    return np.stack([rows[..., a:b].max(axis=-1) for a, b in blocks], axis=-1), blocks


def token_categories(labels: list[str], raws: list[str] | None = None, lang: str = "en") -> list[str]:
    """Unique, escaped axis categories ``#i label`` (+ ``· raw <vocab string>`` when it differs).

    Used as the x/y values of token axes: plotly's hover then names the tokens (``%{x}``)
    without one string per cell, and duplicate tokens stay apart thanks to the ``#i`` prefix.
    """
    out = []
    for i, lab in enumerate(labels):
        raw = raws[i] if raws is not None else None
        extra = f" · {esc(tr(lang, 'chart.raw'))} {esc(raw)}" if raw is not None and raw != lab else ""
        out.append(f"#{i} {esc(lab)}{extra}")
    return out


def _cat_axis(cats: list[str], labels: list[str], max_ticks: int = MAX_TICKS, **extra) -> dict:
    n = len(cats)
    step = max(1, math.ceil(n / max_ticks))
    idx = list(range(0, n, step))
    return dict(type="category", tickmode="array", tickvals=[cats[i] for i in idx],
                ticktext=[esc(labels[i]) for i in idx], **extra)


def attention_heatmap(
    matrix: np.ndarray,
    labels: list[str],
    raw_tokens: list[str] | None = None,
    title: str = "",
    colorscale: str = DEFAULT_COLOR_SCALE,
    zmax: float | None = 1.0,
    value_name: str | None = None,
    height: int | None = None,
    lang: str = "en",
) -> go.Figure:
    """One attention matrix as a heatmap: query ("from") tokens down, key ("to") tokens across.

    Args:
        matrix: ``(seq, seq)``; ``matrix[i, j]`` = attention of query i to key j.
        labels: readable label per token (length seq); duplicates are fine (categories are
            prefixed with ``#i``, ticks show the label).
        raw_tokens: vocabulary strings per token, shown on hover, or None.
        title: figure title, already translated (escaped here).
        colorscale: a plotly colour scale name (default cividis, :data:`palettes.SEQUENTIAL`).
        zmax: upper end of the colour scale (None = data max).
        value_name: word for the value in hover and colour bar (default: translated "weight").
        height: pixels (None = grows with the number of tokens, 420..1000).
        lang: UI language of axis titles and hover words (``"en"`` / ``"zh"``).

    Returns:
        Figure with one ``Heatmap``; hover reads ``from <q> → to <k>: <value>``.
    """
    z = _f32(matrix)
    n_rows, n_cols = z.shape
    cats = token_categories(labels, raw_tokens, lang)
    value_name = value_name or tr(lang, "chart.weight")
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cats[:n_cols],
            y=cats[:n_rows],
            hovertemplate=esc(tr(lang, "chart.from")) + " <b>%{y}</b><br>→ " + esc(tr(lang, "chart.to"))
            + " <b>%{x}</b><br>" + esc(value_name) + ": %{z:.4f}<extra></extra>",
            colorscale=colorscale,
            zmin=0.0,
            zmax=zmax,
            colorbar=dict(title=dict(text=esc(value_name)), thickness=12),
        )
    )
    size = height or int(min(1000, max(420, 18 * n_rows + 200)))
    fig.update_layout(
        title=dict(text=esc(title), font=dict(size=14)),
        height=size,
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis=_cat_axis(cats[:n_cols], labels, tickangle=-60, side="top",
                        title=dict(text=esc(tr(lang, "chart.key_axis"))),
                        tickfont=dict(size=10 if n_cols > 40 else 12)),
        yaxis=_cat_axis(cats[:n_rows], labels, autorange="reversed",
                        title=dict(text=esc(tr(lang, "chart.query_axis"))),
                        tickfont=dict(size=10 if n_rows > 40 else 12)),
    )
    return fig


def heads_small_multiples(
    layer_attn: np.ndarray,
    labels: list[str],
    layer: int,
    colorscale: str = DEFAULT_COLOR_SCALE,
    cols: int = 6,
    head_names: list[str] | None = None,
    lang: str = "en",
) -> go.Figure:
    """All heads of one layer as small multiples (one subplot per head).

    Args:
        layer_attn: ``(heads, seq, seq)``.
        labels: token labels (hover shows ``#i label``; no tick labels on thumbnails).
        layer: index shown in titles.
        cols: subplots per row.
        head_names: subplot titles (default translated ``head 0``, ``head 1`` ...); escaped here.
        lang: UI language of titles and hover.

    Returns:
        Figure with one ``Heatmap`` per head, shared colour scale 0..1. Above
        ``SMALL_MULTIPLE_MAX`` tokens each head is max-pooled (hover then names token ranges).
    """
    layer_attn = np.asarray(layer_attn)
    heads = layer_attn.shape[0]
    pooled, blocks = pool_max(layer_attn, SMALL_MULTIPLE_MAX)
    # categorical axes: hover names the token (or the token range of a pooled cell)
    axis = [f"#{a} {esc(labels[a])}" if b - a == 1 else f"#{a}–{b - 1}" for a, b in blocks]
    cols = max(1, min(cols, heads))
    rows = math.ceil(heads / cols)
    titles = [esc(n) for n in head_names] if head_names else [esc(tr(lang, "chart.head_name", h=h)) for h in range(heads)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.06 if rows > 1 else 0.0)
    for h in range(heads):
        name = esc(tr(lang, "chart.layer_head", layer=layer, head=h))
        fig.add_trace(
            go.Heatmap(
                z=_f32(pooled[h], 3), x=axis, y=axis,
                colorscale=colorscale, zmin=0.0, zmax=1.0, showscale=(h == 0),
                colorbar=dict(thickness=10, len=0.5) if h == 0 else None,
                hovertemplate=name + "<br>" + esc(tr(lang, "chart.from")) + " %{y} → "
                + esc(tr(lang, "chart.to")) + " %{x}: %{z:.3f}<extra></extra>",
            ),
            row=h // cols + 1, col=h % cols + 1,
        )
    fig.update_xaxes(showticklabels=False, type="category")
    fig.update_yaxes(showticklabels=False, autorange="reversed", type="category")
    fig.update_layout(height=int(rows * 200 + 70), margin=dict(l=10, r=10, t=70, b=10),
                      title=dict(text=esc(tr(lang, "chart.layer_heads_title", layer=layer)), font=dict(size=14)))
    return fig


def layers_heads_grid(
    attentions: np.ndarray,
    colorscale: str = DEFAULT_COLOR_SCALE,
    thumb: int = THUMB_MAX,
    gap: int = 2,
    highlight: tuple[int, int] | None = None,
    lang: str = "en",
) -> go.Figure:
    """Every layer x head as thumbnails in ONE heatmap (NaN gaps between them).

    Args:
        attentions: ``(layers, heads, seq, seq)``.
        thumb: thumbnail size in cells; longer inputs are max-pooled (:func:`pool_max`).
        gap: blank cells between thumbnails.
        highlight: (layer, head) outlined in the grid, or None.
        lang: UI language of titles, ticks and hover.

    Returns:
        Figure: the thumbnail heatmap (no hover) plus an invisible scatter with one point per
        thumbnail whose ``customdata`` is ``[layer, head]`` (hover names it; clicking it
        selects it via ``st.plotly_chart(on_select=...)``).
    """
    layers, heads = attentions.shape[:2]
    pooled, _ = pool_max(attentions, thumb)
    t = pooled.shape[-1]
    step = t + gap
    grid = np.full((layers * step - gap, heads * step - gap), np.nan, dtype=np.float32)
    for layer in range(layers):
        for h in range(heads):
            grid[layer * step: layer * step + t, h * step: h * step + t] = pooled[layer, h]
    centers_x = [h * step + (t - 1) / 2 for h in range(heads)]
    centers_y = [layer * step + (t - 1) / 2 for layer in range(layers)]
    fig = go.Figure(go.Heatmap(z=_f32(grid, 3), colorscale=colorscale, zmin=0.0, zmax=1.0,
                               hoverinfo="skip",
                               colorbar=dict(thickness=10, title=dict(text=esc(tr(lang, "chart.weight"))))))
    px, py, cd = [], [], []
    for layer in range(layers):
        for h in range(heads):
            px.append(centers_x[h])
            py.append(centers_y[layer])
            cd.append([layer, h])
    fig.add_trace(go.Scatter(
        x=px, y=py, mode="markers", customdata=cd,
        marker=dict(size=max(8, min(40, 3 * t)), symbol="square", opacity=0.0, color="white"),
        hovertemplate=esc(tr(lang, "chart.layer_head", layer="\x00L", head="\x00H"))
        .replace("\x00L", "%{customdata[0]}").replace("\x00H", "%{customdata[1]}")
        + "<extra>" + esc(tr(lang, "chart.click")) + "</extra>",
        showlegend=False,
    ))
    if highlight is not None:
        hl, hh = highlight
        if 0 <= hl < layers and 0 <= hh < heads:
            fig.add_shape(type="rect", x0=hh * step - 1, x1=hh * step + t, y0=hl * step - 1, y1=hl * step + t,
                          line=dict(color=palettes.NEGATIVE, width=2))
    fig.update_layout(
        height=int(min(2400, max(300, layers * 60 + 100))),
        margin=dict(l=10, r=10, t=80, b=10),
        title=dict(text=esc(tr(lang, "chart.grid_title", layers=layers, heads=heads)), font=dict(size=14)),
        xaxis=dict(tickmode="array", tickvals=centers_x,
                   ticktext=[esc(tr(lang, "chart.head_name", h=h)) for h in range(heads)],
                   side="top", showgrid=False, zeroline=False),
        yaxis=dict(tickmode="array", tickvals=centers_y,
                   ticktext=[esc(tr(lang, "chart.layer_name", i=i)) for i in range(layers)],
                   autorange="reversed", showgrid=False, zeroline=False),
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def matrix_step(
    matrix: np.ndarray,
    row_labels: list[str],
    title: str,
    col_labels: list[str] | None = None,
    signed: bool = True,
    colorscale: str = DEFAULT_COLOR_SCALE,
    height: int | None = None,
    col_title: str = "",
    lang: str = "en",
) -> go.Figure:
    """A small heatmap of one step of the formula (Q, K, V, scores, mask, softmax, output).

    Args:
        matrix: ``(rows, cols)``; ±inf cells (the mask) are drawn blank.
        row_labels: token labels for the rows.
        title: translated title (escaped here).
        col_labels: token labels for the columns, or None for dimension indices (d_k).
        signed: diverging colour scale centred on 0 (:data:`palettes.DIVERGING`; Q, K, V,
            scores) instead of ``colorscale``.
        col_title: x-axis title when the columns are dimensions.
        lang: UI language of hover words.
    """
    z = _f32(matrix)
    n_rows, n_cols = z.shape
    rows = token_categories(row_labels)
    if col_labels is not None:
        cols = token_categories(col_labels)
        xaxis = _cat_axis(cols, col_labels, max_ticks=24, tickangle=-60, tickfont=dict(size=9))
        xname = esc(tr(lang, "chart.key")) + " %{x}"
    else:
        cols = list(range(n_cols))
        xaxis = dict(title=dict(text=esc(col_title or tr(lang, "chart.dimension"))), tickfont=dict(size=9))
        xname = esc(tr(lang, "chart.dim")) + " %{x}"
    finite = z[np.isfinite(z)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    heat = dict(colorscale=DIVERGING, zmid=0.0, zmin=-bound, zmax=bound) if signed else dict(
        colorscale=colorscale, zmin=0.0, zmax=max(bound, 1e-9) if col_labels is None else 1.0)
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, **heat,
        colorbar=dict(thickness=8),
        hovertemplate=esc(tr(lang, "chart.token")) + " %{y} · " + xname + ": %{z:.4f}<extra></extra>",
    ))
    fig.update_layout(
        title=dict(text=esc(title), font=dict(size=13)),
        height=height or _step_height(n_rows),
        margin=dict(l=10, r=10, t=36, b=10),
        xaxis=xaxis,
        yaxis=_cat_axis(rows, row_labels, autorange="reversed", tickfont=dict(size=9)),
    )
    return fig


def _step_height(n_rows: int) -> int:
    """Pixels for a formula step: ~11 px a token row, 300..800."""
    return int(min(800, max(300, 11 * n_rows + 140)))


def mask_step(mask: np.ndarray, labels: list[str], title: str = "mask", height: int | None = None,
              lang: str = "en") -> go.Figure:
    """The additive mask as a picture: 0 (allowed) light, -∞ (blocked) dark (greys: no hue
    is needed for two states)."""
    blocked = (~np.isfinite(np.asarray(mask))).astype(np.float32)
    cats = token_categories(labels)
    fig = go.Figure(go.Heatmap(
        z=blocked, x=cats, y=cats,
        colorscale=[[0, "#f2f2f2"], [1, "#333333"]], zmin=0, zmax=1, showscale=False,
        hovertemplate=esc(tr(lang, "chart.query")) + " %{y} → " + esc(tr(lang, "chart.key"))
        + " %{x}: %{z}<extra>" + esc(tr(lang, "chart.blocked")) + "</extra>",
    ))
    fig.update_layout(
        title=dict(text=esc(title), font=dict(size=13)), height=height or _step_height(len(labels)),
        margin=dict(l=10, r=10, t=36, b=10),
        xaxis=_cat_axis(cats, labels, max_ticks=24, tickangle=-60, tickfont=dict(size=9)),
        yaxis=_cat_axis(cats, labels, autorange="reversed", tickfont=dict(size=9)),
    )
    return fig


FORMULA_STEPS = ("x", "q", "k", "v", "scores", "mask", "weights", "output")
"""Keys of :func:`formula_figures` / :func:`formula_tables`, in the order of the formula."""


def formula_figures(hc, labels: list[str], colorscale: str = DEFAULT_COLOR_SCALE,
                    hidden_dims: int = 64, lang: str = "en") -> dict[str, go.Figure]:
    """The steps of :class:`~components.attention.HeadComputation` as small heatmaps.

    Keys (:data:`FORMULA_STEPS`), in order: ``x`` (hidden state entering the layer, first
    ``hidden_dims`` dimensions), ``q``, ``k``, ``v`` (seq x d_k), ``scores`` (QKᵀ/√d_k),
    ``mask``, ``weights`` (softmax), ``output`` (weights · V). Titles in ``lang``.
    """
    d = min(hidden_dims, hc.x_normed.shape[1])
    rope = tr(lang, "formula.after_rope") if hc.rope else ""
    kv = tr(lang, "formula.shared_kv", kv=hc.kv_head) if hc.num_key_value_heads != hc.num_heads else ""
    x_name = "h" if hc.architecture == "bert" else "norm(h)"
    return {
        "x": matrix_step(hc.x_normed[:, :d], labels,
                         tr(lang, "formula.fig_x", x=x_name, d=d, hidden=hc.x.shape[1]),
                         col_title=tr(lang, "chart.hidden_dim"), lang=lang),
        "q": matrix_step(hc.q, labels, tr(lang, "formula.fig_q", head=hc.head) + rope, col_title="d_k", lang=lang),
        "k": matrix_step(hc.k, labels, "K = x·W_K" + kv + rope, col_title="d_k", lang=lang),
        "v": matrix_step(hc.v, labels, "V = x·W_V" + kv, col_title="d_k", lang=lang),
        "scores": matrix_step(hc.scores, labels, f"scores = QKᵀ/√{hc.d_k}", col_labels=labels, lang=lang),
        "mask": mask_step(hc.mask, labels, tr(lang, "formula.fig_mask_causal") if np.isinf(hc.mask).any()
                          else tr(lang, "formula.fig_mask_none"), lang=lang),
        "weights": matrix_step(hc.weights, labels, "softmax(scores + mask)", col_labels=labels, signed=False,
                               colorscale=colorscale, lang=lang),
        "output": matrix_step(hc.output, labels, tr(lang, "formula.fig_output"), col_title="d_k", lang=lang),
    }


def payload_bytes(fig: go.Figure) -> int:
    """Size in bytes of the figure JSON Streamlit sends to the browser (``fig.to_json()``)."""
    return len(fig.to_json().encode("utf-8"))


# --------------------------------------------------------------------------- tables
TABLE_MAX_CELLS = 70_000
"""Largest token-by-token table (cells) the page sends; bigger views get a per-head summary."""


def token_columns(labels: list[str]) -> list[str]:
    """Unique column/row names ``"<i> <label>"`` for token-indexed tables (labels may repeat)."""
    return [f"{i} {lab}" for i, lab in enumerate(labels)]


def matrix_table(matrix: np.ndarray, row_labels: list[str], col_labels: list[str] | None = None,
                 lang: str = "en", decimals: int = 4) -> pd.DataFrame:
    """A heatmap's numbers as a table: one row per query token, one column per key token.

    Args:
        matrix: ``(rows, cols)``; ±inf (the mask) kept as ±inf.
        row_labels: token labels of the rows (first column, header ``query ↓ / key →``).
        col_labels: token labels of the columns, or None for dimension indices ``d0, d1 ...``.
        lang: language of the first column's header.
        decimals: rounding of the values (the charts show 4 decimals).

    Returns:
        DataFrame ``rows x (1 + cols)``; column names are unique (``"<i> <label>"``).
    """
    m = np.round(np.asarray(matrix, dtype=np.float64), decimals)
    cols = token_columns(col_labels) if col_labels is not None else [f"d{j}" for j in range(m.shape[1])]
    df = pd.DataFrame(m, columns=cols)
    df.insert(0, tr(lang, "table.corner"), token_columns(row_labels))
    return df


def heads_table(layer_attn: np.ndarray, labels: list[str], lang: str = "en",
                max_cells: int = TABLE_MAX_CELLS) -> pd.DataFrame:
    """The numbers behind :func:`heads_small_multiples`: one row per (head, query token), one
    column per key token, 4 decimals. Above ``max_cells`` cells (``heads * seq * seq``) it
    returns :func:`head_summary_table` rows for the layer instead (same shape as the grid's)."""
    layer_attn = np.asarray(layer_attn, dtype=np.float64)
    heads, n, _ = layer_attn.shape
    if heads * n * n > max_cells:
        return head_summary_table(layer_attn[None], lang, layers=None)
    cols = token_columns(labels)
    df = pd.DataFrame(np.round(layer_attn.reshape(heads * n, n), 4), columns=cols)
    df.insert(0, tr(lang, "table.corner"), token_columns(labels) * heads)
    df.insert(0, tr(lang, "table.head"), np.repeat(np.arange(heads), n))
    return df


def head_summary_table(attentions: np.ndarray, lang: str = "en", layers: list[int] | None = None) -> pd.DataFrame:
    """Per (layer, head) statistics (:func:`components.attention.head_statistics`) as a table:
    the numbers behind the layers x heads grid. ``layers`` = layer numbers of the first axis
    (default 0..L-1; None with a one-layer input = leave the layer column out)."""
    from components.attention import head_statistics

    att = np.asarray(attentions, dtype=np.float64)
    stats = head_statistics(att)
    n_layers, n_heads = att.shape[:2]
    rows = []
    for layer in range(n_layers):
        for h in range(n_heads):
            row = {} if layers is None and n_layers == 1 else {
                tr(lang, "table.layer"): (layers[layer] if layers else layer)}
            row[tr(lang, "table.head")] = h
            for name in ("entropy", "self", "previous", "first", "max"):
                value = stats[name][layer, h]
                row[tr(lang, f"table.{name}")] = round(float(value), 4) if np.isfinite(value) else None
            rows.append(row)
    return pd.DataFrame(rows)


def tokens_table(labels: list[str], raw_tokens: list[str], input_ids: list[int], special: list[bool],
                 segments: list[int] | None = None, lang: str = "en") -> pd.DataFrame:
    """The input's tokens: position, readable label, raw vocabulary string, id, (segment), special."""
    data = {
        tr(lang, "table.index"): list(range(len(labels))),
        tr(lang, "table.token"): list(labels),
        tr(lang, "table.raw"): list(raw_tokens),
        tr(lang, "table.id"): [int(i) for i in input_ids],
    }
    if segments is not None:
        data[tr(lang, "table.segment")] = [int(s) for s in segments]
    data[tr(lang, "table.special")] = [bool(s) for s in special]
    return pd.DataFrame(data)


def formula_tables(hc, labels: list[str], hidden_dims: int = 64, lang: str = "en") -> dict[str, pd.DataFrame]:
    """The numbers of :func:`formula_figures`, same keys (:data:`FORMULA_STEPS`); the mask
    table holds 0 and -inf."""
    d = min(hidden_dims, hc.x_normed.shape[1])
    mats = {"x": (hc.x_normed[:, :d], None), "q": (hc.q, None), "k": (hc.k, None), "v": (hc.v, None),
            "scores": (hc.scores, labels), "mask": (hc.mask, labels), "weights": (hc.weights, labels),
            "output": (hc.output, None)}
    return {name: matrix_table(m, labels, cols, lang) for name, (m, cols) in mats.items()}


# --------------------------------------------------------------------------- report
def report_sections(snapshot: dict, figures: list[tuple[str, go.Figure]], tables: list[tuple[str, pd.DataFrame]],
                    settings: dict | None = None, lang: str = "en") -> list:
    """Sections of the page's HTML report (:func:`components.report.build_report`).

    Args:
        snapshot: :func:`components.attention.snapshot` of the shown result (text, pair,
            model, layer, head, tokens, matrix).
        figures: (translated heading, figure) pairs, in page order.
        tables: (translated heading, DataFrame) pairs: the numbers of the figures.
        settings: extra view settings, ``{translated name: value}``.
        lang: report language.

    Returns:
        ``[Section, ...]``: inputs (literal text), settings, tokens, figures, tables, caveat.
        All text is escaped by the report builder.
    """
    from components.report import Section

    inputs = {tr(lang, "report.model"): snapshot.get("model_name") or snapshot.get("model", "")}
    shown = {
        tr(lang, "report.layer"): snapshot.get("layer"),
        tr(lang, "report.head"): snapshot.get("head"),
        tr(lang, "report.tokens_shown"): tr(lang, "report.tokens_of", n=len(snapshot.get("labels", [])),
                                            full=snapshot.get("n_tokens_full", len(snapshot.get("labels", [])))),
        **(settings or {}),
    }
    sections = [
        Section(tr(lang, "report.text"), "text", snapshot.get("text", "")),
    ]
    if snapshot.get("pair"):
        sections.append(Section(tr(lang, "report.pair"), "text", snapshot["pair"]))
    sections += [
        Section(tr(lang, "report.inputs"), "kv", inputs),
        Section(tr(lang, "report.settings"), "kv", shown),
        Section(tr(lang, "report.tokens"), "table", tokens_table(
            snapshot.get("labels", []), snapshot.get("raw_tokens", []), snapshot.get("input_ids", []),
            snapshot.get("special", [False] * len(snapshot.get("labels", []))), lang=lang)),
    ]
    sections += [Section(heading, "figure", fig) for heading, fig in figures]
    sections += [Section(heading, "table", df) for heading, df in tables]
    sections.append(Section(tr(lang, "report.caveat_heading"), "markdown", tr(lang, "report.caveat")))
    return sections
