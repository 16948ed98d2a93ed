"""Embedding explorer, UI side: the input blocks (example set, typed lines, CSV upload), the
cached encoding / projection / query runs, the map and its notes, the selected point and the
query views, the report button and the presenter example. Strings from
``locales/<lang>/embeddings.toml`` through :func:`components.ui.t`; the page
(``app_pages/embeddings.py``) reads widgets -> compute -> these views. The computing is
:mod:`components.embeddings`."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components import charts_embeddings as charts
from components import coverage, textio, ui
from components import embeddings as emb
from components import embeddings_wording as EW
from components.catalog import MINILM, SMOLLM2, get_spec
from components.textio import CsvTable, InputError, column_texts, parse_labelled_lines, read_csv_bytes

K = ui.persist_key
t = ui.t
SESSION = "session"  # persist_state: keep a widget's value while it is not rendered
EXAMPLE, TYPED, CSV = "example", "typed", "csv"
INPUT_MODES = (EXAMPLE, TYPED, CSV)
DEFAULT_MODEL = {emb.SENTENCE: MINILM, emb.HIDDEN: SMOLLM2, emb.WORD: MINILM}  # WordPiece keeps whole words
SETS = {s.name: s for s in emb.example_sets()}
WORD_SETS = [s.name for s in emb.example_sets("words")]
DEFAULT_TEXT = "dog | animal\ncat | animal\nrun | verb\nhouse | building\nhorse | animal\nwalk | verb\nschool | building\n"  # i18n: ok (example data, not UI text)
NONE = "\x00none"  # the CSV "no label column" choice (cannot be a column name)
PICKER = "emb_model"  # one model picker for every method, so it never unmounts
LABEL_MAX_CHARS = 200

# What a link carries about the items. Not widget keys: they are filled from the current input
# before the link is published, and written into the widgets when a link brings new values.
L_SRC, L_TEXTS, L_LABELS = "emb_link_src", "emb_link_texts", "emb_link_labels"
LIVE = "emb_live"  # presenter mode: compute the live map (after "run live", run=1 or the button)


# ------------------------------------------------------------------ link in / out
def link_state() -> dict:
    """What a link carries about the items, before :func:`components.ui.bind_link` reads the URL."""
    return {name: st.session_state.get(name) for name in (L_SRC, L_TEXTS, L_LABELS)}


def apply_link(before: dict, defaults: dict) -> list[str]:
    """Items a link (or a cross-link) brought go into the text area; returns the notes to show.

    Args:
        before: :func:`link_state` before the link was bound.
        defaults: each link state key's SCHEMA default.
    """
    notes: list[str] = []
    if not any(st.session_state.get(name) != (before[name] if before[name] is not None else defaults[name])
               for name in before):
        return notes
    link_texts = [x for x in st.session_state[L_TEXTS] if x.strip()]
    link_labels = st.session_state[L_LABELS] or None
    if link_labels is not None and len(link_labels) != len(st.session_state[L_TEXTS]):
        notes.append(t("embeddings.link.labels_mismatch", labels=len(link_labels),
                       texts=len(st.session_state[L_TEXTS])))
        link_labels = None
    elif link_labels is not None:
        link_labels = [lab for x, lab in zip(st.session_state[L_TEXTS], link_labels) if x.strip()]
    if link_texts:
        body, flattened = emb.compose_lines(link_texts, link_labels)
        st.session_state[K("emb_text")] = body
        st.session_state[K("emb_input")] = TYPED
        if flattened:
            notes.append(t("embeddings.link.flattened", n=flattened))
    elif st.session_state[L_SRC] in INPUT_MODES:
        st.session_state[K("emb_input")] = st.session_state[L_SRC]
    return notes


def publish_items(frame: pd.DataFrame | None, mode: str) -> None:
    """What a copied link carries about the items (typed and CSV items travel as a list)."""
    if frame is not None and mode in (TYPED, CSV):
        st.session_state[L_SRC] = TYPED
        st.session_state[L_TEXTS] = frame["text"].astype(str).tolist()
        st.session_state[L_LABELS] = frame["label"].astype(str).tolist() if "label" in frame.columns else []
    else:
        st.session_state[L_SRC] = TYPED if mode == TYPED else EXAMPLE
        st.session_state[L_TEXTS], st.session_state[L_LABELS] = [], []


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
    """:func:`components.textio.read_csv_bytes` per file content -> (frame, encoding, notices).
    Raises :class:`InputError` (not cached: the next run reads the file again)."""
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
    """The map's title: item count, method, model (and layer of hidden-state maps)."""
    title = t("embeddings.map.title", n=f"{len(result['texts']):,}", method=t(f"embeddings.method_short.{result['method']}"),
              model=ui.model_name(get_spec(result["model"])))
    if result.get("layer") is not None and result["method"] == emb.HIDDEN:
        title += t("embeddings.map.layer", layer=result["layer"])
    return title


