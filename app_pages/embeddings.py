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
import pandas as pd
import streamlit as st

from components import charts_embeddings as charts
from components import coverage, ui
from components import embeddings as emb
from components import embeddings_wording as EW
from components.catalog import EMBEDDINGS, MINILM, SENTENCE_TRANSFORMER, SMOLLM2, get_spec, models_for
from components.permalink import BOOL, CHOICE, FLOAT, INT, TEXT, TEXTS, Param
from components.textio import CsvTable, InputError, column_texts, parse_labelled_lines, read_csv_bytes

PAGE = "embeddings"  # i18n: ok
K = ui.persist_key
t = ui.t
SESSION = "session"  # persist_state: keep a widget's value while it is not rendered
EXAMPLE, TYPED, CSV = "example", "typed", "csv"
INPUT_MODES = (EXAMPLE, TYPED, CSV)
DEFAULT_MODEL = {emb.SENTENCE: MINILM, emb.HIDDEN: SMOLLM2, emb.WORD: MINILM}  # WordPiece keeps whole words
MODEL_KEYS = tuple(s.key for s in models_for(EMBEDDINGS))
SETS = {s.name: s for s in emb.example_sets()}
WORD_SETS = [s.name for s in emb.example_sets("words")]
DEFAULT_TEXT = "dog | animal\ncat | animal\nrun | verb\nhouse | building\nhorse | animal\nwalk | verb\nschool | building\n"  # i18n: ok (example data, not UI text)
NONE = "\x00none"  # the CSV "no label column" choice (cannot be a column name)
TEXT_COLUMN_HINTS = ("text", "sentence", "sentences", "review", "content", "body", "comment", "word")
LABEL_COLUMN_HINTS = ("label", "labels", "topic", "category", "class", "group", "tag", "prediction")
PICKER = "emb_model"  # one model picker for every method, so it never unmounts
LABEL_MAX_CHARS = 200

# What a link carries about the items. Not widget keys: they are filled from the current input
# before the link is published, and written into the widgets when a link brings new values.
L_SRC, L_TEXTS, L_LABELS = "emb_link_src", "emb_link_texts", "emb_link_labels"
LIVE = "emb_live"  # presenter mode: compute the live map (after "run live", run=1 or the button)

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
_before = {name: st.session_state.get(name) for name in (L_SRC, L_TEXTS, L_LABELS)}
run_requested = ui.bind_link(PAGE, SCHEMA)
_link_notes: list[str] = []
if any(st.session_state.get(name) != (_before[name] if _before[name] is not None else p.default)
       for name in _before for p in SCHEMA if p.state == name):
    # a link (or a cross-link) brought items: show them in the text area
    link_texts = [x for x in st.session_state[L_TEXTS] if x.strip()]
    link_labels = st.session_state[L_LABELS] or None
    if link_labels is not None and len(link_labels) != len(st.session_state[L_TEXTS]):
        _link_notes.append(t("embeddings.link.labels_mismatch", labels=len(link_labels),
                             texts=len(st.session_state[L_TEXTS])))
        link_labels = None
    elif link_labels is not None:
        link_labels = [lab for x, lab in zip(st.session_state[L_TEXTS], link_labels) if x.strip()]
    if link_texts:
        body, flattened = emb.compose_lines(link_texts, link_labels)
        st.session_state[K("emb_text")] = body
        st.session_state[K("emb_input")] = TYPED
        if flattened:
            _link_notes.append(t("embeddings.link.flattened", n=flattened))
    elif st.session_state[L_SRC] in INPUT_MODES:
        st.session_state[K("emb_input")] = st.session_state[L_SRC]
if run_requested:
    st.session_state[LIVE] = True

st.title(t("embeddings.title"))
st.caption(t("embeddings.caption"))
ui.explainer(t("embeddings.explainer.title"), t("embeddings.explainer.body"))
for note in _link_notes:
    st.info(note, icon="🔗")


# ------------------------------------------------------------------ cached work
@st.cache_data(max_entries=6, ttl=3600, show_spinner=False)
def cached_coverage(model_key: str, digest: str, _texts: list[str]) -> tuple[list[dict], list]:
    """Share of each text the model's tokenizer knows, per (model key, texts digest)."""
    from components.cache import get_model

    return emb.text_coverage(get_model(model_key), _texts)


