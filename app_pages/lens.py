"""Inside the prediction: the logit lens layer by layer, and attention heads switched off.

Page contract (docs/contributing.md): strings from ``locales/<lang>/lens.toml``; inputs and
settings in :data:`SCHEMA` (a link reproduces the view; the page computes on open); every
chart has its table (CSV) and PNG export; one HTML report of the shown result.
"""
from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from components import i18n, ui
from components.ablation import MAX_NEW_TOKENS, MODES, ablate_heads, merge_scans, scan_heads
from components.catalog import ATTENTION, get_spec, models_for
from components.charts_lens import (
    ablation_figure,
    ablation_table,
    lens_grid,
    lens_table,
    position_figure,
    position_table,
    row_names,
    scan_figure,
    scan_table,
)
from components.lens import MAX_TOKENS, LensError, LensResult, logit_lens
from components.permalink import CHOICE, INT, TEXT, TEXTS, Param
from components.report import Section

PAGE = "lens"  # i18n: ok (page id)
K = ui.persist_key
t = ui.t
MODEL_KEYS = tuple(s.key for s in models_for(ATTENTION))
DEFAULT_TEXT = "The capital of France is Paris. The capital of Germany is"  # i18n: ok (model input)
MAX_INDEX = 255
SCOPES = ("layer", "all")  # i18n: ok (choice ids)
SCAN_KEY = "_lens_scan_for"  # the settings of the last scan asked for (shown while they hold)

SCHEMA = [
    Param("text", K("lens_text"), TEXT, DEFAULT_TEXT),
    Param("model", K("lens_model"), CHOICE, MODEL_KEYS[0], choices=MODEL_KEYS),
    Param("position", K("lens_position"), INT, -1, -1, MAX_TOKENS - 1),  # -1 = last token
    Param("layer", K("lens_layer"), INT, 0, 0, MAX_INDEX),
    Param("heads", K("lens_heads"), TEXTS, []),
    Param("mode", K("lens_mode"), CHOICE, MODES[0], choices=MODES),
    Param("new", K("lens_new"), INT, 5, 0, MAX_NEW_TOKENS),
    Param("scope", K("lens_scope"), CHOICE, SCOPES[0], choices=SCOPES),
]  # the page's query parameters (components/permalink.py)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def cached_lens(model_key: str, text: str) -> LensResult:
    """:func:`components.lens.logit_lens`, cached on (model key, text)."""
    from components.cache import get_model

    return logit_lens(get_model(model_key), text)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def cached_ablation(model_key: str, ids: tuple[int, ...], heads: tuple[tuple[int, int], ...], mode: str,
                    position: int, max_new_tokens: int):
    """:func:`components.ablation.ablate_heads`, cached on (model key, ids, settings)."""
    from components.cache import get_model

    return ablate_heads(get_model(model_key), list(ids), heads, mode=mode, position=position,
                        max_new_tokens=max_new_tokens)


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def cached_scan(model_key: str, ids: tuple[int, ...], layer: int, mode: str, position: int):
    """:func:`components.ablation.scan_heads` of ONE layer (the page loops for progress)."""
    from components.cache import get_model

    return scan_heads(get_model(model_key), list(ids), [layer], mode=mode, position=position)


def lang() -> str:
    return ui.lang()


def label_fn(key: str, name: str | None = None):
    """A ``format_func`` translating ``lens.<key>`` in the language of THIS run (AppTest and
    Streamlit may call format functions outside the script run): ``{k}`` in the key is the
    option, or the option fills the placeholder ``name``."""
    current = lang()
    if name is None:
        return lambda k: i18n.translate(current, f"lens.{key}".replace("{k}", str(k)))
    return lambda k: i18n.translate(current, f"lens.{key}", **{name: k})


def _error(exc: LensError) -> None:
    st.error(t(f"lens.msg.{exc.code}", **{k: ui.escape_markdown(str(v)) for k, v in exc.values.items()}),
             icon="⚠️")


def _note_beside(fig, key: str, table, filename: str, *captions: str) -> None:
    chart_col, note = st.columns([4, 1])
    with chart_col:
        ui.chart(fig, key=key, table=table, filename=filename)
    for caption in filter(None, captions):
        note.caption(caption)


