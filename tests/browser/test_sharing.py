"""The sharing contract (docs/contributing.md, "The page contract") in a real browser.

For every model page (generation, sentiment, classification, embeddings, attention):

1. **Permalink** -- set inputs like a person, wait for the result, read the URL from the
   sidebar "🔗 Copy link" box, open it in a NEW browser context (fresh session) and check that
   the same inputs are in the widgets and the same result is shown.
2. **Presenter mode** -- on a fresh server (``LLM_LAB_NO_WARMUP=1``, one per page, so "before
   any model has loaded" is true for every page), ``/<page>?present=1`` shows the curated
   example ("Example 1 of N", its precomputed result and caption) while no model has finished
   loading (no ``[llm-lab] model-load done|failed`` line in the server log, time-stamped by a
   log tail, before the browser painted the example); type is enlarged; ▶ steps to example 2.
3. **HTML report** -- the "📄 HTML report" download opens from ``file://`` in an offline
   context whose every non-file request is aborted (and counted): inputs present, plotly
   chart drawn, zero requests, no console errors.
4. **中文** -- ``?lang=zh``: no English UI string of the page's locale (nor of ``ui.``/``app.``)
   is visible.
5. **Cross-links** -- generation → attention, sentiment/classification batch → embeddings
   (coloured by predicted label), embeddings point → classification, each landing prefilled.

Every test fails on a JavaScript dialog, a Streamlit modal, an exception box, a console
error or a server-log traceback, and saves screenshots under ``artifacts/screenshots/``.

Labels are read from the English locale files (``components.i18n``), so a page that renames
a string keeps its tests; a missing key fails with the key's name.
"""
from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from components import i18n
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_S,
    ROOT,
    assert_no_console_errors,
    assert_no_dialogs,
    check_clean,
    choose,
    choose_radio,
    download,
    fill_text,
    move_slider,
    new_page,
    open_page,
    plotly_charts,
    runs_done,
    screenshot,
    selected,
    set_toggle,
    slider_value,
    streamlit_server,
    table_rows,
    wait_for_text,
    wait_idle,
    wait_rerun,
    watch_dialogs,
    widget,
)

pytestmark = pytest.mark.browser

MODEL_PAGES = ("generation", "sentiment", "classification", "embeddings", "attention")
CJK = re.compile(r"[\u4e00-\u9fff]")


# =========================================================================== strings
def T(key: str, **values) -> str:
    """The English UI string ``key``; a key missing from ``locales/en`` fails the test by name."""
    if key not in i18n.strings("en"):
        pytest.fail(f"locale key {key!r} is missing from locales/en (page contract, point 1)")
    return i18n.translate("en", key, **values)


def require_converted(page_id: str) -> None:
    """The page declares the contract (``ui.bind_link``); otherwise the test fails with why."""
    source = (ROOT / "app_pages" / f"{page_id}.py").read_text(encoding="utf-8")
    if "bind_link" not in source or "publish_link" not in source:
        pytest.fail(f"app_pages/{page_id}.py does not follow the sharing contract "
                    "(no ui.bind_link / ui.publish_link)")


# =========================================================================== fixtures
@pytest.fixture
def bpage(browser, request):
    """A fresh context + page that records console errors and fails on any dialog."""
    p = new_page(browser)
    watch_dialogs(p)
    yield p
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        with contextlib.suppress(Exception):
            screenshot(p, f"FAILED-{request.node.name}")
    with contextlib.suppress(Exception):
        p.context.close()


def second_page(browser):
    """Another fresh context (a new browser session: no cookies, no session state)."""
    p = new_page(browser)
    watch_dialogs(p)
    return p


def finish(page, name: str, server=None) -> Path:
    """Screenshot + every cleanliness check (exception box, console, server log, dialogs)."""
    path = check_clean(page, name, server)
    assert_no_dialogs(page)
    return path


# =========================================================================== page helpers
def settled(read: Callable, timeout: float = DEFAULT_TIMEOUT_S, quiet: float = 1.0):
    """``read()`` once it returns the same value twice in a row, ``quiet`` seconds apart.

    Streamlit's frontend reports the run as finished (``wait_idle``) a moment before it has
    drawn every element: right after opening a link, a number input first shows its minimum,
    then the linked value (seen: 1 then 3, ~2 s after "notRunning" on a busy machine)."""
    deadline = time.monotonic() + timeout
    last, error = object(), None
    while True:
        try:
            value = read()
            if value == last:
                return value
            last, error = value, None
        except Exception as exc:  # element not drawn yet
            error = exc
        if time.monotonic() > deadline:
            if error is not None:
                raise error
            return last
        time.sleep(quiet)


def eventually(read: Callable, expected=None, timeout: float = DEFAULT_TIMEOUT_S, match: Callable | None = None):
    """``read()`` polled until it equals ``expected`` (or satisfies ``match``), at most ``timeout``
    s; returns the last value read, for the caller's assertion (the DOM may lag behind the
    run, see :func:`settled`)."""
    deadline = time.monotonic() + timeout
    value, error = None, None
    while True:
        try:
            value, error = read(), None
            if (match(value) if match is not None else value == expected):
                return value
        except Exception as exc:
            error = exc
        if time.monotonic() > deadline:
            if error is not None and value is None:
                raise error
            return value
        time.sleep(0.5)


