"""Inside the prediction: the logit lens layer by layer, and attention heads switched off.

Page contract (docs/contributing.md): strings from ``locales/<lang>/lens.toml``; inputs and
settings in :data:`SCHEMA` (a link reproduces the view; the page computes on open); every
chart has its table (CSV) and PNG export; one HTML report of the shown result. The page reads
widgets, then computes (:mod:`components.lens`, :mod:`components.ablation`, cached in
:mod:`components.runs_lens`) and renders (:mod:`components.views_lens`).
"""
from __future__ import annotations

import logging

import streamlit as st

from components import i18n, ui
from components import views_lens as V
from components.ablation import MAX_NEW_TOKENS, MODES
from components.catalog import ATTENTION, get_spec, models_for
from components.lens import MAX_TOKENS, LensError
from components.permalink import CHOICE, INT, TEXT, TEXTS, Param
from components.runs_lens import cached_ablation, cached_lens

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


# ------------------------------------------------------------------ top of the page
run_requested = ui.bind_link(PAGE, SCHEMA)
ui.reset_unshowable(SCHEMA)
st.title(t("lens.title"))
st.caption(t("lens.caption"))
ui.slide(PAGE, SCHEMA, V.render_guess, run_requested)

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
    V.error(exc)
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
V.render_grid(res, ui.model_name(spec), figures)

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
                 format_func=lambda p, f=V.lang(), n=res.seq_len, labs=tuple(labels): (  # noqa: B008 - bound now
                     i18n.translate(f, "lens.position.last") if p == -1 else f"{p} · {labs[p]}"))
position = int(st.session_state[pos_key]) % res.seq_len
V.render_position(res, position, figures, tables)

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
               format_func=V.label_fn("ablation.head_name", "h"), placeholder=t("lens.ablation.heads_placeholder"),
               help=t("lens.ablation.heads_help", heads=n_heads))


def _all_heads(ids: list[str] = head_ids) -> None:
    st.session_state[K("lens_heads")] = list(ids)


c2.button(t("lens.ablation.whole_layer"), on_click=_all_heads, key="lens_all_heads")
c3.segmented_control(t("lens.ablation.mode"), list(MODES), key=K("lens_mode"), persist_state="session",
                     required=True, format_func=V.label_fn("mode.{k}"),
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
        V.error(exc)
if ablation is not None:
    V.render_ablation(ablation, res, mode, position, n_new,
                      loaded.model.config.num_key_value_heads != n_heads, figures, tables)

# ------------------------------------------------------------------ 4. which heads matter
st.subheader(t("lens.scan.heading"))
st.caption(t("lens.scan.how"))
s1, s2 = st.columns([2, 1], vertical_alignment="bottom")
s1.segmented_control(t("lens.scan.scope"), list(SCOPES), key=K("lens_scope"), persist_state="session", required=True,
                     format_func=lambda s, f=V.lang(), L=layer, n=n_layers * n_heads: i18n.translate(  # noqa: B008
                         f, f"lens.scan.scope_{s}", layer=L, n=n))
scope = st.session_state[K("lens_scope")]
scan_layers = [layer] if scope == "layer" else list(range(n_layers))
wanted = (model_key, ids, tuple(scan_layers), mode, position)
if s2.button(t("lens.scan.run"), key="lens_scan_run", type="primary", icon="🔬"):
    st.session_state[SCAN_KEY] = wanted
if st.session_state.get(SCAN_KEY) == wanted:
    parts = V.run_scan(model_key, ids, scan_layers, mode, position, n_heads)
    if parts:
        V.render_scan(parts, labels, figures, tables)
else:
    st.caption(t("lens.scan.not_run"))

ui.publish_link(PAGE, SCHEMA)
ui.report_button(t("lens.report.title"),
                 lambda: V.report_sections(ui.model_name(spec), res, position, heads, mode, text, figures, tables),
                 filename="logit-lens-report", key="lens_report")
