"""Classification page: links (SCHEMA), cross-links, language, presenter mode, report, hostile input.

AppTest of the whole app (router + page) on the bundled MiniLM; links are given the way a
browser gives them: query parameters set before the run that opens the page."""
from __future__ import annotations

import csv
import html
import io
import json
import re

import pandas as pd
import pytest

from components import classification as C
from components import curated, permalink
from components.i18n import translate
from tests.conftest import plotly_array

PAGE = "app_pages/classification.py"


def en(key: str, **values) -> str:
    return translate("en", f"classification.{key}", **values)


def zh(key: str, **values) -> str:
    return translate("zh", f"classification.{key}", **values)


def open_page(at, **query):
    """Run the router, then open the page with ``query`` as the URL's parameters (a link)."""
    at.run()
    at.switch_page(PAGE)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    return at


def bars(at) -> list[dict]:
    """The bar traces of every label-score chart on the page, in page order."""
    out = []
    for chart in at.get("plotly_chart"):
        trace = json.loads(chart.proto.spec)["data"][0]
        if trace.get("type") == "bar":
            out.append({"y": list(trace["y"]), "x": plotly_array(trace["x"])})
    return out


def results_table(at, lang: str = "en") -> pd.DataFrame:
    names = {translate(lang, f"classification.results.{k}"): k for k in ("row", "text", "top_label", "top_score")}
    frames = [d.value for d in at.dataframe if translate(lang, "classification.results.row") in d.value.columns]
    assert frames, "no results table"
    return frames[0].rename(columns=names)


def captions(at) -> str:
    return re.sub(r"\\(.)", r"\1", " ".join(str(c.value) for c in at.caption))


def messages(at) -> str:
    raw = " ".join(str(e.value) for kind in ("warning", "error", "info") for e in at.get(kind))
    return re.sub(r"\\(.)", r"\1", raw)


# ------------------------------------------------------------------ (1) a link fills the widgets and runs
def test_link_fills_widgets_and_computes(app):
    at = open_page(app, text="The parliament passed the new budget after a long debate.",
                   labels="economy, weather, politics", multi="1", run="1")
    assert at.text_area(key="p_zs_text").value == "The parliament passed the new budget after a long debate."
    assert at.text_input(key="p_zs_labels").value == "economy, weather, politics"
    assert at.toggle(key="p_zs_multi").value is True
    bar = bars(at)[0]
    assert sorted(bar["y"]) == ["economy", "politics", "weather"]
    assert bar["y"][-1] == "politics"                       # best label on top
    assert abs(sum(bar["x"]) - 1.0) > 0.05                  # multi-label: independent probabilities
    # the address bar now carries the page's state (defaults left out)
    assert at.query_params["labels"] in ("economy, weather, politics", ["economy, weather, politics"])


def test_link_lines_template_and_training(app):
    train = "\n".join([f"A goal in match {i} | sports" for i in range(3)]
                      + [f"Bake bread number {i} | food" for i in range(3)])
    at = open_page(app, mode="lines", lines="The striker scored.\nSimmer the soup.", labels="sports, food",
                   template="It is about {}.", train=permalink.encode_text(train),
                   new_text="Stir the sauce and add salt.", run="1")
    assert at.radio(key="p_zs_mode").value == "lines"
    assert at.text_input(key="p_zs_template").value == "It is about {}."
    table = results_table(at)
    assert table["text"].tolist() == ["The striker scored.", "Simmer the soup."]
    assert table["top_label"].tolist() == ["sports", "food"]
    assert at.text_area(key="p_tr_lines").value == train
    assert {m.label: m.value for m in at.metric}[en("train.metric_count")] == "6 · 2"
    assert bars(at)[-1]["y"][-1] == "food"                   # the head's chart for the new text


def test_cross_link_from_embeddings_classifies_at_once(app):
    """The embeddings page sends ``{"text": str, "mode": "single"}`` + run=1."""
    query = permalink.free_encode({"text": "Knead the dough and let it rise overnight.", "mode": "single"})
    at = open_page(app, **query, run="1")
    assert at.radio(key="p_zs_mode").value == "single"
    assert at.text_area(key="p_zs_text").value == "Knead the dough and let it rise overnight."
    assert bars(at)[0]["y"][-1] == "food"                    # default labels, classified on opening


