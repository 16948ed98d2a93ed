"""Zero-shot classification by embedding similarity, and the score table every method shares.

Every label becomes a hypothesis ``template.format(label)``; text and hypotheses are encoded
(L2-normalised) and the cosine text<->hypothesis scores the label, turned into probabilities
by a softmax (single-label) or a sigmoid (multi-label) at the encoder's training temperature
(sentence-transformers ``MultipleNegativesRankingLoss``, scale 20). Also here:
:class:`ZeroShotResult` and its tidy / wide score tables, the scores' meaning line, ties at
the top score and labels the model cannot read (:mod:`components.coverage`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from components import coverage
from components.classification.encoder import encode
from components.classification.inputs import (
    DEFAULT_TEMPLATE,
    ClassificationInputError,
    check_template,
    clean_texts,
    hypothesis,
    notice,
    quoted,
)
from components.messages import Message

SIMILARITY_TEMPERATURE = 0.05
"""Temperature of the single-label softmax over cosine similarities: p = softmax(cos / 0.05).

Source: all-MiniLM-L6-v2 was trained with sentence-transformers'
``MultipleNegativesRankingLoss``, which is a softmax over ``scale * cos`` with
``scale = 20`` (= 1 / 0.05). Using the training temperature turns cosines into the same kind
of distribution the encoder was optimised for. Measured on the shipped topics set with the
default template: matching hypotheses have cosine 0.19 ± 0.07, the others 0.00 ± 0.05,
so a 0.19 gap becomes a probability ratio of e^(0.19/0.05) ≈ 45.
"""
MULTI_LABEL_BIAS = 0.10
"""Cosine at which a label gets probability 0.5 in multi-label mode:
p = sigmoid((cos - 0.10) / 0.05).

