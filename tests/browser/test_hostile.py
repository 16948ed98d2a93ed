"""Hostile text in a real browser: what the AppTest sweep (``tests/test_hostile.py``)
proves on the element tree, checked where it matters -- in Chromium's DOM.

For every model page: type the combined payload (``<script>``, ``<img onerror>``, ``<svg onload>``,
``javascript:`` links, markdown/LaTeX control characters, Streamlit shortcodes, RTL, emoji,
Chinese ...) into the page's main text area, run the page (its primary button when it has one),
then assert: no JavaScript dialog opened, no ``data-pwned`` attribute, no injected ``img[src=x]``
/ ``svg[onload]`` / ``on*`` handler / ``javascript:`` link / ``script`` with ``alert(1)``, the text
shown literally, no exception box, no console error, no server-log traceback. The same for a CSV
upload whose cells are the payloads (sentiment, classification, embeddings) and for the payload
arriving in the URL (``?<text param>=...&run=1``). One page gets the 100 000-character string.

One shared server (``server`` fixture); screenshots: ``artifacts/screenshots/hostile-<page>*.png``.
"""
from __future__ import annotations

import json
import os
import re
from urllib.parse import urlencode

import pytest

from tests import hostile_payloads as hp
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    assert_no_console_errors,
    assert_no_exception,
    open_page,
    runs_done,
    screenshot,
    streamlit_server,
    wait_idle,
    wait_rerun,
    warm_up,
)
from tests.test_hostile import NOT_MAIN_BUTTONS, page_schema

pytestmark = pytest.mark.browser

PAGES = ("generation", "sentiment", "classification", "embeddings", "attention")
CSV_PAGES = ("sentiment", "classification", "embeddings")
LONG_PAGE = "attention"  # the page that also gets the 100 000-character string (token cap: quick)
# Streamlit's own "unexpected error" text, in the UI languages (ui.run_guarded)
UNEXPECTED = ("Something went wrong", "出错了")

INJECTION_PROBE = """() => {
    const out = [];
    const docs = [document];
    for (const f of document.querySelectorAll('iframe')) {
        try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) { /* cross-origin */ }
    }
    for (const d of docs) {
        if (d.querySelector('[data-pwned]')) out.push('data-pwned attribute set by an injected handler');
        for (const e of d.querySelectorAll('img[src="x"], svg[onload]'))
            out.push('injected element: ' + e.outerHTML.slice(0, 160));
        for (const e of d.querySelectorAll('*')) {
            for (const a of e.getAttributeNames()) {
                if (a.startsWith('on') && (e.getAttribute(a) || '').includes('alert'))
                    out.push('event handler ' + a + ' on <' + e.tagName.toLowerCase() + '>: ' + e.outerHTML.slice(0, 160));
            }
        }
        for (const s of d.querySelectorAll('script'))
            if ((s.textContent || '').includes('alert(1)')) out.push('script element: ' + s.outerHTML.slice(0, 160));
        for (const a of d.querySelectorAll('[href], [src], [action], [formaction]')) {
            for (const n of ['href', 'src', 'action', 'formaction']) {
                const v = (a.getAttribute(n) || '').replace(/\\s/g, '').toLowerCase();
                if (v.startsWith('javascript:')) out.push('javascript: URL: ' + a.outerHTML.slice(0, 160));
            }
        }
    }
    return out;
}"""


@pytest.fixture(scope="module")
def srv(request, browser):
    """The shared app server; ``LLM_LAB_HOSTILE_SERVER=1`` starts a separate one for this module
    (log ``artifacts/server-logs/hostile.log``), e.g. while another browser run uses the machine."""
    if os.environ.get("LLM_LAB_HOSTILE_SERVER"):
        with streamlit_server("hostile") as own:
            warm_up(browser, own)
            yield own
    else:
        yield request.getfixturevalue("server")


