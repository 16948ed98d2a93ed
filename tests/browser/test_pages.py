"""Every page in a real browser, used as a person would: type, move sliders, press buttons,
switch models (including a Hub-only model while offline), upload a CSV; then assert on what
the page shows, that no exception box and no console error appeared, and save a
full-page screenshot to ``artifacts/screenshots/``.

One live server for the module (``server`` fixture); each test gets a fresh browser context.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    assert_no_exception,
    check_clean,
    choose,
    choose_radio,
    click_button,
    dataframe_rows,
    fill_text,
    metric_value,
    move_slider,
    new_page,
    not_available_message,
    open_page,
    open_tab,
    plotly_charts,
    runs_done,
    selected,
    set_toggle,
    sidebar_nav,
    slider_value,
    streamlit_server,
    table_rows,
    upload_file,
    wait_for_text,
    wait_idle,
    wait_rerun,
)

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
NAV_TITLES = ["Home", "Text generation", "Sentiment", "Classification", "Embedding explorer",
              "Attention visualizer", "Inside the prediction"]
HUB_WAIT_S = 10  # "a few seconds": offline, the not-available message needs no network wait


def assert_app_chrome(page) -> None:
    """The page was opened by URL yet runs inside app.py's router: its navigation titles
    and shared sidebar caption are there (not Streamlit's pages/ folder fallback)."""
    assert [t for t in nav_titles(page) if t] == NAV_TITLES
    wait_for_text(page, "LLM Lab shows how language models work")


def static_table_rows(page, index: int = 0) -> list[dict[str, str]]:
    """Rows of the ``index``-th ``st.table`` (an HTML table) as dicts (header -> cell text)."""
    table = page.locator('[data-testid="stTable"] table').nth(index)
    table.wait_for(state="visible")
    return table.evaluate("""t => {
        const head = [...t.querySelectorAll('thead th')].map(h => h.innerText.trim());
        return [...t.querySelectorAll('tbody tr')].map(r => Object.fromEntries(
            [...r.querySelectorAll('th, td')].slice(-head.length).map((c, i) => [head[i], c.innerText.trim()])));
    }""")


def nav_titles(page) -> list[str]:
    """Titles of the sidebar page links (icons dropped)."""
    links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [t.strip().split("\n")[-1].strip() for t in links]


# --------------------------------------------------------------------------- home
def test_home(page, server):
    # Home is the default page: it lives at "/" ("/home" opens it as well)
    open_page(page, server.url, "")
    wait_for_text(page, "LLM Lab")
    assert_app_chrome(page)
    # the model table lists bundled models as available and Hub ones as unavailable offline
    status = {r["Model"]: r["Status"] for r in static_table_rows(page)}
    assert status["SmolLM2-135M-Instruct (bundled, Q4_1 GGUF)"] == "bundled"
    assert status["all-MiniLM-L6-v2 (bundled)"] == "bundled"
    assert status["GPT-2 (124M, Hub)"] == "unavailable here"
    wait_for_text(page, "The Hugging Face Hub is not reachable from this server")
    # each card links to its page
    before = runs_done(page)
    page.locator('[data-testid="stMain"]').get_by_role("link", name=re.compile("Text generation")).click()
    wait_rerun(page, before)
    assert page.url.rstrip("/").endswith("/generation")
    wait_for_text(page, "Text generation · 文本生成")
    open_page(page, server.url, "")
    check_clean(page, "home", server)


def test_deep_link_on_fresh_server(browser):
    """A fresh server whose first visitor deep-links to a page gets the real router.

    Streamlit 1.67 runs its MPA v1 fallback (the page file alone, no app.py, sidebar of raw
    file names) for the first run of a process when a folder named ``pages/`` sits next to
    the main script; our pages live in ``app_pages/`` so this cannot happen."""
    with streamlit_server("fresh-deep-link") as srv:
        page = new_page(browser)
        try:
            page.goto(f"{srv.url}/classification")
            page.locator('[data-testid="stSidebarNav"] a').nth(5).wait_for()
            wait_rerun(page, 0)  # the first run is over: the navigation is final
            assert [t for t in nav_titles(page) if t] == NAV_TITLES
        finally:
            page.context.close()


# --------------------------------------------------------------------------- generation
def _generate(page, expect_streaming: bool = False) -> str:
    before = runs_done(page)
    page.get_by_role("button", name="Generate", exact=True).click()
    if expect_streaming:  # partial text with the cursor shows while tokens arrive
        page.locator('[data-testid="stCode"]').filter(has_text="▌").first.wait_for(timeout=DEFAULT_TIMEOUT_S * 1000)
    wait_rerun(page, before)
    out = page.locator('[data-testid="stCode"]').first
    out.wait_for(timeout=DEFAULT_TIMEOUT_S * 1000)
    # on a busy machine the rerun can start after wait_idle's settle window: wait until no
    # streaming cursor is left, then for the run to finish
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=\"stCode\"]')]"
        ".some(e => e.innerText.includes('\u258c'))",
        timeout=DEFAULT_TIMEOUT_S * 1000)
    wait_idle(page)
    assert "▌" not in out.inner_text()
    assert int(metric_value(page, "New tokens")) > 0
    return out.inner_text()


