"""Permalinks, reports, palettes and the router's link handling (the shared layer of sharing and hostile-input handling)."""
from __future__ import annotations

import base64
import zlib

import pandas as pd
import plotly.graph_objects as go
import pytest

from components import i18n, palettes, permalink
from components.messages import Message
from components.permalink import BOOL, CHOICE, FLOAT, INT, TEXT, TEXTS, Param
from components.report import Section, build_report

SCHEMA = [
    Param("text", "p_text", TEXT, "hello"),
    Param("temp", "p_temp", FLOAT, 0.8, 0.0, 2.0),
    Param("k", "p_k", INT, 50, 0, 200),
    Param("sample", "p_sample", BOOL, True),
    Param("model", "p_model", CHOICE, "a", choices=("a", "b")),
    Param("texts", "p_texts", TEXTS, []),
]
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           "$x$ **b** `c` # h", "a\x00b\u200b\u200d\u202eabc", "مرحبا שלום", "🙂🙃🧪", "z1.notcompressed"]


@pytest.mark.parametrize("text", HOSTILE + ["x" * 100_000, "今天的天气很好，适合出去散步。" * 50])
def test_text_round_trips_through_a_link(text):
    values = {"p_text": text, "p_temp": 0.3, "p_k": 7, "p_sample": False, "p_model": "b", "p_texts": [text, "b"]}
    query, notices = permalink.encode(values, SCHEMA, budget=10**7)
    assert notices == []
    parsed, problems = permalink.parse(query, SCHEMA)
    assert problems == []
    assert parsed == values


def test_defaults_are_left_out_and_long_text_is_compressed():
    query, _ = permalink.encode({"p_text": "hello", "p_temp": 0.8, "p_k": 50}, SCHEMA)
    assert query == {}
    long_text = "The cat sat on the mat. " * 400   # 9 600 characters, very repetitive
    query, notices = permalink.encode({"p_text": long_text}, SCHEMA)
    assert query["text"].startswith("z1.") and len(query["text"]) < 300 and notices == []


def test_text_too_long_for_a_link_is_dropped_with_a_notice():
    import random

    rng = random.Random(0)
    noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(20_000))
    query, notices = permalink.encode({"p_text": noise, "p_temp": 0.5}, SCHEMA)
    assert "text" not in query and query["temp"] == "0.5"
    assert notices == [Message("ui.link.too_long", {"name": "text", "chars": 20_000})]


@pytest.mark.parametrize("name,raw", [
    ("temp", "nan"), ("temp", "inf"), ("temp", "-1"), ("temp", "9"), ("temp", "abc"), ("temp", "1" * 400),
    ("k", "2.5"), ("k", "-5"), ("k", "1e9"), ("sample", "maybe"), ("model", "evil/model"),
    ("model", "../../etc/passwd"), ("texts", "[1,2]"), ("texts", "{\"a\":1}"), ("texts", "not json"),
    ("text", "z1.!!!!"), ("text", "z1." + base64.urlsafe_b64encode(b"\xff\xfe").decode()),
])
def test_invalid_values_are_ignored_with_a_notice(name, raw):
    values, notices = permalink.parse({name: raw, "unknown": "x", "run": "1"}, SCHEMA)
    assert values == {}
    assert len(notices) == 1 and notices[0].code == "ui.link.ignored" and notices[0].params["name"] == name


def test_compression_bomb_is_refused_without_inflating_it():
    bomb = permalink.COMPRESSED_PREFIX + base64.urlsafe_b64encode(zlib.compress(b"a" * 50_000_000, 9)).decode()
    assert len(bomb) < 100_000
    values, notices = permalink.parse({"text": bomb}, SCHEMA)
    assert values == {} and notices[0].params["reason"] == Message("ui.link.reason.text_too_long")


def test_lists_take_the_last_value_and_run_flag():
    values, _ = permalink.parse({"k": ["3", "4"]}, SCHEMA)
    assert values == {"p_k": 4}
    assert permalink.wants_run({"run": "1"}) and not permalink.wants_run({"run": "x"}) and not permalink.wants_run({})


def test_report_escapes_text_and_embeds_plotly_once():
    fig = go.Figure(go.Bar(x=["<b>a</b>", "b"], y=[1, 2]))
    html = build_report("<script>t</script>", [
        Section("Inputs", "kv", {"prompt": "<script>alert(1)</script>"}),
        Section("Output", "text", "<img src=x onerror=alert(1)>"),
        Section("Table", "table", pd.DataFrame({"token": ["<i>x</i>"], "p": [0.5]})),
        Section("Chart", "figure", fig),
        Section("Chart 2", "figure", fig),
    ])
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert html.count("Plotly.newPlot") == 2
    # plotly.js itself is inlined (the report opens offline), exactly once, and nothing is fetched
    assert html.count("plotly.js v") == 1 and "<link " not in html
    assert "<script src=" not in html


