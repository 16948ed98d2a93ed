"""Sentiment: rules (VADER) vs data (MiniLM + logistic regression) vs prompting (SmolLM2)
vs a fine-tuned classifier (DistilBERT SST-2, Hub), side by side, with attribution."""
from __future__ import annotations

import codecs
import dataclasses

import pandas as pd
import streamlit as st

from components import charts_sentiment as charts
from components import sentiment as S
from components import textio, ui
from components.catalog import MINILM, SMOLLM2, get_spec
from components.loading import availability

SST2_KEY = "distilbert-sst2"
MAX_BATCH = 200  # texts per batch run (the LLM needs ~0.1-0.5 s per text on CPU)
K = ui.persist_key


def _hub_default() -> bool:
    """The Hub model starts switched on only where it can load (no red box on a first visit offline)."""
    return availability(get_spec("distilbert-sst2")) != "unavailable here"
INPUT_SINGLE, INPUT_LINES, INPUT_CSV = "Single text", "Batch: one text per line", "Batch: CSV upload"
EXAMPLES = {
    "Product review (positive)": "The battery lasts all week and the screen is gorgeous. Best phone I've owned!",
    "Service review (negative)": "We waited an hour for our food and the waiter never apologised.",
    "Negation": "The hotel was not bad at all, and the staff were not unfriendly.",
    "News-like": "Shares fell sharply after the company warned of weaker demand.",
    "Social post with emoji": "Finally finished my thesis 🎉 so happy right now!",
}

st.title("🙂 Sentiment · 情感分析")
st.caption(
    "Four generations of NLP on the same text: hand-written rules, a classifier trained on "
    "labelled data, a prompted language model, and a fine-tuned transformer (Hub)."
)
ui.explainer(
    "What you are seeing · 你看到的是什么",
    """
**Rule-driven → data-driven → prompting · 从规则驱动到数据驱动再到提示**

1. **Rules (VADER)** — people wrote a lexicon of ~7,500 words with a valence each
   (*great* +3.1, *terrible* −2.5) plus rules for negation (*not good*), boosters (*very*),
   *but*, CAPS and "!!!". The score is their sum squashed into [−1, 1]. Transparent, fast,
   but blind to words and phrasings the authors did not foresee. 规则：人工编写词典与规则。
2. **Data-driven (MiniLM + logistic regression)** — a *pre-trained* sentence encoder
   (all-MiniLM-L6-v2, frozen: not changed) turns each text into a 384-number vector; a
   logistic-regression *head* is **fine-tuned** on 300 labelled sentences shipped with the
   app (`data/sentiment/train.csv`). Only the head's 385 weights are trained. 数据驱动：
   预训练编码器 + 在标注数据上训练的小分类头。
3. **Prompting (SmolLM2-135M-Instruct)** — no training at all: the prompt asks the model,
   and we read its next-token probabilities for the words " positive" and " negative".
   This is **prompt engineering**: edit the prompt, add few-shot examples, and watch the
   scores move. Small models are biased towards one label; **contextual calibration**
   (Zhao et al. 2021, *Calibrate before use*) measures that bias on a content-free input
   ("N/A") and divides it out. 提示工程：不训练，只改提示词。
4. **Fine-tuned transformer (DistilBERT SST-2, Hub only)** — the whole network was trained
   on movie-review sentences: pre-training + full fine-tuning. 预训练 + 微调。

**Which words drove the decision?** *Leave-one-out occlusion*: remove one word, re-score,
and colour the word by how much P(positive) dropped (green = the word pushed towards
positive, red = towards negative). For VADER the compound score is used; VADER's own
per-word valences are shown too.

**Evaluation** — accuracy and confusion matrix on 170 held-out sentences
(`data/sentiment/test.csv`) that no approach was trained on.
""",
)

# ------------------------------------------------------------------ cached computations
@st.cache_resource(max_entries=2, show_spinner="Training the logistic-regression head on MiniLM embeddings (300 sentences, first use only)…")
def _head(data_hash: str) -> S.SentimentHead:
    """Head trained once per training-set content (``data_hash`` = sha256 of train.csv)."""
    from components.cache import get_model

    return S.train_head(get_model(MINILM))


def _settings_tuple(settings: S.PromptSettings) -> tuple:
    return dataclasses.astuple(settings)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _single(approach: str, model_key: str | None, text: str, settings: tuple, attribution: bool,
            data_hash: str) -> S.SentimentResult:
    from components.cache import get_model

    if approach == S.VADER:
        return S.vader_sentiment(text, attribution)
    loaded = get_model(model_key)
    if approach == S.HEAD:
        return S.head_sentiment(loaded, _head(data_hash), text, attribution)
    if approach == S.LLM:
        return S.llm_sentiment(loaded, text, S.PromptSettings(*settings), attribution)
    return S.sst2_sentiment(loaded, text, attribution)


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