@st.cache_data(max_entries=6, ttl=3600, show_spinner=False)
def cached_embeddings(model_key: str, method: str, layer: int | None, digest: str,
                      _texts: list[str], _rows: list[int], _label: str) -> emb.Embeddings:
    """Embeddings per (model key, method, layer, texts digest); a progress bar while encoding.
    ``_label`` is the progress bar's text (not part of the cache key)."""
    from components.cache import get_model

    loaded = get_model(model_key)
    bar = st.progress(0.0, text=_label)

    def report(fraction: float) -> None:
        bar.progress(min(1.0, fraction), text=f"{_label} {100 * fraction:.0f}%")

    try:
        if method == emb.WORD:
            return emb.word_embeddings(loaded, _texts)
        if method == emb.SENTENCE and loaded.sentence_model is not None:
            return emb.encode_sentences(loaded, _texts, progress=report, rows=_rows)
        return emb.hidden_state_embeddings(loaded, _texts, layer=int(layer), progress=report, rows=_rows)
    finally:
        bar.empty()


@st.cache_data(max_entries=12, ttl=3600, show_spinner=False)
def cached_projection(emb_id: str, method: str, dims: int, perplexity: float, _vectors: np.ndarray) -> emb.Projection:
    """Projection per (embeddings id, method, dims, perplexity): switching 2-D/3-D or colours never re-encodes."""
    return emb.project(_vectors, method, dims, perplexity)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def cached_query(model_key: str, method: str, layer: int | None, query: str) -> emb.Embeddings:
    """Embedding of one query text with the map's model and method."""
    from components.cache import get_model

    loaded = get_model(model_key)
    if method == emb.WORD:
        return emb.word_embeddings(loaded, [query])
    if method == emb.SENTENCE and loaded.sentence_model is not None:
        return emb.encode_sentences(loaded, [query])
    return emb.hidden_state_embeddings(loaded, [query], layer=int(layer))


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def cached_csv(data: bytes) -> tuple[pd.DataFrame, str, list]:
    table = read_csv_bytes(data)
    return table.frame, table.encoding, table.notices


# ------------------------------------------------------------------ renderers (live and curated)
def map_chart(fig, key: str, table: pd.DataFrame, filename: str, selectable: bool):
    """``ui.chart`` with click selection for 2-D maps (3-D plotly charts cannot select).
    Returns the selection state, or None."""
    if selectable:
        return ui.chart(fig, key, table=table, filename=filename, on_select="rerun", selection_mode="points")
    ui.chart(fig, key, table=table, filename=filename)
    return None


def map_title(result: dict) -> str:
    title = t("embeddings.map.title", n=f"{len(result['texts']):,}", method=t(f"embeddings.method_short.{result['method']}"),
              model=ui.model_name(get_spec(result["model"])))
    if result.get("layer") is not None and result["method"] == emb.HIDDEN:
        title += t("embeddings.map.layer", layer=result["layer"])
    return title


def render_metrics(result: dict) -> None:
    m1, m2, m3 = st.columns(3)
    m1.metric(t("embeddings.metric.items"), f"{len(result['texts']):,}")
    m2.metric(t("embeddings.metric.dims"), f"{result['vector_dims']}")
    mc = result.get("mean_cosine")
    m3.metric(t("embeddings.metric.mean_cosine"), "–" if mc is None or not np.isfinite(mc) else f"{mc:.3f}",
              help=t("embeddings.metric.mean_cosine_help"))


def render_variance(result: dict, key: str) -> None:
    if not result.get("scree"):
        st.caption(t("embeddings.map.tsne_no_variance"))
        return
    scree_col, text_col = st.columns([2, 3])
    with scree_col:
        ui.chart(charts.scree_bar(np.asarray(result["scree"]), used=int(result["dims"]), lang=ui.lang()),
                 key=f"{key}_scree", table=charts.display_frame(charts.variance_frame(result), ui.lang()),
                 filename="explained-variance")
    kept = 100 * float(sum(result["explained_variance_ratio_"]))
    text_col.markdown(t("embeddings.map.kept", kept=f"{kept:.1f}", d=result["vector_dims"], m=len(result["scree"]))
                      + " " + t("embeddings.map.kept_low" if kept < 50 else "embeddings.map.kept_high"))


