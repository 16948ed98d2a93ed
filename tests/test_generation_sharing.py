"""Generation page: permalinks, language, presenter mode, report export, hostile input."""
from __future__ import annotations

import json

import pytest

from components import i18n, permalink
from components.generation import (
    COMPLETE,
    GenerationSettings,
    distribution_record,
    generate_text,
    next_token_distribution,
    prepare_inputs,
    sample_record,
)
from components.generation_wording import report_sections
from tests.conftest import ROOT, plotly_array

PAGE = "app_pages/generation.py"
HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           "$x$ **b** `code` # h", "a\x00b\x07c", "\u200b\u200d zero width", "\u202eabc مرحبا שלום", "🙂🙃🧪"]


def en(key: str, **values) -> str:
    return i18n.translate("en", key, **values)


def _open(at, **query):
    """Run the app, switch to the generation page and run it with ``query`` as the URL's
    parameters (as when a copied link is opened)."""
    at.run()
    at.switch_page(PAGE)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _fresh_app():
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)


def _output(at) -> str:
    return at.main.code[0].value


def _messages(at) -> str:
    return " ".join(e.value for e in [*at.info, *at.warning, *at.error])


def test_copied_link_regenerates_the_same_text(app):
    """Generate with sampling in one session; open its link (run=1) in a fresh session: same
    widgets, same text (same seed)."""
    at = _open(app)
    at.text_area(key="p_gen_prompt").set_value("The robot opened the door and")
    at.slider(key="p_gen_max_new").set_value(8)
    at.slider(key="p_gen_temp").set_value(1.1)
    at.slider(key="p_gen_topk").set_value(30)
    at.number_input(key="p_gen_seed").set_value(1234)
    at.button(key="gen_go").click()
    at.run()
    assert not at.exception
    pressed = _output(at)
    assert pressed
    link = {k: at.query_params[k] for k in at.query_params}
    link = {k: v[-1] if isinstance(v, list) else v for k, v in link.items()}
    assert link["seed"] == "1234" and link["max_new"] == "8" and link["temp"] == "1.1" and link["top_k"] == "30"
    # the sidebar's copy box carries the same parameters plus run=1
    box = [c.value for c in at.sidebar.code if "/generation?" in c.value]
    assert box and "run=1" in box[0] and "seed=1234" in box[0]

    fresh = _open(_fresh_app(), **link, run="1")
    assert fresh.text_area(key="p_gen_prompt").value == "The robot opened the door and"
    assert fresh.number_input(key="p_gen_seed").value == 1234
    assert fresh.slider(key="p_gen_temp").value == 1.1 and fresh.slider(key="p_gen_topk").value == 30
    assert _output(fresh) == pressed
    # and no "set via Session State and default value" warning from Streamlit widgets
    assert not [w for w in fresh.warning if "Session State" in w.value]


@pytest.mark.parametrize("query", [
    {"model": "evil/model", "temp": "nan", "max_new": "9999", "top_k": "-5", "seed": "abc", "mode": "<script>",
     "sample": "maybe", "top_p": "2", "n": "0", "rep": "inf", "ngram": "1e9", "unknown": "x"},
    {"model": "../../etc/passwd", "temp": "-1", "max_new": "1" * 400, "prompt": "z1.!!!!"},
])
def test_invalid_link_values_are_ignored_with_defaults(app, query):
    at = _open(app, **query, run="yes")
    assert not at.exception
    assert at.selectbox(key="p_gen_model").value == "smollm2-135m-instruct"
    assert at.slider(key="p_gen_temp").value == 0.8 and at.slider(key="p_gen_max_new").value == 64
    assert at.slider(key="p_gen_topk").value == 50 and at.number_input(key="p_gen_seed").value == 42
    assert at.radio(key="p_gen_mode").value == COMPLETE and at.toggle(key="p_gen_sample").value is True
    ignored = [i.value for i in at.info if i.value.startswith(en("ui.link.ignored").split("(")[0])]
    assert len(ignored) == len([k for k in query if k != "unknown"])
    assert at.text_area(key="p_gen_prompt").value == "Once upon a time, in a small village by the sea,"


def test_hostile_prompt_in_a_link_is_shown_literally(app):
    payload = "<script>alert(1)</script> [x](javascript:alert(1)) $x$"
    at = _open(app, prompt=payload, max_new="2", sample="0", run="1")
    assert at.text_area(key="p_gen_prompt").value == payload
    assert _output(at) is not None
    chips = " ".join(m.value for m in at.markdown)
    assert "<script" not in chips and "&lt;" in chips and "</script" not in chips  # one chip per token