def test_copied_link_reproduces_the_result(app):
    """State -> publish_link -> a fresh session opening that query gives the same scores."""
    at = open_page(app)
    at.text_area(key="p_zs_text").set_value("The new phone has a faster chip.")
    at.text_input(key="p_zs_labels").set_value("technology, food, 体育").run()
    first = bars(at)[0]
    query = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert query["text"] == "The new phone has a faster chip."

    from streamlit.testing.v1 import AppTest

    fresh = AppTest.from_file(at._script_path, default_timeout=180)
    fresh = open_page(fresh, **query, run="1")
    assert bars(fresh)[0] == first


# ------------------------------------------------------------------ (2) invalid / hostile query values
def test_invalid_link_values_are_ignored(app):
    at = open_page(app, model="evil/model", mode="bogus", multi="maybe", template="z1.!!!corrupt",
                   labels="x" * 10_001, text="<script>alert(1)</script>", new_mode="nan", run="1")
    assert at.selectbox(key="p_zs_model").value == "all-minilm-l6-v2"
    assert at.radio(key="p_zs_mode").value == "single"
    assert at.toggle(key="p_zs_multi").value is False
    assert at.text_input(key="p_zs_template").value == C.DEFAULT_TEMPLATE
    assert at.text_input(key="p_zs_labels").value == "sports, politics, technology, food"
    notes = messages(at)
    for name in ("model", "mode", "multi", "template", "labels", "new_mode"):
        assert f"({name}:" in notes, name
    # a hostile text is valid text: kept and shown literally (table cell, escaped chart title)
    assert at.text_area(key="p_zs_text").value == "<script>alert(1)</script>"
    assert results_table(at)["text"].tolist() == ["<script>alert(1)</script>"]


# ------------------------------------------------------------------ (3) language
def test_chinese_page(app):
    at = open_page(app, lang="zh")
    assert at.title[0].value == zh("title")
    assert zh("title") != en("title")
    radio = [r for r in at.get("radio") if r.proto.id.endswith("p_zs_mode") or r.key == "p_zs_mode"][0]
    assert radio.proto.label == zh("mode.label")
    assert list(radio.proto.options) == [zh("mode.single"), zh("mode.lines"), zh("mode.csv")]
    assert {m.label for m in at.metric} >= {zh("train.metric_cv"), zh("train.metric_baseline")}
    assert any(c.value == zh("zs.multi_off") for c in at.caption)
    # chart axis in Chinese; results table headers in Chinese
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == zh("chart.probability")
    assert results_table(at, "zh")["top_label"].tolist() == ["sports"]
    # messages from the classification logic are translated too
    at.text_input(key="p_zs_labels").set_value(" , ").run()
    assert zh("msg.no_labels") in messages(at)