def render_metrics(result: dict) -> None:
    """Items, vector dimensions and mean pairwise cosine of a map result."""
    m1, m2, m3 = st.columns(3)
    m1.metric(t("embeddings.metric.items"), f"{len(result['texts']):,}")
    m2.metric(t("embeddings.metric.dims"), f"{result['vector_dims']}")
    mc = result.get("mean_cosine")
    m3.metric(t("embeddings.metric.mean_cosine"), "–" if mc is None or not np.isfinite(mc) else f"{mc:.3f}",
              help=t("embeddings.metric.mean_cosine_help"))


def render_variance(result: dict, key: str) -> None:
    """The PCA scree chart and the share of variance the map keeps (t-SNE: a note instead)."""
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
    """Nearest neighbours in the full space (``which``: ``"neighbours"`` or ``"query_neighbours"``)."""
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
    """The query text literally, a note when t-SNE cannot place it, and its neighbours."""
    if not result.get("query"):
        return
    st.markdown(t("embeddings.query.heading"))
    ui.show_literal(result["query"])
    if result.get("query_xy") is None:
        st.info(t("embeddings.query.tsne"), icon="ℹ️")
    render_neighbours(result, "query_neighbours", f"{key}_nn_query")


def report(result: dict, source: str, key: str) -> None:
    """The HTML report button of a map result (``source``: where the items came from)."""
    lang = ui.lang()  # captured now: the download runs outside the script thread
    model_name, title = ui.model_name(get_spec(result["model"])), map_title(result)
    ui.report_button(t("embeddings.report.title"),
                     lambda: charts.report_sections(result, lang, model_name, title, source),
                     filename="embedding-map", key=key)



# ------------------------------------------------------------------ presenter mode: curated maps
def render_example(example: dict) -> None:
    """Presenter mode: one curated map of ``curated/embeddings.json``, in the session's language."""
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


def go_live(example: dict) -> None:
    """Presenter mode "run live": compute the live map from the slide's input."""
    st.session_state[LIVE] = True
    st.session_state[K("emb_input")] = st.session_state[L_SRC]


# ------------------------------------------------------------------ input
class Problem(Exception):
    """An input problem: shown (and the page stopped) only after the source widgets are drawn,
    so the model picker never disappears and nothing chosen is lost."""

    def __init__(self, message: str, kind: str = "warning"):
        super().__init__(message)
        self.kind = kind


def stop_with(message: str, kind: str = "warning") -> None:
    """Show ``message`` (``kind``: warning, error or info) and stop the script run."""
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
    c1, c2 = st.columns(2)
    text_col, _, _ = ui.csv_text_column(table, upload, text_key, t("embeddings.input.text_column"), container=c1)
    label_col = label_column(table, upload, text_col, label_key, c2)
    try:
        frame, notes = column_texts(table, text_col, None if label_col == NONE else label_col)
    except InputError as exc:
        raise Problem(ui.say(exc)) from None
    st.caption(t("embeddings.input.csv_summary", file=name, rows=f"{len(raw):,}",
                 columns=", ".join(emb.md_code(c) for c in columns), encoding=encoding))
    return frame, table.notices + notes, "" if label_col == NONE else label_col, upload.name


