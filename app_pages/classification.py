"""Classification: zero-shot labels you type, or train your own head on frozen embeddings."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import ui
from components.catalog import MINILM, SENTENCE_TRANSFORMER, ZERO_SHOT, get_spec
from components.charts_classification import confusion_heatmap, label_scores_bar
from components.classification import (
    DEFAULT_TEMPLATE,
    EXAMPLE_SETS,
    MULTI_LABEL_BIAS,
    SIMILARITY_TEMPERATURE,
    classify_with_head,
    example_lines,
    load_example_set,
    markdown_literal,
    parse_labels,
    check_template,
    prepare_examples,
    to_csv_bytes,
    train_head,
    wide_scores,
    zero_shot_examples,
    zero_shot_nli,
    zero_shot_similarity,
)
from components.textio import InputError, column_texts, parse_labelled_lines, read_csv_bytes, split_lines

K = ui.persist_key
md = markdown_literal  # every message that can carry user text (labels, columns, texts) is escaped


def show_notices(messages: list[str]) -> None:
    """``ui.notices`` with each message shown literally (no markdown in user text)."""
    ui.notices([md(m) for m in messages])
ONE, LINES, CSV = "one", "lines", "csv"
INPUT_MODES = {ONE: "One text", LINES: "Several texts (one per line)", CSV: "CSV upload"}
DEFAULT_LABELS = "sports, politics, technology, food"

EXPLAINER = """
**Three ways to make a model classify · 让模型分类的三种方式**

| | what changes · 改变了什么 | needs · 需要 |
|---|---|---|
| **Fine-tuning · 微调** | the model's weights are trained on labelled examples (here: only a small *head* on top of a frozen encoder) | labelled data 标注数据 |
| **Zero-shot · 零样本** | nothing is trained: labels become sentences ("This text is about sports.") and a pre-trained model compares them with the text | only label names 只要标签名 |
| **Prompting · 提示工程** | nothing is trained: an instruction (and a few examples) in the prompt steers a generative LLM — see the Sentiment page | a good prompt 好的提示 |

- **Embedding similarity 向量相似度**: MiniLM maps the text and each hypothesis to 384-d unit vectors;
  the cosine of the angle between them scores the label. Single-label: softmax(cos / 0.05) — the
  temperature the encoder was trained with (contrastive loss, scale 20) — so the shares add up to 1.
  Multi-label: sigmoid((cos − 0.10) / 0.05) per label, independent.
- **NLI 自然语言推理**: a model trained to decide whether a *premise* entails a *hypothesis*
  (MNLI) reads "text + This text is about sports." and gives entailment / neutral / contradiction
  logits (Yin et al. 2019, the transformers zero-shot pipeline).
- **Train your own 自己训练**: the pre-trained encoder stays **frozen**; a logistic-regression
  head (one weight vector per class) is trained on its embeddings. This is fine-tuning in
  miniature: pre-training gave general-purpose features, a little labelled data adapts them to
  your task. Cross-validation trains on part of the data and tests on the rest, so the accuracy
  is measured on examples the head never saw.
"""


# ------------------------------------------------------------------ cached compute
@st.cache_data(max_entries=64, ttl=3600, show_spinner="Classifying…")
def _zero_shot(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...], template: str,
               multi_label: bool, _loaded):
    if _loaded.spec.loader == SENTENCE_TRANSFORMER:
        return zero_shot_similarity(_loaded, list(texts), list(labels), template, multi_label)
    return zero_shot_nli(_loaded, list(texts), list(labels), template, multi_label)


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Encoding the examples and training the head…")
def _train(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...], _loaded):
    return train_head(_loaded, pd.DataFrame({"text": texts, "label": labels}))


@st.cache_data(max_entries=64, ttl=3600, show_spinner="Classifying…")
def _classify(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...],
              new_texts: tuple[str, ...], _loaded):
    result = _train(model_key, texts, labels, _loaded)
    return classify_with_head(_loaded, result, list(new_texts))


# ------------------------------------------------------------------ widgets
def _default(key: str, value) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _pick_column(table, name: str, label: str, preferred: tuple[str, ...]) -> str:
    """Selectbox over the CSV's columns; a remembered column missing from this file is reported."""
    key = K(name)
    columns = table.columns
    current = st.session_state.get(key)
    if current is not None and current not in columns:
        st.warning(md(f"Column {current!r} is not in this file. Columns found: "
                      + ", ".join(repr(c) for c in columns) + ". Pick one below."), icon="📄")
    if current not in columns:
        guess = next((c for c in columns if c.strip().lower() in preferred), columns[0])
        st.session_state[key] = guess
    return st.selectbox(label, columns, key=key)


