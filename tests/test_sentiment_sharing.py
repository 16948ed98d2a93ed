"""Sentiment page: permalinks, language, presenter mode, export and hostile input.

AppTest opens the page the way a browser opens a shared link: query parameters set and the
page chosen *before* the first run (``at.switch_page`` then ``at.run``). Most runs switch the
language model off (VADER and the MiniLM head are fast); one run per concern keeps it on.
"""
from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

import pandas as pd
import pytest

from components import i18n, permalink
from components import sentiment as S
from components import sentiment_wording as W

PAGE = "app_pages/sentiment.py"
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "$x$ **b** `code` # h",
    "ctrl\x00nul\x07bell\x1b[31m",
    "zero\u200bwidth\u200djoiner",
    "\u202eRTL override مرحبا بالعالم שלום",
    "🎉😀🔥",
]


def en(key: str, **values) -> str:
    return i18n.translate("en", key, **values)


def open_link(app, params: dict[str, str]):
    """A fresh session opening ``/sentiment?<params>`` (the page runs first, like a browser)."""
    at = app
    at.query_params.update(params)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at, kind: str) -> list[str]:
    """Bodies of the ``kind`` elements as a reader sees them: markdown's backslash escapes of
    ASCII punctuation (notices show their values literally) removed, as CommonMark renders them."""
    return [re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", e.value) for e in getattr(at, kind)]


def markdown_html(at) -> str:
    return "".join(m.value for m in at.markdown)


# ---------------------------------------------------------------------- permalinks
def test_link_fills_the_widgets_and_runs(app):
    at = open_link(app, {"text": "The food was awful and the waiter was rude.", "llm": "0",
                         "attr": "0", "run": "1"})
    assert at.text_area(key="p_sent_text").value == "The food was awful and the waiter was rude."
    assert at.toggle(key="p_sent_llm").value is False and at.toggle(key="p_sent_attr").value is False
    assert at.toggle(key="p_sent_head").value is True
    assert [m.value for m in at.metric] == [en("sentiment.label.negative")] * 2
    # what the page writes back into the address bar is the same link (defaults left out)
    assert dict(at.query_params) == {"text": "The food was awful and the waiter was rude.", "llm": "0", "attr": "0"}
    # the "copy link" box in the sidebar carries run=1
    link = [c.value for c in at.sidebar.code if "run=1" in c.value]
    assert link and "text=The+food+was+awful" in link[0]


def test_copied_link_reproduces_the_result(app):
    """Change settings in one session, take its query params, open them in a fresh one."""
    from streamlit.testing.v1 import AppTest

    at = open_link(app, {})
    at.toggle(key="p_sent_head").set_value(False)
    at.toggle(key="p_sent_fewshot").set_value(True)
    at.toggle(key="p_sent_attr").set_value(False)
    at.text_area(key="p_sent_text").set_value("Not my favourite, but the staff tried hard.").run()
    assert not at.exception
    metrics = [m.value for m in at.metric]
    captions = [c.value for c in at.caption if "P(positive)" in c.value]
    shared = dict(at.query_params)
    assert shared["fewshot"] == "1" and shared["head"] == "0" and "text" in shared

    fresh = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180)
    fresh = open_link(fresh, {**shared, "run": "1"})
    assert fresh.toggle(key="p_sent_fewshot").value is True
    assert [m.value for m in fresh.metric] == metrics and len(metrics) == 2
    assert [c.value for c in fresh.caption if "P(positive)" in c.value] == captions and captions