@st.cache_data(max_entries=16, ttl=6 * 3600, show_spinner=False)
def _evaluation(approach: str, model_key: str | None, settings: tuple, data_hash: str,
                test_hash: str) -> S.Evaluation:
    from components.cache import get_model

    if approach == S.VADER:
        return S.evaluate(S.VADER)
    loaded = get_model(model_key)
    head = _head(data_hash) if approach == S.HEAD else None
    return S.evaluate(approach, loaded, head, S.PromptSettings(*settings))


# ------------------------------------------------------------------ inputs
data_hash = S.dataset_hash()
if K("sent_text") not in st.session_state:
    st.session_state[K("sent_text")] = EXAMPLES["Product review (positive)"]
if K("sent_template") not in st.session_state:
    st.session_state[K("sent_template")] = S.DEFAULT_TEMPLATE
if st.session_state.get(K("sent_mode")) not in (S.COMPLETE, S.CHAT):
    st.session_state[K("sent_mode")] = S.DEFAULT_MODE


def _load_example() -> None:
    choice = st.session_state.get("sent_example")
    if choice in EXAMPLES:
        st.session_state[K("sent_text")] = EXAMPLES[choice]


def _reset_prompt() -> None:
    st.session_state[K("sent_template")] = S.DEFAULT_TEMPLATE
    st.session_state[K("sent_mode")] = S.DEFAULT_MODE


left, right = st.columns([3, 2], gap="large")
with left:
    input_mode = st.radio("Input", [INPUT_SINGLE, INPUT_LINES, INPUT_CSV], key=K("sent_input"), persist_state="session", horizontal=True)
    texts: list[str] = []
    input_notices: list[str] = []
    input_problem: str | None = None
    if input_mode == INPUT_SINGLE:
        st.selectbox("Load an example", ["—", *EXAMPLES], key="sent_example", on_change=_load_example)
        st.text_area("Text to analyse", key=K("sent_text"), persist_state="session", height=110)
    elif input_mode == INPUT_LINES:
        st.text_area("Texts, one per line", key=K("sent_lines"), persist_state="session", height=160,
                     placeholder="I loved it.\nIt broke after a day.")
    else:
        upload = st.file_uploader("CSV file (UTF-8 or Windows-1252; first row = column names)", type=["csv"],
                                  key="sent_csv")
with right:
    include_hub = st.toggle("Include DistilBERT SST-2 (Hub)", key=K("sent_hub"), persist_state="session",
                            value=_hub_default(),
                            help="A fine-tuned transformer downloaded from huggingface.co; unavailable offline.")
    show_attr = st.toggle(f"Which words mattered ({S.ATTRIBUTION_METHOD})", key=K("sent_attr"), persist_state="session", value=True,
                          help="Re-scores the text once per word with that word removed (single text only).")
    with st.expander("Prompt for the language model · 提示词", expanded=False):
        st.radio("Prompt format", [S.COMPLETE, S.CHAT], key=K("sent_mode"), persist_state="session", horizontal=True,
                 format_func=lambda m: {S.COMPLETE: "Plain completion", S.CHAT: "Chat template"}[m])
        st.text_area("Prompt template ({text} is replaced by your text)", key=K("sent_template"), persist_state="session", height=110)
        st.button("Reset prompt", on_click=_reset_prompt, key="sent_reset_prompt")
        few_shot = st.toggle("Few-shot: prepend 4 labelled examples", key=K("sent_fewshot"), persist_state="session", value=False)
        calibrate = st.toggle('Contextual calibration against "N/A"', key=K("sent_calibrate"), persist_state="session", value=False,
                              help="Zhao et al. 2021: divide label probabilities by those the prompt gives a "
                              "content-free input, then renormalise.")

template = st.session_state.get(K("sent_template"), S.DEFAULT_TEMPLATE)
settings = S.PromptSettings(template=template, few_shot=bool(few_shot), calibrate=bool(calibrate),
                            mode=st.session_state.get(K("sent_mode"), S.DEFAULT_MODE))
template_error = None
try:
    S.check_template(template)
except S.SentimentInputError as exc:
    template_error = str(exc)
    st.warning(f"Prompt template: {exc} The prompting column is skipped until then.", icon="✏️")

# ------------------------------------------------------------------ read the input
if input_mode == INPUT_SINGLE:
    try:
        text, input_notices = S.check_text(st.session_state.get(K("sent_text"), ""))
        texts = [text]
    except S.SentimentInputError as exc:
        input_problem = str(exc)
