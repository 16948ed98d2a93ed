"""Sentiment: rules (VADER) vs data (MiniLM + logistic regression) vs prompting (SmolLM2)
vs a fine-tuned classifier (DistilBERT SST-2, Hub), side by side, with word attributions.

Every visible string comes from ``locales/<lang>/sentiment.toml`` (``ui.t``); the inputs and
settings are in :data:`SCHEMA` (permalink); presenter mode shows ``curated/sentiment.json``."""
from __future__ import annotations

import codecs
import dataclasses

import pandas as pd
import streamlit as st

from components import charts_sentiment as charts
from components import coverage, textio, ui
from components import sentiment as S
from components import sentiment_benchmarks as B
from components import sentiment_wording as W
from components.catalog import MINILM, SMOLLM2, get_spec
from components.loading import availability
from components.messages import Message
from components.permalink import BOOL, CHOICE, INT, TEXT, Param

PAGE = "sentiment"  # i18n: ok (page id)
SST2_KEY = "distilbert-sst2"  # i18n: ok (catalog key)
MAX_BATCH = 200  # texts per batch run (the LLM needs ~0.1-0.5 s per text on CPU)
MAP_MAX = 500    # texts sent to the embedding map (its own cap)
EVAL_MAX = 500   # labelled rows of an uploaded evaluation set (one LLM forward each)
K = ui.persist_key
t = ui.t
SINGLE, LINES, CSV = "single", "lines", "csv"  # i18n: ok (input mode ids)
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


# ------------------------------------------------------------------ small helpers
def label_names() -> dict[str, str]:
    """Label key -> translated label (``S.NOT_MEANINGFUL``: the text could not be read)."""
    return {**{k: t(f"sentiment.label.{k}") for k in (S.NEGATIVE, S.NEUTRAL, S.POSITIVE)},
            S.NOT_MEANINGFUL: t("coverage.not_meaningful")}


def short_name(approach: str) -> str:
    return t(f"sentiment.approach_short.{approach}")


def long_name(approach: str) -> str:
    return t(f"sentiment.approach.{approach}")


def notice_text(notice) -> str:
    """A notice or input error (a :class:`Message`, a :class:`MessageError`, or a stored
    result's ``[code, params]``) in the UI language; text values (labels, column names, the
    user's own words) are shown literally, never as markdown."""
    if isinstance(notice, (list, tuple)):
        notice = Message(notice[0], dict(notice[1]))
    return ui.say(notice, textio.markdown_literal)


def textio_text(item) -> str:
    """A notice or error of :mod:`components.textio` in the UI language; its values (column
    names, file errors) are shown literally, never as markdown."""
    return ui.say(item, textio.markdown_literal)


def _settings() -> S.PromptSettings:
    return S.PromptSettings(template=st.session_state.get(K("sent_template")) or "",
                            few_shot=bool(st.session_state.get(K("sent_fewshot"))),
                            calibrate=bool(st.session_state.get(K("sent_calibrate"))),
                            mode=st.session_state.get(K("sent_mode"), S.DEFAULT_MODE))


# ------------------------------------------------------------------ cached computations
@st.cache_resource(max_entries=2, show_spinner=False)
def _head(data_hash: str) -> S.SentimentHead:
    """Head trained once per training-set content (``data_hash`` = sha256 of train.csv)."""
    from components.cache import get_model

    return S.train_head(get_model(MINILM))


def _head_with_spinner(data_hash: str) -> S.SentimentHead:
    with st.spinner(t("sentiment.head_training")):
        return _head(data_hash)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _single(approach: str, model_key: str | None, text: str, settings: tuple, attribution: bool,
            data_hash: str, _progress=None) -> dict:
    """One approach on one text -> :func:`components.sentiment.result_dict`; ``_progress``
    (not part of the cache key): the LLM's per-batch token callback."""
    from components.cache import get_model

    if approach == S.VADER:
        return S.result_dict(S.vader_sentiment(text, attribution))
    loaded = get_model(model_key)
    if approach == S.HEAD:
        res = S.head_sentiment(loaded, _head(data_hash), text, attribution)
    elif approach == S.LLM:
        res = S.llm_sentiment(loaded, text, S.PromptSettings(*settings), attribution, _progress)
    else:
        res = S.sst2_sentiment(loaded, text, attribution)
    return S.result_dict(res)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _batch(approach: str, model_key: str | None, texts: tuple[str, ...], settings: tuple,
           data_hash: str) -> tuple[list[str], list[float], float]:
    import time

    from components.cache import get_model

    start = time.perf_counter()
    if approach == S.VADER:
        labels, p = S.vader_predict(texts)
    elif approach == S.HEAD:
        labels, p = S.head_predict(get_model(model_key), _head(data_hash), texts)
    elif approach == S.LLM:
        labels, p, _ = S.llm_predict(get_model(model_key), texts, S.PromptSettings(*settings))
    else:
        labels, p = S.sst2_predict(get_model(model_key), texts)
    return list(labels), [float(v) for v in p], time.perf_counter() - start


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def _batch_coverage(approach: str, model_key: str | None, texts: tuple[str, ...]) -> list[dict]:
    from components.cache import get_model

    return S.texts_coverage(approach, None if model_key is None else get_model(model_key), texts)


