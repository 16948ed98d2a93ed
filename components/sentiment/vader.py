"""The rule-driven approach: VADER (Hutto & Gilbert 2014, ``vaderSentiment``), its per-word
valences after its rules, the label from the compound score with the VADER README thresholds,
and batch prediction.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from components import coverage
from components.sentiment.base import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    VADER,
    VADER_NEG_THRESHOLD,
    VADER_POS_THRESHOLD,
    SentimentResult,
    check_text,
    timed,
)
from components.sentiment.occlusion import occlusion


@lru_cache(maxsize=1)
def vader_analyzer():
    """The shared ``SentimentIntensityAnalyzer`` (stateless after loading its lexicon)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader_clean(analyzer, text: str) -> str:
    """VADER's own emoji-to-description step (copied from ``polarity_scores``)."""
    out, prev_space = "", True
    for ch in text:
        if ch in analyzer.emojis:
            if not prev_space:
                out += " "
            out += analyzer.emojis[ch]
            prev_space = False
        else:
            out += ch
            prev_space = ch == " "
    return out.strip()


def vader_word_valences(text: str) -> tuple[list[tuple[str, float]], dict]:
    """VADER's per-word valences after its rules, and the scores they add up to.

    Re-runs the loop of ``SentimentIntensityAnalyzer.polarity_scores`` (vaderSentiment 3.3)
    and returns its internal ``sentiments`` list next to its words, so every valence is what
    VADER itself summed: lexicon value, scaled by boosters/caps, flipped by negation,
    re-weighted around "but". ``score_valence`` of these equals ``polarity_scores(text)``
    (asserted in the tests).

    Returns:
        ([(word, valence)], scores dict with neg/neu/pos/compound).
    """
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    analyzer = vader_analyzer()
    clean = _vader_clean(analyzer, text)
    words = SentiText(clean).words_and_emoticons
    sentitext = SentiText(clean)
    sentiments: list[float] = []
    for i, item in enumerate(words):
        if item.lower() in BOOSTER_DICT:
            sentiments.append(0)
            continue
        if i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of":
            sentiments.append(0)
            continue
        sentiments = analyzer.sentiment_valence(0, sentitext, item, i, sentiments)
    sentiments = analyzer._but_check(words, sentiments)
    scores = analyzer.score_valence(sentiments, clean)
    return [(w, float(v)) for w, v in zip(words, sentiments)], scores


def vader_valences_by_word(text: str) -> tuple[list[tuple[str, float, bool]], bool]:
    """VADER's per-word valences (:func:`vader_word_valences`) on the words *as typed*.

    VADER splits on whitespace, strips edge punctuation from each word (``<b>x</b>`` becomes
    ``b>x</b``) and replaces each emoji by its description (one emoji -> several words). Both
    steps are local to one whitespace word, so running them on each typed word alone gives
    VADER's tokens in order; the valences of a typed word's tokens are summed.

    Returns:
        ([(word as typed, summed valence, spaced)] -- ``spaced``: whitespace came before the
        word), aligned) where ``aligned`` is False if the per-word tokens did not reproduce
        VADER's token list (then the words are VADER's own tokens, punctuation stripped).
    """
    from vaderSentiment.vaderSentiment import SentiText

    valences, _ = vader_word_valences(text)
    analyzer = vader_analyzer()
    typed = list(re.finditer(r"\S+", text))
    counts = [len(SentiText(_vader_clean(analyzer, m.group())).words_and_emoticons) for m in typed]
    tokens = [w for w, _ in valences]
    per_word = [w for m in typed for w in SentiText(_vader_clean(analyzer, m.group())).words_and_emoticons]
    if per_word != tokens:  # defensive: never seen, but fall back to VADER's own tokens
        return [(w, v, i > 0) for i, (w, v) in enumerate(valences)], False
    out, pos = [], 0
    for m, k in zip(typed, counts):
        out.append((m.group(), float(sum(v for _, v in valences[pos:pos + k])), m.start() > 0))
        pos += k
    return out, True


def vader_label(compound: float) -> str:
    """VADER README thresholds: >= 0.05 positive, <= -0.05 negative, else neutral."""
    if compound >= VADER_POS_THRESHOLD:
        return POSITIVE
    if compound <= VADER_NEG_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def vader_sentiment(text: str, attribution: bool = True) -> SentimentResult:
    """Score ``text`` with VADER.

    Returns:
        label from the compound score; ``scores`` = VADER's neg/neu/pos proportions;
        ``p_positive`` = (compound + 1) / 2; attribution on the compound score;
        ``extra``: ``compound``, ``word_valences`` ``[[word as typed, valence, spaced]]``
        and ``valences_aligned`` (see :func:`vader_valences_by_word`).

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    analyzer = vader_analyzer()
    raw, seconds = timed(analyzer.polarity_scores, text)
    valences, aligned = vader_valences_by_word(text)
    result = SentimentResult(
        approach=VADER,
        label=vader_label(raw["compound"]),
        scores={NEGATIVE: raw["neg"], NEUTRAL: raw["neu"], POSITIVE: raw["pos"]},
        p_positive=(raw["compound"] + 1) / 2,
        seconds=seconds,
        notices=notices,
        extra={"compound": raw["compound"], "word_valences": [list(v) for v in valences],
               "valences_aligned": aligned},
        coverage=coverage.vader_coverage(text, analyzer).as_dict(),
    )
    if attribution:
        def score(texts):
            return [analyzer.polarity_scores(t)["compound"] for t in texts]

        (weights, occ_notices), result.attribution_seconds = timed(occlusion, text, score)
        result.attribution = weights
        result.notices += occ_notices
    return result


def vader_predict(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch VADER: (labels incl. "neutral", p_positive = (compound + 1) / 2 per text)."""
    analyzer = vader_analyzer()
    compounds = np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)
    return [vader_label(c) for c in compounds], (compounds + 1) / 2
