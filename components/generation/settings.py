"""Decoding settings of a generation request and the per-request caps.

Responsibility: what a request may ask (:data:`MAX_NEW_TOKENS`, :data:`MAX_PROMPT_TOKENS`,
:func:`max_generation_seconds`), the settings themselves (:class:`GenerationSettings`, named as in
``transformers.GenerationConfig``), :func:`normalize_settings` for edge cases (each change with a
:data:`Notice`), and how settings become ``model.generate`` keyword arguments
(:func:`generate_kwargs`) and ``transformers`` logits processors (:func:`logits_processors`,
in ``GenerationMixin._get_logits_processor``'s order). Sources: nucleus sampling (Holtzman et
al. 2020), CTRL repetition penalty (Keskar et al. 2019), transformers' generation utilities.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

from components.loading import LoadedModel

MAX_NEW_TOKENS = 512
"""Largest ``max_new_tokens`` one request may ask for (the page's slider maximum, enforced
again in :func:`normalize_settings` for links and programmatic callers)."""
MAX_PROMPT_TOKENS = 512
"""Prompt tokens kept at most (the end of the prompt; older tokens are cut with a notice).
Measured on the 2-core machine under load (load average ~18): one forward pass of
SmolLM2-135M (eager attention) over 1024 tokens took 30 s, so the page -- which runs two
(generation + next-token view) -- keeps at most 512 prompt tokens, plus up to
:data:`MAX_NEW_TOKENS` new ones. Tokenising the whole text first is cheap (100 000
characters take ~0.05-0.5 s)."""
MAX_GENERATION_SECONDS = 60.0
"""Default wall-clock budget of one sample, seconds (see :func:`max_generation_seconds`)."""
MAX_SECONDS_ENV = "LLM_LAB_MAX_GENERATION_SECONDS"

Notice = tuple[str, dict]
"""A message for the user: (i18n key under ``generation.notice``, placeholder values)."""


def max_generation_seconds() -> float:
    """Wall-clock budget of one sample in seconds: :data:`MAX_GENERATION_SECONDS`, or the
    environment variable ``LLM_LAB_MAX_GENERATION_SECONDS`` when it holds a positive finite
    number (operators; tests use a tiny value). Invalid values fall back to the default."""
    raw = os.environ.get(MAX_SECONDS_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return MAX_GENERATION_SECONDS
    return value if 0 < value < float("inf") else MAX_GENERATION_SECONDS


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings, named as in ``transformers.GenerationConfig``.

    Attributes:
        max_new_tokens: tokens to generate at most (never ``max_length``).
        do_sample: sample (True) or greedy argmax decoding (False).
        temperature: logits are divided by it before softmax (> 0; 0 means greedy).
        top_k: keep only the k most likely tokens (0 = off).
        top_p: keep the smallest set of tokens whose probability sums to >= top_p
            (nucleus sampling, Holtzman et al. 2020; 1.0 = off, 0 = greedy).
        repetition_penalty: CTRL penalty (Keskar et al. 2019) on tokens already present
            (1.0 = off; > 1 discourages repeats).
        no_repeat_ngram_size: forbid repeating any n-gram of this size (0 = off).
        num_samples: independent continuations, sample i seeded with ``seed + i``.
        seed: RNG seed; same seed + settings -> same text.
    """

    max_new_tokens: int = 64
    do_sample: bool = True
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    num_samples: int = 1
    seed: int = 42


