"""Benchmark: the generation page's streamed generation vs bare ``model.generate``.

Same model object (bundled SmolLM2), same prompt, same greedy settings, same process,
alternating runs, each started from a fresh thread like a Streamlit script run. Prints time to first token (s), throughput (new tokens / s over the
whole call) of both, and the ratios. Targets: throughput ratio >= 0.95,
first-token ratio <= 1.2.

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/generation.py [--tokens 64] [--repeats 5]``
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from bench import compare_streams, page_stream, print_stream_comparison  # noqa: E402
from components.catalog import SMOLLM2, get_spec  # noqa: E402
from components.generation import (  # noqa: E402
    COMPLETE,
    GenerationSettings,
    generate_kwargs,
    prepare_inputs,
)
from components.loading import load_model  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea, there lived an old fisherman who"


class _FirstTokenTimer:
    """Minimal streamer for the bare baseline: records when the first new token arrives."""

    def __init__(self):
        self.first = None
        self.seen_prompt = False

    def put(self, value):
        if not self.seen_prompt:
            self.seen_prompt = True
        elif self.first is None:
            self.first = time.perf_counter()

    def end(self):
        pass


def in_thread(fn, *args):
    """Run ``fn`` in a fresh thread, as Streamlit runs page scripts (and as the page's
    generation runs): under CPU contention torch's OpenMP pool behaves very differently in
    the main thread, so both sides are timed off the main thread for a like-for-like ratio."""
    import threading

    box = {}
    worker = threading.Thread(target=lambda: box.update(result=fn(*args)))
    worker.start()
    worker.join()
    return box["result"]


def bare(loaded, prepared, settings):
    kwargs = generate_kwargs(loaded, settings, prepared.max_new_tokens)
    timer = _FirstTokenTimer()
    start = time.perf_counter()
    with torch.inference_mode():
        out = loaded.model.generate(input_ids=prepared.input_ids, attention_mask=prepared.attention_mask,
                                    streamer=timer, **kwargs)
    end = time.perf_counter()
    n = out.shape[1] - prepared.prompt_tokens
    return {"ttft_s": timer.first - start, "tokens": n, "tokens_per_s": n / (end - start)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    loaded = load_model(get_spec(SMOLLM2))
    settings = GenerationSettings(max_new_tokens=args.tokens, do_sample=False)
    prepared = prepare_inputs(loaded, PROMPT, COMPLETE, settings.max_new_tokens)
    in_thread(page_stream, loaded, prepared, settings), in_thread(bare, loaded, prepared, settings)  # warm-up
    runs = {"page": [], "bare": []}
    for _ in range(args.repeats):  # alternate so drift hits both equally
        runs["bare"].append(in_thread(bare, loaded, prepared, settings))
        runs["page"].append(in_thread(page_stream, loaded, prepared, settings))
    result = {
        "model": loaded.spec.display_name,
        "prompt_tokens": prepared.prompt_tokens,
        **compare_streams(runs),
    }
    print(f"generation benchmark: {result['model']}, greedy, prompt {result['prompt_tokens']} tokens, "
          f"{int(result['new_tokens'])} new tokens, median of {args.repeats} alternating runs, "
          f"{os.cpu_count()} CPU cores")
    print_stream_comparison(result, "page", "bare")
    return result


if __name__ == "__main__":
    main()