@st.cache_data(max_entries=16, ttl=6 * 3600, show_spinner=False)
def _evaluation(approach: str, model_key: str | None, settings: tuple, data_hash: str,
                test_hash: str) -> S.Evaluation:
    from components.cache import get_model

    if approach == S.VADER:
        return S.evaluate(S.VADER)
    loaded = get_model(model_key)
    head = _head(data_hash) if approach == S.HEAD else None
    return S.evaluate(approach, loaded, head, S.PromptSettings(*settings))


# ------------------------------------------------------------------ renderers (live and curated)
def show_coverage(cov: dict | None) -> None:
    """How much of the text the approach could read; a warning when too little to mean anything."""
    if not cov:
        return
    key, values = coverage.message(cov, ui.escape_markdown)
    if cov["meaningful"]:
        st.caption(t(key, **values), help=t("coverage.help", min=values["min"]))
    else:
        st.warning(t(key, **values), icon="❓")


def render_attribution_matrix(results: list[dict], key: str) -> tuple | None:
    """Heatmap + table of every approach's word weights, words in text order. Returns
    (figure, table) for the report, or None when no approach computed attributions."""
    with_attr = [r for r in results if r.get("attribution")]
    if not with_attr:
        return None
    longest = max(with_attr, key=lambda r: len(r["attribution"]))
    words = [p[0] for p in longest["attribution"]]
    rows, table = {}, pd.DataFrame({t("sentiment.col.word"): words})
    for r in with_attr:
        weights = [p[1] for p in r["attribution"]] + [None] * (len(words) - len(r["attribution"]))
        rows[short_name(r["approach"])] = weights[:len(words)]
        table[short_name(r["approach"])] = weights[:len(words)]
    fig = charts.attribution_heatmap(words, rows, colorbar_title=t("sentiment.chart.weight"))
    st.markdown(f"**{t('sentiment.attr.matrix_heading')}**")
    st.caption(t("sentiment.attr.matrix_caption"))
    ui.chart(fig, key=f"{key}_attr_matrix", table=table, filename="sentiment_attributions")
    return fig, table