def test_generation_english(page, server):
    open_page(page, server.url, "generation")
    assert_app_chrome(page)
    wait_for_text(page, "Text generation")
    assert "SmolLM2" in selected(page, "Model")
    fill_text(page, "Prompt", "The three primary colours are")
    move_slider(page, "Max new tokens (max_new_tokens)", -40)
    assert slider_value(page, "Max new tokens (max_new_tokens)") == "24"
    move_slider(page, "Temperature", -4)
    assert slider_value(page, "Temperature") == "0.60"
    text = _generate(page, expect_streaming=True)
    assert text.strip(), "no generated text"
    assert 0 < int(metric_value(page, "New tokens")) <= 24
    assert int(metric_value(page, "Prompt tokens")) >= 5
    # the prompt's tokens and the next-token chart are drawn
    wait_for_text(page, "What the model sees")
    chips = page.locator('span[title*=" · id "]')
    assert chips.count() >= 5
    assert "primary" in " ".join(chips.all_inner_texts())
    chart = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    chart.wait_for()
    assert chart.locator("svg").count() > 0
    check_clean(page, "generation-english", server)


def test_generation_stop_button_keeps_the_text_so_far(page, server):
    """The page's own "Stop generating" button, beside the stream: pressing it ends the generation, the
    text written so far stays (no cursor), with a note that it was cut short; the button goes."""
    open_page(page, server.url, "generation?max_new=400")
    page.get_by_role("button", name="Generate", exact=True).click()
    stop = page.locator('[data-testid="stButton"]').get_by_role("button", name="Stop generating", exact=True)
    stop.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
    page.locator('[data-testid="stCode"]').filter(has_text="▌").first.wait_for(
        state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
    stop.click()
    note = page.locator('[data-testid="stAlert"]').filter(has_text="was cut short")
    note.first.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
    wait_idle(page)
    kept = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert kept and "▌" not in kept, f"no text kept after Stop: {kept!r}"
    assert stop.count() == 0, "the Stop button stays after the generation ended"
    check_clean(page, "generation-stopped", server)


def test_generation_chinese(page, server):
    prompt = "今天的天气很好，适合出去散步。"
    open_page(page, server.url, "generation")
    fill_text(page, "Prompt", prompt)
    move_slider(page, "Max new tokens (max_new_tokens)", -48)
    text = _generate(page)
    assert text.strip()
    # Chinese characters readable in the token view (not byte fragments like 'ä»Ĭ')
    chips = " ".join(page.locator('span[title*=" · id "]').all_inner_texts())
    assert len(CJK.findall(chips)) >= 8, chips
    assert "天气" in chips.replace(" ", "") or "天" in chips
    assert not re.search(r"[ÃÂäåæçèé][\u0080-\u00ff]", chips), f"byte-level mojibake in tokens: {chips}"
    check_clean(page, "generation-chinese", server)


def test_generation_hub_model_offline(page, server):
    open_page(page, server.url, "generation")
    choose(page, "Model", "GPT-2 (124M, Hub)")
    msg = not_available_message(page, HUB_WAIT_S)
    assert "GPT-2" in msg.inner_text()
    assert_no_exception(page)
    check_clean(page, "generation-hub-offline", server)
    # the offered bundled alternative switches back and the page works again
    click_button(page, "Use SmolLM2-135M-Instruct (bundled, Q4_1 GGUF)")
    assert "SmolLM2" in selected(page, "Model")
    wait_for_text(page, "What the model sees")
    check_clean(page, "generation-hub-offline-back", server)


# --------------------------------------------------------------------------- navigation
def test_navigation_keeps_typed_text(page, server):
    typed = "Navigation keeps this prompt: 你好，世界"
    open_page(page, server.url, "generation")
    fill_text(page, "Prompt", typed)
    move_slider(page, "Max new tokens (max_new_tokens)", 5)
    sidebar_nav(page, "Home")
    wait_for_text(page, "Models")
    sidebar_nav(page, "Sentiment")
    sidebar_nav(page, "Text generation")
    assert page.get_by_label("Prompt", exact=True).first.input_value() == typed
    assert slider_value(page, "Max new tokens (max_new_tokens)") == "69"
    check_clean(page, "navigation-back-to-generation", server)


# --------------------------------------------------------------------------- sentiment
LONG_REVIEW = ("I love this phone. The battery lasts for days, the screen is gorgeous and bright, "
               "and the camera takes wonderful, sharp pictures even at night. ") * 14


def test_sentiment_long_text_and_hub_model(page, server):
    open_page(page, server.url, "sentiment")
    assert_app_chrome(page)
    wait_for_text(page, "Sentiment analysis")
    set_toggle(page, "Which words mattered", False)  # occlusion re-scores every word: slow
    set_toggle(page, "Fine-tuned: DistilBERT SST-2 (Hub)", True)
    fill_text(page, "Text to analyse", LONG_REVIEW)
    # the Hub-only fine-tuned model cannot load offline: a clear message, the rest still works
    msg = not_available_message(page, HUB_WAIT_S)
    assert "DistilBERT fine-tuned on SST-2" in msg.inner_text()
    wait_for_text(page, "truncated to the first 256")  # MiniLM reads at most 256 tokens
    labels = [metric_value(page, "Label", i) for i in range(3)]
    assert labels[0] == "positive", labels  # VADER on an unambiguous review
    assert labels[1] == "positive", labels  # MiniLM + logistic regression
    assert labels[2] in ("positive", "negative"), labels  # the prompted LLM gives one of the two
    plotly_charts(page, 3)
    check_clean(page, "sentiment-long-text", server)


def test_sentiment_csv_upload(page, server, tmp_path):
    csv = tmp_path / "reviews.csv"
    csv.write_text("id,review\n1,\"I love it, absolutely wonderful and fun.\"\n"
                   "2,\"Terrible. It broke after one day and support was awful.\"\n"
                   "3,\"Great value, works perfectly, very happy.\"\n", encoding="utf-8")
    open_page(page, server.url, "sentiment")
    set_toggle(page, "Fine-tuned: DistilBERT SST-2 (Hub)", False)
    choose_radio(page, "Input", "Batch: CSV upload")
    upload_file(page, "CSV file (UTF-8 or Windows-1252; first row = column names)", csv)
    wait_for_text(page, "Batch results")
    assert selected(page, "Column with the texts") == "review"
    rows = dataframe_rows(page)
    assert [r["text"] for r in rows] == ["I love it, absolutely wonderful and fun.",
                                         "Terrible. It broke after one day and support was awful.",
                                         "Great value, works perfectly, very happy."]
    assert [r["Rules · VADER · label"] for r in rows] == ["positive", "negative", "positive"]
    plotly_charts(page, 1)
    check_clean(page, "sentiment-csv", server)


# --------------------------------------------------------------------------- classification
def test_classification_zero_shot_and_hub_model(page, server):
    open_page(page, server.url, "classification")
    assert_app_chrome(page)
    wait_for_text(page, "Classification · 文本分类")
    fill_text(page, "Text", "The chancellor announced tax cuts in parliament before the election.")
    fill_text(page, "Labels (comma-separated, up to 20)", "sports, politics, cooking")
    rows = table_rows(page, "top label")  # the chart's hidden Table tab comes first in the DOM
    assert rows[0]["top label"] == "politics", rows
    assert float(rows[0]["p(politics)"]) > 0.5
    plotly_charts(page, 1)
    check_clean(page, "classification-zero-shot", server)
    choose(page, "Method / model", "DistilBERT MNLI zero-shot (Hub)")
    msg = not_available_message(page, HUB_WAIT_S)
    assert "DistilBERT MNLI" in msg.inner_text()
    check_clean(page, "classification-hub-offline", server)
    click_button(page, "Use all-MiniLM-L6-v2 (bundled)")
    assert "all-MiniLM-L6-v2" in selected(page, "Method / model")


def test_classification_csv_and_training(page, server, tmp_path):
    csv = tmp_path / "headlines.csv"
    csv.write_text("sentence,source\n"
                   "The striker scored twice in the final minutes.,a\n"
                   "Parliament passed the new election law.,b\n"
                   "Bake the bread for forty minutes at 200 degrees.,c\n", encoding="utf-8")
    open_page(page, server.url, "classification")
    fill_text(page, "Labels (comma-separated, up to 20)", "sports, politics, cooking")
    choose_radio(page, "Input", "CSV upload")
    upload_file(page, "CSV file (UTF-8 preferred; one text per row)", csv)
    rows = table_rows(page, "top label")
    assert [r["top label"] for r in rows] == ["sports", "politics", "cooking"], rows
    # train your own head on the shipped examples: cross-validated accuracy beats the baseline
    open_tab(page, "Train your own")
    wait_for_text(page, "How well does it learn?")
    acc = float(metric_value(page, "Cross-validated accuracy").rstrip("%"))
    base = float(metric_value(page, "Always guess the largest class").rstrip("%"))
    assert acc > base, (acc, base)
    check_clean(page, "classification-train", server)


# --------------------------------------------------------------------------- embeddings
def test_embeddings_map_query_and_hub_model(page, server):
    open_page(page, server.url, "embeddings")
    assert_app_chrome(page)
    wait_for_text(page, "Embedding explorer")
    charts = plotly_charts(page, 2)  # the map and the scree plot
    assert charts.first.locator("g.scatterlayer .point").count() >= 40  # one dot per item
    assert metric_value(page, "Dimensions per vector") == "384"
    fill_text(page, "A new sentence: where would it land?",
              "The goalkeeper made a wonderful save in the match.")
    wait_idle(page)
    check_clean(page, "embeddings-map", server)
    choose(page, "Model (catalog)", "all-mpnet-base-v2 (Hub)")
    msg = not_available_message(page, HUB_WAIT_S)
    assert "all-mpnet-base-v2" in msg.inner_text()
    check_clean(page, "embeddings-hub-offline", server)


def test_first_visit_of_a_page_needs_no_more_element_code(page, server):
    """A new tab opens Home, then the embedding explorer. Home loads the frontend code of the
    element types the pages use, so the explorer fetches no script or stylesheet of its own and, once its
    run is over and its map drawn, no element is left as a grey placeholder (``stSkeleton``,
    what Streamlit draws until an element's code has arrived)."""
    open_page(page, server.url, "")
    page.wait_for_function("() => document.documentElement.dataset.elementCode === 'loaded'",
                           timeout=DEFAULT_TIMEOUT_S * 1000, polling=100)
    fetched_before = page.evaluate("() => performance.getEntriesByType('resource').length")
    sidebar_nav(page, "Embedding explorer")
    plotly_charts(page, 2)
    metric_value(page, "Dimensions per vector")
    late = page.evaluate("""n => performance.getEntriesByType('resource').slice(n).map(r => r.name)
                                 .filter(u => u.endsWith('.js') || u.endsWith('.css'))""", fetched_before)
    assert late == []
    assert page.locator('[data-testid="stSkeleton"]').count() == 0
    check_clean(page, "embeddings-first-visit", server)


def test_embeddings_csv_upload(page, server, tmp_path):
    csv = tmp_path / "items.csv"
    lines = ["text,topic"] + [f"{t},{lab}" for t, lab in [
        ("The striker scored a goal", "sport"), ("The team won the cup", "sport"),
        ("The referee blew the whistle", "sport"), ("I baked a chocolate cake", "food"),
        ("The soup needs more salt", "food"), ("Fresh bread from the oven", "food"),
        ("今天的天气很好", "weather"), ("It will rain tomorrow", "weather")]]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    open_page(page, server.url, "embeddings")
    choose_radio(page, "Input", "Upload CSV")
    upload_file(page, "CSV file (UTF-8 or Windows-1252; first row = column names)", csv)
    wait_for_text(page, "items.csv: 8 rows")
    assert selected(page, "Text column") == "text"
    choose(page, "Label / colour column (optional)", "topic")
    assert metric_value(page, "Items") == "8"
    plotly_charts(page, 1)
    check_clean(page, "embeddings-csv", server)


# --------------------------------------------------------------------------- attention
def test_attention_heatmap_views_and_hub_model(page, server):
    open_page(page, server.url, "attention")
    assert_app_chrome(page)
    wait_for_text(page, "Attention visualizer · 注意力可视化")
    fill_text(page, "Sentence · 句子", "The cat sat on the mat because it was tired.")
    move_slider(page, "Token cap", 1)
    assert slider_value(page, "Token cap") == "72"
    choose(page, "Layer · 层", "layer 3")
    wait_for_text(page, "Layer 3, head 0")
    heat = plotly_charts(page, 1).first
    assert heat.locator("g.heatmaplayer, .hm, image").count() > 0
    check_clean(page, "attention-one-head", server)
    choose_radio(page, "View", "Overview")
    plotly_charts(page, 1)
    check_clean(page, "attention-overview", server)
    choose_radio(page, "View", "Formula step by step")
    plotly_charts(page, 2)
    check_clean(page, "attention-formula", server)
    choose(page, "Model", "BERT base uncased (Hub)")
    msg = not_available_message(page, HUB_WAIT_S)
    assert "BERT base uncased" in msg.inner_text()
    check_clean(page, "attention-hub-offline", server)
