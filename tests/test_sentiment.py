"""Sentiment components on the bundled models with real numbers, the Hub classifier on a tiny
random DistilBERT through the real loader, and AppTest of the Sentiment page."""
from __future__ import annotations

import json

import numpy as np
import pytest

from components import sentiment as S
from components.messages import Message, render
from components.sentiment import prompting as SP
from components.sentiment import vader as SV


# --------------------------------------------------------------------------- VADER
def test_vader_matches_library_and_signs():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    direct = SentimentIntensityAnalyzer()
    cases = {
        "The food was great and the staff were wonderful!": S.POSITIVE,
        "This was a terrible, awful experience.": S.NEGATIVE,
        "The movie was not good.": S.NEGATIVE,
        "The package arrived on Tuesday.": S.NEUTRAL,
    }
    for text, expected in cases.items():
        res = S.vader_sentiment(text)
        ref = direct.polarity_scores(text)
        assert res.extra["compound"] == ref["compound"]
        assert res.scores == {S.NEGATIVE: ref["neg"], S.NEUTRAL: ref["neu"], S.POSITIVE: ref["pos"]}
        assert res.label == expected, (text, ref)
        # VADER's own per-word valences add up to the library's scores
        _, scores = S.vader_word_valences(text)
        assert scores == ref
    assert S.vader_sentiment("I love it").extra["compound"] > 0.5
    # negation flips the lexicon valence of "good" (VADER multiplies by -0.74)
    valences = dict(S.vader_word_valences("The movie was not good")[0])
    assert valences["good"] < 0
    # occlusion: removing "wonderful" lowers the compound score -> positive weight
    weights = {w: v for w, v, _ in S.vader_sentiment("The staff were wonderful").attribution}
    assert weights["wonderful"] > 0.3 and abs(weights["The"]) < 1e-9


def test_vader_valences_on_the_words_as_typed():
    """VADER strips edge punctuation (``<b>great</b>`` -> ``b>great</b``) and spells out emoji;
    the page shows its valences on the words as typed, summed per typed word."""
    from vaderSentiment.vaderSentiment import SentiText

    text = "<b>x</b> is GREAT!! 🎉so not bad"
    tokens, _ = S.vader_word_valences(text)
    assert "b>x</b" in [w for w, _ in tokens]  # VADER's own token
    words, aligned = S.vader_valences_by_word(text)
    assert aligned and [w for w, _, _ in words] == text.split()
    assert [sp for _, _, sp in words] == [False] + [True] * (len(words) - 1)
    # the emoji word carries the sum of its description's valences ("party popper" + "so")
    emoji_tokens = SentiText(SV._vader_clean(S.vader_analyzer(), "🎉so")).words_and_emoticons
    assert len(emoji_tokens) >= 2
    assert sum(v for _, v, _ in words) == pytest.approx(sum(v for _, v in tokens))
    assert dict((w, v) for w, v, _ in words)["GREAT!!"] > 0
    assert dict((w, v) for w, v, _ in words)["bad"] > 0  # negated by "not": flipped to positive


def test_occlusion_units_keep_the_text_as_typed():
    text = "这家菜很好吃。 Nice  day"
    units = S.units_of(text)
    assert [text[a:b] for a, b, _ in units] == ["这", "家", "菜", "很", "好", "吃", "。", "Nice", "day"]
    assert [sp for _, _, sp in units] == [False] * 7 + [True, True]
    # removing a character inside Chinese does not merge its neighbours with the next word
    assert S.without_unit(text, 6, 7) == "这家菜很好吃 Nice  day"
    assert S.without_unit(text, 8, 12) == "这家菜很好吃。 day"
    assert S.without_unit(text, 14, 17) == "这家菜很好吃。 Nice"
    seen = []
    weights, notices = S.occlusion(text, lambda ts: seen.extend(ts) or [len(x) for x in ts], max_words=3)
    assert seen[0] == text and len(seen) == 4 and notices[0].code == "sentiment.notice.occlusion_cut"
    assert weights[0] == ("这", 1.0, False) and weights[-1] == ("day", 0.0, True)


# --------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    with pytest.raises(S.SentimentInputError, match="empty"):
        S.check_text("   \n\t ")
    try:
        S.check_text("")
    except S.SentimentInputError as exc:
        assert exc.message.code == "sentiment.error.empty"
    with pytest.raises(S.SentimentInputError, match=r"\{text\}"):
        S.check_template("Classify this review:")
    text, notices = S.check_text("a" * (S.MAX_CHARS + 10))
    assert len(text) == S.MAX_CHARS and notices[0].code == "sentiment.notice.chars_cut"
    assert "20,000" in render(notices[0], "en") and "20,000" in render(notices[0], "zh")