def test_invalid_and_hostile_link_values_are_ignored(app):
    at = open_link(app, {
        "input": "evil", "prompt": "evil/model", "calib": "nan", "llm": "maybe", "head": "-5",
        "template": "z1.!!!not-base64", "texts": "z1." + "A" * 40,
        "text": "<script>alert(1)</script>", "model": "evil/model", "run": "1",
    })
    assert at.radio(key="p_sent_input").value == "single"
    assert at.radio(key="p_sent_mode").value == S.DEFAULT_MODE
    assert at.toggle(key="p_sent_calibrate").value is False
    assert at.toggle(key="p_sent_llm").value is True and at.toggle(key="p_sent_head").value is True
    assert at.text_area(key="p_sent_template").value == S.DEFAULT_TEMPLATE
    ignored = [i for i in texts(at, "info") if "was ignored" in i]
    for name in ("input", "prompt", "calib", "llm", "head", "template", "texts"):
        assert any(f"({name}:" in i for i in ignored), name
    assert not any("model" in i for i in ignored)  # unknown names are skipped silently
    # a hostile but valid text is kept and shown literally
    assert at.text_area(key="p_sent_text").value == "<script>alert(1)</script>"
    assert "<script>" not in markdown_html(at) and "&lt;script&gt;" in markdown_html(at)
    assert len(at.metric) == 3


def test_batch_link_and_cross_link_to_the_map(app):
    lines = "I loved it.\nIt broke after a day.\nGreat value for money!"
    at = open_link(app, {"input": "lines", "texts": lines, "llm": "0", "run": "1"})
    table = at.dataframe[0].value
    assert list(table[en("sentiment.col.text")]) == lines.splitlines()
    vader_col = en("sentiment.col.batch_label", approach=en("sentiment.approach_short.vader"))
    assert list(table[vader_col]) == [en("sentiment.label.positive"), en("sentiment.label.negative"),
                                      en("sentiment.label.positive")]
    assert at.button(key="sent_to_map").label == en("sentiment.see_on_map")
    # the label counts chart has its table: per approach, counts add up to the batch size
    counts = at.dataframe[1].value
    assert (counts.drop(columns=en("sentiment.col.approach")).sum(axis=1) == 3).all()


def test_batch_row_cap_and_hostile_lines(app):
    at = open_link(app, {"input": "lines", "head": "0", "llm": "0", "run": "1"})
    many = "\n".join(f"line {i} is fine" for i in range(250))
    at.text_area(key="p_sent_lines").set_value(many).run()
    assert not at.exception
    assert any(en("sentiment.batch.cap", n=250, limit=200) == i for i in texts(at, "info"))
    assert len(at.dataframe[0].value) == 200
    # hostile lines are analysed and shown literally (NUL/control characters kept)
    at.text_area(key="p_sent_lines").set_value("\n".join(HOSTILE + ["x" * 100_000])).run()
    assert not at.exception
    shown = list(at.dataframe[0].value[en("sentiment.col.text")])
    assert shown[:len(HOSTILE)] == [h.strip() for h in HOSTILE]
    assert len(shown[-1]) == S.MAX_CHARS
    assert any(en("sentiment.batch.long", n=1, limit=f"{S.MAX_CHARS:,}") == i for i in texts(at, "info"))


def test_hostile_csv_cells(app):
    at = open_link(app, {"input": "csv", "head": "0", "llm": "0"})
    frame = pd.DataFrame({"review": HOSTILE, "n": range(len(HOSTILE))})
    data = frame.to_csv(index=False).encode("utf-8")
    at.file_uploader(key="sent_csv").set_value(("h.csv", data, "text/csv")).run()
    assert not at.exception
    shown = list(at.dataframe[0].value[en("sentiment.col.text")])
    assert shown == [h.strip() for h in HOSTILE]


# ---------------------------------------------------------------------- hostile single text
def test_hostile_single_texts_show_literally(app):
    at = open_link(app, {"llm": "0"})
    for payload in HOSTILE:
        at.text_area(key="p_sent_text").set_value(payload).run()
        assert not at.exception, (payload, at.exception)
        assert at.text_area(key="p_sent_text").value == payload
        assert len(at.metric) == 2
        html = markdown_html(at)
        assert "<script" not in html and "<img" not in html and "onerror=alert(1)>" not in html
    # the attribution highlights carry the words escaped, as typed
    at.text_area(key="p_sent_text").set_value("<b>x</b> was great").run()
    html = markdown_html(at)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "b&gt;x&lt;/b<" not in html  # not VADER's punctuation-stripped token
    assert escape(en("sentiment.vader.valences")) in html
    # template with hostile text: kept, prompt shown literally
    at.text_area(key="p_sent_template").set_value("<script>alert(1)</script> {text} $x$").run()
    assert not at.exception
    assert at.text_area(key="p_sent_template").value == "<script>alert(1)</script> {text} $x$"