RENDERED_PROBE = """() => {
    // the payloads' markdown / LaTeX / shortcodes, had they been rendered instead of shown
    const m = document.querySelector('[data-testid="stMain"]');
    const out = [];
    const text = e => (e.textContent || '').trim();
    for (const e of m.querySelectorAll('strong, b')) if (text(e) === 'bold') out.push('**bold** rendered bold');
    for (const e of m.querySelectorAll('del, s')) if (text(e) === 's') out.push('~~s~~ rendered struck through');
    for (const e of m.querySelectorAll('code')) if (text(e) === 'code' && !e.closest('pre')) out.push('`code` rendered as code');
    for (const e of m.querySelectorAll('.katex')) if (text(e).includes('frac') || text(e).startsWith('1')) out.push('LaTeX rendered: ' + text(e).slice(0, 60));
    for (const e of m.querySelectorAll('span, i')) {
        if (text(e) === 'home' && /material/i.test(getComputedStyle(e).fontFamily)) out.push(':material/home: rendered as an icon');
        if (text(e) === '😄') out.push(':smile: rendered as an emoji');
    }
    for (const e of m.querySelectorAll('h1, h2, h3, h4, h5, h6')) if (text(e).startsWith('heading')) out.push('# heading rendered as a heading');
    for (const e of m.querySelectorAll('a')) if (text(e) === 'click' || text(e) === 'x') out.push('payload link rendered: ' + e.outerHTML.slice(0, 120));
    return out;
}"""


def _norm(text: str) -> str:
    """Whitespace-collapsed text for visible-text comparisons."""
    return re.sub(r"\s+", " ", text).strip()


class Dialogs:
    """Every JavaScript dialog (alert/confirm/prompt) the page opens; each is dismissed."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("dialog", self._on)

    def _on(self, dialog) -> None:
        self.messages.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


VISIBLE_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const parts = [main.innerText];
    // plotly draws axis labels / annotations as SVG text
    parts.push([...main.querySelectorAll('svg text')].map(t => t.textContent).join(''));
    // st.dataframe paints on a canvas; glide-data-grid keeps the shown cells in an a11y table
    parts.push([...main.querySelectorAll('[data-testid="stDataFrame"] table td')].map(t => t.textContent).join(' '));
    return parts.join('\\n');
}"""


def visible_text(page) -> str:
    """Text a person can see in the main area: DOM text, chart labels, table cells."""
    return page.evaluate(VISIBLE_TEXT)


def shown_probes(page) -> list[str]:
    """Which of ``hp.VISIBLE_PROBES`` are visible as text (whitespace ignored: token chips and
    chart ticks show a text piece by piece)."""
    flat = re.sub(r"\s+", "", visible_text(page))
    return [p for p in hp.VISIBLE_PROBES if re.sub(r"\s+", "", p) in flat]


def settle(page) -> None:
    """Idle, then a moment for late event handlers (img onerror fires after a failed load)."""
    wait_idle(page)
    page.wait_for_timeout(1500)
    wait_idle(page)


def assert_safe(page, dialogs: Dialogs, name: str, srv) -> None:
    """The injection checks + the kit's checks (screenshot first, so a failure has a picture)."""
    settle(page)
    shot = screenshot(page, name)
    problems = []
    if dialogs.messages:
        problems.append(f"JavaScript dialogs opened: {dialogs.messages}")
    problems += page.evaluate(INJECTION_PROBE)
    problems += page.evaluate(RENDERED_PROBE)
    body = main_text(page)
    problems += [f"error box: {line[:200]}" for line in body.splitlines() if line.startswith(UNEXPECTED)]
    assert not problems, f"{name} (screenshot {shot}):\n  - " + "\n  - ".join(problems)
    assert_no_exception(page)
    assert_no_console_errors(page)
    errors = srv.error_lines()
    assert not errors, "server log errors:\n" + "\n".join(errors[:40])