def render_single(results: list[dict], key: str, show_timing: bool) -> list:
    """One column per approach: label, scores, notices, highlighted words; then the
    attribution matrix. Works on live results and on the curated JSON alike.

    Returns:
        figures for the report: ``[(heading, figure)]``.
    """
    names = label_names()
    figures = []
    cols = st.columns(max(1, len(results)), gap="medium")
    for col, res in zip(cols, results):
        approach = res["approach"]
        with col:
            st.subheader(short_name(approach), divider="gray", help=long_name(approach))
            st.metric(t("sentiment.metric.label"), t(S.shown_label_key(res)), help=t("sentiment.metric.help"))
            show_coverage(res.get("coverage"))
            table = pd.DataFrame({t("sentiment.col.label"): [names.get(k, k) for k in res["scores"]],
                                  t("sentiment.col.value"): list(res["scores"].values())})
            if approach == S.VADER:
                compound = res["extra"]["compound"]
                fig = charts.compound_chart(compound, S.VADER_POS_THRESHOLD, S.VADER_NEG_THRESHOLD, names=names,
                                            value_name=t("sentiment.col.compound"))
                compound_table = pd.DataFrame({t("sentiment.col.compound"): [compound],
                                               t("sentiment.col.label"): [names.get(res["label"], res["label"])]})
                ui.chart(fig, key=f"{key}_compound", table=compound_table, filename="sentiment_vader_compound")
                st.caption(t("sentiment.vader.compound", compound=f"{compound:+.3f}",
                             pos=f"{S.VADER_POS_THRESHOLD:+.2f}", neg=f"{S.VADER_NEG_THRESHOLD:+.2f}"))
                st.caption(t("sentiment.vader.saturation"))
                with st.expander(t("sentiment.vader.proportions")):
                    bars = charts.probability_bars(res["scores"], value_name=t("sentiment.chart.proportion"),
                                                   names=names)
                    ui.chart(bars, key=f"{key}_bars_{approach}", table=table, filename=f"sentiment_{approach}")
                    st.caption(t("sentiment.vader.proportions_caption"))
            else:
                fig = charts.probability_bars(res["scores"], value_name=t("sentiment.chart.probability"), names=names)
                ui.chart(fig, key=f"{key}_bars_{approach}", table=table, filename=f"sentiment_{approach}")
            figures.append((short_name(approach), fig))
            if show_timing and "seconds" in res:
                timing = t("sentiment.timing", ms=f"{res['seconds'] * 1000:.1f}")
                if res["attribution"]:
                    timing += " · " + t("sentiment.timing_occlusion", s=f"{res['attribution_seconds']:.2f}")
                st.caption(timing)
            for notice in res.get("notices", []):
                st.info(notice_text(notice), icon="ℹ️")
            if approach == S.VADER and res["extra"].get("word_valences"):
                title = t("sentiment.vader.valences" if res["extra"].get("valences_aligned")
                          else "sentiment.vader.valences_stripped")
                st.markdown(charts.attribution_html(res["extra"]["word_valences"], title), unsafe_allow_html=True)
            if res.get("attribution"):
                title = t("sentiment.attr.title_vader" if approach == S.VADER else "sentiment.attr.title_prob")
                st.markdown(charts.attribution_html(res["attribution"], title), unsafe_allow_html=True)
            if approach == S.LLM:
                ex = res["extra"]
                calibrated_used = bool(res.get("calibration_used", False))
                if not ui.presenter():
                    st.markdown(f"**{t('sentiment.calib.heading')}**")
                    cal_fig = charts.before_after_bars(
                        ex["uncalibrated"], ex["calibrated"], ex["content_free"], names=names,
                        series_names={k: t(f"sentiment.calib.{k}") for k in ("content_free", "uncalibrated", "calibrated")},
                        y_title=t("sentiment.chart.probability"))
                    cal_table = pd.DataFrame({
                        t("sentiment.col.label"): [names[k] for k in ex["uncalibrated"]],
                        t("sentiment.calib.content_free"): list(ex["content_free"].values()),
                        t("sentiment.calib.uncalibrated"): list(ex["uncalibrated"].values()),
                        t("sentiment.calib.calibrated"): list(ex["calibrated"].values())})
                    ui.chart(cal_fig, key=f"{key}_calibration", table=cal_table, filename="sentiment_calibration")
                    figures.append((t("sentiment.calib.heading"), cal_fig))
                    st.caption(t("sentiment.calib.caption",
                                 before=f"{ex['uncalibrated']['positive']:.3f}",
                                 after=f"{ex['calibrated']['positive']:.3f}",
                                 used=t("sentiment.calib.used" if calibrated_used else "sentiment.calib.not_used"),
                                 cf=f"{ex['content_free']['positive']:.3f}",
                                 mass=f"{ex['label_mass']:.1%}"))
                with st.expander(t("sentiment.calib.exact_prompt")):
                    ui.show_literal(ex["prompt"])
    matrix = render_attribution_matrix(results, key)
    if matrix is not None:
        figures.append((t("sentiment.attr.matrix_heading"), matrix[0]))
    return figures


# ------------------------------------------------------------------ header
st.title(t("sentiment.title"))
st.caption(t("sentiment.caption"))
ui.explainer(t("sentiment.explainer.title"), t("sentiment.explainer.body"))

report_sections = None  # callable for the page's one report button, set by whatever is shown

# ------------------------------------------------------------------ presenter mode: curated example first
DOMAINS = "domains"  # i18n: ok (curated example kind)
BENCH_LIVE = "sent_bench_live"  # presenter mode: the live evaluation panel asked for  # i18n: ok


def _cross_domain_table(cells: dict, approaches: list, key: str) -> None:
    """Approaches x sets (macro-F1 with intervals, winner per set), and which sets' winners are
    not a clear win (overlapping intervals): on the slide and on the live page alike."""
    ui.data_table(W.table(B.cross_domain_frame(cells, approaches), ui.lang()), key=key,
                  filename="sentiment_cross_domain", static=True)
    overlap = B.overlapping_sets(cells)
    if overlap:
        st.info(t("sentiment.domains.overlap", sets=", ".join(t(f"sentiment.bench.set.{n}") for n in overlap)),
                icon="⚖️")


def render_domains(result: dict) -> None:
    """The stored "approaches × sets" table (★ = best macro-F1 per set), a note where the
    winner's interval overlaps another, and the paper's VADER figures beside the page's."""
    cells = {(c.approach, c.set_name): c for c in map(B.cell_from_record, result["cells"])}
    approaches_shown = [a for a in result["approaches"] if any(k[0] == a for k in cells)]
    st.markdown(f"**{t('sentiment.domains.table_heading')}**")
    st.caption(t("sentiment.domains.sample", n=result["cap"], seed=result["seed"]))
    _cross_domain_table(cells, approaches_shown, key="sent_domains_table")
    st.markdown(t("sentiment.domains.why"))
    paper = {c.set_name: c for c in map(B.cell_from_record, result["paper"])}
    st.markdown(f"**{t('sentiment.bench.paper_heading')}**")
    ui.data_table(W.table(B.paper_frame(paper), ui.lang()), key="sent_domains_paper",
                  filename="sentiment_vader_paper_vs_page", static=True)
    st.caption(t("sentiment.bench.paper_caption"))


