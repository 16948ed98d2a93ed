"""Shared fixtures: bundled models loaded once per test session, tiny Hub-architecture
models on disk, and AppTest helpers. The Hub is never contacted (HF_HUB_OFFLINE=1)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# AppTest runs app.py in this process: its background warm-up would load models beside the
# tests (which patch loaders and cache paths); servers started by browser tests keep it.
from components import warmup  # noqa: E402

warmup.disable()
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def smollm2():
    """The bundled SmolLM2-135M-Instruct as the app loads it (converted GGUF)."""
    from components.catalog import SMOLLM2, get_spec
    from components.loading import load_model

    return load_model(get_spec(SMOLLM2))


@pytest.fixture(scope="session")
def minilm():
    """The bundled all-MiniLM-L6-v2 as the app loads it (sentence-transformers)."""
    from components.catalog import MINILM, get_spec
    from components.loading import load_model

    return load_model(get_spec(MINILM))


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory):
    from tests.tiny_models import make_tiny_gpt2

    return make_tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory):
    from tests.tiny_models import make_tiny_bert

    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture
def as_local_model(monkeypatch):
    """Point a catalog key at a directory (the operator local-directory source).

    Usage: ``as_local_model("gpt2", tiny_gpt2_dir)``."""
    from components.catalog import get_spec

    routed: list[str] = []

    def _set(key: str, path: Path) -> None:
        monkeypatch.setenv(get_spec(key).local_dir_env, str(path))
        routed.append(key)

    yield _set
    # the app's model cache outlives an AppTest: drop the tiny stand-ins so later tests see
    # the Hub-only model as unavailable again (bundled models stay cached)
    from components.cache import forget

    for key in routed:
        forget(key)


@pytest.fixture
def app(request):
    """A fresh AppTest of the whole app (router + pages: a new session).

    ``st.cache_data`` (results keyed on model key and inputs, shared by sessions as in the
    served app) is kept between tests, except for a test that also uses ``monkeypatch``: it
    may swap what a cached function computes with (a stand-in model, a cap), so it starts
    from an empty cache and leaves one behind."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    patches = "monkeypatch" in request.fixturenames
    if patches:
        st.cache_data.clear()
    yield AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if patches:
        st.cache_data.clear()


def plotly_array(value):
    """A plotly JSON array as a list: plain lists, or plotly's typed arrays
    (``{"dtype": "f8", "bdata": <base64>, "shape": ...}``) decoded with numpy."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = value["shape"]
            arr = arr.reshape([int(s) for s in str(shape).split(",")] if isinstance(shape, str) else shape)
        return arr.tolist()
    return list(value)


# ====================================================================== test tiers
# Every test gets exactly one tier marker, chosen from what it uses (its own code, the
# module-level helpers it calls and its fixtures, followed transitively):
#   browser -- under tests/browser (a live server + Chromium);
#   apptest -- drives the app through Streamlit's AppTest (the ``app`` fixture or AppTest);
#   unit    -- everything else (functions on real models and tensors, no script runs).
# ``slow`` is added on top for the long sweeps named in SLOW_USES. `make test-fast` runs
# ``-m unit`` (what a developer runs before a commit); `make test` (CI) runs every tier.
APPTEST_FIXTURES = {"app"}
APPTEST_USES = {"AppTest"}
SLOW_USES = {
    # a fixture, or "<test module>::<name>" (a helper of that module / a name its code reads)
    "pristine_cache": "the session's private GGUF conversion of SmolLM2 (~30 s)",
    "test_curated::builder": "recomputes every curated presenter example on the live models",
    "session_for": "the hostile sweep: every text widget of a page gets every payload",
    "test_hostile::open_page": "hostile links / forged pickers: a fresh app session per case",
    "threading": "concurrency: sessions generating at the same time in threads",
    "running_transformers_server": "a real transformers serve process decoding SmolLM2 (about a minute)",
}
"""What makes a test ``slow`` (added on top of its tier), and why."""
SLOW_TESTS = {
    # real GGUF work that the names a test uses do not reveal (a plain call of the converter /
    # get_model, which other tests make cheaply: on a valid cache, or failing fast)
    "test_partial_or_corrupt_gguf_cache_is_rebuilt": "converts SmolLM2's GGUF again (~30 s)",
    "test_unwritable_cache_still_loads_from_gguf_with_notice": "loads SmolLM2 straight from its GGUF (~30 s)",
}


def _code_names(code) -> set[str]:
    """Global / attribute / imported names a code object refers to, nested code included,
    and identifier-like string constants (``monkeypatch.setattr(mod, "name", ...)``)."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
        elif isinstance(const, str) and const.isidentifier():
            names.add(const)
    return names


def _uses(item) -> set[str]:
    """Names reachable from ``item``: its fixtures' names, and the names in the code of the
    test, its fixtures and every same-module / tests-package function they call."""
    import inspect

    module = getattr(item, "module", None)
    found: set[str] = set(getattr(item, "fixturenames", ()))
    todo = []
    func = getattr(item, "function", None)
    if func is not None:
        todo.append(func)
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        todo += [d.func for d in defs]
    seen: set[int] = set()
    while todo:
        fn = inspect.unwrap(todo.pop())
        code = getattr(fn, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        names = _code_names(code)
        stem = getattr(fn, "__module__", "").rpartition(".")[2]
        found |= names | {f"{stem}::{n}" for n in names}
        for name in names:
            target = getattr(module, name, None) if module else None
            if (callable(target) and getattr(target, "__module__", "").startswith("tests")
                    and hasattr(inspect.unwrap(target), "__code__")):
                todo.append(target)
    return found


def pytest_itemcollected(item):
    """Tier of each test as it is collected (before ``-m`` selects)."""
    path = Path(str(item.fspath))
    if "browser" in path.relative_to(ROOT).parts[:2]:
        tier = "browser"
        uses = set()
    else:
        uses = _uses(item)
        apptest = uses & APPTEST_USES or set(getattr(item, "fixturenames", ())) & APPTEST_FIXTURES
        tier = "apptest" if apptest else "unit"
    item.add_marker(getattr(pytest.mark, tier))
    if (tier == "browser" and path.stem == "test_concurrency") or uses & set(SLOW_USES) \
            or getattr(item, "originalname", item.name) in SLOW_TESTS:
        item.add_marker(pytest.mark.slow)