def test_calibration_moves_towards_the_biased_against_label():
    # a prompt biased towards "positive" (content-free input gets 0.8 positive)
    p = np.array([[0.3, 0.7], [0.6, 0.4]])
    p_cf = np.array([0.2, 0.8])
    cal = S.calibrate(p, p_cf)
    np.testing.assert_allclose(cal.sum(axis=1), 1.0)
    assert (cal[:, 1] < p[:, 1]).all()  # positive bias divided out
    # by hand: [0.3/0.2, 0.7/0.8] = [1.5, 0.875] -> 0.875 / 2.375
    assert cal[0, 1] == pytest.approx(0.875 / 2.375)
    # the content-free input itself becomes uniform
    np.testing.assert_allclose(S.calibrate(p_cf, p_cf), [0.5, 0.5])


# --------------------------------------------------------------------------- MiniLM head
@pytest.fixture(scope="module")
def head(minilm):
    return S.train_head(minilm)


def test_head_held_out_accuracy(minilm, head):
    ev = S.evaluate(S.HEAD, minilm, head)
    test = S.load_dataset("test")
    train = S.load_dataset("train")
    assert not set(test.text) & set(train.text)  # held out: no overlap with training rows
    assert ev.n == len(test) >= 150
    assert ev.confusion.to_numpy().sum() == ev.n
    assert ev.accuracy == pytest.approx(np.trace(ev.confusion.to_numpy()) / ev.n)
    assert ev.accuracy >= 0.85, ev.confusion
    # reproducible: same seed, same data -> same weights
    again = S.train_head(minilm)
    np.testing.assert_allclose(again.classifier.coef_, head.classifier.coef_, rtol=1e-6, atol=1e-8)


def test_head_single_text_occlusion_and_truncation(minilm, head):
    res = S.head_sentiment(minilm, head, "The hotel was wonderful and the staff were friendly.")
    assert res.label == S.POSITIVE and sum(res.scores.values()) == pytest.approx(1.0)
    weights = {w: v for w, v, _ in res.attribution}
    assert weights["wonderful"] > 0
    assert len(res.attribution) == len(S.units_of("The hotel was wonderful and the staff were friendly."))
    long = " ".join(["The service was slow."] * 80)  # > 256 MiniLM tokens
    res_long = S.head_sentiment(minilm, head, long, attribution=False)
    assert any("truncated" in str(n) and "256" in str(n) for n in res_long.notices)


