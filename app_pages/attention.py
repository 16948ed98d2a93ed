"""Attention visualizer: every layer and head of a real model, and the formula recomputed."""
from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from components import ui
from components.attention import (
    DEFAULT_MAX_TOKENS,
    MAX_TOKENS_LIMIT,
    AttentionInputError,
    AttentionResult,
    AttentionUnavailableError,
    UnsupportedArchitectureError,
    attention_rollout,
    drop_tokens,
    explain_head,
    get_attention,
    is_float_precision,
    mean_over_heads,
)
from components.catalog import ATTENTION, get_spec
from components.charts_attention import (
    COLOR_SCALES,
    attention_heatmap,
    formula_figures,
    heads_small_multiples,
    layers_heads_grid,
)

K = ui.persist_key
EXAMPLES = {
    "English: coreference": "The animal didn't cross the street because it was too tired.",
    "中文: 天气 (the primer's example)": "今天的天气很好，适合出去散步。",
    "English: repetition": "one two three four one two three four one two three four",
    "Pair (encoders): question / answer": ("Where is the cat?", "The cat is sleeping on the warm windowsill."),
}
VIEWS = ["One head", "Overview", "Aggregates", "Formula step by step"]
CAVEAT = (
    "⚠️ Attention weights show where a head *looks*, not *why* the model decides: they are not a "
    "faithful explanation of its output (Jain & Wallace 2019, *Attention is not Explanation*; "
    "Wiegreffe & Pinter 2019, *Attention is not not Explanation*)."
)


@st.cache_data(max_entries=8, ttl=3600, show_spinner="Running the model…")
def cached_attention(model_key: str, text: str, text_pair: str | None, max_tokens: int) -> AttentionResult:
    """:func:`components.attention.get_attention`, cached on (model key, text, pair, cap)."""
    from components.cache import get_model

    return get_attention(get_model(model_key), text, text_pair, max_tokens=max_tokens)


st.title("🔍 Attention visualizer · 注意力可视化")
st.caption(
    "Every layer and head of a real model: who attends to whom, and the formula "
    "softmax(QKᵀ/√d_k)·V recomputed from the model's own weights for any head you pick."
)

# ------------------------------------------------------------------ inputs
left, right = st.columns([3, 2], gap="large")
with left:
    model_key = ui.model_picker(ATTENTION, "att_model")
    spec = get_spec(model_key)
    if K("att_text") not in st.session_state:
        st.session_state[K("att_text")] = EXAMPLES["English: coreference"]
    if K("att_pair") not in st.session_state:
        st.session_state[K("att_pair")] = ""

    def _load_example() -> None:
        choice = st.session_state.get("att_example")
        value = EXAMPLES.get(choice)
        if isinstance(value, tuple):
            st.session_state[K("att_text")], st.session_state[K("att_pair")] = value
        elif value is not None:
            st.session_state[K("att_text")] = value
            st.session_state[K("att_pair")] = ""

    st.selectbox("Load an example", ["—", *EXAMPLES], key="att_example", on_change=_load_example)
    text = st.text_area("Sentence · 句子", key=K("att_text"), persist_state="session", height=90)
    pair = None
    if spec.is_causal:
        st.caption(f"{spec.display_name} is a decoder: one text only (sentence pairs are for encoders).")
    else:
        pair = st.text_input(
            "Second sentence (optional) · 第二句",
            key=K("att_pair"), persist_state="session",
            help="Encoders read a pair as [CLS] first [SEP] second [SEP], with segment ids 0/1.",
        )
with right:
    st.session_state.setdefault(K("att_cap"), DEFAULT_MAX_TOKENS)
    st.session_state.setdefault(K("att_hide"), False)
    cap = st.slider("Token cap", 8, MAX_TOKENS_LIMIT, step=8, key=K("att_cap"), persist_state="session",
                    help="Longer input is cut to this many tokens (a notice says so).")
    cmap_name = st.selectbox("Colour scale", list(COLOR_SCALES), key=K("att_cmap"), persist_state="session")
    hide_special = st.toggle("Hide special tokens ([CLS], [SEP], BOS …)", key=K("att_hide"), persist_state="session",
                             help="Drops their rows and columns from the view. Rows are not renormalised.")