Source: measured on ``data/classification/topics.csv`` (60 texts x 4 labels, default
template): the threshold that best separates matching from non-matching hypotheses is
0.09 (96.7 % of pairs right), midway between their mean cosines (0.19 and 0.00).
A heuristic calibration for MiniLM with short templates, not a trained one: cosines of
other encoders or very different templates live on other scales.
"""

TIE_TOLERANCE = 1e-6
"""Scores closer than this to a text's top score tie with it. Labels that reach the model as
the same tokens (e.g. emoji that MiniLM's WordPiece vocabulary maps to ``[UNK]``) get bitwise
equal embeddings, hence equal scores; 1e-6 only absorbs float32 rounding, far below the
3 decimals the page shows."""


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum for numerical stability."""
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class ZeroShotResult:
    """Scores of every (text, label) pair.

    Attributes:
        scores: tidy frame, one row per (text, label): ``text_id`` (0-based), ``text``,
            ``label``, ``hypothesis``, ``raw`` (cosine similarity, or entailment logit for
            NLI), ``score`` (probability in [0, 1]), ``rank`` (1 = best label for that text).
        method: "similarity" or "nli".
        multi_label: True when scores are independent per label (also forced for one label).
        labels: the labels, in input order.
        notices: adaptations (truncation, one label ...).
        semantics: one line saying what the scores mean.
    """

    scores: pd.DataFrame
    method: str
    multi_label: bool
    labels: list[str]
    notices: list[Message] = field(default_factory=list)
    semantics: Message | None = None

    def wide(self) -> pd.DataFrame:
        """One row per text: ``text``, ``top_label``, ``top_score`` and one column
        ``p(<label>)`` per label (its score), labels in input order -- the CSV download format."""
        return wide_scores(self.scores, self.labels)


def wide_scores(scores: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Pivot a tidy ``scores`` frame (``text_id``, ``text``, ``label``, ``score``) to one row per text."""
    pivot = scores.pivot(index="text_id", columns="label", values="score")[labels]
    texts = scores.drop_duplicates("text_id").set_index("text_id")["text"]
    top = scores[scores["rank"] == 1].set_index("text_id")
    out = pd.DataFrame({"text": texts, "top_label": top["label"], "top_score": top["score"]})
    for label in labels:
        out[score_column(label)] = pivot[label]
    return out.reset_index(drop=True)


def score_column(label: str) -> str:
    """Column name of a label's score in wide tables: ``p(label)`` (never collides with
    ``text``/``top_label``/``top_score``/``row``, whatever the user calls a label)."""
    return f"p({label})"


def semantics(multi_label: bool, n_labels: int) -> Message:
    """One line saying what the scores mean (one label / multi-label / single-label)."""
    if n_labels == 1:
        return notice("semantics_one")
    return notice("semantics_multi" if multi_label else "semantics_single")


def tidy_scores(texts, labels, hyps, raw: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """(n_texts, n_labels) arrays -> tidy frame with ranks."""
    n, k = raw.shape
    ranks = np.empty_like(scores, dtype=int)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks[np.arange(n)[:, None], order] = np.arange(1, k + 1)[None, :]
    return pd.DataFrame({
        "text_id": np.repeat(np.arange(n), k),
        "text": np.repeat(np.asarray(texts, dtype=object), k),
        "label": labels * n,
        "hypothesis": hyps * n,
        "raw": raw.reshape(-1).astype(float),
        "score": scores.reshape(-1).astype(float),
        "rank": ranks.reshape(-1),
    })


def similarity_scores(cosine: np.ndarray, multi_label: bool,
                      temperature: float = SIMILARITY_TEMPERATURE,
                      bias: float = MULTI_LABEL_BIAS) -> np.ndarray:
    """Map cosine similarities (n_texts, n_labels) to probabilities of the same shape.

    Single-label (and k > 1): ``softmax(cos / temperature)`` over the labels (rows sum to 1).
    Multi-label or one label: ``sigmoid((cos - bias) / temperature)`` per label, independent.
    See ``SIMILARITY_TEMPERATURE`` and ``MULTI_LABEL_BIAS`` for the sources of the constants.
    """
    cosine = np.asarray(cosine, dtype=np.float64)
    if multi_label or cosine.shape[1] == 1:
        return sigmoid((cosine - bias) / temperature)
    return softmax(cosine / temperature, axis=1)


def zero_shot_similarity(loaded, texts: list[str], labels: list[str],
                         template: str = DEFAULT_TEMPLATE, multi_label: bool = False) -> ZeroShotResult:
    """Zero-shot classification by cosine similarity of sentence embeddings.

    Args:
        loaded: the bundled MiniLM ``LoadedModel`` (any sentence-transformers model works).
        texts: n texts (blank ones dropped, see :func:`clean_texts`).
        labels: k >= 1 labels (see :func:`parse_labels`).
        template: hypothesis template with one ``{}``.
        multi_label: independent probabilities per label instead of a distribution.

    Returns:
        :class:`ZeroShotResult` with ``raw`` = cosine in [-1, 1] and ``score`` from
        :func:`similarity_scores`.

    Raises:
        InputError: empty texts, no labels, bad template.
    """
    hyps = label_hypotheses(template, labels)
    texts, notices = clean_texts(texts)
    text_emb, trunc = encode(loaded, texts)     # (n, d)
    hyp_emb, _ = encode(loaded, hyps)            # (k, d)
    cosine = text_emb @ hyp_emb.T                      # (n, k), unit vectors -> cosine
    multi = is_multi_label(multi_label, labels)
    return zero_shot_result(loaded, "similarity", texts, labels, hyps, cosine, similarity_scores(cosine, multi),
                            multi, notices + trunc)


def label_hypotheses(template: str, labels: list[str]) -> list[str]:
    """The opening both zero-shot methods share: ``template`` checked, then one hypothesis per
    label (:func:`components.classification.inputs.hypothesis`).

    Raises:
        ClassificationInputError: bad template (:func:`check_template`), no labels.
    """
    template = check_template(template)
    if not labels:
        raise ClassificationInputError("classification.msg.no_labels")
    return [hypothesis(template, l) for l in labels]


def is_multi_label(multi_label: bool, labels: list[str]) -> bool:
    """Independent per-label probabilities: asked for, or forced by a single label (a
    distribution over one label would always be 1)."""
    return multi_label or len(labels) == 1


def zero_shot_result(loaded, method: str, texts: list[str], labels: list[str], hyps: list[str],
                     raw: np.ndarray, scores: np.ndarray, multi: bool, notices: list[Message]) -> ZeroShotResult:
    """The closing both zero-shot methods share: ``notices`` plus the labels ``loaded`` cannot
    read and, for a single label, the note that its score is independent; the tidy score table
    from ``raw`` and ``scores`` (both ``(n texts, k labels)``)."""
    notices = notices + unreadable_labels(loaded, labels)
    if len(labels) == 1:
        notices.append(semantics(True, 1))
    return ZeroShotResult(tidy_scores(texts, labels, hyps, raw, scores), method, multi, list(labels),
                          notices, semantics(multi, len(labels)))


def unreadable_labels(loaded, labels: list[str]) -> list[Message]:
    """A notice naming the labels the model cannot read, or ``[]``.

    A label is unreadable when under :data:`components.coverage.MIN_KNOWN` of its characters
    reach the model as known tokens (:func:`components.coverage.model_coverage`, which holds
    ``loaded.tokenizer_lock``): with a WordPiece tokenizer such a label is mostly ``[UNK]``,
    so labels made of unknown characters (``😀``, ``😡``) give the same hypothesis tokens and
    exactly the same score. Byte-level tokenizers read every label.

    Returns:
        ``[Message("classification.msg.labels_unreadable", labels, unknown, model)]`` or ``[]``.
    """
    bad, pieces = [], []
    for label in labels:
        cov = coverage.model_coverage(loaded, label)
        if not cov.meaningful:
            bad.append(label)
            pieces += cov.unknown
    if not bad:
        return []
    unknown = " ".join(list(dict.fromkeys(pieces))[: coverage.MAX_SHOWN])
    return [notice("labels_unreadable", labels=quoted(bad), n=len(bad), unknown=unknown,
               model=loaded.spec.display_name)]


def top_ties(scores: pd.DataFrame, tolerance: float = TIE_TOLERANCE) -> dict[int, list[str]]:
    """Texts whose best score is shared by several labels.

    Args:
        scores: tidy frame with ``text_id``, ``label``, ``score`` (as :class:`ZeroShotResult`).
        tolerance: see :data:`TIE_TOLERANCE`.

    Returns:
        ``{text_id: [labels tied at the top, in rank order]}`` for texts with >= 2 such labels.
    """
    out: dict[int, list[str]] = {}
    for text_id, group in scores.groupby("text_id", sort=True):
        ordered = group.sort_values("rank" if "rank" in group.columns else "score",
                                    ascending="rank" in group.columns, kind="stable")
        best = float(ordered["score"].max())
        tied = [str(l) for l, s in zip(ordered["label"], ordered["score"]) if best - float(s) <= tolerance]
        if len(tied) > 1:
            out[int(text_id)] = tied
    return out


def tie_message(scores: pd.DataFrame, text_id: int, row: int,
                ties: dict[int, list[str]] | None = None) -> Message | None:
    """``classification.msg.tie`` for one text whose top labels tie (see :func:`top_ties`), or
    None when it has a single best label. ``row``: the text's 1-based row, for the message;
    ``ties``: :func:`top_ties` of ``scores`` when the caller has it already (else computed for
    this text only)."""
    if ties is None:
        ties = top_ties(scores[scores["text_id"] == text_id])
    tied = ties.get(int(text_id))
    if not tied:
        return None
    best = float(scores.loc[scores["text_id"] == text_id, "score"].max())
    return notice("tie", row=row, labels=quoted(tied), n=len(tied), score=f"{best:.4f}")
