"""The data-driven approach: the shipped labelled set (``data/sentiment/train.csv`` /
``test.csv``) and a scikit-learn ``LogisticRegression`` head trained (fixed seed) on frozen
all-MiniLM-L6-v2 sentence embeddings (:mod:`components.probe`).
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from components import coverage, probe
from components.sentiment.base import (
    DATA_DIR,
    HEAD,
    HEAD_C,
    HEAD_SEED,
    LABELS,
    MINILM_MAX_TOKENS,
    NEGATIVE,
    POSITIVE,
    TRAIN_CSV,
    SentimentResult,
    binary_label,
    check_text,
    timed,
    truncation_notice,
)
from components.sentiment.occlusion import occlusion


def load_dataset(split: str) -> pd.DataFrame:
    """The shipped labelled set: ``split`` "train" or "test" (held out, never trained on).

    Returns:
        DataFrame with ``text``, ``label`` ("positive"/"negative"), ``domain``.
    """
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    frame = pd.read_csv(DATA_DIR / f"{split}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert set(frame["label"]) <= set(LABELS), "labels must be positive/negative"
    return frame


def dataset_hash(path: Path = TRAIN_CSV) -> str:
    """sha256 (first 16 hex digits) of a dataset file: the cache key of a trained head."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@dataclass
class SentimentHead:
    """A trained logistic-regression head on frozen sentence embeddings.

    Attributes:
        classifier: fitted ``sklearn.linear_model.LogisticRegression`` (classes_ = LABELS order).
        dataset_hash: :func:`dataset_hash` of the training file.
        n_train: training rows.
        train_seconds: embedding + fitting time, seconds.
        train_accuracy: accuracy on the training rows (for contrast with held-out accuracy).
    """

    classifier: object
    dataset_hash: str
    n_train: int
    train_seconds: float
    train_accuracy: float

    def p_positive(self, embeddings: np.ndarray) -> np.ndarray:
        """P(positive) per row of ``(n, d)`` embeddings."""
        col = list(self.classifier.classes_).index(POSITIVE)
        return self.classifier.predict_proba(embeddings)[:, col]


def train_head(loaded, train: pd.DataFrame | None = None, seed: int = HEAD_SEED,
               C: float = HEAD_C) -> SentimentHead:
    """Train the LR head on frozen MiniLM embeddings of ``train`` (default: train.csv).

    Deterministic: embeddings are deterministic on CPU and lbfgs with a fixed
    ``random_state`` gives the same weights on every run (:func:`components.probe.fit_head`).
    """
    start = time.perf_counter()
    train = load_dataset("train") if train is None else train
    x = probe.sentence_vectors(loaded, train["text"].tolist())
    y = train["label"].to_numpy()
    clf = probe.fit_head(x, y, C=C, seed=seed)
    return SentimentHead(
        classifier=clf,
        dataset_hash=dataset_hash(),
        n_train=len(train),
        train_seconds=time.perf_counter() - start,
        train_accuracy=float((clf.predict(x) == y).mean()),
    )


def head_predict(loaded, head: SentimentHead, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch head predictions: (labels, p_positive per text)."""
    p = head.p_positive(probe.sentence_vectors(loaded, texts))
    return [binary_label(v) for v in p], p


def head_sentiment(loaded, head: SentimentHead, text: str, attribution: bool = True) -> SentimentResult:
    """Classify ``text`` with the MiniLM + logistic-regression head.

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    notices += truncation_notice(int(probe.token_counts(loaded, [text])[0]), MINILM_MAX_TOKENS, "all-MiniLM-L6-v2")
    (labels, p), seconds = timed(head_predict, loaded, head, [text])
    p_pos = float(p[0])
    result = SentimentResult(
        approach=HEAD, label=labels[0], scores={NEGATIVE: 1 - p_pos, POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        coverage=coverage.model_coverage(loaded, text).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = timed(
            occlusion, text, lambda ts: head_predict(loaded, head, ts)[1])
        result.attribution, result.notices = weights, result.notices + occ
    return result
