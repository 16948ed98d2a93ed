"""Plotly figures for the Attention visualizer (pure: arrays in, ``go.Figure`` out).

Payload policy (the JSON sent to the browser): matrices go in as float32 numpy arrays
rounded to 4 decimals, which plotly serialises as base64 typed arrays (4 bytes a cell, not
~8 characters of decimal text). Token text appears once per axis (``ticktext``) and, for the
one-head view only, in a per-cell hover string. Small multiples carry no per-cell strings
and are max-pooled when the input is long (see :func:`pool_max`). ``bench/attention.py``
measures the resulting sizes.

Every token string placed in labels or hover is HTML-escaped (plotly renders a subset of
HTML there).
"""
from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# Viridis and Cividis are perceptually uniform and readable with colour-vision deficiency
# (Cividis is optimised for it: Nuñez, Anderton & Renslow 2018).
COLOR_SCALES = {
    "Viridis (colour-blind safe)": "Viridis",
    "Cividis (colour-blind safe)": "Cividis",
    "Blues": "Blues",
    "Inferno": "Inferno",
}
DEFAULT_COLOR_SCALE = "Viridis"
DIVERGING = "RdBu_r"  # signed values (Q, K, V, scores): red positive, blue negative
SMALL_MULTIPLE_MAX = 128  # small multiples of one layer: pooled above this many tokens
THUMB_MAX = 16  # layers x heads grid: each thumbnail at most 16 x 16 cells
MAX_TICKS = 64  # above this, only every n-th token label is written on an axis


def esc(text: str) -> str:
    """Escape text for plotly labels/hover (``<``, ``>``, ``&`` show as typed)."""
    return html.escape(str(text), quote=False)


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


def token_categories(labels: list[str], raws: list[str] | None = None) -> list[str]:
    """Unique, escaped axis categories ``#i label`` (+ ``· raw <vocab string>`` when it differs).

    Used as the x/y values of token axes: plotly's hover then names the tokens (``%{x}``)
    without one string per cell, and duplicate tokens stay apart thanks to the ``#i`` prefix.
    """
    out = []
    for i, lab in enumerate(labels):
        raw = raws[i] if raws is not None else None
        extra = f" · raw {esc(raw)}" if raw is not None and raw != lab else ""
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
    value_name: str = "weight",
    height: int | None = None,
) -> go.Figure:
    """One attention matrix as a heatmap: query ("from") tokens down, key ("to") tokens across.

    Args:
        matrix: ``(seq, seq)``; ``matrix[i, j]`` = attention of query i to key j.
        labels: readable label per token (length seq); duplicates are fine (numeric axes
            with ``ticktext``).
        raw_tokens: vocabulary strings per token, shown on hover, or None.
        title: figure title (project text; escaped anyway).
        colorscale: a plotly colour scale name.
        zmax: upper end of the colour scale (None = data max).
        value_name: word used in the hover ("weight", "rollout" ...).
        height: pixels (None = grows with the number of tokens).

    Returns:
        Figure with one ``Heatmap``; hover reads ``from <q> → to <k>: <value>``.
    """
    z = _f32(matrix)
    n_rows, n_cols = z.shape
    cats = token_categories(labels, raw_tokens)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cats[:n_cols],
            y=cats[:n_rows],
            hovertemplate="from <b>%{y}</b><br>→ to <b>%{x}</b><br>" + esc(value_name)
            + ": %{z:.4f}<extra></extra>",
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
                        title=dict(text="key (attended to) →"), tickfont=dict(size=10 if n_cols > 40 else 12)),
        yaxis=_cat_axis(cats[:n_rows], labels, autorange="reversed",
                        title=dict(text="query (attending) ↓"), tickfont=dict(size=10 if n_rows > 40 else 12)),
    )
    return fig


