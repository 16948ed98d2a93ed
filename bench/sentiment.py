"""Held-out accuracy and speed of every sentiment approach of the Sentiment page.

Run: ``HF_HUB_OFFLINE=1 python bench/sentiment.py`` (``--skip-llm`` leaves out the slowest
approach; ``--few-shot`` adds the few-shot prompting variant; ``--prefix-only`` runs only the
shared-prefix comparison below).

On ``data/sentiment/test.csv`` (170 held-out sentences, never trained on), in one process:

* VADER (rules); page path ``components.sentiment.vader_predict`` vs bare
  ``SentimentIntensityAnalyzer.polarity_scores`` in a loop;
* MiniLM + logistic-regression head, trained here on ``train.csv`` (fixed seed); page path
  ``head_predict`` vs bare ``SentenceTransformer.encode`` + ``predict_proba``;
* SmolLM2-135M-Instruct prompting with the page's default prompt, accuracy before and after
  contextual calibration (the page's batched, left-padded scoring);
* DistilBERT SST-2 when the Hub (or a local directory) can provide it, else its
  "unavailable" message;
* SmolLM2 prompting with word weights on one ~20-word and one ~60-word review: the page's
  path (each shared prompt prefix read once into a KV cache) vs a full forward of every
  prompt (left-padded batches of 8), CPU time of ``llm_sentiment``, alternated in one process,
  median of the repeats; the two paths' largest P(positive) / weight difference is printed.

Prints a table, then one JSON line per figure (``{"figure", "value", "unit", "baseline", "note"}``)
for ``python -m bench`` to fold in. Time per text is wall time / texts (CPU, shared machine:
compare the ratios, not the absolute seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-llm", action="store_true", help="leave out SmolLM2 prompting")
    parser.add_argument("--few-shot", action="store_true", help="also evaluate the few-shot prompt")
    parser.add_argument("--prefix-only", action="store_true", help="only the shared-prefix comparison")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each path per review (median)")
    args = parser.parse_args()
    if args.prefix_only:
        for fig in prefix_comparison(args.repeats):
            print(json.dumps(fig))
        return 0

    from components import probe
    from components import sentiment as S
    from components.catalog import MINILM, SMOLLM2, get_spec
    from components.loading import ModelUnavailableError, load_model

    test = S.load_dataset("test")
    texts, n = test["text"].tolist(), len(test)
    figures: list[dict] = []
    rows: list[tuple[str, float, float, str]] = []

    def record(name: str, ev, baseline_s: float | None = None, note: str = "") -> None:
        per_text = ev.seconds_per_text
        rows.append((name, ev.accuracy, per_text * 1000, note))
        figures.append({"figure": f"{name} held-out accuracy", "value": round(ev.accuracy, 4), "unit": "",
                        "target": 0.85 if ev.approach == S.HEAD else None, "note": f"n={ev.n}; {note}".strip("; ")})
        figures.append({"figure": f"{name} time per text", "value": round(per_text * 1000, 3), "unit": "ms",
                        "baseline": round(baseline_s * 1000 / n, 3) if baseline_s else None,
                        "note": "baseline = bare library on the same texts" if baseline_s else ""})

    # ---------------------------------------------------------------- VADER
    analyzer = S.vader_analyzer()
    t = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    bare = time.perf_counter() - t
    ev = S.evaluate(S.VADER, test=test)
    record("VADER", ev, bare, "neutral counts as wrong; " + ", ".join(
        f"{k}={v}" for k, v in zip(ev.confusion.columns, ev.confusion.to_numpy().sum(axis=0))) + " predicted")

    # ---------------------------------------------------------------- MiniLM head
    minilm = load_model(get_spec(MINILM))
    probe.sentence_vectors(minilm, ["warm-up"])
    head = S.train_head(minilm)
    t = time.perf_counter()
    head.classifier.predict_proba(minilm.sentence_model.encode(texts, normalize_embeddings=True))
    bare = time.perf_counter() - t
    ev = S.evaluate(S.HEAD, minilm, head, test=test)
    record("MiniLM + logistic regression", ev, bare,
           f"trained on {head.n_train} rows in {head.train_seconds:.1f} s, train acc {head.train_accuracy:.3f}")

    # ---------------------------------------------------------------- SmolLM2 prompting
    if not args.skip_llm:
        smol = load_model(get_spec(SMOLLM2))
        variants = [("SmolLM2 prompt", S.PromptSettings())]
        if args.few_shot:
            variants.append(("SmolLM2 prompt few-shot", S.PromptSettings(few_shot=True)))
        for name, settings in variants:
            ev = S.evaluate(S.LLM, smol, settings=settings, test=test)
            raw, cal = ev.extra["accuracy_uncalibrated"], ev.extra["accuracy_calibrated"]
            cf = ev.extra["content_free"][1]
            rows.append((f"{name} (uncalibrated)", raw, ev.seconds_per_text * 1000, f'P(pos | "N/A") = {cf:.3f}'))
            rows.append((f"{name} (calibrated)", cal, ev.seconds_per_text * 1000, "Zhao et al. 2021"))
            for label, acc in (("uncalibrated", raw), ("calibrated", cal)):
                figures.append({"figure": f"{name} ({label}) held-out accuracy", "value": round(acc, 4),
                                "unit": "", "note": f"n={ev.n}; mode={settings.mode}"})
            figures.append({"figure": f"{name} time per text", "value": round(ev.seconds_per_text * 1000, 3),
                            "unit": "ms", "note": "batched (8), the shared prompt prefix read once"})

    # ---------------------------------------------------------------- DistilBERT SST-2 (Hub)
    try:
        sst2 = load_model(get_spec("distilbert-sst2"))
        ev = S.evaluate(S.SST2, sst2, test=test)
        record("DistilBERT SST-2", ev, None, f"source: {sst2.source.label}")
    except ModelUnavailableError as exc:
        rows.append(("DistilBERT SST-2", float("nan"), float("nan"), "unavailable: " + str(exc)[:90] + "…"))

    print(f"Sentiment approaches on the held-out set ({n} texts: data/sentiment/test.csv)\n")
    print(f"{'approach':<42} {'accuracy':>8} {'ms/text':>9}  note")
    for name, acc, ms, note in rows:
        print(f"{name:<42} {acc:>8.3f} {ms:>9.2f}  {note}")
    print()
    if not args.skip_llm:
        figures += prefix_comparison(args.repeats)
    for fig in figures:
        print(json.dumps({k: v for k, v in fig.items() if v is not None}))
    return 0


REVIEWS = {  # ~20 and ~60 words, typical of the page's single-text input
    "20-word review": "The hotel room was spotless and quiet, but breakfast was cold and the staff "
                      "seemed annoyed by every question.",
    "60-word review": "I ordered the noise-cancelling headphones after reading glowing reviews, and for the "
                      "first week they were excellent: deep bass, clear calls and a battery that lasted "
                      "days. Then the left cup started crackling, the app kept disconnecting, and customer "
                      "support sent three copy-pasted emails without ever offering a replacement. For this "
                      "price I expected far better, so I am returning them.",
}


def full_forward_distribution(loaded, prompts, batch_size=8, progress=None):
    """Reference path: a full forward of every prompt in left-padded batches (what the page did
    before reading shared prefixes once); same outputs as ``label_distribution``."""
    import numpy as np
    import torch

    from components import sentiment as S

    ids = S.label_token_ids(loaded)
    tok = loaded.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    out_p, out_mass = [], []
    for start in range(0, len(prompts), batch_size):
        rows = [list(p) for p in prompts[start:start + batch_size]]
        width = max(len(r) for r in rows)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], dtype=torch.long)
        with loaded.lock, torch.inference_mode():
            logits = loaded.model(input_ids=input_ids, attention_mask=mask,
                                  position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                                  logits_to_keep=1).logits[:, -1, :].float()
        out_p.append(torch.softmax(logits[:, ids], dim=-1).numpy())
        out_mass.append(torch.softmax(logits, dim=-1)[:, ids].sum(-1).numpy())
        if progress is not None:
            progress(sum(len(r) for r in rows))
    return np.concatenate(out_p), np.concatenate(out_mass)


def prefix_comparison(repeats: int) -> list[dict]:
    """CPU seconds of ``llm_sentiment`` (word weights on) on each review, full-forward path vs
    shared prefix read once; prints a table and returns the JSON figures."""
    import statistics

    from components import sentiment as S
    from components.catalog import SMOLLM2, get_spec
    from components.loading import load_model

    smol = load_model(get_spec(SMOLLM2))
    page_path = S.label_distribution
    S.llm_sentiment(smol, "warm-up", attribution=False)
    rows, figures = [], []
    for name, text in REVIEWS.items():
        times: dict[str, list[float]] = {"full": [], "prefix": []}
        results = {}
        for _ in range(repeats):
            for path, fn in (("full", full_forward_distribution), ("prefix", page_path)):
                S.label_distribution = fn
                try:
                    start = time.process_time()
                    results[path] = S.llm_sentiment(smol, text, attribution=True)
                    times[path].append(time.process_time() - start)
                finally:
                    S.label_distribution = page_path
        full, prefix = statistics.median(times["full"]), statistics.median(times["prefix"])
        diff = max(abs(results["full"].p_positive - results["prefix"].p_positive),
                   *(abs(a[1] - b[1]) for a, b in zip(results["full"].attribution, results["prefix"].attribution)))
        work = S.llm_workload(smol, text)
        rows.append((name, len(S.units_of(text)), work.prompts, full, prefix, full / prefix, diff))
        figures.append({"figure": f"SmolLM2 prompting with word weights, {name}: CPU time",
                        "value": round(prefix, 3), "unit": "s", "baseline": round(full, 3),
                        "note": f"baseline = full forward of every prompt; ratio {full / prefix:.2f}x; "
                                f"max |diff| {diff:.1e}"})
    load = os.getloadavg()
    print(f"SmolLM2 prompting with word weights: full forward of every prompt vs shared prefix read once "
          f"(CPU s, median of {repeats}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})\n")
    print("| review | words | prompts | full forward (CPU s) | shared prefix once (CPU s) | ratio | max abs diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, words, prompts, full, prefix, ratio, diff in rows:
        print(f"| {name} | {words} | {prompts} | {full:.2f} | {prefix:.2f} | {ratio:.2f}x | {diff:.1e} |")
    print()
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
