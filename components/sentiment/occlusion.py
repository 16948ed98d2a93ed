"""Leave-one-out occlusion attribution (Zeiler & Fergus 2014; Li et al. 2016 "Understanding
neural networks through representation erasure"): the units of a text (whitespace words, one
CJK character each), the text without one unit, and the weight of each unit =
score(text) - score(text without it).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from components.messages import Message
from components.sentiment.base import MAX_OCCLUSION_WORDS, OCCLUSION_MAX_CHARS

_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
                  r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def units_of(text: str) -> list[tuple[int, int, bool]]:
    """The units of occlusion: whitespace-separated words, except that every CJK character
    (Chinese, Japanese, Korean, incl. full-width punctuation) is a unit of its own -- Chinese is
    written without spaces, so a whitespace word can be a whole sentence.

    Returns:
        ``[(start, end, spaced)]``: character offsets into ``text`` (``text[start:end]`` is the
        unit as typed) and whether whitespace precedes it.
    """
    out: list[tuple[int, int, bool]] = []
    for match in re.finditer(r"[^\s]+", text):
        start, word = match.start(), match.group()
        spaced = start > 0
        run = None
        for i, ch in enumerate(word):
            if _CJK.match(ch):
                if run is not None:
                    out.append((start + run, start + i, spaced))
                    spaced, run = False, None
                out.append((start + i, start + i + 1, spaced))
                spaced = False
            elif run is None:
                run = i
        if run is not None:
            out.append((start + run, start + len(word), spaced))
    return out


def without_unit(text: str, start: int, end: int) -> str:
    """``text`` with ``text[start:end]`` removed. A unit standing alone between whitespace
    takes one neighbouring whitespace run with it (the following one, at the end of the text
    the preceding one), so no double space is left; a unit touching other characters (a CJK
    character inside a sentence) is cut out alone, so its neighbours do not merge."""
    left_free = start == 0 or text[start - 1].isspace()
    after = end
    while after < len(text) and text[after].isspace():
        after += 1
    if not left_free:
        return text[:start] + text[end:]
    if after > end:
        return text[:start] + text[after:]
    if end == len(text):
        before = start
        while before > 0 and text[before - 1].isspace():
            before -= 1
        return text[:before]
    return text[:start] + text[end:]


def occlusion(
    text: str,
    score_fn: Callable[[list[str]], Sequence[float]],
    max_words: int = MAX_OCCLUSION_WORDS,
    whole_chars: int | None = None,
) -> tuple[list[tuple[str, float, bool]], list[Message]]:
    """Leave-one-out occlusion: how much the score drops when each unit is removed.

    Args:
        text: the input text.
        score_fn: maps a list of texts to one score each (here P(positive) or VADER compound);
            it is called once, on ``[text] + [text without unit i for each i]`` (units:
            :func:`units_of`; everything else in the text is left exactly as typed).
        max_words: units beyond this are not occluded (weight 0; a notice says so).
            Texts over ``OCCLUSION_MAX_CHARS`` characters are not occluded at all (all
            weights 0, notice ``sentiment.notice.occlusion_skipped``).
        whole_chars: length of the text the user gave when ``text`` is a cut of it (the LLM
            reads a token-capped prefix); the character rule applies to the whole text, so
            every approach skips the same pastes.

    Returns:
        ([(unit as typed, score(text) - score(text without it), spaced)] for every unit, notices).
    """
    units = units_of(text)
    chars = max(len(text), whole_chars or 0)
    if chars > OCCLUSION_MAX_CHARS:
        return ([(text[a:b], 0.0, sp) for a, b, sp in units],
                [Message("sentiment.notice.occlusion_skipped", {"chars": f"{chars:,}", "limit": f"{OCCLUSION_MAX_CHARS:,}"})])
    n = min(len(units), max_words)
    variants = [without_unit(text, a, b) for a, b, _ in units[:n]]
    scores = [float(s) for s in score_fn([text] + variants)]
    base = scores[0]
    weights = [(text[a:b], base - scores[i + 1], sp) for i, (a, b, sp) in enumerate(units[:n])]
    weights += [(text[a:b], 0.0, sp) for a, b, sp in units[n:]]
    notices: list[Message] = []
    if len(units) > n:
        notices.append(Message("sentiment.notice.occlusion_cut", {"n": n, "total": len(units)}))
    return weights, notices
