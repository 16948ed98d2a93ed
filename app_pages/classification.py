"""Classification: zero-shot labels you type, or train your own head on frozen embeddings.

Page contract (docs/contributing.md, "The page contract"): strings from
``locales/<lang>/classification.toml``; every input and setting in :data:`SCHEMA` (links);
presenter mode shows ``curated/classification.json`` before any model loads; tables, charts
and one HTML report are exportable. The page computes on every run (no "classify" button),
so a link with ``run=1`` -- or the embeddings page's cross-link ``{text, mode: single}`` --
shows its result on opening.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from components import coverage, ui
from components.catalog import MINILM, SENTENCE_TRANSFORMER, ZERO_SHOT, get_spec, models_for
from components.charts_classification import WORDS as CHART_WORDS
from components.charts_classification import confusion_heatmap, label_scores_bar
from components.classification import (
    DEFAULT_TEMPLATE,
    EXAMPLE_SETS,
    HEAD_EXAMPLE_TEXTS,
    MAX_LABELS,
    MAX_TEXTS,
    MULTI_LABEL_BIAS,
    SIMILARITY_TEMPERATURE,
    SLOT,
    ZeroShotResult,
    cap_batch,
    check_template,
    classify_with_head,
    example_lines,
    load_example_set,
    markdown_literal,
    parse_labels,
    prepare_examples,
    tie_message,
    top_ties,
    train_head,
    wide_scores,
    zero_shot_examples,
    zero_shot_from_payload,
    zero_shot_nli,
    zero_shot_similarity,
)
from components.classification_wording import report_sections
from components.permalink import BOOL, CHOICE, TEXT, Param
from components.textio import InputError, column_texts, parse_labelled_lines, read_csv_bytes, split_lines

PAGE = "classification"  # i18n: ok (page id)
K = ui.persist_key
t = ui.t
md = markdown_literal  # every message that can carry user text (labels, columns, texts) is escaped

SINGLE, LINES, CSV = "single", "lines", "csv"  # i18n: ok (mode values in links)
MODES = (SINGLE, LINES, CSV)
ZS_MODELS = tuple(s.key for s in models_for(ZERO_SHOT))
EXAMPLES = zero_shot_examples()
DEFAULT_LABELS = "sports, politics, technology, food"  # i18n: ok (default input, model text)
# Cross-link to the embedding map: the first LINK_TEXTS texts, each cut to LINK_TEXT_CHARS characters
# (MiniLM reads ~256 tokens ≈ 1 000 characters of prose; 500 x 1 500 stays under the 1 000 000-character
# limit permalink.parse_value puts on a list).
LINK_TEXTS = 500
LINK_TEXT_CHARS = 1500

# Query parameters of the page: the zero-shot text / input mode / lines / labels / method / template /
# multi-label, and the typed training examples and new texts of "train your own". An uploaded CSV is not
# carried (the link holds the settings; the file is uploaded again).
SCHEMA = [
    Param("text", K("zs_text"), TEXT, EXAMPLES[0]),
    Param("mode", K("zs_mode"), CHOICE, SINGLE, choices=MODES),
    Param("lines", K("zs_lines"), TEXT, "\n".join(EXAMPLES)),
    Param("labels", K("zs_labels"), TEXT, DEFAULT_LABELS, max_chars=10_000),
    Param("model", K("zs_model"), CHOICE, ZS_MODELS[0], choices=ZS_MODELS),
    Param("template", K("zs_template"), TEXT, DEFAULT_TEMPLATE, max_chars=1_000),
    Param("multi", K("zs_multi"), BOOL, False),
    Param("train", K("tr_lines"), TEXT, example_lines(load_example_set("topics"))),
    Param("new_mode", K("tr_new_mode"), CHOICE, SINGLE, choices=MODES),
    Param("new_text", K("tr_new_text"), TEXT, HEAD_EXAMPLE_TEXTS[0]),
    Param("new_lines", K("tr_new_lines"), TEXT, "\n".join(HEAD_EXAMPLE_TEXTS)),
]


def show_notices(messages: list) -> None:
    """``ui.notices`` with each message translated and shown literally (no markdown in user text)."""
    ui.notices([md(ui.say(m)) for m in messages])


def chart_words() -> dict[str, str]:
    """The charts' words in the session's language (``{sum}`` stays for the chart to fill)."""
    return {name: t(f"classification.chart.{name}") for name in CHART_WORDS}


# ------------------------------------------------------------------ cached compute
@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _zero_shot(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...], template: str,
               multi_label: bool, _loaded) -> ZeroShotResult:
    """Zero-shot result per (model key, texts, labels, template, multi-label); notices are
    message codes, so one entry serves every language."""
    if _loaded.spec.loader == SENTENCE_TRANSFORMER:
        return zero_shot_similarity(_loaded, list(texts), list(labels), template, multi_label)
    return zero_shot_nli(_loaded, list(texts), list(labels), template, multi_label)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _train(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...], _loaded):
    """Trained head + cross-validation per (model key, examples)."""
    return train_head(_loaded, pd.DataFrame({"text": texts, "label": labels}))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _classify(model_key: str, texts: tuple[str, ...], labels: tuple[str, ...],
              new_texts: tuple[str, ...], _loaded):
    """New texts scored by the head trained on (texts, labels)."""
    result = _train(model_key, texts, labels, _loaded)
    return classify_with_head(_loaded, result, list(new_texts))


# ------------------------------------------------------------------ inputs
def _valid_choice(key: str, choices, default) -> None:
    """Reset a persisted choice that is no longer among ``choices`` (before the widget exists)."""
    if st.session_state.get(key) not in choices:
        st.session_state[key] = default


def csv_input(prefix: str, with_label: bool) -> tuple[pd.DataFrame, list[str]] | None:
    """The one CSV block of the page: uploader, decoding notices, column picker(s).

    Args:
        prefix: widget-key prefix (``"zs"``, ``"tr_new"``, ``"tr"``).
        with_label: also pick a label column (training data).

    Returns:
        (frame with ``row`` (1-based file row), ``text`` [, ``label``], notices), or None after
        showing why the file cannot be used.
    """
    help_key = "classification.train.csv" if with_label else "classification.input.csv"
    upload = st.file_uploader(t(help_key), type=["csv"], key=f"{prefix}_csv")
    if upload is None:
        st.info(t("classification.train.csv_hint" if with_label else "classification.input.csv_hint"), icon="📄")
        return None
    try:
        table = read_csv_bytes(upload.getvalue())
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="📄")
        return None
    show_notices(table.notices)
    text_col, label_col, _ = ui.csv_text_column(
        table, upload, K(f"{prefix}_csv_text"), t("classification.input.text_column"),
        label_key=K(f"{prefix}_csv_label") if with_label else None, label_label=t("classification.input.label_column"))
    if with_label and text_col == label_col:
        st.warning(t("classification.input.same_columns"), icon="📄")
        return None
    try:
        frame, notices = column_texts(table, text_col, label_col)
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="📄")
        return None
    return frame, notices


def text_inputs(prefix: str) -> tuple[list[str], list[int], list[str]] | None:
    """The one-text / lines / CSV input block (zero-shot and the trained head's new texts).

    Widget keys: ``p_<prefix>_mode``, ``p_<prefix>_text``, ``p_<prefix>_lines`` (defaults
    from :data:`SCHEMA`), uploader ``<prefix>_csv``. Batches are capped at ``MAX_TEXTS``
    with a notice.

    Returns:
        (texts, row numbers (1-based line / file row), notices), or None after showing a message.
    """
    mode_key = K(f"{prefix}_mode")
    _valid_choice(mode_key, MODES, SINGLE)
    names = {m: t(f"classification.mode.{m}") for m in MODES}   # bound now: format_func may run later
    mode = st.radio(t("classification.mode.label"), MODES, key=mode_key, persist_state="session",
                    horizontal=True, format_func=names.get)
    if mode == SINGLE:
        text = st.text_area(t("classification.input.text"), key=K(f"{prefix}_text"), persist_state="session",
                            height=110)
        if not text or not text.strip():
            st.warning(t("classification.input.empty"), icon="✏️")
            return None
        return [text.strip()], [1], []
    if mode == LINES:
        text = st.text_area(t("classification.input.lines"), key=K(f"{prefix}_lines"), persist_state="session",
                            height=160)
        try:
            items, notices = split_lines(text)
        except InputError as exc:
            st.warning(md(ui.say(exc)), icon="✏️")
            return None
        rows = list(range(1, len(items) + 1))
    else:
        st.caption(t("classification.input.csv_not_in_link"))
        got = csv_input(prefix, with_label=False)
        if got is None:
            return None
        frame, notices = got
        items, rows = frame["text"].tolist(), frame["row"].tolist()
    pairs, capped = cap_batch(list(zip(items, rows)), MAX_TEXTS)
    return [p[0] for p in pairs], [p[1] for p in pairs], notices + capped


# ------------------------------------------------------------------ results
def display_table(wide: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """The wide per-text table with the row numbers and translated column headers."""
    out = wide.copy()
    out.insert(0, "row", rows[: len(out)])
    return out.rename(columns={
        "row": t("classification.results.row"), "text": t("classification.results.text"),
        "top_label": t("classification.results.top_label"), "top_score": t("classification.results.top_score"),
    })


def chart_table(one: pd.DataFrame, method: str) -> pd.DataFrame:
    """The numbers plotted for one text, with translated column headers."""
    cols = {"label": t("classification.results.label"), "score": t("classification.results.score")}
    if "raw" in one.columns:
        cols["raw"] = t(f"classification.results.raw_{'nli' if method == 'nli' else 'similarity'}")
    if "hypothesis" in one.columns:
        cols["hypothesis"] = t("classification.results.hypothesis")
    cols["rank"] = t("classification.results.rank")
    return one[[c for c in cols if c in one.columns]].sort_values("rank").rename(columns=cols)


def _pick_text(prefix: str, wide: pd.DataFrame, rows: list[int]) -> int:
    """'Chart for text' selectbox (0-based index). The choice is reset to the first text when the
    texts change (a new CSV, edited lines), so it never points at an item of earlier data."""
    n = len(wide)
    key, stamp_key = K(f"{prefix}_show"), f"_{prefix}_show_for"
    digest = hashlib.sha256()
    for row, text in zip(rows, wide["text"]):
        digest.update(f"{row}\x1f{text}\x1e".encode("utf-8", "surrogatepass"))
    stamp = digest.hexdigest()
    if st.session_state.get(stamp_key) != stamp or st.session_state.get(key) not in range(n):
        st.session_state[key] = 0
        st.session_state[stamp_key] = stamp
    texts = wide["text"].tolist()
    index = st.selectbox(t("classification.results.chart_for"), list(range(n)), key=key, persist_state="session",
                         format_func=lambda i: f"#{rows[i]}: {' '.join(texts[i][:60].split())}")
    return index if index is not None and 0 <= index < n else 0


def show_results(tidy: pd.DataFrame, wide: pd.DataFrame, rows: list[int], multi_label: bool,
                 prefix: str, method: str, loaded=None) -> dict:
    """Bar chart for one text (picker for batches), the per-text table, and, for a batch, the
    cross-link to the embedding map coloured by predicted label.

    ``loaded``: the model (its tokenizer), for the known-characters column and the "not
    meaningful" verdict on texts it mostly cannot read (:mod:`components.coverage`).

    Returns:
        ``{"figure", "row", "table", "chart_table"}`` for the report.
    """
    n = int(tidy["text_id"].nunique())
    index = _pick_text(prefix, wide, rows) if n > 1 else 0
    covs = None if loaded is None else [coverage.model_coverage(loaded, str(x)) for x in wide["text"]]
    if covs:
        cov_key, cov_values = coverage.message(covs[index], ui.escape_markdown)
        (st.caption if covs[index].meaningful else st.warning)(t(cov_key, **cov_values))
    tie = tie_message(tidy, index, rows[index])
    if tie is not None:   # equal top scores: no winner to present
        st.warning(md(ui.say(tie)), icon="⚖️")
    one = tidy[tidy["text_id"] == index]
    fig = label_scores_bar(one, multi_label, chart_words(),
                           title=t("classification.results.chart_title", row=rows[index]))
    plotted = chart_table(one, method)
    ui.chart(fig, key=f"{prefix}_bar", table=plotted, filename=f"{prefix}_scores_text_{rows[index]}")
    table = display_table(wide, rows)
    top = t("classification.results.top_label")
    for text_id, tied in top_ties(tidy).items():
        table.loc[text_id, top] = t("classification.results.tie_cell", labels=", ".join(tied))
    predicted = table[top].tolist()   # for the map: a tie is not a predicted label
    if covs:
        low = [not c.meaningful for c in covs]
        table[top] = [t("coverage.not_meaningful") if bad else value for bad, value in zip(low, table[top])]
        table[t("coverage.column")] = [coverage.short(c) for c in covs]
    ui.data_table(table, key=f"{prefix}_table", filename=f"{prefix}_results",
                  column_config={t("classification.results.top_score"): st.column_config.NumberColumn(format="%.3f")})
    if n > 1:
        ui.link_button(
            t("classification.see_on_map"), "embeddings",
            {"texts": [str(x)[:LINK_TEXT_CHARS] for x in wide["text"].tolist()[:LINK_TEXTS]],
             "labels": [str(x) for x in predicted[:LINK_TEXTS]],
             "label_title": t("classification.predicted_label")},
            key=f"{prefix}_to_map", icon="🧭",
        )
    return {"figure": fig, "row": rows[index], "table": table, "chart_table": plotted}


def show_zero_shot(result: ZeroShotResult, rows: list[int], prefix: str, loaded=None) -> dict:
    """Scores heading, what they mean, the formula, then :func:`show_results`."""
    st.subheader(t("classification.zs.scores"))
    formula = (t("classification.zs.formula_similarity", t=SIMILARITY_TEMPERATURE, b=MULTI_LABEL_BIAS)
               if result.method == "similarity" else t("classification.zs.formula_nli"))
    st.caption(md(ui.say(result.semantics) + " " + formula))
    return show_results(result.scores, result.wide(), rows, result.multi_label, prefix, result.method, loaded)


# ------------------------------------------------------------------ presenter mode
def render_example(example: dict) -> None:
    """Presenter mode: one curated example, rendered from the JSON (no model needed)."""
    result = zero_shot_from_payload(example["result"])
    n = int(result.scores["text_id"].nunique())
    rows = list(range(1, n + 1))
    with st.container(border=True):
        st.caption(t("classification.present.inputs"))
        ui.show_literal("\n".join(result.wide()["text"].tolist()))
        st.caption(md(t("classification.present.labels", labels=", ".join(result.labels))))
        show_zero_shot(result, rows, "ex")


# ------------------------------------------------------------------ zero-shot tab
def zero_shot_tab() -> dict | None:
    """Zero-shot inputs and result; returns what the report needs, or None without a result."""
    with ui.live_inputs(PAGE):
        left, right = st.columns([3, 2], gap="large")
        with left:
            got = text_inputs("zs")
        with right:
            model_key = ui.model_picker(ZERO_SHOT, "zs_model", label=t("classification.zs.model"),
                                        help=t("classification.zs.model_help"))
            similarity = get_spec(model_key).loader == SENTENCE_TRANSFORMER
            st.caption(t("classification.zs.method_similarity" if similarity else "classification.zs.method_nli"))
            raw_labels = st.text_input(t("classification.zs.labels", n=MAX_LABELS), key=K("zs_labels"),
                                       persist_state="session")
            if ui.presenter():   # advanced: the template keeps its (linked) value, hidden
                template = st.session_state.get(K("zs_template"), DEFAULT_TEMPLATE)
            else:
                template = st.text_input(t("classification.zs.template", slot=SLOT), key=K("zs_template"),
                                         persist_state="session")
            multi = st.toggle(t("classification.zs.multi"), key=K("zs_multi"), persist_state="session",
                              help=t("classification.zs.multi_help"))
            st.caption(t("classification.zs.multi_on" if multi else "classification.zs.multi_off"))

    problems = False
    labels: list[str] = []
    try:
        labels, label_notices = parse_labels(raw_labels)
        show_notices(label_notices)
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="🏷️")
        problems = True
    try:
        check_template(template)
        if not problems:
            hyps = " · ".join(template.format(label) for label in labels[:4]) + (" …" if len(labels) > 4 else "")
            st.caption(md(t("classification.zs.hypotheses", items=hyps)))
    except InputError as exc:
        st.error(md(ui.say(exc)), icon="🧩")
        problems = True
    if got is None or problems:
        return None
    texts, rows, input_notices = got
    show_notices(input_notices)

    loaded = ui.load_or_explain(model_key, "zs_model")
    if loaded is None:
        return None
    try:
        with st.spinner(t("classification.classifying")):
            result = _zero_shot(model_key, tuple(texts), tuple(labels), template, bool(multi), loaded)
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="⚠️")
        return None
    show_notices(result.notices)
    kept = result.wide()["text"].tolist()
    shown = show_zero_shot(result, rows[: len(kept)], "zs", loaded)
    return {"texts": kept, "rows": rows[: len(kept)], "labels": labels, "model": model_key,
            "template": template, "multi": bool(multi), "mode": st.session_state.get(K("zs_mode")),
            "result": result, **shown}


# ------------------------------------------------------------------ train-your-own tab
def _training_examples():
    """Labelled examples from the lines editor or a CSV; None after showing a message."""
    sources = ("lines", "csv")  # i18n: ok (option values)
    _valid_choice(K("tr_source"), sources, "lines")
    if not ui.presenter():   # advanced: CSV training data
        names = {s: t(f"classification.train.source_{s}") for s in sources}
        st.radio(t("classification.train.source"), sources, horizontal=True, key=K("tr_source"),
                 persist_state="session", format_func=names.get)
    if ui.presenter() or st.session_state[K("tr_source")] == "lines":
        key = K("tr_lines")

        def _load_set() -> None:
            st.session_state[key] = example_lines(load_example_set("topics"))

        st.button(t("classification.train.load_set", name=t(EXAMPLE_SETS["topics"][0])), on_click=_load_set,
                  key="tr_load_set")
        text = st.text_area(t("classification.train.lines"), key=key, persist_state="session", height=220)
        try:
            return parse_labelled_lines(text)
        except InputError as exc:
            st.warning(md(ui.say(exc) + " " + t("classification.train.lines_hint")), icon="✏️")
            return None
    got = csv_input("tr", with_label=True)
    if got is None:
        return None
    frame, notices = got
    return frame[["text", "label"]], notices


def train_tab() -> dict | None:
    """Train-your-own inputs and results; returns what the report needs, or None."""
    st.info(t("classification.train.info"), icon="🧠")
    got = _training_examples()
    if got is None:
        return None
    frame, data_notices = got
    try:
        examples, prep_notices = prepare_examples(frame)
    except InputError as exc:
        show_notices(data_notices)
        st.warning(md(ui.say(exc)), icon="🏷️")
        return None
    show_notices(data_notices + prep_notices)

    loaded = ui.load_or_explain(MINILM)
    if loaded is None:
        return None
    texts, labels = tuple(examples["text"]), tuple(examples["label"])
    try:
        with st.spinner(t("classification.training")):
            result = _train(MINILM, texts, labels, loaded)
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="🏷️")
        return None
    show_notices([n for n in result.notices if n not in prep_notices])

    st.subheader(t("classification.train.cv_header"))
    c1, c2, c3 = st.columns(3)
    cv_text = f"{result.cv_accuracy:.1%}" if result.cv_accuracy is not None else t("classification.train.not_estimated")
    c1.metric(t("classification.train.metric_cv"), cv_text,
              help=t("classification.train.metric_cv_help", folds=result.folds))
    c2.metric(t("classification.train.metric_baseline"), f"{result.majority_baseline:.1%}",
              help=t("classification.train.metric_baseline_help"))
    c3.metric(t("classification.train.metric_count"), f"{result.n_examples} · {len(result.classes)}")
    out: dict = {"result": result, "n_examples": result.n_examples}
    if result.cv_accuracy is not None:
        if not ui.presenter():
            st.caption(t("classification.train.per_fold", values=", ".join(f"{a:.2f}" for a in result.fold_accuracies)))
        left, right = st.columns([3, 2])
        with left:
            fig = confusion_heatmap(result.confusion, t("classification.chart.confusion_title"), chart_words())
            cm_table = result.confusion.copy()
            cm_table.insert(0, t("classification.chart.true_label"), cm_table.index.astype(str))
            ui.chart(fig, key="tr_confusion", table=cm_table, filename="confusion_matrix")
            out.update(confusion_figure=fig, confusion_table=cm_table)
        with right:
            counts = result.counts.rename_axis("label").reset_index(name="examples")
            counts = counts.rename(columns={"label": t("classification.train.label"),
                                            "examples": t("classification.train.examples")})
            ui.data_table(counts, key="tr_counts", filename="class_counts")
            wrong = result.predictions[~result.predictions["correct"].astype(bool)]
            st.caption(t("classification.train.misclassified", n=len(wrong)) if len(wrong)
                       else t("classification.train.misclassified_none"))
            if len(wrong):
                ui.data_table(wrong[["text", "label", "predicted"]].rename(columns={
                    "text": t("classification.train.text"), "label": t("classification.train.label"),
                    "predicted": t("classification.train.predicted")}), key="tr_wrong", filename="misclassified")

    st.subheader(t("classification.train.new_header"))
    got_new = text_inputs("tr_new")
    if got_new is None:
        return out
    new_texts, rows, input_notices = got_new
    show_notices(input_notices)
    try:
        with st.spinner(t("classification.classifying")):
            tidy, new_notices = _classify(MINILM, texts, labels, tuple(new_texts), loaded)
    except InputError as exc:
        st.warning(md(ui.say(exc)), icon="✏️")
        return out
    show_notices(new_notices)
    st.caption(t("classification.train.new_caption"))
    wide = wide_scores(tidy, result.classes)
    out["new"] = show_results(tidy, wide, rows[: len(wide)], False, "tr_new", "head", loaded)
    return out


# ------------------------------------------------------------------ page
run_requested = ui.bind_link(PAGE, SCHEMA)   # the page computes on every run: run=1 needs nothing more
st.title(t("classification.title"))
st.caption(t("classification.intro"))
ui.explainer(t("classification.explainer.title"), t("classification.explainer.body"))
ui.slide(PAGE, SCHEMA, render_example, run_requested)
tab_zero, tab_train = st.tabs([t("classification.tab.zero_shot"), t("classification.tab.train")])
with tab_zero:
    zs_out = ui.run_guarded(zero_shot_tab)
with tab_train:
    tr_out = ui.run_guarded(train_tab)
ui.publish_link(PAGE, SCHEMA, runnable=True)
if zs_out or tr_out:
    ui.report_button(t("classification.report.title"), lambda: report_sections(zs_out, tr_out, ui.lang()),
                     filename=t("classification.report.filename"), key="classification_report")