def heads_small_multiples(
    layer_attn: np.ndarray,
    labels: list[str],
    layer: int,
    colorscale: str = DEFAULT_COLOR_SCALE,
    cols: int = 6,
    head_names: list[str] | None = None,
) -> go.Figure:
    """All heads of one layer as small multiples (one subplot per head).

    Args:
        layer_attn: ``(heads, seq, seq)``.
        labels: token labels (hover shows ``#i label``; no tick labels on thumbnails).
        layer: index shown in titles.
        cols: subplots per row.
        head_names: subplot titles (default ``head 0``, ``head 1`` ...).

    Returns:
        Figure with one ``Heatmap`` per head, shared colour scale 0..1. Above
        ``SMALL_MULTIPLE_MAX`` tokens each head is max-pooled (hover then names token ranges).
    """
    heads = layer_attn.shape[0]
    pooled, blocks = pool_max(layer_attn, SMALL_MULTIPLE_MAX)
    # categorical axes: hover names the token (or the token range of a pooled cell)
    axis = [f"#{a} {esc(labels[a])}" if b - a == 1 else f"#{a}–{b - 1}" for a, b in blocks]
    cols = max(1, min(cols, heads))
    rows = math.ceil(heads / cols)
    titles = head_names or [f"head {h}" for h in range(heads)]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.06 if rows > 1 else 0.0)
    for h in range(heads):
        fig.add_trace(
            go.Heatmap(
                z=_f32(pooled[h], 3), x=axis, y=axis,
                colorscale=colorscale, zmin=0.0, zmax=1.0, showscale=(h == 0),
                colorbar=dict(thickness=10, len=0.5) if h == 0 else None,
                hovertemplate=f"layer {layer} head {h}<br>from %{{y}} → to %{{x}}: %{{z:.3f}}<extra></extra>",
            ),
            row=h // cols + 1, col=h % cols + 1,
        )
    fig.update_xaxes(showticklabels=False, type="category")
    fig.update_yaxes(showticklabels=False, autorange="reversed", type="category")
    fig.update_layout(height=int(rows * 200 + 70), margin=dict(l=10, r=10, t=70, b=10),
                      title=dict(text=f"Layer {layer}: every head (query ↓ × key →)", font=dict(size=14)))
    return fig