def _read_upload(upload) -> object | None:
    """Decoded CSV table, or None after showing why it cannot be used."""
    try:
        table = read_csv_bytes(upload.getvalue())
    except InputError as exc:
        st.warning(md(str(exc)), icon="📄")
        return None
    show_notices(table.notices)
    return table


def text_inputs(prefix: str, default_text: str, default_lines: str):
    """The one-text / lines / CSV input block.

    Returns (texts, row numbers, notices), or None after showing a message."""
    mode = st.radio("Input", list(INPUT_MODES), format_func=INPUT_MODES.get, horizontal=True,
                    key=K(f"{prefix}_mode"), persist_state="session")
    if mode == ONE:
        _default(K(f"{prefix}_text"), default_text)
        text = st.text_area("Text", key=K(f"{prefix}_text"), persist_state="session", height=110)
        if not text or not text.strip():
            st.warning("The text is empty: type or paste some text to classify.", icon="✏️")
            return None
        return [text.strip()], [1], []
    if mode == LINES:
        _default(K(f"{prefix}_lines"), default_lines)
        text = st.text_area("Texts, one per line", key=K(f"{prefix}_lines"), persist_state="session", height=160)
        try:
            items, notices = split_lines(text)
        except InputError as exc:
            st.warning(md(str(exc)), icon="✏️")
            return None
        return items, list(range(1, len(items) + 1)), notices
    upload = st.file_uploader("CSV file (UTF-8 preferred; one text per row)", type=["csv"],
                              key=f"{prefix}_csv")
    if upload is None:
        st.info("Upload a CSV file and choose the column that holds the texts.", icon="📄")
        return None
    table = _read_upload(upload)
    if table is None:
        return None
    column = _pick_column(table, f"{prefix}_csv_col", "Text column", ("text", "sentence", "review", "content"))
    try:
        frame, notices = column_texts(table, column)
    except InputError as exc:
        st.warning(md(str(exc)), icon="📄")
        return None
    return frame["text"].tolist(), frame["row"].tolist(), notices


def _show_results(tidy: pd.DataFrame, wide: pd.DataFrame, rows: list[int], multi_label: bool,
                  prefix: str, file_name: str) -> None:
    """Bar chart for one text, the per-text table, and the CSV download."""
    n = int(tidy["text_id"].nunique())
    index = 0
    if n > 1:
        if st.session_state.get(K(f"{prefix}_show")) not in range(n):
            st.session_state[K(f"{prefix}_show")] = 0
        index = st.selectbox("Chart for text", list(range(n)), key=K(f"{prefix}_show"), persist_state="session",
                             format_func=lambda i: f"#{rows[i]}: {wide['text'].iloc[i][:60]}")
        index = index if index is not None and index < n else 0
    one = tidy[tidy["text_id"] == index]
    st.plotly_chart(label_scores_bar(one, multi_label), key=f"{prefix}_bar")
    wide = wide.copy()
    wide.insert(0, "row", rows[: len(wide)])
    st.dataframe(wide, hide_index=True, width="stretch",
                 column_config={"top_score": st.column_config.NumberColumn(format="%.3f")})
    csv_bytes = to_csv_bytes(wide)  # served by a callable on click: no media file per render
    st.download_button("Download results (CSV)", lambda: csv_bytes, file_name=file_name,
                       mime="text/csv", key=f"{prefix}_download")


