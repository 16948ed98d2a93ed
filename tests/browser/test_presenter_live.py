"""Presenter mode, live run of a slide, in a real browser at projector size (1400×1000).

"Run this example live" (pressed where it is, below the fold on a tall slide) replaces the
slide *in place*: the live result is drawn where the slide was, its top inside the viewport
with the page at its top (the page's inputs wait in a collapsed expander); the browser's
Back button then returns to the slide.
"""
from __future__ import annotations

import pytest

from components import i18n
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    click_button,
    new_page,
    open_page,
    runs_done,
    screenshot,
    wait_rerun,
)


def T(key: str, **values) -> str:
    return i18n.translate("en", key, **values)


# page -> the element that proves the live result
RESULTS = {
    # the live run's own metric (timings exist only for a live run)
    "generation": lambda page: page.locator('[data-testid="stMetric"]').filter(
        has_text=T("generation.metric.tokens_per_s")).first,
    # the live map (the slide's map has another key); its slide is taller than the window
    "embeddings": lambda page: page.locator('[class*="st-key-emb_map_"] [data-testid="stPlotlyChart"]').first,
}

VIEWPORT = (1400, 1000)


def _geometry(page, locator) -> dict:
    box = locator.bounding_box()
    scrolled = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return Math.max(window.scrollY, m ? m.scrollTop : 0); }""")
    return {"top": box["y"] if box else None, "scrolled": scrolled}


@pytest.mark.parametrize("page_id", sorted(RESULTS))
def test_live_run_replaces_the_slide_in_place_and_back_returns_to_it(browser, server, page_id):
    page = new_page(browser, viewport=VIEWPORT)
    try:
        open_page(page, server.url, f"{page_id}?present=1")
        run_live = page.get_by_role("button", name=T("ui.present.use_inputs"), exact=True)
        run_live.wait_for(state="visible")
        screenshot(page, f"presenter-live-{page_id}-slide")

        click_button(page, T("ui.present.use_inputs"))
        result = RESULTS[page_id](page)
        result.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
        assert page.get_by_role("button", name=T("ui.present.back")).is_visible()
        where = _geometry(page, result)
        screenshot(page, f"presenter-live-{page_id}-result")
        assert where["scrolled"] == 0, f"{page_id}: the page scrolled by itself: {where}"
        assert where["top"] is not None and 0 <= where["top"] < VIEWPORT[1] - 60, (
            f"{page_id}: live result not in view without scrolling: {where}")
        # the inputs are kept, folded away above the result
        inputs = page.locator('[data-testid="stExpander"]').filter(has_text=T("ui.present.inputs")).first
        inputs.wait_for(state="attached")
        assert inputs.locator("details").first.get_attribute("open") is None, "inputs expander not collapsed"
        assert "run=1" in page.url, f"the live run has no address of its own: {page.url}"

        before = runs_done(page)
        page.go_back()
        wait_rerun(page, before)
        run_live.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
        assert page.get_by_role("button", name=T("ui.present.back")).count() == 0
        assert "run=1" not in page.url, page.url
        screenshot(page, f"presenter-live-{page_id}-back")
    finally:
        page.context.close()