def render_neighbours(result: dict, which: str, key: str) -> None:
    frame = emb.neighbours_frame(result, which)
    if frame is None:
        return
    st.markdown(t(f"embeddings.nn.heading_{'query' if which == 'query_neighbours' else 'item'}",
                  d=result["vector_dims"]))
    ui.data_table(charts.display_frame(frame, ui.lang()), key, filename=f"neighbours-{which}",
                  column_config={t("embeddings.col.cosine"): st.column_config.NumberColumn(format="%.3f")})


def render_selected(result: dict, key: str) -> None:
    """The selected point: its text literally, its neighbours, and "Classify this text"."""
    if result.get("selected") is None:
        return
    text = result["texts"][result["selected"]]
    st.markdown(t("embeddings.selected.heading", row=result["rows"][result["selected"]]))
    ui.show_literal(text)
    ui.link_button(t("embeddings.classify_this"), "classification", {"text": text, "mode": "single"},
                   key=f"{key}_classify", icon="🏷️")
    render_neighbours(result, "neighbours", f"{key}_nn_item")


def render_query(result: dict, key: str) -> None:
    if not result.get("query"):
        return
    st.markdown(t("embeddings.query.heading"))
    ui.show_literal(result["query"])
    if result.get("query_xy") is None:
        st.info(t("embeddings.query.tsne"), icon="ℹ️")
    render_neighbours(result, "query_neighbours", f"{key}_nn_query")


def report(result: dict, source: str, key: str) -> None:
    lang = ui.lang()  # captured now: the download runs outside the script thread
    model_name, title = ui.model_name(get_spec(result["model"])), map_title(result)
    ui.report_button(t("embeddings.report.title"),
                     lambda: charts.report_sections(result, lang, model_name, title, source),
                     filename="embedding-map", key=key)


# ------------------------------------------------------------------ presenter mode: curated maps
def render_example(example: dict) -> None:
    cur = dict(example["result"])
    if cur.get("set") in SETS:  # the legend title and the shipped set's labels in the session's language
        cur["label_title"] = EW.set_label_title(SETS[cur["set"]], ui.lang())
        cur["labels"] = [EW.set_label(str(label), ui.lang()) for label in cur.get("labels") or []] or None
    render_metrics(cur)
    map_chart(charts.result_map(cur, title=map_title(cur), lang=ui.lang()), "emb_cur_map",
              charts.display_frame(emb.points_frame(cur), ui.lang()), "embedding-map", selectable=False)
    render_variance(cur, "emb_cur")
    render_selected(cur, "emb_cur")
    render_query(cur, "emb_cur")
    report(cur, EW.set_title(SETS[cur["set"]], ui.lang()) if cur.get("set") in SETS else "", "emb_report_cur")


def _go_live(example: dict) -> None:
    st.session_state[LIVE] = True
    st.session_state[K("emb_input")] = st.session_state[L_SRC]


ui.slide(PAGE, SCHEMA, render_example, run_requested, on_live=_go_live)


# ------------------------------------------------------------------ 1. input
class Problem(Exception):
    """An input problem: shown (and the page stopped) only after the source widgets are drawn,
    so the model picker never disappears and nothing chosen is lost."""

    def __init__(self, message: str, kind: str = "warning"):
        super().__init__(message)
        self.kind = kind


def stop_with(message: str, kind: str = "warning") -> None:
    getattr(st, kind)(message, icon={"warning": "⚠️", "error": "🚫", "info": "ℹ️"}[kind])
    st.stop()


