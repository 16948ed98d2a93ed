"""The background warm-up and a page's model load never race each other's imports.

transformers replaces its own entry in ``sys.modules`` (a lazy module) at the end of its
``__init__``. A thread that imports ``transformers`` while another thread is still running
that ``__init__`` waits for it and is then handed the *old*, half-built module object, so
``from transformers import AutoModelForCausalLM`` fails with ImportError. Every import of
the heavy libraries therefore runs under the loader's lock (``components.loading``).

The race test forces the bad interleaving instead of hoping for it: in a fresh interpreter
an import hook pauses the warm-up thread *inside* ``transformers.__init__`` until another
thread is either waiting for that module (the race) or waiting for the loader's lock (the
fix), then lets it go on.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RACE_SCRIPT = r'''
import json, linecache, os, sys, threading, time
sys.path.insert(0, os.getcwd())

warm_paused = threading.Event()
released = threading.Event()
page_started = threading.Event()
page_thread = {}


def other_thread_is_waiting() -> bool:
    """True when a thread other than the warm-up waits for the half-imported transformers
    (an importlib module lock) or for the loader's lock."""
    for ident, frame in sys._current_frames().items():
        if ident in (threading.get_ident(), page_thread.get("warm")):
            continue
        top = frame
        while frame is not None:
            name = frame.f_code.co_name
            if frame.f_code.co_filename.startswith("<frozen importlib") and name in (
                    "_lock_unlock_module", "acquire"):
                return True
            frame = frame.f_back
        line = linecache.getline(top.f_code.co_filename, top.f_lineno)
        if "LOAD_LOCK" in line:
            return True
    return False