def render_example(example: dict) -> None:
    result = example["result"]
    if example.get("kind") == DOMAINS:
        render_domains(result)
        return
    ui.show_literal(result["text"])
    figures = render_single(result["results"], key="sent_curated", show_timing=False)
    ui.report_button(t("sentiment.report.title"), lambda: W.report_sections(
        result["text"], result["results"], figures, S.PromptSettings(), True, ui.lang()),
        filename="sentiment_report", key="sent_report")


def _go_live(example: dict) -> None:
    """The text examples analyse their text live; the domains example opens the evaluation panel."""
    domains = example.get("kind") == DOMAINS
    st.session_state[BENCH_LIVE] = domains
    st.session_state[LIVE] = not domains
    if domains:
        st.session_state["sent_bench_on"] = True


ui.slide(PAGE, SCHEMA, render_example, run_requested, on_live=_go_live)

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
        st.toggle(long_name(S.VADER), key=K("sent_vader"), persist_state="session", help=t("sentiment.method.vader_help"))
        st.toggle(long_name(S.HEAD), key=K("sent_head"), persist_state="session", help=t("sentiment.method.head_help"))
        st.toggle(long_name(S.LLM), key=K("sent_llm"), persist_state="session", help=t("sentiment.method.llm_help"))
        if not ui.presenter():
            st.toggle(long_name(S.SST2), key=K("sent_hub"), persist_state="session", help=t("sentiment.method.hub_help"))
            st.toggle(t("sentiment.attr.toggle"), key=K("sent_attr"), persist_state="session",
                      help=t("sentiment.attr.toggle_help"))
            with st.expander(t("sentiment.prompt.expander"), expanded=False):
                st.radio(t("sentiment.prompt.format"), [S.COMPLETE, S.CHAT], key=K("sent_mode"), persist_state="session",
                         horizontal=True, format_func=lambda m: t(f"sentiment.prompt.{m}"))
                st.text_area(t("sentiment.prompt.template"), key=K("sent_template"), persist_state="session", height=110)
                st.button(t("sentiment.prompt.reset"), on_click=_reset_prompt, key="sent_reset_prompt")
                st.toggle(t("sentiment.prompt.fewshot"), key=K("sent_fewshot"), persist_state="session")
                st.toggle(t("sentiment.prompt.calibrate"), key=K("sent_calibrate"), persist_state="session",
                          help=t("sentiment.prompt.calibrate_help"))
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
texts: list[str] = []
input_notices: list[str] = []
input_problem: str | None = None
if input_mode == SINGLE:
    try:
        text, notices = S.check_text(st.session_state.get(K("sent_text"), ""))
        texts, input_notices = [text], [notice_text(n) for n in notices]
    except S.SentimentInputError as exc:
        input_problem = ui.say(exc)
elif input_mode == LINES:
    try:
        texts, notes = textio.split_lines(st.session_state.get(K("sent_lines"), ""))
        input_notices = [textio_text(n) for n in notes]
    except textio.InputError as exc:
        input_problem = textio_text(exc)
else:
    if upload is None:
        input_problem = t("sentiment.csv.need_file")
    else:
        data = upload.getvalue()
        max_mb = float(st.get_option("server.maxUploadSize"))
        try:
            table = textio.read_csv_bytes(data, max_bytes=int(max_mb * 1024 * 1024))
            if data.startswith(codecs.BOM_UTF8):
                input_notices.append(t("sentiment.csv.bom"))
            input_notices += [textio_text(n) for n in table.notices]
            column, _, guess = ui.csv_text_column(table, upload, K("sent_csv_column"), t("sentiment.csv.column"),
                                                  container=left)
            if guess.rule != textio.GUESS_NAME and column == guess.column:
                st.info(t("sentiment.csv.guessed_column" if guess.rule == textio.GUESS_FIRST
                          else "sentiment.csv.guessed_longest", column="“" + ui.escape_markdown(column) + "”",
                          names=", ".join(textio.TEXT_COLUMN_NAMES),
                          columns=", ".join("“" + ui.escape_markdown(c) + "”" for c in table.columns)), icon="🗂️")
            frame, col_notices = textio.column_texts(table, column)
            input_notices += [textio_text(n) for n in col_notices]
            texts = frame["text"].tolist()
        except textio.InputError as exc:
            input_problem = textio_text(exc)

