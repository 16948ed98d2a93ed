"""Classification: zero-shot labels you type, or train your own head on frozen embeddings.

Page contract (docs/contributing.md, "The page contract"): strings from
``locales/<lang>/classification.toml``; every input and setting in :data:`SCHEMA` (links);
presenter mode shows ``curated/classification.json`` before any model loads; tables, charts
and one HTML report are exportable. The page computes on every run (no "classify" button),
so a link with ``run=1`` -- or the embeddings page's cross-link ``{text, mode: single}`` --
shows its result on opening.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import ui
from components import views_classification as views
from components.catalog import MINILM, SENTENCE_TRANSFORMER, ZERO_SHOT, get_spec, models_for
from components.classification import (
    DEFAULT_TEMPLATE,
    EXAMPLE_SETS,
    HEAD_EXAMPLE_TEXTS,
    MAX_LABELS,
    SLOT,
    ZeroShotResult,
    check_template,
    classify_with_head,
    example_lines,
    load_example_set,
    parse_labels,
    prepare_examples,
    train_head,
    wide_scores,
    zero_shot_examples,
    zero_shot_nli,
    zero_shot_similarity,
)
from components.classification_wording import report_sections
from components.permalink import BOOL, CHOICE, TEXT, Param
from components.textio import InputError, parse_labelled_lines
from components.views_classification import MODES, SINGLE, md, show_notices

PAGE = "classification"  # i18n: ok (page id)
K = ui.persist_key
t = ui.t

ZS_MODELS = tuple(s.key for s in models_for(ZERO_SHOT))
EXAMPLES = zero_shot_examples()
DEFAULT_LABELS = "sports, politics, technology, food"  # i18n: ok (default input, model text)


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


# ------------------------------------------------------------------ zero-shot tab
def zero_shot_tab() -> dict | None:
    """Zero-shot inputs and result; returns what the report needs, or None without a result."""
    with ui.live_inputs(PAGE):
        left, right = st.columns([3, 2], gap="large")
        with left:
            got = views.text_inputs("zs")
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
    shown = views.show_zero_shot(result, rows[: len(kept)], "zs", loaded)
    return {"texts": kept, "rows": rows[: len(kept)], "labels": labels, "model": model_key,
            "template": template, "multi": bool(multi), "mode": st.session_state.get(K("zs_mode")),
            "result": result, **shown}


# ------------------------------------------------------------------ train-your-own tab
def _training_examples():
    """Labelled examples from the lines editor or a CSV; None after showing a message."""
    sources = ("lines", "csv")  # i18n: ok (option values)
    views.valid_choice(K("tr_source"), sources, "lines")
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
    got = views.csv_input("tr", with_label=True)
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

    out: dict = {"result": result, "n_examples": result.n_examples, **views.show_training(result)}

    st.subheader(t("classification.train.new_header"))
    got_new = views.text_inputs("tr_new")
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
    out["new"] = views.show_results(tidy, wide, rows[: len(wide)], False, "tr_new", "head", loaded)
    return out


# ------------------------------------------------------------------ page
run_requested = ui.bind_link(PAGE, SCHEMA)   # the page computes on every run: run=1 needs nothing more
st.title(t("classification.title"))
st.caption(t("classification.intro"))
ui.explainer(t("classification.explainer.title"), t("classification.explainer.body"))
ui.slide(PAGE, SCHEMA, views.render_example, run_requested)
tab_zero, tab_train = st.tabs([t("classification.tab.zero_shot"), t("classification.tab.train")])
with tab_zero:
    zs_out = ui.run_guarded(zero_shot_tab)
with tab_train:
    tr_out = ui.run_guarded(train_tab)
ui.publish_link(PAGE, SCHEMA, runnable=True)
if zs_out or tr_out:
    ui.report_button(t("classification.report.title"), lambda: report_sections(zs_out, tr_out, ui.lang()),
                     filename=t("classification.report.filename"), key="classification_report")
