"""Hostile text sweep, AppTest part: every text widget and CSV upload of every model
page gets every payload of ``tests/hostile_payloads.py``; links (query parameters) are fuzzed;
model ids that are not in the catalog must never reach the loader.

What "shown literally, runs nothing" means here (the browser half, ``tests/browser/
test_hostile.py``, checks the rendered DOM):

* no ``st.exception`` box and no "Something went wrong" box from ``ui.run_guarded``;
* no element that renders markdown / LaTeX / HTML (markdown, captions, alerts, headings, widget
  labels and help, radio options, tab / expander labels, metric labels, ``st.html``, plotly
  text) holds a payload's raw markup (``<script>``, ``<img src=x``, ``**bold**``,
  ``:material/home:``, ``](javascript:`` ...) outside a code span; ``unsafe_allow_html`` markdown
  may hold it only escaped, and not after a blank line (which ends a CommonMark HTML block and
  lets markdown loose);
* literal elements (``st.code`` / ``st.text`` / dataframes) do not show HTML-escaped text
  (``&lt;script&gt;`` = escaped twice);
* the widget still holds exactly what was typed;
* blank and 100 000-character inputs in a text area produce a message (notice / warning), and the
  page finishes.

Widgets are discovered from the rendered tree (``at.text_area``, ``at.text_input``,
``at.file_uploader``), including those a radio reveals (e.g. "one text per line" mode): each radio
option is tried once. The page's main button is the primary button (``type="primary"``) that is
not in :data:`NOT_MAIN_BUTTONS`; it is pressed with the payloads of :data:`BUTTON_PAYLOADS`.
CSV cells go through ``at.file_uploader`` (AppTest of Streamlit 1.67 drives uploads) and, in the
browser, through the real uploader. With the combined payload in the first text input, every other
radio / bundled-model option is rendered once too (other views of the same text).

Run one page: ``HF_HUB_OFFLINE=1 python -m pytest tests/test_hostile.py -q -k generation``.
"""
from __future__ import annotations

import ast
import base64
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import hostile_payloads as hp

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("generation", "sentiment", "classification", "embeddings", "attention")
TIMEOUT_S = 300  # one run; a page still busy after this is a finding (the run is reported, not skipped)

NOT_MAIN_BUTTONS = {
    # key: why pressing it is not "running the page on the typed text"
    "sent_eval_run": "held-out evaluation of every approach on data/sentiment/test.csv (170 texts x "
                     "3 models, minutes); it does not read the typed text",
}
NOT_MAIN_PREFIXES = ("switch_", "present_")  # "use the bundled model", presenter stepper
BUTTON_PAYLOADS = {"combined", "long_100k", "zero_width"}
"""Payloads run with the main button pressed. The others run the page's live path only (for
generation: tokens, chips, next-token distribution -- everything that reads the typed text; the
button adds the model's own output, shown with st.code), which keeps the sweep within minutes."""

# Element types whose text is literal (no markdown / HTML interpretation).
LITERAL_TYPES = {"code", "text", "json"}
TABLE_TYPES = {"dataframe", "arrow_data_frame", "table", "arrow_table"}
# Widgets whose ``options`` are shown as plain text (radio / pills / segmented control render markdown).
PLAIN_OPTION_TYPES = {"selectbox", "multiselect", "select_slider", "selectbox_proto"}
SKIP_FIELDS = {"id", "form_id", "key", "default", "value", "raw_value", "placeholder", "icon",
               "theme", "type", "format", "data", "url", "file_id", "set_value", "element_id",
               "selection_mode", "width", "height", "deltaPath", "mime_type", "file_name"}
HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|"
    "head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|"
    "p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul|pre|script|style|textarea"
)
HTML_BLOCK_START = re.compile(rf"^ {{0,3}}</?(?:{HTML_BLOCK_TAGS})(?:\s|/?>|$)", re.IGNORECASE)
DOUBLE_ESCAPED = ("&lt;script&gt;", "&lt;img src=x", "&lt;svg onload", "&lt;a href=&quot;javascript",
                  "\\*\\*bold\\*\\*", "&amp;lt;")
ACTIVE_TAGS = {"script", "img", "svg", "iframe", "object", "embed", "math", "base", "meta", "link", "form",
               "video", "audio", "source", "input", "button", "textarea", "frame", "frameset"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


BIDI_OPENERS = "\u202a\u202b\u202d\u202e\u2066\u2067\u2068"
BIDI_CLOSERS = "\u202c\u2069"
ISOLATING_STYLE = re.compile(r"unicode-bidi\s*:\s*(isolate|plaintext|isolate-override)|display\s*:\s*inline-block",
                             re.IGNORECASE)


BLOCK_TAGS = set(HTML_BLOCK_TAGS.split("|")) - {"script", "style", "textarea", "title", "base", "link",
                                                "param", "track", "frame", "meta"}


def _bidi_unbalanced(text: str) -> bool:
    """More bidi embeddings/overrides/isolates opened than closed: the direction change would
    run on past this text (until the end of the paragraph)."""
    return sum(text.count(c) for c in BIDI_OPENERS) > sum(text.count(c) for c in BIDI_CLOSERS)


def active_html(body: str) -> list[str]:
    """Elements a browser would make active in ``body`` (HTML): script/img/svg/iframe... tags,
    ``on*`` event-handler attributes, ``javascript:`` URLs. The app's own HTML (div/span with
    title/style) has none; a payload that reached it unescaped does."""
    from html.parser import HTMLParser

    found: list[str] = []
    stack: list[bool] = []  # per open element: does it end a bidi paragraph (block, bdi, isolate, inline-block)?
    void = {"br", "hr", "img", "input", "meta", "link", "wbr", "source", "area", "base", "col", "embed"}

    class _Scan(HTMLParser):
        def handle_data(self, data):
            if _bidi_unbalanced(data) and not (stack and stack[-1]):
                found.append("unterminated bidi override/embedding in HTML text (not isolated): it reverses "
                             f"the text after it: {_short(repr(data), 80)}")

        def handle_endtag(self, tag):
            if stack:
                stack.pop()

        def handle_starttag(self, tag, attrs):
            if tag not in void:
                style = " ".join(v or "" for n, v in attrs if n == "style")
                stack.append(tag == "bdi" or tag in BLOCK_TAGS or bool(ISOLATING_STYLE.search(style)))
            if tag in ACTIVE_TAGS:
                found.append(f"<{tag}> element")
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"{name}= handler on <{tag}>")
                if name in URL_ATTRS and value and "javascript:" in value.replace(" ", "").lower():
                    found.append(f"javascript: URL in <{tag} {name}>")

        def handle_startendtag(self, tag, attrs):
            self.handle_starttag(tag, attrs)
            if tag not in void and stack:
                stack.pop()

    try:
        _Scan(convert_charrefs=True).feed(body)
    except Exception as exc:  # noqa: BLE001 - unparseable HTML from user text is itself suspect
        found.append(f"HTML parser failed: {exc!r}")
    return found