def main_button(page):
    """The page's primary button (not one of tests.test_hostile.NOT_MAIN_BUTTONS), or None."""
    buttons = page.locator('[data-testid="stMain"] [data-testid="stBaseButton-primary"]')
    for i in range(buttons.count()):
        b = buttons.nth(i)
        holder = b.locator("xpath=ancestor::*[contains(@class, 'st-key-')][1]")
        classes = holder.get_attribute("class") if holder.count() else ""
        if any(f"st-key-{k}" in (classes or "") for k in NOT_MAIN_BUTTONS):
            continue
        if b.is_visible() and b.is_enabled():
            return b
    return None


def radios(page):
    return page.locator('[data-testid="stMain"] [data-testid="stRadio"]')


def reveal(page, selector: str):
    """The first visible ``selector`` in the main area; if none, try each radio option of the
    page (in order) until one appears -- e.g. "type or paste" / "CSV upload" input modes."""
    target = page.locator(f'[data-testid="stMain"] {selector}')
    if selector.startswith("input[type=\"file\"]"):
        # the page's own batch uploader, not the sentiment evaluation's "Labelled CSV" one
        target = (page.locator('[data-testid="stMain"] [data-testid="stFileUploader"]')
                  .filter(has_not_text="Labelled CSV").locator(selector))
    groups = radios(page)
    # the page's inputs, or the radio that switches to them, are drawn in the same run
    target.or_(groups).first.wait_for(state="attached", timeout=DEFAULT_TIMEOUT_S * 1000)
    if target.count() and target.first.is_visible():
        return target.first
    if groups.count():
        groups.first.locator('[role="radiogroup"] label').first.wait_for(state="visible", timeout=30_000)
    tried = []
    for g in range(groups.count()):
        options = groups.nth(g).locator('[role="radiogroup"] label')
        for o in range(options.count()):
            option = options.nth(o)
            if not option.is_visible():
                continue
            tried.append(option.inner_text().strip())
            radio_input = option.locator("input").first
            if radio_input.is_checked():
                continue  # the current mode: its inputs were already looked for
            before = runs_done(page)
            option.click()
            wait_rerun(page, before)
            try:
                target.first.wait_for(state="attached", timeout=5_000)
            except Exception:  # noqa: BLE001 - not revealed by this option
                continue
            if target.first.is_visible() or selector.startswith("input[type="):
                return target.first
    shown = page.locator('[data-testid="stMain"]').inner_text()[:400]
    raise AssertionError(f"no {selector} found on the page, also after trying the radio options {tried};"
                         f" the page shows: {shown!r}")


def type_text(page, box, text: str) -> None:
    """Replace a text area's content like a paste, commit it (blur), wait for the run."""
    before = runs_done(page)
    box.click()
    box.fill(text)
    box.press("Tab")
    wait_rerun(page, before)


# ------------------------------------------------------------------ typed text
@pytest.mark.parametrize("page_id", PAGES)
def test_typed_payloads(page, srv, page_id):
    dialogs = Dialogs(page)
    open_page(page, srv.url, page_id)
    box = reveal(page, '[data-testid="stTextArea"] textarea')
    type_text(page, box, hp.BROWSER_COMBINED)
    button = main_button(page)
    if button is not None:
        before = runs_done(page)
        button.click()
        wait_rerun(page, before, DEFAULT_TIMEOUT_S)
    assert_safe(page, dialogs, f"hostile-{page_id}", srv)
    # literal: the box still holds exactly what was typed, and the page shows it as text
    assert box.input_value() == hp.BROWSER_COMBINED.replace("\r\n", "\n")
    shown = shown_probes(page)
    print(f"[hostile] {page_id}: shown back as text: {shown}")
    # the text starts with the <script> payload: every page shows at least that part (as text,
    # token chips or chart labels) -- the proof it was displayed, not executed or swallowed
    assert hp.VISIBLE_PROBES[0] in shown, (
        f"{page_id}: {hp.VISIBLE_PROBES[0]!r} is not visible as text (shown: {shown})")


