"""The fine-tuned approach: a DistilBERT sequence classifier fine-tuned on SST-2 (Hub only),
softmax of its two logits, inputs truncated at its position limit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from components import coverage, probe
from components.sentiment.base import (
    LABELS,
    NEGATIVE,
    POSITIVE,
    SST2,
    SST2_MAX_TOKENS,
    SentimentResult,
    binary_label,
    check_text,
    timed,
    truncation_notice,
)
from components.sentiment.occlusion import occlusion


def _classifier_label(name: str, index: int) -> str:
    low = str(name).lower()
    if low in (NEGATIVE, POSITIVE):
        return low
    return LABELS[index]  # LABEL_0 / LABEL_1 -> negative / positive (SST-2 convention)


def sst2_probs(loaded, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """Softmax of the sequence classifier's logits, ``(n, 2)`` in (negative, positive) order.
    Inputs are truncated at ``SST2_MAX_TOKENS`` (or the model's smaller position limit)."""
    import torch

    model = loaded.model
    limit = min(SST2_MAX_TOKENS, int(getattr(model.config, "max_position_embeddings", SST2_MAX_TOKENS)))
    id2label = model.config.id2label
    order = {_classifier_label(id2label[i], i): i for i in range(model.config.num_labels)}
    cols = [order[NEGATIVE], order[POSITIVE]]
    out = []
    for start in range(0, len(texts), batch_size):
        with loaded.tokenizer_lock:
            enc = loaded.tokenizer(list(texts[start:start + batch_size]), return_tensors="pt",
                                   padding=True, truncation=True, max_length=limit,
                                   split_special_tokens=True)  # a typed "[SEP]" stays text
        with loaded.lock, torch.inference_mode():
            logits = model(**enc).logits.float()                         # (B, num_labels)
        out.append(torch.softmax(logits, dim=-1)[:, cols].numpy())
    return np.concatenate(out)


def sst2_predict(loaded, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch SST-2 predictions: (labels, p_positive)."""
    p = sst2_probs(loaded, texts)[:, 1]
    return [binary_label(v) for v in p], p


def sst2_sentiment(loaded, text: str, attribution: bool = True) -> SentimentResult:
    """Classify ``text`` with the fine-tuned DistilBERT sequence classifier.

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    limit = min(SST2_MAX_TOKENS, int(getattr(loaded.model.config, "max_position_embeddings", SST2_MAX_TOKENS)))
    notices += truncation_notice(int(probe.token_counts(loaded, [text])[0]), limit, loaded.spec.display_name)
    probs, seconds = timed(sst2_probs, loaded, [text])
    p_pos = float(probs[0, 1])
    result = SentimentResult(
        approach=SST2, label=binary_label(p_pos),
        scores={NEGATIVE: float(probs[0, 0]), POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        coverage=coverage.model_coverage(loaded, text).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = timed(
            occlusion, text, lambda ts: sst2_probs(loaded, ts)[:, 1])
        result.attribution, result.notices = weights, result.notices + occ
    return result