if input_problem:
    st.warning(input_problem, icon="✏️")
    _finish()
    st.stop()
if input_mode != SINGLE:
    capped, n_long = [], 0
    for item in texts:  # each batch text: same character cap as a single text
        try:
            item, notes = S.check_text(item)
        except S.SentimentInputError:
            continue
        capped.append(item)
        n_long += bool(notes)
    texts = capped
    if n_long:
        input_notices.append(t("sentiment.batch.long", n=n_long, limit=f"{S.MAX_CHARS:,}"))
    if len(texts) > MAX_BATCH:
        input_notices.append(t("sentiment.batch.cap", n=len(texts), limit=MAX_BATCH))
        texts = texts[:MAX_BATCH]
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


def _long_run_note(workload: S.LlmWorkload, attribution: bool) -> None:
    """Before a long LLM run: what SmolLM2 will read (counts, not a guessed duration)."""
    values = {"tokens": f"{workload.tokens:,}", "prompts": workload.prompts, "plain": f"{workload.plain_tokens:,}"}
    note = "sentiment.long_run.note_attr" if attribution and workload.plain_tokens < workload.tokens \
        else "sentiment.long_run.note"
    st.info(t(note, **values), icon="⏳")


def _describe_progress(done: int, total: int, seconds: float, rate: float | None) -> str:
    """Progress-bar text: tokens read, and the speed and time left measured on this run."""
    if rate is None:
        return t("sentiment.long_run.starting", total=f"{total:,}")
    if done >= total:
        return t("sentiment.long_run.done", total=f"{total:,}", seconds=f"{seconds:.1f}", rate=f"{rate:,.0f}")
    return t("sentiment.long_run.progress", done=f"{done:,}", total=f"{total:,}", rate=f"{rate:,.0f}",
             left=f"{(total - done) / rate:.0f}")


# ------------------------------------------------------------------ single text
if ui.presenter() and st.session_state.get(BENCH_LIVE) and not st.session_state.get(LIVE):
    st.caption(t("sentiment.domains.live_below"))  # the domains slide went live: its panel is below
elif input_mode == SINGLE:
    text = texts[0]
    if S.HEAD in approaches and _available(MINILM):
        ui.run_guarded(_head_with_spinner, data_hash)
    results = []
    for approach in approaches:
        key = APPROACH_MODEL[approach]
        if key is not None and not _available(key):
            continue
        args = (approach, key, text, dataclasses.astuple(settings), show_attr, data_hash)
        workload = ui.run_guarded(S.llm_workload, ui.load_or_explain(key), text, settings, show_attr) \
            if approach == S.LLM else None
        if workload is not None and workload.tokens >= S.LONG_RUN_TOKENS:
            _long_run_note(workload, show_attr)
            res = ui.run_guarded(ui.run_with_progress, lambda progress: _single(*args, _progress=progress),
                                 workload.tokens, _describe_progress)
        else:
            with st.spinner(t("sentiment.spinner_single", approach=long_name(approach))):
                res = ui.run_guarded(_single, *args)
        if res is not None:
            if approach == S.LLM:
                res = {**res, "calibration_used": settings.calibrate}
            results.append(res)
    if results:
        figures = render_single(results, key="sent_live", show_timing=not ui.presenter())
        report_sections = lambda: W.report_sections(text, results, figures, settings, show_attr, ui.lang())  # noqa: E731

