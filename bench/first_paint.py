"""First visit of a page in a fresh browser tab: how long grey skeletons stay after the script ends.

Run: ``HF_HUB_OFFLINE=1 python bench/first_paint.py [--repeats 3] [--pages embeddings,sentiment]``
(needs ``/usr/bin/chromium``; about a minute per page and round on a busy machine).

A ``streamlit run app.py`` (the browser tests' server helper) is warmed once: one tab visits
Home and every measured page, so models and data caches are ready. Each round then opens a
NEW browser context (an empty HTTP cache and module map, as a fresh tab of a new visitor),
opens Home, waits for idle, clicks the page in the sidebar and records in the page, from the
click (``performance.now()``, in animation frames):

* ``end``: the frame in which the page's run was reported finished (the script_finished
  message counted by the browser kit's ``RUN_COUNTER_JS``);
* ``last skel``: the last frame in which any ``stSkeleton`` was on screen, and the most shown
  at once;
* for each element container that showed a skeleton: which element it holds once the page
  is idle (its ``data-testid``), so the element types drawn late are named;
* the JavaScript files the page fetched after the click (the element code it still lacked)
  and when each arrived.

Prints one line per round and a summary per page with the load average; asserts nothing.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import statistics
import sys
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

PAGES = ("generation", "sentiment", "classification", "embeddings", "attention", "lens")
VIEWPORT = (1400, 1000)

# Watches every animation frame from the sidebar click until stopped: skeletons on screen, the
# run counter, and which element container each skeleton sat in (tagged for the later look).
ARM_JS = """() => {
    const m = window.__fp = {t0: 0, end: 0, lastSkel: 0, firstSkel: 0, maxSkel: 0, runs0: window.__stRunsDone || 0,
                             boxes: {}, stop: false, n: 0};
    const nav = document.querySelector('[data-testid="stSidebarNav"]');
    nav.addEventListener('click', () => {
        m.t0 = performance.now();
        m.codeReady = document.documentElement.dataset.elementCode === 'loaded';  // the app's preload done
    }, {capture: true, once: true});
    const chain = el => {
        const ids = [];
        for (let p = el.parentElement; p && ids.length < 6; p = p.parentElement) {
            const id = p.getAttribute('data-testid');
            if (id && id !== 'stElementContainer') ids.push(id);
        }
        return ids.join('<');
    };
    const frame = () => {
        if (m.stop) return;
        const now = performance.now();
        if (m.t0) {
            if (!m.end && (window.__stRunsDone || 0) > m.runs0) m.end = now - m.t0;
            const skels = [...document.querySelectorAll('[data-testid="stSkeleton"]')]
                .filter(s => s.getClientRects().length);
            if (skels.length) {
                m.lastSkel = now - m.t0;
                m.firstSkel = m.firstSkel || m.lastSkel;
                m.maxSkel = Math.max(m.maxSkel, skels.length);
            }
            for (const s of skels) {
                const box = s.closest('[data-testid="stElementContainer"]') || s.parentElement;
                let id = box.getAttribute('data-fp');
                if (!id) { id = String(++m.n); box.setAttribute('data-fp', id); }
                const b = m.boxes[id] || (m.boxes[id] = {first: now - m.t0, chain: chain(box)});
                b.last = now - m.t0;
            }
        }
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
}"""

# After idle: what each tagged container holds now, and the scripts fetched after the click.
REPORT_JS = r"""() => {
    const m = window.__fp;
    m.stop = true;
    const boxes = Object.entries(m.boxes).map(([id, b]) => {
        const el = document.querySelector(`[data-fp="${id}"]`);
        const inner = el && [...el.querySelectorAll('[data-testid]')].find(x => x.getAttribute('data-testid') !== 'stSkeleton');
        return {...b, element: inner ? inner.getAttribute('data-testid') : (el ? 'empty' : 'removed')};
    });
    const t0abs = m.t0;
    const scripts = performance.getEntriesByType('resource')
        .filter(r => /\.(js|css)$/.test(r.name) && r.startTime >= t0abs)
        .map(r => ({name: r.name.split('/').pop(), start: r.startTime - t0abs, end: r.responseEnd - t0abs}));
    return {codeReady: !!m.codeReady, end: m.end, lastSkel: m.lastSkel, firstSkel: m.firstSkel, maxSkel: m.maxSkel, boxes, scripts,
            stillShown: document.querySelectorAll('[data-testid="stSkeleton"]').length};
}"""


def visit(browser, url: str, page_id: str, wait_preload: bool = False) -> dict:
    """A fresh context: Home, then a sidebar click to ``page_id``; the frame record (ms).
    ``wait_preload``: click only once the app's element-code preload has finished."""
    page = new_page(browser, viewport=VIEWPORT)
    try:
        open_page(page, url, "")
        if wait_preload:
            page.wait_for_function("() => document.documentElement.dataset.elementCode === 'loaded'",
                                   timeout=DEFAULT_TIMEOUT_S * 1000, polling=100)
        page.evaluate(ARM_JS)
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{page_id}"]').first.click()
        page.wait_for_function("() => window.__fp.end > 0", timeout=DEFAULT_TIMEOUT_S * 1000, polling=50)
        wait_idle(page, settle=1.0)
        page.wait_for_timeout(500)  # a few more frames after idle
        return page.evaluate(REPORT_JS)
    finally:
        page.context.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/first_paint.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh-tab rounds per page")
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated page ids")
    parser.add_argument("--wait-preload", action="store_true",
                        help="click only after Home has loaded the pages' element code (the app's preload)")
    parser.add_argument("--verbose", action="store_true", help="also print the skeleton containers and scripts")
    opts = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    pages = [p for p in opts.pages.split(",") if p]
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()
    results: dict[str, list[dict]] = {p: [] for p in pages}
    with contextlib.ExitStack() as stack:
        srv = stack.enter_context(streamlit_server("bench-first-paint"))
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        warm = new_page(browser, viewport=VIEWPORT)
        open_page(warm, srv.url, "")
        for p in pages:  # models, caches and imports ready before anything is measured
            open_page(warm, srv.url, p)
            wait_idle(warm)
        warm.context.close()
        for _ in range(opts.repeats):
            for p in pages:
                r = visit(browser, srv.url, p, opts.wait_preload)
                results[p].append(r)
                kinds = collections.Counter(b["element"] for b in r["boxes"])
                print(f"[first-paint] {p:<15} end {r['end'] / 1000:5.2f} s  last skeleton "
                      f"{r['lastSkel'] / 1000:5.2f} s (+{max(0.0, r['lastSkel'] - r['end']) / 1000:4.2f})  "
                      f"max {r['maxSkel']:>2} at once, {len(r['boxes'])} containers, left {r['stillShown']}, "
                      f"{len(r['scripts'])} scripts fetched{'' if r['codeReady'] else ' (preload not done)'}: "
                      + ", ".join(f"{k} x{n}" for k, n in kinds.most_common()), flush=True)
                if opts.verbose:
                    for b in r["boxes"]:
                        print(f"    {b['first']:7.0f}-{b['last']:7.0f} ms  {b['element']:<28} {b['chain']}")
                    for s in sorted(r["scripts"], key=lambda s: s["end"]):
                        print(f"    js {s['start']:7.0f}-{s['end']:7.0f} ms  {s['name']}")
    load_after = os.getloadavg()
    note = (f"Chromium {VIEWPORT[0]}x{VIEWPORT[1]}, fresh context per round, Home then sidebar click"
            f"{' once the preload is done' if opts.wait_preload else ''}; "
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after, {os.cpu_count()} cores")
    print(f"[first-paint] median of {opts.repeats} rounds (s from the click); {note}")
    print(f"{'page':<16}{'run end':>9}{'last skel':>11}{'after end':>11}{'max shown':>11}{'scripts':>9}")
    for p in pages:
        rs = results[p]
        end = statistics.median(r["end"] for r in rs) / 1000
        last = statistics.median(r["lastSkel"] for r in rs) / 1000
        after = statistics.median(max(0.0, r["lastSkel"] - r["end"]) for r in rs) / 1000
        most = statistics.median(r["maxSkel"] for r in rs)
        scripts = statistics.median(len(r["scripts"]) for r in rs)
        print(f"{p:<16}{end:>9.2f}{last:>11.2f}{after:>11.2f}{most:>11.0f}{scripts:>9.0f}")
        print(json.dumps({"figure": f"first visit, skeletons shown after the run ended: {p}",
                          "value": round(after, 3), "unit": "s", "note": note}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