def normalize_settings(settings: GenerationSettings) -> tuple[GenerationSettings, list[Notice]]:
    """Make edge-case settings well-defined; return (settings, notices for the user).

    * max_new_tokens < 1 -> 1; > :data:`MAX_NEW_TOKENS` -> :data:`MAX_NEW_TOKENS`;
    * temperature <= 0 or not finite -> greedy (dividing logits by 0 is undefined; its limit
      is argmax);
    * top_p <= 0 -> greedy (an empty nucleus keeps only the top token); top_p > 1 -> 1;
    * top_k < 0 -> 0 (off); repetition_penalty <= 0 or not finite -> 1.0 (off);
      no_repeat_ngram_size < 0 -> 0; num_samples < 1 -> 1;
    * greedy with num_samples > 1 -> one sample (greedy is deterministic: they would be equal).

    Notices are ``(key, values)`` with keys under ``generation.notice``.
    """
    import math

    notices: list[Notice] = []
    s = settings
    if s.max_new_tokens < 1:
        s = replace(s, max_new_tokens=1)
        notices.append(("generation.notice.min_tokens", {}))
    if s.max_new_tokens > MAX_NEW_TOKENS:
        notices.append(("generation.notice.max_tokens", {"asked": s.max_new_tokens, "cap": MAX_NEW_TOKENS}))
        s = replace(s, max_new_tokens=MAX_NEW_TOKENS)
    if not math.isfinite(s.top_p) or s.top_p > 1:
        s = replace(s, top_p=1.0)
    if s.top_k < 0:
        s = replace(s, top_k=0)
    if not math.isfinite(s.repetition_penalty) or s.repetition_penalty <= 0:
        s = replace(s, repetition_penalty=1.0)
    if s.no_repeat_ngram_size < 0:
        s = replace(s, no_repeat_ngram_size=0)
    if s.num_samples < 1:
        s = replace(s, num_samples=1)
    if s.do_sample and (not math.isfinite(s.temperature) or s.temperature <= 0):
        s = replace(s, do_sample=False)
        notices.append(("generation.notice.temperature_zero", {}))
    if s.do_sample and s.top_p <= 0:
        s = replace(s, do_sample=False)
        notices.append(("generation.notice.top_p_zero", {}))
    if not s.do_sample and s.num_samples > 1:
        notices.append(("generation.notice.greedy_samples", {"n": s.num_samples}))
        s = replace(s, num_samples=1)
    return s, notices


def generate_kwargs(loaded: LoadedModel, settings: GenerationSettings, max_new_tokens: int) -> dict:
    """Keyword arguments for ``model.generate`` (all set explicitly so the model's own
    generation_config cannot silently change decoding, and no warnings are logged)."""
    tok = loaded.tokenizer
    kwargs: dict = {
        "max_new_tokens": int(max_new_tokens),
        "do_sample": bool(settings.do_sample),
        "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        "repetition_penalty": float(settings.repetition_penalty),
        "no_repeat_ngram_size": int(settings.no_repeat_ngram_size),
    }
    if settings.do_sample:
        kwargs.update(
            temperature=float(settings.temperature),
            top_k=int(settings.top_k),
            top_p=float(settings.top_p),
        )
    else:
        kwargs.update(temperature=None, top_k=None, top_p=None)
    return kwargs


def logits_processors(settings: GenerationSettings):
    """The ``transformers`` logits processors ``model.generate`` would apply for ``settings``,
    in its order (``GenerationMixin._get_logits_processor``): repetition penalty (CTRL,
    Keskar et al. 2019) -> no-repeat n-gram -> temperature -> top-k -> top-p (Holtzman et al.
    2020). Returns a ``LogitsProcessorList`` called as ``procs(input_ids (1, seq), scores (1, vocab))``."""
    from transformers.generation import (
        LogitsProcessorList,
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    procs = LogitsProcessorList()
    if settings.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(settings.repetition_penalty))
    if settings.no_repeat_ngram_size > 0:
        procs.append(NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size))
    if settings.do_sample:
        if settings.temperature != 1.0:
            procs.append(TemperatureLogitsWarper(settings.temperature))
        if settings.top_k > 0:
            procs.append(TopKLogitsWarper(top_k=settings.top_k))
        if settings.top_p < 1.0:
            procs.append(TopPLogitsWarper(top_p=settings.top_p))
    return procs
