"""Embedding explorer: texts or words in, a PCA (or t-SNE) map of their vectors out,
with search, nearest neighbours in the full space, and "where would my sentence land?".

Page contract (docs/contributing.md, "The page contract"): strings from ``locales/<lang>/embeddings.toml``,
a permalink (:data:`SCHEMA`), presenter mode with the curated maps of
``curated/embeddings.json``, CSV/PNG/HTML export. Cross-link target of the sentiment and
classification pages (``texts`` + ``labels`` + ``label_title`` + ``run=1``) and source of the
link to classification (the selected point's text).
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from components import embeddings as emb
from components import ui
from components import views_embeddings as V
from components.catalog import EMBEDDINGS, MINILM, SENTENCE_TRANSFORMER, get_spec, models_for
from components.permalink import BOOL, CHOICE, FLOAT, INT, TEXT, TEXTS, Param
from components.textio import InputError
from components.views_embeddings import (
    EXAMPLE,
    INPUT_MODES,
    L_LABELS,
    L_SRC,
    L_TEXTS,
    LABEL_MAX_CHARS,
    LIVE,
    PICKER,
    SESSION,
    SETS,
    TYPED,
    Problem,
    stop_with,
)

PAGE = "embeddings"  # i18n: ok
K = ui.persist_key
t = ui.t
MODEL_KEYS = tuple(s.key for s in models_for(EMBEDDINGS))

# the query parameters of this page (see components/permalink.py)
SCHEMA = [
    Param("src", L_SRC, CHOICE, EXAMPLE, choices=(EXAMPLE, TYPED)),
    Param("set", K("emb_example"), CHOICE, next(iter(SETS)), choices=tuple(SETS)),
    Param("texts", L_TEXTS, TEXTS, []),
    Param("labels", L_LABELS, TEXTS, [], max_chars=LABEL_MAX_CHARS),
    Param("label_title", K("emb_label_title"), TEXT, "", max_chars=LABEL_MAX_CHARS),
    Param("method", K("emb_method"), CHOICE, emb.SENTENCE, choices=emb.METHODS),
    Param("model", K(PICKER), CHOICE, MINILM, choices=MODEL_KEYS),
    Param("layer", K("emb_layer"), INT, 20, 0, 64),
    Param("proj", K("emb_proj"), CHOICE, emb.PCA, choices=(emb.PCA, emb.TSNE)),
    Param("dims", K("emb_dims"), CHOICE, 2, choices=(2, 3)),
    Param("perp", K("emb_perp"), FLOAT, 30.0, 2.0, 100.0),
    Param("colour", K("emb_colour"), BOOL, True),
    Param("k", K("emb_k"), INT, 8, 1, 50),
    Param("pt", K("emb_point"), INT, 0, -1, emb.MAX_ITEMS - 1),
    Param("q", K("emb_query"), TEXT, ""),
    Param("search", K("emb_search"), TEXT, "", max_chars=LABEL_MAX_CHARS),
]

# ------------------------------------------------------------------ link in
_before = V.link_state()
run_requested = ui.bind_link(PAGE, SCHEMA)
_link_notes = V.apply_link(_before, {p.state: p.default for p in SCHEMA if p.state in _before})
if run_requested:
    st.session_state[LIVE] = True

st.title(t("embeddings.title"))
st.caption(t("embeddings.caption"))
ui.explainer(t("embeddings.explainer.title"), t("embeddings.explainer.body"))
for note in _link_notes:
    st.info(note, icon="🔗")
ui.slide(PAGE, SCHEMA, V.render_example, run_requested, on_live=V.go_live)


# ------------------------------------------------------------------ 1. input, 2. source
with ui.live_inputs(PAGE):  # sections 1 and 2
    st.subheader(t("embeddings.input.heading"))
    if st.session_state.get(K("emb_input")) not in INPUT_MODES:
        st.session_state[K("emb_input")] = EXAMPLE
    mode = st.radio(t("embeddings.input.mode"), INPUT_MODES, key=K("emb_input"), persist_state=SESSION, horizontal=True,
                    label_visibility="collapsed", format_func=lambda m: t(f"embeddings.input.modes.{m}"))
    if st.session_state.get(K("emb_method")) not in emb.METHODS:
        st.session_state[K("emb_method")] = emb.SENTENCE
    try:
        frame, notes, label_title, source = V.read_items(mode, st.session_state[K("emb_method")])
    except Problem as exc:
        frame, notes, label_title, source, input_problem = None, [], "", "", exc
    else:
        input_problem = None

    V.publish_items(frame, mode)
    if frame is not None:
        frame = V.items_preview(frame, notes)

    # ------------------------------------------------------------------ 2. source
    st.subheader(t("embeddings.source.heading"))
    left, right = st.columns([3, 2])

    with left:
        method = st.radio(t("embeddings.source.method"), emb.METHODS, key=K("emb_method"), persist_state=SESSION,
                          format_func=lambda m: t(f"embeddings.method.{m}"), on_change=V.method_changed)
    if mode == EXAMPLE and frame is not None and SETS[st.session_state[K("emb_example")]].kind == "words" \
            and method != emb.WORD:
        st.info(t("embeddings.source.try_words"), icon="💡")
    if st.session_state.get(K(PICKER)) not in MODEL_KEYS:
        st.session_state[K(PICKER)] = V.DEFAULT_MODEL[method]
    if ui.presenter():
        model_key = st.session_state[K(PICKER)]
    else:
        with right:
            model_key = ui.model_picker(EMBEDDINGS, PICKER, label=t("embeddings.source.model"))

# a click on the 2-D map selects that item (state of the chart from the previous run)
if frame is not None:
    map_key = f"emb_map_{st.session_state.get(K('emb_proj'))}_{st.session_state.get(K('emb_dims'))}"
    picked = emb.selected_item((st.session_state.get(map_key) or {}).get("selection"), len(frame))
    if picked is not None and picked != st.session_state.get("emb_last_pick"):
        st.session_state[K("emb_point")] = picked
    st.session_state["emb_last_pick"] = picked

ui.publish_link(PAGE, SCHEMA, runnable=True)

if input_problem is not None:
    stop_with(str(input_problem), input_problem.kind)
assert frame is not None
if ui.presenter() and not st.session_state.get(LIVE):
    st.button(t("embeddings.compute"), key="emb_compute", type="primary", icon="🧭",
              on_click=lambda: st.session_state.__setitem__(LIVE, True))
    st.stop()

map_area = None
if ui.presenter():  # the map first (in view after "run live"), its notes and controls below it
    map_area = st.container()
    map_area.subheader(t("embeddings.map.heading"))

texts = frame["text"].astype(str).tolist()
labels = frame["label"].astype(str).tolist() if "label" in frame.columns else None
rows = [int(r) for r in frame["row"]]
loaded = ui.load_or_explain(model_key, PICKER)
if loaded is None:
    st.stop()
spec = get_spec(model_key)
layer: int | None = None
if method == emb.SENTENCE and spec.loader != SENTENCE_TRANSFORMER:
    st.info(t("embeddings.source.not_st", model=ui.model_name(spec)), icon="ℹ️")
    layer = emb.num_layers(loaded)
elif method == emb.HIDDEN:
    n_layers = emb.num_layers(loaded)
    if not isinstance(st.session_state.get(K("emb_layer")), int) or not 0 <= st.session_state[K("emb_layer")] <= n_layers:
        st.session_state[K("emb_layer")] = (2 * n_layers) // 3
    if ui.presenter():
        layer = int(st.session_state[K("emb_layer")])
    else:
        layer = right.slider(t("embeddings.source.layer"), 0, n_layers, key=K("emb_layer"), persist_state=SESSION,
                             help=t("embeddings.source.layer_help"))
    if len(texts) > 2_000:
        st.info(t("embeddings.source.slow", model=ui.model_name(spec), n=f"{len(texts):,}"), icon="⏱️")

digest = emb.texts_digest(texts)
try:
    result_emb = V.cached_embeddings(model_key, method, layer, digest, texts, rows,
                                   t("embeddings.source.encoding", n=f"{len(texts):,}", model=ui.model_name(spec)))
except InputError as exc:
    stop_with(ui.say(exc))
emb_id = "|".join(str(x) for x in (model_key, method, layer, digest))
vectors = result_emb.vectors
coverages, coverage_notes = V.cached_coverage(model_key, digest, texts)
V.render_encoding_notes(result_emb, coverage_notes, texts)

# ------------------------------------------------------------------ 3. map
if map_area is None:
    st.subheader(t("embeddings.map.heading"))
c1, c2, c3, c4 = st.columns([2, 1.2, 1.3, 3])
proj_method = c1.radio(t("embeddings.map.projection"), (emb.PCA, emb.TSNE), key=K("emb_proj"), persist_state=SESSION,
                       horizontal=True, format_func=lambda p: t(f"embeddings.proj.{p}"))
dims = c2.radio(t("embeddings.map.dims"), (2, 3), key=K("emb_dims"), persist_state=SESSION, horizontal=True,
                format_func=lambda d: f"{d}-D")
colour = c3.toggle(t("embeddings.map.colour"), help=t("embeddings.map.colour_help"), key=K("emb_colour"),
                   persist_state=SESSION, disabled=labels is None)
search = c4.text_input(t("embeddings.map.search"), key=K("emb_search"), persist_state=SESSION,
                       max_chars=LABEL_MAX_CHARS)
perplexity = float(st.session_state[K("emb_perp")])
if not ui.presenter():
    a1, a2 = st.columns(2)
    a1.number_input(t("embeddings.map.k"), min_value=1, max_value=50, key=K("emb_k"), persist_state=SESSION)
    if proj_method == emb.TSNE:
        perplexity = a2.slider(t("embeddings.map.perplexity"), 2.0, 100.0, step=1.0, key=K("emb_perp"),
                               persist_state=SESSION, help=t("embeddings.map.perplexity_help"))
k = int(st.session_state[K("emb_k")])
query = st.text_input(t("embeddings.query.label"), key=K("emb_query"), persist_state=SESSION,
                      placeholder=t("embeddings.query.placeholder"))

if proj_method == emb.TSNE and len(texts) > emb.TSNE_MAX_ITEMS:
    st.warning(t("embeddings.map.tsne_cap", cap=f"{emb.TSNE_MAX_ITEMS:,}", n=f"{len(texts):,}"), icon="⏱️")
    proj_method = emb.PCA
try:
    with st.spinner(t("embeddings.map.projecting")):
        proj = V.cached_projection(emb_id, proj_method, int(dims), perplexity, vectors)
except InputError as exc:
    stop_with(ui.say(exc))
ui.notices(proj.notices)

hits = emb.matches(texts, search)
if search.strip():
    st.caption(t("embeddings.map.search_hits", n=f"{int(hits.sum()):,}", q=emb.md_code(search.strip())))

query_vector, query_notes = None, []
if query.strip():
    try:
        qemb = V.cached_query(model_key, method, layer, query.strip())
        query_vector, query_notes = qemb.vectors[0], qemb.notices
    except InputError as exc:
        st.warning(ui.say(exc), icon="⚠️")

if map_area is None:
    map_area = st.container()
# the selected point: a click on the 2-D map, or this list (3-D maps, keyboard users)
pool = np.flatnonzero(hits) if hits.any() else np.arange(len(texts))
options = [-1, *pool[:1000].tolist()]
if st.session_state.get(K("emb_point")) not in options:
    st.session_state[K("emb_point")] = int(pool[0])
point = st.selectbox(t("embeddings.selected.pick"), options, key=K("emb_point"), persist_state=SESSION,
                     help=t("embeddings.selected.pick_help"),
                     format_func=lambda i: t("embeddings.selected.none") if i < 0
                     else f"#{rows[i]}: {emb.hover_text(texts[i], 80)}")
result = emb.map_result(
    texts, vectors, proj, labels=labels, label_title=label_title, rows=rows, model_key=model_key, method=method,
    layer=layer, perplexity=perplexity, selected=None if point is None or point < 0 else int(point), k=k,
    query=query.strip(), query_vector=query_vector, coverages=coverages)
ui.notices(query_notes)
if query_vector is not None:
    V.render_query_coverage(model_key, query.strip())
with map_area:
    V.render_map(result, bool(colour), hits if search.strip() else None, int(dims))
V.render_selected(result, "emb")
V.render_query(result, "emb")
V.report(result, source, "emb_report")
