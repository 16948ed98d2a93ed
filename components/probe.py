"""A linear probe on a frozen sentence encoder: encode texts, fit a logistic-regression head,
cross-validate it. Shared by the sentiment head, the classification page's trainable head and
the embedding explorer's sentence encoder. Pure: no streamlit.

* Encoding: ``SentenceTransformer.encode`` (sentence-transformers) under ``loaded.lock`` then
  ``loaded.tokenizer_lock`` (encode tokenizes inside), typed special tokens read as plain text
  (:data:`components.tokens.ST_PLAIN_TEXT`). Each text is cut at the encoder's
  ``max_seq_length`` (256 tokens for all-MiniLM-L6-v2, special tokens included);
  :func:`encode` reports per text how many tokens it has and whether it was cut.
* Head: scikit-learn ``LogisticRegression`` (lbfgs, L2) with the caller's inverse strength
  ``C``, ``random_state=seed`` and ``max_iter=2000`` (scikit-learn's default of 100 can stop
  before lbfgs converges on 384-d embeddings).
* Cross-validation: ``StratifiedKFold(folds, shuffle=True, random_state=seed)``; out-of-fold
  predictions from ``cross_val_predict`` and per-fold accuracy from ``cross_val_score`` on the
  same folds (scikit-learn user guide, "Cross-validation: evaluating estimator performance").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from components.tokens import ST_PLAIN_TEXT

HEAD_MAX_ITER = 2000
"""``max_iter`` of every head: lbfgs converges well before it on the shipped sets."""
TOKEN_COUNT_STEP = 4096
"""Texts per tokenizer call when counting tokens (bounded memory for 20,000-text inputs)."""


@dataclass
class Encoded:
    """Sentence embeddings with what the encoder read of each text.

    Attributes:
        vectors: ``(n, d)`` float32, row i for ``texts[i]`` (d = 384 for MiniLM).
        tokens: ``(n,)`` int64 tokens per text before truncation, special tokens included.
        limit: tokens the encoder reads per text (``max_seq_length``).
    """

    vectors: np.ndarray
    tokens: np.ndarray
    limit: int

    @property
    def truncated(self) -> np.ndarray:
        """``(n,)`` bool: True where the text was cut at ``limit`` tokens."""
        return self.tokens > self.limit


def encoder_limit(loaded) -> int:
    """Tokens the sentence encoder reads per text, special tokens included (MiniLM: 256).

    Raises:
        ValueError: ``loaded`` has no ``sentence_model``.
    """
    if loaded.sentence_model is None:
        raise ValueError(f"{loaded.spec.display_name} is not a sentence-transformers model.")
    return int(loaded.sentence_model.max_seq_length)


def token_counts(loaded, texts: Sequence[str], add_special_tokens: bool = True) -> np.ndarray:
    """Tokens per text without truncation, ``(n,)`` int64 (holds ``loaded.tokenizer_lock``).

    Typed special-token strings (``[SEP]``) count as the ordinary pieces the encoder reads
    (``split_special_tokens=True``).
    """
    counts = np.empty(len(texts), dtype=np.int64)
    with loaded.tokenizer_lock:
        for start in range(0, len(texts), TOKEN_COUNT_STEP):
            enc = loaded.tokenizer(
                list(texts[start:start + TOKEN_COUNT_STEP]), add_special_tokens=add_special_tokens,
                truncation=False, return_attention_mask=False, verbose=False, split_special_tokens=True,
            )
            counts[start:start + TOKEN_COUNT_STEP] = [len(ids) for ids in enc["input_ids"]]
    return counts


def sentence_vectors(loaded, texts: Sequence[str], batch_size: int = 32, normalize: bool = True) -> np.ndarray:
    """``SentenceTransformer.encode(texts)`` as ``(n, d)`` float32, one call under the locks.

    Args:
        loaded: a ``LoadedModel`` with a ``sentence_model``.
        texts: n strings (each cut at ``max_seq_length`` tokens by the encoder).
        batch_size: texts per forward pass.
        normalize: ``normalize_embeddings`` (L2 norm 1 per row).
    """
    import torch

    with loaded.lock, loaded.tokenizer_lock, torch.inference_mode():  # encode tokenizes inside
        vectors = loaded.sentence_model.encode(
            list(texts), batch_size=batch_size, convert_to_numpy=True,
            normalize_embeddings=normalize, show_progress_bar=False, **ST_PLAIN_TEXT,
        )
    return np.asarray(vectors, dtype=np.float32)


def encode(loaded, texts: Sequence[str], batch_size: int = 32, normalize: bool = True) -> Encoded:
    """Embeddings plus per-text truncation info (:class:`Encoded`).

    Raises:
        ValueError: ``loaded`` is not a sentence-transformers model.
    """
    limit = encoder_limit(loaded)
    tokens = token_counts(loaded, texts)
    return Encoded(vectors=sentence_vectors(loaded, texts, batch_size, normalize), tokens=tokens, limit=limit)


def new_head(C: float, seed: int, max_iter: int = HEAD_MAX_ITER):
    """An unfitted ``sklearn.linear_model.LogisticRegression(C=C, max_iter, random_state=seed)``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter, random_state=seed)


def fit_head(X: np.ndarray, y: np.ndarray, C: float, seed: int):
    """Fit a logistic-regression head on embeddings ``X`` ``(n, d)`` and labels ``y`` ``(n,)``.

    Deterministic: lbfgs with a fixed ``random_state`` gives the same weights on every run.
    """
    return new_head(C, seed).fit(X, y)


@dataclass
class CrossValidation:
    """Out-of-fold results of a head.

    Attributes:
        predicted: ``(n,)`` out-of-fold predicted label per example (``cross_val_predict``).
        fold_accuracies: accuracy of each fold, in [0, 1] (``cross_val_score``).
        accuracy: pooled out-of-fold accuracy in [0, 1].
    """

    predicted: np.ndarray
    fold_accuracies: list[float]
    accuracy: float


def cross_validate(X: np.ndarray, y: np.ndarray, folds: int, C: float, seed: int) -> CrossValidation:
    """Stratified ``folds``-fold cross-validation of a head (``folds >= 2``; every class needs
    at least ``folds`` examples, else scikit-learn raises ``ValueError``)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(new_head(C, seed), X, y, cv=splitter)
    scores = [float(s) for s in cross_val_score(new_head(C, seed), X, y, cv=splitter)]
    return CrossValidation(predicted=predicted, fold_accuracies=scores, accuracy=float((predicted == y).mean()))