ui.explainer(
    "What you are seeing · 你看到的是什么",
    """
**Self-attention · 自注意力.** Every token makes a *query* q, a *key* k and a *value* v (three learned
linear maps of its hidden state). Token *i* scores every token *j* with q_i·k_j/√d_k, a softmax turns the
scores of row *i* into weights that sum to 1, and the head's output for *i* is the weighted sum of the
values: **Attention(Q, K, V) = softmax(QKᵀ/√d_k)·V**. Each heatmap row is one such softmax: row = the
token attending (query), column = the token attended to (key).

**Multi-head · 多头.** Each layer runs several heads in parallel, each with its own W_Q, W_K, W_V, so
each can learn a different pattern: the diagonal (itself), the previous token, the separator tokens as
a "no-op" sink, or the word a pronoun refers to. Their outputs are concatenated and projected back.

**Encoder vs decoder · 编码器与解码器.** MiniLM/BERT are bidirectional: every token sees every token.
SmolLM2/GPT-2 are causal decoders (they generate left to right), so a **causal mask** sets the scores of
future tokens to −∞ before the softmax: the upper triangle is exactly 0.

**SmolLM2 details.** *Grouped-query attention (GQA):* 9 query heads share 3 key/value heads (heads 0–2
use KV head 0, 3–5 KV head 1, 6–8 KV head 2) to save memory. *RoPE (rotary position embeddings):* position
enters by rotating q and k by an angle proportional to the token's position, so q·k depends on the
relative distance. *RMSNorm pre-norm:* the hidden state is normalised before entering attention.

**Aggregates.** The mean over heads summarises a layer. *Attention rollout* (Abnar & Zuidema 2020) follows
attention through the layers: per layer 0.5·mean + 0.5·I (the residual connection), rows renormalised, and
multiplied from the first layer up.
""",
)

# ------------------------------------------------------------------ model + input checks
loaded = ui.load_or_explain(model_key, "att_model")
if loaded is None:
    st.stop()
pair_value = pair if pair and pair.strip() else None
if not isinstance(text, str) or not text.strip():
    st.warning("The sentence is empty: type a sentence (or load an example) to see its attention.", icon="✏️")
    st.stop()

try:
    result = cached_attention(model_key, text, pair_value, int(cap))
except (AttentionInputError, AttentionUnavailableError) as exc:
    st.error(str(exc), icon="⚠️")
    st.stop()
except Exception as exc:  # never a traceback
    logging.getLogger("llm_lab").exception("attention failed")
    st.error(f"Could not compute the attention: {type(exc).__name__}: {exc}", icon="⚠️")
    st.stop()

if result.truncated:
    st.warning(
        f"✂️ The input has {result.n_tokens_full} tokens, more than the cap of {result.max_tokens}: only the "
        f"first {result.seq_len} tokens are shown"
        + (" (a pair is cut from the longer sentence first)" if pair_value else "")
        + ". Raise the token cap (max 256) to see more.",
    )
with st.expander(f"Tokens ({result.seq_len}) · 词元"):
    st.dataframe(
        pd.DataFrame({
            "token": result.labels,
            "raw token": result.raw_tokens,
            "id": result.input_ids,
            **({"segment": result.token_type_ids} if result.token_type_ids is not None and pair_value else {}),
            "special": [p.special for p in result.pieces],
        }),
        width="stretch",
        height=min(400, 36 + 35 * result.seq_len),
    )


# ------------------------------------------------------------------ views (fragment)
def _clamp_selection(result: AttentionResult) -> None:
    """Reset layer/head to valid values (e.g. after switching to a model with fewer layers)."""
    for name, limit, what in (("att_layer", result.num_layers, "layers"), ("att_head", result.num_heads, "heads")):
        key = K(name)
        value = st.session_state.get(key)
        if not isinstance(value, int) or not 0 <= value < limit:
            if isinstance(value, int):
                st.info(f"{spec.display_name} has {limit} {what}: {what[:-1]} {value} does not exist, "
                        f"reset to 0.", icon="↩️")
            st.session_state[key] = 0


def _apply_grid_click(result: AttentionResult) -> None:
    """A thumbnail clicked in the layers x heads grid selects that (layer, head)."""
    event = st.session_state.get("att_grid_select")
    try:
        points = event["selection"]["points"]
    except (TypeError, KeyError):
        return
    if not points:
        return
    cd = points[0].get("customdata")
    if not (isinstance(cd, (list, tuple)) and len(cd) == 2):
        return
    token = str(points)  # apply each click once (the chart keeps its selection across reruns)
    if st.session_state.get("att_grid_applied") == token:
        return
    st.session_state["att_grid_applied"] = token
    if 0 <= int(cd[0]) < result.num_layers and 0 <= int(cd[1]) < result.num_heads:
        st.session_state[K("att_layer")], st.session_state[K("att_head")] = int(cd[0]), int(cd[1])