# =============================================================================== checks
MATERIAL = ":material/"
"""Streamlit renders ``:material/x:`` even when its colons are backslash-escaped (seen in Chromium:
``\\:material/home\\:`` shows the icon); ``\\:smile\\:`` stays text."""
ASCII_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _strip_code(md: str, keep_colons: bool = False) -> str:
    """Markdown with code spans / fenced blocks replaced by a placeholder (their content is literal)
    and backslash-escaped punctuation replaced too (``keep_colons``: ``\\:`` stays ``:``)."""
    out_lines, fence = [], None
    for line in md.split("\n"):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            out_lines.append("⟦code⟧")
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        out_lines.append(line)
    text = "\n".join(out_lines)
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in ASCII_PUNCT:
            # backslash-escaped punctuation is literal -- except ":": Streamlit's shortcode
            # plugins (:material/home:, :smile:) run on the unescaped text (seen in Chromium)
            out.append(":" if text[i + 1] == ":" and keep_colons else "\u2400")
            i += 2
            continue
        if text[i] == "`":
            j = i
            while j < len(text) and text[j] == "`":
                j += 1
            run = text[i:j]
            close = re.compile(rf"(?<!`){run}(?!`)").search(text, j)
            if close:
                out.append("⟦code⟧")
                i = close.end()
                continue
            out.append(run)
            i = j
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def markdown_leaks(body: str, allow_html: bool, markers_html=hp.HTML_MARKERS, markers_md=hp.MD_MARKERS) -> list[str]:
    """Raw payload markup that a markdown renderer would interpret in ``body``."""
    found = []
    if not allow_html:
        plain, colons = _strip_code(body), _strip_code(body, keep_colons=True)
        found += [m for m in (*markers_html, *markers_md)
                  if m in (colons if m.startswith(MATERIAL) else plain)]
        return found
    # unsafe_allow_html: no active element / handler; payload tag openers never raw;
    # markdown markers only inside HTML blocks
    found += active_html(body)
    found += [m for m in markers_html if m in body]
    for block in re.split(r"\n[ \t]*\n", body):
        first = block.lstrip("\n").split("\n", 1)[0]
        if HTML_BLOCK_START.match(first):
            continue  # CommonMark HTML block: content is raw HTML up to the next blank line
        plain, colons = _strip_code(block), _strip_code(block, keep_colons=True)
        found += [f"{m} (markdown after a blank line / outside an HTML block)" for m in markers_md
                  if m in (colons if m.startswith(MATERIAL) else plain)]
    return found


def _proto_strings(msg, prefix=""):
    """(field path, string) for every string field of a protobuf message, recursively."""
    from google.protobuf.message import Message

    for fd, value in msg.ListFields():
        name = fd.name
        repeated = not isinstance(value, (str, bytes, Message)) and hasattr(value, "__len__")
        items = list(value) if repeated else [value]
        for item in items:
            if isinstance(item, Message):
                yield from _proto_strings(item, f"{prefix}{name}.")
            elif isinstance(item, str):
                yield f"{prefix}{name}", item


def _plotly_strings(spec: str):
    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for v in node[:5000]:
                yield from walk(v, path)
        elif isinstance(node, str):
            yield path, node

    try:
        yield from walk(json.loads(spec), "spec")
    except (ValueError, TypeError):
        yield "spec", spec


PLOTLY_TEMPLATE_KEYS = ("hovertemplate", "texttemplate", "name")


def _is_plotly_template(path: str) -> bool:
    """Spec paths plotly.js runs its ``%{...}`` substitution on: hover/text templates, trace
    names and every title (``%{meta[i]}``)."""
    leaf = path.rsplit(".", 1)[-1]
    return leaf in PLOTLY_TEMPLATE_KEYS or ".title" in path or "annotations" in path


def _describe(node) -> str:
    key = getattr(node, "key", None)
    return f"{node.type}" + (f"[key={key}]" if key else "")


