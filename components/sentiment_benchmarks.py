"""The four human-rated sets of the VADER paper as evaluation sets, and their statistics.
Pure: no streamlit.

Source: Hutto, C.J. & Gilbert, E.E. (2014). *VADER: A Parsimonious Rule-based Model for
Sentiment Analysis of Social Media Text.* Eighth International Conference on Weblogs and Social
Media (ICWSM-14), Ann Arbor, MI. The sets ship in ``data/sentiment/vader_icwsm2014/`` (MIT,
from the vaderSentiment 3.3.2 source distribution): ``id``, ``mean_rating`` (mean of about 20
human ratings on -4..+4) and ``text``.

Binary label rule (:func:`load_benchmark`): positive if the mean rating is > 0, negative if < 0;
rows with a mean of exactly 0 are dropped.

Statistics (:func:`score`):

* accuracy with a Wilson score 95 % interval (Wilson 1927; ``scipy.stats.binomtest(...)
  .proportion_ci(method="wilson")``);
* macro-F1 over the two true classes with a seeded percentile bootstrap 95 % interval
  (Efron & Tibshirani 1993; ``scipy.stats.bootstrap``, paired resampling of rows);
* a VADER "neutral" prediction (compound in (-0.05, 0.05)) is counted as wrong: it is a miss
  for the true class and a false positive for neither class;
* Spearman rank correlation of the approach's continuous score with the mean human rating
  (``scipy.stats.spearmanr``).
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from components import sentiment as S
from components.messages import Message

BENCHMARK_DIR = Path(__file__).resolve().parents[1] / "data" / "sentiment" / "vader_icwsm2014"
SETS = ("tweets", "amazon", "movies", "nyt")
FILES = {name: BENCHMARK_DIR / f"{name}.tsv" for name in SETS}
PAPER_VADER_F1 = {"tweets": 0.96, "amazon": 0.63, "movies": 0.61, "nyt": 0.55}
"""F1 of the "VADER" row of Table 4 of Hutto & Gilbert (2014): 3-class (positive / neutral /
negative) classification, thresholds -0.05 / +0.05 on the compound score. The tweets figure is
also in the paper's text ("VADER (F1 = 0.96)")."""
DEFAULT_CAP = 60     # rows per set for the slow approaches: SmolLM2 0.6-0.9 s per snippet on 2 busy cores
MIN_CAP, MAX_CAP = 20, 20_000
DEFAULT_SEED = 0
BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
PROGRESS_CHUNK = 32  # texts per progress step
_CODES = {S.NEGATIVE: 0, S.POSITIVE: 1, S.NEUTRAL: 2}


@lru_cache(maxsize=len(SETS))
def _read(name: str) -> pd.DataFrame:
    if name not in FILES:
        raise ValueError(f"unknown set {name!r}; choose one of {', '.join(SETS)}")
    return pd.read_csv(FILES[name], sep="\t", quoting=csv.QUOTE_NONE, dtype={"id": str, "text": str},
                       keep_default_na=False, encoding="utf-8")


def load_benchmark(name: str) -> pd.DataFrame:
    """One of :data:`SETS` with binary labels.

    Returns:
        DataFrame with ``id`` (str), ``text`` (str), ``mean_rating`` (float, -4..+4) and
        ``label`` ("positive" if mean_rating > 0, "negative" if < 0); rows with mean_rating == 0
        are dropped (:func:`set_summary` counts them). A fresh copy on every call.

    Raises:
        ValueError: unknown set name.
    """
    raw = _read(name)
    kept = raw[raw["mean_rating"] != 0]
    label = np.where(kept["mean_rating"] > 0, S.POSITIVE, S.NEGATIVE)
    return kept.assign(label=label)[["id", "text", "mean_rating", "label"]].reset_index(drop=True)