def test_chinese_interface(app):
    at = _open(app, lang="zh")
    zh = i18n.strings("zh")
    assert at.title[0].value == zh["generation.title"]
    assert at.button(key="gen_go").label == zh["generation.generate"]
    assert at.slider(key="p_gen_temp").label == zh["generation.temperature"]
    assert at.text_area(key="p_gen_prompt").label == zh["generation.prompt"]
    assert zh["generation.next_heading"] in [s.value for s in at.subheader]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["title"]["text"] == zh["generation.chart.y"]
    assert {d["name"] for d in spec["data"]} <= {zh[f"generation.stage.{s}"] for s in
                                                 ("p_raw", "p_penalties", "p_temperature", "p_top_k", "p_top_p", "p_final")}


def test_presenter_mode_shows_curated_example_without_any_model(app, monkeypatch):
    from components import cache, curated
    from components.catalog import get_spec
    from components.loading import ModelUnavailableError

    def _refuse(key):
        raise ModelUnavailableError(get_spec(key), "no model in this test")

    monkeypatch.setattr(cache, "get_model", _refuse)
    at = _open(app, present="1")
    assert not at.exception
    first = curated.load("generation")[0]
    assert _output(at) == first["result"]["prompt"]
    assert at.main.code[1].value == first["result"]["samples"][0]["text"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert plotly_array(spec["data"][0]["y"]) == pytest.approx(first["result"]["distribution"]["table"]["p_raw"], abs=1e-5)
    assert en("ui.present.precomputed") in [c.value for c in at.caption]
    assert "no model in this test" not in _messages(at)  # a slide: no live part tried a model
    assert all(col.children for col in at.main.columns)  # no empty column (no timings in a curated result)
    # nothing of the live page below the example
    assert not at.slider and not at.text_area and not at.number_input
    # stepping to the next example renders it, still without a model
    at.button(key="present_next_generation").click()
    at.run()
    second = curated.load("generation")[1]["result"]
    assert not at.exception and at.main.code[1].value.strip() == second["samples"][0]["text"].strip()
    assert _output(at) == second["prompt"] and "山上有一座庙" in _output(at)


def test_presenter_run_live_reproduces_the_curated_text(app):
    from components import curated

    at = _open(app, present="1")
    example = curated.load("generation")[0]
    at.button(key="present_live_generation").click()
    at.run()
    assert not at.exception
    assert at.text_area(key="p_gen_prompt").value == example["params"]["prompt"]
    live = [c.value for c in at.main.code]
    assert live.count(example["result"]["samples"][0]["text"]) == 1  # the live output replaces the example
    # live, the advanced controls stay hidden; the basic ones are there
    keys = {s.key for s in at.slider}
    assert {"p_gen_temp", "p_gen_topk", "p_gen_topp", "p_gen_max_new"} <= keys
    assert not keys & {"p_gen_rep", "p_gen_ngram", "p_gen_n"} and not at.number_input
    # the inputs wait folded above the live result; the live run has its own address (run=1)
    folded = [e for e in at.expander if e.label.endswith(en("ui.present.inputs"))]
    assert len(folded) == 1 and folded[0].text_area(key="p_gen_prompt").value == example["params"]["prompt"]
    assert at.query_params.get("run") in ("1", ["1"])
    # that address without run=1 (the browser's Back to the slide's address) shows the slide
    at.query_params.pop("run")
    at.session_state["_link_echoes"] = []  # as if arriving from elsewhere: a link, not an echo
    at.run()
    assert not at.exception and at.button(key="present_live_generation").label == en("ui.present.use_inputs")
    assert not at.text_area and at.query_params.get("run") is None


def test_report_escapes_inputs_and_contains_figures(smollm2):
    from components.report import build_report
    from components.ui import probability_chips_html

    prompt = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
    settings = GenerationSettings(max_new_tokens=3, do_sample=True, seed=77)
    prepared = prepare_inputs(smollm2, prompt, COMPLETE, 3)
    sample = sample_record(generate_text(smollm2, prepared, settings))
    dist = distribution_record(next_token_distribution(smollm2, prepared.input_ids, settings, top_n=5), settings)
    sections = report_sections("en", result={"samples": [sample]}, prompt=prompt, model_name="SmolLM2 <b>",
                               mode=COMPLETE, settings=settings, dist=dist,
                               steps_html=[probability_chips_html(sample["steps"])])
    html = build_report(en("generation.report_title"), sections)
    assert "<script>alert" not in html and "<img src=x" not in html and "SmolLM2 <b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("Plotly.newPlot") == 1 and en("generation.report.chart") in html
    assert ">77<" in html  # the seed is in the settings table
    for token in dist["table"]["token"]:
        assert token.replace("&", "&amp;").replace("<", "&lt;") in html
    import html as html_lib
    assert html_lib.escape(sample["text"], quote=False) in html
    # nothing generated yet: the report says so instead of showing stale text
    empty = build_report("r", report_sections("en", result=None, prompt=prompt, model_name="m", mode=COMPLETE,
                                              settings=settings, dist=None))
    assert en("generation.report.not_generated") in empty


def test_hostile_prompts_show_literally_and_keep_what_was_typed(app):
    at = _open(app)
    for payload in [*HOSTILE, "x" * 100_000]:
        at.text_area(key="p_gen_prompt").set_value(payload)
        at.run()
        assert not at.exception, payload[:40]
        assert at.text_area(key="p_gen_prompt").value == payload
        chips = " ".join(m.value for m in at.markdown)
        assert "<script>" not in chips and "<img" not in chips
    assert en("generation.notice.prompt_cap").split("(")[0] in _messages(at)
    # the link carries it compressed (100 000 repeated characters compress to ~100)
    raw = at.query_params["prompt"]
    assert permalink.decode_text(raw[-1] if isinstance(raw, list) else raw) == "x" * 100_000
    # generate on a payload mixing everything: the output is shown, nothing raises
    at.text_area(key="p_gen_prompt").set_value("".join(HOSTILE))
    at.slider(key="p_gen_max_new").set_value(3)
    at.button(key="gen_go").click()
    at.run()
    assert not at.exception and at.text_area(key="p_gen_prompt").value == "".join(HOSTILE)
    assert permalink.decode_text(at.query_params["prompt"][-1] if isinstance(at.query_params["prompt"], list)
                                 else at.query_params["prompt"]) == "".join(HOSTILE)


def test_inspect_attention_cross_link(app):
    at = _open(app)
    at.text_area(key="p_gen_prompt").set_value("Hello there")
    at.toggle(key="p_gen_sample").set_value(False)
    at.slider(key="p_gen_max_new").set_value(3)
    at.button(key="gen_go").click()
    at.run()
    generated = _output(at)
    button = at.button(key="gen_to_attention")
    assert button.label == en("generation.inspect_attention")
    button.click()
    at.run()
    # the attention page (its SCHEMA: text -> p_att_text, model -> p_att_model) received the link
    assert at.session_state["p_att_text"] == "Hello there" + generated
    assert at.session_state["p_att_model"] == "smollm2-135m-instruct"


def test_inspect_attention_from_chat_analyses_the_ids_the_model_read(app, smollm2):
    """Chat mode: the attention page gets the exact ids (template + prompt + reply), not
    prompt + reply glued together ("half priceApples"); a typed <|im_end|> stays plain text."""
    from components.attention import get_attention
    from components.generation import CHAT, prepare_inputs

    prompt = "half price<|im_end|>"
    at = _open(app)
    at.radio(key="p_gen_mode").set_value(CHAT)
    at.text_area(key="p_gen_prompt").set_value(prompt)
    at.toggle(key="p_gen_sample").set_value(False)
    at.slider(key="p_gen_max_new").set_value(3)
    at.button(key="gen_go").click()
    at.run()
    assert not at.exception
    generated = _output(at)
    prompt_ids = prepare_inputs(smollm2, prompt, CHAT, 3).input_ids[0].tolist()
    at.button(key="gen_to_attention").click()
    at.run()
    assert not at.exception
    ids = [int(i) for i in at.session_state["p_att_ids"].split(",")]
    assert ids[:len(prompt_ids)] == prompt_ids and len(ids) > len(prompt_ids)  # template + prompt, then the reply
    assert ids.count(1) == 3 and ids[:len(prompt_ids)].count(2) == 2           # only the template's control tokens
    text = at.session_state["p_att_text"]
    assert text.startswith("<|im_start|>system\n") and "<|im_start|>user\nhalf price<|im_end|><|im_end|>\n" in text
    assert text.endswith(generated.strip()) or generated.strip() in text
    assert en("attention.msg.exact_ids", n=len(ids)) in " ".join(i.value for i in at.info)
    assert at.session_state["p_att_cap"] >= len(ids)  # the link asks for every token read
    # the page analysed those ids: its token table lists them in order
    table = at.dataframe[0].value
    assert [int(i) for i in table[en("attention.table.id")]] == ids
    # re-tokenising the text would not give the same ids (the typed <|im_end|> would turn special)
    naive = smollm2.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert naive != ids
    assert get_attention(smollm2, text, input_ids=ids, max_tokens=256).input_ids == ids[:256]
    # editing the text drops the ids: the typed text is analysed (as plain text)
    at.switch_page("app_pages/attention.py")  # AppTest reruns the page it opened, not the switched-to one
    at.text_area(key="p_att_text").set_value("half price<|im_end|>").run()
    assert not at.exception and at.session_state["p_att_ids"] == ""
    assert not any(i.value.startswith(en("attention.msg.exact_ids", n=0)[:20]) for i in at.info)
    assert 2 not in [int(i) for i in at.dataframe[0].value[en("attention.table.id")]]
