"""Benchmark of the Embedding explorer pipeline against bare sentence-transformers.

Run: ``HF_HUB_OFFLINE=1 python bench/embeddings.py`` (add ``--write`` to write the figures into
docs/performance.md between the ``<!-- bench:embeddings -->`` markers; ``--sizes 1000`` for a quick run).

In one process, on the bundled all-MiniLM-L6-v2 (loaded once, the app's loader), for 1,000 and
10,000 distinct short texts (5-25 words, seeded):

* bare: ``SentenceTransformer.encode(texts)`` with its defaults (batch_size=32, it sorts by
  character length itself);
* page: ``components.embeddings.encode_sentences`` (token-count pre-pass for truncation notices,
  token-length-sorted chunks of 8 x 64 texts, progress callback, duplicate texts encoded once);
* then PCA 2-D (``pca_project``), nearest neighbour of every item (``nearest_for_all``) and the
  plotly figure build + JSON serialisation (``scatter_map(...).to_json()``).

Ratios printed: throughput ratio = bare time / page encode time (>= 1.0 means the page is not
slower); pipeline ratio = (page encode + PCA + neighbours + figure) / bare encode (target <= 1.5).
Both encoders get a warm-up call first (the first forward pass of a process is slow).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench import write_performance_section  # noqa: E402

SUBJECTS = ["The team", "My neighbour", "The new phone", "Our teacher", "The central bank", "A small cat",
            "The restaurant", "This software update", "The weather service", "Her grandmother",
            "The city council", "A young engineer", "The football club", "The museum", "The train"]
VERBS = ["announced", "cooked", "fixed", "predicted", "lost", "found", "painted", "sold", "visited",
         "explained", "raised", "cancelled", "celebrated", "tested", "ignored"]
OBJECTS = ["a surprising result", "the old bridge", "fresh bread", "heavy rain", "interest rates",
           "the final match", "a broken laptop", "the summer festival", "a long report", "new prices",
           "the quiet garden", "several security bugs", "a birthday cake", "the night train", "record profits"]
TAILS = ["", "yesterday", "after a long meeting", "in the middle of the night", "for the third time this year",
         "while everyone was watching", "without telling anyone", "near the river", "despite the storm",
         "and nobody could believe it", "before the holidays began", "at the end of a very busy week"]


def make_texts(n: int, seed: int = 0) -> list[str]:
    """n distinct short sentences (about 5-25 words)."""
    import random

    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        parts = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)]
        for _ in range(rng.randint(0, 2)):
            parts.append(rng.choice(TAILS))
        text = " ".join(p for p in parts if p) + f" (note {len(out)})."
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--reps", type=int, default=2, help="repetitions for sizes <= 2,000 (best time kept)")
    parser.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    import numpy as np
    import torch

    from components import embeddings as emb
    from components.catalog import MINILM, get_spec
    from components.charts_embeddings import scatter_map
    from components.loading import load_model

    loaded, load_s = timed(load_model, get_spec(MINILM))
    sm = loaded.sentence_model
    warm = make_texts(64, seed=99)
    sm.encode(warm)
    emb.encode_sentences(loaded, warm)
    cores = os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores, torch {torch.__version__} ({torch.get_num_threads()} threads); "
          f"model loaded in {load_s:.1f} s")

    rows = []
    for n in args.sizes:
        texts = make_texts(n)
        labels = [t.split(" ")[1] for t in texts]
        # alternate the order (bare, page, page, bare, ...) and keep each one's best time: the CPU
        # is shared, so a burst of load elsewhere should not decide the ratio
        bare_times, page_times = [], []
        for rep in range(args.reps if n <= 2000 else 1):
            for which in (("bare", "page") if rep % 2 == 0 else ("page", "bare")):
                if which == "bare":
                    with torch.inference_mode():
                        bare, s = timed(sm.encode, texts)
                    bare_times.append(s)
                else:
                    ticks = []
                    page, s = timed(emb.encode_sentences, loaded, texts, progress=ticks.append)
                    page_times.append(s)
        bare_s, page_s = min(bare_times), min(page_times)
        max_diff = float(np.abs(page.vectors - bare).max())
        proj, pca_s = timed(emb.pca_project, page.vectors, 2)
        _, nn_s = timed(emb.nearest_for_all, page.vectors)

        def build():
            fig = scatter_map(proj.coords, texts, labels, proj.axis_titles)
            return fig, len(fig.to_json())

        (fig, size), fig_s = timed(build)
        pipeline = page_s + pca_s + nn_s + fig_s
        row = dict(n=n, bare_s=bare_s, page_s=page_s, throughput=bare_s / page_s, pca_s=pca_s, nn_s=nn_s,
                   fig_s=fig_s, fig_mb=size / 1e6, pipeline_s=pipeline, pipeline_ratio=pipeline / bare_s,
                   max_diff=max_diff, texts_per_s=n / page_s, progress_calls=len(ticks))
        rows.append(row)
        print(f"n={n:>6,}: bare encode {bare_s:6.2f} s | page encode {page_s:6.2f} s "
              f"({row['texts_per_s']:.0f} texts/s, {len(ticks)} progress updates) | throughput ratio "
              f"{row['throughput']:.2f} | PCA {pca_s:.2f} s | neighbours {nn_s:.2f} s | figure {fig_s:.2f} s "
              f"({row['fig_mb']:.2f} MB JSON) | pipeline {pipeline:.2f} s = {row['pipeline_ratio']:.2f} x bare "
              f"| max |page - bare| {max_diff:.1e}")

    ok = all(r["throughput"] >= 1.0 for r in rows) and all(r["pipeline_ratio"] <= 1.5 for r in rows)
    print("targets (throughput ratio >= 1.0, pipeline <= 1.5 x bare encode):", "MET" if ok else "NOT MET")

    table = [
        f"Measured with `python bench/embeddings.py` on {platform.machine()}, {cores} cores (shared CPU), "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
        f"{load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end. Bundled all-MiniLM-L6-v2; distinct short "
        "texts (5-25 words); best of 2 alternating runs for 1,000, one run each for 10,000. Bare = `SentenceTransformer.encode(texts)` with its defaults; page = "
        "`components.embeddings.encode_sentences` (token-count pre-pass, token-length-sorted chunks, batch 64, "
        "progress callback). Pipeline = page encode + PCA 2-D + nearest neighbour of every item + plotly "
        "figure build and JSON.",
        "",
        "| texts | bare encode (s) | page encode (s) | throughput ratio (≥ 1.0) | PCA (s) | neighbours (s) "
        "| figure (s, JSON MB) | pipeline / bare (≤ 1.5) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        table.append(
            f"| {r['n']:,} | {r['bare_s']:.2f} | {r['page_s']:.2f} | {r['throughput']:.2f} | {r['pca_s']:.2f} "
            f"| {r['nn_s']:.2f} | {r['fig_s']:.2f} ({r['fig_mb']:.2f}) | {r['pipeline_ratio']:.2f} |"
        )
    print("\n".join(table))
    if args.write:
        write_performance_section("embeddings", "\n".join(table))


if __name__ == "__main__":
    main()
