"""Classification page, UI side: the text / lines / CSV input blocks, the result views (bar
chart, per-text table, map cross-link), the trained head's evaluation view and the presenter
example. Strings from ``locales/<lang>/classification.toml`` through :func:`components.ui.t`;
the page (``app_pages/classification.py``) reads widgets -> compute -> these views."""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from components import coverage, ui
from components.charts_classification import WORDS as CHART_WORDS
from components.charts_classification import confusion_heatmap, label_scores_bar
from components.classification import (
    MAX_TEXTS,
    MULTI_LABEL_BIAS,
    SIMILARITY_TEMPERATURE,
    ZeroShotResult,
    cap_batch,
    markdown_literal,
    tie_message,
    top_ties,
    zero_shot_from_payload,
)
from components.textio import InputError, column_texts, read_csv_bytes, split_lines

K = ui.persist_key
t = ui.t
md = markdown_literal  # every message that can carry user text (labels, columns, texts) is escaped

SINGLE, LINES, CSV = "single", "lines", "csv"  # i18n: ok (mode values in links)
MODES = (SINGLE, LINES, CSV)
# Cross-link to the embedding map: the first LINK_TEXTS texts, each cut to LINK_TEXT_CHARS characters
# (MiniLM reads ~256 tokens ≈ 1 000 characters of prose; 500 x 1 500 stays under the 1 000 000-character
# limit permalink.parse_value puts on a list).
LINK_TEXTS = 500
LINK_TEXT_CHARS = 1500


def show_notices(messages: list) -> None:
    """``ui.notices`` with each message translated and shown literally (no markdown in user text)."""
    ui.notices([md(ui.say(m)) for m in messages])


def chart_words() -> dict[str, str]:
    """The charts' words in the session's language (``{sum}`` stays for the chart to fill)."""
    return {name: t(f"classification.chart.{name}") for name in CHART_WORDS}


# ------------------------------------------------------------------ inputs
def valid_choice(key: str, choices, default) -> None:
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
    valid_choice(mode_key, MODES, SINGLE)
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


def pick_text(prefix: str, wide: pd.DataFrame, rows: list[int]) -> int:
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
    index = pick_text(prefix, wide, rows) if n > 1 else 0
    covs = None if loaded is None else [coverage.model_coverage(loaded, str(x)) for x in wide["text"]]
    if covs:
        cov_key, cov_values = coverage.message(covs[index], ui.escape_markdown)
        (st.caption if covs[index].meaningful else st.warning)(t(cov_key, **cov_values))
    ties = top_ties(tidy)   # once: the warning for the charted text and the table's tie cells
    tie = tie_message(tidy, index, rows[index], ties)
    if tie is not None:   # equal top scores: no winner to present
        st.warning(md(ui.say(tie)), icon="⚖️")
    one = tidy[tidy["text_id"] == index]
    fig = label_scores_bar(one, multi_label, chart_words(),
                           title=t("classification.results.chart_title", row=rows[index]))
    plotted = chart_table(one, method)
    ui.chart(fig, key=f"{prefix}_bar", table=plotted, filename=f"{prefix}_scores_text_{rows[index]}")
    table = display_table(wide, rows)
    top = t("classification.results.top_label")
    for text_id, tied in ties.items():
        table.loc[text_id, top] = t("classification.results.tie_cell", labels=", ".join(tied))
    predicted = table[top].tolist()   # for the map: a tie is not a predicted label
    if covs:
        low = [not c.meaningful for c in covs]
        table[top] = [t("coverage.not_meaningful") if bad else value for bad, value in zip(low, table[top])]
        score = t("classification.results.top_score")   # no winner, so no winner's score
        table[score] = [None if bad else value for bad, value in zip(low, table[score])]
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


def show_training(result) -> dict:
    """Cross-validation metrics, confusion matrix, class counts and misclassified examples of a
    trained head (:class:`components.classification.HeadResult`).

    Returns:
        ``{"confusion_figure", "confusion_table"}`` for the report (empty without cross-validation).
    """
    st.subheader(t("classification.train.cv_header"))
    c1, c2, c3 = st.columns(3)
    cv_text = f"{result.cv_accuracy:.1%}" if result.cv_accuracy is not None else t("classification.train.not_estimated")
    c1.metric(t("classification.train.metric_cv"), cv_text,
              help=t("classification.train.metric_cv_help", folds=result.folds))
    c2.metric(t("classification.train.metric_baseline"), f"{result.majority_baseline:.1%}",
              help=t("classification.train.metric_baseline_help"))
    c3.metric(t("classification.train.metric_count"), f"{result.n_examples} · {len(result.classes)}")
    out: dict = {}
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

    return out
