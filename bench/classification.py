"""Classification: where the zero-shot constants come from, accuracy, and overhead vs the bare library.

Run: ``HF_HUB_OFFLINE=1 python bench/classification.py`` (bundled MiniLM, ~30 s on 2 cores).

Prints, on the shipped ``data/classification/topics.csv`` (60 texts, 4 labels):
1. cosine text<->hypothesis for matching and non-matching labels, and the threshold that best
   separates them (the source of ``MULTI_LABEL_BIAS``);
2. zero-shot accuracy (single-label argmax) of embedding similarity;
3. cross-validated accuracy of the trained logistic-regression head;
4. time of ``zero_shot_similarity`` vs bare ``SentenceTransformer.encode`` + a matrix product
   (ratio, same run, best of 3);
5. a hostile 100 000-character paste: the page's path (cut to ``MAX_TEXT_CHARS`` characters, then
   256 tokens) vs bare ``encode`` of the whole string (which tokenizes all of it), and whether the
   two give the same embedding (the cut must not change what the model reads);
6. rendering the curated presenter examples from ``curated/classification.json`` (no model).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components import classification as C  # noqa: E402
from components.catalog import MINILM, get_spec  # noqa: E402
from components.loading import load_model  # noqa: E402


def best_of(fn, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    loaded = load_model(get_spec(MINILM))
    data = C.load_example_set("topics")
    labels = sorted(data["label"].unique())
    texts = data["text"].tolist()
    y = np.array([labels.index(l) for l in data["label"]])

    result = C.zero_shot_similarity(loaded, texts, labels)
    cos = result.scores.pivot(index="text_id", columns="label", values="raw")[labels].to_numpy()
    match = np.zeros_like(cos, dtype=bool)
    match[np.arange(len(y)), y] = True
    thresholds = np.round(np.arange(0.0, 0.4001, 0.01), 2)
    pair_acc = [((cos > t) == match).mean() for t in thresholds]
    best = thresholds[int(np.argmax(pair_acc))]
    print(f"template {C.DEFAULT_TEMPLATE!r}, {len(texts)} texts x {len(labels)} labels")
    print(f"cosine matching     mean {cos[match].mean():.3f} sd {cos[match].std():.3f}")
    print(f"cosine non-matching mean {cos[~match].mean():.3f} sd {cos[~match].std():.3f}")
    print(f"best multi-label threshold {best:.2f} ({max(pair_acc):.1%} of pairs right); "
          f"MULTI_LABEL_BIAS = {C.MULTI_LABEL_BIAS}")
    multi = C.similarity_scores(cos, multi_label=True)
    print(f"multi-label pairs right at p>0.5 with the shipped constants: {((multi > 0.5) == match).mean():.1%}")
    print(f"zero-shot single-label accuracy: {(cos.argmax(1) == y).mean():.1%}")

    head = C.train_head(loaded, data)
    print(f"train-your-own: {head.folds}-fold CV accuracy {head.cv_accuracy:.1%} "
          f"(folds {', '.join(f'{a:.2f}' for a in head.fold_accuracies)}); majority baseline "
          f"{head.majority_baseline:.1%}")

    hyps = [C.DEFAULT_TEMPLATE.format(l) for l in labels]

    def bare():
        a = loaded.sentence_model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        b = loaded.sentence_model.encode(hyps, normalize_embeddings=True, show_progress_bar=False)
        return a @ b.T

    ours = best_of(lambda: C.zero_shot_similarity(loaded, texts, labels))
    base = best_of(bare)
    print(f"zero_shot_similarity {ours * 1000:.0f} ms vs bare encode+matmul {base * 1000:.0f} ms "
          f"-> ratio {ours / base:.2f}")

    long = "The referee blew the whistle and the crowd cheered. " * 1925          # ~100 000 characters
    ours_long = best_of(lambda: C.zero_shot_similarity(loaded, [long], labels))
    bare_long = best_of(lambda: loaded.sentence_model.encode([long], normalize_embeddings=True,
                                                             show_progress_bar=False))
    cut = C.encode(loaded, [long[:C.MAX_TEXT_CHARS]])[0][0]
    full = loaded.sentence_model.encode([long], normalize_embeddings=True, show_progress_bar=False)[0]
    print(f"{len(long):,}-character text: page {ours_long * 1000:.0f} ms (4 labels) vs bare encode "
          f"{bare_long * 1000:.0f} ms -> ratio {ours_long / bare_long:.2f}; "
          f"max |embedding difference| after the {C.MAX_TEXT_CHARS:,}-character cut {np.abs(cut - full).max():.1e}")

    from components import curated

    examples = curated.load("classification")
    render = best_of(lambda: [C.zero_shot_from_payload(e["result"]).wide() for e in examples])
    print(f"curated examples: {len(examples)} rebuilt from JSON in {render * 1000:.1f} ms (no model)")


if __name__ == "__main__":
    main()
