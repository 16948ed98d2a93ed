"""Real-browser test kit: a live ``streamlit run app.py`` server, Debian's Chromium driven by
Playwright, and helpers that wait for Streamlit, collect console errors, assert that no
exception box is shown and save full-page screenshots under ``artifacts/screenshots/``.

Nothing is downloaded: the browser is ``/usr/bin/chromium`` (``make browser`` installs it
with apt), models are the bundled ones (``HF_HUB_OFFLINE=1``).
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_LOGS = ARTIFACTS / "server-logs"
CHROMIUM = os.environ.get("LLM_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 90
DEFAULT_TIMEOUT_S = 240  # model load + generation; generous because CI cores may be shared
ACTION_TIMEOUT_S = 30  # finding/clicking an element; model work uses DEFAULT_TIMEOUT_S
PAGES = ("home", "generation", "sentiment", "classification", "embeddings", "attention")

# Console messages that are NOT errors of the app, each with the reason it is allowed.
# Anything else of type "error" (and every uncaught page exception) fails the test.
BENIGN_CONSOLE = [
    # (regex on "<message> @ <resource url>", reason) -- keep this list short and explicit
    (
        r"status of 404 .* @ https?://[^/]+/[A-Za-z_-]+/_stcore/(health|host-config)$",
        "Streamlit's frontend, opened at a page URL such as /generation, first probes "
        "/generation/_stcore/health and /host-config in case the app is served under that "
        "path prefix, gets 404, and then uses the root /_stcore/ endpoints.",
    ),
]

# Lines in the server log that mean something went wrong on the server side.
SERVER_ERROR_PATTERNS = [
    re.compile(p)
    for p in (
        r"Traceback \(most recent call last\)",
        r"Already borrowed",
        r"\bException\b",
        r"\bERROR\b",
        r"RuntimeError",
        r"Segmentation fault",
    )
]


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running ``streamlit run app.py``: ``url`` (no trailing slash), ``proc``, ``log_path``."""

    url: str
    proc: subprocess.Popen
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def error_lines(self) -> list[str]:
        """Server-log lines matching ``SERVER_ERROR_PATTERNS`` (tracebacks, "Already borrowed" ...)."""
        return [line for line in self.log().splitlines() if any(p.search(line) for p in SERVER_ERROR_PATTERNS)]

    def model_loads(self) -> dict[str, int]:
        """How many times each catalog key was loaded (``[llm-lab] model-load start`` lines)."""
        counts: dict[str, int] = {}
        for m in re.finditer(r"\[llm-lab\] model-load start key=(\S+)", self.log()):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        return counts