def main(page):
    return page.locator('[data-testid="stMain"]')


def goto(page, url: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Open an absolute URL and wait until Streamlit's run is over."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    wait_rerun(page, 0, timeout)  # the first run finished (idle alone holds before it starts)


def copy_link(page) -> str:
    """Open the sidebar "🔗 Copy link" popover and return the URL in its code box."""
    label = T("ui.link.button")
    sidebar = page.locator('[data-testid="stSidebar"]')
    button = sidebar.locator('[data-testid="stPopover"] button').filter(has_text=label).first
    button.click()
    body = page.locator('[data-testid="stPopoverBody"]').filter(has=page.locator('[data-testid="stCode"]')).last
    body.wait_for(state="visible")
    url = body.locator('[data-testid="stCode"] code').first.inner_text().strip()
    page.keyboard.press("Escape")
    with contextlib.suppress(Exception):
        body.wait_for(state="hidden", timeout=5000)
    assert url.startswith("http://127.0.0.1:"), f"copy-link box holds no absolute URL: {url!r}"
    assert parse_qs(urlsplit(url).query).get("run") == ["1"], f"copied link lacks run=1: {url}"
    return url


def text_value(page, label: str) -> str:
    """Value of the text area / text input labelled ``label``."""
    return page.get_by_label(label, exact=True).first.input_value()


def number_value(page, label: str) -> str:
    return widget(page, "stNumberInput", label).locator("input").first.input_value()


def set_number(page, label: str, value: int) -> None:
    box = widget(page, "stNumberInput", label).locator("input").first
    changed = box.input_value() != str(value)
    before = runs_done(page)
    box.click()
    box.fill(str(value))
    box.press("Enter")
    if changed:
        wait_rerun(page, before)
    else:
        wait_idle(page)
    assert box.input_value() == str(value)


def toggle_state(page, label: str) -> bool:
    return page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first.locator("input").is_checked()


def slider_to(page, label: str, target: float, step: float = 1.0) -> None:
    """Move a slider to ``target`` with the arrow keys (like a person)."""
    thumb = widget(page, "stSlider", label).locator('input[type="range"]').first
    thumb.wait_for(state="attached")
    current = float(thumb.input_value())
    steps = round((target - current) / step)
    if steps:
        move_slider(page, label, steps)


def code_texts(page) -> list[str]:
    """Texts of the st.code boxes of the main area (user/model text is shown there)."""
    return [t.strip() for t in main(page).locator('[data-testid="stCode"]').all_inner_texts()]


def metric_values(page) -> list[tuple[str, str]]:
    """(label, value) of every st.metric in the main area, in order."""
    out = []
    for m in main(page).locator('[data-testid="stMetric"]').all():
        label = m.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        value = m.locator('[data-testid="stMetricValue"]').inner_text().strip()
        out.append((label, value))
    return out


def legend_texts(page) -> list[str]:
    """Legend entries of the visible plotly charts (SVG text: no innerText, so textContent)."""
    return [(t or "").strip() for t in main(page).locator(".js-plotly-plot .legendtext").all_text_contents()]


def wait_generated(page) -> str:
    """Wait until the streamed generation is over; return the generated text (first stCode
    after the "Output" heading)."""
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=\"stCode\"]')]"
        ".some(e => e.innerText.includes('\u258c'))", timeout=DEFAULT_TIMEOUT_S * 1000)
    wait_idle(page)
    heading = main(page).get_by_role("heading", name=T("generation.output"), exact=True)
    heading.wait_for(timeout=DEFAULT_TIMEOUT_S * 1000)
    out = page.locator(
        "xpath=//*[@data-testid='stHeading'][.//*[normalize-space(text())=$name]]"
        "/ancestor::*[@data-testid='stElementContainer'][1]"
        "/following::*[@data-testid='stCode'][1]".replace("$name", json.dumps(T("generation.output")))
    ).first
    out.wait_for(timeout=DEFAULT_TIMEOUT_S * 1000)
    return out.inner_text().strip()



PLOT_DATA_JS = """
els => {
  const norm = v => {
    if (v === null || v === undefined) return v;
    if (ArrayBuffer.isView(v)) return Array.from(v).map(norm);
    if (Array.isArray(v)) return v.map(norm);
    if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : String(v);
    if (typeof v === 'object') {
      if (v.bdata !== undefined) return {bdata: v.bdata, dtype: v.dtype, shape: v.shape};
      return Object.fromEntries(Object.keys(v).sort().map(k => [k, norm(v[k])]));
    }
    return v;
  };
  const keys = ['type', 'name', 'x', 'y', 'z', 'text', 'hovertext', 'customdata', 'labels', 'values'];
  return els.filter(gd => gd.offsetParent !== null).map(gd => ({
    title: gd.layout && gd.layout.title ? norm(gd.layout.title.text !== undefined ? gd.layout.title.text : gd.layout.title) : null,
    traces: (gd.data || []).map(tr => Object.fromEntries(keys.filter(k => tr[k] !== undefined).map(k => [k, norm(tr[k])]))),
  }));
}
"""