# --------------------------------------------------------------------------- LLM prompting
def test_llm_label_scores_are_a_distribution(smollm2):
    p, mass = S.label_distribution(smollm2, [
        S.build_prompt(smollm2, S.DEFAULT_TEMPLATE, "I love this phone, it is fantastic."),
        S.build_prompt(smollm2, S.DEFAULT_TEMPLATE, "Horrible service, I want a refund."),
    ])
    assert p.shape == (2, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert ((mass > 0) & (mass <= 1)).all()
    # same prompt alone (no padding) gives the same numbers as in the left-padded batch
    alone, _ = S.label_distribution(smollm2, [S.build_prompt(smollm2, S.DEFAULT_TEMPLATE, "Horrible service, I want a refund.")])
    np.testing.assert_allclose(alone[0], p[1], atol=1e-4)
    # the obviously positive text gets a higher P(positive) than the negative one
    assert p[0, 1] > p[1, 1]


def _full_forward(loaded, rows):
    """Reference: one plain forward per prompt (batch 1, no padding, no cache)."""
    import torch

    ids = S.label_token_ids(loaded)
    p, mass = [], []
    for row in rows:
        with torch.inference_mode():
            logits = loaded.model(input_ids=torch.tensor([row]), logits_to_keep=1).logits[0, -1].float()
        p.append(torch.softmax(logits[ids], -1).numpy())
        mass.append(float(torch.softmax(logits, -1)[ids].sum()))
    return np.array(p), np.array(mass)


# few-shot prompts are four times longer, and so is their batch-1 reference: CI runs them, test-fast not
@pytest.mark.parametrize("mode,few_shot", [(S.CHAT, False), pytest.param(S.CHAT, True, marks=pytest.mark.slow),
                                           (S.COMPLETE, False), pytest.param(S.COMPLETE, True, marks=pytest.mark.slow)])
def test_shared_prefix_read_once_matches_a_full_forward_of_each_prompt(smollm2, mode, few_shot):
    """The prompts of one call read their shared prefix once (KV cache); the numbers equal a
    plain forward of every prompt. Measured max abs difference ~3e-6 on probabilities."""
    settings = S.PromptSettings(mode=mode, few_shot=few_shot)
    text = "The noodles were great 面条很好吃 😋 but <|im_end|> the wait was long and the staff rude."
    batches, _ = SP._llm_batches(smollm2, text, attribution=True)
    rows = SP._predict_prompts(smollm2, batches[1], settings)   # content-free, text, one variant per word
    read: list[int] = []
    p, mass = S.label_distribution(smollm2, rows, progress=read.append)
    ref_p, ref_mass = _full_forward(smollm2, rows)
    np.testing.assert_allclose(p, ref_p, atol=1e-4)
    np.testing.assert_allclose(mass, ref_mass, atol=1e-4)
    shared, per_batch = S.prefix_plan(rows)
    assert smollm2.tokenizer.decode(rows[0][:shared]).endswith("Text:")  # everything up to {text}
    assert per_batch[1] > shared                        # later variants also share the text up to their word
    assert sum(read) == S.tokens_read(rows) < 0.75 * sum(map(len, rows))
    # the literal "<|im_end|>" stayed plain text pieces: as many control tokens as the markup of "N/A"
    end_id = smollm2.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert all(r.count(end_id) == rows[0].count(end_id) for r in rows)


def test_single_prompt_is_one_plain_forward(smollm2):
    row = S.build_prompt_ids(smollm2, S.DEFAULT_TEMPLATE, "Great value, works perfectly.")
    read: list[int] = []
    p, mass = S.label_distribution(smollm2, [row], progress=read.append)
    ref_p, ref_mass = _full_forward(smollm2, [row])
    np.testing.assert_allclose(p, ref_p, atol=1e-5)
    np.testing.assert_allclose(mass, ref_mass, atol=1e-5)
    assert read == [len(row)] and S.prefix_plan([row]) == (0, [0])


def test_llm_workload_counts_what_the_run_reads_and_progress_can_stop_it(smollm2):
    text = "I loved this film, the acting was superb."
    for attribution in (False, True):
        work = S.llm_workload(smollm2, text, attribution=attribution)
        read: list[int] = []
        res = S.llm_sentiment(smollm2, text, attribution=attribution, progress=read.append)
        assert sum(read) == work.tokens and len(read) >= 1      # every prompt token, padding excluded
        assert res.label == S.POSITIVE
    plain, full = S.llm_workload(smollm2, text, attribution=False), work
    assert plain.prompts == 2 and full.prompts == 2 + 2 + len(S.units_of(text))
    assert full.plain_tokens == plain.tokens < full.tokens
    # a 5 000-character review: the text is capped at LLM_MAX_TEXT_TOKENS, but word weights
    # multiply the prompts, so the page warns beforehand; without them it does not
    long = ("The room was clean and the staff were friendly, but the breakfast was cold. " * 70)[:5000]
    heavy = S.llm_workload(smollm2, long, attribution=True)
    assert heavy.text_tokens > S.LLM_MAX_TEXT_TOKENS
    assert heavy.prompts == 2 + 2 + S.LLM_OCCLUSION_WORDS
    assert heavy.tokens >= S.LONG_RUN_TOKENS > heavy.plain_tokens
    # an exception raised by the progress callback stops the run after that batch
    calls = []

    def stop(n):
        calls.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        S.llm_sentiment(smollm2, text, attribution=True, progress=stop)
    assert len(calls) == 1


def test_llm_batch_workload_counts_what_the_batch_reads(smollm2):
    texts = ["Great value, works perfectly.", "今天的天气很好。", "Broke after a week " * 200]
    work = S.llm_batch_workload(smollm2, texts)
    read: list[int] = []
    labels, _, _ = S.llm_predict(smollm2, texts, progress=read.append)
    assert sum(read) == work.tokens == work.plain_tokens and work.prompts == len(texts) + 1
    assert work.text_tokens > S.LLM_MAX_TEXT_TOKENS      # the long row, counted before its cut
    assert labels[0] == S.POSITIVE


def test_llm_calibration_and_few_shot(smollm2):
    text = "The concert was amazing and the crowd was fantastic."
    settings = S.PromptSettings(calibrate=True, few_shot=True, mode=S.COMPLETE)
    res = S.llm_sentiment(smollm2, text, settings, attribution=False)
    ex = res.extra
    expected = S.calibrate(np.array([ex["uncalibrated"][S.NEGATIVE], ex["uncalibrated"][S.POSITIVE]]),
                           np.array([ex["content_free"][S.NEGATIVE], ex["content_free"][S.POSITIVE]]))
    assert ex["calibrated"][S.POSITIVE] == pytest.approx(expected[1])
    # direction: calibration lowers P(positive) exactly when "N/A" already leaned positive
    moved_up = ex["calibrated"][S.POSITIVE] > ex["uncalibrated"][S.POSITIVE]
    assert moved_up == (ex["content_free"][S.POSITIVE] < 0.5)
    assert res.p_positive == pytest.approx(ex["calibrated"][S.POSITIVE])
    assert ex["prompt"].count("Sentiment:") == len(S.FEW_SHOT_EXAMPLES) + 1
    assert ex["prompt"].rstrip().endswith("Sentiment:")
    chat = S.build_prompt(smollm2, S.DEFAULT_TEMPLATE, text, few_shot=False, mode=S.CHAT)
    assert chat.startswith("<|im_start|>") and chat.endswith("<|im_start|>assistant\nSentiment:")
    assert text in chat
    few = S.build_prompt(smollm2, S.DEFAULT_TEMPLATE, text, few_shot=True, mode=S.CHAT)
    assert few.count("<|im_start|>assistant") == len(S.FEW_SHOT_EXAMPLES) + 1  # one turn per example
    assert few.count("Sentiment: positive") == 2 and few.endswith("Sentiment:")
    with pytest.raises(S.SentimentInputError):
        S.llm_sentiment(smollm2, text, S.PromptSettings(template="no placeholder"))


def test_llm_occlusion_sign(smollm2):
    res = S.llm_sentiment(smollm2, "The food was excellent.", S.PromptSettings(calibrate=True))
    weights = {w: v for w, v, _ in res.attribution}
    assert set(weights) == {"The", "food", "was", "excellent."}
    assert weights["excellent."] > 0
    assert weights["excellent."] == max(weights.values())


def test_llm_skips_occlusion_on_long_paste_like_the_others(smollm2):
    """The character limit for word weights applies to the text as pasted, not to the
    token-capped prefix the LLM reads: no occlusion forwards on a paste over the limit."""
    text = "The food was excellent. " * (S.OCCLUSION_MAX_CHARS // 24 + 10)
    res = S.llm_sentiment(smollm2, text)
    codes = [n.code for n in res.notices]
    assert "sentiment.notice.occlusion_skipped" in codes
    assert all(v == 0.0 for _, v, _ in res.attribution)
    skipped = {n.code: n.params for n in res.notices}["sentiment.notice.occlusion_skipped"]
    assert skipped["chars"] == f"{len(text.strip()):,}"  # the whole text (as checked), not the cut
    # coverage on the same basis as VADER and MiniLM: the whole text, not the cut prefix
    assert res.coverage["total"] == len("".join(text.split()))
    cut = {n.code: n.params for n in res.notices}["sentiment.notice.cut_by_app"]
    assert cut["limit"] == S.LLM_MAX_TEXT_TOKENS and cut["chars"] == f"{len(text.strip()):,}"
    assert int(cut["read"].replace(",", "")) < len(text.strip())
    assert "app's cap" in str(Message("sentiment.notice.cut_by_app", cut))


# --------------------------------------------------------------------------- Hub classifier (tiny)
def test_sst2_tiny_distilbert_through_loader(tmp_path, as_local_model):
    from components.catalog import get_spec
    from components.loading import load_model
    from tests.tiny_models import make_tiny_bert

    path = make_tiny_bert(tmp_path / "sst2", head="distilbert-cls")
    as_local_model("distilbert-sst2", path)
    loaded = load_model(get_spec("distilbert-sst2"))
    assert loaded.source.kind == "local"
    res = S.sst2_sentiment(loaded, "I love this product, it works great.")
    assert sum(res.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert len(res.attribution) == 7 and res.seconds >= 0
    # longer than the tiny model's 128 positions: truncated with a notice, still scores
    long = S.sst2_sentiment(loaded, "great " * 300, attribution=False)
    assert any("truncated" in str(n) for n in long.notices)
    ev = S.evaluate(S.SST2, loaded)
    assert ev.n == len(S.load_dataset("test")) and 0 <= ev.accuracy <= 1


def test_hub_model_unavailable_message():
    from components.catalog import get_spec
    from components.loading import ModelUnavailableError, load_model

    with pytest.raises(ModelUnavailableError, match="not available here"):
        load_model(get_spec("distilbert-sst2"))


def test_charts_escape_text():
    import pandas as pd

    from components import charts_sentiment as C

    fig = C.confusion_heatmap(pd.DataFrame([[1, 2], [3, 4]], index=["<b>x</b>", "y"], columns=["<b>x</b>", "y"]),
                              title="<script>")
    assert fig.data[0].y[0] == "&lt;b&gt;x&lt;/b&gt;"
    assert "<script>" not in fig.layout.title.text
    bars = C.probability_bars({"negative": 0.25, "positive": 0.75})
    assert list(bars.data[0].x) == [0.25, 0.75]


# --------------------------------------------------------------------------- page (AppTest)
PAGE = "app_pages/sentiment.py"


def _open(app):
    at = app
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at, kind):
    return [e.value for e in getattr(at, kind)]


def test_page_single_text_and_bad_inputs(app):
    at = _open(app)
    # default example: every bundled approach gives a label; offline, the Hub model starts
    # switched off (no red box on a first visit) and explains itself when switched on
    labels = [m.value for m in at.metric]
    assert len(labels) == 3 and all(v in ("positive", "negative", "neutral") for v in labels)
    assert at.toggle(key="p_sent_hub").value is False and not _texts(at, "error")
    at.toggle(key="p_sent_hub").set_value(True).run()
    assert any("not available here" in e for e in _texts(at, "error"))
    assert [m.value for m in at.metric] == labels
    assert len(at.get("plotly_chart")) >= 4
    html = "".join(m.value for m in at.markdown)
    assert S.ATTRIBUTION_METHOD in html

    # user text is shown literally / escaped
    at.text_area(key="p_sent_text").set_value("<b>great</b> ** not bold ** product").run()
    assert not at.exception
    html = "".join(m.value for m in at.markdown)
    assert "&lt;b&gt;great&lt;/b&gt;" in html and "<b>great</b>" not in html
    at.toggle(key="p_sent_attr").set_value(False)  # occlusion costs one pass per word: off from here

    # empty / whitespace text: a message, the text area keeps what was typed
    at.text_area(key="p_sent_text").set_value("   \n  ").run()
    assert not at.exception
    assert any("empty" in w for w in _texts(at, "warning"))
    assert at.text_area(key="p_sent_text").value == "   \n  "

    # text over the token limit: truncation notice
    at.text_area(key="p_sent_text").set_value("The room was clean and quiet. " * 45).run()
    assert not at.exception
    assert any("truncated" in i and "256" in i for i in _texts(at, "info"))

    # template without {text}: message, template kept, prompting column skipped
    at.text_area(key="p_sent_text").set_value("Lovely staff.").run()
    at.text_area(key="p_sent_template").set_value("Is this positive?").run()
    assert not at.exception
    assert any("{text}" in w for w in _texts(at, "warning"))
    assert at.text_area(key="p_sent_template").value == "Is this positive?"
    assert len(at.metric) == 2


def test_page_batch_csv_bad_inputs(app):
    from streamlit import config

    at = _open(app)
    at.toggle(key="p_sent_hub").set_value(False)
    at.radio(key="p_sent_input").set_value("lines").run()
    assert any("empty" in w for w in _texts(at, "warning"))  # nothing typed yet
    at.text_area(key="p_sent_lines").set_value("I loved it.\n\n   \nIt broke after a day.").run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == 2
    assert any("blank line" in i for i in _texts(at, "info"))
    assert at.get("download_button")

    at.radio(key="p_sent_input").set_value("csv").run()
    up = at.file_uploader(key="sent_csv")
    # not UTF-8 (cp1252 bytes) + BOM-free: fallback notice
    up.set_value(("r.csv", "text\nCaf\xe9 was great\nTerrible caf\xe9\n".encode("cp1252"), "text/csv")).run()
    assert not at.exception
    assert any("not UTF-8" in i for i in _texts(at, "info"))
    df = at.dataframe[0].value
    assert "Café was great" in list(df["text"])

    # BOM + blank cells dropped with a count
    at.file_uploader(key="sent_csv").set_value(
        ("b.csv", b"\xef\xbb\xbfreview,stars\nGreat value,5\n ,3\nAwful,1\n", "text/csv")).run()
    assert not at.exception
    infos = _texts(at, "info")
    assert any("BOM" in i for i in infos) and any("1 row with blank text" in i for i in infos)
    assert at.selectbox(key="p_sent_csv_column").value == "review"

    # the column choice belongs to its file: kept while the same file reruns ...
    at.selectbox(key="p_sent_csv_column").set_value("stars").run()
    at.toggle(key="p_sent_vader").set_value(True).run()
    assert at.selectbox(key="p_sent_csv_column").value == "stars"
    assert at.dataframe[0].value["text"].tolist() == ["5", "3", "1"]
    # ... and a new file starts from its own guess; messages describe the current file only
    at.file_uploader(key="sent_csv").set_value(("c.csv", b"comment,id\nNice,1\n", "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="p_sent_csv_column").value == "comment"
    shown = " ".join(_texts(at, "warning") + _texts(at, "info"))
    assert "stars" not in shown and "review" in shown          # "review": one of the names looked for
    assert any("first column “comment” is read" in i and "“id”" in i for i in _texts(at, "info"))
    at.run()
    assert "stars" not in " ".join(_texts(at, "warning") + _texts(at, "info"))
    at.file_uploader(key="sent_csv").set_value(("d.csv", b"stars,review\n2,Fine\n", "text/csv")).run()
    assert at.selectbox(key="p_sent_csv_column").value == "review"   # not the first file's "stars"
    assert not _texts(at, "warning")

    # over the upload cap
    old = config.get_option("server.maxUploadSize")
    try:
        config.set_option("server.maxUploadSize", 1)
        big = b"text\n" + b"fine product\n" * 90_000
        at.file_uploader(key="sent_csv").set_value(("big.csv", big, "text/csv")).run()
        assert not at.exception
        assert any("limit" in w for w in _texts(at, "warning"))
    finally:
        config.set_option("server.maxUploadSize", old)


def test_page_evaluation_panel(app):
    # the LLM row is skipped (template without {text}) to keep this test fast; the LLM's
    # evaluation is covered by the component tests and bench/sentiment.py
    at = _open(app)
    at.toggle(key="p_sent_hub").set_value(False)
    at.toggle(key="p_sent_attr").set_value(False)
    at.text_area(key="p_sent_template").set_value("no placeholder here").run()
    at.button(key="sent_eval_run").click().run()
    assert not at.exception, at.exception
    from components.i18n import translate

    col_approach, col_acc = translate("en", "sentiment.col.approach"), translate("en", "sentiment.col.accuracy")
    table = next(d.value for d in at.dataframe if col_acc in d.value.columns)
    acc = dict(zip(table[col_approach], table[col_acc]))
    assert acc[S.APPROACH_NAMES[S.HEAD]] >= 0.85
    assert 0.5 < acc[S.APPROACH_NAMES[S.VADER]] < 1
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert sum("held-out accuracy" in t for t in titles) == 1
    specs = [json.loads(t) for t in titles]
    heatmaps = [f for f in specs if f["data"][0]["type"] == "heatmap"]  # one confusion matrix per approach
    assert len(heatmaps) == 2
    assert any("MiniLM + LR" in json.dumps(f["layout"]["title"], ensure_ascii=False) for f in heatmaps)


def test_occlusion_is_skipped_for_long_texts_with_a_notice():
    """A 20 000-character text must not run 49 full re-scorings (no minutes-long request)."""
    from components import sentiment as S

    calls = []

    def score(texts):
        calls.append(len(texts))
        return [0.5] * len(texts)

    long_text = "good " * (S.OCCLUSION_MAX_CHARS // 5 + 10)
    weights, notices = S.occlusion(long_text, score)
    assert calls == [] and all(w == 0.0 for _, w, _ in weights) and len(weights) == long_text.count("good")
    assert notices[0].code == "sentiment.notice.occlusion_skipped"
    weights, notices = S.occlusion("not good at all", score)
    assert calls == [5] and notices == []   # the text + one variant per word


def test_vader_chart_shows_what_decides_the_label():
    """The VADER chart is the compound score against the ±0.05 bands; its colour is the label's,
    while the largest neg/neu/pos proportion can be another label."""
    from components import charts_sentiment as charts

    res = S.vader_sentiment("The package arrived on Tuesday and the staff were friendly.", attribution=False)
    assert res.label == S.POSITIVE and max(res.scores, key=res.scores.get) == S.NEUTRAL  # the old contradiction
    for compound in (res.extra["compound"], 0.05, 0.049, -0.05, -0.3):
        fig = charts.compound_chart(compound, S.VADER_POS_THRESHOLD, S.VADER_NEG_THRESHOLD)
        assert fig.data[0].x == (compound,)
        assert fig.data[0].marker.color == charts.COLOURS[S.vader_label(compound)]
    # saturation with length: same word proportions, larger |compound|
    one, ten = S.vader_sentiment("bad good", False), S.vader_sentiment("bad good " * 10, False)
    assert one.scores == ten.scores
    assert one.extra["compound"] == pytest.approx(-0.1531) and ten.extra["compound"] == pytest.approx(-0.8402)


def test_vader_chart_labels_never_overlap_or_clip():
    """Tick labels are at least 0.25 apart (the ±0.05 band edges printed on top of each other);
    the band width is named once; the value label of a long bar stays inside the axis."""
    from components import charts_sentiment as charts

    for compound in (-1.0, -0.3, 0.0, 0.859, 1.0):
        fig = charts.compound_chart(compound, S.VADER_POS_THRESHOLD, S.VADER_NEG_THRESHOLD,
                                    names={"neutral": "neutral"})
        ticks = sorted(fig.layout.xaxis.tickvals)
        assert min(b - a for a, b in zip(ticks, ticks[1:])) >= 0.25
        assert [a.text for a in fig.layout.annotations].count("neutral ±0.05") == 1
        bar = fig.data[0]
        assert bar.cliponaxis is False
        lo, hi = fig.layout.xaxis.range
        assert lo < -1 and hi > 1
        assert bar.textposition == ("inside" if abs(compound) >= 0.5 else "outside")


def test_labelled_set_normalises_labels_and_evaluation_shows_bias():
    import pandas as pd

    from components import textio

    data = (b"text,label\nI love it,1\nAwful service.,0\nGreat food!,pos\nThe package arrived on Tuesday.,neg\n"
            b"Not sure,maybe\n,positive\nTerrible!,NEGATIVE\n")
    frame, _ = textio.column_texts(textio.read_csv_bytes(data), "text", "label")
    own, notices = S.labelled_set(frame)
    assert own["label"].tolist() == [S.POSITIVE, S.NEGATIVE, S.POSITIVE, S.NEGATIVE, S.NEGATIVE]
    assert notices == [Message("sentiment.eval.dropped_labels", {"n": 1, "values": "'maybe'"})]
    with pytest.raises(S.SentimentInputError) as info:
        S.labelled_set(pd.DataFrame({"row": [1], "text": ["x"], "label": ["meh"]}))
    assert info.value.message.code == "sentiment.eval.no_labels"
    ev = S.evaluate(S.VADER, test=own)
    # VADER calls the neutral negative text "neutral": recall(negative) 2/3, positive 2/2
    assert ev.predictions == [S.POSITIVE, S.NEGATIVE, S.POSITIVE, S.NEUTRAL, S.NEGATIVE]
    assert ev.recall == {S.NEGATIVE: pytest.approx(2 / 3), S.POSITIVE: 1.0}
    assert ev.positive_share == pytest.approx(0.4) and ev.accuracy == pytest.approx(0.8)
    # on the bundled test set: shares and recalls from the confusion matrix
    full = S.evaluate(S.VADER)
    cm = full.confusion
    assert full.recall[S.POSITIVE] == pytest.approx(cm.loc[S.POSITIVE, S.POSITIVE] / 85)
    assert full.positive_share == pytest.approx(cm[S.POSITIVE].sum() / 170)


def test_page_evaluation_on_own_csv(app):
    at = _open(app)
    at.toggle(key="p_sent_hub").set_value(False)
    at.toggle(key="p_sent_head").set_value(False)
    at.toggle(key="p_sent_llm").set_value(False)
    at.toggle(key="p_sent_attr").set_value(False).run()
    data = "review,stars\nI love it,1\nAwful service.,0\nGreat food!,1\nThe package arrived on Tuesday.,0\n<b>x</b>,2\n"
    at.file_uploader(key="sent_eval_csv").set_value(("mine.csv", data.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="sent_eval_text_col").value == "review"
    at.selectbox(key="sent_eval_label_col").set_value("stars").run()
    from components.i18n import translate

    assert "1 row with a label other than" in " ".join(str(m.value) for m in at.info)
    at.button(key="sent_eval_own_run").click().run()
    assert not at.exception, at.exception
    share = translate("en", "sentiment.col.positive_share")
    table = next(d.value for d in at.dataframe if share in d.value.columns and len(d.value) == 1)
    assert table[share].tolist() == ["50.0%"]
    assert table[translate("en", "sentiment.col.recall", label="negative")].tolist() == ["50.0%"]
    assert translate("en", "sentiment.eval.what_set")[:20] in " ".join(str(m.value) for m in at.info)


def test_page_single_and_batch_emoji_not_meaningful(app):
    from components.i18n import translate

    at = _open(app)
    at.toggle(key="p_sent_hub").set_value(False)
    at.toggle(key="p_sent_llm").set_value(False)
    at.toggle(key="p_sent_attr").set_value(False)
    at.text_area(key="p_sent_text").set_value("😡😡").run()
    assert not at.exception, at.exception
    metrics = [m.value for m in at.metric]
    assert metrics == ["Not meaningful", "Not meaningful"]  # VADER (pouting face: no valence) and MiniLM ([UNK])
    warnings = " ".join(_texts(at, "warning"))
    assert "VADER can read only 0%" in warnings and "known tokens (0/2" in warnings
    at.radio(key="p_sent_input").set_value("lines").run()
    at.text_area(key="p_sent_lines").set_value("😡😡\n🎉\nI loved it.").run()
    assert not at.exception, at.exception
    df = at.dataframe[0].value
    head_label = [c for c in df.columns if c.endswith("MiniLM + LR · label")][0]
    assert df[head_label].tolist()[:2] == ["Not meaningful", "Not meaningful"] and df[head_label][2] == "positive"
    vader_known = [c for c in df.columns if c.startswith("Known characters · Rules")][0]
    assert df[vader_known].tolist() == ["0% (0/2)", "100% (1/1)", "100% (9/9)"]
    # the label counts (chart and its table) count the unreadable texts as the results table does
    approach = translate("en", "sentiment.col.approach")
    counts = next(d.value for d in at.dataframe if approach in d.value.columns and "Not meaningful" in d.value.columns)
    for _, row in counts.iterrows():
        label_col = next(c for c in df.columns if c.endswith(f"{row[approach]} · label"))
        shown = df[label_col].value_counts()
        assert {c: int(row[c]) for c in counts.columns if c != approach and row[c]} == shown.to_dict(), (row, shown)
    assert int(counts.loc[counts[approach] == translate("en", "sentiment.approach_short.head"), "Not meaningful"].iloc[0]) == 2
    traces = next(json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart") if "Not meaningful" in c.proto.spec)
    unreadable = next(tr for tr in traces if tr["name"] == "Not meaningful")
    assert unreadable["marker"]["pattern"]["shape"] == "/"  # its own hatched bar, not neutral's
    assert sorted(unreadable["y"]) == sorted(int(v) for v in counts["Not meaningful"])


def test_hub_model_unavailable_markdown_keeps_code_spans():
    """The error box's markdown keeps the app's code spans (no literal backslash-backticks);
    the plain message is unchanged."""
    from components.catalog import get_spec
    from components.loading import ModelUnavailableError, load_model

    with pytest.raises(ModelUnavailableError) as info:
        load_model(get_spec("gpt2"))
    assert "(Hub id `openai-community/gpt2`)" in info.value.markdown
    assert "\\`" not in info.value.markdown
    assert "(Hub id `openai-community/gpt2`)" in str(info.value)


def test_word_chips_show_shortcode_like_words_as_typed():
    """Streamlit rewrites ``:material/`` in markdown source to ``:material_``; the chips'
    HTML never contains it, and the text a browser shows is the word as typed."""
    import html
    import re

    from components import charts_sentiment as charts
    from components import ui

    word = ":material/home: <b>"
    for snippet in (charts.attribution_html([(word, 0.5, False), ("ok", -0.1, True)], title=word),
                    ui.token_chips_html([type("P", (), {"label": word, "raw": word, "token_id": 1})()])):
        rewritten = snippet.replace(":material/", ":material_")  # what the frontend does
        shown = html.unescape(re.sub(r"<[^>]+>", "", rewritten))
        assert word in shown and ":material_" not in shown


def test_page_long_llm_run_is_announced_with_token_counts_and_progress(app, monkeypatch, smollm2):
    from components.i18n import translate

    monkeypatch.setattr(S, "LONG_RUN_TOKENS", 50)      # a short text stands in for a long one
    counted, real_workload = [], S.llm_workload
    monkeypatch.setattr(S, "llm_workload", lambda *a, **k: counted.append(1) or real_workload(*a, **k))
    text = "The battery died after a day and support never answered."
    at = _open(app)
    for name, on in (("sent_vader", False), ("sent_head", False), ("sent_hub", False), ("sent_attr", False),
                     ("sent_llm", True)):
        at.toggle(key=f"p_{name}").set_value(on)
    at.text_area(key="p_sent_text").set_value(text).run()
    assert not at.exception, at.exception
    work = real_workload(smollm2, text, S.PromptSettings(), attribution=False)
    note = translate("en", "sentiment.long_run.note", tokens=f"{work.tokens:,}", prompts=work.prompts,
                     plain=f"{work.plain_tokens:,}")
    assert note in _texts(at, "info")
    bars = [e.proto.text for e in at.get("progress")]
    assert len(bars) == 1 and bars[0].startswith(f"SmolLM2 read {work.tokens:,} prompt tokens in ")
    assert len(at.metric) == 1                            # the LLM's result is shown
    # the same text again comes from the cache: nothing to wait for, so no note and no bar
    n_counted = len(counted)
    at.run()
    assert not at.exception, at.exception
    assert note not in _texts(at, "info") and not at.get("progress")
    assert len(at.metric) == 1
    assert len(counted) == n_counted >= 1                 # the cached rerun counted no workload


def test_page_long_llm_batch_shows_progress_until_cached(app, monkeypatch, smollm2):
    monkeypatch.setattr(S, "LONG_RUN_TOKENS", 50)      # three short lines stand in for many
    counted, real_workload = [], S.llm_batch_workload
    monkeypatch.setattr(S, "llm_batch_workload", lambda *a, **k: counted.append(1) or real_workload(*a, **k))
    lines = ["Great value, works perfectly.", "The battery died after a day.", "Fine, nothing special."]
    at = _open(app)
    for name, on in (("sent_vader", False), ("sent_head", False), ("sent_hub", False), ("sent_llm", True)):
        at.toggle(key=f"p_{name}").set_value(on)
    at.radio(key="p_sent_input").set_value("lines").run()
    at.text_area(key="p_sent_lines").set_value("\n".join(lines)).run()
    assert not at.exception, at.exception
    work = real_workload(smollm2, lines)
    bars = [e.proto.text for e in at.get("progress")]
    assert len(bars) == 1 and bars[0].startswith(f"SmolLM2 read {work.tokens:,} prompt tokens in ")
    assert at.dataframe[0].value.shape[0] == 3
    n_counted = len(counted)
    at.run()                                           # cached: no bar, and no workload tokenised
    assert not at.exception and not at.get("progress") and at.dataframe[0].value.shape[0] == 3
    assert len(counted) == n_counted >= 1


def test_label_count_chart_ticks_whole_texts():
    """A count axis ticks whole numbers: 4 texts do not get a "2.5 texts" tick."""
    import pandas as pd

    from components import charts_sentiment as charts

    small = pd.DataFrame({"a": [S.POSITIVE, S.NEGATIVE, S.POSITIVE, S.NOT_MEANINGFUL]})
    fig = charts.label_distribution(small, {"A": "a"})
    assert fig.layout.yaxis.dtick == 1 and [b.y for b in fig.data] == [(1,), (2,), (1,)]
    big = pd.DataFrame({"a": [S.POSITIVE] * 40})
    assert charts.label_distribution(big, {"A": "a"}).layout.yaxis.dtick is None   # plotly's own whole steps
