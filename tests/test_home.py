"""AppTest: the app starts and Home renders its model table, in English and in 中文."""
from __future__ import annotations


def test_home_renders_with_model_table(app):
    app.run()
    assert not app.exception
    assert "LLM Lab" in app.title[0].value
    table = app.table[0].value
    status = dict(zip(table["Model"], table["Status"]))
    assert status["SmolLM2-135M-Instruct (bundled, Q4_1 GGUF)"] == "bundled"
    assert status["all-MiniLM-L6-v2 (bundled)"] == "bundled"
    assert status["GPT-2 (124M, Hub)"] == "unavailable here"


def test_home_in_chinese(app):
    app.query_params["lang"] = "zh"
    app.run()
    assert not app.exception
    table = app.table[0].value
    status = dict(zip(table["模型"], table["状态"]))
    assert status["all-MiniLM-L6-v2（内置）"] == "内置"
    assert status["GPT-2（1.24 亿参数，Hub）"] == "此处不可用"
    labels = [link.proto.label for link in app.get("page_link")]
    assert labels == ["✍️ 文本生成", "🙂 情感分析", "🏷️ 文本分类", "🧭 词向量探索", "🔍 注意力可视化",
                      "🔬 预测如何形成"]


def test_home_path_opens_home(app):
    """Home is the default page (served at "/"); the address "/home" opens it too, with the
    link's settings, instead of Streamlit's "Page not found"."""
    app.query_params["lang"] = "zh"
    app.run()
    # the server resolves "/home" to the registered page whose url_pathname is "home"
    # (Streamlit's PagesManager); without one it answers "Page not found"
    target = [h for h, info in app._registered_pages.items() if info.get("url_pathname") == "home"]
    assert len(target) == 1
    app._page_hash = target[0]
    app.run()
    assert not app.exception
    assert app.title[0].value == "🧪 LLM Lab 大模型实验室"
    assert "模型" in app.table[0].value.columns