def plot_data(page, min_count: int = 1) -> list[dict]:
    """Title and traces (x, y, z, text, names; numbers rounded to 1e-4) of every VISIBLE plotly
    chart of the main area, in page order: the chart's numbers, as the browser received them."""
    plotly_charts(page, min_count)
    return main(page).locator(".js-plotly-plot").evaluate_all(PLOT_DATA_JS)


def wait_for_metrics(page, label: str, n: int, timeout: float = DEFAULT_TIMEOUT_S) -> list[str]:
    """Wait until ``n`` metrics labelled ``label`` are shown; return their values."""
    deadline = time.monotonic() + timeout
    while True:
        values = [v for lab, v in metric_values(page) if lab == label]
        if len(values) >= n:
            return values
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {n} metrics {label!r}, found {values}")
        time.sleep(0.3)


# =========================================================================== scenarios
@dataclass
class Scenario:
    """How one page is driven for the permalink / report tests.

    ``prepare(page)``: the page is open; set the inputs like a person and wait for the result.
    ``inputs(page)`` / ``result(page)``: what the widgets hold / what result is shown (waiting
    for it: after a link opened with run=1 it is computed on opening). ``needles``: texts the
    HTML report must contain."""

    page: str
    prepare: Callable
    inputs: Callable
    result: Callable
    needles: list[str] = field(default_factory=list)
    has_chart: bool = True

    def drive(self, page) -> None:
        """:attr:`prepare`, then wait until the app is idle: the result can show before the
        run that drew it has reached the page's last widgets, and a click there would be lost."""
        self.prepare(page)
        wait_idle(page)


# ---------------------------------------------------------------- generation
GEN_PROMPT = "The lighthouse keeper opened the old wooden box and found"
GEN_SEED = 7
GEN_MAX_NEW = 12


def gen_prepare(page) -> None:
    fill_text(page, T("generation.prompt"), GEN_PROMPT)
    set_toggle(page, T("generation.sampling"), True)
    slider_to(page, T("generation.max_new_tokens"), GEN_MAX_NEW)
    set_number(page, T("generation.seed"), GEN_SEED)
    page.get_by_role("button", name=T("generation.generate"), exact=True).click()
    assert wait_generated(page), "no generated text"


def gen_inputs(page) -> dict:
    return {
        "prompt": text_value(page, T("generation.prompt")),
        "model": selected(page, T("ui.model.label")),
        "sampling": toggle_state(page, T("generation.sampling")),
        "max_new_tokens": slider_value(page, T("generation.max_new_tokens")),
        "seed": number_value(page, T("generation.seed")),
    }


def gen_result(page) -> dict:
    text = wait_generated(page)
    wanted = (T("generation.metric.prompt_tokens"), T("generation.metric.new_tokens"))
    return {"text": text, "metrics": [m for m in metric_values(page) if m[0] in wanted]}


# ---------------------------------------------------------------- sentiment (single text)
SENT_TEXT = "The ferry was late again, but the crew were kind and the sunset over the harbour was lovely."
SENT_APPROACHES = ("vader", "head", "llm")


def sent_prepare(page) -> None:
    set_toggle(page, T("sentiment.attr.toggle"), False)  # non-default (and fast: no occlusion)
    fill_text(page, T("sentiment.text.label"), SENT_TEXT)
    wait_for_metrics(page, T("sentiment.metric.label"), len(SENT_APPROACHES))


def sent_inputs(page) -> dict:
    out = {"text": text_value(page, T("sentiment.text.label")),
           "attribution": toggle_state(page, T("sentiment.attr.toggle"))}
    for a in SENT_APPROACHES:
        out[a] = toggle_state(page, T(f"sentiment.approach.{a}"))
    return out


def sent_result(page) -> dict:
    labels = wait_for_metrics(page, T("sentiment.metric.label"), len(SENT_APPROACHES))
    wait_idle(page)
    captions = [c for c in main(page).locator('[data-testid="stCaptionContainer"]').all_inner_texts()
                if "compound" in c.lower()]
    return {"labels": labels, "vader": captions, "charts": plot_data(page, len(SENT_APPROACHES))}


# ---------------------------------------------------------------- classification (zero-shot, one text)
CLS_TEXT = "The orchestra rehearsed the symphony before the premiere at the concert hall."
CLS_LABELS = "music, sports, cooking"


def cls_labels_label() -> str:
    from components.classification import MAX_LABELS

    return T("classification.zs.labels", n=MAX_LABELS)


def cls_prepare(page) -> None:
    fill_text(page, T("classification.input.text"), CLS_TEXT)
    fill_text(page, cls_labels_label(), CLS_LABELS)
    set_toggle(page, T("classification.zs.multi"), True)
    plotly_charts(page, 1)


def cls_inputs(page) -> dict:
    return {"text": text_value(page, T("classification.input.text")),
            "labels": text_value(page, cls_labels_label()),
            "multi": toggle_state(page, T("classification.zs.multi")),
            "model": selected(page, T("classification.zs.model"))}


def cls_result(page) -> dict:
    charts = plot_data(page, 1)
    rows = table_rows(page, T("classification.results.top_label"))
    return {"charts": charts, "rows": rows}


# ---------------------------------------------------------------- embeddings (typed items)
EMB_ITEMS = [("apple", "fruit"), ("banana", "fruit"), ("cherry", "fruit"),
             ("violin", "instrument"), ("trumpet", "instrument"), ("drum", "instrument")]