def read_items(mode: str, method: str) -> tuple[pd.DataFrame, list[str], str, str]:
    """The items of the chosen input.

    Returns:
        (frame with ``text`` [, ``label``] and ``row``; notices; legend title; source description).

    Raises:
        Problem: nothing usable (the message says why and what to do).
    """
    notes: list[str] = []
    if mode == EXAMPLE:
        names = WORD_SETS if method == emb.WORD else list(SETS)  # word vectors: word lists only
        if st.session_state.get(K("emb_example")) not in names:
            st.session_state[K("emb_example")] = names[0]
        name = st.selectbox(t("embeddings.input.set"), names, key=K("emb_example"), persist_state=SESSION,
                            format_func=lambda n: EW.set_title(SETS[n], ui.lang()))
        frame = EW.set_frame(SETS[name], ui.lang())  # shipped labels in the UI language
        frame["row"] = np.arange(1, len(frame) + 1)
        return frame, notes, EW.set_label_title(SETS[name], ui.lang()), EW.set_title(SETS[name], ui.lang())
    if mode == TYPED:
        st.session_state.setdefault(K("emb_text"), DEFAULT_TEXT)
        c1, c2 = st.columns([4, 1])
        text = c1.text_area(t("embeddings.input.text"), key=K("emb_text"), persist_state=SESSION, height=200,
                            help=t("embeddings.input.text_help", cap=f"{emb.MAX_ITEMS:,}"))
        title = c2.text_input(t("embeddings.input.label_title"), key=K("emb_label_title"), persist_state=SESSION,
                              max_chars=LABEL_MAX_CHARS, placeholder=t("embeddings.chart.legend_label"))
        try:
            frame, notes = parse_labelled_lines(text)
        except InputError as exc:
            raise Problem(t("embeddings.input.empty", error=ui.say(exc))) from None
        frame["row"] = np.arange(1, len(frame) + 1)
        if frame["label"].eq("").all():
            frame = frame.drop(columns="label")
        return frame, notes, title, t("embeddings.input.typed_source")
    upload = st.file_uploader(t("embeddings.input.csv"), type=["csv", "txt"], key="emb_csv",
                              help=t("embeddings.input.csv_help"))
    if upload is None:
        raise Problem(t("embeddings.input.csv_missing"), "info")
    name = emb.md_code(upload.name)
    try:
        raw, encoding, csv_notes = cached_csv(upload.getvalue())
    except InputError as exc:
        raise Problem(f"{name}: {ui.say(exc)}") from None  # a warning, as on the other pages
    table = CsvTable(frame=raw, encoding=encoding, notices=list(csv_notes))
    columns = table.columns
    text_key, label_key = K("emb_csv_text"), K("emb_csv_label")
    remembered = st.session_state.get(text_key)
    if remembered is not None and remembered not in columns:
        st.warning(t("embeddings.input.column_gone", column=emb.md_code(remembered), file=name,
                     columns=", ".join(emb.md_code(c) for c in columns)), icon="⚠️")
    if st.session_state.get(text_key) not in columns:
        hinted = [c for c in columns if c.strip().lower() in TEXT_COLUMN_HINTS]
        lengths = {c: raw[c].astype(str).str.len().mean() for c in columns}
        st.session_state[text_key] = hinted[0] if hinted else max(columns, key=lambda c: lengths[c])
    if st.session_state.get(label_key) not in [NONE, *columns]:
        hinted = [c for c in columns if c.strip().lower() in LABEL_COLUMN_HINTS and c != st.session_state[text_key]]
        st.session_state[label_key] = hinted[0] if hinted else NONE
    c1, c2 = st.columns(2)
    text_col = c1.selectbox(t("embeddings.input.text_column"), columns, key=text_key, persist_state=SESSION)
    label_col = c2.selectbox(t("embeddings.input.label_column"), [NONE, *columns], key=label_key, persist_state=SESSION,
                             format_func=lambda c: t("embeddings.input.no_label_column") if c == NONE else c)
    try:
        frame, notes = column_texts(table, text_col, None if label_col == NONE else label_col)
    except InputError as exc:
        raise Problem(ui.say(exc)) from None
    st.caption(t("embeddings.input.csv_summary", file=name, rows=f"{len(raw):,}",
                 columns=", ".join(emb.md_code(c) for c in columns), encoding=encoding))
    return frame, table.notices + notes, "" if label_col == NONE else label_col, upload.name


def _method_changed() -> None:
    """Each method starts on its bundled model (MiniLM for sentences, SmolLM2 otherwise)."""
    st.session_state[K(PICKER)] = DEFAULT_MODEL[st.session_state[K("emb_method")]]


