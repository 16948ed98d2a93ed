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
    from components.cache import _cached_model

    for key in routed:
        _cached_model.clear(key)


@pytest.fixture
def app():
    """A fresh AppTest of the whole app (router + pages), caches cleared."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    return at


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
