"""Benchmark: would batching concurrent visitors' decode steps over one model pay off here,
and would it keep each visitor's text the same? Bundled SmolLM2, float32, bare ``model.generate``.

Three measurements, all in one run (so machine load cancels out in the ratios):

* **gain** -- aggregate tokens/s of the prompts generated as left-padded batches of 2 and 4
  (one ``generate`` call per batch) vs the same prompts one after another (one call each);
* **greedy identity** -- for each prompt, is its greedy continuation in the padded batch
  token-for-token the one it gets alone? Counted per batch size, with the first step at which
  a row diverges, and the largest difference between the prompt's next-token logits padded in
  a batch and alone (padding and batch shape change float32 reduction order);
* **seeded sampling** -- ``generate`` draws every row from one global RNG (``torch.multinomial``
  over the whole batch; there is no per-row ``torch.Generator``), so a seeded row's text
  depends on its batch mates: counted the same way as greedy identity, same seed per prompt.

Every generation is forced to ``--tokens`` new tokens (``min_new_tokens``), so both sides
produce the same number of tokens.

Also run by ``make bench`` (figures folded into its table).

Run: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/batching.py [--tokens 32] [--repeats 3] [--markdown]``
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from components.catalog import SMOLLM2, get_spec  # noqa: E402
from components.loading import load_model  # noqa: E402

PROMPTS = [  # model input, varied lengths and scripts
    "The three primary colours are",
    "Once upon a time, in a small village by the sea, there lived an old fisherman who every morning",
    "今天的天气很好，适合出去散步。",
    "人工智能是计算机科学的一个分支，它试图理解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。",
    "def fibonacci(n):",
    "import json\n\n\ndef load_config(path):\n    \"\"\"Read a JSON config file and return it as a dict.\"\"\"\n    with open(path",
    "Water boils at",
    "In 1905, Albert Einstein published four papers that changed physics. The first explained the "
    "photoelectric effect; the second, Brownian motion; the third introduced special relativity; and the fourth",
]
SEED = 1234


def pad_id(loaded) -> int:
    tok = loaded.tokenizer
    return tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id


def encode(loaded, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ``(input_ids, attention_mask)``, both (batch, longest prompt)."""
    tok = loaded.tokenizer
    rows = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    width = max(len(r) for r in rows)
    pad = pad_id(loaded)
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
    return ids, mask


def run_batch(loaded, prompts: list[str], tokens: int, sample: bool) -> list[list[int]]:
    """New token ids of each prompt, generated together in one left-padded batch."""
    ids, mask = encode(loaded, prompts)
    kwargs = ({"do_sample": True, "temperature": 0.8, "top_k": 50, "top_p": 0.95} if sample
              else {"do_sample": False, "temperature": None, "top_k": None, "top_p": None})
    if sample:
        torch.manual_seed(SEED)  # one RNG for the whole batch: all generate offers
    with torch.inference_mode():
        out = loaded.model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=tokens,
                                    min_new_tokens=tokens, pad_token_id=pad_id(loaded), **kwargs)
    return [row[ids.shape[1]:].tolist() for row in out]


def timed_pass(loaded, size: int, tokens: int) -> tuple[float, list[list[int]]]:
    """Wall seconds to generate every prompt in batches of ``size``, and the greedy ids."""
    start, texts = time.perf_counter(), []
    for i in range(0, len(PROMPTS), size):
        texts += run_batch(loaded, PROMPTS[i:i + size], tokens, sample=False)
    return time.perf_counter() - start, texts


