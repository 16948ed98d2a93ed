"""Held-out evaluation and tables: accuracy, confusion matrix and recall of an approach
(``sklearn.metrics``) on ``test.csv`` or a user's labelled CSV, per-text coverage of a batch
(:mod:`components.coverage`), and the column-id tables the UI words (results, evaluations).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from components import coverage
from components.messages import Message
from components.sentiment.base import (
    HEAD,
    LABELS,
    LLM,
    MAX_CHARS,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SST2,
    VADER,
    SentimentInputError,
    binary_label,
    check_text,
)
from components.sentiment.finetuned import sst2_predict
from components.sentiment.head import SentimentHead, head_predict, load_dataset
from components.sentiment.prompting import PromptSettings, llm_predict
from components.sentiment.vader import vader_analyzer, vader_predict


def texts_coverage(approach: str, loaded, texts: Sequence[str]) -> list[dict]:
    """Per text, how much of it ``approach`` can read (:mod:`components.coverage`): VADER's
    lexicons for ``"vader"``, else the tokenizer of ``loaded``. Repeated texts computed once."""
    memo: dict[str, dict] = {}
    analyzer = vader_analyzer() if approach == VADER else None
    for text in texts:
        if text not in memo:
            cov = (coverage.vader_coverage(text, analyzer) if approach == VADER
                   else coverage.model_coverage(loaded, text))
            memo[text] = cov.as_dict()
    return [memo[t] for t in texts]


@dataclass
class Evaluation:
    """Held-out evaluation of one approach.

    Attributes:
        approach: approach key.
        accuracy: fraction correct (``sklearn.metrics.accuracy_score``); VADER "neutral" counts
            as wrong (the set is binary).
        confusion: DataFrame, rows = true label, columns = predicted label
            (``sklearn.metrics.confusion_matrix``); VADER has an extra "neutral" column.
        n: texts evaluated.
        seconds_per_text: mean wall time per text, seconds.
        predictions: the predicted labels, in test-set order.
        extra: e.g. LLM ``accuracy_uncalibrated`` / ``accuracy_calibrated``.
        positive_share: fraction of texts predicted positive (a bias towards one label shows
            here next to the true share).
        recall: true label -> recall (``sklearn.metrics.recall_score`` per class; NaN when the
            set has no text of that label).
    """

    approach: str
    accuracy: float
    confusion: pd.DataFrame
    n: int
    seconds_per_text: float
    predictions: list[str]
    extra: dict = field(default_factory=dict)
    positive_share: float = float("nan")
    recall: dict = field(default_factory=dict)


def evaluate_predictions(approach: str, truth: Sequence[str], predicted: Sequence[str],
                         seconds: float, extra: dict | None = None) -> Evaluation:
    """Accuracy and confusion matrix of ``predicted`` against ``truth``."""
    from sklearn.metrics import accuracy_score, confusion_matrix

    cols = list(LABELS) + ([NEUTRAL] if NEUTRAL in predicted else [])
    cm = confusion_matrix(list(truth), list(predicted), labels=cols)
    frame = pd.DataFrame(cm, index=cols, columns=cols).loc[list(LABELS)]
    frame.index.name, frame.columns.name = "true", "predicted"
    support = frame.sum(axis=1)
    recall = {lab: float(frame.loc[lab, lab] / support[lab]) if support[lab] else float("nan") for lab in LABELS}
    return Evaluation(
        approach=approach, accuracy=float(accuracy_score(list(truth), list(predicted))),
        confusion=frame, n=len(truth), seconds_per_text=seconds / max(1, len(truth)),
        predictions=list(predicted), extra=extra or {},
        positive_share=float(np.mean([p == POSITIVE for p in predicted])) if len(predicted) else float("nan"),
        recall=recall,
    )


LABEL_ALIASES = {
    POSITIVE: ("positive", "pos", "1", "1.0", "+1", "+", "true", "yes"),
    NEGATIVE: ("negative", "neg", "0", "0.0", "-1", "-", "false", "no"),
}
"""Accepted spellings of the two labels in a user's CSV (compared lower-cased, stripped)."""


def labelled_set(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Message]]:
    """A user's labelled texts (``components.textio.column_texts`` with a label column) as an
    evaluation set: labels normalised to ``positive`` / ``negative`` (:data:`LABEL_ALIASES`),
    other labels dropped with a notice, texts capped like single texts (:func:`check_text`).

    Returns:
        (frame with ``text``, ``label``, ``row``; notices).

    Raises:
        SentimentInputError: no row has a recognised label (``sentiment.eval.no_labels``).
    """
    lookup = {alias: lab for lab, aliases in LABEL_ALIASES.items() for alias in aliases}
    labels = frame["label"].astype(str).str.strip().str.lower().map(lookup)
    notices: list[Message] = []
    unknown = frame.loc[labels.isna(), "label"].astype(str)
    if len(unknown):
        shown = ", ".join(repr(v) for v in list(dict.fromkeys(unknown))[:5])
        notices.append(Message("sentiment.eval.dropped_labels", {"n": len(unknown), "values": shown}))
    out = frame.loc[labels.notna(), ["row", "text"]].assign(label=labels[labels.notna()]).reset_index(drop=True)
    if out.empty:
        raise SentimentInputError("sentiment.eval.no_labels", values=shown if len(unknown) else "")
    texts, cut = [], 0
    for text in out["text"]:
        text, notes = check_text(text)
        texts.append(text)
        cut += bool(notes)
    if cut:
        notices.append(Message("sentiment.batch.long", {"n": cut, "limit": f"{MAX_CHARS:,}"}))
    return out.assign(text=texts), notices


