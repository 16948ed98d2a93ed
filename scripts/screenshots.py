"""The README's page pictures: one screenshot per page, taken from a live server so they show
what the app draws today.

Run: ``HF_HUB_OFFLINE=1 python -m scripts.screenshots [--lang en|zh] [--out docs/images]``
(needs ``/usr/bin/chromium``; a few minutes on two cores). Each page is opened on a fresh
``streamlit run app.py`` with its default inputs, its main button pressed where results wait
for one (generation), and 1400 x 1300 pixels captured once Streamlit is idle: the top of the
page, or from the button or around the first chart where the result is further down. Nothing is downloaded: the bundled models only.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components import i18n  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    launch_browser,
    new_page,
    open_page,
    sent_count,
    streamlit_server,
    wait_idle,
    wait_input_processed,
)

VIEWPORT = (1400, 1300)
CHART = "chart"
# page url path -> the button whose result the picture should show (None: the page computes on
# open), and where the picture starts: the page's top, that button, or its first chart centred
PAGES = {
    "home": (None, None),
    "generation": ("generation.generate", "button"),
    "sentiment": (None, None),
    "classification": (None, None),
    "embeddings": (None, CHART),
    "attention": (None, CHART),
    "lens": (None, None),
}


def shoot(browser, url: str, path: str, button: str | None, start: str | None, lang: str, out: Path) -> Path:
    """Open ``/<path>``, press ``button`` (an i18n key) if given, scroll to ``start`` and save
    the viewport."""
    page = new_page(browser, VIEWPORT)
    try:
        open_page(page, url, f"{path}?lang={lang}" if path != "home" else f"?lang={lang}")
        if button:
            label = i18n.translate(lang, button)
            sent = sent_count(page)
            page.get_by_role("button", name=label).first.click()
            wait_input_processed(page, sent, quiet_ms=0)
            if start == "button":  # its result is below the inputs
                page.get_by_role("button", name=label).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        if start == CHART:
            page.locator(".js-plotly-plot").first.evaluate("e => e.scrollIntoView({block: 'center'})")
        wait_idle(page, settle=1.5)  # charts finish their transition
        target = out / (f"{path}.png" if lang == "en" else f"{path}-{lang}.png")
        page.screenshot(path=str(target), animations="disabled")
        return target
    finally:
        page.context.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", default="en", choices=sorted(i18n.LANGS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, streamlit_server("screenshots") as srv:
        browser = launch_browser(p)
        try:
            for path, (button, start) in PAGES.items():
                print(shoot(browser, srv.url, path, button, start, args.lang, out))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