def set_summary(name: str) -> dict:
    """``{"rows", "dropped_zero", "kept", "positive", "negative"}`` of a set (counts of rows)."""
    raw = _read(name)
    kept = load_benchmark(name)
    return {"rows": len(raw), "dropped_zero": int((raw["mean_rating"] == 0).sum()), "kept": len(kept),
            "positive": int((kept["label"] == S.POSITIVE).sum()),
            "negative": int((kept["label"] == S.NEGATIVE).sum())}


def sample(frame: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """A stratified (by ``label``) random sample of ``cap`` rows, or the whole frame when
    ``cap >= len(frame)``. Class proportions are kept (``sklearn.model_selection.train_test_split``
    with ``stratify``); the same ``seed`` gives the same rows. Row order of ``frame`` is kept."""
    from sklearn.model_selection import train_test_split

    if cap >= len(frame):
        return frame.reset_index(drop=True)
    picked, _ = train_test_split(frame.index.to_numpy(), train_size=int(cap), stratify=frame["label"],
                                 random_state=int(seed))
    return frame.loc[np.sort(picked)].reset_index(drop=True)


def _macro_f1_codes(truth: np.ndarray, pred: np.ndarray, axis: int = -1) -> np.ndarray:
    """Macro-F1 over the true classes 0 (negative) and 1 (positive); code 2 (neutral) is a
    miss for its true class. Vectorised along ``axis`` (for the bootstrap). F1 = 2TP / (2TP + FP + FN)."""
    scores = []
    for c in (0, 1):
        tp = np.sum((truth == c) & (pred == c), axis=axis)
        fp = np.sum((truth != c) & (pred == c), axis=axis)
        fn = np.sum((truth == c) & (pred != c), axis=axis)
        denom = 2 * tp + fp + fn
        scores.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
    return (scores[0] + scores[1]) / 2


def macro_f1(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over "negative" and "positive" (``predicted`` may contain "neutral", counted wrong).
    Equal to ``sklearn.metrics.f1_score(truth, predicted, labels=["negative", "positive"], average="macro")``."""
    return float(_macro_f1_codes(np.array([_CODES[v] for v in truth]), np.array([_CODES[v] for v in predicted])))


def wilson_interval(correct: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion ``correct / n`` (``scipy.stats.binomtest``)."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_macro_f1(truth: Sequence[str], predicted: Sequence[str], seed: int,
                       resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`macro_f1` (rows resampled with replacement, paired;
    ``scipy.stats.bootstrap``, ``random_state=seed``). Returns (low, high)."""
    from scipy.stats import bootstrap

    t = np.array([_CODES[v] for v in truth])
    p = np.array([_CODES[v] for v in predicted])
    if len(t) < 2:
        return float("nan"), float("nan")
    res = bootstrap((t, p), _macro_f1_codes, paired=True, vectorized=True, n_resamples=resamples,
                    confidence_level=confidence, method="percentile", batch=100,
                    random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


@dataclass
class BenchmarkResult:
    """One approach on one (sampled) set.

    Attributes:
        approach, set_name, cap, seed: what was run (``cap`` as asked; ``n`` rows were used).
        n: rows evaluated; accuracy and ``accuracy_ci`` (Wilson 95 %); ``macro_f1`` and
        ``macro_f1_ci`` (bootstrap 95 %, seeded with ``seed``); ``positive_share`` and
        ``neutral_share`` of predictions; ``true_positive_share``; ``recall`` per true label;
        ``spearman`` (rho, p-value) of the continuous score with the mean rating;
        ``seconds_per_text``; ``extra`` (e.g. the LLM's calibrated / uncalibrated accuracy).
    """

    approach: str
    set_name: str
    cap: int
    seed: int
    n: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    macro_f1: float
    macro_f1_ci: tuple[float, float]
    positive_share: float
    neutral_share: float
    true_positive_share: float
    recall: dict
    spearman: tuple[float, float]
    seconds_per_text: float
    extra: dict = field(default_factory=dict)


def predict_scores(approach: str, texts: Sequence[str], loaded=None, head=None,
                   settings: S.PromptSettings = S.PromptSettings(),
                   progress: Callable[[int, int], None] | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Labels and a continuous score per text, in chunks of :data:`PROGRESS_CHUNK` texts with
    ``progress(done, total)`` after each chunk.

    Score: VADER compound (-1..1); head and LLM P(positive) (0..1); these are what Spearman ρ
    ranks. The LLM's extra dict holds its uncalibrated / calibrated P(positive) per text.

    Raises:
        ValueError: unknown approach or missing model.
    """
    if approach not in (S.VADER, S.HEAD, S.LLM, S.SST2):
        raise ValueError(f"unknown approach {approach!r}")
    if approach != S.VADER and loaded is None or approach == S.HEAD and head is None:
        raise ValueError(f"{approach} needs its model")
    labels: list[str] = []
    scores: list[np.ndarray] = []
    raw, cal = [], []
    texts = list(texts)
    for start in range(0, len(texts), PROGRESS_CHUNK):
        chunk = texts[start:start + PROGRESS_CHUNK]
        if approach == S.VADER:
            lab, p = S.vader_predict(chunk)
            s = 2 * p - 1  # back to the compound score
        elif approach == S.HEAD:
            lab, s = S.head_predict(loaded, head, chunk)
        elif approach == S.LLM:
            lab, s, detail = S.llm_predict(loaded, chunk, settings)
            raw.append(detail["uncalibrated"][:, 1])
            cal.append(detail["calibrated"][:, 1])
        else:
            lab, s = S.sst2_predict(loaded, chunk)
        labels += list(lab)
        scores.append(np.asarray(s, dtype=float))
        if progress is not None:
            progress(min(start + len(chunk), len(texts)), len(texts))
    extra = {"uncalibrated": np.concatenate(raw), "calibrated": np.concatenate(cal)} if raw else {}
    return labels, np.concatenate(scores) if scores else np.zeros(0), extra


def score(approach: str, set_name: str, frame: pd.DataFrame, predicted: Sequence[str], values: np.ndarray,
          seconds: float, cap: int, seed: int, extra: dict | None = None) -> BenchmarkResult:
    """Statistics of ``predicted`` (labels) and ``values`` (continuous scores) against ``frame``
    (:func:`load_benchmark` rows, possibly :func:`sample`\\ d). See the module docstring."""
    from scipy.stats import spearmanr

    truth = frame["label"].tolist()
    n = len(truth)
    correct = int(sum(a == b for a, b in zip(truth, predicted)))
    pred = np.array(list(predicted))
    recall = {}
    for lab in S.LABELS:
        mask = frame["label"].to_numpy() == lab
        recall[lab] = float((pred[mask] == lab).mean()) if mask.any() else float("nan")
    rho = spearmanr(np.asarray(values, dtype=float), frame["mean_rating"].to_numpy(dtype=float))
    return BenchmarkResult(
        approach=approach, set_name=set_name, cap=int(cap), seed=int(seed), n=n,
        accuracy=correct / n if n else float("nan"), accuracy_ci=wilson_interval(correct, n),
        macro_f1=macro_f1(truth, predicted), macro_f1_ci=bootstrap_macro_f1(truth, predicted, seed),
        positive_share=float((pred == S.POSITIVE).mean()) if n else float("nan"),
        neutral_share=float((pred == S.NEUTRAL).mean()) if n else float("nan"),
        true_positive_share=float(np.mean([v == S.POSITIVE for v in truth])) if n else float("nan"),
        recall=recall, spearman=(float(rho.statistic), float(rho.pvalue)),
        seconds_per_text=seconds / max(1, n), extra=extra or {},
    )


def run(approach: str, set_name: str, cap: int, seed: int, loaded=None, head=None,
        settings: S.PromptSettings = S.PromptSettings(),
        progress: Callable[[int, int], None] | None = None) -> BenchmarkResult:
    """Evaluate ``approach`` on a stratified sample (``cap`` rows, ``seed``) of ``set_name``.

    Raises:
        ValueError: unknown set/approach, missing model.
    """
    frame = sample(load_benchmark(set_name), cap, seed)
    start = time.perf_counter()
    predicted, values, detail = predict_scores(approach, frame["text"].tolist(), loaded, head, settings, progress)
    seconds = time.perf_counter() - start
    extra = {}
    if detail:
        truth = frame["label"].tolist()
        for name in ("uncalibrated", "calibrated"):
            labels = [S.POSITIVE if v >= 0.5 else S.NEGATIVE for v in detail[name]]
            extra[f"accuracy_{name}"] = float(np.mean([a == b for a, b in zip(labels, truth)]))
    return score(approach, set_name, frame, predicted, values, seconds, cap, seed, extra)


def paper_comparison(results: dict[str, BenchmarkResult]) -> pd.DataFrame:
    """Rows per set: the paper's VADER F1 (3-class, Table 4) and this page's VADER macro-F1
    (binary, neutral counted wrong) with its interval; ``results``: set name -> result on the
    full set. Untranslated column ids: set, paper_f1, page_macro_f1, low, high, difference."""
    rows = []
    for name in SETS:
        if name in results:
            r = results[name]
            rows.append({"set": name, "paper_f1": PAPER_VADER_F1[name], "page_macro_f1": round(r.macro_f1, 3),
                         "low": round(r.macro_f1_ci[0], 3), "high": round(r.macro_f1_ci[1], 3),
                         "difference": round(r.macro_f1 - PAPER_VADER_F1[name], 3), "n": r.n})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class F1Cell:
    """The numbers of one (approach, set) cell that the cross-domain and paper tables read
    (a stored :class:`BenchmarkResult` without the rest): rows ``n``, ``macro_f1`` and its
    bootstrap 95 % interval ``macro_f1_ci``."""

    approach: str
    set_name: str
    n: int
    macro_f1: float
    macro_f1_ci: tuple[float, float]


def cell_record(r: BenchmarkResult | F1Cell) -> dict:
    """JSON-ready ``{"approach", "set", "n", "macro_f1", "low", "high"}`` of one cell."""
    return {"approach": r.approach, "set": r.set_name, "n": int(r.n), "macro_f1": float(r.macro_f1),
            "low": float(r.macro_f1_ci[0]), "high": float(r.macro_f1_ci[1])}


def cell_from_record(d: dict) -> F1Cell:
    """Inverse of :func:`cell_record`. Raises KeyError/TypeError/ValueError on a damaged record."""
    return F1Cell(str(d["approach"]), str(d["set"]), int(d["n"]), float(d["macro_f1"]),
                  (float(d["low"]), float(d["high"])))


def overlapping_sets(cells: dict[tuple[str, str], BenchmarkResult | F1Cell]) -> list[str]:
    """Set names (in :data:`SETS` order) whose winner's macro-F1 interval overlaps the interval
    of another computed approach on that set: the ★ there is no clear win."""
    best = winners(cells)
    out = []
    for name in SETS:
        if name not in best:
            continue
        lo, hi = cells[(best[name], name)].macro_f1_ci
        if any(s == name and a != best[name] and r.macro_f1_ci[1] >= lo and r.macro_f1_ci[0] <= hi
               for (a, s), r in cells.items()):
            out.append(name)
    return out


def winners(cells: dict[tuple[str, str], BenchmarkResult]) -> dict[str, str]:
    """Set name -> approach with the highest macro-F1 among the computed ``cells``
    ((approach, set) -> result)."""
    best: dict[str, tuple[float, str]] = {}
    for (approach, name), r in cells.items():
        if r.macro_f1 == r.macro_f1 and (name not in best or r.macro_f1 > best[name][0]):
            best[name] = (r.macro_f1, approach)
    return {name: a for name, (_, a) in best.items()}


def result_row(r: BenchmarkResult) -> dict:
    """Untranslated numbers of one result for a table (ids as keys, rounded)."""
    return {
        "approach": r.approach, "set": r.set_name, "n": r.n, "seed": r.seed,
        "accuracy": round(r.accuracy, 3), "accuracy_low": round(r.accuracy_ci[0], 3),
        "accuracy_high": round(r.accuracy_ci[1], 3), "macro_f1": round(r.macro_f1, 3),
        "macro_f1_low": round(r.macro_f1_ci[0], 3), "macro_f1_high": round(r.macro_f1_ci[1], 3),
        "positive_share": round(r.positive_share, 3), "neutral_share": round(r.neutral_share, 3),
        "recall_positive": round(r.recall[S.POSITIVE], 3), "recall_negative": round(r.recall[S.NEGATIVE], 3),
        "spearman": round(r.spearman[0], 3), "ms_per_text": round(r.seconds_per_text * 1000, 2),
    }


# --------------------------------------------------------------------------- tables for the page
# Keyed by column ids with ids in the categorical cells (approach, set); the UI words headers
# and cells (components.sentiment_wording.table).
def _with_ci(value: float, ci: tuple[float, float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def results_frame(results: Sequence[BenchmarkResult]) -> pd.DataFrame:
    """One row per result: ``approach`` (id), ``n`` (rows), ``accuracy_ci`` and ``macro_f1_ci``
    ("0.812 [0.790, 0.833]", 95 % intervals), ``positive_share`` and ``neutral_share`` of
    predictions ("61.0%", "–" when undefined), ``recall_positive`` / ``recall_negative``,
    ``spearman`` (ρ with the mean human rating), ``ms_per_text``, ``note`` (the LLM's
    uncalibrated / calibrated accuracy as a :class:`Message`, else "")."""
    rows = []
    for r in results:
        note = ""
        if r.approach == S.LLM and r.extra:
            note = Message("sentiment.eval.llm_note", {"raw": f"{r.extra['accuracy_uncalibrated']:.3f}",
                                                       "cal": f"{r.extra['accuracy_calibrated']:.3f}"})
        rows.append({
            "approach": r.approach,
            "n": r.n,
            "accuracy_ci": _with_ci(r.accuracy, r.accuracy_ci),
            "macro_f1_ci": _with_ci(r.macro_f1, r.macro_f1_ci),
            "positive_share": S.percent_cell(r.positive_share),
            "neutral_share": S.percent_cell(r.neutral_share),
            "recall_positive": S.percent_cell(r.recall[S.POSITIVE]),
            "recall_negative": S.percent_cell(r.recall[S.NEGATIVE]),
            "spearman": round(r.spearman[0], 3),
            "ms_per_text": round(r.seconds_per_text * 1000, 2),
            "note": note,
        })
    return pd.DataFrame(rows)


def paper_frame(results: dict[str, BenchmarkResult | F1Cell]) -> pd.DataFrame:
    """:func:`paper_comparison` as shown: ``set`` (id), ``n``, ``paper_f1``, ``page_f1``
    (macro-F1 with its interval, as in :func:`results_frame`), ``difference``; an empty frame
    when no set was computed."""
    table = paper_comparison(results)
    if table.empty:
        return table
    return pd.DataFrame({
        "set": table["set"],
        "n": table["n"],
        "paper_f1": table["paper_f1"],
        "page_f1": [_with_ci(r.macro_f1, r.macro_f1_ci) for r in (results[s] for s in table["set"])],
        "difference": table["difference"],
    })


def cross_domain_frame(cells: dict[tuple[str, str], BenchmarkResult | F1Cell],
                       approaches: Sequence[str]) -> pd.DataFrame:
    """Approaches (rows, column ``approach``) × sets (one column per set id in :data:`SETS`):
    macro-F1 [95 % CI] per computed cell, "–" where not computed yet, "★" before the best
    macro-F1 of each set (:func:`winners`)."""
    best = winners(cells)
    rows = []
    for a in approaches:
        row = {"approach": a}
        for name in SETS:
            r = cells.get((a, name))
            row[name] = "–" if r is None else ("★ " if best.get(name) == a else "") + _with_ci(r.macro_f1, r.macro_f1_ci)
        rows.append(row)
    return pd.DataFrame(rows)
