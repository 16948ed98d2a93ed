"""``python -m bench`` (``make bench``): LLM Lab's app-wide figures in ONE table.

Usage::

    HF_HUB_OFFLINE=1 python -m bench            # everything (30-60 min on a busy 2-core machine)
    HF_HUB_OFFLINE=1 python -m bench --quick    # skips the empty-cache (GGUF conversion) runs,
                                                # the per-page bench scripts, fewer reruns/repeats
    python -m bench --only start,memory         # some groups only (start, models, memory,
                                                # interaction, threads, caches, pages)
    python -m bench --torch-threads 1           # every measured process with OMP_NUM_THREADS=1
    python -m bench --markdown                  # print latest.json as a Markdown table

Every figure is measured next to a baseline taken in the same run on the same machine
(bare Streamlit app, bare ``from_pretrained`` / ``SentenceTransformer``, an unbounded cache),
so the ratio column is what to compare between machines; absolute seconds depend on the
machine and on its load. Each measurement that needs a fresh interpreter runs in a child
process (``python -m bench child <task> ...``), and servers are real ``streamlit run``
processes on a free port, driven by a headless Chromium (Playwright + /usr/bin/chromium).

The table is printed and written to ``bench/results/latest.csv`` and ``latest.json``
(plus ``interactions.csv`` with every widget timed, and the per-page bench logs).
"""
from __future__ import annotations

import argparse
import ast
import gc
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import (
    RESULTS_DIR,
    ROOT,
    Figure,
    build_table,
    child_env,
    format_table,
    free_port,
    median,
    proc_memory,
    report_child,
    run_json_child,
    write_results,
)

SMOLLM2 = "smollm2-135m-instruct"
MINILM = "all-minilm-l6-v2"
BUNDLED = {SMOLLM2: "SmolLM2-135M", MINILM: "all-MiniLM-L6-v2"}
PAGES = ("generation", "sentiment", "classification", "embeddings", "attention")
PAGE_BENCHES = ("generation", "sentiment", "classification", "embeddings", "attention", "lens", "concurrency",
                "batching", "sessions", "slides", "first_paint")
HEAVY_MODULES = ("torch", "transformers", "sentence_transformers")
GROUPS = ("start", "models", "memory", "interaction", "threads", "caches", "pages")

# Targets. Memory in MiB.
HOME_TARGET_S = 5.0
WARM_READY_TARGET_S = 3.0
SERVER_PEAK_TARGET_MB = 1500.0  # 1.5 GB (taken as 1500 MiB, slightly stricter than 1.5 GiB)
RERUN_GROWTH_TARGET_PCT = 5.0
INTERACTION_TARGET_S = 0.3

STREAMLIT = str(Path(sys.executable).with_name("streamlit"))
CHROMIUM = "/usr/bin/chromium"
BARE_APP = "import streamlit as st\nst.title('bare app')\nst.write('hello')\n"
BARE_SLIDER_APP = (
    "import streamlit as st\nst.title('bare app')\n"
    "v = st.slider('n', 0, 10, 5, key='n')\nst.write(v)\n"
)
TEXT_POOL = (
    "Once upon a time, in a small village by the sea,",
    "今天的天气很好，适合出去散步。",
    "I love this product, it works great.",
    "This was the worst meal I have ever had.",
    "The cat sat on the mat.",
    "Attention is all you need.",
    "Stocks fell sharply after the central bank raised interest rates.",
    "def fibonacci(n):",
    "The team won the football match in the final minute.",
    "Explain self-attention to a 10-year-old.",
)


def page_status(page: str) -> str | None:
    """None when ``app_pages/<page>.py`` exists; otherwise why the page is skipped."""
    if not (ROOT / "app_pages" / f"{page}.py").is_file():
        return "page file missing"
    return None


# ============================================================================ children
# Each child runs in a fresh interpreter and ends with report_child({...}).

def _quiet_streamlit() -> None:
    import logging

    for name in ("streamlit", "streamlit.runtime", "streamlit.runtime.caching",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).setLevel(logging.ERROR)


def child_home_apptest(args: list[str]) -> None:
    """Home via AppTest: first run, warm reruns, and which heavy modules got imported."""
    # measure what Home itself imports: the background import warm-up (components/warmup.py,
    # started after the page ran) would otherwise put torch in sys.modules
    os.environ["LLM_LAB_NO_WARMUP"] = "1"
    start = time.perf_counter()
    from streamlit.testing.v1 import AppTest

    _quiet_streamlit()
    imported_s = time.perf_counter() - start
    bare = args and args[0] == "bare"
    at = AppTest.from_string(BARE_APP) if bare else AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    reruns = []
    for _ in range(3):
        t = time.perf_counter()
        at.run()
        reruns.append(time.perf_counter() - t)
    report_child({
        "import_s": imported_s,
        "first_run_s": first,
        "rerun_s": median(reruns),
        "heavy_modules": sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY_MODULES}),
        "exceptions": [e.value for e in at.exception],
        "titles": [t.value for t in at.title],
        "mem": proc_memory(),
    })


