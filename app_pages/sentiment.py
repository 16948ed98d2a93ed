"""Sentiment: rules (VADER) vs data (MiniLM + logistic regression) vs prompting (SmolLM2)
vs a fine-tuned classifier (DistilBERT SST-2, Hub), side by side, with word attributions.

Every visible string comes from ``locales/<lang>/sentiment.toml`` (``ui.t``); the inputs and
settings are in :data:`SCHEMA` (permalink); presenter mode shows ``curated/sentiment.json``."""
from __future__ import annotations

import dataclasses

import streamlit as st

from components import runs_sentiment as R
from components import sentiment as S
from components import sentiment_benchmarks as B
from components import sentiment_wording as W
from components import ui
from components import views_sentiment as V
from components.catalog import MINILM, SMOLLM2, get_spec
from components.loading import availability
from components.permalink import BOOL, CHOICE, INT, TEXT, Param

PAGE = "sentiment"  # i18n: ok (page id)
SST2_KEY = "distilbert-sst2"  # i18n: ok (catalog key)
MAX_BATCH = 200  # texts per batch run (the LLM needs ~0.1-0.5 s per text on CPU)
EVAL_MAX = 500   # labelled rows of an uploaded evaluation set (one LLM forward each)
K = ui.persist_key
t = ui.t
SINGLE, LINES, CSV = V.SINGLE, V.LINES, V.CSV
EXAMPLES = {
    "positive": "The battery lasts all week and the screen is gorgeous. Best phone I've owned!",  # i18n: ok (model input)
    "negative": "We waited an hour for our food and the waiter never apologised.",  # i18n: ok (model input)
    "negation": "The hotel was not bad at all, and the staff were not unfriendly.",  # i18n: ok (model input)
    "news": "Shares fell sharply after the company warned of weaker demand.",  # i18n: ok (model input)
    "emoji": "Finally finished my thesis 🎉 so happy right now!",  # i18n: ok (model input)
    "chinese": "这家餐厅的菜很好吃，服务也很周到。",
}
APPROACH_MODEL = {S.VADER: None, S.HEAD: MINILM, S.LLM: SMOLLM2, S.SST2: SST2_KEY}


def _hub_default() -> bool:
    """The Hub model starts switched on only where it can load (no red box on a first visit offline)."""
    return availability(get_spec(SST2_KEY)) != "unavailable here"  # i18n: ok (status code)


SCHEMA = [
    Param("input", K("sent_input"), CHOICE, SINGLE, choices=(SINGLE, LINES, CSV)),
    Param("text", K("sent_text"), TEXT, EXAMPLES["positive"]),
    Param("texts", K("sent_lines"), TEXT, ""),
    Param("vader", K("sent_vader"), BOOL, True),
    Param("head", K("sent_head"), BOOL, True),
    Param("llm", K("sent_llm"), BOOL, True),
    Param("hub", K("sent_hub"), BOOL, _hub_default()),
    Param("attr", K("sent_attr"), BOOL, True),
    Param("prompt", K("sent_mode"), CHOICE, S.DEFAULT_MODE, choices=(S.COMPLETE, S.CHAT)),
    Param("template", K("sent_template"), TEXT, S.DEFAULT_TEMPLATE, max_chars=4000),
    Param("fewshot", K("sent_fewshot"), BOOL, False),
    Param("calib", K("sent_calibrate"), BOOL, False),
    Param("bset", K("sent_bench_set"), CHOICE, B.SETS[0], choices=B.SETS),
    Param("bcap", K("sent_bench_cap"), INT, B.DEFAULT_CAP, B.MIN_CAP, B.MAX_CAP),
    Param("bseed", K("sent_bench_seed"), INT, B.DEFAULT_SEED, 0, 2**31 - 1),
]
LIVE = "sent_live"  # presenter mode: live analysis asked for (button / link)  # i18n: ok

run_requested = ui.bind_link(PAGE, SCHEMA)
if run_requested:
    st.session_state[LIVE] = True