def _short(text: str, n: int = 160) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[: n // 2] + " … " + text[-n // 2:]


def unexpected_prefixes() -> list[str]:
    from components import i18n

    out = []
    for lang in i18n.LANGS:
        msg = i18n.translate(lang, "ui.error.unexpected", error="\x00")
        out.append(msg.split("\x00")[0])
    return [p for p in out if p.strip()]


def app_scripts() -> set[str]:
    """The app's own scripts, whole and exact (fixed text, no user input): the only ``st.html``
    bodies allowed to hold a ``<script>``."""
    from components import ui

    return {ui._TO_TOP_JS, ui.element_code_html()}


def page_problems(at) -> list[str]:
    """Everything wrong with the current render (see module docstring), as readable lines."""
    problems = []
    for exc in at.exception:
        problems.append(f"st.exception: {exc.value}\n{''.join(exc.stack_trace)[-3000:] if exc.stack_trace else ''}")
    prefixes = unexpected_prefixes()
    for err in at.error:
        if any(err.value.startswith(p) for p in prefixes):
            problems.append(f"unexpected-error box (ui.run_guarded caught an exception): {_short(err.value, 400)}")
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        ntype = node.type
        where = _describe(node)
        if ntype in TABLE_TYPES:
            try:
                frame = node.value
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{where}: dataframe not decodable: {exc!r}")
                continue
            cells = [str(v) for col in frame.columns for v in frame[col].tolist() if isinstance(v, str)]
            cells += [str(c) for c in frame.columns]
            for cell in cells:
                bad = [d for d in DOUBLE_ESCAPED if d in cell]
                if bad:
                    problems.append(f"{where}: literal cell shows escaped text {bad}: {_short(cell)}")
            continue
        if ntype in ("plotly_chart",):
            for path, text in _plotly_strings(proto.spec):
                bad = [m for m in hp.HTML_MARKERS if m in text]
                if bad:
                    problems.append(f"{where}: plotly {path} holds raw HTML {bad}: {_short(text)}")
                if _is_plotly_template(path):
                    bad = [m for m in hp.TEMPLATE_MARKERS if m in text]
                    if bad:
                        problems.append(f"{where}: plotly template {path} holds user text {bad}: {_short(text)}")
            continue
        for path, text in _proto_strings(proto):
            leaf = path.rsplit(".", 1)[-1]
            if leaf in SKIP_FIELDS:
                continue
            if ntype in LITERAL_TYPES or leaf == "code_text":
                bad = [d for d in DOUBLE_ESCAPED if d in text]
                if bad:
                    problems.append(f"{where}.{path}: literal text shows escaped markup {bad}: {_short(text)}")
                continue
            if ntype == "html" or leaf == "spec":
                if ntype == "html" and text in app_scripts():
                    continue
                bad = active_html(text) + [m for m in hp.HTML_MARKERS if m in text]
                if bad:
                    problems.append(f"{where}.{path}: raw HTML {bad}: {_short(text)}")
                continue
            if leaf == "options" and ntype in PLAIN_OPTION_TYPES:
                continue
            if leaf not in ("body", "label", "help", "options", "captions", "caption", "title", "content",
                            "text", "markdown"):
                continue
            allow_html = bool(getattr(proto, "allow_html", False)) and leaf == "body"
            is_latex = ntype == "markdown" and getattr(proto, "element_type", None) == 4  # LATEX
            if is_latex:
                bad = [m for m in hp.HTML_MARKERS + hp.MD_MARKERS if m in text]
            else:
                bad = markdown_leaks(text, allow_html)
            if bad:
                problems.append(f"{where}.{path}{' (unsafe_allow_html)' if allow_html else ''}: "
                                f"rendered as markdown/HTML, holds {bad}: {_short(text, 300)}")
    return problems


# =============================================================================== AppTest driving
def _forced_radio(radio, label: str):
    """Choose a radio option by its *displayed* text (the raw option values are not in the
    element tree): the next run receives exactly what a browser sends, the option string."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    base = type(radio)

    class _Forced(base):  # type: ignore[misc, valid-type]
        @property
        def _widget_state(self):
            ws = WidgetState()
            ws.id = self.id
            ws.string_value = self._forced_label
            return ws

    radio.__class__ = _Forced
    radio._forced_label = label
    return radio


def _radio_label(radio) -> str | None:
    try:
        idx = radio.index
    except Exception:  # noqa: BLE001
        return None
    return radio.options[idx] if idx is not None else None


def _find(at, key: str):
    for node in at._tree:
        if getattr(node, "key", None) == key and hasattr(node, "set_value"):
            return node
    return None


def _text_widgets(at) -> dict[str, str]:
    out = {}
    for w in [*at.text_area, *at.text_input]:
        if w.key and not w.disabled:
            out[w.key] = w.type
    for w in at.file_uploader:
        if w.key and not w.disabled:
            out[w.key] = "file_uploader"
    return out


def _alerts(at) -> list[str]:
    return [e.value for kind in ("info", "warning", "error", "success") for e in getattr(at, kind)]


@dataclass
class Target:
    key: str
    kind: str  # text_area / text_input / file_uploader
    radios: dict[str, str] = field(default_factory=dict)  # radio key -> displayed option that reveals it
    default: object = None


@dataclass
class PageSession:
    page: str
    at: object
    targets: dict[str, Target]
    radio_defaults: dict[str, str]
    main_button: str | None
    baseline_alerts: list[str]
    discovery_problems: list[str]
    log: list[str] = field(default_factory=list)

    def run(self):
        self.at.run(timeout=TIMEOUT_S)
        return self.at

    def set_radios(self, wanted: dict[str, str]) -> bool:
        """Stage radios: ``wanted`` options, every other discovered radio back to its default.
        Returns True when every radio is already as wanted (nothing staged, nothing missing)."""
        settled = True
        for rkey, default in self.radio_defaults.items():
            radio = _find(self.at, rkey)
            label = wanted.get(rkey, default)
            if radio is None:
                settled = settled and rkey not in wanted
            elif _radio_label(radio) != label:
                _forced_radio(radio, label)
                settled = False
        return settled

    def reach(self, target: Target) -> object | None:
        """Run until ``target``'s radios are set and the widget is rendered (a radio can sit
        in a part of the page that only shows once another radio is back at its default)."""
        for _ in range(4):
            if self.set_radios(target.radios) and _find(self.at, target.key) is not None:
                break
            self.run()
        return _find(self.at, target.key)

    def restore(self) -> None:
        for t in self.targets.values():
            w = _find(self.at, t.key)
            if w is not None and t.kind != "file_uploader" and w.value != t.default:
                w.set_value(t.default)
            if w is not None and t.kind == "file_uploader":
                w.clear()
        self.set_radios({})

    def press_main(self) -> None:
        if self.main_button:
            btn = _find(self.at, self.main_button)
            if btn is not None and not btn.disabled:
                btn.click()


def _picker_options(at) -> dict[str, tuple[str, list[str]]]:
    """Model pickers (selectboxes holding a catalog key): key -> (shown option, shown options
    of the *bundled* models). Hub models are left out: offline they only show a message."""
    from components.catalog import get_spec

    known = catalog_keys()
    out = {}
    for box in at.selectbox:
        if not box.key or box.disabled or box.key not in at.session_state:
            continue
        value = at.session_state[box.key]
        if value not in known:
            continue
        try:
            fmt = box.format_func
            current = fmt(value)
            shown = [fmt(k) for k in known if get_spec(k).has_bundled_source]
        except Exception:  # noqa: BLE001
            continue
        shown = [o for o in box.options if o in shown]
        if current in box.options and len(shown) > 1:
            out[box.key] = (current, shown)
    return out


def _main_button(at) -> str | None:
    for b in at.button:
        if (b.proto.type == "primary" and b.key and b.key not in NOT_MAIN_BUTTONS
                and not b.key.startswith(NOT_MAIN_PREFIXES)):
            return b.key
    return None


def open_page(page: str, query: dict | None = None):
    """AppTest of app.py at ``page`` (first run of the session, like opening /<page>)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    at.run(timeout=TIMEOUT_S)  # Home first: AppTest needs a run before switch_page
    if query:
        at.query_params.clear()
        at.query_params.update(query)
    at.switch_page(f"app_pages/{page}.py")
    at.run(timeout=TIMEOUT_S)
    return at


