"""Presenter mode: time from a click on a page in the sidebar to that page's slide on screen.

Run: ``HF_HUB_OFFLINE=1 python bench/slides.py [--repeats 3] [--compare main]``
(needs ``/usr/bin/chromium``; about 2 minutes, twice that with ``--compare``).

A fresh ``streamlit run app.py`` (the browser tests' server helper, ``LLM_LAB_NO_WARMUP=1``:
a slide needs no model) and a headless Chromium at projector size (1400 x 1000) in presenter
mode (``?present=1``). One unmeasured round visits every model page (imports, curated files);
then each of ``--repeats`` rounds clicks the pages in the sidebar one after another. Measured in
the page (``performance.now()``): from the click on the sidebar link to the first animation
frame in which that page's "Run this example live" button is visible -- it is drawn below the
slide, so the slide's elements have arrived -- and to the first frame in which every plotly
chart of the slide has drawn its SVG. Median and fastest round per page (on a shared
machine the fastest round is the one least disturbed by other work).

``--compare REF`` also serves the app as it is at git revision ``REF`` (``git archive`` into a
temporary folder) and measures both in the same rounds, alternating, so both see the same
machine load; the ratio column is this checkout / ``REF``.

Prints a table, the load average before and after, and one JSON line per page (folded in by
``python -m bench``). It measures; it asserts nothing (seconds depend on the machine's load).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_TIMEOUT_S,
    new_page,
    open_page,
    streamlit_server,
    wait_idle,
)

PAGES = ("generation", "sentiment", "classification", "embeddings", "lens", "attention")
VIEWPORT = (1400, 1000)

# Starts one measurement: the click time on the sidebar link (capture phase, before Streamlit
# sees it) and the first animation frame showing the target page's live button.
ARM_JS = """page => {
    const mark = window.__slide = {t0: 0, t1: 0, t2: 0};
    const nav = document.querySelector('[data-testid="stSidebarNav"]');
    nav.addEventListener('click', () => { mark.t0 = performance.now(); }, {capture: true, once: true});
    const selector = `.st-key-present_live_${page} button`;
    const frame = () => {
        const b = document.querySelector(selector);
        if (!mark.t1 && mark.t0 && b && b.getClientRects().length && b.getBoundingClientRect().height > 0) {
            mark.t1 = performance.now();
        }
        if (mark.t1) {  // then every chart of the slide painted (plotly's SVG in place)
            const charts = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stPlotlyChart"]')];
            if (charts.every(c => c.querySelector('svg.main-svg'))) { mark.t2 = performance.now(); return; }
        }
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
}"""


def click_to_slide(page, page_id: str) -> tuple[float, float]:
    """Click ``page_id`` in the sidebar; seconds until its slide's live button is visible, and
    until every chart on the slide is painted too."""
    page.evaluate(ARM_JS, page_id)
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{page_id}"]').first.click()
    page.wait_for_function("() => window.__slide.t2 > 0", timeout=DEFAULT_TIMEOUT_S * 1000, polling=50)
    button, charts = page.evaluate("() => [(window.__slide.t1 - window.__slide.t0) / 1000,"
                                   " (window.__slide.t2 - window.__slide.t0) / 1000]")
    wait_idle(page)  # the run ends after the button (link, report): let it finish before the next click
    return float(button), float(charts)


@contextlib.contextmanager
def checkout(ref: str):
    """The tracked files of git revision ``ref`` in a temporary folder (removed at the end)."""
    with tempfile.TemporaryDirectory(prefix="llm-lab-slides-") as tmp:
        archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def measure(apps: dict[str, Path], repeats: int) -> dict[str, dict[str, list[float]]]:
    """``{app label: {page: [seconds per round]}}``; the apps alternate page by page."""
    from playwright.sync_api import sync_playwright

    env = {"LLM_LAB_NO_WARMUP": "1"}
    times: dict[str, dict[str, list[float]]] = {label: {p: [] for p in PAGES} for label in apps}
    with contextlib.ExitStack() as stack:
        servers = {label: stack.enter_context(streamlit_server(f"bench-slides-{label}", env, root=root))
                   for label, root in apps.items()}
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        pages = {}
        for label, srv in servers.items():
            page = new_page(browser, viewport=VIEWPORT)
            stack.callback(page.context.close)
            open_page(page, srv.url, "?present=1")
            for page_id in PAGES:  # warm-up round, not measured
                click_to_slide(page, page_id)
            pages[label] = page
        for _ in range(repeats):
            for page_id in PAGES:
                for label, page in pages.items():
                    times[label][page_id].append(click_to_slide(page, page_id))
    return times


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/slides.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="measured rounds (median taken)")
    parser.add_argument("--compare", default="", metavar="REF",
                        help="also measure the app at git revision REF (e.g. main), in the same rounds")
    opts = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        apps = {}
        if opts.compare:
            apps[opts.compare] = stack.enter_context(checkout(opts.compare))
        apps["this"] = ROOT
        times = measure(apps, opts.repeats)
    load_after = os.getloadavg()
    note = (f"Chromium {VIEWPORT[0]}x{VIEWPORT[1]}, presenter mode, median of {opts.repeats} after a warm-up round; "
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores")
    labels = list(apps)
    for k, what in enumerate(("slide on screen (its live button visible)", "slide with every chart painted")):
        med = {label: {p: statistics.median(x[k] for x in v) for p, v in per.items()} for label, per in times.items()}
        best = {label: {p: min(x[k] for x in v) for p, v in per.items()} for label, per in times.items()}
        print(f"[slides] sidebar click -> {what} (s), median and fastest round; {note}")
        head = f"{'page':<16}" + "".join(f"{label + ' med':>12}{'min':>7}" for label in labels)
        head += f"{'ratio med':>11}{'min':>7}" if opts.compare else ""
        print(head + "   rounds (s)")
        for p in PAGES:
            row = f"{p:<16}" + "".join(f"{med[label][p]:>12.2f}{best[label][p]:>7.2f}" for label in labels)
            if opts.compare:
                row += f"{med['this'][p] / med[opts.compare][p]:>11.2f}{best['this'][p] / best[opts.compare][p]:>7.2f}"
            rounds = "; ".join(f"{label}: " + " ".join(f"{x[k]:.2f}" for x in times[label][p]) for label in labels)
            print(row + "   " + rounds)
        for p in PAGES:
            print(json.dumps({"figure": f"presenter {what} after sidebar click: {p}",
                              "value": round(med["this"][p], 3), "unit": "s",
                              "baseline": round(med[opts.compare][p], 3) if opts.compare else None,
                              "note": note + (f"; baseline: git {opts.compare}" if opts.compare else "")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