def label_column(table: CsvTable, upload, text_col: str, key: str, container) -> str:
    """The optional label (colour) column of a CSV upload: :data:`NONE` or a column.

    A new upload starts from :func:`components.textio.guess_label_column` when a header names
    the labels (its ``"name"`` rule), else from no label column; a rerun keeps the user's pick.
    """
    owner, choices = ui.upload_id(upload), [NONE, *table.columns]
    if st.session_state.get(f"_{key}_for") != owner or st.session_state.get(key) not in choices:
        guess = textio.guess_label_column(table.frame, text_col)
        st.session_state[f"_{key}_for"] = owner
        st.session_state[key] = guess.column if guess.rule == textio.GUESS_NAME and guess.column != text_col else NONE
    return container.selectbox(t("embeddings.input.label_column"), choices, key=key, persist_state=SESSION,
                               format_func=lambda c: t("embeddings.input.no_label_column") if c == NONE else c)


def method_changed() -> None:
    """Each method starts on its bundled model (MiniLM for sentences, SmolLM2 otherwise)."""
    st.session_state[K(PICKER)] = DEFAULT_MODEL[st.session_state[K("emb_method")]]


def items_preview(frame: pd.DataFrame, notes: list) -> pd.DataFrame:
    """Sample the items down to :data:`components.embeddings.MAX_ITEMS` (with a warning), show
    the input's notices and the items; returns the kept items."""
    keep, sample_notes = emb.sample_items(len(frame), cap=emb.MAX_ITEMS)
    if len(keep) < len(frame):
        frame = frame.iloc[keep].reset_index(drop=True)
        st.warning(ui.say(sample_notes[0]), icon="🎲")
    ui.notices(notes)
    with st.expander(t("embeddings.input.items", n=f"{len(frame):,}")):
        shown = frame.drop(columns="row").head(5_000)
        st.dataframe(charts.display_frame(shown, ui.lang()), hide_index=True, width="stretch")
    return frame


# ------------------------------------------------------------------ live map: notes and views
def render_encoding_notes(result_emb: emb.Embeddings, coverage_notes: list, texts: list[str]) -> None:
    """The encoder's notices, the texts its tokenizer barely knows, and (word vectors) the pieces."""
    ui.notices(result_emb.notices)
    for note in coverage_notes:
        st.warning(ui.say(note), icon="❓")
    if result_emb.pieces is not None:
        with st.expander(t("embeddings.source.pieces")):
            st.dataframe(pd.DataFrame({t("embeddings.col.text"): texts,
                                       t("embeddings.col.tokens"): [" + ".join(p) for p in result_emb.pieces]}),
                         hide_index=True, width="stretch")


def render_query_coverage(model_key: str, query: str) -> None:
    """How much of the query the model's tokenizer knows (a warning when it barely does)."""
    query_cov = cached_coverage(model_key, emb.texts_digest([query]), [query])[0][0]
    cov_key, cov_values = coverage.message(query_cov, ui.escape_markdown)
    (st.caption if query_cov["meaningful"] else st.warning)(t(cov_key, **cov_values))


def render_map(result: dict, colour: bool, hits: np.ndarray | None, dims: int) -> None:
    """The live map: metrics, the (2-D: clickable) chart, its hint and the explained variance."""
    render_metrics(result)
    fig = charts.result_map(result, title=map_title(result), lang=ui.lang(), colour=colour, highlight=hits)
    map_chart(fig, f"emb_map_{st.session_state[K('emb_proj')]}_{st.session_state[K('emb_dims')]}",
              charts.display_frame(emb.points_frame(result), ui.lang()), "embedding-map", selectable=dims == 2)
    st.caption(t("embeddings.map.hint_2d" if dims == 2 else "embeddings.map.hint_3d"))
    render_variance(result, "emb")