def test_switching_language_reuses_the_cached_results(app, monkeypatch):
    """Notices are message codes, so the cached zero-shot result and trained head serve both
    languages: switching language translates, it does not run the models again."""
    calls = {"zero_shot": 0, "train": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(C, "zero_shot_similarity", counted("zero_shot", C.zero_shot_similarity))
    monkeypatch.setattr(C, "train_head", counted("train", C.train_head))
    at = open_page(app, labels="sports, Sports, food")
    assert calls == {"zero_shot": 1, "train": 1}
    dup_en = en("msg.duplicate_labels", labels="'Sports'")
    assert dup_en in messages(at)
    semantics_en = en("msg.semantics_single")
    assert semantics_en in captions(at)
    at.session_state["p_lang"] = "zh"
    at.run()
    assert not at.exception and at.title[0].value == zh("title")
    assert calls == {"zero_shot": 1, "train": 1}          # served from the cache
    assert zh("msg.duplicate_labels", labels="'Sports'") in messages(at) and dup_en not in messages(at)
    assert zh("msg.semantics_single") in captions(at) and semantics_en not in captions(at)


# ------------------------------------------------------------------ (4) presenter mode
def test_presenter_shows_curated_example_without_models(app, monkeypatch):
    import components.cache as cache

    def no_model(key):
        raise RuntimeError("model loading disabled in this test")

    monkeypatch.setattr(cache, "get_model", no_model)
    stored = curated.load("classification")
    at = open_page(app, present="1")
    first = stored[0]
    bar = bars(at)[0]                                       # rendered from the JSON
    assert sorted(bar["y"]) == sorted(first["result"]["labels"])
    assert bar["x"] == pytest.approx(sorted(first["result"]["scores"]["score"]), abs=1e-9)
    assert any(c.value == translate("en", "ui.present.precomputed") for c in at.caption)
    # advanced control hidden
    assert not [w for w in at.text_input if w.key == "p_zs_template"]
    # a slide: nothing of the live page (no tabs, no inputs) below the example
    labels = {translate("en", "classification.tab.zero_shot"), translate("en", "classification.tab.train")}
    assert not labels & {tab.label for tab in at.tabs} and not at.text_area and not at.text_input
    assert "model loading disabled" not in messages(at)


def test_presenter_run_live_applies_the_example(app):
    stored = curated.load("classification")
    at = open_page(app, present="1")
    at.button(key="present_next_classification").click().run()     # example 2: support intents (a batch)
    example = stored[1]
    assert example["params"]["mode"] == "lines"
    at.button(key="present_live_classification").click().run()
    assert not at.exception
    assert at.radio(key="p_zs_mode").value == "lines"
    assert at.text_area(key="p_zs_lines").value == example["params"]["lines"]
    tables = [d.value for d in [*at.dataframe, *at.table] if en("results.row") in d.value.columns]
    live = tables[0]                                        # the live page replaces the example
    precomputed = C.zero_shot_from_payload(example["result"]).wide()["top_label"].tolist()
    assert live[en("results.top_label")].tolist() == precomputed
    assert len(precomputed) == 4


def test_curated_payload_round_trip(minilm):
    result = C.zero_shot_similarity(minilm, ["A goal.", "A cake."], ["sports", "food"])
    back = C.zero_shot_from_payload(json.loads(json.dumps(C.zero_shot_payload(result))))
    pd.testing.assert_frame_equal(back.scores, result.scores)
    assert back.wide()["top_label"].tolist() == ["sports", "food"]
    with pytest.raises((KeyError, ValueError)):
        C.zero_shot_from_payload({"labels": ["a"], "multi_label": False, "method": "similarity", "scores": {}})


# ------------------------------------------------------------------ (5) report
def test_report_escapes_inputs_and_has_the_figures(minilm, tmp_path):
    from components.charts_classification import WORDS, label_scores_bar
    from components.classification_wording import report_sections
    from components.report import build_report

    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
    result = C.zero_shot_similarity(minilm, [hostile], ["sports", "<b>x</b>"])
    fig = label_scores_bar(result.scores, result.multi_label,
                           {w: translate("zh", f"classification.chart.{w}") for w in WORDS}, "Text #1")
    zs = {"result": result, "texts": [hostile], "rows": [1], "labels": ["sports", "<b>x</b>"],
          "model": "all-minilm-l6-v2", "template": C.DEFAULT_TEMPLATE, "mode": "single",
          "table": result.wide(), "figure": fig, "row": 1, "chart_table": result.scores[["label", "score"]]}
    head = C.train_head(minilm, pd.DataFrame({"text": ["A goal.", "A match.", "A cake.", "A pie."],
                                               "label": ["sports", "sports", "food", "food"]}))
    sections = report_sections(zs, {"result": head}, "zh")
    page = build_report(translate("zh", "classification.report.title"), sections, html_lang="zh-CN")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert html.escape(hostile) in page
    assert "plotly-graph-div" in page and page.count("<table") >= 4
    assert translate("zh", "classification.report.settings") in page and "all-MiniLM-L6-v2" in page
    kinds = [s.kind for s in sections]
    assert kinds.count("figure") == 1 and "kv" in kinds


# ------------------------------------------------------------------ (6) hostile input everywhere
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "$x$ **b** `code` # h",
    "a\x00b\x07c\x1bd",
    "\u200b\u200d",
    "\u202eabc Arabic مرحبا Hebrew שלום",
    "😀🎉🚀",
]