# ------------------------------------------------------------------ batch
else:
    names = label_names()
    st.subheader(t("sentiment.batch.heading", n=len(texts)))
    table = pd.DataFrame({t("sentiment.col.text"): texts})
    used: dict[str, str] = {}
    predicted: dict[str, list[str]] = {}
    timing_rows = []
    if S.HEAD in approaches and _available(MINILM):
        ui.run_guarded(_head_with_spinner, data_hash)
    for approach in approaches:
        key = APPROACH_MODEL[approach]
        if key is not None and not _available(key):
            continue
        with st.spinner(t("sentiment.batch.spinner", approach=long_name(approach), n=len(texts))):
            out = ui.run_guarded(_batch, approach, key, tuple(texts), dataclasses.astuple(settings), data_hash)
        if out is None:
            continue
        labels, p, seconds = out
        covs = ui.run_guarded(_batch_coverage, approach, key, tuple(texts)) or [{"meaningful": True}] * len(texts)
        name = short_name(approach)
        label_col = t("sentiment.col.batch_label", approach=name)
        # a text the approach could not read counts as such everywhere: table, chart, map link
        labels = [v if c["meaningful"] else S.NOT_MEANINGFUL for v, c in zip(labels, covs)]
        table[label_col] = [names.get(v, v) for v in labels]
        table[t("sentiment.col.batch_p", approach=name)] = [round(v, 4) for v in p]
        if "fraction" in covs[0]:
            table[t("coverage.column_reader", reader=name)] = [coverage.short(c) for c in covs]
        predicted[approach] = labels
        used[name] = approach
        timing_rows.append({t("sentiment.col.approach"): long_name(approach), t("sentiment.col.seconds"): round(seconds, 3),
                            t("sentiment.col.ms_per_text"): round(1000 * seconds / len(texts), 2)})
    ui.data_table(table, key="sent_batch_table", filename="sentiment_results")
    dist_fig = None
    if used:
        key_table = pd.DataFrame({a: predicted[a] for a in predicted})
        dist_fig = charts.label_distribution(key_table, {n: a for n, a in used.items()}, names=names,
                                             y_title=t("sentiment.chart.texts"))
        counts = pd.DataFrame({t("sentiment.col.approach"): list(used),
                               **{names[lab]: [int((key_table[a] == lab).sum()) for a in used.values()]
                                  for lab in (S.NEGATIVE, S.NEUTRAL, S.POSITIVE, S.NOT_MEANINGFUL)
                                  if lab != S.NOT_MEANINGFUL or (key_table == lab).any(axis=None)}})
        ui.chart(dist_fig, key="sent_label_dist", table=counts, filename="sentiment_label_counts")
        if not ui.presenter():
            ui.data_table(pd.DataFrame(timing_rows), key="sent_batch_timing", filename="sentiment_timing")
        # cross-link: colour the embedding map by one approach's predicted labels
        choice = st.radio(t("sentiment.map_labels_from"), list(predicted), key="sent_map_from", horizontal=True,
                          format_func=short_name, index=len(predicted) - 1)
        shown = min(len(texts), MAP_MAX)
        ui.link_button(t("sentiment.see_on_map"), "embeddings",
                       {"texts": texts[:shown], "labels": [names.get(v, v) for v in predicted[choice][:shown]],
                        "label_title": t("sentiment.predicted_label", approach=short_name(choice))},
                       key="sent_to_map", icon="🧭")
    if S.VADER in predicted:
        st.caption(t("sentiment.batch.vader_note"))
    report_sections = lambda: W.batch_report_sections(  # noqa: E731
        texts, table, [(t("sentiment.chart.label_counts"), dist_fig)] if dist_fig is not None else [],
        settings, list(predicted), ui.lang())

_finish()

# ------------------------------------------------------------------ evaluation
if ui.presenter() and not st.session_state.get(BENCH_LIVE):
    st.stop()


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def _evaluation_own(approach: str, model_key: str | None, settings: tuple, data_hash: str,
                    texts: tuple[str, ...], labels: tuple[str, ...]) -> S.Evaluation:
    """One approach on the user's labelled texts."""
    from components.cache import get_model

    own = pd.DataFrame({"text": list(texts), "label": list(labels)})
    if approach == S.VADER:
        return S.evaluate(S.VADER, test=own)
    loaded = get_model(model_key)
    head = _head(data_hash) if approach == S.HEAD else None
    return S.evaluate(approach, loaded, head, S.PromptSettings(*settings), test=own)


def render_evaluation(evals: list, truth: list[str], key: str, x_title: str) -> None:
    """Accuracy, predicted-positive share and per-class recall per approach (table + chart),
    then one confusion matrix per approach. Same for the bundled set and the user's CSV."""
    names = label_names()
    true_share = sum(v == S.POSITIVE for v in truth) / max(1, len(truth))
    eval_table = W.table(S.evaluation_frame(evals), ui.lang())
    st.caption(t("sentiment.eval.share_caption", share=f"{true_share:.1%}"))
    ui.data_table(eval_table, key=f"{key}_table", filename="sentiment_evaluation")
    acc_fig = charts.accuracy_bars([(long_name(e.approach), e.accuracy) for e in evals],
                                   x_title=x_title)
    ui.chart(acc_fig, key=f"{key}_acc", table=eval_table, filename="sentiment_accuracy")
    cm_cols = st.columns(len(evals))
    for col, ev in zip(cm_cols, evals):
        with col:
            cm_table = ev.confusion.rename(index=names, columns=names).reset_index(names=t("sentiment.chart.true"))
            ui.chart(charts.confusion_heatmap(ev.confusion, short_name(ev.approach),
                                              x_title=t("sentiment.chart.predicted"),
                                              y_title=t("sentiment.chart.true"), names=names),
                     key=f"{key}_cm_{ev.approach}", table=cm_table, filename=f"sentiment_confusion_{ev.approach}")


def _run_evaluations(run) -> list:
    evals = []
    for approach in approaches:
        key = APPROACH_MODEL[approach]
        if key is not None and not _available(key):
            continue
        ev = run(approach, key)
        if ev is not None:
            evals.append(ev)
    return evals