def test_palettes_are_okabe_ito():
    assert palettes.categorical(3) == ["#0072B2", "#E69F00", "#009E73"]
    assert len(set(palettes.categorical(8))) == 8 and palettes.categorical(9)[8] == palettes.OKABE_ITO[0]


# ---------------------------------------------------------------- router + Home through AppTest
def test_link_sets_language_and_presenter_mode(app):
    app.query_params["lang"] = "zh"
    app.query_params["present"] = "1"
    app.run()
    assert not app.exception
    assert app.session_state["p_lang"] == "zh" and app.session_state["p_presenter"] is True
    assert app.title[0].value == "🧪 LLM Lab 大模型实验室"
    assert "模型" in app.subheader[0].value


@pytest.mark.parametrize("query", [{"lang": "<script>alert(1)</script>"}, {"present": "maybe"},
                                   {"lang": "zh" * 5000}, {"unknown": "1", "run": "yes"}])
def test_bad_global_parameters_fall_back_to_defaults(app, query):
    for k, v in query.items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    assert app.session_state["p_lang"] == "en" and app.session_state["p_presenter"] is False
    assert app.title[0].value == "🧪 LLM Lab"


def test_switching_language_is_written_into_the_link(app):
    app.run()
    assert app.query_params.get("lang") is None
    app.session_state["p_lang"] = "zh"   # what the sidebar's language control sets
    app.run()
    assert not app.exception
    assert app.query_params.get("lang") in ("zh", ["zh"])
    assert app.title[0].value.endswith("大模型实验室")
    # the written link is not taken for a new one: switching back sticks
    app.session_state["p_lang"] = "en"
    app.run()
    assert app.title[0].value == "🧪 LLM Lab" and app.query_params.get("lang") is None


def test_csv_download_defuses_spreadsheet_formulas():
    from components.ui import csv_bytes

    df = pd.DataFrame({"text": ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "plain 中文", "-x"],
                       "score": [-0.5, 1.0, 2.0, 3.0, 4.0]})
    out = csv_bytes(df).decode("utf-8-sig").splitlines()
    assert out[1] == "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",-0.5"
    assert out[2] == "'+1,1.0" and out[3] == "'@SUM(A1),2.0" and out[4] == "plain 中文,3.0" and out[5] == "'-x,4.0"


def test_a_link_resets_settings_it_leaves_out(app):
    """A link omits defaults, so opening it must not keep this session's other settings."""
    app.run()
    app.session_state["p_presenter"] = True
    app.session_state["p_present_home"] = 3
    app.run()
    app.query_params.clear() if hasattr(app.query_params, "clear") else None
    app.query_params["lang"] = "zh"   # a new link: only the language
    app.run()
    assert not app.exception
    assert app.session_state["p_present_home"] == 0      # page setting back to its default
    assert app.title[0].value.endswith("大模型实验室")


def test_a_stale_address_of_our_own_is_not_taken_for_a_link(app):
    """Each rerun carries the address the browser shows, which lags the session's own writes
    while a run is in flight (an input touched mid-run). Such an echo of an earlier address
    of this session must not be applied like a shared link (that resets the page's settings)."""
    app.run()
    app.session_state["p_lang"] = "zh"
    app.run()
    stale = dict(app.query_params)               # the address after the first change
    assert stale
    app.session_state["p_presenter"] = True
    app.session_state["p_present_home"] = 2
    app.run()
    assert app.query_params.get("ex") in ("2", ["2"])
    for k in list(app.query_params):             # the browser sends the older address
        del app.query_params[k]
    app.query_params.update(stale)
    app.run()
    assert not app.exception
    assert app.session_state["p_present_home"] == 2
    assert app.session_state["p_presenter"] is True and app.session_state["p_lang"] == "zh"


def test_token_spans_isolate_bidi_overrides():
    """A typed U+202E must not reverse the tokens after it (each span is its own bidi island)."""
    from components.charts_sentiment import attribution_html

    html_out = attribution_html([("\u202eabc", 0.5, False), ("next", -0.2, True)])
    assert html_out.count("<span") == html_out.count("unicode-bidi:isolate") == 2


def test_report_document_language_follows_the_ui_language():
    assert '<html lang="zh-CN">' in build_report("报告", [], html_lang=i18n.html_lang("zh"))
    assert '<html lang="en">' in build_report("Report", [], html_lang=i18n.html_lang("en"))
    assert '<html lang="&quot;&gt;">' in build_report("r", [], html_lang='">')  # an attribute, escaped
