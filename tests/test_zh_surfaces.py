"""中文 mode: no English in the places the UI words itself (model names, load progress, load
errors, the curated maps' legends). Library messages and ids stay literal."""
from __future__ import annotations

import json
import re

import pytest

from components import cache, curated, i18n, loading
from components.catalog import CATALOG, get_spec
from components.loading_wording import error_markdown, word
from components.textio import markdown_literal

# English words the UI must not show in 中文 mode (ids, units and library names are fine)
ENGLISH = re.compile(r"\b(bundled|precision|fine-tuned|uncased|zero-shot|Preparing|converting|Loading|"
                     r"available|offline mode|install it|directory|could not|instead)\b", re.I)


def test_model_names_in_chinese():
    for spec in CATALOG:
        assert i18n.model_name(spec, "en") == spec.display_name  # the catalog's name is the English one
        zh = i18n.model_name(spec, "zh")
        assert zh != spec.display_name and not ENGLISH.search(zh), zh


@pytest.mark.parametrize("stage", ["waiting", "libraries", "load", "tokenizer", "dequantize", "write", "check", "done"])
def test_load_progress_text_in_chinese(stage):
    from components import ui

    spec = get_spec("smollm2-135m-instruct")
    job = loading.Preparation(spec.key)
    job.report(0.5, stage)
    with ui._language("zh"):
        text = cache.progress_text(job, i18n.model_name(spec), job.started + 3.2)
    assert text.endswith("· 3 秒") and "内置" in text and not ENGLISH.search(text), text


def test_load_errors_in_chinese_keep_the_literal_details():
    with pytest.raises(loading.ModelUnavailableError) as info:
        loading.resolve(get_spec("gpt2"))   # offline in the tests: no source
    zh = error_markdown(info.value, "zh")
    assert "`openai-community/gpt2`" in zh and "`LLM_LAB_MODEL_DIR_GPT2`" in zh
    assert not ENGLISH.search(zh), zh
    assert error_markdown(info.value, "en") == info.value.markdown   # English unchanged
    # a library's message is inserted as it is (escaped for markdown), inside a Chinese frame
    spec = get_spec("gpt2")
    wording = loading.framed("error.load_failed", spec, source="hub", location="openai-community/gpt2",
                             error="OSError: Can't load *config*")
    text = word(wording, spec, "zh")
    assert markdown_literal("OSError: Can't load *config*") in text and "无法从" in text


def test_error_box_on_the_page_in_chinese(app):
    app.query_params["lang"] = "zh"
    app.run()
    app.switch_page("app_pages/generation.py")
    app.run()
    app.selectbox(key="p_gen_model").set_value("gpt2").run()
    assert not app.exception
    errors = " ".join(e.value for e in app.error)
    assert "`openai-community/gpt2`" in errors and not ENGLISH.search(errors), errors


def test_curated_maps_legend_in_chinese(app):
    zh_labels = set(i18n.strings("zh")[k] for k in i18n.strings("zh") if k.startswith("embeddings.set_labels."))
    app.query_params["lang"] = "zh"
    app.query_params["present"] = "1"
    app.run()
    app.switch_page("app_pages/embeddings.py")
    for step in range(len(curated.load("embeddings"))):
        app.run()
        assert not app.exception
        shipped = curated.load("embeddings")[step]["result"]
        spec = json.loads(app.get("plotly_chart")[0].proto.spec)
        names = {tr["name"] for tr in spec["data"] if tr.get("hovertext")}
        chart_words = {v for k, v in i18n.strings("zh").items() if k.startswith("embeddings.chart.")}
        point_names = names - chart_words
        english = {label for label in shipped["labels"] if re.search(r"[A-Za-z]{3,}", label)}
        assert english and not point_names & english, point_names
        assert point_names <= zh_labels | {f"{a} {n}" for a in zh_labels for n in range(1, 10)}, point_names
        app.button(key="present_next_embeddings").click()
