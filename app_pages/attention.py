"""Attention visualizer: every layer and head of a real model, and the formula recomputed.

Page contract (docs/contributing.md, "The page contract"): strings from
``locales/<lang>/attention.toml``; inputs and settings in :data:`SCHEMA` (a link reproduces
the view; ``run=1`` or simply opening with a text shows the result, the page always computes
on open); presenter mode shows ``curated/attention.json`` before any model loads; every chart
has its table and PNG export; one HTML report of the shown result.
"""
from __future__ import annotations

import logging

import streamlit as st

from components import ui
from components import views_attention as V
from components.attention import (
    DEFAULT_MAX_TOKENS,
    MAX_TOKENS_LIMIT,
    AttentionInputError,
    AttentionUnavailableError,
    ids_text,
    parse_token_ids,
    snapshot,
)
from components.catalog import ATTENTION, models_for
from components.charts_attention import COLOR_SCALES
from components.curated_attention import COREFERENCE
from components.permalink import BOOL, CHOICE, INT, TEXT, Param
from components.runs_attention import cached_attention
from components.views_attention import AGGREGATES, VIEWS

PAGE = "attention"  # i18n: ok (page id)
K = ui.persist_key
t = ui.t
MODEL_KEYS = tuple(s.key for s in models_for(ATTENTION))
# Upper bound of layer/head in a link; the real range is checked once the model is known.
MAX_INDEX = 255
# Presenter mode: id of the curated example the user chose to run live (else: precomputed).

SCHEMA = [
    Param("text", K("att_text"), TEXT, COREFERENCE),
    Param("pair", K("att_pair"), TEXT, ""),
    Param("ids", K("att_ids"), TEXT, ""),  # exact token ids (a generation's), used while the text is theirs
    Param("model", K("att_model"), CHOICE, MODEL_KEYS[0], choices=MODEL_KEYS),
    Param("layer", K("att_layer"), INT, 0, 0, MAX_INDEX),
    Param("head", K("att_head"), INT, 0, 0, MAX_INDEX),
    Param("view", K("att_view"), CHOICE, VIEWS[0], choices=VIEWS),
    Param("agg", K("att_agg"), CHOICE, AGGREGATES[0], choices=AGGREGATES),
    Param("cap", K("att_cap"), INT, DEFAULT_MAX_TOKENS, 8, MAX_TOKENS_LIMIT),
    Param("hide", K("att_hide"), BOOL, False),
    Param("merge", K("att_merge"), BOOL, False),
    Param("cmap", K("att_cmap"), CHOICE, "cividis", choices=tuple(COLOR_SCALES)),
]  # the page's query parameters (components/permalink.py)


def _sanitize_state() -> None:
    """:func:`ui.reset_unshowable`, and the token cap clamped to the slider's range."""
    ui.reset_unshowable(SCHEMA)
    cap = st.session_state[K("att_cap")]
    st.session_state[K("att_cap")] = min(MAX_TOKENS_LIMIT, max(8, cap))


# ------------------------------------------------------------------ top of the page
run_requested = ui.bind_link(PAGE, SCHEMA)
_sanitize_state()
st.title(t("attention.title"))
st.caption(t("attention.caption"))

ui.slide(PAGE, SCHEMA, V.render_example, run_requested)

# ------------------------------------------------------------------ inputs
with ui.live_inputs(PAGE):
    model_key, spec, text, pair = V.inputs()
cap = int(st.session_state[K("att_cap")])
colorscale = COLOR_SCALES[st.session_state[K("att_cmap")]]
hide_special = bool(st.session_state[K("att_hide")]) and not ui.presenter()

ui.explainer(t("attention.explainer.title"), t("attention.explainer.body"))

# ------------------------------------------------------------------ model + input checks
pair_value = pair if isinstance(pair, str) and pair.strip() else None
if not isinstance(text, str) or not text.strip():
    ui.publish_link(PAGE, SCHEMA)
    st.warning(t("attention.msg.empty"), icon="✏️")
    st.stop()
loaded = ui.load_or_explain(model_key, "att_model")
if loaded is None:
    ui.publish_link(PAGE, SCHEMA)
    st.stop()

# Exact ids from a link (a generation's template + prompt + reply): used while the text box
# still holds their literal decoding; once the text is edited, the typed text is analysed.
exact_ids = parse_token_ids(st.session_state.get(K("att_ids"), ""))
if exact_ids and (pair_value or not spec.is_causal or max(exact_ids) >= len(loaded.tokenizer)
                  or ids_text(loaded, exact_ids) != text):
    exact_ids = None
if exact_ids is None:
    st.session_state[K("att_ids")] = ""
else:
    st.info(t("attention.msg.exact_ids", n=len(exact_ids)), icon="🔗")
try:
    with st.spinner(t("attention.msg.running", name=ui.model_name(spec))):
        result = cached_attention(model_key, text, pair_value, cap, tuple(exact_ids) if exact_ids else None)
except AttentionUnavailableError:
    ui.publish_link(PAGE, SCHEMA)
    st.error(t("attention.msg.no_attention", name=ui.model_name(spec)), icon="⚠️")
    st.stop()
except AttentionInputError as exc:
    ui.publish_link(PAGE, SCHEMA)
    st.error(t("attention.msg.bad_input", error=str(exc)), icon="⚠️")
    st.stop()
except Exception as exc:  # never a traceback
    logging.getLogger("llm_lab").exception("attention failed")  # i18n: ok (log)
    ui.publish_link(PAGE, SCHEMA)
    st.error(t("attention.msg.failed", error=f"{type(exc).__name__}: {exc}"), icon="⚠️")
    st.stop()

V.input_notes(result, loaded, text, pair_value)

figures, tables, shown_layer, shown_head = V.views(result, colorscale, hide_special, loaded, spec, text, pair_value)
ui.publish_link(PAGE, SCHEMA)
snap = snapshot(result, shown_layer, shown_head, text, pair_value, ui.model_name(spec), with_layer=False)
V.report(snap, figures, tables, {
    t("attention.report.view"): t(f"attention.view.{st.session_state[K('att_view')]}"),
    t("attention.report.cap"): result.max_tokens,
    t("attention.report.hide"): t("attention.report.yes" if hide_special else "attention.report.no"),
    t("attention.report.colour"): t(f"attention.cmap.{st.session_state[K('att_cmap')]}"),
}, key="att_report")
