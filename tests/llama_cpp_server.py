"""Start llama.cpp's OpenAI-compatible server (``python -m llama_cpp.server``, from the
optional package ``llama-cpp-python[server]``) on localhost, serving the bundled SmolLM2 GGUF.

The interpreter that runs it is this one when it can import ``llama_cpp.server``, else the one
named by ``LLM_LAB_LLAMA_CPP_PYTHON`` (a separate environment, so the app's own environment
need not build llama.cpp). Readiness is the server's own signal: ``GET /v1/models`` answers.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path

from tests.openai_wire import free_port
from tests.server_process import running_server

PYTHON_ENV = "LLM_LAB_LLAMA_CPP_PYTHON"
MODEL_ALIAS = "smollm2"


def llama_cpp_python() -> str | None:
    """An interpreter with ``llama_cpp.server`` importable, or None."""
    if os.environ.get(PYTHON_ENV):
        return os.environ[PYTHON_ENV]
    try:
        found = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None
    except (ImportError, ValueError):
        found = False
    return sys.executable if found else None


def bundled_gguf() -> Path | None:
    """The bundled SmolLM2 GGUF (found as the app finds it: ``components.loading.bundled_dir``)."""
    from components.catalog import SMOLLM2, get_spec
    from components.loading import bundled_dir

    spec = get_spec(SMOLLM2)
    folder = bundled_dir(spec)
    return folder / spec.gguf_file if folder is not None else None


@contextlib.contextmanager
def running_llama_cpp_server(log_dir: Path, ready_timeout_s: float = 600.0, python: str | None = None):
    """Yield ``(base_url, model_name)`` of a running ``llama_cpp.server``; stop it afterwards.

    Raises:
        RuntimeError: no interpreter with the server, no bundled GGUF, or the server exited
            or did not answer ``/v1/models`` within ``ready_timeout_s`` (its log attached).
    """
    exe = python or llama_cpp_python()
    gguf = bundled_gguf()
    if exe is None or gguf is None:
        raise RuntimeError("llama_cpp.server or the bundled GGUF is not available")
    port = free_port()
    log = Path(log_dir) / "llama_cpp_server.log"
    command = [exe, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "1"]
    base_url = f"http://127.0.0.1:{port}/v1"
    with running_server(command, base_url + "/models", log, "llama_cpp.server", ready_timeout_s):
        yield base_url, MODEL_ALIAS