EMB_TEXT = "\n".join(f"{w} | {lab}" for w, lab in EMB_ITEMS)
EMB_K = 3


def emb_prepare(page) -> None:
    choose_radio(page, T("embeddings.input.mode"), T("embeddings.input.modes.typed"))
    fill_text(page, T("embeddings.input.text"), EMB_TEXT)
    set_number(page, T("embeddings.map.k"), EMB_K)
    plotly_charts(page, 1)


def emb_inputs(page) -> dict:
    return {"items": text_value(page, T("embeddings.input.text")).strip(),
            "k": number_value(page, T("embeddings.map.k")),
            "model": selected(page, T("embeddings.source.model"))}


def emb_result(page) -> dict:
    charts = plot_data(page, 1)
    return {"metrics": metric_values(page), "charts": charts, "codes": code_texts(page)}


# ---------------------------------------------------------------- attention
ATT_TEXT = "The trophy did not fit in the suitcase because it was too big."
ATT_LAYER, ATT_HEAD = 3, 2


def att_prepare(page) -> None:
    fill_text(page, T("attention.input.text"), ATT_TEXT)
    choose(page, T("attention.sel.layer"), T("attention.sel.layer_option", i=ATT_LAYER))
    choose(page, T("attention.sel.head"), T("attention.sel.head_option", h=ATT_HEAD))
    wait_for_text(page, T("attention.chart.head_title", layer=ATT_LAYER, head=ATT_HEAD))


def att_inputs(page) -> dict:
    return {"text": text_value(page, T("attention.input.text")),
            "model": selected(page, T("ui.model.label")),
            "layer": selected(page, T("attention.sel.layer")),
            "head": selected(page, T("attention.sel.head"))}


def att_result(page) -> dict:
    wait_for_text(page, T("attention.chart.head_title", layer=ATT_LAYER, head=ATT_HEAD))
    return {"charts": plot_data(page, 1)}


SCENARIOS: dict[str, Scenario] = {
    "generation": Scenario("generation", gen_prepare, gen_inputs, gen_result, needles=[GEN_PROMPT]),
    "sentiment": Scenario("sentiment", sent_prepare, sent_inputs, sent_result, needles=[SENT_TEXT]),
    "classification": Scenario("classification", cls_prepare, cls_inputs, cls_result,
                               needles=[CLS_TEXT, "music", "cooking"]),
    "embeddings": Scenario("embeddings", emb_prepare, emb_inputs, emb_result,
                           needles=[w for w, _ in EMB_ITEMS]),
    "attention": Scenario("attention", att_prepare, att_inputs, att_result, needles=[ATT_TEXT]),
}


def scenario(page_id: str) -> Scenario:
    require_converted(page_id)
    return SCENARIOS[page_id]


# =========================================================================== 2. presenter mode
class LogWatch:
    """Tails a server log in a thread, stamping each line with the wall-clock time it was
    first seen (so a line seen before a moment was certainly written before it)."""

    def __init__(self, path: Path):
        self.path = path
        self.lines: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pos, buf = 0, ""
        while not self._stop.is_set():
            with contextlib.suppress(OSError), self.path.open("r", errors="replace") as fh:
                fh.seek(pos)
                chunk = fh.read()
                pos = fh.tell()
                if chunk:
                    now = time.time()
                    buf += chunk
                    *done, buf = buf.split("\n")
                    self.lines.extend((now, line) for line in done)
            time.sleep(0.01)

    def model_loads_before(self, t: float) -> list[str]:
        return [line for ts, line in list(self.lines) if ts <= t and line.startswith("[llm-lab] model-load")]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


SEEN_JS = r"""
marks => {
  window.__llmLabSeen = {};
  const check = () => {
    const body = document.body;
    if (!body) return;
    const text = body.textContent.replace(/\s+/g, ' ');
    for (const m of marks) if (!(m in window.__llmLabSeen) && text.includes(m)) window.__llmLabSeen[m] = Date.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
}
"""


def curated_examples(page_id: str) -> list[dict]:
    from components import curated

    examples = curated.load(page_id)
    assert len(examples) >= 2, f"curated/{page_id}.json has {len(examples)} example(s); the contract asks for 3-4"
    return examples


def curated_marker(page_id: str, example: dict) -> str:
    """A piece of the example's precomputed result that the page shows as text."""
    res = example["result"]
    if page_id == "generation":
        text = res["samples"][0]["text"]
    elif page_id == "sentiment":
        text = res["text"]
    elif page_id == "classification":
        text = res["scores"]["text"][0]
    elif page_id == "attention":
        text = res["text"]
    else:  # embeddings: the map title names the item count; the items are in the chart / table
        text = res["texts"][res["selected"]] if res.get("selected") is not None else res["texts"][0]
    text = " ".join(str(text).split())
    assert text, f"curated {page_id} example {example.get('id')} has no text result"
    return text[:40]


def visible_text(page) -> str:
    return " ".join(page.evaluate(
        """() => ['[data-testid="stMain"]', '[data-testid="stSidebar"]']
              .map(s => document.querySelector(s)).filter(Boolean).map(e => e.innerText).join('\\n')""").split())