elif input_mode == INPUT_LINES:
    try:
        texts, input_notices = textio.split_lines(st.session_state.get(K("sent_lines"), ""))
    except textio.InputError as exc:
        input_problem = str(exc)
else:
    if upload is None:
        input_problem = "Upload a CSV file with one text per row."
    else:
        data = upload.getvalue()
        max_mb = float(st.get_option("server.maxUploadSize"))
        try:
            table = textio.read_csv_bytes(data, max_bytes=int(max_mb * 1024 * 1024))
            if data.startswith(codecs.BOM_UTF8):
                input_notices.append("The file starts with a UTF-8 byte-order mark (BOM); it was removed.")
            input_notices += table.notices
            columns = table.columns
            chosen = st.session_state.get(K("sent_csv_column"))
            if chosen is not None and chosen not in columns:
                st.warning(
                    f"Column {chosen!r} is not in this file. Columns found: "
                    + ", ".join(repr(c) for c in columns) + ". Pick one below.", icon="🗂️")
                guess = next((c for c in columns if c.lower() in ("text", "review", "sentence")), columns[0])
                st.session_state[K("sent_csv_column")] = guess
            elif chosen is None:
                st.session_state[K("sent_csv_column")] = next(
                    (c for c in columns if c.lower() in ("text", "review", "sentence")), columns[0])
            column = left.selectbox("Column with the texts", columns, key=K("sent_csv_column"), persist_state="session")
            frame, col_notices = textio.column_texts(table, column)
            input_notices += col_notices
            texts = frame["text"].tolist()
        except textio.InputError as exc:
            input_problem = str(exc)

if input_problem:
    st.warning(input_problem, icon="✏️")
    st.stop()
if len(texts) > MAX_BATCH:
    input_notices.append(f"{len(texts)} texts given; only the first {MAX_BATCH} are analysed.")
    texts = texts[:MAX_BATCH]
ui.notices(input_notices)

# ------------------------------------------------------------------ approaches available
approaches: list[tuple[str, str | None]] = [(S.VADER, None), (S.HEAD, MINILM)]
if template_error is None:
    approaches.append((S.LLM, SMOLLM2))
if include_hub:
    approaches.append((S.SST2, SST2_KEY))


def _available(approach: str, key: str | None) -> bool:
    """Load (cached) the approach's model, or show the clear "unavailable" message."""
    if key is None:
        return True
    with st.container():
        return ui.load_or_explain(key) is not None


def _highlight(pieces: list[tuple[str, float]], title: str) -> None:
    if not pieces:
        return
    scale = max(abs(w) for _, w in pieces) or 1.0
    html = ui.highlighted_tokens_html([(w + " ", v / scale) for w, v in pieces], title)
    st.markdown(html, unsafe_allow_html=True)


# ------------------------------------------------------------------ single text
if input_mode == INPUT_SINGLE:
    text = texts[0]
    cols = st.columns(len(approaches), gap="medium")
    for col, (approach, key) in zip(cols, approaches):
        with col:
            st.subheader(S.SHORT_NAMES[approach], divider="gray", help=S.APPROACH_NAMES[approach])
            if not _available(approach, key):
                continue
            result = ui.run_guarded(_single, approach, key, text, _settings_tuple(settings), show_attr, data_hash)
            if result is None:
                continue
            st.metric("Label", result.label,
                      help="VADER: compound ≥ 0.05 positive, ≤ −0.05 negative, else neutral. "
                      "Others: the more probable label.")
            if approach == S.VADER:
                st.plotly_chart(charts.probability_bars(result.scores, value_name="proportion"),
                                key=f"sent_bars_{approach}")
                st.caption(f"Compound score {result.extra['compound']:+.3f} (−1 … +1). "
                           "Bars: VADER's share of negative / neutral / positive words.")
            else:
                st.plotly_chart(charts.probability_bars(result.scores), key=f"sent_bars_{approach}")
            timing = f"⏱ {result.seconds * 1000:.1f} ms"
            if result.attribution:
                timing += f" · occlusion {result.attribution_seconds:.2f} s"
            st.caption(timing)
            ui.notices(result.notices)
            if approach == S.VADER:
                _highlight(result.extra["word_valences"], "VADER's own per-word valences (after its rules)")
            if result.attribution:
                _highlight(result.attribution, f"{S.ATTRIBUTION_METHOD} (compound score)" if approach == S.VADER
                           else f"{S.ATTRIBUTION_METHOD} (drop in P(positive))")
            if approach == S.LLM:
                ex = result.extra
                st.markdown("**Calibration · 校准** (before / after)")
                st.plotly_chart(charts.before_after_bars(ex["uncalibrated"], ex["calibrated"], ex["content_free"]),
                                key="sent_calibration")
                st.caption(
                    f'P(positive) {ex["uncalibrated"]["positive"]:.3f} before → {ex["calibrated"]["positive"]:.3f} '
                    f'after calibration ({"used" if settings.calibrate else "not used"} for the label). '
                    f'For "N/A" the prompt gives P(positive) = {ex["content_free"]["positive"]:.3f}. '
                    f"The two label words hold {ex['label_mass']:.1%} of the next-token probability."
                )
                with st.expander("Exact prompt the model read"):
                    ui.show_literal(ex["prompt"])

