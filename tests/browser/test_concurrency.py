"""Many people at once on one server: 8 browser sessions, each a mixed script of 20 user
actions across the pages, all running at the same time against ONE fresh ``streamlit run``.

Passes only with 0 errors of any kind:
* no Streamlit exception box, no "Something went wrong" / "Already borrowed" message in
  any page, no browser console error, no action timing out;
* no traceback / error line in the server's log (stdout+stderr captured to
  ``artifacts/server-logs/concurrency.log``);
* model-loading races: the server starts with no model loaded and all 8 sessions open a
  model page at the same instant (4 need SmolLM2, 4 need MiniLM); each bundled model must
  be loaded exactly once (``components.loading`` logs one ``[llm-lab] model-load start``
  line per real load).

Reports (terminal + ``artifacts/concurrency.json``): wall time, actions, the server's peak
RSS (server process + children, sampled every 0.25 s with psutil).
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
import traceback

import psutil
import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    choose,
    choose_radio,
    click_button,
    fill_text,
    launch_browser,
    move_slider,
    new_page,
    not_available_message,
    open_page,
    plotly_charts,
    screenshot,
    set_toggle,
    slider_value,
    streamlit_server,
    wait_for_text,
    wait_idle,
    warm_up,
)

pytestmark = pytest.mark.browser

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


def script(i: int):
    """The 20 actions of session ``i``: (name, callable(page, url)). Sessions differ in
    their first page (model-loading race), inputs, and which model they switch to. After the
    first page they move through the sidebar like a person (one Streamlit session each, so
    settings such as the small max_new_tokens persist back to the Chinese generation)."""
    first = "generation" if i % 2 == 0 else "embeddings"

    def open_(path, wait_text):
        def act(page, url):
            open_page(page, url, path, timeout=ACTION_TIMEOUT_S)
            wait_for_text(page, wait_text, timeout=ACTION_TIMEOUT_S)
        return act

    def generate(page, url):
        click_button(page, "Generate", timeout=ACTION_TIMEOUT_S)
        page.locator('[data-testid="stCode"]').first.wait_for(timeout=ACTION_TIMEOUT_S * 1000)

    def sentiment_long(page, url):
        fill_text(page, "Text to analyse", long_text(i))
        wait_for_text(page, "truncated to the first 256", timeout=ACTION_TIMEOUT_S)

    def sentiment_hub(page, url):
        set_toggle(page, "Fine-tuned: DistilBERT SST-2 (Hub)", i % 4 == 1)
        if i % 4 == 1:
            not_available_message(page, 30)

    def attention_layer(page, url):
        choose(page, "Layer · 层", f"layer {i % 6}")
        wait_for_text(page, f"Layer {i % 6}, head 0", timeout=ACTION_TIMEOUT_S)

    def back_to_generation(page, url):
        gen_nav(page, url)
        # what this session set before visiting four other pages is still there
        assert slider_value(page, "Max new tokens (max_new_tokens)") == str(64 - 52 - i)
        fill_text(page, "Prompt", "今天的天气很好，适合出去散步。")

    def emb_hidden(page, url):
        choose_radio(page, "How to turn items into vectors", "Mean-pooled hidden states (SmolLM2, choose the layer)")
        plotly_charts(page, 1, timeout=ACTION_TIMEOUT_S)

    def nav_(title, wait_text):  # sidebar navigation: same session, typed values persist
        def act(page, url):
            page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            wait_idle(page, ACTION_TIMEOUT_S)
            wait_for_text(page, wait_text, timeout=ACTION_TIMEOUT_S)
        return act

    gen_open = open_("generation", "Text generation · 文本生成")
    emb_open = open_("embeddings", "3 · Map")
    gen_nav = nav_("Text generation", "Text generation · 文本生成")
    emb_nav = nav_("Embedding explorer", "3 · Map")
    att_nav = nav_("Attention visualizer", "Attention visualizer")
    generation_steps = [
        ("type prompt", lambda p, u: fill_text(p, "Prompt", f"Session {i} says: the best way to learn is")),
        ("slider max_new_tokens", lambda p, u: move_slider(p, "Max new tokens (max_new_tokens)", -(52 + i))),
        ("generate", generate),
    ]
    if first == "generation":  # 4 sessions ask for SmolLM2 first ...
        head = [("open generation", gen_open), *generation_steps,
                ("greedy", lambda p, u: set_toggle(p, "Sampling (off = greedy)", False))]
    else:  # ... while 4 others ask for MiniLM at the same instant
        head = [("open embeddings", emb_open), ("go to generation", gen_nav), *generation_steps]
    actions = head + [
        ("go to sentiment", nav_("Sentiment", "Sentiment analysis")),
        ("attribution off", lambda p, u: set_toggle(p, "Which words mattered", False)),
        ("hub toggle", sentiment_hub),
        ("long text", sentiment_long),
        ("go to classification", nav_("Classification", "Classification · 文本分类")),
        ("labels", lambda p, u: fill_text(p, "Labels (comma-separated, up to 20)", f"sports, politics, food, music{i}")),
        ("text", lambda p, u: fill_text(p, "Text", f"Session {i}: the orchestra played a new symphony tonight.")),
        ("go to embeddings", emb_nav),
        ("query sentence", lambda p, u: fill_text(
            p, "A new sentence: where would it land?", f"Session {i} cooks pasta")),
        ("hidden-state vectors" if i % 2 else "go to attention", emb_hidden if i % 2 else att_nav),
        ("go to attention" if i % 2 else "sentence", att_nav if i % 2 else
         (lambda p, u: fill_text(p, "Sentence · 句子", f"Session {i}: the cat sat on the mat because it was tired."))),
        ("layer", attention_layer),
        ("overview", lambda p, u: (choose_radio(p, "View", "Overview"), plotly_charts(p, 1, timeout=ACTION_TIMEOUT_S))),
        ("back to generation, Chinese prompt", back_to_generation),
        ("generate Chinese", generate),
    ]
    assert len(actions) == ACTIONS_PER_SESSION
    return actions


def page_errors(page) -> list[str]:
    """Everything on screen or in the console that counts as an error."""
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
    return errors


def run_session(i: int, url: str, barrier: threading.Barrier, results: dict) -> None:
    from playwright.sync_api import sync_playwright

    log = results[i] = {"errors": [], "actions": 0, "seconds": {}}
    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = new_page(browser)
            actions = script(i)
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
                log["errors"] += [f"session {i} after {name!r}: {e}" for e in page_errors(page)]
            with contextlib.suppress(Exception):
                screenshot(page, f"concurrency-s{i}-final")
        except Exception as exc:
            log["errors"].append(f"session {i} setup: {type(exc).__name__}: {exc}")
        finally:
            browser.close()


def test_eight_sessions_at_once(capsys):
    from playwright.sync_api import sync_playwright

    # no background preparation: the sessions themselves must race for the first loads
    with streamlit_server("concurrency", env={"LLM_LAB_NO_WARMUP": "1"}) as srv:
        with sync_playwright() as p:  # "/" once: see conftest.warm_up (loads no model)
            b = launch_browser(p)
            warm_up(b, srv)
            b.close()
        assert srv.model_loads() == {}, "server must start with no model loaded"
        sampler = RssSampler(srv.proc.pid)
        sampler.start()
        barrier = threading.Barrier(SESSIONS + 1)
        results: dict[int, dict] = {}
        threads = [threading.Thread(target=run_session, args=(i, srv.url, barrier, results), daemon=True)
                   for i in range(SESSIONS)]
        for t in threads:
            t.start()
        barrier.wait(timeout=180)
        start = time.monotonic()
        for t in threads:
            t.join(timeout=ACTIONS_PER_SESSION * ACTION_TIMEOUT_S)
        duration = time.monotonic() - start
        peak = sampler.stop()
        time.sleep(0.5)  # let the server flush its log
        server_errors = srv.error_lines()
        loads = srv.model_loads()

    errors = [e for i in sorted(results) for e in results[i]["errors"]]
    actions = sum(r["actions"] for r in results.values())
    report = {
        "sessions": SESSIONS,
        "actions_done": actions,
        "actions_planned": SESSIONS * ACTIONS_PER_SESSION,
        "duration_s": round(duration, 1),
        "server_peak_rss_mb": round(peak / 2**20),
        "model_loads": loads,
        "errors": errors,
        "server_log_errors": server_errors[:50],
        "per_session_seconds": {i: results[i]["seconds"] for i in sorted(results)},
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    with capsys.disabled():
        print(f"\n[concurrency] {SESSIONS} sessions x {ACTIONS_PER_SESSION} actions: "
              f"{actions}/{SESSIONS * ACTIONS_PER_SESSION} done in {duration:.1f} s; "
              f"server peak RSS {peak / 2**20:.0f} MB; model loads {loads}; "
              f"errors {len(errors)}; server-log errors {len(server_errors)}")

    assert not errors, "\n".join(errors[:30])
    assert not server_errors, "\n".join(server_errors[:30])
    assert actions == SESSIONS * ACTIONS_PER_SESSION
    # every session used both bundled models; each was loaded exactly once
    assert {k: loads.get(k, 0) for k in BUNDLED} == {k: 1 for k in BUNDLED}, loads