st.divider()
st.subheader(t("sentiment.eval.heading"))
test = S.load_dataset("test")
st.caption(t("sentiment.eval.caption", n=len(test), pos=int((test.label == S.POSITIVE).sum()),
             neg=int((test.label == S.NEGATIVE).sum())))
st.info(t("sentiment.eval.what_set"), icon="🧪")
if st.button(t("sentiment.eval.button"), key="sent_eval_run", type="primary"):
    st.session_state["sent_eval_on"] = True
if st.session_state.get("sent_eval_on"):
    test_hash = S.dataset_hash(S.TEST_CSV)

    def _bundled(approach, key):
        with st.spinner(t("sentiment.eval.spinner", approach=long_name(approach), n=len(test))):
            return ui.run_guarded(_evaluation, approach, key, dataclasses.astuple(settings), data_hash, test_hash)

    evals = _run_evaluations(_bundled)
    if evals:
        render_evaluation(evals, test["label"].tolist(), key="sent_eval", x_title=t("sentiment.chart.accuracy"))
else:
    st.caption(t("sentiment.eval.hint"))

# ------------------------------------------------------------------ evaluation on the VADER paper's sets
BENCH_CELLS = "sent_bench_cells"  # i18n: ok (session key: (approach, set, cap, seed, settings) -> result)


@st.cache_data(max_entries=64, ttl=6 * 3600, show_spinner=False)
def _bench(approach: str, model_key: str | None, set_name: str, cap: int, seed: int, settings: tuple,
           data_hash: str) -> B.BenchmarkResult:
    """One approach on a stratified sample of one set, with a progress bar (created inside:
    a cached call may only draw into its own elements)."""
    from components.cache import get_model

    total = min(cap, B.set_summary(set_name)["kept"])
    bar = st.progress(0.0, text=t("sentiment.bench.progress", approach=long_name(approach), done=0, total=total))

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text=t("sentiment.bench.progress", approach=long_name(approach),
                                                  done=done, total=total))

    loaded = None if model_key is None else get_model(model_key)
    head = _head(data_hash) if approach == S.HEAD else None
    result = B.run(approach, set_name, cap, seed, loaded, head, S.PromptSettings(*settings), progress)
    bar.empty()
    return result


def _bench_cell(approach: str, set_name: str, cap: int, seed: int) -> B.BenchmarkResult | None:
    """Cached result of one cell (remembered in the session for the cross-domain table)."""
    key = APPROACH_MODEL[approach]
    if key is not None and not _available(key):
        return None
    settings_key = dataclasses.astuple(settings) if approach == S.LLM else ()
    result = ui.run_guarded(_bench, approach, key, set_name, cap, seed, settings_key, data_hash)
    if result is not None:
        st.session_state.setdefault(BENCH_CELLS, {})[(approach, set_name, cap, seed, settings_key)] = result
    return result


def _known_cells(cap: int, seed: int) -> dict:
    """(approach, set) -> result computed in this session with this cap, seed and prompt settings."""
    llm_settings = dataclasses.astuple(settings)
    return {(a, name): r for (a, name, c, s, st_key), r in st.session_state.get(BENCH_CELLS, {}).items()
            if c == cap and s == seed and a in approaches and st_key == (llm_settings if a == S.LLM else ())}


st.divider()
st.subheader(t("sentiment.bench.heading"))
st.caption(t("sentiment.bench.caption"))
b1, b2, b3 = st.columns([2, 1, 1])
bench_set = b1.selectbox(t("sentiment.bench.set_label"), B.SETS, format_func=lambda n: t(f"sentiment.bench.set.{n}"),
                         key=K("sent_bench_set"), persist_state="session")
bench_cap = int(b2.number_input(t("sentiment.bench.cap"), min_value=B.MIN_CAP, max_value=B.MAX_CAP, step=50,
                                key=K("sent_bench_cap"), persist_state="session", help=t("sentiment.bench.help_cap")))
bench_seed = int(b3.number_input(t("sentiment.bench.seed"), min_value=0, max_value=2**31 - 1, step=1,
                                 key=K("sent_bench_seed"), persist_state="session", help=t("sentiment.bench.help_seed")))
summary = B.set_summary(bench_set)
st.caption(t("sentiment.bench.set_caption", name=t(f"sentiment.bench.set.{bench_set}"), rows=f"{summary['rows']:,}",
             dropped=summary["dropped_zero"], kept=f"{summary['kept']:,}", pos=f"{summary['positive']:,}",
             neg=f"{summary['negative']:,}", n=f"{min(bench_cap, summary['kept']):,}", seed=bench_seed))