def evaluate(approach: str, loaded=None, head: SentimentHead | None = None,
             settings: PromptSettings = PromptSettings(), test: pd.DataFrame | None = None) -> Evaluation:
    """Evaluate one approach on the held-out set (default ``test.csv``).

    Args:
        approach: ``"vader"``, ``"head"`` (needs ``loaded`` = MiniLM and ``head``),
            ``"llm"`` (needs ``loaded`` = SmolLM2), ``"sst2"`` (needs ``loaded``).

    Raises:
        ValueError: unknown approach or missing model.
    """
    test = load_dataset("test") if test is None else test
    texts, truth = test["text"].tolist(), test["label"].tolist()
    start = time.perf_counter()
    extra: dict = {}
    if approach == VADER:
        pred, _ = vader_predict(texts)
    elif approach == HEAD:
        if loaded is None or head is None:
            raise ValueError("head evaluation needs the MiniLM model and a trained head")
        pred, _ = head_predict(loaded, head, texts)
    elif approach == LLM:
        if loaded is None:
            raise ValueError("LLM evaluation needs the causal LM")
        pred, _, detail = llm_predict(loaded, texts, settings)
        raw = [binary_label(v) for v in detail["uncalibrated"][:, 1]]
        cal = [binary_label(v) for v in detail["calibrated"][:, 1]]
        extra = {
            "accuracy_uncalibrated": float(np.mean([a == b for a, b in zip(raw, truth)])),
            "accuracy_calibrated": float(np.mean([a == b for a, b in zip(cal, truth)])),
            "content_free": detail["content_free"].tolist(),
        }
    elif approach == SST2:
        if loaded is None:
            raise ValueError("SST-2 evaluation needs the classifier")
        pred, _ = sst2_predict(loaded, texts)
    else:
        raise ValueError(f"unknown approach {approach!r}")
    return evaluate_predictions(approach, truth, pred, time.perf_counter() - start, extra)



NOT_MEANINGFUL = "not_meaningful"
"""Label id shown instead of the verdict when too little of the text was readable."""


def meaningful(result: dict) -> bool:
    """False when too little of the text was readable (:mod:`components.coverage`): the label
    is then reported as not meaningful. Results without coverage (older curated files) count
    as meaningful."""
    return bool(result.get("coverage", {}).get("meaningful", True))


def shown_label(result: dict) -> str:
    """Label id to show: the verdict, or :data:`NOT_MEANINGFUL` under low coverage."""
    return result["label"] if meaningful(result) else NOT_MEANINGFUL


def shown_label_key(result: dict) -> str:
    """i18n key of the label to show: the verdict, or "not meaningful" under low coverage."""
    label = shown_label(result)
    return "coverage.not_meaningful" if label == NOT_MEANINGFUL else f"sentiment.label.{label}"


def results_table(results: Sequence[dict]) -> pd.DataFrame:
    """One row per approach, keyed by column ids (the UI words headers and cells,
    ``components.sentiment_wording.table``): ``approach`` (id), ``label`` (:func:`shown_label`),
    ``p_positive`` (rounded to 4 places), ``compound`` (VADER's, else None), ``coverage``
    (:func:`components.coverage.short`, "" without coverage). ``results``: :func:`result_dict` dicts."""
    return pd.DataFrame({
        "approach": [r["approach"] for r in results],
        "label": [shown_label(r) for r in results],
        "p_positive": [round(float(r["p_positive"]), 4) for r in results],
        "compound": [r["extra"].get("compound") for r in results],
        "coverage": [coverage.short(r["coverage"]) if r.get("coverage") else "" for r in results],
    })


def percent_cell(value: float) -> str:
    """A share as a table cell (``"61.0%"``); ``"–"`` when undefined (NaN: no text of that label)."""
    return "–" if value != value else f"{value:.1%}"


def evaluation_frame(evals: Sequence[Evaluation]) -> pd.DataFrame:
    """One row per :class:`Evaluation`, keyed by column ids (worded by the UI like
    :func:`results_table`): ``approach`` (id), ``accuracy`` (3 places), ``positive_share``,
    ``recall_positive``, ``recall_negative`` (:func:`percent_cell`), ``ms_per_text``, ``note``
    (the LLM's uncalibrated / calibrated accuracy as a :class:`Message`, else "")."""
    rows = []
    for ev in evals:
        note = ""
        if ev.approach == LLM:
            note = Message("sentiment.eval.llm_note", {"raw": f"{ev.extra['accuracy_uncalibrated']:.3f}",
                                                       "cal": f"{ev.extra['accuracy_calibrated']:.3f}"})
        rows.append({"approach": ev.approach, "accuracy": round(ev.accuracy, 3),
                     "positive_share": percent_cell(ev.positive_share),
                     "recall_positive": percent_cell(ev.recall.get(POSITIVE, float("nan"))),
                     "recall_negative": percent_cell(ev.recall.get(NEGATIVE, float("nan"))),
                     "ms_per_text": round(ev.seconds_per_text * 1000, 2), "note": note})
    return pd.DataFrame(rows)
