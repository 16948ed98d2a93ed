"""Embedding explorer, sharing and hostile input: permalinks (in and out), cross-links, click selection,
language, presenter mode with curated maps, the HTML report, and hostile input."""
from __future__ import annotations

import html
import json

import numpy as np
import pytest

from components import embeddings as emb
from components import i18n
from components.embeddings_wording import set_title

PAGE = "app_pages/embeddings.py"
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "$x$ **b** `code` # h",
    "ctrl\x01\x07 and NUL\x00 end",
    "zero\u200bwidth\u200d",
    "\u202eRTL override مرحبا שלום",
    "🙂🎉🚀",
]


def _en(key, **values):
    return i18n.translate("en", key, **values)


def _messages(at) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


def _open_with(app, params: dict):
    """Open the page through the router with a link's query parameters (as a fresh browser)."""
    app.run()
    app.switch_page(PAGE)
    for name, value in params.items():
        app.query_params[name] = value
    app.run()
    return app


def _qp(at, name: str) -> str:
    value = at.query_params[name]
    return value[-1] if isinstance(value, list) else value


def _map_spec(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def _hover(spec) -> list[str]:
    return [h for tr in spec["data"] for h in (tr.get("hovertext") or [])]


# --------------------------------------------------------------------------- links in
def test_cross_link_shows_exactly_the_texts_coloured_by_labels(app):
    texts = ["I love this phone", "Terrible service", "Great food", "Awful weather today", "Nice staff"]
    labels = ["positive", "negative", "positive", "negative", "positive"]
    at = _open_with(app, {"texts": json.dumps(texts), "labels": json.dumps(labels),
                          "label_title": "Predicted sentiment", "run": "1"})
    assert not at.exception, at.exception
    assert at.radio(key="p_emb_input").value == "typed"
    spec = _map_spec(at)
    by_name = {tr["name"]: tr for tr in spec["data"]}
    assert sorted(_hover({"data": [by_name["positive"], by_name["negative"]]})) == sorted(texts)
    assert by_name["positive"]["marker"]["color"] == "#0072B2"  # Okabe–Ito blue, then orange
    assert by_name["negative"]["marker"]["color"] == "#E69F00"
    assert spec["layout"]["legend"]["title"]["text"] == "Predicted sentiment"
    # the texts' neighbours are computed (first item selected by default)
    frame = at.dataframe[-1].value
    assert len(frame) == 4 and set(frame[_en("embeddings.col.text")]) <= set(texts[1:])
    # the page's own link carries the same items again
    assert json.loads(_qp(at, "texts")) == texts


def test_cross_link_with_wrong_number_of_labels_ignores_them_with_a_notice(app):
    at = _open_with(app, {"texts": json.dumps(["one cat", "two dogs", "three birds", "four fish"]),
                          "labels": json.dumps(["a", "b"]), "run": "1"})
    assert not at.exception, at.exception
    assert _en("embeddings.link.labels_mismatch", labels=2, texts=4) in _messages(at)
    spec = _map_spec(at)
    assert spec["data"][0]["showlegend"] is False  # one uncoloured trace
    assert sorted(spec["data"][0]["hovertext"]) == ["four fish", "one cat", "three birds", "two dogs"]


def test_link_fills_widgets_and_runs(app):
    params = {"set": "words_analogies", "method": "word", "model": "all-minilm-l6-v2", "dims": "3",
              "proj": "pca", "k": "3", "pt": "1", "q": "princess", "colour": "0", "run": "1"}
    at = _open_with(app, params)
    assert not at.exception, at.exception
    assert at.radio(key="p_emb_method").value == emb.WORD
    assert at.selectbox(key="p_emb_example").value == "words_analogies"
    assert at.radio(key="p_emb_dims").value == 3
    assert at.text_input(key="p_emb_query").value == "princess"
    assert at.selectbox(key="p_emb_point").value == 1
    spec = _map_spec(at)
    assert spec["data"][0]["type"] == "scatter3d"
    assert spec["layout"]["scene"]["xaxis"]["title"]["text"].startswith("PC1 (")
    # queen (row 2) selected: 3 neighbours; the query "princess" has 3 neighbours too
    tables = [d.value for d in at.dataframe if _en("embeddings.col.cosine") in d.value.columns]
    assert [len(tb) for tb in tables] == [3, 3]
    assert tables[1][_en("embeddings.col.text")].iloc[0] == "princess"  # the item itself, cosine 1
    assert tables[1][_en("embeddings.col.cosine")].iloc[0] == pytest.approx(1.0, abs=1e-4)
    # the address bar carries the settings back (defaults left out)
    qp = {k: _qp(at, k) for k in at.query_params}
    assert qp["set"] == "words_analogies" and qp["method"] == "word" and qp["dims"] == "3" and qp["q"] == "princess"
    assert "proj" not in qp  # default


def test_word_mode_offers_word_lists_and_tsne_subtitle(app):
    at = _open_with(app, {"method": "word", "set": "sentences_topics", "proj": "tsne", "dims": "3", "run": "1"})
    assert not at.exception, at.exception
    assert at.selectbox(key="p_emb_example").value == "words_analogies"  # a word list, never sentences
    assert set(at.selectbox(key="p_emb_example").options) == {
        set_title(s, "en") for s in emb.example_sets("words")}
    spec = _map_spec(at)
    assert _en("embeddings.chart.sub_tsne") in spec["layout"]["title"]["text"]
    assert "PCA" not in spec["layout"]["title"]["text"]
    assert spec["layout"]["scene"]["xaxis"]["title"]["text"] == "t-SNE 1"


@pytest.mark.parametrize("params", [
    {"model": "evil/model", "layer": "-5", "dims": "7", "perp": "nan", "k": "0", "pt": "999999",
     "method": "<script>", "proj": "umap", "set": "../../etc/passwd", "colour": "maybe", "run": "1"},
    {"texts": "not json", "labels": json.dumps([1, 2]), "src": "csv", "q": "z1.corrupt!!", "run": "1"},
])
def test_invalid_link_values_are_ignored_with_defaults(app, params):
    at = _open_with(app, params)
    assert not at.exception, at.exception
    assert at.radio(key="p_emb_method").value == emb.SENTENCE
    assert at.radio(key="p_emb_dims").value == 2
    assert at.radio(key="p_emb_input").value == "example"
    assert at.selectbox(key="p_emb_model").value == "all-minilm-l6-v2"
    assert at.get("plotly_chart"), _messages(at)
    ignored = [m for m in at.info if "ignored" in str(m.value)]
    assert len(ignored) >= 3


def test_hostile_query_and_label_title_in_link_show_literally(app):
    at = _open_with(app, {"texts": json.dumps(HOSTILE), "labels": json.dumps(["<b>x</b>"] * len(HOSTILE)),
                          "label_title": "<script>alert(1)</script>", "q": "<img src=x onerror=alert(1)>",
                          "run": "1"})
    assert not at.exception, at.exception
    raw = at.get("plotly_chart")[0].proto.spec
    assert "<script>" not in raw and "<img" not in raw
    spec = json.loads(raw)
    assert spec["layout"]["legend"]["title"]["text"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert at.text_input(key="p_emb_query").value == "<img src=x onerror=alert(1)>"
    assert "<img src=x onerror=alert(1)>" in [c.value for c in at.code]  # the query, literally


# --------------------------------------------------------------------------- selection and link out
def test_selected_item_from_plotly_selection_state():
    assert emb.selected_item({"points": [{"customdata": 3}]}, 5) == 3
    assert emb.selected_item({"points": [{"customdata": [4]}]}, 5) == 4
    assert emb.selected_item({"points": [{"customdata": 1}, {"customdata": -1}]}, 5) == 1  # query star skipped
    assert emb.selected_item({"points": [{"customdata": 9}]}, 5) is None
    assert emb.selected_item({"points": [{"x": 1}]}, 5) is None
    assert emb.selected_item(None, 5) is None and emb.selected_item("junk", 5) is None


def test_map_traces_carry_item_indices():
    from components.charts_embeddings import scatter_map

    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    fig = scatter_map(coords, ["a", "b", "c", "d"], ["x", "y", "x", "y"], ["PC1", "PC2"],
                      query_point=np.array([0.5, 0.5]), selected=2, neighbours=[0])
    by_name = {tr.name: list(tr.customdata) for tr in fig.data}
    assert by_name["x"] == [0, 2] and by_name["y"] == [1, 3]
    assert by_name[_en("embeddings.chart.chosen")] == [2] and by_name[_en("embeddings.chart.query")] == [-1]


def test_click_on_map_selects_the_point_and_links_to_classification(app, monkeypatch):
    import streamlit as st

    opened = []
    monkeypatch.setattr(st, "switch_page", lambda page, query_params=None: opened.append((page, query_params)))
    at = _open_with(app, {"texts": json.dumps(["red apple", "green pear", "blue sky", "grey cloud"]), "run": "1"})
    assert not at.exception, at.exception
    at.session_state["emb_map_pca_2"] = {"selection": {"points": [{"customdata": 2, "x": 0, "y": 0}]}}
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="p_emb_point").value == 2
    assert "blue sky" in [c.value for c in at.code]
    spec = _map_spec(at)
    chosen = [tr for tr in spec["data"] if tr["name"] == _en("embeddings.chart.chosen")][0]
    assert chosen["hovertext"] == ["blue sky"]
    assert _qp(at, "pt") == "2"
    # "Classify this text" opens the classification page with the text, mode=single and run=1
    at.button(key="emb_classify").click().run()
    assert not at.exception, at.exception
    assert opened == [("app_pages/classification.py", {"text": "blue sky", "mode": "single", "run": "1"})]


# --------------------------------------------------------------------------- language, presenter
def test_chinese_page(app):
    at = _open_with(app, {"lang": "zh", "run": "1"})
    assert not at.exception, at.exception
    zh = i18n.strings("zh")
    assert at.title[0].value == zh["embeddings.title"]
    assert at.subheader[0].value == zh["embeddings.input.heading"]
    assert at.radio(key="p_emb_method").options[0] == zh["embeddings.method.sentence"]
    spec = _map_spec(at)
    assert zh["embeddings.chart.sub_pca"] in spec["layout"]["title"]["text"]
    assert spec["layout"]["legend"]["title"]["text"] == zh["embeddings.sets.sentences_topics.label"]
    assert zh["embeddings.col.cosine"] in at.dataframe[-1].value.columns


def test_presenter_mode_shows_curated_map_without_any_model(app, monkeypatch):
    from components import cache, curated
    from components.charts_embeddings import escape_hover
    from components.loading import ModelUnavailableError, preparation

    def refuse(*args, **kwargs):
        raise ModelUnavailableError("no model in this test")

    monkeypatch.setattr(cache, "get_model", refuse)
    monkeypatch.setattr(preparation, "load_model", refuse)
    shipped = curated.load("embeddings")
    at = _open_with(app, {"present": "1"})
    assert not at.exception, at.exception
    spec = _map_spec(at)
    first = shipped[0]["result"]
    labels = set(first["labels"])
    hovered = {h for tr in spec["data"] if tr["name"] in labels for h in tr["hovertext"]}
    assert hovered == {escape_hover(x) for x in first["texts"]}
    assert any(tr["name"] == _en("embeddings.chart.query") for tr in spec["data"])
    # titles go through charts.plotly_literal ('%' as '&#37;', which plotly.js shows as '%')
    assert html.unescape(spec["layout"]["xaxis"]["title"]["text"]) == f"PC1 ({100 * first['explained_variance_ratio_'][0]:.1f}%)"
    assert i18n.translate("en", "ui.present.precomputed") in [c.value for c in at.caption]
    # a slide: nothing of the live page below the example
    assert not at.get("slider") and not at.selectbox and not at.radio and not at.text_area
    assert [b.key for b in at.button if b.key.startswith("present_")] == [
        "present_prev_embeddings", "present_next_embeddings", "present_live_embeddings"]
    # next example: the word analogies
    at.button(key="present_next_embeddings").click().run()
    assert not at.exception
    second = shipped[1]["result"]
    hovered = {h for tr in _map_spec(at)["data"] if tr["name"] in set(second["labels"]) for h in tr["hovertext"]}
    assert hovered == {escape_hover(x) for x in second["texts"]} and {"king", "北京"} <= hovered


def test_curated_results_are_consistent_with_the_data():
    from components import curated

    examples = curated.load("embeddings")
    assert [e["id"] for e in examples] == ["topics", "analogies", "parallel"]
    for ex in examples:
        r = ex["result"]
        assert len(r["coords"]) == len(r["texts"]) == len(r["labels"]) and len(r["coords"][0]) == 2
        assert 0 < sum(r["explained_variance_ratio_"]) < 1 and r["scree"][:2] == r["explained_variance_ratio_"]
        cos = r["neighbours"]["cosine"]
        assert cos == sorted(cos, reverse=True) and r["selected"] not in r["neighbours"]["index"]
    analogies = examples[1]["result"]
    assert analogies["texts"][analogies["selected"]] == "king"
    assert analogies["texts"][analogies["neighbours"]["index"][0]] == "queen"


# --------------------------------------------------------------------------- report
def test_report_escapes_inputs_and_embeds_figures():
    from components.charts_embeddings import report_sections
    from components.report import build_report

    texts = HOSTILE[:4] + ["plain one", "plain two"]
    vectors = np.random.default_rng(0).normal(size=(len(texts), 16))
    proj = emb.pca_project(vectors, 2)
    result = emb.map_result(texts, vectors, proj, labels=["<b>L</b>"] * 3 + ["ok"] * 3,
                            label_title="<script>t()</script>", model_key="all-minilm-l6-v2",
                            selected=0, k=3, query="<script>q()</script>", query_vector=vectors[1] + 0.1)
    page = build_report("Embedding map", report_sections(result, "en", "all-MiniLM-L6-v2", "title", "typed"))
    assert "<script>alert(1)</script>" not in page and "<script>q()</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;script&gt;q()&lt;/script&gt;" in page
    assert page.count("Plotly.newPlot") == 2  # map + scree
    assert _en("embeddings.report.variance_table") in page and "PC1" in page
    zh = build_report("词向量地图", report_sections(result, "zh", "all-MiniLM-L6-v2"), html_lang="zh-CN")
    assert i18n.translate("zh", "embeddings.report.neighbours_table") in zh


# --------------------------------------------------------------------------- hostile input
def test_hostile_typed_items_label_title_search_and_query(app):
    at = app
    at.run()
    at.switch_page(PAGE).run()
    at.radio(key="p_emb_input").set_value("typed").run()
    body = "\n".join(f"{h} | <i>lab</i>" for h in HOSTILE) + "\n" + "long " * 20_000
    at.text_area(key="p_emb_text").set_value(body)
    at.text_input(key="p_emb_label_title").set_value("<img src=x onerror=alert(1)>")
    at.text_input(key="p_emb_search").set_value("<script>")
    at.text_input(key="p_emb_query").set_value("x" * 100_000).run()
    assert not at.exception, at.exception
    assert at.text_area(key="p_emb_text").value == body  # kept as typed
    raw = at.get("plotly_chart")[0].proto.spec
    assert "<script>" not in raw and "<img" not in raw
    spec = json.loads(raw)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _hover(spec)
    assert spec["layout"]["legend"]["title"]["text"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert any(tr["name"] == _en("embeddings.chart.search_matches", n=1) for tr in spec["data"])
    msgs = _messages(at)
    assert "256" in msgs  # the 100,000-character item and query are truncated with a notice
    items = at.dataframe[0].value
    assert set(HOSTILE) <= set(items[_en("embeddings.col.text")])


def test_hostile_csv_cells(app):
    at = app
    at.run()
    at.switch_page(PAGE).run()
    at.radio(key="p_emb_input").set_value("csv").run()
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["text", "label"])
    for i, h in enumerate(HOSTILE):
        writer.writerow([h, f"<b>{i % 2}</b>"])
    writer.writerow(["=cmd|' /C calc'!A0", "formula"])
    at.file_uploader(key="emb_csv").set_value(("h.csv", buf.getvalue().encode("utf-8"), "text/csv")).run()
    assert not at.exception, at.exception
    raw = at.get("plotly_chart")[0].proto.spec
    assert "<script>" not in raw and "<img" not in raw
    assert "&lt;b&gt;0&lt;/b&gt;" in [tr["name"] for tr in json.loads(raw)["data"]]
    assert "=cmd|' /C calc'!A0" in set(at.dataframe[0].value[_en("embeddings.col.text")])


def test_presenter_run_live_computes_the_example(app):
    from components import curated

    at = _open_with(app, {"present": "1"})
    at.button(key="present_next_embeddings").click().run()  # the word analogies
    at.button(key="present_live_embeddings").click().run()
    assert not at.exception, at.exception
    assert at.radio(key="p_emb_method").value == emb.WORD
    assert at.selectbox(key="p_emb_example").value == "words_analogies"
    charts = at.get("plotly_chart")
    live_map = json.loads(charts[0].proto.spec)   # the live page replaces the example
    shipped = curated.load("embeddings")[1]["result"]
    assert html.unescape(live_map["layout"]["xaxis"]["title"]["text"]) == \
        f"PC1 ({100 * shipped['explained_variance_ratio_'][0]:.1f}%)"  # same PC1 share
    assert not at.get("slider")  # advanced controls stay hidden