# ------------------------------------------------------------------ zero-shot tab
def zero_shot_tab() -> None:
    left, right = st.columns([3, 2], gap="large")
    examples = zero_shot_examples()
    with left:
        got = text_inputs("zs", examples[0], "\n".join(examples))
    with right:
        model_key = ui.model_picker(
            ZERO_SHOT, "zs_model", label="Method / model",
            help="all-MiniLM-L6-v2 (bundled): embedding similarity, offline. "
                 "MNLI models (Hub): natural-language inference, online only.",
        )
        spec = get_spec(model_key)
        similarity = spec.loader == SENTENCE_TRANSFORMER
        st.caption(
            "Method: **embedding similarity** — cosine between the text and each hypothesis."
            if similarity else
            "Method: **NLI** — does the text (premise) entail each hypothesis?"
        )
        _default(K("zs_labels"), DEFAULT_LABELS)
        raw_labels = st.text_input("Labels (comma-separated, up to 20)", key=K("zs_labels"), persist_state="session")
        _default(K("zs_template"), DEFAULT_TEMPLATE)
        template = st.text_input("Hypothesis template ({} = the label)", key=K("zs_template"), persist_state="session")
        multi = st.toggle("Multi-label", key=K("zs_multi"), persist_state="session",
                          help="Off: one choice, probabilities share 100 %. On: each label scored on its own.")
        st.caption(
            "Multi-label: each label gets its own independent probability (several can be high; no need to sum to 1)."
            if multi else
            "Single-label: the probabilities are shares of one choice and sum to 1."
        )

    problems = False
    try:
        labels, label_notices = parse_labels(raw_labels)
        show_notices(label_notices)
    except InputError as exc:
        st.warning(md(str(exc)), icon="🏷️")
        problems = True
    try:
        check_template(template)
        if not problems:
            st.caption(md("Hypotheses: " + " · ".join(template.format(l) for l in labels[:4])
                          + (" …" if len(labels) > 4 else "")))
    except InputError as exc:
        st.error(md(str(exc)), icon="🧩")
        problems = True
    if got is None or problems:
        return
    texts, rows, input_notices = got
    show_notices(input_notices)

    loaded = ui.load_or_explain(model_key, "zs_model")
    if loaded is None:
        return
    try:
        result = _zero_shot(model_key, tuple(texts), tuple(labels), template, bool(multi), loaded)
    except InputError as exc:
        st.warning(md(str(exc)), icon="⚠️")
        return
    show_notices(result.notices)
    st.subheader("Scores")
    st.caption(result.semantics + (
        f" Scores: softmax(cos / {SIMILARITY_TEMPERATURE}) single-label, "
        f"sigmoid((cos − {MULTI_LABEL_BIAS}) / {SIMILARITY_TEMPERATURE}) multi-label."
        if result.method == "similarity" else
        " Scores: softmax of entailment logits across labels (single-label), "
        "or P(entailment) vs contradiction per label (multi-label)."
    ))
    _show_results(result.scores, result.wide(), rows, result.multi_label, "zs", "zero_shot_results.csv")


# ------------------------------------------------------------------ train-your-own tab
def _training_examples():
    """Labelled examples from the lines editor or a CSV; None after showing a message."""
    sources = {"lines": "Type or edit examples (text | label)", "csv": "Upload a CSV (text + label columns)"}
    source = st.radio("Training data", list(sources), format_func=sources.get, horizontal=True,
                      key=K("tr_source"), persist_state="session")
    if source == "lines":
        key = K("tr_lines")
        _default(key, example_lines(load_example_set("topics")))

        def _load_set() -> None:
            st.session_state[key] = example_lines(load_example_set("topics"))

        st.button(f"Load the shipped example set — {EXAMPLE_SETS['topics'][0]}", on_click=_load_set,
                  key="tr_load_set")
        text = st.text_area("Labelled examples, one per line: text | label", key=key, height=220)
        try:
            return parse_labelled_lines(text)
        except InputError as exc:
            st.warning(md(str(exc) + " Write one example per line as 'text | label'."), icon="✏️")
            return None
    upload = st.file_uploader("CSV with a text column and a label column", type=["csv"], key="tr_csv")
    if upload is None:
        st.info("Upload a CSV file with one example per row, then choose its text and label columns.", icon="📄")
        return None
    table = _read_upload(upload)
    if table is None:
        return None
    c1, c2 = st.columns(2)
    with c1:
        text_col = _pick_column(table, "tr_csv_text", "Text column", ("text", "sentence", "review", "content"))
    with c2:
        label_col = _pick_column(table, "tr_csv_label", "Label column", ("label", "class", "category", "topic"))
    if text_col == label_col:
        st.warning("The text column and the label column are the same: choose two different columns.", icon="📄")
        return None
    try:
        frame, notices = column_texts(table, text_col, label_col)
    except InputError as exc:
        st.warning(md(str(exc)), icon="📄")
        return None
    return frame[["text", "label"]], notices