def discover(page: str) -> PageSession:
    at = open_page(page)
    problems = [f"default render: {p}" for p in page_problems(at)]
    targets = {k: Target(k, kind) for k, kind in _text_widgets(at).items()}
    radios = {r.key: (_radio_label(r), list(r.options)) for r in at.radio if r.key and not r.disabled}
    # model pickers too: a bundled model can reveal inputs (e.g. MiniLM's sentence-pair box)
    for box, labels in _picker_options(at).items():
        radios.setdefault(box, labels)
    radio_defaults = {k: v[0] for k, v in radios.items() if v[0] is not None}
    for rkey, (current, options) in radios.items():
        for label in options:
            if label == current:
                continue
            radio = _find(at, rkey)
            if radio is None:
                break
            _forced_radio(radio, label)
            at.run(timeout=TIMEOUT_S)
            problems += [f"radio {rkey}={label!r}: {p}" for p in page_problems(at)]
            for key, kind in _text_widgets(at).items():
                if key not in targets:
                    targets[key] = Target(key, kind, {rkey: label})
        radio = _find(at, rkey)
        if radio is not None and _radio_label(radio) != current:
            _forced_radio(radio, current)
        at.run(timeout=TIMEOUT_S)
    # defaults of revealed widgets: read them in their radio state
    for t in targets.values():
        w = _find(at, t.key)
        if w is None and t.radios:
            sess = PageSession(page, at, targets, radio_defaults, None, [], [])
            sess.set_radios(t.radios)
            at.run(timeout=TIMEOUT_S)
            w = _find(at, t.key)
        if w is not None and t.kind != "file_uploader":
            t.default = w.value
    PageSession(page, at, targets, radio_defaults, None, [], []).set_radios({})
    at.run(timeout=TIMEOUT_S)
    return PageSession(page, at, targets, radio_defaults, _main_button(at), _alerts(at), problems)


_SESSIONS: dict[str, PageSession] = {}


@pytest.fixture(scope="module")
def session_for():
    """``session_for(page)``: one discovered AppTest per page, shared by that page's tests."""
    def get(page: str) -> PageSession:
        if page not in _SESSIONS:
            _SESSIONS[page] = discover(page)
        return _SESSIONS[page]

    yield get
    _SESSIONS.clear()


def _fmt(page, key, payload_id, problems) -> str:
    return f"page={page} input={key} payload={payload_id}:\n  - " + "\n  - ".join(problems)


def run_text_payload(sess: PageSession, target: Target, text: str, payload_id: str,
                     press: bool = True) -> list[str]:
    """Put ``text`` into ``target`` (others at their defaults), press the main button, run, check."""
    at = sess.at
    sess.restore()
    widget = sess.reach(target)
    if widget is None:
        return [f"widget {target.key} not found after choosing {target.radios}"]
    widget.set_value(text)
    if press:
        sess.press_main()
    try:
        sess.run()
    except Exception as exc:  # noqa: BLE001 - a run that raises/time-outs is the finding
        return [f"AppTest run raised {type(exc).__name__}: {exc}"]
    problems = page_problems(at)
    after = _find(at, target.key)
    if after is not None and after.max_chars:
        text = text[: after.max_chars]  # the browser stops typing there; Streamlit cuts a longer value
    if after is not None and after.value != text:
        problems.append(f"the widget no longer holds what was typed ({_short(repr(after.value))})")
    return problems