def _settings() -> S.PromptSettings:
    return S.PromptSettings(template=st.session_state.get(K("sent_template")) or "",
                            few_shot=bool(st.session_state.get(K("sent_fewshot"))),
                            calibrate=bool(st.session_state.get(K("sent_calibrate"))),
                            mode=st.session_state.get(K("sent_mode"), S.DEFAULT_MODE))


# ------------------------------------------------------------------ header
st.title(t("sentiment.title"))
st.caption(t("sentiment.caption"))
ui.explainer(t("sentiment.explainer.title"), t("sentiment.explainer.body"))

report_sections = None  # callable for the page's one report button, set by whatever is shown

# ------------------------------------------------------------------ presenter mode: curated example first
BENCH_LIVE = "sent_bench_live"  # presenter mode: the live evaluation panel asked for  # i18n: ok


def _go_live(example: dict) -> None:
    """The text examples analyse their text live; the domains example opens the evaluation panel."""
    domains = example.get("kind") == V.DOMAINS
    st.session_state[BENCH_LIVE] = domains
    st.session_state[LIVE] = not domains
    if domains:
        st.session_state["sent_bench_on"] = True


ui.slide(PAGE, SCHEMA, V.render_example, run_requested, on_live=_go_live)

# ------------------------------------------------------------------ inputs
data_hash = S.dataset_hash()


def _load_example() -> None:
    choice = st.session_state.get("sent_example")
    if choice in EXAMPLES:
        st.session_state[K("sent_text")] = EXAMPLES[choice]


def _reset_prompt() -> None:
    st.session_state[K("sent_template")] = S.DEFAULT_TEMPLATE
    st.session_state[K("sent_mode")] = S.DEFAULT_MODE


with ui.live_inputs(PAGE):
    upload = None
    left, right = st.columns([3, 2], gap="large")
    with left:
        input_mode = st.radio(t("sentiment.input.label"), [SINGLE, LINES, CSV], key=K("sent_input"),
                              persist_state="session", horizontal=True,
                              format_func=lambda m: t(f"sentiment.input.{m}"))
        if input_mode == SINGLE:
            st.selectbox(t("sentiment.example.label"), ["none", *EXAMPLES], key="sent_example", on_change=_load_example,
                         format_func=lambda k: t(f"sentiment.example.{k}"))
            st.text_area(t("sentiment.text.label"), key=K("sent_text"), persist_state="session", height=110)
        elif input_mode == LINES:
            st.text_area(t("sentiment.lines.label"), key=K("sent_lines"), persist_state="session", height=160,
                         placeholder=t("sentiment.lines.placeholder"), help=t("sentiment.lines.help", n=MAX_BATCH))
        else:
            upload = st.file_uploader(t("sentiment.csv.label"), type=["csv"], key="sent_csv",  # i18n: ok (file type)
                                      help=t("sentiment.lines.help", n=MAX_BATCH))
            st.caption(t("sentiment.csv.not_in_link"))
    with right:
        V.approach_controls(_reset_prompt)
        if ui.presenter():
            if st.button(t("sentiment.present.analyse"), key="sent_present_run", type="primary", icon="▶️"):
                st.session_state[LIVE] = True

ui.publish_link(PAGE, SCHEMA, runnable=True)

settings = _settings()
show_attr = bool(st.session_state.get(K("sent_attr")))
hub_on = bool(st.session_state.get(K("sent_hub"))) and not ui.presenter()
template_error = None
if st.session_state.get(K("sent_llm")):
    try:
        S.check_template(settings.template)
    except S.SentimentInputError as exc:
        template_error = exc
        st.warning(t("sentiment.prompt.template_warning", problem=ui.say(exc)), icon="✏️")

approaches = [a for a, on in ((S.VADER, K("sent_vader")), (S.HEAD, K("sent_head")), (S.LLM, K("sent_llm")))
              if st.session_state.get(on)]
if template_error is not None:
    approaches.remove(S.LLM)