def test_hostile_text_in_every_input(app):
    at = open_page(app)
    at.radio(key="p_zs_mode").set_value("lines").run()
    at.radio(key="p_tr_new_mode").set_value("lines").run()
    for payload in PAYLOADS:
        at.text_area(key="p_zs_lines").set_value(f"{payload}\nA goal.")
        at.text_input(key="p_zs_labels").set_value(f"sports, {payload}")
        at.text_area(key="p_tr_lines").set_value(
            f"{payload} | sports\nA goal in the match | sports\nBake the bread | food\nA cake | food")
        at.text_area(key="p_tr_new_lines").set_value(f"{payload}\nA pie.").run()
        assert not at.exception, payload
        assert at.text_area(key="p_zs_lines").value == f"{payload}\nA goal."       # nothing lost
        assert results_table(at)["text"].tolist() == [payload.strip(), "A goal."]
        assert html.escape(payload.strip()) in bars(at)[0]["y"]                    # plotly: escaped
        assert {m.label: m.value for m in at.metric}[en("train.metric_count")] == "4 · 2"
        # as a template (no {} -> a clear message, shown literally) and as single text
        at.text_input(key="p_zs_template").set_value(payload).run()
        assert not at.exception and "{}" in messages(at)
        at.text_input(key="p_zs_template").set_value(payload.replace("{", "(") + " {}").run()
        assert not at.exception
        at.text_input(key="p_zs_template").set_value(C.DEFAULT_TEMPLATE)


def test_long_text_and_row_cap(app):
    at = open_page(app)
    long = "The referee blew the whistle. " * 3400                                 # 102 000 characters
    at.text_area(key="p_zs_text").set_value(long).run()
    assert not at.exception
    notes = messages(at)
    assert "was cut to its first 20000 characters" in notes and "256-token limit" in notes
    assert at.text_area(key="p_zs_text").value == long
    assert bars(at)[0]["y"][-1] == "sports"
    at.radio(key="p_zs_mode").set_value("lines").run()
    at.text_area(key="p_zs_lines").set_value("\n".join(f"goal {i}" for i in range(C.MAX_TEXTS + 7))).run()
    assert not at.exception
    assert en("msg.texts_capped", n=C.MAX_TEXTS + 7, max=C.MAX_TEXTS) in messages(at)
    assert len(results_table(at)) == C.MAX_TEXTS


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


def test_hostile_csv_cells_and_picker_follows_the_new_file(app):
    at = open_page(app)
    at.radio(key="p_zs_mode").set_value("csv").run()
    cells = [p for p in PAYLOADS if "\x00" not in p] + ["=HYPERLINK(\"http://x\")"]
    at.file_uploader(key="zs_csv").set_value(("a.csv", _csv_bytes([["text"]] + [[c] for c in cells]), "text/csv")).run()
    assert not at.exception
    assert results_table(at)["text"].tolist() == [c.strip() for c in cells]
    # pick the third text for the chart, then upload another file: the picker starts over on it
    at.selectbox(key="p_zs_show").set_value(2).run()
    assert bars(at)[0]["y"] and at.selectbox(key="p_zs_show").value == 2
    second = ["The senate voted on the bill.", "Bake the cake.", "The striker scored."]
    at.file_uploader(key="zs_csv").set_value(("b.csv", _csv_bytes([["text"]] + [[c] for c in second]), "text/csv")).run()
    assert not at.exception
    picker = at.selectbox(key="p_zs_show")
    assert picker.value == 0
    assert picker.options == [f"#{i + 1}: {c}" for i, c in enumerate(second)]
    assert bars(at)[0]["y"][-1] == "politics"
    # a NUL byte in a cell: read or refused with a message, never a traceback
    at.file_uploader(key="zs_csv").set_value(("c.csv", b"text\na\x00b\nok\n", "text/csv")).run()
    assert not at.exception


def test_batch_links_to_the_embedding_map(app, monkeypatch):
    import streamlit as st

    calls = []
    monkeypatch.setattr(st, "switch_page", lambda page, query_params=None: calls.append((page, query_params)))
    at = open_page(app)
    at.radio(key="p_zs_mode").set_value("lines").run()
    at.button(key="zs_to_map").click().run()
    assert not at.exception
    page, query = calls[-1]
    assert page == "app_pages/embeddings.py" and query["run"] == "1"
    texts = json.loads(permalink.decode_text(query["texts"]))
    labels = json.loads(permalink.decode_text(query["labels"]))
    table = results_table(at)
    assert texts == table["text"].tolist() and labels == table["top_label"].tolist()
    assert permalink.decode_text(query["label_title"]) == en("predicted_label")
