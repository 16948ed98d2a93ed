"""Attention visualizer, UI side: the input block, the notes on the analysed input (truncation,
coverage, token table), the head / overview / aggregate / formula views with their charts and
tables, the report button and the presenter example. Strings from ``locales/<lang>/attention.toml``
through :func:`components.ui.t`; the page (``app_pages/attention.py``) reads widgets -> compute ->
these views. The computing is :mod:`components.attention`, the cached runs
:mod:`components.runs_attention`."""
from __future__ import annotations

import json

import numpy as np
import streamlit as st

from components import coverage, i18n, ui
from components.attention import (
    MAX_TOKENS_LIMIT,
    AttentionResult,
    UnsupportedArchitectureError,
    attention_rollout,
    drop_tokens,
    explain_head,
    is_float_precision,
    mean_over_heads,
    merge_pieces,
)
from components.catalog import ATTENTION, get_spec
from components.charts_attention import (
    COLOR_SCALES,
    FORMULA_STEPS,
    attention_heatmap,
    formula_figures,
    formula_tables,
    head_summary_table,
    heads_small_multiples,
    heads_table,
    layers_heads_grid,
    matrix_table,
    report_sections,
    tokens_table,
)
from components.curated_attention import EXAMPLE_INPUTS
from components.runs_attention import example_views
from components.tokens import group_spans, token_chips

K = ui.persist_key
t = ui.t
VIEWS = ("head", "overview", "aggregate", "formula")  # i18n: ok (choice ids)
AGGREGATES = ("mean", "rollout")  # i18n: ok (choice ids)


def lang() -> str:
    return ui.lang()


def label_fn(key: str, **values):
    """A ``format_func`` translating ``attention.<key>`` (``{k}`` = the option) in the language
    of *this* run: bound now, because AppTest (and Streamlit when it re-reads widget state)
    may call format functions outside the script run, where the session's language is unknown."""
    current = lang()
    return lambda k: i18n.translate(current, f"attention.{key}".replace("{k}", str(k)), **{
        name: (k if v is None else v(k)) for name, v in values.items()})


# ------------------------------------------------------------------ shared renderers
def chart_with_table(fig, key: str, table, filename: str, on_select: bool = False, ready: bool = False) -> None:
    """:func:`ui.chart` (the clickable overview grid with ``on_select="rerun"``; ``ready``: a
    shared, already laid-out figure, drawn unchanged)."""
    if on_select:
        ui.chart(fig, key=key, table=table, filename=filename, on_select="rerun", selection_mode="points")
    else:
        ui.chart(fig, key=key, table=table, filename=filename, ready=ready)


def show_head(fig, table, layer: int, head: int, key: str, causal: bool = False, ready: bool = False) -> None:
    """One head's heatmap ``fig`` (+ its ``table``, PNG) with the caveat beside it."""
    chart_col, note = st.columns([4, 1])
    with chart_col:
        chart_with_table(fig, key, table, filename=f"attention-layer{layer}-head{head}", ready=ready)
    note.caption(t("attention.caveat"))
    if causal:
        note.caption(t("attention.causal_note"))


def render_head(matrix, labels, raws, layer: int, head: int, key: str, colorscale: str,
                title: str | None = None, causal: bool = False) -> object:
    """One head's heatmap (+ table, PNG) with the caveat beside it; returns the figure."""
    fig = attention_heatmap(matrix, labels, raws, colorscale=colorscale, lang=lang(),
                            title=title or t("attention.chart.head_title", layer=layer, head=head))
    show_head(fig, matrix_table(matrix, labels, labels, lang()), layer, head, key, causal)
    return fig


def show_layer_heads(fig, table, layer: int, key: str, ready: bool = False) -> None:
    """Every head of one layer as small multiples ``fig`` (+ its ``table``)."""
    chart_with_table(fig, key, table, filename=f"attention-layer{layer}-heads", ready=ready)


def render_layer_heads(layer_attn, labels, layer: int, key: str, colorscale: str) -> object:
    """Every head of one layer as small multiples (+ table); returns the figure."""
    fig = heads_small_multiples(np.asarray(layer_attn), labels, layer, colorscale=colorscale, lang=lang())
    show_layer_heads(fig, heads_table(np.asarray(layer_attn), labels, lang()), layer, key)
    return fig