def render_guess(example: dict) -> None:
    """Presenter slide "guess the next token" from ``curated/lens.json`` (no model): the prompt,
    then on request the model's top 5, then the lens row where the answer settled."""
    res = example["result"]
    why = example.get("why", {})
    st.caption(why.get(lang()) or why.get("en", ""))
    ui.show_literal(example["params"]["text"])
    stage_key = f"_lens_guess_{example['id']}"
    stage = int(st.session_state.get(stage_key, 0))
    if stage == 0:
        st.markdown(f"### {t('lens.guess.ask')}")

    def _next(n: int) -> None:
        st.session_state[stage_key] = n

    if stage >= 1:
        st.subheader(t("lens.guess.top_heading"))
        top = pd.DataFrame({t("lens.col.token"): [e["token"] for e in res["top"]],
                            t("lens.col.prob"): [round(e["prob"], 4) for e in res["top"]]})
        ui.data_table(top, key="lens_guess_top", filename="guess-top")
    if stage >= 2:
        from types import SimpleNamespace

        import numpy as np

        st.subheader(t("lens.guess.form_heading"))
        st.markdown(t("lens.guess.settled", token=ui.escape_markdown(res["final"]), row=res["settled"],
                      layers=res["layers"]))
        last = len(res["tokens"]) - 1  # the prediction after the prompt's last token
        rank = np.ones((len(res["final_rank"]), last + 1), dtype=int)
        prob = np.zeros((len(res["final_prob"]), last + 1))
        rank[:, last], prob[:, last] = res["final_rank"], res["final_prob"]
        view = SimpleNamespace(num_layers=res["layers"], final_rank=rank, final_prob=prob)
        ui.chart(position_figure(view, last, res["final"], lang()), key="lens_guess_form",
                 table=pd.DataFrame({t("lens.col.row"): row_names(res["layers"], lang()),
                                     t("lens.col.final_prob"): res["final_prob"],
                                     t("lens.col.final_rank"): res["final_rank"]}),
                 filename="guess-layers")
        st.caption(t("lens.caveat_lens"))
    if stage < 2:
        label = t("lens.guess.reveal") if stage == 0 else t("lens.guess.show_layers")
        st.button(label, key=f"lens_guess_next_{stage}", on_click=_next, args=(stage + 1,), icon="👀")


# ------------------------------------------------------------------ top of the page
run_requested = ui.bind_link(PAGE, SCHEMA)
ui.reset_unshowable(SCHEMA)
st.title(t("lens.title"))
st.caption(t("lens.caption"))
ui.slide(PAGE, SCHEMA, render_guess, run_requested)

with ui.live_inputs(PAGE):
    model_key = ui.model_picker(ATTENTION, "lens_model")
    spec = get_spec(model_key)
    text = st.text_area(t("lens.input.text"), key=K("lens_text"), persist_state="session", height=90,
                        help=t("lens.input.text_help", cap=MAX_TOKENS))
ui.explainer(t("lens.explainer.title"), t("lens.explainer.body"))

if not isinstance(text, str) or not text.strip():
    ui.publish_link(PAGE, SCHEMA)
    st.warning(t("lens.msg.empty"), icon="✏️")
    st.stop()
if not spec.is_causal:
    ui.publish_link(PAGE, SCHEMA)
    st.info(t("lens.msg.not_causal", name=ui.model_name(spec)), icon="🧩")
    st.stop()
loaded = ui.load_or_explain(model_key, "lens_model")
if loaded is None:
    ui.publish_link(PAGE, SCHEMA)
    st.stop()

try:
    with st.spinner(t("lens.msg.running", name=ui.model_name(spec))):
        res = cached_lens(model_key, text)
except LensError as exc:
    ui.publish_link(PAGE, SCHEMA)
    _error(exc)
    st.stop()
except Exception as exc:  # never a traceback
    logging.getLogger("llm_lab").exception("logit lens failed")  # i18n: ok (log)
    ui.publish_link(PAGE, SCHEMA)
    st.error(t("lens.msg.failed", error=f"{type(exc).__name__}: {exc}"), icon="⚠️")
    st.stop()

if res.truncated:
    st.warning(t("lens.msg.truncated", full=res.n_tokens_full, n=res.seq_len), icon="✂️")
figures: list = []
tables: list = []

# ------------------------------------------------------------------ 1. the lens grid
st.subheader(t("lens.grid.heading"))
st.caption(t("lens.grid.how"))
grid_title = t("lens.grid.title", name=ui.model_name(spec), layers=res.num_layers)
fig = lens_grid(res, lang=lang(), title=grid_title)
grid_table = lens_table(res, lang())
_note_beside(fig, "lens_grid", grid_table, "logit-lens", t("lens.caveat_lens"), t("lens.caveat_norm"))
figures.append((grid_title, fig))

