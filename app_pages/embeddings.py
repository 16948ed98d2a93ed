"""Embedding explorer: texts or words in, a PCA (or t-SNE) map of their vectors out,
with search, nearest neighbours in the full space, and "where would my sentence land?"."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from components import charts_embeddings as charts
from components import embeddings as emb
from components import ui
from components.catalog import EMBEDDINGS, MINILM, SENTENCE_TRANSFORMER, SMOLLM2, get_spec
from components.textio import InputError, column_texts, parse_labelled_lines, read_csv_bytes

K = ui.persist_key
INPUT_MODES = ("Example set", "Type or paste", "Upload CSV")
METHOD_LABELS = {
    emb.SENTENCE: "Sentence embeddings (all-MiniLM-L6-v2)",
    emb.HIDDEN: "Mean-pooled hidden states (SmolLM2, choose the layer)",
    emb.WORD: "Word / token embeddings (input embedding matrix)",
}
DEFAULT_MODEL = {emb.SENTENCE: MINILM, emb.HIDDEN: SMOLLM2, emb.WORD: SMOLLM2}
DEFAULT_TEXT = "dog | animal\ncat | animal\nrun | verb\nhouse | building\nhorse | animal\nwalk | verb\nschool | building\n"
NONE = "(none)"
# Streamlit >= 1.6x: keep a widget's value (and what the browser shows) while it is not rendered,
# e.g. while a bad input stops the page before it (ui.keep_widget_state alone restores the value
# on the server but the re-mounted widget showed its default).
SESSION = "session"
TEXT_COLUMN_HINTS = ("text", "sentence", "sentences", "review", "content", "body", "comment", "word")
LABEL_COLUMN_HINTS = ("label", "labels", "topic", "category", "class", "group", "tag")

EXPLAINER = """
**Word embeddings · 词向量.** A model turns every token into a vector of numbers (here 384 or 576 of them).
Training pushes words used in similar contexts to similar vectors — the idea behind **Word2Vec** and
**GloVe**: *dog* lands near *cat*, *run* near *walk*, *house* near *school*. 语义相近的词，向量也相近。

- **Word / token embeddings** are rows of the model's input embedding matrix: one fixed vector per
  token, before any attention layer (a word split into several tokens gets the average of their rows).
- **Sentence embeddings** (all-MiniLM-L6-v2) run the whole transformer and average its last layer over the
  tokens; the model was fine-tuned so that paraphrases get close vectors. 句向量：整句话一个向量。
- **Hidden states** of SmolLM2 (a GPT-style decoder) averaged over the tokens: early layers stay close to
  the token embeddings, later layers carry more context.