def layers_heads_grid(
    attentions: np.ndarray,
    colorscale: str = DEFAULT_COLOR_SCALE,
    thumb: int = THUMB_MAX,
    gap: int = 2,
    highlight: tuple[int, int] | None = None,
) -> go.Figure:
    """Every layer x head as thumbnails in ONE heatmap (NaN gaps between them).

    Args:
        attentions: ``(layers, heads, seq, seq)``.
        thumb: thumbnail size in cells; longer inputs are max-pooled (:func:`pool_max`).
        gap: blank cells between thumbnails.
        highlight: (layer, head) outlined in the grid, or None.

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
                               hoverinfo="skip", colorbar=dict(thickness=10, title=dict(text="weight"))))
    px, py, cd = [], [], []
    for layer in range(layers):
        for h in range(heads):
            px.append(centers_x[h])
            py.append(centers_y[layer])
            cd.append([layer, h])
    fig.add_trace(go.Scatter(
        x=px, y=py, mode="markers", customdata=cd,
        marker=dict(size=max(8, min(40, 3 * t)), symbol="square", opacity=0.0, color="white"),
        hovertemplate="layer %{customdata[0]}, head %{customdata[1]}<extra>click to open</extra>",
        showlegend=False,
    ))
    if highlight is not None:
        hl, hh = highlight
        if 0 <= hl < layers and 0 <= hh < heads:
            fig.add_shape(type="rect", x0=hh * step - 1, x1=hh * step + t, y0=hl * step - 1, y1=hl * step + t,
                          line=dict(color="#D55E00", width=2))
    fig.update_layout(
        height=int(min(2400, max(300, layers * 60 + 100))),
        margin=dict(l=10, r=10, t=80, b=10),
        title=dict(text=f"All {layers} layers × {heads} heads (each thumbnail: query ↓ × key →)",
                   font=dict(size=14)),
        xaxis=dict(tickmode="array", tickvals=centers_x, ticktext=[f"head {h}" for h in range(heads)],
                   side="top", showgrid=False, zeroline=False),
        yaxis=dict(tickmode="array", tickvals=centers_y, ticktext=[f"layer {i}" for i in range(layers)],
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
) -> go.Figure:
    """A small heatmap of one step of the formula (Q, K, V, scores, mask, softmax, output).

    Args:
        matrix: ``(rows, cols)``; ±inf cells (the mask) are drawn blank.
        row_labels: token labels for the rows.
        col_labels: token labels for the columns, or None for dimension indices (d_k).
        signed: diverging colour scale centred on 0 (Q, K, V, scores) instead of ``colorscale``.
    """
    z = _f32(matrix)
    n_rows, n_cols = z.shape
    rows = token_categories(row_labels)
    if col_labels is not None:
        cols = token_categories(col_labels)
        xaxis = _cat_axis(cols, col_labels, max_ticks=24, tickangle=-60, tickfont=dict(size=9))
        xname = "key %{x}"
    else:
        cols = list(range(n_cols))
        xaxis = dict(title=dict(text=col_title or "dimension"), tickfont=dict(size=9))
        xname = "dim %{x}"
    finite = z[np.isfinite(z)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    heat = dict(colorscale=DIVERGING, zmid=0.0, zmin=-bound, zmax=bound) if signed else dict(
        colorscale=colorscale, zmin=0.0, zmax=max(bound, 1e-9) if col_labels is None else 1.0)
    fig = go.Figure(go.Heatmap(
        z=z, x=cols, y=rows, **heat,
        colorbar=dict(thickness=8),
        hovertemplate="token %{y} · " + xname + ": %{z:.4f}<extra></extra>",
    ))
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)),
        height=height or _step_height(n_rows),
        margin=dict(l=10, r=10, t=36, b=10),
        xaxis=xaxis,
        yaxis=_cat_axis(rows, row_labels, autorange="reversed", tickfont=dict(size=9)),
    )
    return fig


def _step_height(n_rows: int) -> int:
    """Pixels for a formula step: ~11 px a token row, 300..800."""
    return int(min(800, max(300, 11 * n_rows + 140)))


def mask_step(mask: np.ndarray, labels: list[str], title: str = "mask", height: int | None = None) -> go.Figure:
    """The additive mask as a picture: 0 (allowed) light, -∞ (blocked) dark."""
    blocked = (~np.isfinite(np.asarray(mask))).astype(np.float32)
    cats = token_categories(labels)
    fig = go.Figure(go.Heatmap(
        z=blocked, x=cats, y=cats,
        colorscale=[[0, "#f2f2f2"], [1, "#333333"]], zmin=0, zmax=1, showscale=False,
        hovertemplate="query %{y} → key %{x}: %{z}<extra>1 = blocked (−∞)</extra>",
    ))
    fig.update_layout(
        title=dict(text=title, font=dict(size=13)), height=height or _step_height(len(labels)),
        margin=dict(l=10, r=10, t=36, b=10),
        xaxis=_cat_axis(cats, labels, max_ticks=24, tickangle=-60, tickfont=dict(size=9)),
        yaxis=_cat_axis(cats, labels, autorange="reversed", tickfont=dict(size=9)),
    )
    return fig


def formula_figures(hc, labels: list[str], colorscale: str = DEFAULT_COLOR_SCALE,
                    hidden_dims: int = 64) -> dict[str, go.Figure]:
    """The steps of :class:`~components.attention.HeadComputation` as small heatmaps.

    Keys, in order: ``x`` (hidden state entering the layer, first ``hidden_dims`` dimensions),
    ``q``, ``k``, ``v`` (seq x d_k), ``scores`` (QKᵀ/√d_k), ``mask``, ``weights`` (softmax),
    ``output`` (weights · V).
    """
    d = min(hidden_dims, hc.x_normed.shape[1])
    rope = " (after RoPE)" if hc.rope else ""
    kv = f", shared KV head {hc.kv_head}" if hc.num_key_value_heads != hc.num_heads else ""
    return {
        "x": matrix_step(hc.x_normed[:, :d], labels,
                         f"x = {'norm(h)' if hc.architecture != 'bert' else 'h'}: first {d} of {hc.x.shape[1]} dims",
                         col_title="hidden dimension"),
        "q": matrix_step(hc.q, labels, f"Q = x·W_Q (head {hc.head}){rope}", col_title="d_k"),
        "k": matrix_step(hc.k, labels, f"K = x·W_K{kv}{rope}", col_title="d_k"),
        "v": matrix_step(hc.v, labels, f"V = x·W_V{kv}", col_title="d_k"),
        "scores": matrix_step(hc.scores, labels,
                              f"scores = QKᵀ/√{hc.d_k}", col_labels=labels),
        "mask": mask_step(hc.mask, labels, "causal mask (−∞ above the diagonal)" if np.isinf(hc.mask).any()
                          else "mask: none (every token sees every token)"),
        "weights": matrix_step(hc.weights, labels, "softmax(scores + mask)", col_labels=labels, signed=False,
                               colorscale=colorscale),
        "output": matrix_step(hc.output, labels, "head output = weights·V", col_title="d_k"),
    }


def payload_bytes(fig: go.Figure) -> int:
    """Size in bytes of the figure JSON Streamlit sends to the browser (``fig.to_json()``)."""
    return len(fig.to_json().encode("utf-8"))