def _layer_head(result: AttentionResult, with_head: bool = True) -> tuple[int, int]:
    c1, c2 = st.columns(2)
    layer = c1.selectbox("Layer · 层", list(range(result.num_layers)), key=K("att_layer"), persist_state="session",
                         format_func=lambda i: f"layer {i}")
    head = st.session_state[K("att_head")]
    if with_head:
        kv = result.num_key_value_heads
        group = result.num_heads // kv if kv else 1
        head = c2.selectbox(
            "Head · 头", list(range(result.num_heads)), key=K("att_head"), persist_state="session",
            format_func=(lambda h: f"head {h} (KV head {h // group})") if kv != result.num_heads
            else (lambda h: f"head {h}"),
        )
    return int(layer), int(head)


def _view_tokens(result: AttentionResult, hide: bool):
    """(keep mask or None, labels, raw tokens) for the current hide-special setting."""
    labels, raws = result.labels, result.raw_tokens
    if not hide:
        return None, labels, raws
    keep = ~result.special_mask
    if keep.all():
        st.caption("This input has no special tokens to hide.")
        return None, labels, raws
    if not keep.any():
        st.warning("Every token is special: nothing left to show, showing all.")
        return None, labels, raws
    hidden = [lab for lab, k in zip(labels, keep) if not k]
    st.caption(f"Hidden: {', '.join(hidden)}. Rows are **not renormalised**: they now sum to less than 1 "
               "by the weight the hidden tokens received.")
    return keep, [lab for lab, k in zip(labels, keep) if k], [r for r, k in zip(raws, keep) if k]


def _show(matrix, keep):
    return matrix if keep is None else drop_tokens(matrix, keep)


@st.fragment
def views(result: AttentionResult, colorscale: str, hide: bool) -> None:
    _apply_grid_click(result)
    _clamp_selection(result)
    view = st.radio("View", VIEWS, key=K("att_view"), persist_state="session", horizontal=True)
    arch = "causal decoder" if result.is_causal else "bidirectional encoder"
    st.caption(f"{spec.display_name}: {arch}, {result.num_layers} layers × {result.num_heads} heads"
               + (f", {result.num_key_value_heads} key/value heads (GQA)"
                  if result.num_key_value_heads != result.num_heads else "")
               + f", {result.seq_len} tokens.")

    if view == "One head":
        layer, head = _layer_head(result)
        keep, labels, raws = _view_tokens(result, hide)
        chart, note = st.columns([4, 1])
        chart.plotly_chart(
            attention_heatmap(_show(result.attentions[layer, head], keep), labels, raws,
                              title=f"Layer {layer}, head {head}", colorscale=colorscale),
            width="stretch", key="att_one_head",
        )
        note.caption(CAVEAT)
        if result.is_causal:
            note.caption("Decoder: the upper triangle is 0 (causal mask: no token sees the future).")

    elif view == "Overview":
        layer, _ = _layer_head(result, with_head=False)
        keep, labels, _raws = _view_tokens(result, hide)
        st.plotly_chart(heads_small_multiples(_show(result.attentions[layer], keep), labels, layer,
                                              colorscale=colorscale), width="stretch", key="att_heads")
        st.caption(CAVEAT)
        st.markdown("**All layers × heads** — click a thumbnail to open it below (or use the selectors). "
                    "Look for the diagonal, previous-token stripes and vertical [CLS]/[SEP] sinks.")
        st.plotly_chart(
            layers_heads_grid(_show(result.attentions, keep), colorscale=colorscale,
                              highlight=(layer, int(st.session_state[K("att_head")]))),
            width="stretch", key="att_grid_select", on_select="rerun", selection_mode="points",
        )
        head = int(st.session_state[K("att_head")])
        st.plotly_chart(
            attention_heatmap(_show(result.attentions[layer, head], keep), labels, _raws,
                              title=f"Opened: layer {layer}, head {head}", colorscale=colorscale),
            width="stretch", key="att_opened",
        )

    elif view == "Aggregates":
        kind = st.radio("Aggregate", ["Mean over heads", "Attention rollout (Abnar & Zuidema 2020)"],
                        key=K("att_agg"), persist_state="session", horizontal=True)
        layer, _ = _layer_head(result, with_head=False)
        keep, labels, raws = _view_tokens(result, hide)
        if kind == "Mean over heads":
            matrix = mean_over_heads(result.attentions)[layer]
            title, name = f"Mean over the {result.num_heads} heads of layer {layer}", "mean weight"
            st.caption("Average of the heads' attention maps (rows still sum to 1).")
        else:
            matrix = attention_rollout(result.attentions)[layer]
            title, name = f"Attention rollout, layers 0–{layer}", "rollout"
            st.caption("Attention rollout (Abnar & Zuidema 2020): per layer A′ = 0.5·mean_heads(A) + 0.5·I, "
                       "rows renormalised, multiplied from layer 0 up to the chosen layer. An estimate of how "
                       "much each input token flows into each position — also not an explanation.")
        chart, note = st.columns([4, 1])
        chart.plotly_chart(attention_heatmap(_show(matrix, keep), labels, raws, title=title,
                                             colorscale=colorscale, value_name=name),
                           width="stretch", key="att_aggregate")
        note.caption(CAVEAT)

    else:
        layer, head = _layer_head(result)
        _formula(result, layer, head, colorscale)


