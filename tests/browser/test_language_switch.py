"""Switching the UI language keeps every choice the visitor made, in a real browser.

Streamlit sends a radio's or selectbox's value back as its *shown* label; once the labels are
in the other language, that label matches no option. The app must keep each choice as it was
(same option selected, same value in a copied link), never fall back to nothing selected or
raise.
"""
from __future__ import annotations

import pytest

from components import i18n
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    assert_no_exception,
    new_page,
    open_page,
    runs_done,
    screenshot,
    wait_idle,
    wait_rerun,
)

PAGES = ("generation", "sentiment", "classification", "embeddings", "attention", "lens")
NO_RADIOS = {"lens"}  # the pages without a radio group

RADIOS_DRAWN_JS = """() => document.querySelectorAll('[data-testid="stMain"] [data-testid="stRadio"]').length > 0"""

# per radio group (in page order): the index of its checked option, -1 when none is
CHECKED_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stRadio"]')]
    .map(g => [...g.querySelectorAll('input[type="radio"]')].findIndex(i => i.checked))"""

# per selectbox: its shown value
SELECTS_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"] input')]
    .map(i => i.value)"""


def switch_language(page, name: str) -> None:
    before = runs_done(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("radio", name=name, exact=True).click()
    wait_rerun(page, before)


@pytest.mark.parametrize("page_id", PAGES)
def test_language_round_trip_keeps_every_choice(browser, server, page_id):
    page = new_page(browser)
    try:
        open_page(page, server.url, page_id)
        if page_id not in NO_RADIOS:
            # the browser can still be drawing the lower widgets of a run that has ended: wait for them
            page.wait_for_function(RADIOS_DRAWN_JS, timeout=DEFAULT_TIMEOUT_S * 1000)
            wait_idle(page)
        checked = page.evaluate(CHECKED_JS)
        selects = page.evaluate(SELECTS_JS)
        assert all(i >= 0 for i in checked), f"{page_id}: a radio group starts with nothing selected: {checked}"
        assert bool(checked) == (page_id not in NO_RADIOS), f"{page_id}: radio groups {checked}"
        for name in ("中文", "English", "中文", "English"):
            switch_language(page, name)
            assert_no_exception(page)
            now = page.evaluate(CHECKED_JS)
            assert now == checked, f"{page_id} after {name}: checked options {now}, before {checked}"
            # written back through session state without Streamlit's "set via the Session State API" warning
            assert page.locator('[data-testid="stAlert"]').filter(has_text="Session State API").count() == 0
        assert page.evaluate(SELECTS_JS) == selects, f"{page_id}: selectboxes changed over the round trip"
        screenshot(page, f"language-round-trip-{page_id}")
    finally:
        page.context.close()


def test_language_switch_mid_generation_keeps_the_text_so_far(browser, server):
    """A rerun during a stream (here the language switch) cuts the generation; the text it had
    written stays on the page, with a note saying it was cut short."""
    page = new_page(browser)
    try:
        open_page(page, server.url, "generation?max_new=400")
        page.get_by_role("button", name=i18n.translate("en", "generation.generate"), exact=True).click()
        streaming = page.locator('[data-testid="stCode"]').filter(has_text="▌").first
        streaming.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
        page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="中文", exact=True).click()
        note = page.locator('[data-testid="stAlert"]').filter(
            has_text=i18n.translate("zh", "generation.interrupted", sample=1)[:12])
        note.first.wait_for(state="visible", timeout=DEFAULT_TIMEOUT_S * 1000)
        wait_idle(page)
        assert_no_exception(page)
        kept = page.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert kept and "▌" not in kept, f"no text kept after the cut: {kept!r}"
        screenshot(page, "generation-cut-by-language-switch")
    finally:
        page.context.close()