@pytest.mark.parametrize("page_id", MODEL_PAGES)
def test_presenter_mode_shows_curated_examples_before_models_load(browser, page_id):
    require_converted(page_id)
    examples = curated_examples(page_id)
    n = len(examples)
    step1 = T("ui.present.example", i=1, n=n)
    step2 = T("ui.present.example", i=2, n=n)
    precomputed = T("ui.present.precomputed")
    marker1, marker2 = curated_marker(page_id, examples[0]), curated_marker(page_id, examples[1])
    with streamlit_server(f"sharing-present-{page_id}", env={"LLM_LAB_NO_WARMUP": "1"}) as srv:
        watch = LogWatch(srv.log_path)
        page = second_page(browser)
        try:
            marks = [step1, precomputed, marker1]
            page.add_init_script(f"({SEEN_JS})({json.dumps(marks)})")
            page.goto(f"{srv.url}/{page_id}?present=1", wait_until="domcontentloaded")
            for mark in marks:  # stepper, the example's result, its "precomputed" caption
                wait_for_text(page, mark)
            seen = page.evaluate("() => window.__llmLabSeen")
            assert all(m in seen for m in marks), seen
            shown_at = max(seen[m] for m in marks) / 1000
            # No model had finished loading when the example was on screen: the page drew it
            # before asking for a model, so it shows while the model loads. (A "model-load
            # start" line may precede the browser's paint by a moment: Streamlit sends the
            # drawn elements asynchronously while the script thread goes on to load the model;
            # measured: start +0.9 s -> example painted, load done +16 s.)
            finished = [line for line in watch.model_loads_before(shown_at)
                        if re.match(r"\[llm-lab\] model-load (done|failed|aborted|error)", line)]
            assert not finished, (f"/{page_id}?present=1: the curated example appeared only after a model had "
                                  "loaded:\n" + "\n".join(finished))
            # presenter mode looks large (router CSS): big headings and body text
            sizes = page.evaluate("""() => {
                const px = s => { const e = document.querySelector(s); return e ? parseFloat(getComputedStyle(e).fontSize) : 0; };
                return {h1: px('[data-testid="stMain"] h1'), p: px('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')};
            }""")
            assert sizes["h1"] >= 40 and sizes["p"] >= 19, f"presenter type not enlarged: {sizes}"
            screenshot(page, f"present-{page_id}-1")
            # ▶ steps to example 2 (the page may still be loading its model: wait for the rerun)
            page.get_by_role("button", name="▶", exact=True).first.click()
            wait_for_text(page, step2)
            page.wait_for_function("m => document.querySelector('[data-testid=\"stMain\"]').innerText"
                                   ".replace(/\\s+/g, ' ').includes(m)", arg=marker2,
                                   timeout=DEFAULT_TIMEOUT_S * 1000)
            wait_idle(page)
            text = visible_text(page)
            assert step1 not in text, "example 1's stepper label still shown after ▶"
            if marker1 != marker2:
                assert marker1 not in text, f"example 1's result {marker1!r} still shown after ▶"
            # a slide: nothing of the live page under the example (every page's inputs have a
            # text box; a batch example may have its own row picker), and no model was even
            # asked for; the "run live" button ends the page
            main = page.locator('[data-testid="stMain"]')
            assert main.locator('[data-testid="stTextArea"], [data-testid="stTextInput"]').count() == 0
            assert not watch.model_loads_before(time.time()), watch.model_loads_before(time.time())
            last_button = main.locator('[data-testid="stButton"] button').last.inner_text()
            assert T("ui.present.use_inputs") in last_button, last_button
            finish(page, f"present-{page_id}-2", srv)
        except BaseException:
            with contextlib.suppress(Exception):
                screenshot(page, f"FAILED-present-{page_id}")
            raise
        finally:
            watch.stop()
            page.context.close()