st.info(t("sentiment.bench.neutral_rule"), icon="⚖️")
if st.button(t("sentiment.bench.button"), key="sent_bench_run", type="primary"):
    st.session_state["sent_bench_on"] = True
if st.session_state.get("sent_bench_on"):
    bench_results = [r for r in (_bench_cell(a, bench_set, bench_cap, bench_seed) for a in approaches) if r is not None]
    if bench_results:
        bench_table = W.table(B.results_frame(bench_results), ui.lang())
        st.caption(t("sentiment.eval.share_caption", share=f"{bench_results[0].true_positive_share:.1%}"))
        ui.data_table(bench_table, key="sent_bench_table", filename=f"sentiment_{bench_set}_evaluation",
                      static=True)  # a few rows, many columns: cells wrap instead of being cut
else:
    st.caption(t("sentiment.bench.hint"))

st.markdown(f"**{t('sentiment.bench.paper_heading')}**")
st.caption(t("sentiment.bench.paper_caption"))
if st.button(t("sentiment.bench.paper_button"), key="sent_bench_paper"):
    st.session_state["sent_bench_paper_on"] = True
if st.session_state.get("sent_bench_paper_on"):
    full = {name: _bench_cell(S.VADER, name, B.MAX_CAP, B.DEFAULT_SEED) for name in B.SETS}
    ui.data_table(W.table(B.paper_frame({n: r for n, r in full.items() if r is not None}), ui.lang()),
                  key="sent_bench_paper_table", filename="sentiment_vader_paper_vs_page", static=True)

st.markdown(f"**{t('sentiment.bench.cross_heading')}**")
st.caption(t("sentiment.bench.cross_caption"))
if st.button(t("sentiment.bench.cross_button"), key="sent_bench_fill"):
    known = _known_cells(bench_cap, bench_seed)
    for name in B.SETS:
        for a in approaches:
            if (a, name) not in known:
                _bench_cell(a, name, bench_cap, bench_seed)
cells = _known_cells(bench_cap, bench_seed)
if cells:
    _cross_domain_table(cells, approaches, key="sent_bench_cross")
st.caption(t("sentiment.bench.cross_explain"))

# ------------------------------------------------------------------ evaluation on the user's labelled CSV
st.subheader(t("sentiment.eval_own.heading"))
st.caption(t("sentiment.eval_own.caption", n=EVAL_MAX))
own_upload = st.file_uploader(t("sentiment.eval_own.upload"), type=["csv"], key="sent_eval_csv")  # i18n: ok (file type)
if own_upload is not None:
    own, own_notices, own_problem = None, [], None
    try:
        own_table = textio.read_csv_bytes(own_upload.getvalue(),
                                          max_bytes=int(float(st.get_option("server.maxUploadSize")) * 1024 * 1024))
        own_notices += [textio_text(n) for n in own_table.notices]
        text_col, label_col, _ = ui.csv_text_column(
            own_table, own_upload, "sent_eval_text_col", t("sentiment.eval_own.text_column"),
            label_key="sent_eval_label_col", label_label=t("sentiment.eval_own.label_column"), persist=False)
        frame, col_notes = textio.column_texts(own_table, text_col, label_col)
        own_notices += [textio_text(n) for n in col_notes]
        own, notes = S.labelled_set(frame)
        own_notices += [notice_text(n) for n in notes]
        if len(own) > EVAL_MAX:
            own_notices.append(t("sentiment.batch.cap", n=len(own), limit=EVAL_MAX))
            own = own.iloc[:EVAL_MAX]
    except textio.InputError as exc:
        own_problem = textio_text(exc)
    except S.SentimentInputError as exc:
        own_problem = notice_text(exc)
    ui.notices(own_notices)
    if own_problem:
        st.warning(own_problem, icon="✏️")
    elif own is not None:
        st.caption(t("sentiment.eval.caption_own", n=len(own), pos=int((own.label == S.POSITIVE).sum()),
                     neg=int((own.label == S.NEGATIVE).sum())))
        if st.button(t("sentiment.eval_own.button"), key="sent_eval_own_run", type="primary"):
            st.session_state["sent_eval_own_on"] = True
        if st.session_state.get("sent_eval_own_on"):
            own_texts, own_labels = tuple(own["text"]), tuple(own["label"])

            def _own(approach, key):
                with st.spinner(t("sentiment.eval.spinner", approach=long_name(approach), n=len(own_texts))):
                    return ui.run_guarded(_evaluation_own, approach, key, dataclasses.astuple(settings), data_hash,
                                          own_texts, own_labels)

            own_evals = _run_evaluations(_own)
            if own_evals:
                render_evaluation(own_evals, list(own_labels), key="sent_eval_own", x_title=t("sentiment.chart.accuracy_own"))
