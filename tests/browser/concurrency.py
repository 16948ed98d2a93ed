"""Driver for "many people at once": 8 browser sessions, each a mixed script of 20 user actions
across the pages, all running at the same time against ONE fresh ``streamlit run``.

Every session uses its own inputs and settings (its number in prompts, labels, sentences; its
own max_new_tokens) and checks after each action that what it sees is its own: the values it
set are still set (also after visiting other pages), its results come from its inputs,
and no other session's text shows up on its page.

Used by ``tests/browser/test_concurrency.py`` (correctness: zero errors) and by
``bench/sessions.py`` (full tour; action times p50/p95, server peak RSS; nothing asserted on time).
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback

import psutil

from tests.browser.conftest import (
    ARTIFACTS,
    choose,
    choose_radio,
    click_button,
    fill_text,
    launch_browser,
    metric_value,
    move_slider,
    new_page,
    not_available_message,
    open_page,
    plotly_charts,
    screenshot,
    sent_count,
    set_toggle,
    sidebar_nav,
    slider_value,
    streamlit_server,
    wait_for_text,
    wait_idle,
    warm_up,
    widget,
)

SESSIONS = 8
ACTIONS_PER_SESSION = 20
BUNDLED = ("smollm2-135m-instruct", "all-minilm-l6-v2")
ACTION_TIMEOUT_S = 300  # generous: 8 sessions share 2 CPU cores


class RssSampler(threading.Thread):
    """Peak resident memory of a process and all its children, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._halt.wait(self.every)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def long_text(i: int) -> str:
    """A different >256-token review per session (MiniLM truncates it: a notice appears)."""
    return (f"Review {i}: the headphones sound rich and clear, the battery lasts for days, "
            "the case feels solid and the app is simple to use. ") * 16


def prompt(i: int) -> str:
    """Session ``i``'s prompt: ``i`` extra words, so its prompt has exactly ``i`` more tokens
    than session 0's (checked across sessions: each result came from its own prompt)."""
    return f"Session {i} says:" + " very" * i + " the best way to learn is"


def chinese_prompt(i: int) -> str:
    return f"第{i}号：今天的天气很好，适合出去散步。"


def max_new(i: int) -> int:
    """Session ``i``'s max_new_tokens (the slider starts at 64; 12 - i, all different)."""
    return 64 - 52 - i


FOREIGN_JS = """() => {
    const m = document.querySelector('[data-testid="stMain"]');
    const fields = [...m.querySelectorAll('textarea, input[type="text"]')].map(e => e.value);
    return [m.innerText, ...[...m.querySelectorAll('svg text')].map(t => t.textContent), ...fields].join('\\n');
}"""


def foreign_texts(page, i: int) -> list[str]:
    """Other sessions' markers (``Session j``, ``Review j:``, ``music j``, ``第j号``) visible in
    session ``i``'s main area, its text boxes included."""
    text = page.evaluate(FOREIGN_JS)
    found = []
    for j in range(SESSIONS):
        if j == i:
            continue
        for marker in (f"Session {j} ", f"Session {j}:", f"Review {j}:", f"music{j}", f"第{j}号"):
            if marker in text:
                found.append(marker)
    return found


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def prompt_box(page) -> str:
    return page.get_by_label("Prompt", exact=True).first.input_value()


def sampling_on(page) -> bool:
    box = page.locator('[data-testid="stCheckbox"]').filter(has_text="Sampling (off = greedy)").first
    return box.locator("input").first.is_checked()