**The map · 投影.** Vectors with hundreds of dimensions cannot be drawn. **PCA** (principal component
analysis) is a *linear* projection onto the 2 or 3 directions in which the points vary most; the axis titles
and the scree bar say how much of the total variance each direction keeps (**explained variance ratio**).
What is close on the map is usually close in the full space, but not always — the **nearest neighbours**
table is computed with cosine similarity in the full space, not on the map. **t-SNE** is *non-linear*: it
keeps each point's neighbours close but distorts distances between clusters. 主成分分析是线性投影；t-SNE 是非线性的。
"""

st.title("🧭 Embedding explorer · 词向量")
st.caption(
    "Put sentences or single words through a real model, see the vectors as a map, and find "
    "which items are closest in meaning. Similar meanings land close."
)
ui.explainer("What you are seeing · 你看到的是什么", EXPLAINER)


# ------------------------------------------------------------------ cached work
@st.cache_data(max_entries=6, ttl=3600, show_spinner=False)
def cached_embeddings(model_key: str, method: str, layer: int | None, digest: str,
                      _texts: list[str], _rows: list[int]) -> emb.Embeddings:
    """Embeddings per (model key, method, layer, texts digest); a progress bar while encoding."""
    from components.cache import get_model

    loaded = get_model(model_key)
    bar = st.progress(0.0, text=f"Encoding {len(_texts):,} item(s) with {loaded.spec.display_name}…")

    def report(fraction: float) -> None:
        bar.progress(min(1.0, fraction), text=f"Encoding {len(_texts):,} item(s)… {100 * fraction:.0f}%")

    try:
        if method == emb.WORD:
            return emb.word_embeddings(loaded, _texts)
        if method == emb.SENTENCE and loaded.sentence_model is not None:
            return emb.encode_sentences(loaded, _texts, progress=report, rows=_rows)
        return emb.hidden_state_embeddings(loaded, _texts, layer=int(layer), progress=report, rows=_rows)
    finally:
        bar.empty()


@st.cache_data(max_entries=12, ttl=3600, show_spinner="Projecting…")
def cached_projection(emb_id: str, method: str, dims: int, _vectors: np.ndarray) -> emb.Projection:
    """Projection per (embeddings id, method, dims): switching 2-D/3-D or colours never re-encodes."""
    return emb.project(_vectors, method, dims)


@st.cache_data(max_entries=6, ttl=3600, show_spinner=False)
def cached_nearest_all(emb_id: str, _vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return emb.nearest_for_all(_vectors)


@st.cache_data(max_entries=64, ttl=3600, show_spinner="Embedding your query…")
def cached_query(model_key: str, method: str, layer: int | None, query: str) -> emb.Embeddings:
    from components.cache import get_model

    loaded = get_model(model_key)
    if method == emb.WORD:
        return emb.word_embeddings(loaded, [query])
    if method == emb.SENTENCE and loaded.sentence_model is not None:
        return emb.encode_sentences(loaded, [query])
    return emb.hidden_state_embeddings(loaded, [query], layer=int(layer))


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def cached_csv(data: bytes) -> tuple[pd.DataFrame, str, list[str]]:
    table = read_csv_bytes(data)
    return table.frame, table.encoding, table.notices


def stop_with(message: str, kind: str = "warning") -> None:
    getattr(st, kind)(message, icon={"warning": "⚠️", "error": "🚫", "info": "ℹ️"}[kind])
    st.stop()


class Problem(Exception):
    """An input problem: shown (and the page stopped) only after the source widgets are drawn,
    so the model picker never disappears and nothing chosen is lost."""

    def __init__(self, message: str, kind: str = "warning"):
        super().__init__(message)
        self.kind = kind


def defer(message: str, kind: str = "warning"):
    raise Problem(message, kind)


# ------------------------------------------------------------------ 1. input
st.subheader("1 · Items · 输入")
st.session_state.setdefault(K("emb_input"), INPUT_MODES[0])
mode = st.radio("Input", INPUT_MODES, key=K("emb_input"), persist_state=SESSION, horizontal=True, label_visibility="collapsed")
def read_items(mode: str) -> tuple[pd.DataFrame, list[str], bool]:
    """The items of the chosen input: (frame with text[, label], row; notices; is a word list).

    Raises:
        Problem: nothing usable (the message says why and what to do).
    """
    notes: list[str] = []
    suggest_words = False

    if mode == "Example set":
        sets = {s.name: s for s in emb.example_sets()}
        if st.session_state.get(K("emb_example")) not in sets:
            st.session_state[K("emb_example")] = next(iter(sets))
        name = st.selectbox("Example set", list(sets), key=K("emb_example"), persist_state=SESSION,
                            format_func=lambda n: sets[n].title)
        frame = sets[name].frame()
        frame["row"] = np.arange(1, len(frame) + 1)
        suggest_words = sets[name].kind == "words"
    elif mode == "Type or paste":
        st.session_state.setdefault(K("emb_text"), DEFAULT_TEXT)
        text = st.text_area(
            "One item per line: `text | label` (the label is optional and colours the points)",
            key=K("emb_text"), persist_state=SESSION, height=200,
            help="Everything after the last `|` is the label. Blank lines are ignored. "
                 f"Up to {emb.MAX_ITEMS:,} items are mapped; more are sampled.",
        )
        try:
            frame, notes = parse_labelled_lines(text)
        except InputError as exc:
            defer(f"{exc} Or pick an example set above.")
        frame["row"] = np.arange(1, len(frame) + 1)
        if frame["label"].eq("").all():
            frame = frame.drop(columns="label")
    else:
        upload = st.file_uploader(
            "CSV file (UTF-8 or Windows-1252; first row = column names)", type=["csv", "txt"], key="emb_csv",
            help="Up to 20 MB (server.maxUploadSize). Choose the text column and an optional label column below.",
        )
        if upload is None:
            defer("Upload a CSV file, or choose an example set / type items above.", "info")
        try:
            raw, encoding, csv_notes = cached_csv(upload.getvalue())
        except InputError as exc:
            defer(f"{emb.md_code(upload.name)}: {exc}", "error")
        from components.textio import CsvTable

        table = CsvTable(frame=raw, encoding=encoding, notices=list(csv_notes))
        columns = table.columns
        text_key, label_key = K("emb_csv_text"), K("emb_csv_label")
        remembered = st.session_state.get(text_key)
        if remembered is not None and remembered not in columns:
            st.warning(
                f"Column {emb.md_code(remembered)} (chosen before) is not in {emb.md_code(upload.name)}. "
                "Columns found: " + ", ".join(emb.md_code(c) for c in columns) + ". Choose the text column below.",
                icon="⚠️")
        if st.session_state.get(text_key) not in columns:
            hinted = [c for c in columns if c.strip().lower() in TEXT_COLUMN_HINTS]
            lengths = {c: raw[c].astype(str).str.len().mean() for c in columns}
            st.session_state[text_key] = hinted[0] if hinted else max(columns, key=lambda c: lengths[c])
        if st.session_state.get(label_key) not in [NONE, *columns]:
            hinted = [c for c in columns if c.strip().lower() in LABEL_COLUMN_HINTS and c != st.session_state[text_key]]
            st.session_state[label_key] = hinted[0] if hinted else NONE
        c1, c2 = st.columns(2)
        text_col = c1.selectbox("Text column", columns, key=text_key, persist_state=SESSION)
        label_col = c2.selectbox("Label / colour column (optional)", [NONE, *columns], key=label_key, persist_state=SESSION)
        try:
            frame, notes = column_texts(table, text_col, None if label_col == NONE else label_col)
        except InputError as exc:
            defer(str(exc))
        notes = table.notices + notes
        st.caption(f"{emb.md_code(upload.name)}: {len(raw):,} rows, columns " + ", ".join(emb.md_code(c) for c in columns)
                   + f" · read as {encoding}.")

    return frame, notes, suggest_words


try:
    frame, notes, suggest_words = read_items(mode)
except Problem as exc:
    frame, notes, suggest_words, input_problem = None, [], False, exc
else:
    input_problem = None
    keep, sample_notes = emb.sample_items(len(frame), cap=emb.MAX_ITEMS)
    if len(keep) < len(frame):
        frame = frame.iloc[keep].reset_index(drop=True)
        st.warning(sample_notes[0], icon="🎲")
    ui.notices(notes)
    with st.expander(f"The {len(frame):,} item(s) (shown literally)"):
        st.dataframe(frame.drop(columns="row").head(5_000), hide_index=True, width="stretch")

# ------------------------------------------------------------------ 2. source
st.subheader("2 · Embedding source · 向量来源")
st.session_state.setdefault(K("emb_method"), emb.SENTENCE)
left, right = st.columns([3, 2])
PICKER = "emb_model"  # one picker for every method, so it never unmounts


def _method_changed() -> None:
    """Each method starts on its bundled model (MiniLM for sentences, SmolLM2 otherwise)."""
    st.session_state[K(PICKER)] = DEFAULT_MODEL[st.session_state[K("emb_method")]]


with left:
    method = st.radio("How to turn items into vectors", emb.METHODS, key=K("emb_method"), persist_state=SESSION,
                      format_func=METHOD_LABELS.get, on_change=_method_changed)
if suggest_words and method != emb.WORD:
    st.info("This example is a word list: try **Word / token embeddings** to see the primer's "
            "static word vectors (Word2Vec/GloVe-style).", icon="💡")
picker = PICKER
st.session_state.setdefault(K(picker), DEFAULT_MODEL[method])
with right:
    model_key = ui.model_picker(EMBEDDINGS, picker, label="Model (catalog)")
if input_problem is not None:
    stop_with(str(input_problem), input_problem.kind)
assert frame is not None
texts = frame["text"].astype(str).tolist()
labels = frame["label"].astype(str).tolist() if "label" in frame.columns else None
rows = [int(r) for r in frame["row"]]
loaded = ui.load_or_explain(model_key, picker)
if loaded is None:
    st.stop()
spec = get_spec(model_key)
layer: int | None = None
if method == emb.SENTENCE and spec.loader != SENTENCE_TRANSFORMER:
    st.info(f"{spec.display_name} is not a sentence-transformers model: its sentence vectors are the "
            "mean of its last layer's hidden states.", icon="ℹ️")
    layer = emb.num_layers(loaded)
elif method == emb.HIDDEN:
    n_layers = emb.num_layers(loaded)
    if not isinstance(st.session_state.get(K("emb_layer")), int) or not 0 <= st.session_state[K("emb_layer")] <= n_layers:
        st.session_state[K("emb_layer")] = (2 * n_layers) // 3
    layer = right.slider("Layer (0 = token embeddings, last = output)", 0, n_layers, key=K("emb_layer"), persist_state=SESSION)
    if len(texts) > 2_000:
        st.info(f"{spec.display_name} hidden states for {len(texts):,} texts take a few minutes on this "
                "CPU (each text runs through every layer); sentence embeddings are much faster.", icon="⏱️")

emb_key = (model_key, method, layer, emb.texts_digest(texts))
try:
    result = cached_embeddings(model_key, method, layer, emb_key[3], texts, rows)
except InputError as exc:
    stop_with(str(exc))
emb_id = "|".join(str(x) for x in emb_key)
vectors = result.vectors
ui.notices(result.notices)
if result.pieces is not None:
    with st.expander("Tokens behind each word vector"):
        st.dataframe(pd.DataFrame({"item": texts, "tokens averaged": [" + ".join(p) for p in result.pieces]}),
                     hide_index=True, width="stretch")
stats = emb.summary_stats(vectors)
m1, m2, m3 = st.columns(3)
m1.metric("Items", f"{len(texts):,}")
m2.metric("Dimensions per vector", f"{vectors.shape[1]}")
m3.metric("Mean cosine between items", f"{stats['mean_cosine']:.3f}" if np.isfinite(stats["mean_cosine"]) else "–")


# ------------------------------------------------------------------ 3. map (fragment)
@st.fragment
def explore(emb_id: str, texts: list[str], labels: list[str] | None, rows: list[int],
            vectors: np.ndarray, model_key: str, method: str, layer: int | None) -> None:
    st.subheader("3 · Map · 投影")
    c1, c2, c3, c4 = st.columns([2, 1.2, 1.3, 3])
    st.session_state.setdefault(K("emb_proj"), emb.PCA)
    st.session_state.setdefault(K("emb_dims"), 2)
    st.session_state.setdefault(K("emb_colour"), True)
    proj_method = c1.radio("Projection", (emb.PCA, emb.TSNE), key=K("emb_proj"), persist_state=SESSION, horizontal=True,
                           format_func={emb.PCA: "PCA (linear)", emb.TSNE: "t-SNE (non-linear)"}.get)
    dims = c2.radio("Dimensions", (2, 3), key=K("emb_dims"), persist_state=SESSION, horizontal=True, format_func=lambda d: f"{d}-D")
    colour = c3.toggle("Colour", help="Colour the points by their label", key=K("emb_colour"), persist_state=SESSION, disabled=labels is None)
    search = c4.text_input("Search (highlights items containing this text)", key=K("emb_search"), persist_state=SESSION)

    if proj_method == emb.TSNE and len(texts) > emb.TSNE_MAX_ITEMS:
        st.warning(f"t-SNE is limited to {emb.TSNE_MAX_ITEMS:,} items here (you have {len(texts):,}); "
                   "showing PCA instead.", icon="⏱️")
        proj_method = emb.PCA
    try:
        proj = cached_projection(emb_id, proj_method, int(dims), vectors)
    except InputError as exc:
        st.warning(str(exc), icon="⚠️")
        return
    ui.notices(proj.notices)

    hits = emb.matches(texts, search)
    if search.strip():
        st.caption(f"{int(hits.sum()):,} item(s) contain {emb.md_code(search.strip())}.")

    # neighbours of a chosen point: options = search matches (or the first items)
    pool = np.flatnonzero(hits) if hits.any() else np.arange(len(texts))
    options = [-1, *pool[:1000].tolist()]
    if st.session_state.get(K("emb_point")) not in options:
        st.session_state[K("emb_point")] = int(pool[0])  # the first (matching) item
    st.session_state.setdefault(K("emb_k"), 8)
    q1, q2, q3 = st.columns([3, 3, 1])
    point = q1.selectbox(
        "Nearest neighbours of… (type in Search to find an item)", options, key=K("emb_point"), persist_state=SESSION,
        format_func=lambda i: "— none —" if i < 0 else f"#{rows[i]}: {emb.hover_text(texts[i], 80)}",
    )
    query = q2.text_input("…or a new sentence: where would it land? · 我的句子会落在哪里？", key=K("emb_query"), persist_state=SESSION,
                          placeholder="e.g. The goalkeeper made a great save")
    k = q3.number_input("k", min_value=1, max_value=50, key=K("emb_k"), persist_state=SESSION)

    neighbour_tables = []
    selected, near = None, []
    if point is not None and point >= 0:
        nn = emb.nearest_neighbours(vectors, int(point), k=int(k))
        selected, near = int(point), nn["index"].tolist()
        neighbour_tables.append(("item", texts[selected], nn))
    query_xy, query_text = None, ""
    if query.strip():
        try:
            qemb = cached_query(model_key, method, layer, query.strip())
            nnq = emb.nearest_neighbours(vectors, qemb.vectors[0], k=int(k))
            neighbour_tables.append(("query", query.strip(), nnq))
            query_xy, query_text = emb.project_query(proj, qemb.vectors[0]), query.strip()
            if query_xy is None:
                st.info("t-SNE cannot place a new point on an existing map (it has no transform); "
                        "switch to PCA to see where your sentence lands. Its neighbours are below.", icon="ℹ️")
            ui.notices(qemb.notices)
        except InputError as exc:
            st.warning(str(exc), icon="⚠️")

    fig = charts.scatter_map(
        proj.coords, texts, labels if colour else None, proj.axis_titles,
        highlight=hits if search.strip() else None, query_point=query_xy, query_text=query_text,
        selected=selected, neighbours=near, nonlinear=proj.method == emb.TSNE,
        title=f"{len(texts):,} items · {METHOD_LABELS[method].split(' (')[0]} · {get_spec(model_key).display_name}"
              + (f" · layer {layer}" if method == emb.HIDDEN else ""),
    )
    st.plotly_chart(fig, config=charts.png_config(), key="emb_map")
    if proj.scree is not None:
        scree_col, text_col = st.columns([2, 3])
        scree_col.plotly_chart(charts.scree_bar(proj.scree, used=int(dims)), config=charts.png_config("scree"),
                               key="emb_scree")
        kept = 100 * float(proj.explained_variance_ratio_.sum())
        text_col.markdown(
            f"The map keeps **{kept:.1f}%** of the total variance of the {vectors.shape[1]}-dimensional "
            f"vectors (bars: the first {len(proj.scree)} principal components; dark = the map's axes). "
            + ("Most of the variance is not on the map, so trust the neighbours table (full space) over "
               "distances on the map." if kept < 50 else
               "Distances on the map are a fair picture of the full space.")
        )
    st.caption("Hover a point to read its text · drag to zoom, double-click to reset · the camera icon "
               "in the chart's toolbar downloads a PNG.")

    # neighbours tables (cosine in the full space)
    tables = []
    for kind, source, nn in neighbour_tables:
        table = pd.DataFrame({
            "rank": nn["rank"], "row": [rows[i] for i in nn["index"]],
            "text": [texts[i] for i in nn["index"]],
            **({"label": [labels[i] for i in nn["index"]]} if labels is not None else {}),
            "cosine similarity": nn["cosine"].round(4),
        })
        st.markdown(f"**Nearest neighbours of the {kind}** (cosine similarity in all {vectors.shape[1]} dimensions):")
        ui.show_literal(source)
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "cosine similarity": st.column_config.NumberColumn(format="%.3f")})
        tables.append(table.assign(neighbours_of=kind, source_text=source))

    # downloads
    best, score = cached_nearest_all(emb_id, vectors)
    axis = [t.split(" (")[0].replace(" ", "") for t in proj.axis_titles]
    coords = pd.DataFrame(proj.coords, columns=axis)
    out = pd.DataFrame({"row": rows, "text": texts, **({"label": labels} if labels is not None else {})})
    out = pd.concat([out, coords], axis=1)
    out["nearest_row"] = [rows[i] if i >= 0 else None for i in best]
    out["nearest_text"] = [texts[i] if i >= 0 else "" for i in best]
    out["nearest_cosine"] = np.round(score, 4)
    d1, d2 = st.columns(2)
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    # data as callables: built on click, so no media file is registered on every render (a
    # session leaving the page mid-render otherwise logs "Download Button source error - 404")
    coords_csv = buf.getvalue().encode("utf-8")
    d1.download_button("⬇️ Coordinates + nearest neighbour (CSV)", lambda: coords_csv,
                       file_name="embedding_map.csv", mime="text/csv", on_click="ignore", key="emb_dl_coords")
    if tables:
        neighbours_csv = pd.concat(tables).to_csv(index=False).encode("utf-8")
        d2.download_button("⬇️ Neighbours tables (CSV)", lambda: neighbours_csv,
                           file_name="embedding_neighbours.csv", mime="text/csv", on_click="ignore",
                           key="emb_dl_nn")


explore(emb_id, texts, labels, rows, vectors, model_key, method, layer)