# ------------------------------------------------------------------ 2. one position across layers
st.subheader(t("lens.position.heading"))
pos_key = K("lens_position")
if not -1 <= st.session_state[pos_key] < res.seq_len:
    st.info(t("lens.msg.reset_position", value=st.session_state[pos_key], last=res.seq_len - 1), icon="↩️")
    st.session_state[pos_key] = -1
elif st.session_state[pos_key] == res.seq_len - 1:
    st.session_state[pos_key] = -1  # the last position is offered once, as "last token"
labels = res.labels
# "last token" (-1, which follows the text as it grows) sits where the last position is: the right end
st.select_slider(t("lens.position.label"), options=[*range(res.seq_len - 1), -1], key=pos_key, persist_state="session",
                 format_func=lambda p, f=lang(), n=res.seq_len, labs=tuple(labels): (  # noqa: B008 - bound now
                     i18n.translate(f, "lens.position.last") if p == -1 else f"{p} · {labs[p]}"))
position = int(st.session_state[pos_key]) % res.seq_len
final_label = res.top_labels[-1][position]
first = res.layer_of_first_top(position)
# token text only in dataframes (shown literally), never in metric/markdown labels
summary = pd.DataFrame([{
    t("lens.position.token"): labels[position],
    t("lens.position.prediction"): final_label,
    t("lens.position.probability"): round(float(res.top_probs[-1, position, 0]), 4),
    t("lens.position.first_top"): row_names(res.num_layers, lang())[first] if first is not None else "—",
}])
st.dataframe(summary, hide_index=True, key="lens_summary")
st.caption(t("lens.position.first_top_help"))
pos_fig = position_figure(res, position, final_label, lang())
pos_table = position_table(res, position, lang())
_note_beside(pos_fig, "lens_position_chart", pos_table, f"logit-lens-position{position}", t("lens.caveat_rank"))
figures.append((t("lens.position.heading"), pos_fig))
tables.append((t("lens.position.heading"), pos_table))

# ------------------------------------------------------------------ 3. switch heads off
st.subheader(t("lens.ablation.heading"))
st.caption(t("lens.ablation.how"))
n_layers = res.num_layers
n_heads = int(loaded.model.config.num_attention_heads)
for key_name, limit, what in (("lens_layer", n_layers, "layer"),):
    if not 0 <= st.session_state[K(key_name)] < limit:
        st.info(t(f"lens.msg.reset_{what}", value=st.session_state[K(key_name)], last=limit - 1), icon="↩️")
        st.session_state[K(key_name)] = 0
head_ids = [str(h) for h in range(n_heads)]
if any(h not in head_ids for h in st.session_state[K("lens_heads")]):
    st.session_state[K("lens_heads")] = [h for h in st.session_state[K("lens_heads")] if h in head_ids]
c1, c2, c3 = st.columns([1, 3, 2])
c1.selectbox(t("lens.ablation.layer"), list(range(n_layers)), key=K("lens_layer"), persist_state="session")
c2.multiselect(t("lens.ablation.heads"), head_ids, key=K("lens_heads"), persist_state="session",
               format_func=label_fn("ablation.head_name", "h"), placeholder=t("lens.ablation.heads_placeholder"),
               help=t("lens.ablation.heads_help", heads=n_heads))


def _all_heads(ids: list[str] = head_ids) -> None:
    st.session_state[K("lens_heads")] = list(ids)


c2.button(t("lens.ablation.whole_layer"), on_click=_all_heads, key="lens_all_heads")
c3.segmented_control(t("lens.ablation.mode"), list(MODES), key=K("lens_mode"), persist_state="session",
                     required=True, format_func=label_fn("mode.{k}"),
                     help=t("lens.ablation.mode_help"))
if not ui.presenter():
    c3.slider(t("lens.ablation.new_tokens"), 0, MAX_NEW_TOKENS, key=K("lens_new"), persist_state="session",
              help=t("lens.ablation.new_tokens_help"))
layer = int(st.session_state[K("lens_layer")])
mode = st.session_state[K("lens_mode")]
heads = tuple((layer, int(h)) for h in sorted(st.session_state[K("lens_heads")], key=int))
n_new = int(st.session_state[K("lens_new")]) if position == res.seq_len - 1 else 0
ids = tuple(res.input_ids)
ablation = None
if not heads:
    st.info(t("lens.ablation.none"), icon="👆")
else:
    try:
        with st.spinner(t("lens.msg.ablating")):
            ablation = cached_ablation(model_key, ids, heads, mode, position, n_new)
    except LensError as exc:
        _error(exc)
