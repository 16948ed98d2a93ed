"""Presenter-mode examples of the Sentiment page (``curated/sentiment.json``).

Four sentences that show where each generation of NLP stands: an obvious positive, a negation
("not bad at all"), sarcasm, and a Chinese sentence (VADER's English lexicon sees nothing
there). Each is scored by the three bundled approaches -- VADER, the logistic-regression head
on frozen MiniLM embeddings, SmolLM2 prompted zero-shot with the page's default prompt -- with
leave-one-out word attributions, exactly as the page computes them with its default settings.
A fifth example, ``"kind": "domains"``, is the page's "approaches × sets" view: macro-F1 with a
bootstrap 95 % interval of each approach on a fixed stratified sample (:data:`DOMAINS_CAP` rows
per set, seed :data:`DOMAINS_SEED`) of each of the VADER paper's four sets, and VADER on the
full sets beside the paper's Table 4 (Hutto & Gilbert, ICWSM-14).
Deterministic: VADER is rules, the head is trained with a fixed seed, the LLM reads logits (no
sampling), the samples and bootstrap are seeded. Wall times are left out (they differ from run
to run).

Regenerate with ``HF_HUB_OFFLINE=1 python -m scripts.build_curated sentiment``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components import sentiment as S
from components import sentiment_benchmarks as B
from components.catalog import MINILM, SMOLLM2

EXAMPLES: tuple[tuple[str, dict[str, str], str], ...] = (
    ("positive", {"en": "An obvious positive", "zh": "明显的正面评价"},
     "The battery lasts all week and the screen is gorgeous. Best phone I've owned!"),
    ("negation", {"en": "Negation: \"not bad at all\"", "zh": "否定：“not bad at all”（一点也不差）"},
     "Honestly, the hotel was not bad at all."),
    ("sarcasm", {"en": "Sarcasm", "zh": "反讽"},
     "Oh great, my flight got cancelled again. Just what I needed."),
    ("chinese", {"en": "A Chinese sentence", "zh": "一句中文"},
     "这家餐厅的菜很好吃，服务也很周到。"),
)

DOMAINS_CAP = 40  # rows per set: SmolLM2 reads ~1 s per snippet on CPU, 4 sets stay near 3 minutes
DOMAINS_SEED = 0
DOMAINS_TITLE = {"en": "No approach wins everywhere", "zh": "没有哪种方法处处领先"}


def score_all(text: str, get_model: Callable[[str], Any], head: S.SentimentHead | None = None,
              settings: S.PromptSettings = S.PromptSettings(), attribution: bool = True) -> list[dict]:
    """The three bundled approaches on ``text``, as :func:`components.sentiment.result_dict`
    dicts without timings (VADER, head, LLM order).

    Args:
        get_model: ``catalog key -> LoadedModel``.
        head: a trained head (trained here on ``train.csv`` when None).
    """
    minilm = get_model(MINILM)
    head = head or S.train_head(minilm)
    return [
        S.result_dict(S.vader_sentiment(text, attribution), timings=False),
        S.result_dict(S.head_sentiment(minilm, head, text, attribution), timings=False),
        S.result_dict(S.llm_sentiment(get_model(SMOLLM2), text, settings, attribution), timings=False),
    ]


def build(get_model: Callable[[str], Any]) -> list[dict]:
    """The curated examples: ``[{"id", "title": {"en", "zh"}, "params": {"text": ...},
    "result": {"text", "results": [result dicts]}}]`` (see :mod:`components.curated`)."""
    head = S.train_head(get_model(MINILM))
    out = []
    for ex_id, title, text in EXAMPLES:
        out.append({
            "id": ex_id, "title": title, "params": {"input": "single", "text": text},
            "result": {"text": text, "results": score_all(text, get_model, head)},
        })
    out.append(domains(get_model, head))
    return out


def domains(get_model: Callable[[str], Any], head: S.SentimentHead | None = None,
            cap: int = DOMAINS_CAP, seed: int = DOMAINS_SEED) -> dict:
    """The "approaches × sets" example: ``{"id": "domains", "kind": "domains", "title",
    "params": {"bset", "bcap", "bseed"}, "result": {"cap", "seed", "approaches", "cells":
    [:func:`components.sentiment_benchmarks.cell_record`], "paper": [VADER full-set cells]}}``.

    Each cell is :func:`components.sentiment_benchmarks.run` (the page's own evaluation, default
    prompt settings) on ``cap`` stratified rows drawn with ``seed``; "paper" holds VADER on every
    full set (:data:`components.sentiment_benchmarks.MAX_CAP` rows), the page's paper comparison.
    """
    minilm = get_model(MINILM)
    head = head or S.train_head(minilm)
    models = {S.VADER: None, S.HEAD: minilm, S.LLM: get_model(SMOLLM2)}
    cells = [B.cell_record(B.run(a, name, cap, seed, loaded, head if a == S.HEAD else None))
             for name in B.SETS for a, loaded in models.items()]
    paper = [B.cell_record(B.run(S.VADER, name, B.MAX_CAP, B.DEFAULT_SEED)) for name in B.SETS]
    return {"id": "domains", "kind": "domains", "title": DOMAINS_TITLE,
            "params": {"bset": B.SETS[0], "bcap": cap, "bseed": seed},
            "result": {"cap": cap, "seed": seed, "approaches": list(models), "cells": cells, "paper": paper}}