class PausingLoader:
    """Runs the real loader of a transformers submodule after pausing (outside the global
    import lock, which importlib holds only while finders run)."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        page_thread["warm"] = threading.get_ident()
        warm_paused.set()
        page_started.wait(300)
        deadline = time.monotonic() + 120
        while not other_thread_is_waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        released.set()
        self.real.exec_module(module)


class PauseInsideTransformers:
    """Meta-path hook: the first submodule of transformers the warm-up thread imports (so
    ``transformers.__init__`` is half done) pauses until a page thread is waiting too."""

    def find_spec(self, fullname, path=None, target=None):
        if (not warm_paused.is_set() and threading.current_thread().name == "llm-lab-warmup"
                and fullname.startswith("transformers.") and fullname.count(".") == 1):
            import importlib.machinery
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                warm_paused.set()
                spec.loader = PausingLoader(spec.loader)
                return spec
        return None


sys.meta_path.insert(0, PauseInsideTransformers())

from components import warmup
from components.catalog import SMOLLM2

warmup.start()
assert warm_paused.wait(300), "the warm-up never imported transformers"
outcome = {}
page_started.set()
try:
    from components.cache import get_model  # the page's path: ui.load_or_explain -> get_model
    loaded = get_model(SMOLLM2)
    with loaded.lock:
        ids = loaded.tokenizer("The capital of France is", return_tensors="pt")
        logits = loaded.model(**ids).logits
    outcome = {"ok": True, "released": released.is_set(), "shape": list(logits.shape),
               "finite": bool(logits.isfinite().all())}
except Exception as exc:
    outcome = {"ok": False, "released": released.is_set(), "error": f"{type(exc).__name__}: {exc}"}
print("RESULT " + json.dumps(outcome), flush=True)
'''


@pytest.mark.slow
def test_warmup_and_first_page_load_do_not_race(tmp_path):
    """Fresh server state (empty model cache, nothing imported), warm-up paused inside
    ``transformers.__init__`` while the first page asks for SmolLM2: the page gets the model."""
    env = dict(os.environ, LLM_LAB_CACHE_DIR=str(tmp_path / "cache"), HF_HUB_OFFLINE="1")
    env.pop("LLM_LAB_NO_WARMUP", None)
    proc = subprocess.run([sys.executable, "-c", RACE_SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-4000:]
    outcome = json.loads(lines[-1][len("RESULT "):])
    assert outcome["released"], outcome  # the interleaving really happened
    assert outcome["ok"], outcome
    assert outcome["finite"] and outcome["shape"][:2] == [1, 5] and outcome["shape"][2] > 1000


# ------------------------------------------------------------------ every heavy import is covered
HEAVY = ("transformers", "sentence_transformers", "sklearn", "safetensors")


def _call_time_imports() -> list[tuple[str, str, str]]:
    """(file, module, name) of each ``from <heavy> import name`` inside a function of the
    pages and compute modules (module-level ones run when the page script is imported)."""
    found = []
    files = [*sorted((ROOT / "components").rglob("*.py")), *sorted((ROOT / "app_pages").glob("*.py"))]
    for path in files:
        if path.parent.name == "loading" or path.name == "warmup.py":
            continue  # they import under the loader's lock
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in HEAVY:
                found += [(path.name, node.module, a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                found += [(path.name, a.name, "") for a in node.names if a.name.split(".")[0] in HEAVY]
    return found


def test_every_call_time_library_import_is_preloaded_under_the_lock():
    """Pages and compute modules import transformers / sklearn names when they run; each of
    those names must be among the ones ``loading.import_libraries`` resolves under the
    loader's lock, so at call time the import is a plain attribute read, never a lazy import
    racing a model load in another session."""
    from components.loading import PRELOADED

    imports = _call_time_imports()
    assert imports  # the scan sees the real imports (generation, classification ...)
    missing = [(f, m, n) for f, m, n in imports if n not in PRELOADED.get(m, ()) and
               not (n == "" and m in PRELOADED)]
    assert missing == []


def test_import_libraries_resolves_every_preloaded_name():
    from components import loading

    loading.import_libraries()
    assert loading.libraries_ready()
    for module, names in loading.PRELOADED.items():
        mod = sys.modules[module]
        for name in names:
            assert name in vars(mod), (module, name)  # resolved, not left to a lazy __getattr__


# ------------------------------------------------------------------ the progress display
def test_progress_bar_moves_during_a_long_stage_and_speaks_the_ui_language():
    """One preparation stuck in "dequantize" for a while: the bar's position grows with the
    elapsed time without reaching the end, and the text names the stage and the seconds in
    English and Chinese."""
    from components import cache, loading, ui

    job = loading.Preparation("smollm2-135m-instruct")
    job.report(0.05 + 0.85 * 0.15, "dequantize")
    t0 = job.stage_started
    positions = [cache.shown_fraction(job, t0 + s) for s in (0, 5, 20, 60, 600)]
    assert positions[0] == pytest.approx(job.fraction)
    assert all(a < b for a, b in zip(positions, positions[1:]))
    assert positions[-1] < 0.99
    job.report(0.9, "load")  # the next stage starts from its own fraction
    assert cache.shown_fraction(job, job.stage_started) == pytest.approx(0.9)
    job.report(0.5, "load")  # a late, lower report never moves the bar back
    assert job.fraction == pytest.approx(0.9)

    texts = {}
    for lang in ("en", "zh"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(ui, "lang", lambda code=lang: code)
            job.stage, job.started = "dequantize", t0 - 12.4
            texts[lang] = cache.progress_text(job, "SmolLM2", t0)
    assert "float32" in texts["en"] and "SmolLM2" in texts["en"] and "12 s" in texts["en"]
    assert "float32" in texts["zh"] and "12 秒" in texts["zh"] and "正在准备" in texts["zh"]


def test_every_loader_stage_has_a_sentence_in_both_languages():
    from components import i18n

    stages = ("waiting", "libraries", "load", "tokenizer", "dequantize", "write", "check", "done")
    for lang in i18n.LANGS:
        for stage in stages:
            text = i18n.translate(lang, f"ui.model.stage.{stage}", name="M")
            assert "M" in text and text != f"ui.model.stage.{stage}"


def test_conversion_reports_stage_codes_and_takes_the_inter_process_lock(tmp_path, monkeypatch):
    """The conversion lock is a ``filelock`` lock (POSIX and Windows): while another holder
    (another server) has it, a conversion waits and reports nothing."""
    from filelock import FileLock, Timeout

    from components.loading import gguf_cache

    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(tmp_path))
    lock_path = tmp_path / ".smollm2-135m-instruct.lock"
    holder = gguf_cache._file_lock(lock_path)
    assert isinstance(holder, FileLock)
    with holder:
        with pytest.raises(Timeout):
            FileLock(str(lock_path)).acquire(timeout=0.2)  # held: a second process would wait
    FileLock(str(lock_path)).acquire(timeout=5)  # released
    assert not [p.name for p in (ROOT / "components" / "loading").glob("*.py") if "fcntl" in p.read_text(encoding="utf-8")]


# ------------------------------------------------------------------ the error box
def test_load_error_details_are_literal_and_a_retry_clears_them(app, monkeypatch):
    """A load that fails once with the library's own message (a path with ``__init__.py``,
    quotes, parentheses): the error box shows it character for character -- no bold
    "init.py" -- and the user's rerun loads the model, with no error box left."""
    from components import cache
    from components.catalog import SMOLLM2, get_spec
    from components.textio import markdown_literal

    detail = ("cannot import name 'AutoModelForCausalLM' from 'transformers' "
              "(/site-packages/transformers/__init__.py) *[x](y)* $a$")
    real, calls = cache.load_model, []

    def fails_once(spec, *args, **kwargs):
        calls.append(spec.key)
        if len(calls) == 1:
            raise ImportError(detail)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(cache, "load_model", fails_once)
    cache.forget(SMOLLM2)
    at = app
    at.run()
    at.switch_page("app_pages/generation.py")
    at.run()
    assert not at.exception
    [box] = at.error
    assert markdown_literal(detail) in box.value  # every markdown character escaped
    assert get_spec(SMOLLM2).display_name in box.value.replace("\\", "")
    assert detail in box.value.replace("\\", "")  # and nothing else changed
    at.run()  # retry
    assert not at.exception
    assert not at.error
    assert calls == [SMOLLM2, SMOLLM2] and at.get("plotly_chart")