with ui.live_inputs(PAGE):  # sections 1 and 2
    st.subheader(t("embeddings.input.heading"))
    if st.session_state.get(K("emb_input")) not in INPUT_MODES:
        st.session_state[K("emb_input")] = EXAMPLE
    mode = st.radio(t("embeddings.input.mode"), INPUT_MODES, key=K("emb_input"), persist_state=SESSION, horizontal=True,
                    label_visibility="collapsed", format_func=lambda m: t(f"embeddings.input.modes.{m}"))
    if st.session_state.get(K("emb_method")) not in emb.METHODS:
        st.session_state[K("emb_method")] = emb.SENTENCE
    try:
        frame, notes, label_title, source = read_items(mode, st.session_state[K("emb_method")])
    except Problem as exc:
        frame, notes, label_title, source, input_problem = None, [], "", "", exc
    else:
        input_problem = None

    # what a copied link carries about the items (typed and CSV items travel as a list)
    if frame is not None and mode in (TYPED, CSV):
        st.session_state[L_SRC] = TYPED
        st.session_state[L_TEXTS] = frame["text"].astype(str).tolist()
        st.session_state[L_LABELS] = frame["label"].astype(str).tolist() if "label" in frame.columns else []
    else:
        st.session_state[L_SRC] = TYPED if mode == TYPED else EXAMPLE
        st.session_state[L_TEXTS], st.session_state[L_LABELS] = [], []

    if frame is not None:
        keep, sample_notes = emb.sample_items(len(frame), cap=emb.MAX_ITEMS)
        if len(keep) < len(frame):
            frame = frame.iloc[keep].reset_index(drop=True)
            st.warning(ui.say(sample_notes[0]), icon="🎲")
        ui.notices(notes)
        with st.expander(t("embeddings.input.items", n=f"{len(frame):,}")):
            shown = frame.drop(columns="row").head(5_000)
            st.dataframe(charts.display_frame(shown, ui.lang()), hide_index=True, width="stretch")

    # ------------------------------------------------------------------ 2. source
    st.subheader(t("embeddings.source.heading"))
    left, right = st.columns([3, 2])

    with left:
        method = st.radio(t("embeddings.source.method"), emb.METHODS, key=K("emb_method"), persist_state=SESSION,
                          format_func=lambda m: t(f"embeddings.method.{m}"), on_change=_method_changed)
    if mode == EXAMPLE and frame is not None and SETS[st.session_state[K("emb_example")]].kind == "words" \
            and method != emb.WORD:
        st.info(t("embeddings.source.try_words"), icon="💡")
    if st.session_state.get(K(PICKER)) not in MODEL_KEYS:
        st.session_state[K(PICKER)] = DEFAULT_MODEL[method]
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
    result_emb = cached_embeddings(model_key, method, layer, digest, texts, rows,
                                   t("embeddings.source.encoding", n=f"{len(texts):,}", model=ui.model_name(spec)))
except InputError as exc:
    stop_with(ui.say(exc))
emb_id = "|".join(str(x) for x in (model_key, method, layer, digest))
vectors = result_emb.vectors
ui.notices(result_emb.notices)
coverages, coverage_notes = cached_coverage(model_key, digest, texts)
for note in coverage_notes:
    st.warning(ui.say(note), icon="❓")
if result_emb.pieces is not None:
    with st.expander(t("embeddings.source.pieces")):
        st.dataframe(pd.DataFrame({t("embeddings.col.text"): texts,
                                   t("embeddings.col.tokens"): [" + ".join(p) for p in result_emb.pieces]}),
                     hide_index=True, width="stretch")

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
        proj = cached_projection(emb_id, proj_method, int(dims), perplexity, vectors)
except InputError as exc:
    stop_with(ui.say(exc))
ui.notices(proj.notices)

hits = emb.matches(texts, search)
if search.strip():
    st.caption(t("embeddings.map.search_hits", n=f"{int(hits.sum()):,}", q=emb.md_code(search.strip())))

query_vector, query_notes = None, []
if query.strip():
    try:
        qemb = cached_query(model_key, method, layer, query.strip())
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
    query_cov = cached_coverage(model_key, emb.texts_digest([query.strip()]), [query.strip()])[0][0]
    cov_key, cov_values = coverage.message(query_cov, ui.escape_markdown)
    (st.caption if query_cov["meaningful"] else st.warning)(t(cov_key, **cov_values))

with map_area:
    render_metrics(result)
    fig = charts.result_map(result, title=map_title(result), lang=ui.lang(), colour=bool(colour),
                            highlight=hits if search.strip() else None)
    map_chart(fig, f"emb_map_{st.session_state[K('emb_proj')]}_{st.session_state[K('emb_dims')]}",
              charts.display_frame(emb.points_frame(result), ui.lang()), "embedding-map", selectable=int(dims) == 2)
    st.caption(t("embeddings.map.hint_2d" if int(dims) == 2 else "embeddings.map.hint_3d"))
    render_variance(result, "emb")

render_selected(result, "emb")
render_query(result, "emb")
report(result, source, "emb_report")