def test_long_text_with_the_language_model_is_truncated_with_notices(app):
    at = open_link(app, {"head": "0", "attr": "0"})
    text = "good " * 25_000  # 125,000 characters; stripped: 124,999
    at.text_area(key="p_sent_text").set_value(text).run()
    assert not at.exception
    infos = texts(at, "info")
    assert en("sentiment.notice.chars_cut", n=f"{len(text.strip()):,}", limit=f"{S.MAX_CHARS:,}") in infos
    assert any("256" in i and "SmolLM2" in i for i in infos)
    assert len(at.metric) == 2


# ---------------------------------------------------------------------- language
def test_chinese_ui(app):
    at = open_link(app, {"lang": "zh", "llm": "0", "text": "I really love this little phone."})
    zh = lambda key, **v: i18n.translate("zh", key, **v)  # noqa: E731
    assert at.title[0].value == zh("sentiment.title")
    assert at.radio(key="p_sent_input").label == zh("sentiment.input.label")
    assert at.toggle(key="p_sent_head").label == zh("sentiment.approach.head")
    assert [m.label for m in at.metric] == [zh("sentiment.metric.label")] * 2
    assert [m.value for m in at.metric] == [zh("sentiment.label.positive")] * 2
    assert escape(zh("sentiment.attr.title_prob")) in markdown_html(at)
    heat = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = [f for f in heat if f["data"][0]["type"] == "heatmap"]
    assert heat and zh("sentiment.approach_short.head") in heat[0]["data"][0]["y"]


# ---------------------------------------------------------------------- presenter mode
@pytest.fixture
def no_models(monkeypatch):
    """Any model load fails the test: a slide is drawn from its JSON alone."""
    from components import cache
    from components.loading import preparation

    def refuse(*_a, **_k):
        raise AssertionError("no model may load before the curated example is shown")

    monkeypatch.setattr(cache, "get_model", refuse)
    monkeypatch.setattr(preparation, "load_model", refuse)


def test_presenter_mode_shows_the_curated_example_without_models(app, no_models):
    from components import curated

    at = open_link(app, {"present": "1"})
    examples = curated.load("sentiment")
    first = examples[0]["result"]
    assert [m.value for m in at.metric] == [en(f"sentiment.label.{r['label']}") for r in first["results"]]
    assert en("ui.present.precomputed") in texts(at, "caption")
    assert at.button(key="present_live_sentiment").label == en("ui.present.use_inputs")
    # a slide: nothing of the live page below the example
    assert not at.main.toggle and not at.main.text_area and not at.main.radio
    # step to the Chinese example: VADER reads none of it (its "neutral" is no verdict) and
    # MiniLM knows 2 of its characters: both say "not meaningful"; SmolLM2 reads it as bytes
    chinese = next(i for i, e in enumerate(examples) if e["id"] == "chinese")
    for _ in range(chinese):
        at.button(key="present_next_sentiment").click().run()
    assert not at.exception
    assert examples[chinese]["result"]["results"][0]["label"] == "neutral"
    assert [m.value for m in at.metric] == [en("coverage.not_meaningful")] * 2 + [en("sentiment.label.positive")]
    assert "VADER can read only 0%" in " ".join(texts(at, "warning"))
    assert examples[chinese]["result"]["text"] in [c.value for c in at.code]


def test_presenter_run_live_applies_the_example(app):
    from components import curated

    at = open_link(app, {"present": "1"})
    assert len(at.metric) == 3  # only the curated example: nothing computed live yet
    example = curated.load("sentiment")[1]
    at.button(key="present_next_sentiment").click().run()
    at.session_state["p_sent_llm"] = False  # keep the live run short (the example does not set it)
    at.button(key="present_live_sentiment").click().run()
    assert not at.exception
    assert at.text_area(key="p_sent_text").value == example["params"]["text"]
    stored = {r["approach"]: r for r in example["result"]["results"]}
    # the live VADER and head results replace the curated example, same labels as stored
    live = [m.value for m in at.metric]
    assert live == [en(f"sentiment.label.{stored[a]['label']}") for a in (S.VADER, S.HEAD)]
    # the advanced controls stay hidden live
    keys = {w.key for w in at.toggle}
    assert "p_sent_calibrate" not in keys and "p_sent_attr" not in keys and "p_sent_hub" not in keys


