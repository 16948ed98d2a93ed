"""Generation page in a real browser: decoding settings side by side from a link, one chip per
Chinese character, and next-token labels drawn whole (none cut at the chart's left edge)."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    check_clean,
    metric_value,
    open_page,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


def _no_cursor(page) -> None:
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=\"stCode\"]')]"
        ".some(e => e.innerText.includes('\u258c'))",
        timeout=DEFAULT_TIMEOUT_S * 1000)
    wait_idle(page)


def test_compare_link_columns_and_merged_chips(page, server):
    query = {"prompt": "今天的天气很好，", "view": "compare", "cols": "2", "max_new": "6", "seed": "5",
             "c2_sample": "1", "c2_temp": "1.3", "run": "1"}
    open_page(page, server.url, "generation?" + urlencode(query))
    wait_for_text(page, "Decoding settings side by side", timeout=DEFAULT_TIMEOUT_S)
    page.locator('[data-testid="stMetric"]').filter(has_text="distinct-2").nth(1).wait_for(
        timeout=DEFAULT_TIMEOUT_S * 1000)
    _no_cursor(page)
    for nth in (0, 1):
        assert float(metric_value(page, "distinct-2", nth)) > 0
        assert float(metric_value(page, "mean log-prob (nats/token)", nth)) < 0
    # one chip per character, its piece count on hover; no "(1/2)" and no byte mojibake shown
    chips = page.locator('span[title*=" · id "]')
    texts = chips.all_inner_texts()
    assert "今" in texts and not any("(1/2)" in x for x in texts)
    assert not re.search(r"[äåæç][\u0080-\u00ff]", " ".join(texts))
    jin = chips.filter(has_text=re.compile("^今$")).first
    assert "2 byte pieces" in jin.get_attribute("title")
    check_clean(page, "generation-compare", server)


def test_next_token_labels_are_not_cut(page, server):
    # top candidate: a partial character ("‹E8 BF›→还"), the longest kind of label, on a narrow
    # screen (phone, projector at large zoom), where the first category sits close to the edge
    query = {"prompt": "今天的天气很好，适合出去散步。我们", "max_new": "1", "sample": "0", "run": "1",
             "present": "1", "lang": "zh"}  # presenter mode: larger tick fonts
    page.set_viewport_size({"width": 420, "height": 900})
    open_page(page, server.url, "generation?" + urlencode(query))
    chart = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').last  # the live one
    chart.wait_for(timeout=DEFAULT_TIMEOUT_S * 1000)
    _no_cursor(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .xtick text').length >= 10",
                           timeout=DEFAULT_TIMEOUT_S * 1000)
    # every rotated label lies inside the chart's drawing (first characters not cut at the
    # left or bottom edge; rotated text hangs down-left from its tick)
    outside = chart.evaluate("""p => {
        const box = p.querySelector('svg.main-svg').getBoundingClientRect();
        return Math.max(...[...p.querySelectorAll('.xtick text')].map(t => {
            const r = t.getBoundingClientRect();
            return Math.max(box.left - r.left, r.bottom - box.bottom);
        }));
    }""")
    print("farthest a tick label reaches outside the chart, px:", outside)
    assert outside <= 0, f"a tick label reaches {outside:.0f} px outside the chart"
    labels = chart.evaluate("p => [...p.querySelectorAll('.xtick text')].map(t => t.textContent)")
    assert any("→" in lab for lab in labels), labels  # a partial-character candidate, completed