# =============================================================================== text widgets
TEXT_PAYLOADS = [pytest.param(p, id=p.id) for p in hp.PAYLOADS]
TEXT_PAYLOADS.append(pytest.param(hp.Payload("combined", hp.COMBINED), id="combined"))


@pytest.mark.parametrize("payload", TEXT_PAYLOADS)
@pytest.mark.parametrize("page", PAGES)
def test_text_widgets(page, payload, session_for):
    """Every text area / text input of ``page`` gets ``payload`` (one widget at a time)."""
    sess = session_for(page)
    texts = {k: t for k, t in sess.targets.items() if t.kind != "file_uploader"}
    assert texts, f"{page}: no text input discovered"
    failures = []
    for target in texts.values():
        before = len(_alerts(sess.at))
        problems = run_text_payload(sess, target, payload.text, payload.id,
                                    press=payload.id in BUTTON_PAYLOADS)
        alerts = _alerts(sess.at)
        new_alerts = [a for a in alerts if a not in sess.baseline_alerts]
        if target.kind == "text_area" and payload.id in ("long_100k", "whitespace_only") and not new_alerts:
            problems.append(f"no notice/warning for {payload.id} (alerts shown: {[_short(a, 80) for a in alerts]}, "
                            f"{before} before)")
        if problems:
            failures.append(_fmt(page, target.key, payload.id, problems))
        elif payload.id == "combined" and target is next(iter(texts.values())):
            failures += _other_views(sess, target, payload)
    sess.restore()
    assert not failures, "\n".join(failures)


def _other_views(sess: PageSession, target: Target, payload) -> list[str]:
    """With the combined payload in the page's first text input, every other option of every
    discovered radio / model picker (one at a time): each view shows the text in its own way
    (attention's formula tables, the embedding map's 3-D view ...)."""
    failures = []
    at = sess.at
    input_modes = {k for t in sess.targets.values() for k in t.radios}  # they switch the payload away
    for rkey, default in sess.radio_defaults.items():
        if rkey in target.radios or rkey in input_modes:
            continue
        radio = _find(at, rkey)
        if radio is None:
            continue
        for label in list(radio.options):
            if label == default:
                continue
            radio = _find(at, rkey)
            widget = _find(at, target.key)
            if radio is None or widget is None:
                break
            _forced_radio(radio, label)
            try:
                sess.run()
            except Exception as exc:  # noqa: BLE001
                failures.append(_fmt(sess.page, target.key, f"{payload.id} with {rkey}={label!r}",
                                     [f"AppTest run raised {type(exc).__name__}: {exc}"]))
                continue
            problems = page_problems(at)
            if problems:
                failures.append(_fmt(sess.page, target.key, f"{payload.id} with {rkey}={label!r}", problems))
        radio = _find(at, rkey)
        if radio is not None and _radio_label(radio) != default:
            _forced_radio(radio, default)
    return failures


@pytest.mark.parametrize("page", PAGES)
def test_discovery_clean(page, session_for):
    """Opening the page and trying each radio option once shows no problem (the sweep's baseline),
    and the page has at least one text input."""
    sess = session_for(page)
    assert not sess.discovery_problems, f"page={page}:\n  - " + "\n  - ".join(sess.discovery_problems)
    assert any(t.kind != "file_uploader" for t in sess.targets.values()), f"{page}: no text input found"


# =============================================================================== CSV uploads
CSV_PAGES = ("sentiment", "classification", "embeddings")
HOSTILE_LABELS = (hp.SCRIPT.text, hp.MARKDOWN.text)


def _csv(header: tuple[str, str], payloads=hp.PAYLOADS) -> bytes:
    """Every payload as a text cell; the label column alternates between two hostile labels
    (each payload twice, so every class has enough examples for training)."""
    import csv
    import io

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for round_ in range(2):
        for i, p in enumerate(payloads):
            writer.writerow([p.text, HOSTILE_LABELS[(i + round_) % 2]])
    return buf.getvalue().encode("utf-8")


CSV_FILES = [
    ("payloads.csv", ("text", "label")),
    ("<img src=x onerror=alert(1)> **b** :smile:.csv", (hp.IMG.text, hp.SHORTCODES.text)),
]


@pytest.mark.parametrize("page", CSV_PAGES)
def test_csv_cells(page, session_for):
    """Each CSV uploader of ``page`` gets a file whose cells are the payloads (and hostile
    labels), then a file whose *column names and file name* are hostile (this also makes the
    page's "remembered column is not in this file" path run)."""
    sess = session_for(page)
    uploaders = [t for t in sess.targets.values() if t.kind == "file_uploader"]
    assert uploaders, f"{page}: no CSV uploader discovered (radio options tried: {sess.radio_defaults})"
    failures = []
    for target in uploaders:
        sess.restore()
        sess.reach(target)
        for name, header in CSV_FILES:
            up = _find(sess.at, target.key)
            if up is None:
                failures.append(f"page={page} uploader={target.key}: not found after {target.radios}")
                break
            up.set_value((name, _csv(header), "text/csv"))
            sess.press_main()
            try:
                sess.run()
            except Exception as exc:  # noqa: BLE001
                failures.append(_fmt(page, target.key, name, [f"AppTest run raised {type(exc).__name__}: {exc}"]))
                continue
            problems = page_problems(sess.at)
            if problems:
                failures.append(_fmt(page, target.key, f"csv {name!r}", problems))
        up = _find(sess.at, target.key)
        if up is not None:
            up.clear()
    sess.restore()
    sess.run()
    assert not failures, "\n".join(failures)


