"""Start ``transformers serve`` (the OpenAI-compatible server that ships with transformers,
``transformers[serving]``: FastAPI + uvicorn) on localhost, serving the bundled SmolLM2 from
the app's converted safetensors cache, offline, as ``scripts/serve_bundled.py`` does.

The served model's name is the folder it was started on (``transformers serve`` pins the
server to it and answers 400 to any other name). Readiness is the server's own signal:
``GET /health`` answers 200. One torch thread: the other test worker shares the cores, and
two spinning threads on a busy machine make decoding several times slower.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
from pathlib import Path

from tests.openai_wire import free_port
from tests.server_process import log_tail, running_server


def serving_available() -> bool:
    """Whether ``transformers serve`` can run here (it needs FastAPI and uvicorn)."""
    return all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn"))


class ServerProcess:
    """A running ``transformers serve``: ``base_url``, ``model`` (the name it serves),
    ``proc`` (its ``subprocess.Popen``) and ``log`` (its output file)."""

    def __init__(self, base_url: str, model: str, proc: subprocess.Popen, log: Path):
        self.base_url, self.model, self.proc, self.log = base_url, model, proc, log

    def log_tail(self, n: int = 3000) -> str:
        return log_tail(self.log, n)


@contextlib.contextmanager
def running_transformers_server(log_dir: Path, ready_timeout_s: float = 300.0):
    """Yield a :class:`ServerProcess` of ``transformers serve`` on the bundled SmolLM2
    (:func:`scripts.serve_bundled.serving_folder`, built in ``log_dir``) on a free port of
    127.0.0.1 with ``HF_HUB_OFFLINE=1``; always stop it afterwards (terminate, then kill).

    Raises:
        RuntimeError: FastAPI/uvicorn or the bundled model are missing, or the server exited
            or did not answer ``/health`` within ``ready_timeout_s`` (its log attached).
    """
    from scripts.serve_bundled import command, serving_folder

    if not serving_available():
        raise RuntimeError("transformers serve needs fastapi and uvicorn (requirements-dev.txt)")
    folder = serving_folder(Path(log_dir) / "smollm2-serve")
    port = free_port()
    log = Path(log_dir) / "transformers_serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": "1"}
    with running_server(command(folder, port), f"http://127.0.0.1:{port}/health", log, "transformers serve",
                        ready_timeout_s, env) as proc:
        yield ServerProcess(f"http://127.0.0.1:{port}/v1", str(folder), proc, log)