def report(snap: dict, figures: list, tables: list, settings: dict, key: str) -> None:
    """The page's one HTML report button for the shown result."""
    current = lang()
    ui.report_button(
        t("attention.report.title"),
        lambda: report_sections(snap, figures, tables, settings, lang=current),
        filename="attention-report", key=key,
    )



def render_example(example: dict) -> None:
    """A curated example from its JSON (no model needed), with the page's renderers; its
    figures and tables come ready from :func:`example_views`."""
    snap = example["result"]
    layer, head = int(snap["layer"]), int(snap["head"])
    st.caption(t("attention.present.model_line", model=snap.get("model_name", snap["model"]),
                 layers=snap["num_layers"], heads=snap["num_heads"], n=len(snap["labels"])))
    ui.show_literal(snap["text"])
    views = example_views(json.dumps(snap, sort_keys=True), lang(), ui.presenter())
    show_head(views["head"], views["head_table"], layer, head, "att_ex_head",
              causal=snap.get("is_causal", False), ready=True)
    figures = [(t("attention.chart.head_title", layer=layer, head=head), views["head"])]
    if views["heads"] is not None:
        show_layer_heads(views["heads"], views["heads_table"], layer, "att_ex_heads", ready=True)
        figures.append((t("attention.chart.layer_heads_heading", layer=layer), views["heads"]))
    with st.expander(t("attention.msg.tokens_expander", n=len(snap["labels"]))):
        ui.data_table(views["tokens_table"], "att_ex_tokens", filename="attention-tokens")
    report(snap, figures, [(t("attention.report.matrix"), views["head_table"])],
           {t("attention.report.source"): t("attention.report.precomputed")}, key="att_ex_report")



