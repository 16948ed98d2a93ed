"""Classification: zero-shot (MiniLM similarity, NLI), train-your-own head, charts, page.

Real numbers on the bundled MiniLM; a tiny NLI-style BERT built here goes through the same
loader as the Hub ids (operator local-directory source)."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from components import classification as C
from components.i18n import translate
from components.textio import InputError


def en(key: str, **values) -> str:
    """An English UI string of this page (``classification.<key>``)."""
    return translate("en", f"classification.{key}", **values)

SPORTS = "The striker scored twice and the team won the cup final in extra time."
LABELS = ["politics", "sports", "technology", "food"]


# ------------------------------------------------------------------ label parsing / template
@pytest.mark.parametrize("raw, expected, notice", [
    ("sports, politics", ["sports", "politics"], None),
    ("  sports ,politics  ,", ["sports", "politics"], "empty label"),
    ("sports, , ,food", ["sports", "food"], "empty label"),
    ("sports, Sports, SPORTS , food", ["sports", "food"], "Dropped as duplicates"),
    ("sports", ["sports"], None),
    (", ".join(f"label{i}" for i in range(25)), [f"label{i}" for i in range(20)], "only the first 20"),
])
def test_parse_labels(raw, expected, notice):
    labels, notices = C.parse_labels(raw)
    assert labels == expected
    if notice is None:
        assert notices == []
    else:
        assert any(notice in str(n) for n in notices), notices


@pytest.mark.parametrize("raw", ["", "   ", ",", ",, ,  ,"])
def test_parse_labels_empty_raises(raw):
    with pytest.raises(InputError, match="No labels"):
        C.parse_labels(raw)


@pytest.mark.parametrize("template, ok", [
    ("This text is about {}.", True),
    ("{}", True),
    ("This text is about sports.", False),
    ("{} or {}", False),
    ("About {label}.", False),
    ("", False),
])
def test_check_template(template, ok):
    if ok:
        assert C.check_template(template) == template
    else:
        with pytest.raises(InputError, match=r"\{\}"):
            C.check_template(template)


# ------------------------------------------------------------------ zero-shot similarity
def test_similarity_ranks_sports_first_and_single_label_sums_to_one(minilm):
    result = C.zero_shot_similarity(minilm, [SPORTS, "Simmer the onions in butter until soft."], LABELS)
    s = result.scores
    assert not result.multi_label
    top = s[s["rank"] == 1].set_index("text_id")["label"]
    assert top[0] == "sports" and top[1] == "food"
    sums = s.groupby("text_id")["score"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-9)
    # the score is softmax(cos / T) of the cosine between the unit embeddings
    emb_t = minilm.sentence_model.encode([SPORTS], normalize_embeddings=True)
    emb_h = minilm.sentence_model.encode([f"This text is about {l}." for l in LABELS], normalize_embeddings=True)
    cos = (emb_t @ emb_h.T)[0]
    np.testing.assert_allclose(s[s["text_id"] == 0]["raw"].to_numpy(), cos, atol=1e-5)
    expected = np.exp(cos / C.SIMILARITY_TEMPERATURE) / np.exp(cos / C.SIMILARITY_TEMPERATURE).sum()
    np.testing.assert_allclose(s[s["text_id"] == 0]["score"].to_numpy(), expected, atol=1e-5)
    wide = result.wide()
    assert list(wide.columns) == ["text", "top_label", "top_score", *[f"p({l})" for l in LABELS]]
    clash = C.zero_shot_similarity(minilm, [SPORTS], ["text", "sports"]).wide()
    assert clash["text"].item() == SPORTS and clash["top_label"].item() == "sports"
    assert wide["top_label"].tolist() == ["sports", "food"]


def test_similarity_multi_label_independent(minilm):
    text = "The football club launched a mobile app that streams every match."
    result = C.zero_shot_similarity(minilm, [text], LABELS, multi_label=True)
    s = result.scores.set_index("label")
    assert result.multi_label and "independent" in str(result.semantics)
    assert ((s["score"] >= 0) & (s["score"] <= 1)).all()
    expected = 1 / (1 + np.exp(-(s["raw"] - C.MULTI_LABEL_BIAS) / C.SIMILARITY_TEMPERATURE))
    np.testing.assert_allclose(s["score"].to_numpy(), expected.to_numpy(), atol=1e-9)
    assert abs(s["score"].sum() - 1.0) > 0.05          # not a distribution
    assert s.loc["sports", "score"] > s.loc["politics", "score"]
    # a label's multi-label probability does not depend on the other labels
    alone = C.zero_shot_similarity(minilm, [text], ["sports"], multi_label=True).scores["score"].iloc[0]
    assert alone == pytest.approx(s.loc["sports", "score"], abs=1e-5)


def test_one_label_is_independent_not_a_share(minilm):
    result = C.zero_shot_similarity(minilm, ["Knead the dough and bake the bread."], ["sports"])
    assert result.multi_label
    assert any("not a share" in str(n) for n in result.notices)
    assert result.scores["score"].iloc[0] < 0.5        # food text, "sports" does not apply


def test_long_text_truncated_with_notice(minilm):
    long = "The goalkeeper saved the penalty. " * 120        # ~720 tokens
    result = C.zero_shot_similarity(minilm, ["Short text about food.", long], LABELS)
    notes = " ".join(map(str, result.notices))
    assert "256-token limit" in notes and "#2" in notes and "truncate" in notes and "#1 " not in notes
    assert result.wide()["top_label"].iloc[1] == "sports"


def test_unreadable_labels_are_named_and_their_tie_is_reported(minilm):
    # MiniLM's WordPiece vocabulary maps each of these emoji to [UNK]: same hypothesis tokens
    result = C.zero_shot_similarity(minilm, ["I love this so much!"], ["😀", "😡", "🤷"])
    s = result.scores
    assert s["raw"].nunique() == 1 and s["score"].to_numpy() == pytest.approx([1 / 3] * 3)
    unread = [n for n in result.notices if n.code == "classification.msg.labels_unreadable"]
    assert len(unread) == 1 and unread[0].params["n"] == 3
    assert all(e in unread[0].params["labels"] for e in ("😀", "😡", "🤷"))
    assert C.top_ties(s) == {0: ["😀", "😡", "🤷"]}
    tie = C.tie_message(s, 0, 1)
    assert tie.code == "classification.msg.tie" and tie.params["score"] == "0.3333"
    # a readable label wins; the two unreadable ones still tie with each other, below it
    mixed = C.zero_shot_similarity(minilm, ["I love this so much!"], ["happy", "😀", "😡"])
    assert [n.params["labels"] for n in mixed.notices if n.code.endswith("labels_unreadable")] == ["'😀', '😡'"]
    assert C.top_ties(mixed.scores) == {} and C.tie_message(mixed.scores, 0, 1) is None
    readable = C.zero_shot_similarity(minilm, [SPORTS], LABELS)
    assert not [n for n in readable.notices if n.code.endswith("labels_unreadable")]
    assert C.top_ties(readable.scores) == {}


def test_empty_text_raises(minilm):
    with pytest.raises(InputError, match="empty"):
        C.zero_shot_similarity(minilm, ["   ", "\n"], LABELS)


# ------------------------------------------------------------------ NLI through the real loader
@pytest.fixture(scope="module")
def tiny_nli_dir(tmp_path_factory):
    """Tiny NLI-style BERT with the typeform label order (ENTAILMENT first), weights re-drawn with
    a larger spread so that logits differ between hypotheses."""
    import torch
    from transformers import BertForSequenceClassification

    from tests.tiny_models import make_tiny_bert

    path = make_tiny_bert(tmp_path_factory.mktemp("tiny-nli"), head="nli",
                          labels=("ENTAILMENT", "NEUTRAL", "CONTRADICTION"))
    model = BertForSequenceClassification.from_pretrained(path)
    torch.manual_seed(1)
    with torch.no_grad():
        for _name, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.3)
    model.save_pretrained(path)
    return path


def test_nli_zero_shot_matches_pipeline_maths(tiny_nli_dir, as_local_model):
    import torch

    from components.catalog import get_spec
    from components.loading import load_model

    as_local_model("distilbert-mnli", tiny_nli_dir)
    loaded = load_model(get_spec("distilbert-mnli"))
    assert loaded.source.kind == "local"
    assert C.nli_label_ids(loaded.model.config) == (0, 2)
    texts = ["The team won the football match.", "The weather today is lovely."]
    labels = ["sports", "weather", "food"]
    single = C.zero_shot_nli(loaded, texts, labels)
    multi = C.zero_shot_nli(loaded, texts, labels, multi_label=True)

    with torch.inference_mode():
        logits = np.stack([
            np.stack([
                loaded.model(**loaded.tokenizer(t, f"This text is about {l}.", return_tensors="pt"))
                .logits[0].numpy() for l in labels
            ]) for t in texts
        ])                                                     # (texts, labels, 3)
    entail = logits[..., 0]
    by_hand_single = np.exp(entail) / np.exp(entail).sum(axis=1, keepdims=True)
    by_hand_multi = np.exp(logits[..., 0]) / (np.exp(logits[..., 0]) + np.exp(logits[..., 2]))
    assert np.ptp(entail) > 0.05                               # the check is not vacuous

    got_single = single.scores.pivot(index="text_id", columns="label", values="score")[labels].to_numpy()
    got_multi = multi.scores.pivot(index="text_id", columns="label", values="score")[labels].to_numpy()
    np.testing.assert_allclose(got_single, by_hand_single, atol=1e-5)
    np.testing.assert_allclose(got_single.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(got_multi, by_hand_multi, atol=1e-5)
    assert ((got_multi >= 0) & (got_multi <= 1)).all()


def test_nli_label_ids_variants():
    from types import SimpleNamespace

    bart = SimpleNamespace(label2id={"contradiction": 0, "neutral": 1, "entailment": 2}, num_labels=3)
    assert C.nli_label_ids(bart) == (2, 0)
    # no "contradiction" name: the pipeline's rule (0, or the last index when entailment is 0)
    two = SimpleNamespace(label2id={"Entailment": 0, "not_entailment": 1}, num_labels=2)
    assert C.nli_label_ids(two) == (0, 1)
    with pytest.raises(InputError, match="entailment"):
        C.nli_label_ids(SimpleNamespace(label2id={"NEGATIVE": 0, "POSITIVE": 1}, num_labels=2))


# ------------------------------------------------------------------ train your own
@pytest.fixture(scope="module")
def topics_head(minilm):
    return C.train_head(minilm, C.load_example_set("topics"))


def test_train_head_on_shipped_set(minilm, topics_head):
    r = topics_head
    assert r.folds == 5 and r.n_examples == 60
    assert r.classes == ["food", "politics", "sports", "technology"]
    assert r.cv_accuracy is not None and r.cv_accuracy >= 0.8      # measured: 1.00
    assert r.cv_accuracy == pytest.approx(np.trace(r.confusion.to_numpy()) / 60)
    assert int(r.confusion.to_numpy().sum()) == 60
    assert r.majority_baseline == pytest.approx(0.25)
    frame, notices = C.classify_with_head(minilm, r, ["Preheat the oven and whisk the eggs with sugar.",
                                                      "The senate rejected the president's budget."])
    top = frame[frame["rank"] == 1].set_index("text_id")["label"]
    assert top.tolist() == ["food", "politics"]
    np.testing.assert_allclose(frame.groupby("text_id")["score"].sum(), 1.0, atol=1e-9)


def test_train_one_class_raises():
    frame = pd.DataFrame({"text": ["a goal", "a match", "a race"], "label": ["sports"] * 3})
    with pytest.raises(InputError, match="at least two labels"):
        C.prepare_examples(frame)


def test_cv_plan_adapts_folds():
    assert C.cv_plan(["a"] * 10 + ["b"] * 10).folds == 5
    plan = C.cv_plan(["a"] * 10 + ["b"] * 3)
    assert plan.folds == 3 and "3 folds" in str(plan.notices[0])
    plan = C.cv_plan(["a"] * 10 + ["b"])
    assert plan.folds == 0 and "'b'" in str(plan.notices[0])


def test_train_without_cv_still_classifies(minilm):
    frame = pd.DataFrame({"text": ["The match ended 2-1.", "The striker scored.", "Bake the bread."],
                          "label": ["sports", "sports", "food"]})
    r = C.train_head(minilm, frame)
    assert r.folds == 0 and r.cv_accuracy is None and r.confusion.empty
    assert any("at least 2 examples" in str(n) for n in r.notices)
    scores, _ = C.classify_with_head(minilm, r, ["Slice the cake."])
    assert scores[scores["rank"] == 1]["label"].item() == "food"


def test_prepare_examples_too_many_classes():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(42)], "label": [f"c{i // 2}" for i in range(42)]})
    with pytest.raises(InputError, match="at most 20"):
        C.prepare_examples(frame)


def test_prepare_examples_cleans():
    frame = pd.DataFrame({"text": ["x1", " ", "x2", "x2", "x3"], "label": ["A", "a", "a", "a", "b"]})
    df, notices = C.prepare_examples(frame)
    assert df["label"].tolist() == ["A", "A", "b"]
    joined = " ".join(map(str, notices))
    assert "without a text" in joined and "capitals" in joined and "duplicate" in joined


# ------------------------------------------------------------------ charts / CSV out
def test_charts_escape_text():
    from components.charts_classification import WORDS, confusion_heatmap, label_scores_bar

    words = {w: translate("en", f"classification.chart.{w}") for w in WORDS}

    scores = pd.DataFrame({"label": ["<b>bold</b>", "ok"], "score": [0.7, 0.3], "raw": [0.2, 0.1]})
    fig = label_scores_bar(scores, multi_label=False, words=words)
    assert "&lt;b&gt;bold&lt;/b&gt;" in fig.data[0].y and "<b>bold</b>" not in json.dumps(fig.to_dict())
    assert list(fig.data[0].x) == [0.3, 0.7]
    cm = pd.DataFrame([[3, 1], [0, 4]], index=["<i>a</i>", "b"], columns=["<i>a</i>", "b"])
    heat = confusion_heatmap(cm, "Confusion", words)
    assert heat.data[0].x[0] == "&lt;i&gt;a&lt;/i&gt;"
    assert np.asarray(heat.data[0].z).tolist() == [[3, 1], [0, 4]]


def test_csv_out_is_utf8_bom_and_defuses_formulas():
    from components.ui import csv_bytes

    data = csv_bytes(pd.DataFrame({"text": ["=SUM(A1)", "天气 ok"], "score": [0.5, 0.25]}))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "'=SUM(A1)" in text and "天气 ok" in text and "0.25" in text


# ------------------------------------------------------------------ AppTest: the page
def _page(app):
    app.run()
    app.switch_page("app_pages/classification.py")
    app.run()
    assert not app.exception
    return app


def _texts(at, kind):
    return [str(e.value) for e in at.get(kind)]


def _results_table(at) -> pd.DataFrame:
    """The per-text results table (the one with a row column), headers back to their keys."""
    names = {en(f"results.{k}"): k for k in ("row", "text", "top_label", "top_score")}
    frames = [d.value for d in at.dataframe if en("results.row") in d.value.columns]
    return frames[0].rename(columns=names)


def _all_messages(at):
    """Warnings, errors and infos with the markdown escapes removed (see markdown_literal)."""
    raw = " ".join(_texts(at, "warning") + _texts(at, "error") + _texts(at, "info"))
    return re.sub(r"\\(.)", r"\1", raw)


def test_page_default_runs(app):
    at = _page(app)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[en("train.metric_cv")] == "100.0%"
    charts = at.get("plotly_chart")
    assert len(charts) == 3                     # zero-shot bar, confusion matrix, new-text bar
    spec = json.loads(charts[0].proto.spec)
    bar = spec["data"][0]
    assert bar["y"][-1] == "sports"             # best label on top for the default sports text
    assert sum(bar["x"]) == pytest.approx(1.0, abs=1e-6)
    assert any("fine-tuning" in e.label.lower() for e in at.expander)
    keys = {b.key for b in at.get("download_button")}
    # CSV of every table (chart tables included) and the page's one HTML report
    assert keys == {"zs_bar_table_csv", "zs_table_csv", "tr_confusion_table_csv", "tr_counts_csv",
                    "tr_new_bar_table_csv", "tr_new_table_csv", "classification_report"}


@pytest.mark.parametrize("labels, message", [
    (",, ,", "No labels"),
    ("   ", "No labels"),
    ("sports, Sports, food", "Dropped as duplicates"),
    ("sports", "not a share"),
    (", ".join(f"topic {i}" for i in range(25)), "only the first 20"),
])
def test_page_bad_labels(app, labels, message):
    at = _page(app)
    at.text_input(key="p_zs_labels").set_value(labels).run()
    assert not at.exception
    assert message in _all_messages(at)
    assert at.text_input(key="p_zs_labels").value == labels       # nothing lost


def test_markdown_literal_escapes_everything():
    raw = "**bold** :red[x] $x^2$ <b>h</b> [link](http://a) # head"
    escaped = C.markdown_literal(raw)
    assert re.sub(r"\\(.)", r"\1", escaped) == raw
    assert re.search(r"(?<!\\)[*$<>\[\]:#]", escaped) is None      # every markup character escaped


def test_page_user_text_shown_literally(app):
    at = _page(app)
    at.text_input(key="p_zs_labels").set_value("**bold**, **BOLD**, $x$").run()
    assert not at.exception
    infos = " ".join(_texts(at, "info"))
    assert r"\*\*BOLD\*\*" in infos                       # duplicate notice, escaped
    prefix = en("zs.hypotheses", items="")
    hyp = [c for c in _texts(at, "caption") if re.sub(r"\\(.)", r"\1", c).startswith(prefix)][0]
    assert r"\$x\$" in hyp and r"\*\*bold\*\*" in hyp
    bar = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert "**bold**" in bar["y"] and "$x$" in bar["y"]        # plotly labels: html-escaped only


def test_page_template_without_placeholder(app):
    at = _page(app)
    at.text_input(key="p_zs_template").set_value("This text is about sports.").run()
    assert not at.exception
    assert "placeholder" in _all_messages(at)
    assert at.text_input(key="p_zs_template").value == "This text is about sports."


def test_page_empty_and_long_text(app):
    at = _page(app)
    at.text_area(key="p_zs_text").set_value("   \n ").run()
    assert not at.exception and "The text is empty" in _all_messages(at)
    assert at.text_area(key="p_zs_text").value == "   \n "
    at.text_area(key="p_zs_text").set_value("The referee blew the whistle. " * 100).run()
    assert not at.exception and "256-token limit" in _all_messages(at)


def test_page_multi_label_toggle(app):
    at = _page(app)
    at.text_area(key="p_zs_text").set_value("The football club launched a mobile app for fans.")
    at.toggle(key="p_zs_multi").set_value(True).run()
    assert not at.exception
    assert any("independent" in c for c in _texts(at, "caption"))
    bar = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert all(0 <= x <= 1 for x in bar["x"]) and abs(sum(bar["x"]) - 1) > 0.05


def test_page_nli_unavailable_offers_bundled(app):
    at = _page(app)
    at.selectbox(key="p_zs_model").set_value("distilbert-mnli").run()
    assert not at.exception
    assert "not available here" in " ".join(_texts(at, "error"))
    at.button(key="switch_zs_model").click().run()
    assert not at.exception
    assert at.selectbox(key="p_zs_model").value == "all-minilm-l6-v2"


def test_page_batch_csv(app):
    at = _page(app)
    at.radio(key="p_zs_mode").set_value("csv").run()
    csv = "\ufeffid,sentence\n1,The striker scored a goal.\n2,\n3,Bake the cake for an hour.\n".encode("utf-8")
    at.file_uploader(key="zs_csv").set_value(("texts.csv", csv, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="p_zs_csv_text").value == "sentence"     # BOM stripped from the header
    assert "1 row with blank text was dropped" in _all_messages(at)
    table = _results_table(at)
    assert table["row"].tolist() == [1, 3] and table["top_label"].tolist() == ["sports", "food"]
    # the column choice belongs to its file: a pick survives reruns of the same file ...
    at.selectbox(key="p_zs_csv_text").set_value("id").run()
    at.text_input(key="p_zs_labels").set_value("sports, food, numbers").run()
    assert at.selectbox(key="p_zs_csv_text").value == "id" and _results_table(at)["text"].tolist() == ["1", "2", "3"]
    # ... and a new file starts from its own guess, with no message about the earlier file's column
    at.file_uploader(key="zs_csv").set_value(("other.csv", b"body,id\nhello world,7\n", "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="p_zs_csv_text").value == "body"
    assert "'id'" not in _all_messages(at) and "not in this file" not in _all_messages(at)
    at.text_input(key="p_zs_labels").set_value("sports, politics, technology, food").run()
    # not UTF-8: read as cp1252 with a notice
    at.file_uploader(key="zs_csv").set_value(("cp.csv", "body\nCaf\xe9 food is great\n".encode("cp1252"), "text/csv")).run()
    assert not at.exception and "not UTF-8" in _all_messages(at)
    assert "Café" in _results_table(at)["text"].iloc[0]
    # over the upload cap
    big = b"body\n" + b"x" * (21 * 1024 * 1024)
    at.file_uploader(key="zs_csv").set_value(("big.csv", big, "text/csv")).run()
    assert not at.exception and "upload limit" in _all_messages(at)


def test_page_train_bad_data(app):
    at = _page(app)
    lines = at.text_area(key="p_tr_lines")
    lines.set_value("The match was great | sports\nA goal in extra time | sports").run()
    assert not at.exception and "same label" in _all_messages(at)
    one_each = "The match was great | sports\nA goal in extra time | sports\nBake bread | food"
    at.text_area(key="p_tr_lines").set_value(one_each).run()
    assert not at.exception and "at least 2 examples" in _all_messages(at)
    assert {m.label: m.value for m in at.metric}[en("train.metric_cv")] == en("train.not_estimated")
    assert at.text_area(key="p_tr_lines").value == one_each
    at.text_area(key="p_tr_lines").set_value("   ").run()
    assert not at.exception and "text | label" in _all_messages(at)
    at.button(key="tr_load_set").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}[en("train.metric_count")] == "60 · 4"


def test_page_train_csv(app):
    at = _page(app)
    at.radio(key="p_tr_source").set_value("csv").run()
    rows = ["text,label"] + [f"sports sentence {i} about the match,sports" for i in range(3)] + \
           [f"recipe {i} with flour and sugar,food" for i in range(3)] + [",food"]
    at.file_uploader(key="tr_csv").set_value(("train.csv", "\n".join(rows).encode(), "text/csv")).run()
    assert not at.exception
    msgs = _all_messages(at)
    assert "1 row with blank text or label was dropped" in msgs and "uses 3 folds" in msgs
    # two well-separated topics: cross-validation gets every example right, and says so
    assert {m.label: m.value for m in at.metric}[en("train.metric_cv")].startswith("100")
    assert en("train.misclassified_none") in _texts(at, "caption")
    at.selectbox(key="p_tr_csv_label").set_value("text").run()
    assert not at.exception and "the same" in _all_messages(at)


def test_page_nli_model_from_local_dir(app, tiny_nli_dir, as_local_model):
    """An NLI catalog key routed to the tiny model: the page takes the NLI path."""
    from components.cache import forget

    as_local_model("distilbert-mnli", tiny_nli_dir)
    forget("distilbert-mnli")
    try:
        at = _page(app)
        at.selectbox(key="p_zs_model").set_value("distilbert-mnli").run()
        assert not at.exception
        assert any("NLI" in c for c in _texts(at, "caption"))
        bar = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
        assert sum(bar["x"]) == pytest.approx(1.0, abs=1e-6)
        at.toggle(key="p_zs_multi").set_value(True).run()
        assert not at.exception
        bar = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
        assert all(0 <= x <= 1 for x in bar["x"]) and abs(sum(bar["x"]) - 1) > 1e-3
    finally:
        forget("distilbert-mnli")      # later tests see the Hub-only entry again


def test_page_zero_shot_on_emoji_lines_is_not_meaningful(app):
    at = _page(app)
    at.radio(key="p_zs_mode").set_value("lines").run()
    at.text_area(key="p_zs_lines").set_value("😡😡\n😀😀😀\n🎉\nThe match went to extra time.").run()
    assert not at.exception, at.exception
    from components import i18n

    table = next(d.value for d in at.dataframe if i18n.translate("en", "coverage.column") in d.value.columns)
    known = table[i18n.translate("en", "coverage.column")].tolist()
    assert known == ["0% (0/2)", "0% (0/3)", "0% (0/1)", "100% (24/24)"]
    top = table[en("results.top_label")].tolist()
    assert top[:3] == ["Not meaningful"] * 3 and top[3] == "sports"
    scores = table[en("results.top_score")].tolist()     # no winner, so no winner's score beside it
    assert all(pd.isna(v) for v in scores[:3]) and 0 < scores[3] <= 1
    assert "Not meaningful: only 0% of the characters" in _all_messages(at)  # the first text's chart


def test_page_unreadable_labels_warned_and_tie_has_no_winner(app):
    at = _page(app)
    at.text_area(key="p_zs_text").set_value("I love this so much!").run()
    at.text_input(key="p_zs_labels").set_value("😀, 😡, 🤷").run()
    assert not at.exception, at.exception
    messages = _all_messages(at)
    assert "cannot read 3 labels: '😀', '😡', '🤷'" in messages
    assert "No winner for text #1: 3 labels tie at 0.3333" in messages
    assert _results_table(at)["top_label"].tolist() == [en("results.tie_cell", labels="😀, 😡, 🤷")]
    at.text_input(key="p_zs_labels").set_value("happy, angry").run()    # readable labels: no warning
    assert "cannot read" not in _all_messages(at) and "No winner" not in _all_messages(at)