# ------------------------------------------------------------------ batch
else:
    st.subheader(f"Batch results · 批量结果 ({len(texts)} texts)")
    table = pd.DataFrame({"text": texts})
    used: dict[str, str] = {}
    timing_rows = []
    for approach, key in approaches:
        if not _available(approach, key):
            continue
        with st.spinner(f"{S.APPROACH_NAMES[approach]} on {len(texts)} texts…"):
            out = ui.run_guarded(_batch, approach, key, tuple(texts), _settings_tuple(settings), data_hash)
        if out is None:
            continue
        labels, p, seconds = out
        name = S.APPROACH_NAMES[approach]
        table[f"{approach}_label"] = labels
        table[f"{approach}_p_positive"] = [round(v, 4) for v in p]
        used[name] = f"{approach}_label"
        timing_rows.append({"approach": name, "seconds": round(seconds, 3),
                            "ms per text": round(1000 * seconds / len(texts), 2)})
    st.dataframe(table, width="stretch", hide_index=True)
    if used:
        st.plotly_chart(charts.label_distribution(table, used), key="sent_label_dist")
        st.dataframe(pd.DataFrame(timing_rows), hide_index=True)
    csv_bytes = table.to_csv(index=False).encode("utf-8")  # served by a callable on click
    st.download_button("Download results (CSV)", lambda: csv_bytes,
                       file_name="sentiment_results.csv", mime="text/csv", key="sent_download")
    st.caption("VADER's p_positive column is (compound + 1) / 2, a rescaled score, not a probability.")

# ------------------------------------------------------------------ evaluation
st.divider()
st.subheader("Evaluation on the held-out set · 评估")
test = S.load_dataset("test")
st.caption(
    f"{len(test)} labelled sentences ({(test.label == S.POSITIVE).sum()} positive, "
    f"{(test.label == S.NEGATIVE).sum()} negative; reviews, social posts, news-like) in "
    "`data/sentiment/test.csv`, written for this project (CC0-1.0) and never used for training. "
    "VADER's 'neutral' counts as wrong. The prompting row uses the prompt settings above."
)
if st.button("Evaluate every approach", key="sent_eval_run", type="primary"):
    st.session_state["sent_eval_on"] = True
if st.session_state.get("sent_eval_on"):
    test_hash = S.dataset_hash(S.TEST_CSV)
    results = []
    for approach, key in approaches:
        if not _available(approach, key):
            continue
        with st.spinner(f"Evaluating {S.APPROACH_NAMES[approach]} on {len(test)} texts…"):
            ev = ui.run_guarded(_evaluation, approach, key, _settings_tuple(settings), data_hash, test_hash)
        if ev is not None:
            results.append(ev)
    if results:
        rows = []
        for ev in results:
            row = {"approach": S.APPROACH_NAMES[ev.approach], "accuracy": round(ev.accuracy, 3),
                   "ms per text": round(ev.seconds_per_text * 1000, 2)}
            if ev.approach == S.LLM:
                row["note"] = (f"uncalibrated {ev.extra['accuracy_uncalibrated']:.3f} · "
                               f"calibrated {ev.extra['accuracy_calibrated']:.3f}")
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="sent_eval_table")
        st.plotly_chart(charts.accuracy_bars([(S.APPROACH_NAMES[e.approach], e.accuracy) for e in results]),
                        key="sent_eval_acc")
        cm_cols = st.columns(len(results))
        for col, ev in zip(cm_cols, results):
            with col:
                st.plotly_chart(charts.confusion_heatmap(ev.confusion, S.SHORT_NAMES[ev.approach]),
                                key=f"sent_cm_{ev.approach}")
else:
    st.caption("Click to run. VADER and the head take seconds; the language model needs one forward pass "
               "per text (minutes on a busy CPU; few-shot prompts are ~5x longer). Results are cached.")