if ablation is not None:
    k1, k2, k3 = st.columns(3)
    k1.metric(t("lens.ablation.kl"), f"{ablation.kl:.4f}", help=t("lens.ablation.kl_help"))
    k2.metric(t("lens.ablation.p_top"), f"{ablation.p_ablated:.4f}",
              delta=f"{ablation.p_ablated - ablation.p_intact:+.4f}", help=t("lens.ablation.p_top_help"))
    k3.metric(t("lens.ablation.top_changed"),
              t("lens.ablation.changed_yes") if ablation.top_changed else t("lens.ablation.changed_no"))
    st.dataframe(pd.DataFrame([{t("lens.ablation.intact_top"): ablation.intact_top[0]["token"],
                                t("lens.ablation.ablated_top"): ablation.ablated_top[0]["token"]}]),
                 hide_index=True, key="lens_ablation_tops")
    abl_fig = ablation_figure(ablation, lang())
    abl_table = ablation_table(ablation, lang())
    _note_beside(abl_fig, "lens_ablation_chart", abl_table, "ablation",
                 t(f"lens.caveat_{mode}"), t("lens.caveat_gqa") if loaded.model.config.num_key_value_heads
                 != n_heads else "")
    figures.append((t("lens.ablation.heading"), abl_fig))
    tables.append((t("lens.ablation.heading"), abl_table))
    if ablation.continuation_intact:
        left, right = st.columns(2)
        with left:
            st.markdown(t("lens.ablation.cont_intact"))
            ui.show_literal(ablation.continuation_intact_text)
        with right:
            st.markdown(t("lens.ablation.cont_ablated"))
            ui.show_literal(ablation.continuation_ablated_text)
    elif n_new == 0 and position != res.seq_len - 1:
        st.caption(t("lens.ablation.cont_last_only"))

# ------------------------------------------------------------------ 4. which heads matter
st.subheader(t("lens.scan.heading"))
st.caption(t("lens.scan.how"))
s1, s2 = st.columns([2, 1], vertical_alignment="bottom")
s1.segmented_control(t("lens.scan.scope"), list(SCOPES), key=K("lens_scope"), persist_state="session", required=True,
                     format_func=lambda s, f=lang(), L=layer, n=n_layers * n_heads: i18n.translate(  # noqa: B008
                         f, f"lens.scan.scope_{s}", layer=L, n=n))
scope = st.session_state[K("lens_scope")]
scan_layers = [layer] if scope == "layer" else list(range(n_layers))
wanted = (model_key, ids, tuple(scan_layers), mode, position)
if s2.button(t("lens.scan.run"), key="lens_scan_run", type="primary", icon="🔬"):
    st.session_state[SCAN_KEY] = wanted
if st.session_state.get(SCAN_KEY) == wanted:
    bar = st.progress(0.0, text=t("lens.scan.progress", done=0, total=len(scan_layers) * n_heads))
    parts = []
    try:
        for i, scan_layer in enumerate(scan_layers):
            parts.append(cached_scan(model_key, ids, scan_layer, mode, position))
            bar.progress((i + 1) / len(scan_layers),
                         text=t("lens.scan.progress", done=(i + 1) * n_heads, total=len(scan_layers) * n_heads))
    except LensError as exc:
        _error(exc)
    bar.empty()
    if parts:
        scan = merge_scans(parts)
        sc_fig = scan_figure(scan, labels, lang())
        sc_table = scan_table(scan, lang())
        _note_beside(sc_fig, "lens_scan_chart", sc_table, "head-scan", t("lens.caveat_scan"), t("lens.caveat"))
        figures.append((t("lens.scan.heading"), sc_fig))
        tables.append((t("lens.scan.heading"), sc_table))
else:
    st.caption(t("lens.scan.not_run"))

ui.publish_link(PAGE, SCHEMA)


def _sections() -> list:
    settings = {
        t("lens.report.model"): ui.model_name(spec),
        t("lens.report.tokens"): res.seq_len,
        t("lens.report.position"): position,
        t("lens.report.heads"): ", ".join(f"{a}.{b}" for a, b in heads) or "—",
        t("lens.report.mode"): t(f"lens.mode.{mode}"),
    }
    return [Section(t("lens.report.settings"), "kv", settings), Section(t("lens.input.text"), "text", text),
            *[Section(title, "figure", f) for title, f in figures],
            *[Section(title, "table", df) for title, df in tables]]


ui.report_button(t("lens.report.title"), _sections, filename="logit-lens-report", key="lens_report")
