"""Held-out accuracy and speed of every sentiment approach of the Sentiment page.

Run: ``HF_HUB_OFFLINE=1 python bench/sentiment.py`` (``--skip-llm`` leaves out the slowest
approach; ``--few-shot`` adds the few-shot prompting variant).

On ``data/sentiment/test.csv`` (170 held-out sentences, never trained on), in one process:

* VADER (rules); page path ``components.sentiment.vader_predict`` vs bare
  ``SentimentIntensityAnalyzer.polarity_scores`` in a loop;
* MiniLM + logistic-regression head, trained here on ``train.csv`` (fixed seed); page path
  ``head_predict`` vs bare ``SentenceTransformer.encode`` + ``predict_proba``;
* SmolLM2-135M-Instruct prompting with the page's default prompt, accuracy before and after
  contextual calibration (the page's batched, left-padded scoring);
* DistilBERT SST-2 when the Hub (or a local directory) can provide it, else its
  "unavailable" message.

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
    args = parser.parse_args()

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
                            "unit": "ms", "note": "batched (8), left-padded, one forward per text"})

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
    for fig in figures:
        print(json.dumps({k: v for k, v in fig.items() if v is not None}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