# =========================================================================== 3. HTML report
def open_report_offline(browser, path: Path, name: str):
    """Open ``path`` from file:// in an offline context that aborts (and counts) every
    non-file request. Returns (page, attempted request URLs)."""
    from tests.browser.conftest import ConsoleLog

    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    attempted: list[str] = []

    def _route(route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    context.route("**/*", _route)
    page = context.new_page()
    page.console_log = ConsoleLog(page)
    watch_dialogs(page)
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
            or r.url in attempted else attempted.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, attempted


# Every cartesian plot area of a report chart and, for bar charts, a tick label per category.
_REPORT_CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
  height: gd.getBoundingClientRect().height,
  areas: [...gd.querySelectorAll('.nsewdrag')].map(r => r.getBoundingClientRect().height),
  bars: (gd._fullData || []).filter(t => t.type === 'bar' && t.visible === true).map(t => {
    const h = t.orientation === 'h', ax = h ? t.yaxis : t.xaxis;
    const axis = gd._fullLayout[ax.replace(/^([xy])/, '$1axis')] || {};
    if (axis.type !== 'category' || !axis.showticklabels) return null;
    const cats = new Set([...((h ? t.y : t.x) || [])].map(String));
    const labels = [...gd.querySelectorAll('g.' + ax + 'tick text')].filter(e => e.textContent.trim());
    return {ax, cats: cats.size, labels: labels.length};
  }).filter(Boolean),
}))"""
MIN_PLOT_AREA_PX = 90
MIN_PX_PER_BAR_CATEGORY = 18


def assert_report_charts_readable(rpage, page_id: str) -> None:
    """Each chart of an opened report has a plot area of readable height (at least
    MIN_PLOT_AREA_PX, and MIN_PX_PER_BAR_CATEGORY per category of a bar chart) and shows a
    tick label for every bar category."""
    charts = rpage.evaluate(_REPORT_CHARTS_JS)
    assert charts, f"{page_id}: no chart in the report"
    for i, chart in enumerate(charts):
        assert chart["areas"] or chart["height"] >= MIN_PLOT_AREA_PX, f"{page_id} chart {i}: {chart}"
        n_cats = max((b["cats"] for b in chart["bars"]), default=0)
        for h in chart["areas"]:
            assert h >= max(MIN_PLOT_AREA_PX, MIN_PX_PER_BAR_CATEGORY * n_cats), (
                f"{page_id} chart {i}: plot area {h:.0f} px tall for {n_cats} categories: {chart}")
        for bar in chart["bars"]:
            assert bar["labels"] >= bar["cats"], f"{page_id} chart {i}: category labels lost: {chart}"


@pytest.mark.parametrize("page_id", MODEL_PAGES)
def test_html_report_opens_offline(bpage, browser, server, page_id, tmp_path):
    sc = scenario(page_id)
    open_page(bpage, server.url, page_id)
    sc.drive(bpage)
    button = main(bpage).locator('[data-testid="stDownloadButton"]').filter(has_text=T("ui.report.button"))
    assert button.count() == 1, f"expected one '📄 {T('ui.report.button')}' button, found {button.count()}"
    runs_before = runs_done(bpage)
    path = download(bpage, button.first, tmp_path / f"{page_id}-report.html")  # ~5 MB (plotly.js): not kept
    wait_idle(bpage)
    assert runs_done(bpage) == runs_before, "downloading the report reran the page"
    finish(bpage, f"report-{page_id}-page", server)
    html_text = path.read_text(encoding="utf-8")
    assert html_text.lstrip().lower().startswith("<!doctype html"), html_text[:200]

    rpage, attempted = open_report_offline(browser, path, page_id)
    try:
        if sc.has_chart:
            rpage.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            assert rpage.locator(".js-plotly-plot").count() >= 1
            assert_report_charts_readable(rpage, page_id)
        body = " ".join(rpage.locator("body").inner_text().split())
        for needle in sc.needles:
            assert " ".join(needle.split()) in body, f"report lacks the input {needle!r}"
        screenshot(rpage, f"report-{page_id}-offline")
        assert not attempted, "the report tried the network:\n" + "\n".join(attempted[:20])
        assert_no_console_errors(rpage)
        assert_no_dialogs(rpage)
    finally:
        rpage.context.close()


# =========================================================================== 4. 中文
def _plain(text: str) -> str:
    """A locale string as it reads on screen: markdown emphasis/code/links/headings removed."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("**", "").replace("`", "").replace("*", "")
    text = re.sub(r"(?m)^\s*(#+|-|\d+\.)\s+", "", text)
    return " ".join(text.split())


def english_snippets(page_id: str) -> list[tuple[str, str]]:
    """(key, snippet) for every English string of the page (plus ``ui.``/``app.``) that must
    not show in Chinese: longer than 12 characters, differing from its zh value, at least
    two English words. A string with ``{placeholders}`` is represented by its longest literal
    part; snippets are the first 30 characters. Snippets that the Chinese strings themselves
    contain (bilingual headings such as "注意力可视化 · Attention visualizer", welcome by
    docs/contributing.md) are not checked."""
    en, zh = i18n.strings("en"), i18n.strings("zh")
    prefixes = (f"{page_id}.", "ui.", "app.")
    zh_corpus = "\n".join(_plain(v) for k, v in zh.items() if k.startswith(prefixes))
    out = []
    for key, value in en.items():
        if not key.startswith(prefixes):
            continue
        if len(value) <= 12 or value == zh.get(key):
            continue
        parts = [_plain(p) for p in re.split(r"\{[^{}]*\}", value)]
        part = max(parts, key=len).strip(" ·:;,.()")
        snippet = part[:30].strip()
        if len(snippet) <= 12 or len(re.findall(r"[A-Za-z]{2,}", snippet)) < 2:
            continue
        if snippet in zh_corpus:
            continue  # the Chinese strings carry these words on purpose (bilingual heading, model name)
        out.append((key, snippet))
    return out


CHROME_JS = """
() => {
  const pick = s => [...document.querySelectorAll(s)].map(e => e.innerText || '').filter(Boolean);
  const root = ['[data-testid="stMain"]', '[data-testid="stSidebar"]']
      .map(s => document.querySelector(s)).filter(Boolean).map(e => e.innerText).join('\\n');
  // Streamlit's own chrome and user/model text, left out of the check
  const excluded = pick('[data-testid="stFileUploaderDropzoneInstructions"], [data-testid="stCode"], '
                        + '[data-testid="stMainMenu"], [data-testid="stToolbar"], [data-testid="stStatusWidget"]');
  return {root, excluded};
}
"""


@pytest.mark.parametrize("page_id", ("home", *MODEL_PAGES, "lens"))
def test_chinese_ui_has_no_english_strings(bpage, server, page_id):
    if page_id != "home":
        require_converted(page_id)
    snippets = english_snippets(page_id)
    assert snippets, f"no English strings found for {page_id} (locale file missing?)"
    open_page(bpage, server.url, ("" if page_id == "home" else page_id) + "?lang=zh")
    wait_idle(bpage)
    # the page's title is Chinese, and the language switch shows 中文 selected
    title = main(bpage).locator("h1").first.inner_text()
    assert CJK.search(title), f"title not Chinese: {title!r}"
    shot = finish(bpage, f"zh-{page_id}", server)
    got = bpage.evaluate(CHROME_JS)
    text = got["root"]
    for part in got["excluded"]:
        text = text.replace(part, " ")
    text = " ".join(text.split())
    visible = [(key, snip) for key, snip in snippets if snip in text]
    assert not visible, (f"/{page_id}?lang=zh shows English UI strings (screenshot {shot}):\n"
                         + "\n".join(f"  {key}: {snip!r}" for key, snip in visible))


# =========================================================================== 5. cross-links
def wait_path(page, path: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    page.wait_for_url(re.compile(rf"^https?://[^/]+/{re.escape(path)}(\?.*)?$"), timeout=timeout * 1000)
    wait_idle(page)


def map_labels_by_text(page) -> tuple[set[str], dict[str, str]]:
    """Legend entries of the embedding map and, where a trace's texts name items, text -> trace name."""
    plotly_charts(page, 1)
    legend = set(legend_texts(page))
    mapping: dict[str, str] = {}
    for chart in plot_data(page, 1)[:1]:
        for trace in chart["traces"]:
            for key in ("text", "hovertext", "customdata"):
                values = trace.get(key)
                if isinstance(values, list):
                    for v in values:
                        if isinstance(v, list):
                            v = " ".join(str(x) for x in v)
                        if isinstance(v, str) and trace.get("name"):
                            mapping.setdefault(v, trace["name"])
    return legend, mapping


def check_map_colours(page, texts: list[str], labels: list[str], title_hint: str) -> None:
    """/embeddings lists ``texts`` in its text area and colours the map by ``labels``."""
    box = eventually(lambda: text_value(page, T("embeddings.input.text")), timeout=60,
                     match=lambda v: all(text in v for text in texts))
    for text in texts:
        assert text in box, f"{text!r} not among the embedding page's items:\n{box}"
    legend, mapping = eventually(lambda: map_labels_by_text(page), timeout=60,
                                 match=lambda got: set(labels) <= got[0])
    assert set(labels) <= legend, f"map legend {sorted(legend)} lacks the predicted labels {sorted(set(labels))}"
    for text, label in zip(texts, labels):
        hits = {name for key, name in mapping.items() if text in key}
        if hits:
            assert hits == {label}, f"{text!r} is drawn as {hits}, predicted {label!r}"
    titles = [(t or "").strip() for t in main(page).locator(".js-plotly-plot .legendtitletext").all_text_contents()]
    assert any(title_hint in t for t in titles), f"legend title {title_hint!r} not shown (legend titles: {titles})"


def test_crosslink_generation_to_attention(bpage, server):
    require_converted("generation")
    require_converted("attention")
    open_page(bpage, server.url, "generation")
    gen_prepare(bpage)
    generated = wait_generated(bpage)
    screenshot(bpage, "crosslink-generation-before")
    bpage.get_by_role("button", name=T("generation.inspect_attention")).first.click()
    wait_path(bpage, "attention")
    def squash(text: str) -> str:
        return "".join(text.split())

    value = eventually(lambda: text_value(bpage, T("attention.input.text")), timeout=60,
                       match=lambda v: squash(v) == squash(GEN_PROMPT + generated))
    assert value.startswith(GEN_PROMPT) and squash(value) == squash(GEN_PROMPT + generated), \
        f"attention text is not prompt + generated text:\n{value!r}\nvs {GEN_PROMPT!r} + {generated!r}"
    model = eventually(lambda: selected(bpage, T("ui.model.label")), timeout=30, match=lambda v: "SmolLM2" in v)
    assert "SmolLM2" in model, f"the generation model was not carried over: {model!r}"
    wait_for_text(bpage, T("attention.chart.head_title", layer=0, head=0))
    charts = plot_data(bpage, 1)
    assert any(tr.get("type") == "heatmap" for c in charts for tr in c["traces"]), charts
    finish(bpage, "crosslink-generation-to-attention", server)


SENT_BATCH = ["I absolutely love this little cafe, the coffee is wonderful.",
              "The delivery was late and the package arrived broken.",
              "What a fantastic concert, the band was brilliant!",
              "This is the worst customer service I have ever had."]


def test_crosslink_sentiment_batch_to_embeddings(bpage, server):
    require_converted("sentiment")
    require_converted("embeddings")
    open_page(bpage, server.url, "sentiment")
    choose_radio(bpage, T("sentiment.input.label"), T("sentiment.input.lines"))
    fill_text(bpage, T("sentiment.lines.label"), "\n".join(SENT_BATCH))
    wait_for_text(bpage, T("sentiment.batch.heading", n=len(SENT_BATCH)))
    # colour the map by VADER's labels (its columns are the first of the wide table, in view:
    # the grid only keeps on-screen columns in its DOM)
    approach = T("sentiment.approach_short.vader")
    choose_radio(bpage, T("sentiment.map_labels_from"), approach)
    label_col = T("sentiment.col.batch_label", approach=approach)
    rows = table_rows(bpage, label_col)
    predicted = [r[label_col] for r in rows]
    assert len(predicted) == len(SENT_BATCH), rows
    screenshot(bpage, "crosslink-sentiment-before")
    bpage.get_by_role("button", name=T("sentiment.see_on_map")).first.click()
    wait_path(bpage, "embeddings")
    check_map_colours(bpage, SENT_BATCH, predicted, T("sentiment.predicted_label", approach=approach))
    finish(bpage, "crosslink-sentiment-to-embeddings", server)


CLS_BATCH = ["The goalkeeper saved a penalty in the final minute.",
             "Simmer the onions slowly in butter until golden.",
             "The senate voted on the new budget bill today.",
             "Knead the dough and let it rise for an hour."]


def test_crosslink_classification_batch_to_embeddings(bpage, server):
    require_converted("classification")
    require_converted("embeddings")
    open_page(bpage, server.url, "classification")
    choose_radio(bpage, T("classification.mode.label"), T("classification.mode.lines"))
    fill_text(bpage, T("classification.input.lines"), "\n".join(CLS_BATCH))
    fill_text(bpage, cls_labels_label(), "sports, cooking, politics")
    top = T("classification.results.top_label")
    rows = table_rows(bpage, top)
    predicted = [r[top] for r in rows]
    assert len(predicted) == len(CLS_BATCH), rows
    assert predicted == ["sports", "cooking", "politics", "cooking"], predicted  # MiniLM gets these right
    screenshot(bpage, "crosslink-classification-before")
    bpage.get_by_role("button", name=T("classification.see_on_map")).first.click()
    wait_path(bpage, "embeddings")
    check_map_colours(bpage, CLS_BATCH, predicted, T("classification.predicted_label"))
    finish(bpage, "crosslink-classification-to-embeddings", server)


def test_crosslink_embeddings_point_to_classification(bpage, server):
    require_converted("embeddings")
    require_converted("classification")
    open_page(bpage, server.url, "embeddings")
    emb_prepare(bpage)
    words = [w for w, _ in EMB_ITEMS]
    # click a marker on the 2-D map (a person's way); the selected item is shown literally
    before = set(code_texts(bpage))
    points = main(bpage).locator(".js-plotly-plot g.scatterlayer path.point")
    assert points.count() >= len(words), points.count()
    points.nth(len(words) - 2).click(force=True)
    wait_idle(bpage)
    chosen = [c for c in code_texts(bpage) if c in words]
    if not chosen or set(code_texts(bpage)) == before:
        # clicking did not change the selection: use the keyboard-friendly list instead
        warnings.warn(f"embeddings: clicking a map point did not select it ({bpage.url}); "
                      "the 'selected item' selectbox was used instead", stacklevel=1)
        choose(bpage, T("embeddings.selected.pick"), "trumpet")
        chosen = [c for c in code_texts(bpage) if c in words]
    assert chosen, f"no selected item shown: {code_texts(bpage)}"
    text = chosen[0]
    screenshot(bpage, "crosslink-embeddings-before")
    bpage.get_by_role("button", name=T("embeddings.classify_this")).first.click()
    wait_path(bpage, "classification")
    got = eventually(lambda: text_value(bpage, T("classification.input.text")), text, timeout=60)
    assert got == text, f"classification opened with {got!r}, selected item was {text!r}"
    single = widget(bpage, "stRadio", T("classification.mode.label")).get_by_role("radio", name=T("classification.mode.single"))
    assert single.first.is_checked(), "classification did not open in single-text mode"
    charts = plot_data(bpage, 1)
    assert charts and charts[0]["traces"], "no classification result chart"
    finish(bpage, "crosslink-embeddings-to-classification", server)


# =========================================================================== 1. permalinks
@pytest.mark.parametrize("page_id", MODEL_PAGES)
def test_permalink_reproduces_result(bpage, browser, server, page_id):
    sc = scenario(page_id)
    open_page(bpage, server.url, page_id)
    sc.drive(bpage)
    inputs = settled(lambda: sc.inputs(bpage))
    result = settled(lambda: sc.result(bpage))
    finish(bpage, f"permalink-{page_id}-original", server)
    url = copy_link(bpage)
    assert urlsplit(url).path.rstrip("/").endswith("/" + page_id), url

    fresh = second_page(browser)
    try:
        goto(fresh, url)
        got_inputs = eventually(lambda: sc.inputs(fresh), inputs, 60)
        got_result = eventually(lambda: sc.result(fresh), result)
        finish(fresh, f"permalink-{page_id}-reopened", server)
    except Exception:
        with contextlib.suppress(Exception):
            screenshot(fresh, f"FAILED-permalink-{page_id}-reopened")
        raise
    finally:
        fresh.context.close()
    assert got_inputs == inputs, f"link {url}\n opened with other inputs:\n{got_inputs}\n!=\n{inputs}"
    assert got_result == result, f"link {url}\n shows another result:\n{got_result}\n!=\n{result}"