# ------------------------------------------------------------------ 100 000 characters
def test_long_text(page, srv):
    dialogs = Dialogs(page)
    open_page(page, srv.url, LONG_PAGE)
    box = reveal(page, '[data-testid="stTextArea"] textarea')
    type_text(page, box, hp.LONG.text)
    button = main_button(page)
    if button is not None:
        before = runs_done(page)
        button.click()
        wait_rerun(page, before, DEFAULT_TIMEOUT_S)
    assert_safe(page, dialogs, f"hostile-{LONG_PAGE}-100k", srv)
    assert len(box.input_value()) == len(hp.LONG.text)
    notices = page.locator('[data-testid="stMain"] [data-testid="stAlert"]')
    assert notices.count() >= 1, "a 100 000-character text gave no notice (truncation / cap)"


# ------------------------------------------------------------------ CSV cells
@pytest.mark.parametrize("page_id", CSV_PAGES)
def test_csv_payloads(page, srv, page_id):
    dialogs = Dialogs(page)
    open_page(page, srv.url, page_id)
    uploader = reveal(page, 'input[type="file"]')
    before = runs_done(page)
    uploader.set_input_files(files=[{
        "name": "<img src=x onerror=alert(1)> hostile.csv",
        "mimeType": "text/csv",
        "buffer": hp.csv_bytes(tuple(p for p in hp.PAYLOADS if p.browser)),
    }])
    wait_rerun(page, before, DEFAULT_TIMEOUT_S)
    button = main_button(page)
    if button is not None:
        before = runs_done(page)
        button.click()
        wait_rerun(page, before, DEFAULT_TIMEOUT_S)
    assert_safe(page, dialogs, f"hostile-{page_id}-csv", srv)
    grids = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]')
    assert grids.count() >= 1, f"{page_id}: the uploaded payloads are not shown in a table"
    # then a file whose column names are payloads: the page names the columns it found (and
    # that the column chosen before is missing)
    uploader = reveal(page, 'input[type="file"]')
    before = runs_done(page)
    uploader.set_input_files(files=[{
        "name": "columns.csv", "mimeType": "text/csv",
        "buffer": hp.csv_bytes(tuple(p for p in hp.PAYLOADS if p.browser),
                               header=(hp.IMG.text, hp.SHORTCODES.text + " " + hp.MARKDOWN.text)),
    }])
    wait_rerun(page, before, DEFAULT_TIMEOUT_S)
    assert_safe(page, dialogs, f"hostile-{page_id}-csv-columns", srv)


# ------------------------------------------------------------------ URL
def _text_params(page_id: str) -> dict[str, str]:
    """The page's text parameters (SCHEMA), the main one (prompt / text / texts) first."""
    schema = page_schema(page_id)
    texts = {n: k for n, k in schema.items() if k in ("text", "texts")}
    if not texts:
        pytest.fail(f"{page_id}: no text parameter in the page's SCHEMA ({schema})")
    main = [n for n in ("prompt", "text", "texts") if n in texts][:1]
    return {n: texts[n] for n in main + [n for n in texts if n not in main]}


@pytest.mark.parametrize("page_id", PAGES)
def test_url_payloads(page, srv, page_id):
    from components.permalink import encode_text

    params = _text_params(page_id)
    as_list = json.dumps([p.text for p in hp.SHORT if p.browser], ensure_ascii=False)
    query = urlencode({**{n: encode_text(hp.BROWSER_COMBINED if k == "text" else as_list) for n, k in params.items()},
                       "run": "1"})
    _, kind = next(iter(params.items()))
    dialogs = Dialogs(page)
    # run=1 runs every approach on the linked text, with per-word attribution (on sentiment:
    # SmolLM2 on each occluded copy): the longest single run of the sweep
    open_page(page, srv.url, f"{page_id}?{query}", timeout=2 * DEFAULT_TIMEOUT_S)
    wait_idle(page, DEFAULT_TIMEOUT_S)
    assert_safe(page, dialogs, f"hostile-{page_id}-url", srv)
    if kind == "text":
        boxes = page.locator('[data-testid="stMain"] [data-testid="stTextArea"] textarea')
        values = [boxes.nth(i).input_value() for i in range(boxes.count())]
        assert hp.BROWSER_COMBINED in values, f"{page_id}: the linked text is not in the text area"