def _die_with_parent() -> None:
    """In the child: get SIGTERM if pytest dies without cleaning up (Linux prctl)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def streamlit_server(name: str, env: dict[str, str] | None = None, root: Path = ROOT):
    """Start ``streamlit run app.py`` on a free port; stop it (whole process group) at the end.

    stdout and stderr go to ``artifacts/server-logs/<name>.log`` (kept by CI) so tests can
    scan them for tracebacks. ``env``: extra environment variables for the server (e.g.
    ``{"LLM_LAB_NO_WARMUP": "1"}``). ``root``: the checkout whose ``app.py`` runs (a bench
    compares this one with another revision).
    """
    SERVER_LOGS.mkdir(parents=True, exist_ok=True)
    log_path = SERVER_LOGS / f"{name}.log"
    port = free_port()
    streamlit = Path(sys.executable).parent / "streamlit"
    cmd = [
        str(streamlit), "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    extra_env = dict(env or {})
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1",
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    env.update(extra_env)
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {SERVER_START_TIMEOUT_S}s:\n"
                                   f"{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield Server(url=url, proc=proc, log_path=log_path)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()


def warm_up(browser, srv: Server) -> None:
    """Open the root URL once (Home, no model) so the server has run app.py and its first
    page before the tests time anything. The server then prepares the bundled models in the
    background unless started with ``LLM_LAB_NO_WARMUP=1`` (model-loading race tests do).

    (Deep links on a fresh server are tested on their own: test_deep_link_on_fresh_server.)
    """
    page = new_page(browser)
    try:
        open_page(page, srv.url, "")
    finally:
        page.context.close()


@pytest.fixture(scope="session")
def server(browser):
    """The shared app server for the per-page tests (base URL in ``server.url``)."""
    with streamlit_server("pages") as srv:
        warm_up(browser, srv)
        yield srv


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots():
    """Start each browser-test session with an empty screenshot folder (CI keeps it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("LLM_LAB_KEEP_SCREENSHOTS"):
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink(missing_ok=True)  # another xdist worker may have removed it
    yield


# --------------------------------------------------------------------------- browser
def launch_browser(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (apt-get install chromium chromium-driver)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = launch_browser(playwright_instance)
    yield b
    b.close()


class ConsoleLog:
    """Console errors and uncaught page exceptions of one page (benign ones listed apart)."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.allowed: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        text = f"console.{msg.type}: {msg.text} @ {where}"
        if any(re.search(rx, f"{msg.text} @ {where}") for rx, _reason in BENIGN_CONSOLE):
            self.allowed.append(text)
        else:
            self.errors.append(text)


# Counts finished script runs: Streamlit's own "done" message. The page's WebSocket is wrapped
# and every incoming ForwardMsg whose top-level field 6 (``script_finished``, see
# streamlit/proto/ForwardMsg.proto) holds a status other than 2 (FINISHED_EARLY_FOR_RERUN: the
# run was replaced by a newer one) increments ``window.__stRunsDone``. (The DOM's
# ``data-test-script-state`` is no substitute: React may batch "running" and "notRunning" into
# one render, so a short run can leave no trace there.)
# Outgoing messages (BackMsg: every input the page commits, e.g. a slider's value once its
# debounce fires, a button's click) are counted too: ``__stSent``, ``__stLastSentAt``
# (performance.now() ms) and ``__stRunsAfterSend`` (finished runs since the latest send).
# A run whose start is caused by a send can only finish after it, so "a send happened and a
# run finished after the latest one" is the page's proof that its last input was processed.
RUN_COUNTER_JS = """(() => {
    window.__stRunsDone = 0;
    window.__stSent = 0;
    window.__stLastSentAt = 0;
    window.__stRunsAfterSend = 0;
    const Native = window.WebSocket;
    if (!Native || Native.__runCounter) return;
    const varint = (b, i) => {
        let v = 0, scale = 1, x;
        do { x = b[i++]; v += (x & 0x7f) * scale; scale *= 128; } while ((x & 0x80) && i < b.length);
        return [v, i];
    };
    const finished = b => {  // top-level fields of one ForwardMsg
        let i = 0, tag, n;
        while (i < b.length) {
            [tag, i] = varint(b, i);
            const field = Math.floor(tag / 8), wire = tag & 7;
            if (wire === 0) { [n, i] = varint(b, i); if (field === 6) return n !== 2; }
            else if (wire === 2) { [n, i] = varint(b, i); i += n; }
            else if (wire === 1) i += 8;
            else if (wire === 5) i += 4;
            else return false;
        }
        return false;
    };
    const count = data => {
        if (finished(new Uint8Array(data))) { window.__stRunsDone += 1; window.__stRunsAfterSend += 1; }
    };
    class CountingWebSocket extends Native {
        send(data) {
            window.__stSent += 1;
            window.__stLastSentAt = performance.now();
            window.__stRunsAfterSend = 0;
            return super.send(data);
        }
        constructor(...args) {
            super(...args);
            this.addEventListener('message', e => {
                try {
                    if (e.data instanceof ArrayBuffer) count(e.data);
                    else if (e.data instanceof Blob) e.data.arrayBuffer().then(count);
                } catch (err) { /* not a ForwardMsg */ }
            });
        }
    }
    CountingWebSocket.__runCounter = true;
    window.WebSocket = CountingWebSocket;
})()"""


def new_page(browser, viewport=(1400, 1000)):
    """A fresh context + page with a :class:`ConsoleLog` attached as ``page.console_log`` and
    the script-run counter (:func:`runs_done`) installed in every document it opens."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.set_default_timeout(ACTION_TIMEOUT_S * 1000)
    context.add_init_script(RUN_COUNTER_JS)
    page = context.new_page()
    page.console_log = ConsoleLog(page)
    return page


@pytest.fixture
def page(browser, request):
    p = new_page(browser)
    yield p
    # on failure keep a picture of what the browser showed
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        with contextlib.suppress(Exception):
            screenshot(p, f"FAILED-{request.node.name}")
    p.context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


# --------------------------------------------------------------------------- helpers
def wait_idle(page, timeout: float = DEFAULT_TIMEOUT_S, settle: float = 0.6) -> None:
    """Wait until the app is connected and its script is not running, stably for ``settle`` s.

    Streamlit marks the app root with ``data-test-script-state`` (running / notRunning /
    rerunRequested ...) and shows ``stStatusWidget`` with a running icon while it works.
    A rerun can start a moment after an input event, hence the settle window.
    """
    deadline = time.monotonic() + timeout
    quiet_since = None
    while True:
        state = page.evaluate(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                if (!app) return 'no-app';
                const running = document.querySelector(
                  '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]');
                const skeleton = document.querySelector('[data-testid="stAppSkeleton"]');
                return [app.getAttribute('data-test-connection-state'),
                        app.getAttribute('data-test-script-state'),
                        running ? 'busy' : 'quiet', skeleton ? 'skeleton' : ''].join('|');
            }"""
        )
        idle = state.startswith("CONNECTED|notRunning|quiet|") and not state.endswith("skeleton")
        now = time.monotonic()
        if idle:
            quiet_since = quiet_since or now
            if now - quiet_since >= settle:
                return
        else:
            quiet_since = None
        if now > deadline:
            raise TimeoutError(f"Streamlit still busy after {timeout}s (state {state})")
        time.sleep(0.15)


def runs_done(page) -> int:
    """How many script runs this document was told had finished (see ``RUN_COUNTER_JS``)."""
    return int(page.evaluate("() => window.__stRunsDone || 0"))


def wait_rerun(page, before: int, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Wait until a script run finished after ``runs_done(page) == before`` was read, then for
    idle. The app's own signal that an input was processed: a bare idle check can pass in
    the moment between an input event and the start of the run it causes (on a busy server
    that moment lasts seconds)."""
    page.wait_for_function("n => (window.__stRunsDone || 0) > n", arg=before, timeout=timeout * 1000,
                           polling=100)
    wait_idle(page, timeout)


def sent_count(page) -> int:
    """How many messages (committed inputs) this document has sent (see ``RUN_COUNTER_JS``)."""
    return int(page.evaluate("() => window.__stSent || 0"))


def wait_input_processed(page, sent_before: int, timeout: float = DEFAULT_TIMEOUT_S,
                         quiet_ms: int = 1000) -> None:
    """Wait until the page has sent at least one message since ``sent_count(page) ==
    sent_before`` was read, has sent nothing more for ``quiet_ms`` (a debounced widget such as
    a slider commits its value a moment after the last change; on a starved browser that
    moment stretches), and a script run finished after its LATEST send; then for idle.

    Every input the page committed has then reached the server and been run with: an action
    that follows (a button click) can no longer be overtaken by a late commit of this one,
    which would start a new run and cut the click's run short (a button is true for one run
    only, so the click would be lost)."""
    page.wait_for_function(
        """([n, quiet]) => (window.__stSent || 0) > n
                           && performance.now() - window.__stLastSentAt >= quiet
                           && window.__stRunsAfterSend > 0""",
        arg=[sent_before, quiet_ms], timeout=timeout * 1000, polling=100)
    wait_idle(page, timeout)


def open_page(page, server_url: str, path: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Open ``/<path>`` and wait until its first script run has finished (not merely until the
    app looks idle: before the first run starts it is idle with an empty page)."""
    page.goto(f"{server_url}/{path}", wait_until="domcontentloaded", timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    wait_rerun(page, 0, timeout)
    # The counter sees "finished" when the message arrives; the frontend may still be drawing
    # the run's elements. Every page starts with its title: wait until it is drawn.
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=timeout * 1000)
    wait_idle(page, timeout)


def wait_for_text(page, text: str, timeout: float = DEFAULT_TIMEOUT_S, exact: bool = False):
    """Wait until ``text`` (or a compiled regex) is visible on the page; return the locator."""
    loc = page.get_by_text(text, exact=exact).first
    loc.wait_for(state="visible", timeout=timeout * 1000)
    return loc


def assert_no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    if boxes.count():
        raise AssertionError("Streamlit exception box shown:\n" + "\n---\n".join(boxes.all_inner_texts()))


def assert_no_console_errors(page) -> None:
    errors = page.console_log.errors
    assert not errors, "browser console errors:\n" + "\n".join(errors)


def watch_dialogs(page) -> list[str]:
    """Record every JavaScript dialog (alert / confirm / prompt / beforeunload) the page opens
    in ``page.dialogs`` and dismiss it (so the page does not hang); see :func:`assert_no_dialogs`."""
    page.dialogs = []

    def _on_dialog(dialog) -> None:
        page.dialogs.append(f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    page.on("dialog", _on_dialog)
    return page.dialogs


def assert_no_dialogs(page) -> None:
    """No JavaScript dialog was opened (:func:`watch_dialogs`) and no Streamlit modal (e.g. the
    "Page not found" box, ``st.dialog``) is showing."""
    opened = list(getattr(page, "dialogs", []))
    assert not opened, "JavaScript dialogs opened:\n" + "\n".join(opened)
    modals = [m for m in page.locator('[data-testid="stDialog"]').all() if m.is_visible()]
    assert not modals, "Streamlit modal shown:\n" + "\n---\n".join(m.inner_text() for m in modals)


def screenshot(page, name: str) -> Path:
    """Full-page screenshot ``artifacts/screenshots/<name>.png``.

    Streamlit scrolls its main block inside a fixed-height view, so Playwright's
    ``full_page`` alone would stop at the viewport: the viewport is stretched to the main
    block's height for the shot, then restored.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    size = page.viewport_size
    height = page.evaluate(
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return m ? m.scrollHeight : document.documentElement.scrollHeight; }"""
    )
    tall = max(size["height"], min(int(height) + 40, 16000))
    if tall != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(400)  # let charts resize
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        if tall != size["height"]:
            page.set_viewport_size(size)
    return path


def check_clean(page, name: str, server: Server | None = None) -> Path:
    """Wait for idle, save a screenshot, then assert: no exception box, no console errors,
    and (given ``server``) no traceback / error line in the server log."""
    wait_idle(page)
    path = screenshot(page, name)
    assert_no_exception(page)
    assert_no_console_errors(page)
    if server is not None:
        errors = server.error_lines()
        assert not errors, "server log errors:\n" + "\n".join(errors[:40])
    return path


def sidebar_nav(page, title: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Click a page link in the sidebar navigation and wait for the page to run."""
    before = runs_done(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    wait_rerun(page, before, timeout)


# --------------------------------------------------------------------------- widgets
def widget(page, testid: str, label: str):
    """The ``[data-testid=<testid>]`` block whose label is exactly ``label``."""
    return page.locator(f'[data-testid="{testid}"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]').get_by_text(label, exact=True)
    ).first


def fill_text(page, label: str, text: str) -> None:
    """Type into a text area / text input like a person and commit it (blur), then wait."""
    box = page.get_by_label(label, exact=True).first
    changed = box.input_value() != text.replace("\r\n", "\n")
    before = runs_done(page)
    box.click()
    box.fill(text)
    box.press("Tab")  # Streamlit commits text widgets on blur
    if changed:
        wait_rerun(page, before)
    else:
        wait_idle(page)


def move_slider(page, label: str, steps: int, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Move a slider by ``steps`` keyboard steps (negative = left), like a person using the
    arrow keys, and wait for the rerun. Each press is confirmed on screen before the next
    (presses sent during a rerun can otherwise be lost)."""
    thumb = widget(page, "stSlider", label).locator('input[type="range"]').first
    start = thumb.input_value()
    lo, hi, step = (float(thumb.get_attribute(a) or d) for a, d in (("min", 0), ("max", 100), ("step", 1)))
    target = min(hi, max(lo, float(start) + steps * step))
    key = "ArrowRight" if steps > 0 else "ArrowLeft"
    sent_before = sent_count(page)
    thumb.focus()
    # like a person going far: Home/End first when the target is nearer that end (every key
    # press commits a value and starts a run; fewer presses, fewer runs on a shared server)
    edge, edge_key = (lo, "Home") if target - lo < abs(target - float(start)) else (hi, "End")
    if abs(edge - target) < abs(target - float(start)):
        thumb.press(edge_key)
        deadline = time.monotonic() + 3
        while thumb.input_value() == start and time.monotonic() < deadline:
            time.sleep(0.03)
    for _ in range(abs(steps) * 3 + 5):
        shown = thumb.input_value()
        if abs(float(shown) - target) < step / 2:
            break
        thumb.press("ArrowRight" if float(shown) < target else "ArrowLeft")
        deadline = time.monotonic() + 3
        while thumb.input_value() == shown and time.monotonic() < deadline:
            time.sleep(0.03)
    thumb.blur()
    if abs(float(start) - target) >= step / 2:
        # the slider commits its value after a debounce: wait until that value was sent and run
        wait_input_processed(page, sent_before, timeout)
    assert abs(float(thumb.input_value()) - target) < step / 2, (label, thumb.input_value(), target, key)


def slider_value(page, label: str) -> str:
    """The value a slider shows above its thumb (as formatted by Streamlit)."""
    return widget(page, "stSlider", label).locator('[data-testid="stSliderThumbValue"]').first.inner_text().strip()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` (substring of its visible text) in the selectbox labelled ``label``."""
    box = widget(page, "stSelectbox", label)
    changed = option not in box.get_by_role("combobox").input_value()
    before = runs_done(page)
    box.get_by_role("button", name="Open").click()
    page.get_by_role("option").filter(has_text=option).first.click()
    if changed:
        wait_rerun(page, before)
    else:
        wait_idle(page)


def selected(page, label: str) -> str:
    """Text of the current choice of the selectbox labelled ``label``."""
    return widget(page, "stSelectbox", label).get_by_role("combobox").input_value().strip()


def click_button(page, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Press the button showing ``text`` and wait for the run it starts to finish: the click
    was sent and a run finished after it (not merely any run after the press: an earlier
    input's run can finish in between)."""
    sent_before = sent_count(page)
    page.get_by_role("button", name=text, exact=True).first.click()
    wait_input_processed(page, sent_before, timeout, quiet_ms=0)


# Rows of a glide-data-grid (st.dataframe) from the accessibility table it keeps in the DOM:
# [{column header: cell text}], only the columns drawn in view.
GRID_ROWS_JS = """g => {
    const trs = [...g.querySelectorAll('table tr')];
    const head = [...trs[0].querySelectorAll('th')].map(th => th.textContent.trim());
    return trs.slice(1).map(tr => {
        const tds = [...tr.querySelectorAll('td')].map(td => td.textContent.trim());
        const names = head.slice(head.length - tds.length);
        return Object.fromEntries(names.map((n, i) => [n, tds[i]]));
    });
}"""


def dataframe_rows(page, index: int = 0, timeout: float = DEFAULT_TIMEOUT_S) -> list[dict[str, str]]:
    """Rows of the ``index``-th ``st.dataframe`` as dicts (header -> cell text).

    The grid paints on a canvas; its cells are read from the accessibility table
    glide-data-grid keeps in the DOM (only the columns/rows rendered in view).
    """
    grid = page.locator('[data-testid="stDataFrame"]').nth(index)
    grid.locator("table td").first.wait_for(state="attached", timeout=timeout * 1000)
    return grid.evaluate(GRID_ROWS_JS)


def table_rows(page, header: str, timeout: float = DEFAULT_TIMEOUT_S) -> list[dict[str, str]]:
    """Rows of the first VISIBLE ``st.dataframe`` that has a column ``header`` (a chart's
    hidden "Table" tab and other tables are skipped); cells as in :func:`dataframe_rows`
    (only the columns glide-data-grid has drawn in view)."""
    deadline = time.monotonic() + timeout
    while True:
        for grid in page.locator('[data-testid="stDataFrame"]').all():
            if not grid.is_visible():
                continue
            with contextlib.suppress(Exception):
                grid.locator("table td").first.wait_for(state="attached", timeout=3000)
                rows = grid.evaluate(GRID_ROWS_JS)
                if rows and header in rows[0]:
                    return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"no visible table with a column {header!r}")
        time.sleep(0.3)


def choose_radio(page, label: str, option: str) -> None:
    """Click the option ``option`` of the radio group labelled ``label`` (label may be hidden)."""
    group = widget(page, "stRadio", label)
    choice = group.locator("label").filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$")).first
    changed = not choice.locator("input").first.is_checked()
    before = runs_done(page)
    choice.click()
    if changed:
        wait_rerun(page, before)
    else:
        wait_idle(page)


def set_toggle(page, label_start: str, on: bool) -> None:
    """Switch the toggle/checkbox whose label starts with ``label_start`` on or off."""
    box = page.locator('[data-testid="stCheckbox"]').filter(has_text=label_start).first
    if box.locator("input").first.is_checked() != on:
        before = runs_done(page)
        box.locator("label").first.click()
        wait_rerun(page, before)
    assert box.locator("input").first.is_checked() == on


def upload_file(page, label: str, path) -> None:
    """Give ``path`` to the file uploader labelled ``label`` and wait for the rerun."""
    before = runs_done(page)
    widget(page, "stFileUploader", label).locator('input[type="file"]').set_input_files(str(path))
    wait_for_text_in(widget(page, "stFileUploader", label), Path(path).name)
    wait_rerun(page, before)


def download(page, button, path, timeout: float = DEFAULT_TIMEOUT_S) -> Path:
    """Click the ``stDownloadButton`` locator ``button`` and save what the browser downloads
    to ``path``. A button whose file cannot be made shows its own error under it
    (``stDownloadButtonError`` in Streamlit 1.67); that text fails the test at once, instead
    of a silent wait for a download that will not come."""
    downloads: list = []

    def on_download(item) -> None:
        downloads.append(item)

    page.on("download", on_download)
    try:
        button.click()
        error = button.locator('[data-testid="stDownloadButtonError"]')
        deadline = time.monotonic() + timeout
        while not downloads:
            if error.count():
                raise AssertionError(f"the download button reports: {error.first.inner_text()!r}")
            assert time.monotonic() < deadline, f"no download {timeout:.0f} s after the click"
            page.wait_for_timeout(200)  # lets Playwright deliver the download event
    finally:
        page.remove_listener("download", on_download)
    downloads[0].save_as(path)
    return Path(path)


def wait_for_text_in(locator, text: str, timeout: float = DEFAULT_TIMEOUT_S):
    loc = locator.get_by_text(text).first
    loc.wait_for(state="visible", timeout=timeout * 1000)
    return loc


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_idle(page)


def plotly_charts(page, min_count: int = 1, timeout: float = DEFAULT_TIMEOUT_S):
    """Wait until at least ``min_count`` plotly charts have drawn their SVG; return the locator."""
    charts = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
    page.wait_for_function(
        """n => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
                 .filter(p => p.querySelector('svg.main-svg')).length >= n""",
        arg=min_count, timeout=timeout * 1000)
    return charts


def metric_value(page, label: str, nth: int = 0) -> str:
    """Displayed value of the ``nth`` ``st.metric`` labelled ``label``."""
    block = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True)
    ).nth(nth)
    return block.locator('[data-testid="stMetricValue"]').inner_text().strip()


def not_available_message(page, timeout: float):
    """The "<model> is not available here" error box, waited for at most ``timeout`` s."""
    box = page.locator('[data-testid="stAlertContentError"]').filter(has_text="is not available here").first
    box.wait_for(state="visible", timeout=timeout * 1000)
    return box
