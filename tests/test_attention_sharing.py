"""Attention page, sharing and hostile-input contract: links in and out (incl. the generation cross-link),
bad/hostile link values, Chinese UI, presenter mode without any model, the HTML report, and
hostile text in every text input. Real models (bundled MiniLM / SmolLM2), real values."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from components import curated, i18n, permalink
from components.attention import get_attention, snapshot
from components.charts_attention import attention_heatmap, matrix_table, report_sections
from components.report import build_report
from tests.conftest import plotly_array

PAGE = "app_pages/attention.py"
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "$x$ **b** `code` # h",
    "a\x00b\x01c\x1f",
    "zero\u200bwidth\u200djoin",
    "\u202eRTL override مرحبا بالعالم שלום עולם",
    "🙂🙃🧪",
]


def _en(key, **values):
    return i18n.translate("en", f"attention.{key}", **values)


def _open_with(app, params: dict):
    """Open the attention page as a fresh browser would open a link with ``params``."""
    at = app
    at.switch_page(PAGE)
    for k, v in permalink.free_encode(params).items():
        at.query_params[k] = v
    at.run()
    return at


def _heatmap(at, index=0):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _chart_strings(at) -> str:
    """Every string plotly will draw or show on hover (decoded JSON), joined."""
    out = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return "\n".join(out)


def _texts(at, kind):
    return " ".join(str(e.value) for e in at.get(kind))


def test_link_fills_widgets_and_shows_the_result(app, minilm):
    text = "Where is the cat? 猫在哪里？"
    at = _open_with(app, {"text": text, "model": "all-minilm-l6-v2", "layer": 2, "head": 5, "cap": 16,
                          "pair": "It sleeps.", "run": 1})
    assert not at.exception
    assert at.text_area(key="p_att_text").value == text
    assert at.text_input(key="p_att_pair").value == "It sleeps."
    assert at.selectbox(key="p_att_model").value == "all-minilm-l6-v2"
    assert at.selectbox(key="p_att_layer").value == 2 and at.selectbox(key="p_att_head").value == 5
    assert at.slider(key="p_att_cap").value == 16
    spec = _heatmap(at)
    assert spec["layout"]["title"]["text"] == _en("chart.head_title", layer=2, head=5)
    expected = get_attention(minilm, text, "It sleeps.", max_tokens=16).attentions[2, 5]
    np.testing.assert_allclose(np.array(plotly_array(spec["data"][0]["z"])), expected, atol=1e-4)
    # the chart's table holds the same matrix, with token labels
    tables = [d.value for d in at.dataframe if _en("table.corner") in d.value.columns]
    np.testing.assert_allclose(tables[0].iloc[:, 1:].to_numpy(dtype=float), np.round(expected, 4), atol=1e-9)
    # and the page writes its state back into the address bar (same values -> same view)
    assert at.query_params["layer"] in ("2", ["2"]) and at.query_params["model"] in (
        "all-minilm-l6-v2", ["all-minilm-l6-v2"])


def test_generation_cross_link_long_text_is_cut_with_a_notice(app, smollm2):
    """generation -> attention: {"text": prompt + generated text, "model": key} + run=1."""
    prompt = "Once upon a time, in a small village by the sea,"
    generated = " there lived an old fisherman who told stories every night." * 12
    at = _open_with(app, {"text": prompt + generated, "model": "smollm2-135m-instruct", "run": 1})
    assert not at.exception
    assert at.text_area(key="p_att_text").value == prompt + generated  # the whole text is kept
    full = get_attention(smollm2, prompt + generated).n_tokens_full
    assert full > 64
    assert _en("msg.truncated", full=full, cap=64, n=64, limit=256) in _texts(at, "warning")
    spec = _heatmap(at)
    assert len(spec["data"][0]["x"]) == 64
    assert "Once" in spec["data"][0]["x"][0]


@pytest.mark.parametrize("params", [
    {"model": "evil/model", "layer": "-5", "head": "abc", "view": "<script>", "cap": "nan", "hide": "maybe",
     "cmap": "jet", "agg": "../../etc/passwd"},
    {"model": "all-minilm-l6-v2", "layer": "99", "head": "40"},
])
def test_bad_link_values_fall_back_with_a_notice(app, params):
    at = app
    at.switch_page(PAGE)
    for k, v in params.items():
        at.query_params[k] = v
    at.query_params["text"] = "<script>alert(1)</script>"
    at.query_params["run"] = "1"
    at.run()
    assert not at.exception
    infos = _texts(at, "info")
    if params["model"] == "evil/model":
        assert at.selectbox(key="p_att_model").value == "smollm2-135m-instruct"  # default kept
        assert at.session_state["p_att_layer"] == 0 and at.session_state["p_att_cap"] == 64
        assert at.radio(key="p_att_view").value == "head" and at.session_state["p_att_hide"] is False
        for name in ("model", "layer", "head", "view", "cap", "hide", "cmap", "agg"):
            assert i18n.translate("en", "ui.link.ignored", name=name, reason="x").split("(")[0] in infos
            assert f"({name}:" in infos, name
    else:  # in range for a link, out of range for this model: reset once the model is known
        name = "all-MiniLM-L6-v2 (bundled)"
        assert _en("msg.reset_layer", name=name, limit=6, last=5, value=99) in infos
        assert _en("msg.reset_head", name=name, limit=12, last=11, value=40) in infos
        assert at.selectbox(key="p_att_layer").value == 0
    assert at.text_area(key="p_att_text").value == "<script>alert(1)</script>"
    drawn = _chart_strings(at)
    assert "<script" not in drawn and "&lt;" in drawn  # token labels escaped for plotly


def test_chinese_ui(app):
    at = _open_with(app, {"lang": "zh", "model": "all-minilm-l6-v2", "text": "今天的天气很好。"})
    assert not at.exception
    zh = i18n.strings("zh")
    assert at.title[0].value == zh["attention.title"]
    assert at.radio(key="p_att_view").label == zh["attention.view.label"]
    assert at.text_area(key="p_att_text").label == zh["attention.input.text"]
    assert _heatmap(at)["layout"]["title"]["text"] == zh["attention.chart.head_title"].format(layer=0, head=0)
    assert _heatmap(at)["layout"]["xaxis"]["title"]["text"] == zh["attention.chart.key_axis"]
    assert any(e.label.endswith(zh["attention.explainer.title"]) for e in at.expander)
    at.radio(key="p_att_view").set_value("formula").run()
    assert not at.exception and "达到 float32 精度" in _texts(at, "markdown")


def test_presenter_mode_shows_curated_example_without_any_model(app, monkeypatch, minilm):
    import components.cache
    import components.loading.preparation

    def no_model(*args, **kwargs):
        raise AssertionError("presenter mode must not load a model before 'run live'")

    monkeypatch.setattr(components.cache, "get_model", no_model)
    monkeypatch.setattr(components.loading.preparation, "load_model", no_model)
    at = _open_with(app, {"present": "1"})
    assert not at.exception
    stored = curated.load("attention")[0]
    spec = _heatmap(at)
    assert spec["layout"]["title"]["text"] == _en("chart.head_title", layer=stored["params"]["layer"],
                                                    head=stored["params"]["head"])
    np.testing.assert_allclose(np.array(plotly_array(spec["data"][0]["z"])), stored["result"]["matrix"], atol=1e-6)
    assert i18n.translate("en", "ui.present.precomputed") in _texts(at, "caption")
    # a slide: nothing of the live page below the example
    assert not at.text_area and not at.slider and [b.key for b in at.main.button if b.key == "present_live_attention"]
    # a copied link of this view reopens the precomputed example (no run=1)
    assert "run" not in at.query_params
    # "run live": the example's inputs go into the widgets and the real model computes
    monkeypatch.undo()
    at.button(key="present_live_attention").click().run()
    assert not at.exception
    assert at.text_area(key="p_att_text").value == stored["params"]["text"]
    assert at.selectbox(key="p_att_model").value == stored["params"]["model"]
    live = np.array(plotly_array(_heatmap(at)["data"][0]["z"]))
    np.testing.assert_allclose(live, stored["result"]["matrix"], atol=2e-3)
    assert not any(s.key == "p_att_cap" for s in at.slider)
    # back to the slide: the precomputed example again, no live widget
    at.button(key="present_back_attention").click().run()
    assert not at.exception and not at.text_area
    assert any(b.key == "present_live_attention" for b in at.button)


def test_presenter_slide_figures_are_built_once_and_never_resized_again(app):
    """The slide's figures are cached and shared: every run (and session) draws the same
    figure, sized for the projector exactly once (1.25 x the chart's own height)."""
    at = _open_with(app, {"present": "1"})
    assert not at.exception
    first = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(first) == 2  # the example's head and the small multiples of its layer
    for _ in range(2):
        at.run()
    again = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert again == first
    snap = curated.load("attention")[0]["result"]
    own = attention_heatmap(np.asarray(snap["matrix"]), snap["labels"], snap["raw_tokens"], title="x")
    assert first[0]["layout"]["height"] == int((own.layout.height or 450) * 1.25)
    assert first[0]["layout"]["font"]["size"] == 18


def test_report_escapes_inputs_and_embeds_the_figures(minilm):
    text = "<script>alert(1)</script> The <img src=x onerror=alert(1)> cat."
    res = get_attention(minilm, text, max_tokens=32)
    snap = snapshot(res, 1, 2, text, None, "MiniLM")
    fig = attention_heatmap(res.attentions[1, 2], res.labels, res.raw_tokens, title="<b>t</b>")
    table = matrix_table(res.attentions[1, 2], res.labels, res.labels)
    for lang in ("en", "zh"):
        sections = report_sections(snap, [("Heatmap", fig)], [("Matrix", table)], {"View": "<i>head</i>"}, lang=lang)
        html = build_report(i18n.translate(lang, "attention.report.title"), sections, html_lang=i18n.html_lang(lang))
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;i&gt;head&lt;/i&gt;" in html
        assert html.count("Plotly.newPlot") == 1
        assert f"{np.round(res.attentions[1, 2, 0, 0], 4):.4g}" in html  # the matrix numbers are in the table
        assert i18n.translate(lang, "attention.report.tokens") in html
    assert "注意力可视化" in html and "模型" in html


def test_hostile_text_in_every_input_shows_literally(app):
    at = _open_with(app, {"model": "all-minilm-l6-v2", "view": "overview"})
    assert not at.exception
    for payload in HOSTILE + ["long " * 20_000]:
        at.text_area(key="p_att_text").input(payload).run()
        at.text_input(key="p_att_pair").input(payload[:200]).run()
        assert not at.exception, repr(payload[:40])
        assert at.text_area(key="p_att_text").value == payload
        assert at.text_input(key="p_att_pair").value == payload[:200]
        assert not at.error, repr(payload[:40])
        drawn = _chart_strings(at)
        assert "<script" not in drawn and "<img" not in drawn
        if payload.startswith("<"):
            assert "&lt;" in drawn
        if len(payload) > 1000:
            assert re.search(r"The input has \d+ tokens, more than the cap of \d+", _texts(at, "warning"))
    # a 100 000-character text is kept in the box and cut to the token cap for the model
    huge = ("今天的天气很好 " * 12_500)[:100_000]
    at.text_area(key="p_att_text").input(huge).run()
    assert not at.exception and at.text_area(key="p_att_text").value == huge
    assert re.search(r"The input has \d+ tokens, more than the cap of \d+", _texts(at, "warning"))


def test_head_box_relabels_after_a_model_switch(app):
    """SmolLM2 (grouped-query attention) labels heads with their KV head; MiniLM does not. The
    browser shows a selectbox's value by its label, so the switch must send the new label."""
    from components.catalog import MINILM, SMOLLM2

    at = _open_with(app, {"model": SMOLLM2, "view": "head"})
    box = at.selectbox(key="p_att_head")
    assert box.options[0] == _en("sel.head_option_kv", h=0, kv=0)
    at.selectbox(key="p_att_model").set_value(MINILM).run()
    assert not at.exception
    box = at.selectbox(key="p_att_head")
    assert box.options[:2] == [_en("sel.head_option", h=0), _en("sel.head_option", h=1)]
    assert box.proto.set_value and box.proto.raw_value == _en("sel.head_option", h=0)
    # a change that keeps the labels leaves the browser's choice alone
    at.selectbox(key="p_att_layer").set_value(2).run()
    assert not at.selectbox(key="p_att_head").proto.set_value


def test_merged_characters_view_and_link(app, smollm2):
    """Chinese on SmolLM2: the page offers one row per character; the heatmap is then the
    merged matrix with character labels, and the link carries the choice."""
    from components.attention import merge_pieces
    from components.tokens import group_spans, token_chips

    text = "今天天气很好"
    at = _open_with(app, {"text": text, "model": "smollm2-135m-instruct", "layer": 4, "head": 1, "run": 1})
    assert not at.exception
    real = get_attention(smollm2, text, None, max_tokens=at.slider(key="p_att_cap").value)
    assert len(plotly_array(_heatmap(at)["data"][0]["z"])) == real.seq_len  # the real tokens first
    at.toggle(key="p_att_merge").set_value(True).run()
    assert not at.exception
    spans = group_spans(real.pieces)
    spec = _heatmap(at)
    np.testing.assert_allclose(np.array(plotly_array(spec["data"][0]["z"])),
                               merge_pieces(real.attentions[4, 1], spans), atol=1e-4)
    axis = json.dumps([spec["layout"]["xaxis"], spec["data"][0].get("x")], ensure_ascii=False)
    assert "今" in axis and "(1/" not in axis  # whole characters, no "今 (1/2)" pieces
    assert len(token_chips(real.pieces)) == len(spans) < real.seq_len
    assert any("|row sum − 1|" in c.value for c in at.caption)
    assert at.query_params["merge"] in ("1", ["1"])
