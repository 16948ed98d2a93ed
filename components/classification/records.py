"""Zero-shot results as plain JSON data and back (the curated presenter examples).

Language-neutral: notices and the semantics line are not stored, ranks are re-derived on load.
"""
from __future__ import annotations

from typing import TypedDict

import pandas as pd

from components.classification.zero_shot import ZeroShotResult, semantics, tidy_scores

PAYLOAD_COLUMNS = ("text_id", "text", "label", "hypothesis", "raw", "score")


class ZeroShotPayload(TypedDict):
    """:func:`zero_shot_payload`."""

    method: str
    multi_label: bool
    labels: list[str]
    scores: dict[str, list]


def zero_shot_payload(result: ZeroShotResult) -> ZeroShotPayload:
    """A zero-shot result as plain JSON data (curated presenter examples).

    Returns:
        ``{"method", "multi_label", "labels", "scores": {column: list}}`` with the tidy
        columns :data:`PAYLOAD_COLUMNS`. Language-neutral: notices and the semantics line are
        not stored, and neither are ranks (re-derived on load, so labels whose scores tie --
        e.g. two Chinese labels that both tokenize to ``[UNK]`` -- cannot flip between machines).
    """
    return {"method": result.method, "multi_label": bool(result.multi_label), "labels": list(result.labels),
            "scores": {c: result.scores[c].tolist() for c in PAYLOAD_COLUMNS}}


def zero_shot_from_payload(payload: ZeroShotPayload) -> ZeroShotResult:
    """Inverse of :func:`zero_shot_payload`: ranks from the stored scores (stable: ties keep
    label order), semantics line as a :class:`Message`.

    Raises:
        KeyError / ValueError / TypeError: the payload is not one written by :func:`zero_shot_payload`.
    """
    frame = pd.DataFrame({c: payload["scores"][c] for c in PAYLOAD_COLUMNS})
    labels = [str(l) for l in payload["labels"]]
    n, k = int(frame["text_id"].max()) + 1, len(labels)
    if len(frame) != n * k:
        raise ValueError("scores do not cover every (text, label) pair")
    frame = frame.sort_values(["text_id"], kind="stable")
    texts = frame.drop_duplicates("text_id")["text"].tolist()
    hyps = frame["hypothesis"].tolist()[:k]
    raw = frame["raw"].to_numpy(dtype=float).reshape(n, k)
    scores = frame["score"].to_numpy(dtype=float).reshape(n, k)
    multi = bool(payload["multi_label"])
    return ZeroShotResult(tidy_scores(texts, labels, hyps, raw, scores), str(payload["method"]), multi, labels, [],
                          semantics(multi, len(labels)))