# =============================================================================== links
PAGE_TASK = {"generation": "text-generation", "sentiment": "sentiment", "classification": "zero-shot",
             "embeddings": "embeddings", "attention": "attention"}
GENERIC_NAMES = {"prompt": "text", "text": "text", "texts": "texts", "model": "choice", "labels": "text",
                 "template": "text", "mode": "choice", "seed": "int", "temp": "float", "top_p": "float",
                 "top_k": "int", "layer": "int", "head": "int", "n": "int", "view": "choice"}


def catalog_keys() -> set[str]:
    from components.catalog import CATALOG

    return {s.key for s in CATALOG}


def schema_states(page: str) -> dict[str, str]:
    """``{query name: session-state key}`` for the page's ``Param``s whose state key is a literal
    or ``K("x")`` / ``persist_key("x")`` (-> ``p_x``)."""
    src = (ROOT / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
    out = {}
    for node in ast.walk(ast.parse(src)):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        fname = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if fname != "Param" or not isinstance(node.args[0], ast.Constant):
            continue
        state = node.args[1]
        if isinstance(state, ast.Constant):
            out[str(node.args[0].value)] = str(state.value)
        elif (isinstance(state, ast.Call) and state.args and isinstance(state.args[0], ast.Constant)
              and (getattr(state.func, "id", None) or getattr(state.func, "attr", None)) in ("K", "persist_key")):
            out[str(node.args[0].value)] = "p_" + str(state.args[0].value)
    return out


_FRESH_STATE: dict[str, dict] = {}


def fresh_state(page: str) -> dict:
    """The page's schema-state values in a fresh session (no link), computed once per page."""
    if page not in _FRESH_STATE:
        at = open_page(page)
        _FRESH_STATE[page] = {k: at.session_state[k] for k in schema_states(page).values()
                              if k in at.session_state}
    return _FRESH_STATE[page]


def page_schema(page: str) -> dict[str, str]:
    """``{query name: kind}`` of the page's ``Param(...)`` declarations (read with ``ast``, the
    page is not imported: it is a Streamlit script), or {} while the page has none."""
    from components import permalink

    src = (ROOT / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
    kinds = {k.upper(): k for k in permalink.KINDS}
    out: dict[str, str] = {}
    for node in ast.walk(ast.parse(src)):
        if not isinstance(node, ast.Call):
            continue
        fname = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if fname != "Param" or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        kind_node = node.args[2] if len(node.args) > 2 else next(
            (k.value for k in node.keywords if k.arg == "kind"), None)
        kind = None
        if isinstance(kind_node, ast.Constant):
            kind = kind_node.value
        elif isinstance(kind_node, (ast.Name, ast.Attribute)):
            kind = kinds.get(getattr(kind_node, "id", None) or getattr(kind_node, "attr", None))
        out[str(node.args[0].value)] = kind or "text"
    return out


def _bomb() -> str:
    """``z1.`` text that inflates to 50 MB of zeros (decompression must be bounded)."""
    packed = zlib.compress(b"\0" * 50_000_000, 9)
    return "z1." + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def _enc(text: str) -> str:
    from components.permalink import encode_text

    return encode_text(text)


def query_cases(page: str) -> dict[str, dict]:
    schema = {**GENERIC_NAMES, **page_schema(page)}
    model_names = [n for n, k in schema.items() if "model" in n]
    bad_type = {"int": "1.5e3x", "float": "nan", "bool": "maybe", "choice": "no-such<script>alert(1)</script>",
                "text": "z1.%%%not-base64", "texts": '{"a": 1}'}
    out_of_range = {"int": "9" * 30, "float": "-1e308", "bool": "2", "choice": "", "text": _bomb(),
                    "texts": _enc(json.dumps(["x"] * 5000))}
    unknown = {"zzz": "1", "__proto__": "polluted", "<script>alert(1)</script>": "<img src=x onerror=alert(1)>",
               "lang": "xx", "present": "maybe", "ex": "-5"}
    hostile_list = json.dumps([p.text for p in hp.SHORT], ensure_ascii=False)
    cases = {
        "bad_types": {**unknown, **{n: bad_type[k] for n, k in schema.items()}},
        "out_of_range": {**{n: out_of_range[k] for n, k in schema.items()}, "run": "1"},
        "repeated_keys": {n: ["a", hp.COMBINED] if k == "text" else ["1", "2"] for n, k in schema.items()},
        "hostile_text_run": {**{n: _enc(hp.COMBINED) if k == "text" else _enc(hostile_list)
                                for n, k in schema.items() if k in ("text", "texts")},
                             **{n: "evil/model" for n in model_names}, "run": "1"},
        "long_text_run": {**{n: _enc(hp.LONG.text) if k == "text" else _enc(json.dumps([hp.LONG.text]))
                             for n, k in schema.items() if k in ("text", "texts")}, "run": "1"},
        "model_traversal": {**{n: "../../x" for n in model_names}, "run": "1"},
        "model_hub_gpt2": {**{n: "gpt2" for n in model_names}, "run": "1"},
    }
    return cases


@pytest.fixture
def loader_calls(monkeypatch):
    """Record every model key that reaches ``cache.get_model`` / ``loading.load_model`` (and
    which loads succeeded), for the whole AppTest run (same process, script thread)."""
    import components.cache as cache
    import components.loading.preparation as preparation

    calls: dict[str, list] = {"get_model": [], "load_model": [], "loaded": []}
    orig_get, orig_load = cache.get_model, preparation.load_model

    def get_model(key, *args, **kwargs):
        calls["get_model"].append(key)
        result = orig_get(key, *args, **kwargs)
        calls["loaded"].append(key)
        return result

    def load_model(spec, *args, **kwargs):
        calls["load_model"].append(getattr(spec, "key", spec))
        return orig_load(spec, *args, **kwargs)

    monkeypatch.setattr(cache, "get_model", get_model)
    monkeypatch.setattr(cache, "load_model", load_model)
    monkeypatch.setattr(preparation, "load_model", load_model)  # prepare()'s default loader
    return calls


def _loader_problems(calls) -> list[str]:
    known = catalog_keys()
    problems = []
    for where in ("get_model", "load_model"):
        bad = [k for k in calls[where] if k not in known]
        if bad:
            problems.append(f"non-catalogued id reached {where}: {[_short(repr(k), 80) for k in bad]}")
    from components.catalog import get_spec

    hub_loaded = [k for k in calls["loaded"] if k in known and not get_spec(k).has_bundled_source]
    if hub_loaded:
        problems.append(f"a Hub-only model loaded offline: {hub_loaded}")
    return problems


QUERY_CASE_IDS = ("bad_types", "out_of_range", "repeated_keys", "hostile_text_run", "long_text_run",
                  "model_traversal", "model_hub_gpt2")


@pytest.mark.parametrize("case", QUERY_CASE_IDS)
@pytest.mark.parametrize("page", PAGES)
def test_query_params(page, case, loader_calls):
    """The page opened with a hostile link: ignored or applied, never an exception, never a
    non-catalogued model at the loader; a catalogued Hub model (gpt2) shows the clear
    "not available here" message instead of loading."""
    query = query_cases(page)[case]
    try:
        at = open_page(page, query)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"page={page} link={case}: AppTest run raised {type(exc).__name__}: {exc}")
    problems = page_problems(at) + _loader_problems(loader_calls)
    if case == "model_hub_gpt2" and "gpt2" in loader_calls["get_model"]:
        if not any("not available here" in e.value for e in at.error):
            problems.append("gpt2 was requested but no 'not available here' message is shown: "
                            f"{[_short(e.value, 120) for e in at.error]}")
    binds = "bind_link(" in (ROOT / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
    if case in ("bad_types", "out_of_range") and binds:
        # every value was invalid: each setting keeps its default, and the page says so
        fresh = fresh_state(page)
        changed = {k: (_short(repr(at.session_state[k]), 60), _short(repr(v), 60)) for k, v in fresh.items()
                   if k in at.session_state and at.session_state[k] != v}
        if changed:
            problems.append(f"invalid link values were applied (state: now vs fresh session): {changed}")
        from components import i18n

        ignored = i18n.translate("en", "ui.link.ignored", name="\x00", reason="").split("\x00")[0]
        if not any(ignored in e.value for e in at.info):
            problems.append(f"no '{ignored}…' notice for the ignored link values")
    if case == "model_hub_gpt2" and binds and any("model" in n for n in page_schema(page)):
        from components.catalog import models_for

        if "gpt2" in {s.key for s in models_for(PAGE_TASK[page])} and "gpt2" not in loader_calls["get_model"]:
            problems.append("model=gpt2 (catalogued for this task) was not applied from the link")
    assert not problems, f"page={page} link={case} ({_short(json.dumps(query, ensure_ascii=False)[:300], 300)}):\n  - " \
        + "\n  - ".join(problems)


FORGED_MODEL_VALUES = ("evil/model", "../../x", "gpt2\x00", "SMOLLM2-135M-INSTRUCT", "")


@pytest.mark.parametrize("page", PAGES)
def test_forged_model_picker(page, loader_calls):
    """A client that sends a model picker a value that is not one of its options (a forged
    websocket message: Streamlit's selectbox passes unknown strings through) loads nothing
    outside the catalog and raises nothing."""
    at = open_page(page)
    known = catalog_keys()
    pickers = [s.key for s in at.selectbox
               if s.key and s.key in at.session_state and at.session_state[s.key] in known]
    failures = _loader_problems(loader_calls)
    if not pickers:  # e.g. sentiment: fixed models per approach, toggles only
        src = (ROOT / "app_pages" / f"{page}.py").read_text(encoding="utf-8")
        assert "model_picker(" not in src, f"{page}: calls ui.model_picker but no picker was found"
    for key in pickers:
        for forged in FORGED_MODEL_VALUES:
            box = _find(at, key)
            if box is None:
                continue
            _forced_radio(box, forged)  # same trick: send this exact string as the widget value
            try:
                at.run(timeout=TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001
                failures.append(f"picker={key} value={forged!r}: run raised {exc!r}")
                continue
            problems = page_problems(at) + _loader_problems(loader_calls)
            if key in at.session_state and at.session_state[key] not in known:
                problems.append(f"the picker now holds {at.session_state[key]!r}")
            if problems:
                failures.append(f"picker={key} value={forged!r}:\n  - " + "\n  - ".join(problems))
    assert not failures, f"page={page}:\n" + "\n".join(failures)


# =============================================================================== pure parts
@pytest.mark.parametrize("payload", [pytest.param(p, id=p.id) for p in hp.PAYLOADS])
def test_csv_reader_keeps_cells(payload):
    """``textio.read_csv_bytes`` + ``column_texts`` return every payload cell exactly (only
    documented normalisation: a blank cell -- whitespace only -- is dropped with a notice)."""
    from components import textio

    data = hp.csv_bytes((payload, hp.CHINESE))
    table = textio.read_csv_bytes(data)
    assert table.encoding == "utf-8"
    assert table.columns == ["text", "label"]
    assert table.frame["text"].tolist() == [payload.text, hp.CHINESE.text]
    assert table.frame["label"].tolist() == [payload.id, hp.CHINESE.id]
    frame, notices = textio.column_texts(table, "text", "label")
    if payload is hp.WHITESPACE:
        assert frame["text"].tolist() == [hp.CHINESE.text] and notices
    else:
        assert frame["text"].tolist() == [payload.text, hp.CHINESE.text]


def test_csv_reader_all_payloads_and_hostile_header():
    """All payloads in one file, with a BOM, hostile column names and CRLF: same cells back."""
    from components import textio

    data = "\ufeff".encode() + _csv((hp.IMG.text, hp.MARKDOWN.text))
    table = textio.read_csv_bytes(data)
    assert table.columns == [hp.IMG.text, hp.MARKDOWN.text]
    expected = [p.text for p in hp.PAYLOADS] * 2
    assert table.frame[hp.IMG.text].tolist() == expected
    frame, _ = textio.column_texts(table, hp.IMG.text, hp.MARKDOWN.text)
    assert frame["text"].tolist() == [t for t in expected if t.strip()]
    assert set(frame["label"]) == {lab.strip() for lab in HOSTILE_LABELS}


@pytest.mark.parametrize("payload", [pytest.param(p, id=p.id) for p in hp.PAYLOADS])
def test_lines_and_links_keep_text(payload):
    """Pasted lines and links carry each payload exactly (lines: surrounding whitespace of a
    line is trimmed, as documented; links: byte-exact, long text compressed and bounded)."""
    from components import permalink, textio

    text = payload.text
    if payload is hp.WHITESPACE:
        with pytest.raises(textio.InputError):
            textio.split_lines(text)
    else:
        items, _ = textio.split_lines(f"first\n{text}\nlast")
        assert items == ["first", *[ln.strip() for ln in text.splitlines() if ln.strip()], "last"]
    param = permalink.Param("text", "p_x", permalink.TEXT, "")
    encoded = permalink.encode_value(param, text)
    assert permalink.parse_value(param, encoded) == text
    values, notices = permalink.parse({"text": encoded}, [param])
    assert values == {"p_x": text} and not notices
    texts = permalink.Param("texts", "p_y", permalink.TEXTS, [])
    assert permalink.parse_value(texts, permalink.encode_value(texts, [text, "b"])) == [text, "b"]


# =============================================================================== the checker itself
LEAKY_SCRIPT = """
import html, json
import plotly.graph_objects as go
import streamlit as st
from components.charts import plotly_literal
from tests import hostile_payloads as hp
which = st.session_state.get("which", "")
for p in hp.SHORT:
    if which == "leaky":
        st.markdown(p.text)                                      # markdown
        st.caption(p.text)
        st.warning("Column " + repr(p.text))
        st.markdown("<div>" + p.text + "</div>", unsafe_allow_html=True)
        st.markdown("<div>x</div>\\n\\n" + p.text, unsafe_allow_html=True)   # after a blank line
        st.markdown("<div><span>" + html.escape(p.text) + "</span> next</div>", unsafe_allow_html=True)  # bidi spill
        st.radio("pick", [p.text], key="r" + p.id)
        st.code(html.escape(p.text))                             # escaped twice when shown
        st.plotly_chart(go.Figure(go.Bar(x=[p.text], y=[1])), key="c" + p.id)
        st.plotly_chart(go.Figure(go.Bar(x=[1], y=[1], hovertemplate=p.text + " %{y}")), key="h" + p.id)
    else:
        st.code(p.text)
        st.text(p.text)
        st.dataframe({"text": [p.text]})
        # ui.escape_markdown + "/" escaped: Streamlit renders :material/x: despite escaped colons (finding F4)
        st.markdown("**Label:** " + __import__("components.ui", fromlist=["x"]).escape_markdown(p.text).replace("/", "\\/"))
        st.markdown("<div title='" + html.escape(p.text) + "'>" + html.escape(p.text) + "</div>", unsafe_allow_html=True)
        st.markdown("<div><span style='display:inline-block'>" + html.escape(p.text) + "</span> next</div>",
                    unsafe_allow_html=True)
        st.selectbox("pick", [p.text], key="s" + p.id)
        st.plotly_chart(go.Figure(go.Bar(x=[html.escape(p.text)], y=[1])), key="c" + p.id)
        st.plotly_chart(go.Figure(go.Bar(x=[1], y=[1], hovertemplate=plotly_literal(p.text) + " %{y}")),
                        key="h" + p.id)
        st.text_area("t", p.text, key="t" + p.id)
"""


@pytest.mark.parametrize("which", ["leaky", "clean"])
def test_checker_tells_literal_from_rendered(which):
    """``page_problems`` flags every way of rendering a payload seen in the wild, and none of
    the literal ways (so a page passing the sweep really shows text literally)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(LEAKY_SCRIPT, default_timeout=60)
    at.session_state["which"] = which
    at.run()
    problems = page_problems(at)
    if which == "clean":
        assert not problems, "\n".join(problems)
        return
    text = "\n".join(problems)
    for kind in ("markdown.body", "warning", "unsafe_allow_html", "radio", "code", "plotly_chart", "plotly template",
                 "markdown after a blank line", "onerror= handler", "<script> element", "unterminated bidi"):
        assert kind in text, f"{kind!r} not flagged:\n{text[:3000]}"
    for p in hp.SHORT:
        if p.raw_markers:
            assert any(m in text for m in p.raw_markers), f"{p.id} not flagged"