if hub_on:
    approaches.append(S.SST2)


def _finish() -> None:
    """The page's one report button (for whatever result is shown), then stop."""
    if report_sections is not None:
        ui.report_button(t("sentiment.report.title"), report_sections, filename="sentiment_report",
                         key="sent_report")


if ui.presenter() and not st.session_state.get(LIVE) and not st.session_state.get(BENCH_LIVE):
    _finish()
    st.stop()

# ------------------------------------------------------------------ read the input
texts, input_notices, input_problem = V.read_texts(input_mode, st.session_state.get(K("sent_text"), ""),
                                                   st.session_state.get(K("sent_lines"), ""), upload, left, MAX_BATCH)
if input_problem:
    st.warning(input_problem, icon="✏️")
    _finish()
    st.stop()
ui.notices(input_notices)
if not approaches:
    st.warning(t("sentiment.no_approach"), icon="☝️")
    _finish()
    st.stop()


def _available(key: str | None) -> bool:
    """Load (cached) the approach's model, or show the clear "unavailable" message."""
    if key is None:
        return True
    with st.container():
        return ui.load_or_explain(key) is not None


# ------------------------------------------------------------------ single text
if ui.presenter() and st.session_state.get(BENCH_LIVE) and not st.session_state.get(LIVE):
    st.caption(t("sentiment.domains.live_below"))  # the domains slide went live: its panel is below
elif input_mode == SINGLE:
    text = texts[0]
    if S.HEAD in approaches and _available(MINILM):
        ui.run_guarded(R.head_with_spinner, data_hash)
    results = R.single_results(approaches, APPROACH_MODEL, text, settings, show_attr, data_hash, _available)
    if results:
        figures = V.render_single(results, key="sent_live", show_timing=not ui.presenter())
        report_sections = lambda: W.report_sections(text, results, figures, settings, show_attr, ui.lang())  # noqa: E731

# ------------------------------------------------------------------ batch
else:
    st.subheader(t("sentiment.batch.heading", n=len(texts)))
    if S.HEAD in approaches and _available(MINILM):
        ui.run_guarded(R.head_with_spinner, data_hash)
    table, predicted, timing_rows = R.batch_results(approaches, APPROACH_MODEL, texts, settings, data_hash,
                                                    _available)
    dist_fig = V.render_batch(texts, table, predicted, timing_rows)
    report_sections = lambda: W.batch_report_sections(  # noqa: E731
        texts, table, [(t("sentiment.chart.label_counts"), dist_fig)] if dist_fig is not None else [],
        settings, list(predicted), ui.lang())

_finish()

# ------------------------------------------------------------------ evaluation
if ui.presenter() and not st.session_state.get(BENCH_LIVE):
    st.stop()


def _evaluations(run, n: int, *args) -> list:
    """Every switched-on, available approach through the cached evaluation ``run`` (on ``n`` texts)."""
    evals = []
    for approach in approaches:
        key = APPROACH_MODEL[approach]
        if key is not None and not _available(key):
            continue
        with st.spinner(t("sentiment.eval.spinner", approach=V.long_name(approach), n=n)):
            ev = ui.run_guarded(run, approach, key, dataclasses.astuple(settings), data_hash, *args)
        if ev is not None:
            evals.append(ev)
    return evals


V.evaluation_panel(lambda test: _evaluations(R.evaluation, len(test), S.dataset_hash(S.TEST_CSV)))

# ------------------------------------------------------------------ evaluation on the VADER paper's sets
V.bench_panel(approaches, lambda *cell: R.bench_cell(*cell, APPROACH_MODEL, settings, data_hash, _available),
              lambda cap, seed: R.known_cells(cap, seed, approaches, settings))

# ------------------------------------------------------------------ evaluation on the user's labelled CSV
V.own_evaluation_panel(lambda own: _evaluations(R.evaluation_own, len(own), tuple(own["text"]), tuple(own["label"])),
                       EVAL_MAX)
