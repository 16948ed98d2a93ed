"""Hostile text for the issue-9 sweep, shared by ``tests/test_hostile.py`` (AppTest, CSV reader)
and ``tests/browser/test_hostile.py`` (real Chromium).

Each :class:`Payload` has an id, the exact text, and ``raw_markers``: substrings that would only
appear *unescaped* in an element's source if the payload had been handed to a markdown / HTML /
LaTeX renderer as is (e.g. ``<script>``, ``**bold**``, ``:material/home:``). A page shows the
payload literally when those markers occur only in literal elements (``st.code``, ``st.text``,
dataframe cells, widget values) or escaped (``&lt;script&gt;``, ``\\*\\*bold\\*\\*``).

Pure data, no streamlit, no model.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

LONG_CHARS = 100_000


@dataclass(frozen=True)
class Payload:
    """One hostile input.

    Attributes:
        id: short name (pytest id, file names).
        text: the exact string typed / put in a CSV cell / put in a URL.
        html_markers: tag openers (``<script``, ``<img`` ...) that must never reach an HTML /
            markdown / plotly renderer unescaped.
        md_markers: substrings that must never reach a markdown / LaTeX renderer unescaped.
        template_markers: substrings that must never reach a plotly template string
            (``hovertemplate``, ``texttemplate``, titles, trace names) unescaped.
        browser: True when the payload is part of the combined string typed in the browser.
    """

    id: str
    text: str
    html_markers: tuple[str, ...] = ()
    md_markers: tuple[str, ...] = ()
    template_markers: tuple[str, ...] = ()
    browser: bool = True
    notes: str = field(default="", compare=False)

    @property
    def raw_markers(self) -> tuple[str, ...]:
        return self.html_markers + self.md_markers + self.template_markers


def _long_text(n: int = LONG_CHARS, seed: int = 9) -> str:
    """``n`` characters of varied words (English, 中文, digits, punctuation) on one line,
    deterministic. One line on purpose: one very long text, not hundreds of short ones (row
    caps of batch inputs are tested by the textio/loading tests)."""
    words = ("attention", "token", "the", "model", "softmax", "layer", "head", "vector", "注意力",
             "词向量", "temperature", "sampling", "42", "3.14", "why?", "yes!", "(query)", "key,",
             "value;", "embedding", "dog", "cat", "run", "house", "自回归", "über", "naïve", "—")
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < n:
        w = rng.choice(words)
        out.append(w + " ")
        size += len(w) + 1
    return "".join(out)[:n]


SCRIPT = Payload("script", "<script>alert(1)</script>", html_markers=("<script",))
IMG = Payload(
    "img_onerror",
    "<img src=x onerror=\"alert(1);document.body.setAttribute('data-pwned',1)\">",
    html_markers=("<img",),
)
SVG = Payload("svg_onload", "<svg onload=alert(1)>", html_markers=("<svg",))
MD_JS_LINK = Payload("md_js_link", "[click](javascript:alert(1))", md_markers=("](javascript:",))
HTML_JS_LINK = Payload("html_js_link", '<a href="javascript:alert(1)">x</a>', html_markers=("<a href",))
MARKDOWN = Payload(
    "markdown_latex",
    "$\\frac{1}{2}$ **bold** `code` # heading ~~s~~ | table |",
    md_markers=("$\\frac{1}{2}$", "**bold**", "`code`", "~~s~~"),
)
SHORTCODES = Payload("shortcodes", ":material/home: :smile:", md_markers=(":material/home:", ":smile:"))
LONG = Payload("long_100k", _long_text(), browser=False,
               notes="100 000 characters of mixed words: must give a notice (truncation/cap), not a hang")
CONTROL = Payload("control_nul", "a\x00b\x07\x1b[31m", browser=False,
                  notes="NUL, BEL, ANSI escape; browsers cannot type NUL")
ZERO_WIDTH = Payload("zero_width", "\u200b\u200c\u200d\ufeff")
RTL = Payload("rtl", "\u202eabc مرحبا بالعالم שלום עולם")
EMOJI = Payload("emoji_only", "🙂🙃🧪👩\u200d👩\u200d👧")
CHINESE = Payload("chinese", "今天的天气很好，适合出去散步。注意力机制")
COMBINING = Payload("odd_unicode", "\U0001F600 e\u0301\u0302\u0303 \u0301start \U0001D54F\U0001D550")
WHITESPACE = Payload("whitespace_only", "   \t \u00a0\u3000  \n  ", browser=False,
                     notes="only whitespace: the page must say the input is empty")
CSV_FORMULA = Payload("csv_formula", '=HYPERLINK("http://x","y")')
FORMAT_BRACES = Payload("format_braces", "{} {0} {text} {0.__class__.__mro__} {{ }} %s %(x)s",
                        notes="str.format / %-format injection into templates")
PLOTLY_TEMPLATE = Payload("plotly_template", "half %{x} %{y:.2f} %{customdata[0]} %{meta[0]}",
                          template_markers=("%{x} %{y:.2f} %{customdata[0]} %{meta[0]}",),
                          notes="plotly template placeholders: must show as typed, not the point's values")

PAYLOADS: tuple[Payload, ...] = (
    SCRIPT, IMG, SVG, MD_JS_LINK, HTML_JS_LINK, MARKDOWN, SHORTCODES, LONG, CONTROL, ZERO_WIDTH,
    RTL, EMOJI, CHINESE, COMBINING, WHITESPACE, CSV_FORMULA, FORMAT_BRACES, PLOTLY_TEMPLATE,
)
BY_ID = {p.id: p for p in PAYLOADS}
assert len(BY_ID) == len(PAYLOADS)
assert len(LONG.text) == LONG_CHARS and len(set(LONG.text)) > 20

SHORT = tuple(p for p in PAYLOADS if p is not LONG and p is not WHITESPACE)
"""Every payload except the 100k string and the whitespace-only one (which would make a
combined string non-blank / huge)."""
HTML_MARKERS = tuple(m for p in PAYLOADS for m in p.html_markers)
MD_MARKERS = tuple(m for p in PAYLOADS for m in p.md_markers)
TEMPLATE_MARKERS = tuple(m for p in PAYLOADS for m in p.template_markers)


def combined(payloads=SHORT, sep: str = "\n") -> str:
    """Several payloads in one string, one per line; a blank line before the markdown payload
    (a blank line ends a CommonMark HTML block, so markdown after it would be rendered)."""
    parts = []
    for p in payloads:
        if p is MARKDOWN:
            parts.append("")
        parts.append(p.text)
    return sep.join(parts)


COMBINED = combined()
BROWSER_COMBINED = combined(tuple(p for p in SHORT if p.browser))
"""The string typed in the browser: the HTML/JS payloads + markdown + RTL + emoji + ... (no NUL)."""
VISIBLE_PROBES = ("<script>alert(1)</script>", "**bold**", ":material/home:", "مرحبا", "שלום", "今天的天气")
"""Substrings of :data:`BROWSER_COMBINED` a literal rendering shows as visible text."""


def csv_bytes(payloads=PAYLOADS, header: tuple[str, str] = ("text", "label")) -> bytes:
    """A UTF-8 CSV: one row per payload (text column = the payload, label column = its id),
    quoted as the ``csv`` module writes it."""
    import csv
    import io

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for p in payloads:
        writer.writerow([p.text, p.id])
    return buf.getvalue().encode("utf-8")