MODEL_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
import streamlit as st
t = time.perf_counter()
from components.cache import get_model
m = get_model({key!r})
ready = time.perf_counter() - t
st.text(json.dumps({{"ready_s": ready, "load_seconds": m.load_seconds, "source": m.source.kind}}))
"""


def import_model_libraries() -> float:
    """Import what loading any bundled model needs (torch, transformers' Llama and BERT
    modelling, sentence-transformers); returns the seconds it took."""
    t = time.perf_counter()
    import sentence_transformers  # noqa: F401
    import torch  # noqa: F401
    import transformers.models.bert.modeling_bert  # noqa: F401
    import transformers.models.llama.modeling_llama  # noqa: F401
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

    return time.perf_counter() - t


def touch_weights(model) -> None:
    """Read every parameter once, so weights that safetensors memory-maps lazily are resident
    (as they are after a page's first forward pass)."""
    import torch

    with torch.inference_mode():
        for p in model.parameters():
            p.sum()


def child_model_app(args: list[str]) -> None:
    """A page's first request to its model ready, through the app's cached getter
    (``components.cache.get_model`` in an AppTest script run, fresh process).
    ``args``: ``<key> [preimport]`` -- with ``preimport`` the model libraries are imported
    first (a server whose imports are already warm) and their import time is reported."""
    key = args[0]
    from streamlit.testing.v1 import AppTest

    _quiet_streamlit()
    import_s = import_model_libraries() if "preimport" in args[1:] else None
    at = AppTest.from_string(MODEL_SCRIPT.format(root=str(ROOT), key=key), default_timeout=1200)
    t = time.perf_counter()
    at.run()
    run_s = time.perf_counter() - t
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    out = json.loads(at.text[0].value)
    out.update(run_s=run_s, import_s=import_s, mem=proc_memory())
    report_child(out)


def child_model_bare(args: list[str]) -> None:
    """Bare-library load in a fresh process (imports included), for the baselines.

    ``args``: ``smollm2 <converted dir>`` (AutoTokenizer + AutoModelForCausalLM),
    ``smollm2-gguf <dir> <file>`` (the library's own GGUF loading), ``minilm <dir>``
    (SentenceTransformer), or ``all <converted dir> <minilm dir>``.
    """
    kind = args[0]
    t = time.perf_counter()
    if kind in ("smollm2", "all"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _tok = AutoTokenizer.from_pretrained(args[1])  # part of the measured load
        model = AutoModelForCausalLM.from_pretrained(args[1])
    if kind == "smollm2-gguf":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        _tok = AutoTokenizer.from_pretrained(args[1], gguf_file=args[2])  # part of the measured load
        model = AutoModelForCausalLM.from_pretrained(args[1], gguf_file=args[2])
    if kind in ("minilm", "all"):
        from sentence_transformers import SentenceTransformer

        st_model = SentenceTransformer(args[-1], device="cpu")
    ready = time.perf_counter() - t
    if kind == "all":  # memory baseline: weights resident, as after use
        touch_weights(model)
        touch_weights(st_model)
    report_child({"ready_s": ready, "mem": proc_memory()})


def child_make_models(args: list[str]) -> None:
    """Random models (~40 MB each) of the Hub architectures for 8 non-bundled catalog keys,
    built on the tokenizers of ``tests/tiny_models.py`` and saved under ``args[0]``.
    Reports ``{key: directory}``."""
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertModel,
        DistilBertConfig,
        DistilBertForSequenceClassification,
        GPT2Config,
        GPT2LMHeadModel,
    )

    from tests.tiny_models import make_tiny_bert, make_tiny_gpt2

    out = Path(args[0])
    dims = dict(hidden=384, layers=6, heads=6)
    plan = {
        "smollm2-135m-instruct-hub": "gpt2", "gpt2": "gpt2", "distilgpt2": "gpt2",
        "distilbert-sst2": "distilbert-cls", "distilbert-mnli": "nli", "bart-large-mnli": "nli",
        "bert-base-uncased": "bert", "all-mpnet-base-v2": "bert",
    }
    dirs = {}
    for i, (key, arch) in enumerate(plan.items()):
        path = out / key
        torch.manual_seed(i)
        if arch == "gpt2":
            make_tiny_gpt2(path, seed=i)
            cfg = GPT2Config.from_pretrained(path)
            model = GPT2LMHeadModel(GPT2Config(vocab_size=cfg.vocab_size, n_positions=64,
                                               n_embd=dims["hidden"], n_layer=dims["layers"],
                                               n_head=dims["heads"], bos_token_id=cfg.bos_token_id,
                                               eos_token_id=cfg.eos_token_id))
        elif arch == "distilbert-cls":
            make_tiny_bert(path, head="distilbert-cls", seed=i)
            cfg = DistilBertConfig.from_pretrained(path)
            model = DistilBertForSequenceClassification(DistilBertConfig(
                vocab_size=cfg.vocab_size, dim=dims["hidden"], n_layers=dims["layers"],
                n_heads=dims["heads"], hidden_dim=4 * dims["hidden"], max_position_embeddings=128,
                id2label=cfg.id2label, label2id=cfg.label2id))
        else:
            make_tiny_bert(path, head="nli" if arch == "nli" else None, seed=i)
            cfg = BertConfig.from_pretrained(path)
            big = BertConfig(vocab_size=cfg.vocab_size, hidden_size=dims["hidden"],
                             num_hidden_layers=dims["layers"], num_attention_heads=dims["heads"],
                             intermediate_size=4 * dims["hidden"], max_position_embeddings=128,
                             id2label=cfg.id2label, label2id=cfg.label2id)
            model = BertForSequenceClassification(big) if arch == "nli" else BertModel(big)
        model.eval().save_pretrained(path)
        dirs[key] = str(path)
    report_child({"dirs": dirs})


def child_caches(args: list[str]) -> None:
    """Load the catalog keys ``args[1:]`` one after another through the app's model cache
    (``args[0] == "bounded"``: ``components.cache.get_model``, max_entries=4) or through an
    unbounded ``st.cache_resource`` of the same loader (the baseline). After each load:
    how many loaded models are still alive (weak references) and the RSS."""
    import weakref

    import streamlit as st

    _quiet_streamlit()
    import sentence_transformers  # noqa: F401
    import torch  # noqa: F401  (imported before the first RSS reading)
    import transformers  # noqa: F401

    from components.catalog import get_spec
    from components.loading import load_model

    mode, keys = args[0], args[1:]
    if mode == "bounded":
        from components.cache import MODEL_CACHE_ENTRIES, get_model
        getter, bound = get_model, MODEL_CACHE_ENTRIES
    else:
        getter = st.cache_resource(lambda key: load_model(get_spec(key)))
        bound = None
    gc.collect()
    rss0 = proc_memory()["rss"]
    refs, steps = [], []
    for key in keys:
        loaded = getter(key)
        touch_weights(loaded.model)
        refs.append(weakref.ref(loaded.model))
        del loaded
        gc.collect()
        steps.append({"key": key, "alive": sum(r() is not None for r in refs), "rss": proc_memory()["rss"]})
    report_child({"bound": bound, "rss0": rss0, "steps": steps, "mem": proc_memory()})


# ---------------------------------------------------------------- AppTest widget driving
SETTABLE = ("slider", "number_input", "selectbox", "radio", "toggle", "checkbox",
            "select_slider", "text_area", "text_input")
TEXT_TYPES = ("text_area", "text_input")


def _widgets(at) -> list:
    """Interactive widgets of the current tree that a user could change (enabled)."""
    found = []
    for kind in SETTABLE:
        for w in at.get(kind):
            if getattr(w.proto, "disabled", False):
                continue
            if w.key and "model" in w.key.lower():  # model pickers load (Hub) models: not exercised
                continue
            if kind in ("slider", "select_slider") and isinstance(w.value, (list, tuple)):
                continue  # range sliders: not exercised
            found.append(w)
    return found


def _find(at, kind: str, wid: str):
    for w in at.get(kind):
        if w.id == wid:
            return w
    return None


def _set_option_index(w, index: int) -> None:
    """Choose option ``index`` of a selectbox/radio/select_slider whatever its format_func
    (AppTest's ``set_value`` wants the raw option, which the tree does not carry)."""
    base = type(w)

    class _Indexed(base):  # type: ignore[misc, valid-type]
        @property
        def index(self):  # noqa: D401
            return self._bench_index

    w.__class__ = _Indexed
    w._bench_index = index
    w._value = w.options[index]


def _values_for(w, rng: random.Random | None) -> object:
    """A new value for widget ``w``: the neighbouring step (rng None) or a random one."""
    kind = w.type
    if kind in ("toggle", "checkbox"):
        return not bool(w.value)
    if kind in ("selectbox", "radio", "select_slider"):
        n = len(w.options)
        if n < 2:
            return None
        cur = w.index if kind != "select_slider" else w.options.index(str(w.value)) if str(w.value) in w.options else 0
        cur = 0 if cur is None else cur
        return ("index", rng.randrange(n) if rng else (cur + 1) % n)
    if kind in TEXT_TYPES:
        if rng is None:
            return None
        return rng.choice(TEXT_POOL)
    if kind in ("slider", "number_input"):
        value = w.value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        step = w.step or (1 if isinstance(value, int) else 0.01)
        lo = w.min if w.min is not None else value - 10 * step
        hi = w.max if w.max is not None else value + 10 * step
        if rng is not None:
            n = int(round((hi - lo) / step))
            new = lo + rng.randint(0, max(n, 0)) * step
        else:
            new = value + step if value + step <= hi else value - step
        if isinstance(value, int) and float(step).is_integer():
            new = int(round(new))
        else:
            new = round(float(new), 10)
        return new
    return None


def _apply(w, value) -> None:
    if isinstance(value, tuple) and value and value[0] == "index":
        _set_option_index(w, value[1])
    else:
        w.set_value(value)


class _ForwardCounter:
    """Counts ``nn.Module`` forward calls process-wide (a global forward pre-hook), to tell
    a rerun that ran the model from one that only re-rendered."""

    def __init__(self) -> None:
        self.count = 0
        try:
            import torch

            torch.nn.modules.module.register_module_forward_pre_hook(self._hook)
        except Exception:  # pragma: no cover - torch always present in the app
            pass

    def _hook(self, module, inputs):
        self.count += 1


def _timed_run(at, counter: _ForwardCounter) -> tuple[float, int]:
    before = counter.count
    t = time.perf_counter()
    at.run()
    return time.perf_counter() - t, counter.count - before


def child_pages(args: list[str]) -> None:
    """Per-interaction latency of every widget, then RSS over N reruns with varied inputs,
    for each built page, all in ONE AppTest process (as one server would)."""
    pages = [p for p in args[0].split(",") if p]
    reruns, cycles, seed = int(args[1]), int(args[2]), int(args[3])
    budget_s = float(args[4]) if len(args) > 4 else float("inf")
    from streamlit.testing.v1 import AppTest

    _quiet_streamlit()
    counter = _ForwardCounter()
    # baseline: the same harness on a bare one-slider app
    bare = AppTest.from_string(BARE_SLIDER_APP)
    bare.run()
    bare_times = []
    for i in range(6):
        bare.slider(key="n").set_value(4 + i % 2)
        t = time.perf_counter()
        bare.run()
        bare_times.append(time.perf_counter() - t)
    results: dict = {"bare_interaction_s": median(bare_times), "pages": {}}

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.run()
    rng = random.Random(seed)
    for page in pages:
        res: dict = {"widgets": [], "errors": []}
        results["pages"][page] = res
        try:
            at.switch_page(f"app_pages/{page}.py")
            t = time.perf_counter()
            at.run()
            res["first_run_s"] = time.perf_counter() - t
            res["noop_rerun_s"] = min(_timed_run(at, counter)[0] for _ in range(2))
            res["errors"] += [e.value[:300] for e in at.exception]
            # ---- per-interaction latency
            for w0 in _widgets(at):
                kind, wid, label = w0.type, w0.id, (w0.key or getattr(w0, "label", "") or w0.id)
                if kind in TEXT_TYPES:
                    continue
                orig = w0.value if kind not in ("selectbox", "radio") else ("index", w0.index or 0)
                alt = _values_for(w0, None)
                if alt is None:
                    continue
                times, forwards = [], 0
                try:
                    for step in range(2 + 2 * cycles):  # two warm-up changes, then timed ones
                        w = _find(at, kind, wid)
                        if w is None:
                            break
                        _apply(w, alt if step % 2 == 0 else orig)
                        dt, nf = _timed_run(at, counter)
                        if step >= 2:
                            times.append(dt)
                            forwards += nf
                        if at.exception:
                            res["errors"].append(f"{label}: {at.exception[0].value[:300]}")
                            break
                except Exception as exc:  # a widget the harness cannot drive
                    res["errors"].append(f"{label}: {type(exc).__name__}: {exc}"[:300])
                if times:
                    res["widgets"].append({"widget": label, "type": kind, "latency_s": median(times),
                                           "max_s": max(times), "model_forwards": forwards})
            # ---- reruns with varied inputs
            gc.collect()
            rss_start = proc_memory()["rss"]
            trace, per_run = [], []
            began = time.perf_counter()
            for i in range(reruns):
                if time.perf_counter() - began > budget_s:
                    break
                ws = _widgets(at)
                if ws:
                    w = rng.choice(ws)
                    value = _values_for(w, rng)
                    if value is not None:
                        try:
                            _apply(w, value)
                        except Exception:
                            pass
                t = time.perf_counter()
                at.run()
                per_run.append(time.perf_counter() - t)
                if at.exception:
                    res["errors"].append(f"rerun {i}: {at.exception[0].value[:300]}")
                    at.switch_page(f"app_pages/{page}.py")  # recover: fresh page state
                if (i + 1) % max(1, reruns // 4) == 0:
                    gc.collect()
                    trace.append(proc_memory()["rss"])
            gc.collect()
            res.update(reruns=len(per_run), rss_start=rss_start, rss_end=proc_memory()["rss"],
                       rss_trace=trace, rerun_mean_s=sum(per_run) / max(1, len(per_run)))
        except Exception as exc:
            res["errors"].append(f"{type(exc).__name__}: {exc}"[:500])
    results["mem"] = proc_memory()
    report_child(results)


def child_threads(args: list[str]) -> None:
    """Page-sized torch work with torch's default intra-op threads vs one thread, interleaved
    in one process: a SmolLM2 forward on a 12-token prompt (what a prompt edit costs) and the
    small vocabulary-sized ops of a slider move (softmax, sort, counts over 49,152 logits)."""
    import torch

    from components.catalog import get_spec
    from components.loading import load_model

    repeat = int(args[0]) if args else 5
    default = max(2, os.cpu_count() or 2)  # torch's own default is the core count
    loaded = load_model(get_spec(SMOLLM2))
    ids = loaded.tokenizer("Once upon a time, in a small village by the sea,", return_tensors="pt")["input_ids"]

    def forward():
        with torch.inference_mode():
            return loaded.model(input_ids=ids).logits[0, -1]

    logits = forward()

    def small_ops():
        with torch.inference_mode():
            for t in (1.0, 0.8, 0.5):
                p = torch.softmax(logits / t, dim=-1)
                torch.argsort(p, descending=True)
                int((p > 1e-6).sum())

    out: dict = {"default_threads": default}
    for name, fn in (("forward", forward), ("small_ops", small_ops)):
        times: dict[int, list[float]] = {default: [], 1: []}
        for n in [default, 1] * repeat:
            torch.set_num_threads(n)
            fn()  # settle
            t = time.perf_counter()
            fn()
            times[n].append(time.perf_counter() - t)
        out[name] = {"default": median(times[default]), "one": median(times[1])}
    torch.set_num_threads(default)
    out["loadavg"] = os.getloadavg()
    report_child(out)


CHILDREN = {
    "threads": child_threads,
    "home-apptest": child_home_apptest,
    "model-app": child_model_app,
    "model-bare": child_model_bare,
    "make-models": child_make_models,
    "caches": child_caches,
    "pages": child_pages,
}


# ============================================================================ servers
class Browser:
    """A headless Debian Chromium driven by Playwright (launched once, before any timing)."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])

    def load(self, url: str, timeout_s: float) -> tuple[float, list[str]]:
        """Open ``url`` in a new page and wait until its script run finished with a title on
        screen; returns (seconds, exception texts shown by the app)."""
        page = self.browser.new_page()
        try:
            t = time.perf_counter()
            page.goto(url, wait_until="domcontentloaded", timeout=timeout_s * 1000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"] h1',
                                   timeout=timeout_s * 1000)
            # a run that paints a spinner may still be in flight on the page: wait it out
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stSpinner\"]') && "
                "document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState === 'notRunning'",
                timeout=timeout_s * 1000)
            dt = time.perf_counter() - t
            errors = [e.inner_text()[:300] for e in page.query_selector_all('[data-testid="stException"]')]
            return dt, errors
        finally:
            page.close()

    def close(self) -> None:
        self.browser.close()
        self._pw.stop()


class Server:
    """``streamlit run <script>`` on a free localhost port (the project's .streamlit config)."""

    def __init__(self, script: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [STREAMLIT, "run", str(script), "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout_s: float = 120) -> float:
        """Seconds from spawn to ``/_stcore/health`` answering ok."""
        deadline = self.started + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError("streamlit did not become healthy")

    def memory(self) -> dict[str, float]:
        return proc_memory(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def serve_first_page(browser: Browser, script: Path, env: dict, log: Path, path: str = "",
                     timeout_s: float = 300) -> dict:
    """Spawn a server and load its first page: seconds to health and to the page served."""
    server = Server(script, env, log)
    try:
        health = server.wait_healthy()
        dt, errors = browser.load(server.url + "/" + path, timeout_s)
        served = time.perf_counter() - server.started
        return {"health_s": health, "served_s": served, "page_s": dt, "errors": errors, "mem": server.memory()}
    finally:
        server.stop()


# ============================================================================ runners
class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.figures: list[Figure] = []
        self.work = Path(tempfile.mkdtemp(prefix="llm-lab-bench-"))
        self.logs = RESULTS_DIR / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.empty_cache = self.work / "empty-cache"  # LLM_LAB_CACHE_DIR of the "first run" figures
        self._browser: Browser | None = None

    # -------------------------------------------------------------- helpers
    def add(self, *figures: Figure) -> None:
        for f in figures:
            self.figures.append(f)
            print(f"  {f.group:<11} {f.name}: {f.value if f.value is None else round(f.value, 3)} {f.unit}"
                  f" (baseline {f.baseline if f.baseline is None else round(f.baseline, 3)})", flush=True)

    def skip(self, group: str, name: str, why: str, unit: str = "s", target: float | None = None) -> None:
        self.add(Figure(group, name, None, unit, target=target, note=why))

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            self._browser = Browser()
        return self._browser

    def env(self, **extra: str) -> dict:
        return child_env(**extra)

    def script(self, name: str, text: str) -> Path:
        path = self.work / name
        path.write_text(text)
        return path

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
        shutil.rmtree(self.work, ignore_errors=True)

    # -------------------------------------------------------------- (1) start
    def start(self) -> None:
        print("[start] streamlit run -> Home served (headless Chromium), bare app as baseline", flush=True)
        bare = self.script("bare_app.py", BARE_APP)
        app = ROOT / "app.py"
        repeat = 1 if self.opts.quick else 2
        runs: dict[str, list[dict]] = {"bare": [], "app": []}
        for i in range(1 + repeat):  # the first round is the cold one
            env = self.env(LLM_LAB_CACHE_DIR=str(self.empty_cache) if i == 0 else os.environ.get("LLM_LAB_CACHE_DIR", ""))
            if not env["LLM_LAB_CACHE_DIR"]:
                env.pop("LLM_LAB_CACHE_DIR")
            runs["bare"].append(serve_first_page(self.browser, bare, env, self.logs / "server-bare.log"))
            runs["app"].append(serve_first_page(self.browser, app, env, self.logs / "server-home.log"))
        errors = runs["app"][0]["errors"]
        cold_note = ("first server start of this bench run, empty LLM_LAB_CACHE_DIR; spawn -> health ok "
                     "-> Home script run finished in Chromium")
        self.add(
            Figure("start", "Home served, cold start (streamlit run -> page)", runs["app"][0]["served_s"], "s",
                   runs["bare"][0]["served_s"], HOME_TARGET_S,
                   cold_note + (f"; page errors: {errors}" if errors else "")),
            Figure("start", "Home served, warm restart", median([r["served_s"] for r in runs["app"][1:]]), "s",
                   median([r["served_s"] for r in runs["bare"][1:]]), HOME_TARGET_S,
                   f"median of {repeat} restarts; baseline = one-line Streamlit app, same measurement"),
            Figure("start", "  of which health endpoint ok", median([r["health_s"] for r in runs["app"]]), "s",
                   median([r["health_s"] for r in runs["bare"]]), None, "server import + bind, all starts"),
        )
        # AppTest: Home script timing + which heavy modules the Home run imported
        home = run_json_child(["home-apptest"], self.env())
        bare_at = run_json_child(["home-apptest", "bare"], self.env())
        heavy = home["heavy_modules"]
        self.add(
            Figure("start", "Home script first run (AppTest)", home["first_run_s"], "s", bare_at["first_run_s"],
                   None, "app.py router + app_pages/home.py, fresh process" +
                   (f"; exceptions: {home['exceptions']}" if home["exceptions"] else "")),
            Figure("start", "Home script rerun (AppTest)", home["rerun_s"], "s", bare_at["rerun_s"], None,
                   "median of 3"),
            Figure("start", "torch/transformers/sentence_transformers imported by Home", float(len(heavy)),
                   "count", float(len(bare_at["heavy_modules"])), 0.0,
                   "sys.modules after the Home run: " + (", ".join(heavy) if heavy else "none")),
            Figure("start", "Home process RSS (AppTest)", home["mem"]["rss"], "MB", bare_at["mem"]["rss"], None,
                   "no model loaded"),
        )

    # -------------------------------------------------------------- (1b) model ready
    def models(self) -> None:
        print("[models] page request -> model ready, fresh process each, bare library as baseline", flush=True)
        sys.path.insert(0, str(ROOT))
        from components.catalog import get_spec
        from components.loading import bundled_dir, converted_dir

        smol, mini = get_spec(SMOLLM2), get_spec(MINILM)
        gguf_dir, mini_dir = bundled_dir(smol), bundled_dir(mini)
        if gguf_dir is None or mini_dir is None:
            for name in BUNDLED.values():
                self.skip("models", f"warm model ready: {name}", "bundled package not installed (make setup)",
                          target=WARM_READY_TARGET_S)
            return
        bare_args = {SMOLLM2: ["smollm2"], MINILM: ["minilm", str(mini_dir)]}
        if not self.opts.quick:
            # ---- first run: empty cache (SmolLM2 includes the one-time GGUF -> safetensors conversion)
            shutil.rmtree(self.empty_cache, ignore_errors=True)
            env = self.env(LLM_LAB_CACHE_DIR=str(self.empty_cache))
            for key, name in BUNDLED.items():
                app = run_json_child(["model-app", key], env, timeout=1800)
                if key == SMOLLM2:
                    base = run_json_child(["model-bare", "smollm2-gguf", str(gguf_dir), smol.gguf_file], env,
                                          timeout=1800)
                    note = ("empty LLM_LAB_CACHE_DIR: GGUF dequantized + written as safetensors; baseline = "
                            "bare AutoModelForCausalLM/AutoTokenizer.from_pretrained(gguf_file=...)")
                else:
                    base = run_json_child(["model-bare", *bare_args[key]], env)
                    note = "empty LLM_LAB_CACHE_DIR (no conversion for this model); baseline = bare SentenceTransformer(path)"
                self.add(Figure("models", f"first-run model ready: {name}", app["ready_s"], "s", base["ready_s"],
                                None, note),
                         Figure("models", f"  peak RSS of that first run: {name}", app["mem"]["peak"], "MB",
                                base["mem"]["peak"], None, "VmHWM of the loading process"))
        # ---- warm: new process, disk cache present (the user's cache dir, converted if needed)
        env = self.env()
        warm_dir = converted_dir(smol)  # honours LLM_LAB_CACHE_DIR of this process
        repeat = 1 if self.opts.quick else max(1, self.opts.repeat)
        run_json_child(["model-app", SMOLLM2], env, timeout=1800)  # ensures the warm cache exists
        bare_args[SMOLLM2].append(str(warm_dir))
        import_times: list[float] = []
        for key, name in BUNDLED.items():
            apps, bases, pre = [], [], []
            for _ in range(repeat):  # interleaved, so load changes hit both alike
                apps.append(run_json_child(["model-app", key], env))
                bases.append(run_json_child(["model-bare", *bare_args[key]], env))
                pre.append(run_json_child(["model-app", key, "preimport"], env))
            base_what = ("AutoTokenizer + AutoModelForCausalLM.from_pretrained(<converted dir>)" if key == SMOLLM2
                         else "SentenceTransformer(<bundled dir>)")
            self.add(Figure("models", f"warm model ready: {name}", median([a["ready_s"] for a in apps]), "s",
                            median([b["ready_s"] for b in bases]), WARM_READY_TARGET_S,
                            f"new process, disk cache present, torch/transformers imports included; median of "
                            f"{repeat}; baseline = bare {base_what}; loader's own load_seconds "
                            f"{median([a['load_seconds'] for a in apps]):.2f} s"),
                     Figure("models", f"  same, torch/transformers already imported: {name}",
                            median([p["ready_s"] for p in pre]), "s", None, None,
                            "a server whose imports are warm (another page ran, or an import warm-up); "
                            "weights are memory-mapped, read on first use"))
            import_times += [p["import_s"] for p in pre]
        self.add(Figure("models", "import floor: torch + transformers + sentence-transformers",
                        median(import_times), "s", None, None,
                        "fresh process; paid once per server process by the first page that needs a model"))

    # -------------------------------------------------------------- (2) memory
    def memory(self) -> None:
        print("[memory] server peak RSS with all bundled models loaded", flush=True)
        sys.path.insert(0, str(ROOT))
        from components.catalog import get_spec
        from components.loading import bundled_dir, converted_dir

        mini_dir = bundled_dir(get_spec(MINILM))
        base = run_json_child(["model-bare", "all", str(converted_dir(get_spec(SMOLLM2))), str(mini_dir)], self.env())
        loader = self.script("load_bundled.py", (
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nimport streamlit as st\n"
            "from components.cache import get_model\nfrom bench.__main__ import touch_weights\n"
            f"for key in {list(BUNDLED)!r}:\n    touch_weights(get_model(key).model)\n"
            "st.title('bench: bundled models loaded')\n"))
        server = Server(loader, self.env(), self.logs / "server-models.log")
        try:
            server.wait_healthy()
            dt, errors = self.browser.load(server.url, 900)
            mem = server.memory()
        finally:
            server.stop()
        self.add(Figure("memory", "server peak RSS, all bundled models loaded", mem["peak"], "MB",
                        base["mem"]["peak"], SERVER_PEAK_TARGET_MB,
                        "streamlit run of a script calling components.cache.get_model for both bundled models; "
                        "VmHWM of the server; baseline = bare python loading both with the libraries" +
                        (f"; errors: {errors}" if errors else "")))
        # the real app: visit every built page in one server, then read its peak
        built = [p for p in PAGES if page_status(p) is None]
        server = Server(ROOT / "app.py", self.env(), self.logs / "server-app.log")
        visited, errors = [], []
        try:
            server.wait_healthy()
            for path in ["home", *built]:
                try:
                    _, errs = self.browser.load(f"{server.url}/{path}", 600)
                    visited.append(path)
                    errors += [f"{path}: {e}" for e in errs]
                except Exception as exc:
                    errors.append(f"{path}: {type(exc).__name__}")
            mem = server.memory()
        finally:
            server.stop()
        self.add(Figure("memory", "app server peak RSS after visiting every built page", mem["peak"], "MB",
                        base["mem"]["peak"], SERVER_PEAK_TARGET_MB,
                        f"pages visited with their default inputs: {', '.join(visited)}" +
                        (f"; page errors: {errors}" if errors else "")))

    # -------------------------------------------------------------- (2b, 3) pages
    def interaction(self) -> None:
        built = [p for p in PAGES if page_status(p) is None]
        for p in PAGES:
            if p not in built:
                self.skip("interaction", f"{p}: slowest non-model widget rerun", page_status(p),
                          target=INTERACTION_TARGET_S)
                self.skip("memory", f"{p}: RSS growth over reruns", page_status(p), "%",
                          target=RERUN_GROWTH_TARGET_PCT)
        if not built:
            return
        reruns = self.opts.reruns or (20 if self.opts.quick else 100)
        cycles = 1 if self.opts.quick else 2
        print(f"[interaction] pages {built}: widget latency ({cycles} timed cycles) and {reruns} varied reruns, "
              "one AppTest process", flush=True)
        res = run_json_child(["pages", ",".join(built), str(reruns), str(cycles), "7", str(self.opts.rerun_budget)],
                             self.env(), timeout=7200)
        bare_s = res["bare_interaction_s"]
        rows = []
        for page in built:
            r = res["pages"].get(page, {})
            errs = r.get("errors", [])
            widgets = r.get("widgets", [])
            for w in widgets:
                rows.append({"page": page, **w})
            non_model = [w for w in widgets if w["model_forwards"] == 0]
            model = [w for w in widgets if w["model_forwards"] > 0]
            err_note = f"; errors: {' | '.join(errs[:3])}" if errs else ""
            if non_model:
                worst = max(non_model, key=lambda w: w["latency_s"])
                self.add(Figure("interaction", f"{page}: slowest non-model widget rerun", worst["latency_s"], "s",
                                bare_s, INTERACTION_TARGET_S,
                                f"worst of {len(non_model)} widgets: {worst['widget']} ({worst['type']}); "
                                f"no-change rerun {r.get('noop_rerun_s', float('nan')):.3f} s; "
                                f"{len(model)} widgets run the model (not targeted): "
                                + ", ".join(f"{w['widget']} {w['latency_s']:.2f}s" for w in model[:6]) + err_note))
            else:
                self.add(Figure("interaction", f"{page}: slowest non-model widget rerun", None, "s", bare_s,
                                INTERACTION_TARGET_S, "no non-model widget found to drive" + err_note))
            if "rss_end" in r:
                growth = 100.0 * (r["rss_end"] - r["rss_start"]) / r["rss_start"]
                self.add(Figure("memory", f"{page}: RSS growth over varied reruns", growth, "%",
                                None, RERUN_GROWTH_TARGET_PCT,
                                f"{r['reruns']} reruns; RSS {r['rss_start']:.0f} -> {r['rss_end']:.0f} MB (quarters: "
                                + ", ".join(f"{x:.0f}" for x in r.get("rss_trace", [])) +
                                f"); mean rerun {r['rerun_mean_s']:.2f} s" + err_note))
            else:
                self.add(Figure("memory", f"{page}: RSS growth over reruns", None, "%", None,
                                RERUN_GROWTH_TARGET_PCT, "not measured" + err_note))
        if rows:
            import csv

            with (RESULTS_DIR / f"interactions{'' if self.opts.out == 'latest' else '-' + self.opts.out}.csv").open(
                    "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=["page", "widget", "type", "latency_s", "max_s",
                                                            "model_forwards"])
                writer.writeheader()
                writer.writerows(rows)

    # -------------------------------------------------------------- (4) caches
    def caches(self) -> None:
        print("[caches] 8 distinct catalog models through the model cache vs an unbounded cache", flush=True)
        made = run_json_child(["make-models", str(self.work / "models")], self.env(), timeout=900)["dirs"]
        sys.path.insert(0, str(ROOT))
        from components.catalog import get_spec

        env = self.env(**{get_spec(k).local_dir_env: d for k, d in made.items()})
        keys = list(made)
        bounded = run_json_child(["caches", "bounded", *keys], env)
        unbounded = run_json_child(["caches", "unbounded", *keys], env)
        b, u = bounded["steps"], unbounded["steps"]
        bound = bounded["bound"]
        self.add(
            Figure("caches", f"models alive after loading {len(keys)} distinct catalog models",
                   float(b[-1]["alive"]), "count", float(u[-1]["alive"]), float(bound),
                   f"components.cache.get_model (st.cache_resource max_entries={bound}); baseline = unbounded "
                   "st.cache_resource; weak references to each loaded model"),
            Figure("caches", f"RSS growth, model {bound} -> model {len(keys)}",
                   b[-1]["rss"] - b[bound - 1]["rss"], "MB", u[-1]["rss"] - u[bound - 1]["rss"], None,
                   "random ~40 MB models; bounded RSS per load: " + ", ".join(f"{s['rss']:.0f}" for s in b)
                   + " MB; unbounded: " + ", ".join(f"{s['rss']:.0f}" for s in u) + " MB"),
        )
        # static check: every st.cache_data / st.cache_resource in the app is bounded
        unbounded_defs = scan_unbounded_caches()
        self.add(Figure("caches", "unbounded st.cache_data/st.cache_resource in app code",
                        float(len(unbounded_defs)), "count", None, 0.0,
                        "AST scan of app.py, app_pages/, components/ for decorators without max_entries"
                        + (": " + ", ".join(unbounded_defs) if unbounded_defs else "")))

    # -------------------------------------------------------------- torch threads diagnostic
    def threads(self) -> None:
        print("[threads] page-sized torch work: default intra-op threads vs 1 thread", flush=True)
        res = run_json_child(["threads", "3" if self.opts.quick else "6"], self.env())
        n = res["default_threads"]
        load = f"load average {res['loadavg'][0]:.1f} on {os.cpu_count()} cores during the run"
        self.add(
            Figure("threads", f"SmolLM2 forward, 12 tokens: {n} threads (baseline 1)", res["forward"]["default"],
                   "s", res["forward"]["one"], None, f"interleaved, median; {load}"),
            Figure("threads", f"vocabulary-sized ops of a slider move: {n} threads (baseline 1)",
                   res["small_ops"]["default"], "s", res["small_ops"]["one"], None,
                   "3 x softmax + argsort + count over 49,152 logits; ratio > 1: extra threads cost time"),
        )

    # -------------------------------------------------------------- per-page bench scripts
    def page_benches(self) -> None:
        for name in PAGE_BENCHES:
            path = ROOT / "bench" / f"{name}.py"
            if not path.is_file():
                self.skip("pages", f"bench/{name}.py", "not written yet", unit="")
                continue
            if self.opts.quick:
                self.skip("pages", f"bench/{name}.py", "skipped with --quick", unit="")
                continue
            print(f"[pages] running bench/{name}.py", flush=True)
            log = self.logs / f"page-{name}.log"
            t = time.perf_counter()
            try:
                proc = subprocess.run([sys.executable, str(path)], cwd=ROOT, env=self.env(), capture_output=True,
                                      text=True, timeout=self.opts.page_timeout)
                log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
                code = proc.returncode
                out = proc.stdout
            except subprocess.TimeoutExpired as exc:
                out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
                log.write_text(out + "\n--- timed out ---\n")
                code = None
            wall = time.perf_counter() - t
            folded = fold_page_output(name, out)
            for f in folded:
                self.add(f)
            status = "timed out" if code is None else f"exit {code}"
            self.add(Figure("pages", f"bench/{name}.py wall time", wall, "s", None, None,
                            f"{status}; {len(folded)} figures folded in; output in "
                            f"{log.relative_to(ROOT)}"))


def fold_page_output(name: str, stdout: str) -> list[Figure]:
    """Figures printed by a per-page bench script, when it prints machine-readable ones:
    JSON lines (objects with ``figure``/``name`` and ``value``, optional ``baseline``,
    ``target``, ``unit``) or a JSON list of such objects."""
    figures = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("JSON "):
            line = line[5:].strip()
        if not line or line[0] not in "[{":
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("figures", [data]) if isinstance(data, dict) else []
        if isinstance(data, dict) and "figure" not in data and "name" not in data:
            # a result dict with page_<x> / bare_<x> pairs (bench/generation.py)
            items = [{"figure": k[5:], "value": v, "baseline": data.get("bare_" + k[5:]),
                      "note": "page vs bare library, as printed by the script"}
                     for k, v in data.items() if k.startswith("page_") and "bare_" + k[5:] in data]
        for item in items:
            if not isinstance(item, dict):
                continue
            label = item.get("figure") or item.get("name")
            value = item.get("value")
            if label is None or not isinstance(value, (int, float)):
                continue
            num = lambda k: item.get(k) if isinstance(item.get(k), (int, float)) else None  # noqa: E731
            figures.append(Figure("pages", f"{name}: {label}", float(value), str(item.get("unit", "")),
                                  num("baseline"), num("target"), str(item.get("note", ""))))
    return figures


def scan_unbounded_caches(paths: list[Path] | None = None) -> list[str]:
    """``file:line`` of every ``st.cache_data``/``st.cache_resource`` decorator (bare or
    called) without ``max_entries`` in the app's code (app.py, app_pages/, components/)."""
    if paths is None:
        paths = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "components").glob("*.py"))]
    found = []
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                target = dec.func if call else dec
                if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
                    kwargs = {k.arg for k in call.keywords} if call else set()
                    if "max_entries" not in kwargs:
                        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                        found.append(f"{rel}:{dec.lineno} ({node.name})")
    return found


def machine() -> dict:
    """Where the figures were taken: cores, memory, CPU model, versions, date."""
    mem_gb = None
    try:
        with open("/proc/meminfo") as handle:
            mem_gb = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for mod in ("streamlit", "torch", "transformers", "sentence_transformers"):
        try:
            from importlib.metadata import version

            versions[mod] = version(mod.replace("_", "-"))
        except Exception:
            pass
    return {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
            "memory_gib": mem_gb, "cpu": cpu, "python": platform.python_version(), "versions": versions,
            "loadavg_start": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "child":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        sys.path.insert(0, str(ROOT))
        CHILDREN[argv[1]](argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="skip the empty-cache runs and per-page scripts; 20 reruns, fewer repeats")
    parser.add_argument("--only", default="", help=f"comma-separated groups of {', '.join(GROUPS)}")
    parser.add_argument("--repeat", type=int, default=2, help="repeats of the warm model-ready figures")
    parser.add_argument("--reruns", type=int, default=0, help="reruns per page (default 100, 20 with --quick)")
    parser.add_argument("--rerun-budget", type=float, default=240,
                        help="seconds allowed per page for the varied reruns (fewer reruns if exceeded)")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="run every measured process with OMP_NUM_THREADS=N (torch intra-op threads); "
                             "default: leave torch's own choice (= cores)")
    parser.add_argument("--page-timeout", type=float, default=900, help="seconds allowed per page bench script")
    parser.add_argument("--merge", action="store_true",
                        help="with --only: keep the other groups' rows of the previous latest.json in the table")
    parser.add_argument("--out", default="latest", help="results file stem in bench/results (default latest)")
    parser.add_argument("--markdown", action="store_true",
                        help="only print bench/results/latest.json as a Markdown table (for docs/performance.md)")
    opts = parser.parse_args(argv)
    if opts.markdown:
        data = json.loads((RESULTS_DIR / f"{opts.out}.json").read_text())
        m = data["meta"]
        print(f"Measured {m['date_utc']} on {m['cores']} cores, {m['memory_gib']} GiB ({m['cpu']}), "
              f"load average {m['loadavg_start'][0]:.1f} at start; torch threads: {m.get('torch_threads')}\n")
        print(format_table(data["figures"], markdown=True))
        return 0
    os.environ["HF_HUB_OFFLINE"] = "1"
    if opts.torch_threads > 0:  # inherited by every child and server (child_env copies os.environ)
        os.environ["OMP_NUM_THREADS"] = str(opts.torch_threads)
    groups = [g for g in opts.only.split(",") if g] or list(GROUPS)
    unknown = set(groups) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; choose from {GROUPS}")
    meta = machine()
    meta.update(quick=opts.quick, groups=groups, torch_threads=opts.torch_threads or "default")
    print(f"LLM Lab bench -- {meta['date_utc']}, {meta['cores']} cores, {meta['memory_gib']} GiB, "
          f"load average {meta['loadavg_start'][0]:.2f}; quick={opts.quick}; "
          f"torch threads {meta['torch_threads']}", flush=True)
    bench = Bench(opts)
    started = time.perf_counter()
    try:
        for group in GROUPS:
            if group not in groups:
                continue
            runner = {"start": bench.start, "models": bench.models, "memory": bench.memory,
                      "interaction": bench.interaction, "threads": bench.threads, "caches": bench.caches,
                      "pages": bench.page_benches}[group]
            try:
                runner()
            except Exception as exc:  # one broken group must not hide the others
                bench.skip(group, f"{group} group", f"failed: {type(exc).__name__}: {str(exc)[:400]}", unit="")
            # partial results after every group, so an interrupted run still leaves its figures
            write_results(build_table(bench.figures), dict(meta, partial=True), stem=opts.out + ".partial")
    finally:
        bench.close()
    meta["duration_s"] = round(time.perf_counter() - started, 1)
    meta["loadavg_end"] = os.getloadavg()
    rows = build_table(bench.figures)
    if opts.merge and (RESULTS_DIR / f"{opts.out}.json").is_file():
        previous = json.loads((RESULTS_DIR / f"{opts.out}.json").read_text())
        when = previous["meta"].get("date_utc", "?")
        fresh = {r["figure"] for r in rows}
        kept = [dict(r, note=(r["note"] + f" [run of {when}]").strip()) for r in previous["figures"]
                if r["group"] not in groups and r["figure"] not in fresh]
        rows = sorted(kept + rows, key=lambda r: GROUPS.index(r["group"]) if r["group"] in GROUPS else len(GROUPS))
        meta["merged_from"] = when
    csv_path, json_path = write_results(rows, meta, stem=opts.out)
    for leftover in RESULTS_DIR.glob(f"{opts.out}.partial.*"):
        leftover.unlink()
    print()
    print(format_table(rows))
    print(f"\n{len(rows)} figures in {meta['duration_s']:.0f} s; written to {csv_path.relative_to(ROOT)} "
          f"and {json_path.relative_to(ROOT)}")
    print("Timings are wall-clock on a possibly shared CPU: compare the ratio column, not the seconds.")
    missed = [r["figure"] for r in rows if r["met"] is False]
    if missed:
        print("Targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