def test_presenter_domains_slide_shows_the_shipped_table_without_models(app, no_models):
    from components import curated
    from components import sentiment_benchmarks as B

    at = open_link(app, {"present": "1"})
    examples = curated.load("sentiment")
    index = next(i for i, e in enumerate(examples) if e.get("kind") == "domains")
    for _ in range(index):
        at.button(key="present_next_sentiment").click().run()
    assert not at.exception
    result = examples[index]["result"]
    tables = [tb.value for tb in at.table]
    cross, paper = tables[0], tables[1]
    assert list(cross.columns) == [en("sentiment.col.approach")] + [en(f"sentiment.bench.set.{n}") for n in B.SETS]
    assert len(cross) == 3  # VADER, the head, SmolLM2: the three approaches without a Hub model
    for cell in result["cells"]:
        row = cross.index[cross[en("sentiment.col.approach")] == en(f"sentiment.approach.{cell['approach']}")][0]
        shown = cross.loc[row, en(f"sentiment.bench.set.{cell['set']}")]
        assert f"{cell['macro_f1']:.3f} [{cell['low']:.3f}, {cell['high']:.3f}]" in shown
    # one ★ per set, on the approach with the highest stored macro-F1
    for name in B.SETS:
        column = cross[en(f"sentiment.bench.set.{name}")].tolist()
        assert sum(c.startswith("★") for c in column) == 1
        best = max((c for c in result["cells"] if c["set"] == name), key=lambda c: c["macro_f1"])
        assert column[result["approaches"].index(best["approach"])].startswith("★")
    # the paper's Table 4 figures beside the page's VADER on the full sets
    assert paper[en("sentiment.bench.col.paper_f1")].tolist() == [B.PAPER_VADER_F1[n] for n in B.SETS]
    assert paper[en("sentiment.bench.col.n")].tolist() == [c["n"] for c in result["paper"]]
    assert all(c["n"] > result["cap"] for c in result["paper"])
    assert en("sentiment.domains.sample", n=result["cap"], seed=result["seed"]) in texts(at, "caption")
    assert any("No approach wins everywhere" in m.value for m in at.markdown)


def test_presenter_domains_live_opens_the_evaluation_panel(app):
    from components import curated

    at = open_link(app, {"present": "1", "llm": "0", "head": "0"})
    examples = curated.load("sentiment")
    index = next(i for i, e in enumerate(examples) if e.get("kind") == "domains")
    for _ in range(index):
        at.button(key="present_next_sentiment").click().run()
    at.button(key="present_live_sentiment").click().run()
    assert not at.exception
    params = examples[index]["params"]
    assert en("sentiment.domains.live_below") in texts(at, "caption")
    assert not at.metric  # the default text is not analysed: only the evaluation panel runs
    assert at.selectbox(key="p_sent_bench_set").value == params["bset"]
    assert at.number_input(key="p_sent_bench_cap").value == params["bcap"]
    assert at.number_input(key="p_sent_bench_seed").value == params["bseed"]
    # the live evaluation ran (VADER only here) on the example's sample: its macro-F1 is the stored one
    stored = next(c for c in examples[index]["result"]["cells"]
                  if c["approach"] == S.VADER and c["set"] == params["bset"])
    bench = next(tb.value for tb in at.table if en("sentiment.bench.col.macro_f1") in tb.value.columns)
    assert bench[en("sentiment.bench.col.n")].tolist() == [stored["n"]]
    assert bench[en("sentiment.bench.col.macro_f1")].iloc[0].startswith(f"{stored['macro_f1']:.3f}")


