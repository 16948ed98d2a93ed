"""Benchmark of "Inside the prediction": logit lens, one ablation and the head scan, each as
a ratio to ONE plain forward pass of the same model on the same tokens.

Run: ``HF_HUB_OFFLINE=1 python bench/lens.py`` (from the repo root, venv active).

For the bundled SmolLM2 at 16 and 128 tokens it measures
* ``bare forward``: ``model(input_ids)`` (the library alone, logits of every position);
* ``logit_lens``: one forward with hidden states + final norm, ``lm_head`` and softmax for
  every layer (``layers + 1`` unembeddings of ``seq × vocab``);
* ``ablate_heads``: one head zero-ablated (intact run + ablated run, no continuation);
* ``scan_heads``: one whole layer (one batched forward, a row per head), reported per head.
Times are the median of ``REPEATS`` runs after one warm-up, in seconds; compare the ratios
(absolute times depend on the machine and its load). Machine-readable figures are printed
as ``JSON {...}`` lines for ``python -m bench``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import median_time  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPEATS = 3
SIZES = (16, 128)
TEXT = (
    "The animal didn't cross the street because it was too tired, so it lay down and slept. "
    "今天的天气很好，适合出去散步。 The capital of France is Paris, and the capital of Germany is Berlin. "
) * 12


def main() -> None:
    import torch

    from components.ablation import ablate_heads, scan_heads
    from components.catalog import SMOLLM2, get_spec
    from components.lens import logit_lens
    from components.loading import load_model

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    load_start = os.getloadavg()
    loaded = load_model(get_spec(SMOLLM2))
    ids_all = loaded.tokenizer(TEXT, add_special_tokens=True)["input_ids"]
    layer = loaded.model.config.num_hidden_layers // 2
    heads = loaded.model.config.num_attention_heads
    lines = ["| model | tokens | bare forward (s) | logit_lens (s) | ratio | ablate 1 head (s) | ratio "
             "| scan per head (s) | ratio | lens last-row max abs diff |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in SIZES:
        ids = ids_all[:n]
        x = torch.tensor([ids])

        def bare(x=x):
            with torch.inference_mode():
                return loaded.model(input_ids=x).logits

        t_bare, logits = median_time(bare, REPEATS)
        t_lens, res = median_time(lambda ids=ids: logit_lens(loaded, input_ids=ids, keep_logits=(-1,)), REPEATS)
        diff = float((torch.from_numpy(res.logits[res.num_layers]) - logits[0].float()).abs().max())
        t_abl, _ = median_time(lambda ids=ids: ablate_heads(loaded, ids, [(layer, 0)]), REPEATS)
        t_scan, scan = median_time(lambda ids=ids: scan_heads(loaded, ids, [layer]), REPEATS)
        per_head = t_scan / len(scan.rows)
        lines.append(f"| {SMOLLM2} | {len(ids)} | {t_bare:.3f} | {t_lens:.3f} | {t_lens / t_bare:.2f} | {t_abl:.3f} "
                     f"| {t_abl / t_bare:.2f} | {per_head:.3f} | {per_head / t_bare:.2f} | {diff:.1e} |")
        for name, value in (("logit lens", t_lens), ("ablate one head", t_abl), ("scan, per head", per_head)):
            print("JSON " + json.dumps({"figure": f"{name} ({len(ids)} tokens) vs one forward", "value": value,
                                        "baseline": t_bare, "unit": "s"}), flush=True)
    end = os.getloadavg()
    table = "\n".join(lines) + (
        f"\n\n{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"layer {layer} ({heads} heads) ablated/scanned; load average (1/5/15 min) "
        f"{load_start[0]:.1f}/{load_start[1]:.1f}/{load_start[2]:.1f} at start, "
        f"{end[0]:.1f}/{end[1]:.1f}/{end[2]:.1f} at end (compare the ratio columns).")
    print()
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "lens.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