def _formula(result: AttentionResult, layer: int, head: int, colorscale: str) -> None:
    try:
        hc = explain_head(loaded, result, layer, head)
    except UnsupportedArchitectureError as exc:
        st.info(str(exc), icon="🧩")
        return
    except (IndexError, ValueError) as exc:
        st.warning(str(exc))
        return
    ok = is_float_precision(hc.max_abs_diff)
    st.markdown(
        f"**{'✅' if ok else '❌'} max |recomputed − model| = {hc.max_abs_diff:.2e}** "
        f"({'at float32 precision, ≤ 1e-5' if ok else 'larger than float precision (1e-5)'}) — the "
        f"weights below were recomputed by hand in float64 from layer {layer}'s own weights and compared "
        "with the attentions the model returned."
    )
    figs = formula_figures(hc, result.labels, colorscale=colorscale)
    gqa = (f" Grouped-query attention: query head {head} shares key/value head {hc.kv_head} "
           f"(= {head} // {hc.num_heads // hc.num_key_value_heads}) with "
           f"{hc.num_heads // hc.num_key_value_heads - 1} other heads."
           if hc.num_key_value_heads != hc.num_heads else "")
    rope = (" Rotary position embeddings (RoPE) rotate each (q, k) pair of dimensions by an angle "
            "∝ position, using the model's own rotary_emb at positions 0…n−1." if hc.rope else "")
    st.markdown(f"**1 · Input · 输入.** The hidden state entering layer {layer} "
                f"({'embeddings' if layer == 0 else f'output of layer {layer - 1}'}), then the layer's input "
                f"norm: {hc.norm}. Shape {hc.x.shape[0]} tokens × {hc.x.shape[1]}.")
    st.plotly_chart(figs["x"], width="stretch", key="att_f_x")
    st.markdown(f"**2 · Q, K, V** for head {head}: each token × d_k = {hc.d_k}.{gqa}{rope}")
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figs["q"], width="stretch", key="att_f_q")
    c2.plotly_chart(figs["k"], width="stretch", key="att_f_k")
    c3.plotly_chart(figs["v"], width="stretch", key="att_f_v")
    st.markdown(f"**3 · Scores, mask, softmax.** scores = Q·Kᵀ × {hc.scaling:.4g} (= 1/√{hc.d_k}); "
                + ("the causal mask adds −∞ above the diagonal; " if result.is_causal else
                   "no mask (an encoder is bidirectional, and one unpadded sequence needs no padding mask); ")
                + "softmax over each row turns scores into weights that sum to 1.")
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figs["scores"], width="stretch", key="att_f_scores")
    c2.plotly_chart(figs["mask"], width="stretch", key="att_f_mask")
    c3.plotly_chart(figs["weights"], width="stretch", key="att_f_weights")
    st.markdown(f"**4 · Output.** weights · V: this head's contribution, {hc.output.shape[0]} × {hc.d_k}; the "
                f"{result.num_heads} head outputs are concatenated and projected by the layer's output matrix.")
    st.plotly_chart(figs["output"], width="stretch", key="att_f_output")
    st.caption("The formula view always shows every token (special tokens included). " + CAVEAT)


views(result, COLOR_SCALES.get(cmap_name, "Viridis"), bool(hide_special))