def script(i: int, observed: dict, full: bool = True):
    """The actions of session ``i``: (name, callable(page, url)); ``full``: all 20 (a tour of
    every page), else one page of the tour (two sessions per page; the sessions together still
    do every kind of action, in 9 to 11 actions each). Sessions differ in their
    first page (model-loading race), inputs, settings and which model they switch to. After
    the first page they move through the sidebar like a person (one Streamlit session each,
    so what they set on a page must still be there when they come back). ``observed``
    collects figures compared across sessions afterwards (prompt token counts)."""
    first = "generation" if i % 2 == 0 else "embeddings"
    greedy = first == "generation"  # these sessions switch sampling off; the others leave it

    def open_(path, wait_text):
        def act(page, url):
            open_page(page, url, path, timeout=ACTION_TIMEOUT_S)
            wait_for_text(page, wait_text, timeout=ACTION_TIMEOUT_S)
            ready(page, path)
        return act

    def ready(page, path):
        """The page's inputs are drawn: a starved browser fetches a widget's code on first use
        and shows a grey placeholder meanwhile, for longer than a locator's default wait."""
        if path == "generation":
            for box in (page.get_by_label("Prompt", exact=True).first,
                        widget(page, "stSlider", "Max new tokens (max_new_tokens)").locator('input[type="range"]').first):
                box.wait_for(state="visible", timeout=ACTION_TIMEOUT_S * 1000)

    def generate(expected_prompt):
        def act(page, url):
            sent = sent_count(page)
            click_button(page, "Generate", timeout=ACTION_TIMEOUT_S)
            # the click is the only input committed since: nothing cut its run short
            check(sent_count(page) == sent + 1, f"{sent_count(page) - sent} messages sent for one click")
            page.locator('[data-testid="stCode"]').first.wait_for(timeout=ACTION_TIMEOUT_S * 1000)
            check(prompt_box(page) == expected_prompt, f"prompt box holds {prompt_box(page)!r}")
            new = int(metric_value(page, "New tokens"))
            check(1 <= new <= max_new(i), f"{new} new tokens, this session's max_new_tokens is {max_new(i)}")
            observed.setdefault("prompt_tokens", {})[expected_prompt] = int(metric_value(page, "Prompt tokens"))
        return act

    def type_prompt(page, url):
        fill_text(page, "Prompt", prompt(i))
        check(prompt_box(page) == prompt(i), f"prompt box holds {prompt_box(page)!r}")

    def slider(page, url):
        move_slider(page, "Max new tokens (max_new_tokens)", -(52 + i), timeout=ACTION_TIMEOUT_S)
        check(slider_value(page, "Max new tokens (max_new_tokens)") == str(max_new(i)), "max_new_tokens not kept")

    def set_greedy(page, url):
        set_toggle(page, "Sampling (off = greedy)", False)
        # the run the switch caused kept everything else this session set
        check(slider_value(page, "Max new tokens (max_new_tokens)") == str(max_new(i)),
              f"max_new_tokens is {slider_value(page, 'Max new tokens (max_new_tokens)')} after switching "
              f"sampling off, this session set {max_new(i)}")

    def sentiment_long(page, url):
        fill_text(page, "Text to analyse", long_text(i))
        wait_for_text(page, "truncated to the first 256", timeout=ACTION_TIMEOUT_S)
        value = page.get_by_label("Text to analyse", exact=True).first.input_value()
        check(value == long_text(i), "the sentiment text box does not hold this session's text")

    def sentiment_hub(page, url):
        set_toggle(page, "Fine-tuned: DistilBERT SST-2 (Hub)", i % 4 == 1)
        if i % 4 == 1:
            not_available_message(page, ACTION_TIMEOUT_S)

    def labels(page, url):
        fill_text(page, "Labels (comma-separated, up to 20)", f"sports, politics, food, music{i}")
        plotly_charts(page, 1, timeout=ACTION_TIMEOUT_S)

    def cls_text(page, url):
        fill_text(page, "Text", f"Session {i}: the orchestra played a new symphony tonight.")
        # the result is scored on this session's labels: its own music label is on the chart
        page.wait_for_function(
            """l => [...document.querySelectorAll('[data-testid="stPlotlyChart"] svg text')]
                     .some(t => t.textContent.includes(l))""", arg=f"music{i}", timeout=ACTION_TIMEOUT_S * 1000)

    def attention_layer(page, url):
        choose(page, "Layer · 层", f"layer {i % 6}")
        wait_for_text(page, f"Layer {i % 6}, head 0", timeout=ACTION_TIMEOUT_S)

    def back_to_generation(page, url):
        gen_nav(page, url)
        # what this session set before visiting the other pages is still there
        check(slider_value(page, "Max new tokens (max_new_tokens)") == str(max_new(i)),
              f"max_new_tokens is {slider_value(page, 'Max new tokens (max_new_tokens)')}, "
              f"this session set {max_new(i)}")
        check(prompt_box(page) == prompt(i), f"prompt box holds {prompt_box(page)!r}, not this session's")
        if greedy:
            check(not sampling_on(page), "sampling is on again; this session switched it off")
        fill_text(page, "Prompt", chinese_prompt(i))

    def emb_hidden(page, url):
        choose_radio(page, "How to turn items into vectors", "Mean-pooled hidden states (SmolLM2, choose the layer)")
        plotly_charts(page, 1, timeout=ACTION_TIMEOUT_S)

    def nav_(title, wait_text, path=""):  # sidebar navigation: same session, typed values persist
        def act(page, url):
            sidebar_nav(page, title, ACTION_TIMEOUT_S)
            wait_for_text(page, wait_text, timeout=ACTION_TIMEOUT_S)
            ready(page, path)
        return act

    gen_open = open_("generation", "Text generation · 文本生成")
    emb_open = open_("embeddings", "3 · Map")
    gen_nav = nav_("Text generation", "Text generation · 文本生成", "generation")
    emb_nav = nav_("Embedding explorer", "3 · Map")
    att_nav = nav_("Attention visualizer", "Attention visualizer")
    generation_steps = [
        ("type prompt", type_prompt),
        ("slider max_new_tokens", slider),
        ("generate", generate(prompt(i))),
    ]
    if greedy:  # 4 sessions ask for SmolLM2 first ...
        head = [("open generation", gen_open), *generation_steps, ("greedy", set_greedy)]
    else:  # ... while 4 others ask for MiniLM at the same instant
        head = [("open embeddings", emb_open), ("go to generation", gen_nav), *generation_steps]
    # the tour through the other pages, page by page (each group starts by going there)
    tour = [
        [("go to sentiment", nav_("Sentiment", "Sentiment analysis")),
         ("attribution off", lambda p, u: set_toggle(p, "Which words mattered", False)),
         ("hub toggle", sentiment_hub),
         ("long text", sentiment_long)],
        [("go to classification", nav_("Classification", "Classification · 文本分类")),
         ("labels", labels),
         ("text", cls_text)],
        [("go to embeddings", emb_nav),
         ("query sentence", lambda p, u: fill_text(
             p, "A new sentence: where would it land?", f"Session {i} cooks pasta")),
         *([("hidden-state vectors", emb_hidden)] if i % 2 else [])],
        [("go to attention", att_nav),
         *([] if i % 2 else [("sentence", lambda p, u: fill_text(
             p, "Sentence · 句子", f"Session {i}: the cat sat on the mat because it was tired."))]),
         ("layer", attention_layer),
         ("overview", lambda p, u: (choose_radio(p, "View", "Overview"),
                                    plotly_charts(p, 1, timeout=ACTION_TIMEOUT_S)))],
    ]
    if not full:  # one page of the tour per session, every page by two sessions (odd and even)
        tour = [tour[(i // 2) % len(tour)]]
    actions = head + [a for group in tour for a in group] + [
        ("back to generation, Chinese prompt", back_to_generation),
        ("generate Chinese", generate(chinese_prompt(i))),
    ]
    assert not full or len(actions) == ACTIONS_PER_SESSION
    return actions


def page_errors(page, i: int) -> list[str]:
    """Everything on screen or in the console that counts as an error, and any other
    session's text on this session's page."""
    errors = [f"console: {e}" for e in page.console_log.errors]
    page.console_log.errors.clear()
    for box in page.locator('[data-testid="stException"]').all_inner_texts():
        errors.append(f"exception box: {box[:500]}")
    for alert in page.locator('[data-testid="stAlertContentError"]').all_inner_texts():
        if "is not available here" not in alert:  # the expected Hub-offline message
            errors.append(f"error message: {alert[:500]}")
    body = page.locator('[data-testid="stMain"]').inner_text()
    for needle in ("Already borrowed", "Something went wrong"):
        if needle in body:
            errors.append(f"page text contains {needle!r}")
    errors += [f"another session's text on this page: {m!r}" for m in foreign_texts(page, i)]
    return errors


def run_session(i: int, url: str, barrier: threading.Barrier, results: dict, full: bool = True) -> None:
    from playwright.sync_api import sync_playwright

    log = results[i] = {"errors": [], "actions": 0, "planned": 0, "seconds": {}, "observed": {}}
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = new_page(browser)
            actions = script(i, log["observed"], full)
            log["planned"] = len(actions)
            barrier.wait(timeout=120)  # everyone starts at the same instant
            for name, act in actions:
                t0 = time.monotonic()
                try:
                    act(page, url)
                    wait_idle(page, ACTION_TIMEOUT_S)
                except Exception as exc:  # record, screenshot and stop this session
                    log["errors"].append(f"session {i} action {name!r}: {type(exc).__name__}: {exc}"[:1500])
                    log["errors"].append(traceback.format_exc(limit=3)[-800:])
                    with contextlib.suppress(Exception):
                        screenshot(page, f"concurrency-s{i}-FAILED")
                    break
                log["seconds"][name] = round(time.monotonic() - t0, 2)
                log["actions"] += 1
                log["errors"] += [f"session {i} after {name!r}: {e}" for e in page_errors(page, i)]
            with contextlib.suppress(Exception):
                screenshot(page, f"concurrency-s{i}-final")
        except Exception as exc:
            log["errors"].append(f"session {i} setup: {type(exc).__name__}: {exc}")
        finally:
            browser.close()


def cross_checks(results: dict) -> list[str]:
    """Checks across sessions: session ``i``'s English prompt has ``i`` more tokens than
    session 0's (same template, ``i`` extra words), so each result came from its own prompt."""
    counts = {i: r["observed"].get("prompt_tokens", {}).get(prompt(i)) for i, r in results.items()}
    base = counts.get(0)
    if base is None:
        return []
    return [f"session {i}: {n} prompt tokens, expected {base + i} (session 0 had {base})"
            for i, n in sorted(counts.items()) if n is not None and n != base + i]


def run_all(sessions: int = SESSIONS, name: str = "concurrency", full: bool = True,
            env: dict[str, str] | None = None) -> dict:
    """Start a fresh server, run ``sessions`` scripted sessions at once (``full``: 20 actions
    each, else the shorter tour of :func:`script`), return the report: ``errors`` (every session's, plus cross-session checks), ``actions_done``,
    ``action_seconds`` (every finished action's duration), ``server_peak_rss_mb`` (server +
    children, sampled every 0.25 s), ``model_loads``, ``server_log_errors``, ``duration_s``.
    ``env``: extra environment variables for the server."""
    from playwright.sync_api import sync_playwright

    # no background preparation: the sessions themselves must race for the first loads
    with streamlit_server(name, env={"LLM_LAB_NO_WARMUP": "1", **(env or {})}) as srv:
        failed: list[BaseException] = []

        def _open_home() -> None:  # "/" once: see conftest.warm_up (loads no model)
            try:
                with sync_playwright() as p:
                    b = launch_browser(p)
                    warm_up(b, srv)
                    b.close()
            except BaseException as exc:  # re-raised below, in the caller's thread
                failed.append(exc)

        # in a thread of its own, like the sessions: the sync API refuses to start in a thread
        # that already runs another Playwright's event loop (the browser tier's session fixture)
        opener = threading.Thread(target=_open_home, daemon=True)
        opener.start()
        opener.join(timeout=300)
        if failed:
            raise failed[0]
        loads_before = srv.model_loads()
        sampler = RssSampler(srv.proc.pid)
        sampler.start()
        barrier = threading.Barrier(sessions + 1)
        results: dict[int, dict] = {}
        threads = [threading.Thread(target=run_session, args=(i, srv.url, barrier, results, full), daemon=True)
                   for i in range(sessions)]
        for t in threads:
            t.start()
        barrier.wait(timeout=180)
        start = time.monotonic()
        for t in threads:
            t.join(timeout=ACTIONS_PER_SESSION * ACTION_TIMEOUT_S)
        duration = time.monotonic() - start
        peak = sampler.stop()
        # the server writes its log line by line (unbuffered): wait until it stops growing
        size, deadline = -1, time.monotonic() + 10
        while srv.log_path.stat().st_size != size and time.monotonic() < deadline:
            size = srv.log_path.stat().st_size
            time.sleep(0.3)
        report = {
            "sessions": sessions,
            "actions_done": sum(r["actions"] for r in results.values()),
            "actions_planned": sum(r["planned"] for r in results.values()),
            "duration_s": round(duration, 1),
            "server_peak_rss_mb": round(peak / 2**20),
            "model_loads_before": loads_before,
            "model_loads": srv.model_loads(),
            "errors": [e for i in sorted(results) for e in results[i]["errors"]] + cross_checks(results),
            "server_log_errors": srv.error_lines()[:50],
            "action_seconds": [s for i in sorted(results) for s in results[i]["seconds"].values()],
            "per_session_seconds": {i: results[i]["seconds"] for i in sorted(results)},
        }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report
