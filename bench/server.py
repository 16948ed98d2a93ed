"""Benchmark: generation through the app's model-server client vs the same server called
directly with the same ``openai`` client.

Same server, same prompt, same request (built once by ``components.server.request_params``:
greedy, seed, logprobs), same process, alternating runs. The app side is
``components.server.ServerStream`` (retries, time budget, logprobs parsing, stats). The
direct side is a bare ``client.chat.completions.create(stream=True)`` loop. Prints the time
to first token (s) and the throughput (text chunks / s over the whole call, one chunk per token) of both, and
their ratios. Targets: throughput ratio >= 0.95, first-token ratio <= 1.2.

The server is, in order: ``--base-url`` / ``--model`` (any OpenAI-compatible server);
``--transformers-serve``: ``transformers serve`` started here on the bundled SmolLM2 (see
``tests/transformers_server.py``; it returns no logprobs); llama.cpp's
``llama_cpp.server`` on the bundled SmolLM2 GGUF when it is installed (see
``tests/llama_cpp_server.py``); else the local wire-format server of the tests, streaming a
fixed script with ``--token-delay`` seconds per token (this measures the client's own
overhead only).

With a real model server, the same prompt also runs through the bundled torch path
(``components.generation.GenerationStream`` on SmolLM2 in float32, in this process) in the same
alternation, so the server's speed on this machine is seen next to the page's own model
(``--no-torch`` skips it).

Run: ``.venv/bin/python bench/server.py [--tokens 32] [--repeats 5] [--mode chat] [--transformers-serve]``
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import compare_streams, page_stream, print_stream_comparison  # noqa: E402
from components import server as srv  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


class _Settings:
    """Greedy decoding of ``tokens`` new tokens (the fields ``request_params`` reads)."""

    def __init__(self, tokens: int):
        self.max_new_tokens, self.do_sample, self.temperature, self.top_p = tokens, False, 1.0, 1.0
        self.top_k, self.repetition_penalty, self.no_repeat_ngram_size, self.seed = 0, 1.0, 0, 42


def app_side(endpoint, params) -> dict:
    stream = srv.ServerStream(endpoint, params, max_seconds=600)
    start = time.perf_counter()
    chunks = sum(1 for _ in stream)  # text chunks, counted as the direct side counts them
    end = time.perf_counter()
    if stream.error:
        raise RuntimeError(f"server error: {stream.error}")
    return {"ttft_s": stream.stats["ttft_s"], "tokens": chunks, "tokens_per_s": chunks / max(end - start, 1e-9)}


def bundled_torch(tokens: int):
    """``(loaded, prepared, settings)`` of the bundled SmolLM2 for ``bench.page_stream`` (greedy)."""
    from components.catalog import SMOLLM2, get_spec
    from components.generation import COMPLETE, GenerationSettings, prepare_inputs
    from components.loading import load_model

    loaded = load_model(get_spec(SMOLLM2))
    settings = GenerationSettings(max_new_tokens=tokens, do_sample=False)
    return loaded, prepare_inputs(loaded, PROMPT, COMPLETE, tokens), settings


def direct_side(client, params) -> dict:
    kwargs = dict(params)
    start = time.perf_counter()
    first, chunks = None, 0
    create = client.chat.completions.create if "messages" in kwargs else client.completions.create
    for chunk in create(**kwargs):
        for choice in chunk.choices:
            text = choice.delta.content if hasattr(choice, "delta") else choice.text
            if text:
                first = first or time.perf_counter()
                chunks += 1
    end = time.perf_counter()
    return {"ttft_s": (first or end) - start, "tokens": chunks, "tokens_per_s": chunks / (end - start)}


@contextlib.contextmanager
def a_server(args, workdir: Path):
    """``(base_url, model, description)`` of the server to measure."""
    if args.base_url:
        yield args.base_url, args.model, f"{args.model} at {args.base_url}"
        return
    if args.transformers_serve:
        from tests.transformers_server import running_transformers_server

        with running_transformers_server(workdir) as server:
            yield server.base_url, server.model, "transformers serve, bundled SmolLM2-135M (converted safetensors)"
        return
    from tests.llama_cpp_server import llama_cpp_python, running_llama_cpp_server

    if llama_cpp_python() is not None:
        with running_llama_cpp_server(workdir) as (url, model):
            yield url, model, "llama_cpp.server, bundled SmolLM2-135M GGUF"
        return
    from tests.openai_wire import WireServer

    script = [(f" w{i}", -0.1, [(f" w{i}", -0.1), (" x", -2.5)]) for i in range(args.tokens)]
    with WireServer(script) as wire:
        wire.token_delay = args.token_delay
        yield wire.base_url, wire.served_model, f"local wire-format server, {args.token_delay} s per token"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mode", choices=(srv.COMPLETE, srv.CHAT), default=srv.COMPLETE)
    parser.add_argument("--base-url")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--no-torch", action="store_true", help="skip the bundled torch path")
    parser.add_argument("--transformers-serve", action="store_true",
                        help="start transformers serve on the bundled SmolLM2 and measure against it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, a_server(args, Path(tmp)) as (url, model, what):
        endpoint = srv.Endpoint(id="bench", base_url=url, model=model, timeout_s=300, retries=0, top_logprobs=5)
        params, _ = srv.request_params(endpoint, PROMPT, args.mode, _Settings(args.tokens))
        client = srv.client_for(endpoint)  # the very client the app uses, connection pool included
        app_side(endpoint, params), direct_side(client, params)  # warm-up
        local = None if args.no_torch or "wire-format" in what else bundled_torch(args.tokens)
        runs = {"page": [], "bare": [], "torch": []}
        for i in range(args.repeats):  # alternate, and swap who goes first, so drift and caches hit both equally
            pair = [("bare", lambda: direct_side(client, params)), ("page", lambda: app_side(endpoint, params))]
            if local is not None:
                pair.append(("torch", lambda: page_stream(*local)))
            for side, call in pair if i % 2 == 0 else pair[::-1]:
                runs[side].append(call())
    torch_runs = runs.pop("torch")
    result = {
        "server": what,
        "mode": args.mode,
        **compare_streams(runs),
        "load_average": os.getloadavg()[0],
    }
    print(f"model-server benchmark: {what}, {args.mode}, greedy, {int(result['new_tokens'])} new tokens, "
          f"median of {args.repeats} alternating runs, load average {result['load_average']:.1f}")
    print_stream_comparison(result, "app", "direct")
    if torch_runs:
        tps = statistics.median(r["tokens_per_s"] for r in torch_runs)
        ttft = statistics.median(r["ttft_s"] for r in torch_runs)
        result.update(torch_tokens_per_s=tps, torch_ttft_s=ttft,
                      server_vs_torch_tokens_per_s=result["bare_tokens_per_s"] / tps)
        print(f"bundled torch path (float32, in this process): {tps:.2f} tokens/s, first token {ttft:.3f} s; "
              f"server called directly / torch path: {result['server_vs_torch_tokens_per_s']:.2f}x tokens/s")
        print("JSON " + json.dumps(result))
    return result


if __name__ == "__main__":
    main()