# ------------------------------------------------------------------ inputs
def inputs():
    """The input block (inside the page's :func:`components.ui.live_inputs`): model, example,
    text, pair and the settings column; returns ``(model_key, spec, text, pair)`` (``pair``
    None for a decoder)."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        model_key = ui.model_picker(ATTENTION, "att_model")
        spec = get_spec(model_key)

        def _load_example() -> None:
            text, pair_text = EXAMPLE_INPUTS.get(st.session_state.get("att_example"), (None, None))
            if text is not None:
                st.session_state[K("att_text")], st.session_state[K("att_pair")] = text, pair_text

        if not ui.presenter():
            st.selectbox(t("attention.input.example"), [None, *EXAMPLE_INPUTS], key="att_example",
                         on_change=_load_example, format_func=lambda k, f=label_fn("examples.{k}"): f(k) if k else "—")  # noqa: B008 - language fixed when drawn
        text = st.text_area(t("attention.input.text"), key=K("att_text"), persist_state="session", height=90)
        pair = None
        if spec.is_causal:
            st.caption(t("attention.input.decoder_one_text", name=ui.model_name(spec)))
        else:
            pair = st.text_input(t("attention.input.pair"), key=K("att_pair"), persist_state="session",
                                 help=t("attention.input.pair_help"))
    with right:
        if not ui.presenter():
            st.slider(t("attention.input.cap"), 8, MAX_TOKENS_LIMIT, step=8, key=K("att_cap"), persist_state="session",
                      help=t("attention.input.cap_help"))
            st.selectbox(t("attention.input.cmap"), list(COLOR_SCALES), key=K("att_cmap"), persist_state="session",
                         format_func=label_fn("cmap.{k}"))
            st.toggle(t("attention.input.hide"), key=K("att_hide"), persist_state="session",
                      help=t("attention.input.hide_help"))
    return model_key, spec, text, pair


def input_notes(result: AttentionResult, loaded, text: str, pair_value: str | None) -> None:
    """What the analysis did to the input: truncation warning, tokenizer coverage of each
    part, and the token table in an expander."""
    if result.truncated:
        st.warning(t("attention.msg.truncated_pair" if pair_value else "attention.msg.truncated",
                     full=result.n_tokens_full, cap=result.max_tokens, n=result.seq_len, limit=MAX_TOKENS_LIMIT),
                   icon="✂️")
    for part in [text, pair_value] if pair_value else [text]:  # how much of the input the tokenizer knows
        cov = coverage.model_coverage(loaded, part)
        cov_key, cov_values = coverage.message(cov, ui.escape_markdown)
        (st.caption if cov.meaningful else st.warning)(t(cov_key, **cov_values))
    with st.expander(t("attention.msg.tokens_expander", n=result.seq_len)):
        ui.data_table(
            tokens_table(result.labels, result.raw_tokens, result.input_ids, [p.special for p in result.pieces],
                         segments=result.token_type_ids if result.token_type_ids is not None and pair_value else None,
                         lang=lang()),
            "att_tokens", filename="attention-tokens",
            height=min(400, 36 + 35 * result.seq_len),
        )


# ------------------------------------------------------------------ views
def _clamp_selection(result: AttentionResult, spec) -> None:
    """Layer/head out of this model's range (a link, or a switch to a smaller model) → 0,
    with a notice."""
    for name, limit, what in (("att_layer", result.num_layers, "layer"), ("att_head", result.num_heads, "head")):
        key = K(name)
        value = st.session_state.get(key)
        if not isinstance(value, int) or not 0 <= value < limit:
            if isinstance(value, int):
                st.info(t(f"attention.msg.reset_{what}", name=ui.model_name(spec), limit=limit, value=value,
                          last=limit - 1), icon="↩️")
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
    layer = c1.selectbox(t("attention.sel.layer"), list(range(result.num_layers)), key=K("att_layer"),
                         persist_state="session", format_func=label_fn("sel.layer_option", i=None))
    head = st.session_state[K("att_head")]
    if with_head:
        kv = result.num_key_value_heads
        group = result.num_heads // kv if kv else 1
        # The browser keeps a selectbox's value as its shown label; when another model changes
        # the labels ("head 0 (KV head 0)" -> "head 0"), writing the state sends the new one.
        labels_for = (result.num_heads, kv)
        if st.session_state.get("att_head_labels") != labels_for:
            st.session_state["att_head_labels"] = labels_for
            st.session_state[K("att_head")] = min(int(head), result.num_heads - 1)
        head = c2.selectbox(
            t("attention.sel.head"), list(range(result.num_heads)), key=K("att_head"), persist_state="session",
            format_func=label_fn("sel.head_option_kv", h=None, kv=lambda h: h // group) if kv != result.num_heads
            else label_fn("sel.head_option", h=None),
        )
    return int(layer), int(head)


def _view_tokens(result: AttentionResult, hide: bool):
    """(matrix transform, labels, raw tokens) of the view: split characters merged when the
    merge toggle is on (:func:`components.attention.merge_pieces`), special tokens hidden when
    ``hide`` (:func:`components.attention.drop_tokens`)."""
    labels, raws = list(result.labels), list(result.raw_tokens)
    special = np.asarray(result.special_mask, dtype=bool)
    spans = group_spans(result.pieces)
    merge = len(spans) < len(labels) and bool(st.session_state.get(K("att_merge")))
    if merge:
        chips = token_chips(result.pieces)
        labels, raws = [c.label for c in chips], [c.raw for c in chips]
        special = special[[a for a, _ in spans]]

    def merged(matrix):
        return merge_pieces(matrix, spans) if merge else matrix

    if not hide:
        return merged, labels, raws
    keep = ~special
    if keep.all():
        st.caption(t("attention.msg.no_special"))
        return merged, labels, raws
    if not keep.any():
        st.warning(t("attention.msg.all_special"))
        return merged, labels, raws
    hidden = [lab for lab, k in zip(labels, keep) if not k]
    st.caption(t("attention.msg.hidden"))
    ui.show_literal(" ".join(hidden))
    return ((lambda matrix: drop_tokens(merged(matrix), keep)),
            [lab for lab, k in zip(labels, keep) if k], [r for r, k in zip(raws, keep) if k])


def _merge_toggle(result: AttentionResult) -> None:
    """The "one row per character" switch, offered when the tokenizer split characters."""
    spans = group_spans(result.pieces)
    if len(spans) == len(result.labels):
        return
    st.toggle(t("attention.input.merge", n=len(result.labels) - len(spans)), key=K("att_merge"),
              persist_state="session", help=t("attention.input.merge_help"))
    if st.session_state.get(K("att_merge")):
        rows = merge_pieces(result.attentions[0, 0], spans).sum(axis=-1)
        st.caption(t("attention.msg.merged", err=f"{float(np.abs(rows - 1).max()):.1e}"))


def views(result: AttentionResult, colorscale: str, hide: bool, loaded, spec, text: str,
          pair_value: str | None) -> tuple[list, list, int, int]:
    """The chosen view; returns (figures, tables) for the report and the (layer, head) shown.
    ``loaded``/``spec``: the model and its catalog entry; ``text``/``pair_value``: the analysed input."""
    _apply_grid_click(result)
    _clamp_selection(result, spec)
    view = st.radio(t("attention.view.label"), VIEWS, key=K("att_view"), persist_state="session", horizontal=True,
                    format_func=label_fn("view.{k}"))
    gqa = (t("attention.arch.gqa", kv=result.num_key_value_heads)
           if result.num_key_value_heads != result.num_heads else "")
    st.caption(t("attention.arch.summary", name=ui.model_name(spec),
                 arch=t("attention.arch.causal" if result.is_causal else "attention.arch.encoder"),
                 layers=result.num_layers, heads=result.num_heads, gqa=gqa, n=result.seq_len))
    figures, tables = [], []
    if view != "formula":
        _merge_toggle(result)

    if view == "head":
        layer, head = _layer_head(result)
        shown, labels, raws = _view_tokens(result, hide)
        matrix = shown(result.attentions[layer, head])
        fig = render_head(matrix, labels, raws, layer, head, "att_one_head", colorscale, causal=result.is_causal)
        figures.append((t("attention.chart.head_title", layer=layer, head=head), fig))
        if result.is_causal and not pair_value:
            # where a head looks is not what the prediction needs: test it by switching it off
            ui.link_button(t("attention.to_ablation", layer=layer, head=head), "lens",
                           {"text": text, "model": result.model_key, "layer": layer, "heads": [str(head)]},
                           key="att_to_ablation", icon="🔌")
        tables.append((t("attention.report.matrix"), matrix_table(matrix, labels, labels, lang())))

    elif view == "overview":
        layer, _ = _layer_head(result, with_head=False)
        head = int(st.session_state[K("att_head")])
        shown, labels, raws = _view_tokens(result, hide)
        fig = render_layer_heads(shown(result.attentions[layer]), labels, layer, "att_heads", colorscale)
        figures.append((t("attention.chart.layer_heads_heading", layer=layer), fig))
        st.caption(t("attention.caveat"))
        st.markdown(t("attention.overview_grid_md"))
        every = shown(result.attentions)
        grid = layers_heads_grid(every, colorscale=colorscale, highlight=(layer, head), lang=lang())
        chart_with_table(grid, "att_grid_select", head_summary_table(every, lang()), "attention-all-heads",
                         on_select=True)
        figures.append((t("attention.chart.grid_heading"), grid))
        matrix = shown(result.attentions[layer, head])
        opened = render_head(matrix, labels, raws, layer, head, "att_opened", colorscale,
                             title=t("attention.chart.opened_title", layer=layer, head=head))
        figures.append((t("attention.chart.opened_title", layer=layer, head=head), opened))
        tables.append((t("attention.report.matrix"), matrix_table(matrix, labels, labels, lang())))

    elif view == "aggregate":
        kind = st.radio(t("attention.agg.label"), AGGREGATES, key=K("att_agg"), persist_state="session",
                        horizontal=True, format_func=label_fn("agg.{k}"))
        layer, _ = _layer_head(result, with_head=False)
        head = int(st.session_state[K("att_head")])
        shown, labels, raws = _view_tokens(result, hide)
        if kind == "mean":
            matrix = mean_over_heads(result.attentions)[layer]
            title = t("attention.agg.mean_title", heads=result.num_heads, layer=layer)
            name = t("attention.agg.mean_value")
            st.caption(t("attention.agg.mean_caption"))
        else:
            matrix = attention_rollout(result.attentions)[layer]
            title, name = t("attention.agg.rollout_title", layer=layer), t("attention.agg.rollout_value")
            st.caption(t("attention.agg.rollout_caption"))
        matrix = shown(matrix)
        fig = attention_heatmap(matrix, labels, raws, title=title, colorscale=colorscale, value_name=name,
                                lang=lang())
        chart_col, note = st.columns([4, 1])
        with chart_col:
            chart_with_table(fig, "att_aggregate", matrix_table(matrix, labels, labels, lang()),
                             filename=f"attention-{kind}-layer{layer}")
        note.caption(t("attention.caveat"))
        figures.append((title, fig))
        tables.append((title, matrix_table(matrix, labels, labels, lang())))

    else:
        layer, head = _layer_head(result)
        figures, tables = _formula(result, layer, head, colorscale, loaded, spec)
    return figures, tables, layer, head


def _formula_chart(figs, tabs, name: str, layer: int, head: int) -> None:
    chart_with_table(figs[name], f"att_f_{name}", tabs[name], filename=f"attention-formula-{name}-l{layer}h{head}")


def _formula(result: AttentionResult, layer: int, head: int, colorscale: str, loaded, spec) -> tuple[list, list]:
    try:
        hc = explain_head(loaded, result, layer, head)
    except UnsupportedArchitectureError:
        st.info(t("attention.formula.unsupported", name=ui.model_name(spec), arch=result.architecture), icon="🧩")
        return [], []
    except (IndexError, ValueError) as exc:
        st.warning(t("attention.formula.failed", error=str(exc)))
        return [], []
    ok = is_float_precision(hc.max_abs_diff)
    st.markdown(t("attention.formula.parity_ok" if ok else "attention.formula.parity_bad",
                  diff=f"{hc.max_abs_diff:.2e}", layer=layer))
    figs = formula_figures(hc, result.labels, colorscale=colorscale, lang=lang())
    tabs = formula_tables(hc, result.labels, lang=lang())
    group = hc.num_heads // hc.num_key_value_heads
    gqa = (t("attention.formula.gqa", head=head, kv=hc.kv_head, group=group, others=group - 1)
           if hc.num_key_value_heads != hc.num_heads else "")
    rope = t("attention.formula.rope") if hc.rope else ""
    entering = (t("attention.formula.embeddings") if layer == 0
                else t("attention.formula.previous_output", prev=layer - 1))
    norm = t(f"attention.formula.norm_{hc.architecture}")
    st.markdown(t("attention.formula.step1", layer=layer, entering=entering, norm=norm,
                  n=hc.x.shape[0], hidden=hc.x.shape[1]))
    _formula_chart(figs, tabs, "x", layer, head)
    st.markdown(t("attention.formula.step2", head=head, d_k=hc.d_k, gqa=gqa, rope=rope))
    for col, name in zip(st.columns(3), ("q", "k", "v")):
        with col:
            _formula_chart(figs, tabs, name, layer, head)
    st.markdown(t("attention.formula.step3", scaling=f"{hc.scaling:.4g}", d_k=hc.d_k,
                  mask=t("attention.formula.mask_causal" if result.is_causal else "attention.formula.mask_none")))
    for col, name in zip(st.columns(3), ("scores", "mask", "weights")):
        with col:
            _formula_chart(figs, tabs, name, layer, head)
    st.markdown(t("attention.formula.step4", n=hc.output.shape[0], d_k=hc.d_k, heads=result.num_heads))
    _formula_chart(figs, tabs, "output", layer, head)
    st.caption(t("attention.formula.all_tokens") + " " + t("attention.caveat"))
    titles = {name: t(f"attention.formula.heading_{name}") for name in FORMULA_STEPS}
    return ([(titles[n], figs[n]) for n in ("weights", "scores")],
            [(titles[n], tabs[n]) for n in ("weights", "scores")])