def first_divergence(a: list[int], b: list[int]) -> int | None:
    """Index of the first differing token, or None when equal."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None if len(a) == len(b) else min(len(a), len(b)))


def logit_gap(loaded, size: int) -> float:
    """Largest |next-token logit| difference of any prompt, padded in its batch vs alone."""
    gap = 0.0
    with torch.inference_mode():
        for i in range(0, len(PROMPTS), size):
            group = PROMPTS[i:i + size]
            ids, mask = encode(loaded, group)
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            batched = loaded.model(input_ids=ids, attention_mask=mask, position_ids=pos).logits[:, -1].float()
            for row, prompt in enumerate(group):
                one, one_mask = encode(loaded, [prompt])
                solo = loaded.model(input_ids=one, attention_mask=one_mask).logits[0, -1].float()
                gap = max(gap, float((batched[row] - solo).abs().max()))
    return gap


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="new tokens per prompt")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (docs/performance.md)")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    loaded = load_model(get_spec(SMOLLM2))
    run_batch(loaded, PROMPTS[:2], 2, sample=False)  # warm-up

    sizes = (1, 2, 4)
    walls: dict[int, list[float]] = {s: [] for s in sizes}
    greedy: dict[int, list[list[int]]] = {}
    for _ in range(args.repeats):  # interleaved, so a load spike hits every size alike
        for s in sizes:
            wall, ids = timed_pass(loaded, s, args.tokens)
            walls[s].append(wall)
            greedy[s] = ids
    total = len(PROMPTS) * args.tokens
    rate = {s: total / statistics.median(walls[s]) for s in sizes}

    sampled = {s: [ids for i in range(0, len(PROMPTS), s)
                   for ids in run_batch(loaded, PROMPTS[i:i + s], args.tokens, sample=True)] for s in sizes}
    figures = []
    for s in sizes[1:]:
        div = [first_divergence(a, b) for a, b in zip(greedy[1], greedy[s])]
        sdiv = [first_divergence(a, b) for a, b in zip(sampled[1], sampled[s])]
        figures.append({
            "batch": s, "tokens_per_s": rate[s], "baseline_tokens_per_s": rate[1], "ratio": rate[s] / rate[1],
            "greedy_identical": sum(d is None for d in div), "greedy_first_divergence": div,
            "logit_gap": logit_gap(loaded, s),
            "sampled_identical": sum(d is None for d in sdiv), "sampled_first_divergence": sdiv,
        })
        f = figures[-1]
        f.update(figure=f"aggregate tokens/s, padded batches of {s} vs one after another (bare generate)",
                 value=f["tokens_per_s"], baseline=rate[1], unit="tokens/s",
                 note=f"greedy text identical {f['greedy_identical']}/{len(PROMPTS)}, seeded text identical "
                      f"{f['sampled_identical']}/{len(PROMPTS)}, max |logit gap| {f['logit_gap']:.1e}")
    meta = {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()], "tokens": args.tokens,
            "prompts": len(PROMPTS), "repeats": args.repeats,
            "prompt_tokens": [len(loaded.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in PROMPTS]}
    print(f"batching benchmark: {loaded.spec.display_name}, float32, {len(PROMPTS)} prompts "
          f"({min(meta['prompt_tokens'])}-{max(meta['prompt_tokens'])} tokens) x {args.tokens} new tokens, "
          f"{meta['cores']} cores, load average {meta['loadavg_start'][0]} -> {meta['loadavg_end'][0]}")
    print(f"one after another: {rate[1]:.1f} tokens/s")
    for f in figures:
        print(f"batch of {f['batch']}: {f['tokens_per_s']:.1f} tokens/s (x{f['ratio']:.2f}); greedy identical "
              f"{f['greedy_identical']}/{len(PROMPTS)}, first divergence {f['greedy_first_divergence']}, "
              f"max |logit gap| {f['logit_gap']:.2e}; seeded sampling identical {f['sampled_identical']}/"
              f"{len(PROMPTS)}, first divergence {f['sampled_first_divergence']}")
    if args.markdown:
        print()
        print(markdown(figures, meta, rate[1]))
    print("JSON " + json.dumps({"figures": figures, "meta": meta}))
    return {"figures": figures, "meta": meta}


def _divergence(steps: list[int | None]) -> str:
    return ", ".join("=" if d is None else str(d) for d in steps)


def markdown(figures: list[dict], meta: dict, solo: float) -> str:
    """Markdown table, headed by when and under which load it was measured."""
    n = meta["prompts"]
    lines = [f"Measured {meta['date_utc']} with `python bench/batching.py --markdown`: {meta['cores']} cores, "
             f"torch {meta['torch']} ({meta['torch_threads']} threads), load average "
             f"{meta['loadavg_start'][0]} at start, {meta['loadavg_end'][0]} at end; {n} prompts of "
             f"{min(meta['prompt_tokens'])}-{max(meta['prompt_tokens'])} tokens (English, Chinese, code), "
             f"{meta['tokens']} new tokens each, median of {meta['repeats']}. One after another: "
             f"{solo:.1f} tokens/s.", "",
             "| batch | tokens/s | × one after another | greedy text identical | first divergent step per prompt "
             "| max \\|Δ logit\\| at the prompt | seeded text identical |",
             "|---:|---:|---:|---:|---|---:|---:|"]
    for f in figures:
        lines.append(f"| {f['batch']} | {f['tokens_per_s']:.1f} | {f['ratio']:.2f} | {f['greedy_identical']}/{n} "
                     f"| {_divergence(f['greedy_first_divergence'])} | {f['logit_gap']:.1e} "
                     f"| {f['sampled_identical']}/{n} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
