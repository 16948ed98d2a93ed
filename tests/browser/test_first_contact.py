"""First contact: a fresh server with an empty model cache, and visitors at once.

One visitor opens Home and clicks **Text generation** immediately; another deep-links to
``/generation?lang=zh`` at the same moment. Both must see one moving progress display in
their language while the server's background preparation converts and loads SmolLM2, then
the page itself -- never an error box.
"""
from __future__ import annotations

import time

import pytest

from tests.browser.conftest import (
    assert_no_console_errors,
    assert_no_exception,
    new_page,
    plotly_charts,
    screenshot,
    streamlit_server,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIRST_LOAD_TIMEOUT_S = 900  # conversion (15-30 s idle) on shared, busy cores

STATE_JS = """() => {
  const q = s => [...document.querySelectorAll(s)];
  return {
    progress: q('[data-testid="stProgress"]').map(e => e.innerText.trim()).filter(Boolean),
    errors: q('[data-testid="stAlertContentError"]').map(e => e.innerText.trim()),
    charts: q('[data-testid="stPlotlyChart"] .js-plotly-plot svg.main-svg').length,
  };
}"""


def _watch(pages: dict, timeout: float) -> dict:
    """Sample each page until it shows a drawn chart (the page ran past the model load);
    collect every progress text seen and every error box."""
    seen = {name: {"progress": [], "errors": []} for name in pages}
    pending = set(pages)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            state = pages[name].evaluate(STATE_JS)
            for text in state["progress"]:
                if not seen[name]["progress"] or seen[name]["progress"][-1] != text:
                    seen[name]["progress"].append(text)
            seen[name]["errors"] += state["errors"]
            if state["charts"]:
                pending.discard(name)
        pages[next(iter(pages))].wait_for_timeout(250)  # sampling interval, not a wait for a result
    assert not pending, f"pages never got past the model load: {pending} {seen}"
    return seen


def test_fresh_server_first_click_shows_progress_then_the_page(browser, tmp_path):
    env = {"LLM_LAB_CACHE_DIR": str(tmp_path / "empty-cache"), "LLM_LAB_NO_WARMUP": ""}
    with streamlit_server("first-contact", env=env) as srv:
        en, zh = new_page(browser), new_page(browser)
        try:
            en.goto(srv.url, wait_until="domcontentloaded")
            en.locator('[data-testid="stSidebarNav"]').get_by_text("Text generation", exact=True).click()
            zh.goto(f"{srv.url}/generation?lang=zh", wait_until="domcontentloaded")
            seen = _watch({"en": en, "zh": zh}, FIRST_LOAD_TIMEOUT_S)
            for page in (en, zh):
                wait_idle(page)
                plotly_charts(page)
                assert_no_exception(page)
                assert_no_console_errors(page)
            screenshot(en, "first-contact-en")
            screenshot(zh, "first-contact-zh")
            assert seen["en"]["errors"] == [] and seen["zh"]["errors"] == [], seen
            # one bar that moves: its text changed while the visitor waited (stage or seconds)
            assert len(seen["en"]["progress"]) >= 2, seen["en"]
            assert all("SmolLM2" in t and t.rstrip().endswith(" s") for t in seen["en"]["progress"]), seen["en"]
            assert len(seen["zh"]["progress"]) >= 2, seen["zh"]
            assert all(t.rstrip().endswith("秒") for t in seen["zh"]["progress"]), seen["zh"]
            assert any("float32" in t for t in seen["en"]["progress"] + seen["zh"]["progress"])
            assert srv.model_loads().get("smollm2-135m-instruct") == 1  # the warm-up's, shared
            assert srv.error_lines() == []
        finally:
            en.context.close()
            zh.context.close()