# ---------------------------------------------------------------------- export
def test_report_escapes_inputs_and_embeds_figures():
    from components import charts_sentiment as C
    from components.report import build_report

    text = "<script>alert(1)</script> great <img src=x onerror=alert(1)>"
    res = S.result_dict(S.vader_sentiment(text))
    fig = C.probability_bars(res["scores"], names={"positive": "pos<b>"})
    heat = C.attribution_heatmap([p[0] for p in res["attribution"]], {"VADER": [p[1] for p in res["attribution"]]})
    sections = W.report_sections(text, [res], [("bars", fig), ("matrix", heat)], S.PromptSettings(), True, "en")
    doc = build_report("Sentiment", sections, html_lang="en")
    assert "<script>alert(1)</script>" not in doc and "<img src=x" not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in doc
    assert doc.count('class="plotly-graph-div"') == 2
    assert escape(en("sentiment.vader.valences")) in doc and en("sentiment.approach.vader") in doc
    assert f"{res['p_positive']:.4f}".rstrip("0") in doc
    zh_doc = build_report("情感", W.report_sections(text, [res], [], S.PromptSettings(), True, "zh"), html_lang="zh-CN")
    assert i18n.translate("zh", "sentiment.label.positive") in zh_doc


def test_page_offers_report_and_csv_downloads(app):
    at = open_link(app, {"llm": "0", "text": "Lovely staff."})
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count(en("ui.report.button")) == 1
    assert labels.count(en("ui.table.csv")) >= 3  # two score charts + the attribution matrix


def test_attribution_html_and_heatmap_escape_words():
    from components import charts_sentiment as C

    html = C.attribution_html([("<b>x</b>", 0.5, False), ("y", -0.25, True)], title="<i>t</i>")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "&lt;i&gt;" in html
    assert "rgba(0,114,178,0.60)" in html and "rgba(213,94,0,0.30)" in html  # scaled to the largest |w|
    fig = C.attribution_heatmap(["<b>", "ok", "ok"], {"A<": [0.5, None, -1.0]})
    assert list(fig.data[0].x) == ["&lt;b&gt;", "ok", "ok #3"] and list(fig.data[0].y) == ["A&lt;"]
    assert fig.data[0].zmin == -1.0 and fig.data[0].zmax == 1.0


def test_curated_examples_cover_the_brief():
    from components import curated
    from components import sentiment_benchmarks as B

    examples = curated.load("sentiment")
    assert [e["id"] for e in examples] == ["positive", "negation", "sarcasm", "chinese", "domains"]
    domains = examples.pop()
    assert domains["kind"] == "domains"
    values, notices = permalink.parse({k: str(v) for k, v in domains["params"].items()}, [
        permalink.Param("bset", "s", permalink.CHOICE, B.SETS[0], choices=B.SETS),
        permalink.Param("bcap", "c", permalink.INT, B.DEFAULT_CAP, B.MIN_CAP, B.MAX_CAP),
        permalink.Param("bseed", "d", permalink.INT, B.DEFAULT_SEED, 0, 2**31 - 1)])
    assert notices == [] and (values["c"], values["d"]) == (domains["result"]["cap"], domains["result"]["seed"])
    cells = domains["result"]["cells"]
    assert sorted((c["approach"], c["set"]) for c in cells) == sorted(
        (a, n) for a in (S.VADER, S.HEAD, S.LLM) for n in B.SETS)
    assert all(c["n"] == domains["result"]["cap"] and c["low"] <= c["macro_f1"] <= c["high"] for c in cells)
    assert [c["set"] for c in domains["result"]["paper"]] == list(B.SETS)
    # the point of the slide: the winner changes with the domain
    assert len(set(B.winners({(c["approach"], c["set"]): B.cell_from_record(c) for c in cells}).values())) > 1
    for e in examples:
        assert [r["approach"] for r in e["result"]["results"]] == [S.VADER, S.HEAD, S.LLM]
        assert all(r["attribution"] for r in e["result"]["results"])
        assert "seconds" not in e["result"]["results"][0]
        # params are valid link values for the page's schema
        values, notices = permalink.parse({k: str(v) for k, v in e["params"].items()},
                                          [permalink.Param("input", "i", permalink.CHOICE, "single",
                                                           choices=("single", "lines", "csv")),
                                           permalink.Param("text", "t", permalink.TEXT, "")])
        assert notices == [] and values["t"] == e["result"]["text"]