def train_tab() -> None:
    st.info(
        "What is trained here: only a logistic-regression head (one weight per embedding dimension "
        "and class). What is not: the 22.7 M parameters of all-MiniLM-L6-v2, which stay frozen.",
        icon="🧠",
    )
    got = _training_examples()
    if got is None:
        return
    frame, data_notices = got
    try:
        examples, prep_notices = prepare_examples(frame)
    except InputError as exc:
        show_notices(data_notices)
        st.warning(md(str(exc)), icon="🏷️")
        return
    show_notices(data_notices + prep_notices)

    loaded = ui.load_or_explain(MINILM)
    if loaded is None:
        return
    texts, labels = tuple(examples["text"]), tuple(examples["label"])
    try:
        result = _train(MINILM, texts, labels, loaded)
    except InputError as exc:
        st.warning(md(str(exc)), icon="🏷️")
        return
    show_notices([n for n in result.notices if n not in prep_notices])

    st.subheader("How well does it learn? · 交叉验证")
    c1, c2, c3 = st.columns(3)
    c1.metric("Cross-validated accuracy",
              f"{result.cv_accuracy:.1%}" if result.cv_accuracy is not None else "not estimated",
              help="Share of examples classified correctly by a head that did not see them in training "
                   f"(stratified {result.folds}-fold cross-validation, seed 0).")
    c2.metric("Always guess the largest class", f"{result.majority_baseline:.1%}",
              help="The baseline any classifier must beat.")
    c3.metric("Examples · classes", f"{result.n_examples} · {len(result.classes)}")
    if result.cv_accuracy is not None:
        st.caption("Per-fold accuracy: " + ", ".join(f"{a:.2f}" for a in result.fold_accuracies))
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(confusion_heatmap(result.confusion), key="tr_confusion")
        with right:
            st.dataframe(result.counts.rename_axis("label").reset_index(name="examples"), hide_index=True)
            wrong = result.predictions[~result.predictions["correct"].astype(bool)]
            st.caption(f"{len(wrong)} example(s) misclassified in cross-validation:")
            if len(wrong):
                st.dataframe(wrong[["text", "label", "predicted"]], hide_index=True, width="stretch")

    st.subheader("Classify new text · 用你的分类器")
    got_new = text_inputs("tr_new", "The home side equalised with a header in stoppage time.",
                          "The home side equalised with a header in stoppage time.\n"
                          "Preheat the oven and grease the baking tin.")
    if got_new is None:
        return
    new_texts, rows, input_notices = got_new
    show_notices(input_notices)
    try:
        tidy, new_notices = _classify(MINILM, texts, labels, tuple(new_texts), loaded)
    except InputError as exc:
        st.warning(md(str(exc)), icon="✏️")
        return
    show_notices(new_notices)
    st.caption("Single-label: the head's probabilities (predict_proba) for the classes add up to 1.")
    _show_results(tidy, wide_scores(tidy, result.classes), rows, False, "tr_new", "trained_head_results.csv")


# ------------------------------------------------------------------ page
st.title("🏷️ Classification · 文本分类")
st.caption(
    "Sort text into labels you choose — without training (zero-shot) or by training a small head "
    "on frozen embeddings from your own examples (fine-tuning made tangible)."
)
ui.explainer("What you are seeing · 你看到的是什么: fine-tuning vs zero-shot vs prompting", EXPLAINER)
tab_zero, tab_train = st.tabs(["Zero-shot · 零样本", "Train your own · 自己训练"])
with tab_zero:
    ui.run_guarded(zero_shot_tab)
with tab_train:
    ui.run_guarded(train_tab)
