"""Train your own classifier: a logistic-regression head on frozen MiniLM embeddings.

Cleans labelled examples, plans stratified cross-validation, trains and cross-validates the
head through the shared linear probe (:mod:`components.probe`, scikit-learn
``LogisticRegression`` / ``StratifiedKFold``), and classifies new texts with it. The encoder
itself is never changed (fine-tuning made tangible).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from components import probe
from components.classification.encoder import encode
from components.classification.inputs import (
    MAX_LABELS,
    MAX_TEXT_CHARS,
    ClassificationInputError,
    clean_texts,
    clip_chars,
    notice,
    quoted,
)
from components.classification.zero_shot import tidy_scores
from components.messages import Message

MAX_TRAIN_EXAMPLES = 2000
"""Cap on training examples (encoding them takes about 2 s per 100 on a laptop CPU)."""
HEAD_C = 10.0
"""Inverse L2 strength of the logistic-regression head. Unit-length 384-d embeddings have
features of size ~0.05, so sklearn's default C=1 shrinks the weights until every
probability is close to uniform; C=10 keeps cross-validated accuracy and gives readable
probabilities."""
HEAD_SEED = 0
"""Fixed ``random_state`` for the head and for the cross-validation shuffle (reproducible)."""
MAX_FOLDS = 5


@dataclass
class CvPlan:
    """How the head will be evaluated: ``folds`` (0 = no cross-validation) and why."""

    folds: int
    notices: list[Message]


def prepare_examples(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Message]]:
    """Clean labelled examples for training.

    Strips text and labels, drops rows with a blank text or label (counted), merges labels
    that differ only in case (first spelling kept), drops exact duplicate rows, caps at
    ``MAX_TRAIN_EXAMPLES`` examples and each text at ``MAX_TEXT_CHARS`` characters.

    Args:
        frame: with columns ``text`` and ``label``.

    Returns:
        (frame with ``text``, ``label``, notices).

    Raises:
        InputError: no examples left, fewer than 2 classes (one class: nothing to tell
            apart), or more than ``MAX_LABELS`` classes.
    """
    df = pd.DataFrame({"text": frame["text"].astype(str).str.strip(),
                       "label": frame["label"].astype(str).str.strip()})
    notices: list[Message] = []
    blank = (df["text"] == "") | (df["label"] == "")
    if blank.any():
        notices.append(notice("examples_blank", n=int(blank.sum())))
    df = df[~blank]
    if df.empty:
        raise ClassificationInputError("classification.msg.no_examples")
    first: dict[str, str] = {}
    for label in df["label"]:
        first.setdefault(label.casefold(), label)
    merged = df["label"].map(lambda l: first[l.casefold()])
    if (merged != df["label"]).any():
        notices.append(notice("labels_merged"))
    df = df.assign(label=merged)
    dup = df.duplicated()
    if dup.any():
        notices.append(notice("examples_dup", n=int(dup.sum())))
        df = df[~dup]
    if len(df) > MAX_TRAIN_EXAMPLES:
        notices.append(notice("examples_capped", n=len(df), max=MAX_TRAIN_EXAMPLES))
        df = df.iloc[:MAX_TRAIN_EXAMPLES]
    classes = df["label"].unique().tolist()
    if len(classes) < 2:
        raise ClassificationInputError("classification.msg.one_class", label=repr(classes[0]))
    if len(classes) > MAX_LABELS:
        raise ClassificationInputError("classification.msg.too_many_classes", n=len(classes), max=MAX_LABELS)
    clipped, clip_notices = clip_chars(df["text"].tolist(), MAX_TEXT_CHARS)
    notices += clip_notices
    return df.assign(text=clipped).reset_index(drop=True), notices


def cv_plan(labels: list[str] | pd.Series, max_folds: int = MAX_FOLDS) -> CvPlan:
    """Number of stratified cross-validation folds: ``min(max_folds, smallest class count)``.

    Stratified k-fold needs every class in every fold, so at least 2 examples per class are
    needed for any cross-validation; with fewer the head is still trained but not evaluated.
    """
    counts = pd.Series(list(labels)).value_counts()
    smallest = int(counts.min())
    if smallest < 2:
        few = quoted(counts[counts < 2].index)
        return CvPlan(0, [notice("cv_too_few", few=few)])
    folds = min(max_folds, smallest)
    notices = []
    if folds < max_folds:
        notices.append(notice("cv_fewer_folds", n=smallest, folds=folds, max=max_folds))
    return CvPlan(folds, notices)


@dataclass
class TrainResult:
    """A logistic-regression head trained on frozen embeddings.

    Attributes:
        classes: class labels in the head's order.
        head: the fitted ``sklearn.linear_model.LogisticRegression`` (on all examples).
        folds: cross-validation folds used (0 = none, see notices).
        cv_accuracy: pooled out-of-fold accuracy in [0, 1], or None without CV.
        fold_accuracies: accuracy of each fold.
        confusion: counts, index = true label, columns = predicted label (out-of-fold),
            or an empty frame without CV.
        predictions: per example ``text``, ``label``, ``predicted`` (out-of-fold), ``correct``.
        majority_baseline: share of the largest class (the accuracy of always guessing it).
        counts: examples per class.
        n_examples: examples used.
        notices: adaptations.
    """

    classes: list[str]
    head: Any
    folds: int
    cv_accuracy: float | None
    fold_accuracies: list[float]
    confusion: pd.DataFrame
    predictions: pd.DataFrame
    majority_baseline: float
    counts: pd.Series
    n_examples: int
    notices: list[Message] = field(default_factory=list)


def train_head(loaded, frame: pd.DataFrame) -> TrainResult:
    """Train a logistic-regression head on frozen sentence embeddings and cross-validate it.

    Only the head (k x d weights + k biases) is trained; the encoder is not changed.

    Args:
        loaded: the bundled MiniLM ``LoadedModel``.
        frame: labelled examples (``text``, ``label``), cleaned by :func:`prepare_examples`
            here again (idempotent).

    Returns:
        :class:`TrainResult`. Cross-validation: ``StratifiedKFold(folds, shuffle=True,
        random_state=0)``; confusion matrix and accuracy from ``cross_val_predict`` on the
        same folds.

    Raises:
        InputError: see :func:`prepare_examples`.
    """
    from sklearn.metrics import confusion_matrix

    df, notices = prepare_examples(frame)
    X, trunc = encode(loaded, df["text"].tolist())      # (n, 384), frozen encoder
    notices += trunc
    y = df["label"].to_numpy()
    counts = df["label"].value_counts()
    plan = cv_plan(y)
    notices += plan.notices
    classes = sorted(counts.index.tolist())
    cv_acc = None
    folds: list[float] = []
    confusion = pd.DataFrame()
    predicted = np.full(len(y), "", dtype=object)
    if plan.folds >= 2:
        cv = probe.cross_validate(X, y, plan.folds, C=HEAD_C, seed=HEAD_SEED)
        predicted, folds, cv_acc = cv.predicted, cv.fold_accuracies, cv.accuracy
        cm = confusion_matrix(y, predicted, labels=classes)
        confusion = pd.DataFrame(cm, index=pd.Index(classes, name="true"),
                                 columns=pd.Index(classes, name="predicted"))
    head = probe.fit_head(X, y, C=HEAD_C, seed=HEAD_SEED)
    predictions = pd.DataFrame({"text": df["text"], "label": df["label"], "predicted": predicted})
    predictions["correct"] = predictions["label"] == predictions["predicted"] if cv_acc is not None else None
    return TrainResult(
        classes=[str(c) for c in head.classes_], head=head, folds=plan.folds, cv_accuracy=cv_acc,
        fold_accuracies=folds, confusion=confusion, predictions=predictions,
        majority_baseline=float(counts.max() / counts.sum()), counts=counts,
        n_examples=len(df), notices=notices,
    )


def classify_with_head(loaded, result: TrainResult, texts: list[str]) -> tuple[pd.DataFrame, list[Message]]:
    """Classify new texts with a trained head (same frozen encoder).

    Returns:
        (tidy frame ``text_id``, ``text``, ``label``, ``score`` (predict_proba; rows of one
        text sum to 1), ``rank``; notices).

    Raises:
        InputError: no non-blank text.
    """
    texts, notices = clean_texts(texts)
    X, trunc = encode(loaded, texts)
    proba = result.head.predict_proba(X)                 # (n, k)
    labels = [str(c) for c in result.head.classes_]
    frame = tidy_scores(texts, labels, labels, proba, proba).drop(columns=["hypothesis", "raw"])
    return frame, notices + trunc
