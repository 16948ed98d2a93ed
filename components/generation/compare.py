"""Decoding settings side by side: one continuation of the same prompt per setting.

Responsibility: :data:`COMPARE_DEFAULTS` and :data:`MAX_COLUMNS`, :func:`column_settings`,
:func:`compare_settings` (the columns' streams advancing together), :func:`compare_records` with
their measures -- :func:`distinct_n` (Li et al. 2016) and :func:`mean_logprob` (nats per token)
-- and the page's :data:`VIEWS`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from components.generation.prompt import PreparedPrompt
from components.generation.records import sample_record, settings_record
from components.generation.settings import GenerationSettings, Notice, normalize_settings
from components.generation.stream import GenerationStream
from components.loading import LoadedModel

# --------------------------------------------------------------------------- settings side by side
COMPARE_DEFAULTS: tuple[GenerationSettings, ...] = (
    GenerationSettings(do_sample=False, temperature=1.0, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=0.7, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=1.3, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=1.0, top_k=0, top_p=0.9),
)
"""Default columns of the side-by-side view: greedy, temperature 0.7, temperature 1.3 and
nucleus top-p 0.9 (Holtzman et al. 2020), each changing one thing from plain sampling
(top-k off)."""
MAX_COLUMNS = 4


def distinct_n(token_ids: list[int], n: int) -> float | None:
    """distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural
    Conversation Models"): unique n-grams / total n-grams of one text, here over token ids.

    Returns:
        a float in (0, 1] (1 = no n-gram repeats), or None when the text has fewer than
        ``n`` tokens (no n-gram).

    Raises:
        ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    grams = [tuple(token_ids[i: i + n]) for i in range(len(token_ids) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def mean_logprob(steps: list[dict]) -> float | None:
    """Mean log-probability of the generated tokens under the model's raw distribution,
    nats per token: ``(1/T) * sum_t log p(x_t | x_<t)`` (the negative of the per-token
    cross-entropy; ``exp(-value)`` is the perplexity of the text under the model).
    Uses each step's ``logp`` (:meth:`GenerationStream.steps`). None for no tokens."""
    if not steps:
        return None
    return sum(s["logp"] for s in steps) / len(steps)


def column_settings(base: GenerationSettings, columns: list[GenerationSettings]) -> tuple[
        list[GenerationSettings], list[Notice]]:
    """Settings of each side-by-side column: ``base`` (shared max_new_tokens, penalties and
    seed) with the column's ``do_sample``, ``temperature``, ``top_k`` and ``top_p``, one
    sample each, normalised (:func:`normalize_settings`).

    Returns:
        (settings per column, notices of all columns, each once).
    """
    out, notices = [], []
    for c in columns[:MAX_COLUMNS]:
        s, note = normalize_settings(replace(base, do_sample=c.do_sample, temperature=c.temperature,
                                             top_k=c.top_k, top_p=c.top_p, num_samples=1))
        out.append(s)
        notices += [x for x in note if x not in notices]
    return out, notices


def compare_records(streams: list[GenerationStream], timing: bool = True) -> list[dict]:
    """JSON-able records of finished side-by-side streams: :func:`sample_record` plus
    ``settings`` (:func:`settings_record`), ``mean_logprob`` (nats/token, :func:`mean_logprob`),
    ``distinct_1`` and ``distinct_2`` (:func:`distinct_n` over the generated token ids)."""
    records = []
    for stream in streams:
        rec = sample_record(stream, timing=timing)
        rec.update(settings=settings_record(stream.settings), mean_logprob=mean_logprob(rec["steps"]),
                   distinct_1=distinct_n(stream.token_ids, 1), distinct_2=distinct_n(stream.token_ids, 2))
        records.append(rec)
    return records


def compare_settings(loaded: LoadedModel, prepared: PreparedPrompt, settings: list[GenerationSettings],
                     max_seconds: float | None = None,
                     on_delta: Callable[[int, str, GenerationStream], None] | None = None,
                     timing: bool = True) -> list[dict]:
    """Generate one continuation of the same prompt per decoding setting, side by side.

    Every column is a :class:`GenerationStream` (same prompt, same seed -- each with its own
    ``torch.Generator`` -- and its own settings); they run together, each in its worker thread,
    taking ``loaded.lock`` for one forward pass at a time, so columns advance step by step
    together. Greedy columns equal the single view's greedy text; a sampled column gives the
    same text for the same seed and settings, whatever the other columns are.

    Args:
        settings: 1 to :data:`MAX_COLUMNS` normalised settings (see :func:`column_settings`).
        max_seconds: wall-clock budget per column (default :func:`max_generation_seconds`).
        on_delta: called as ``on_delta(column, text_delta, stream)`` while text streams (the
            page paints with it).
        timing: keep timings in the records (False for reproducible curated examples).

    Returns:
        one :func:`compare_records` record per column, in order.

    Raises:
        ValueError: no settings or more than :data:`MAX_COLUMNS`.
    """
    if not 1 <= len(settings) <= MAX_COLUMNS:
        raise ValueError(f"between 1 and {MAX_COLUMNS} settings, not {len(settings)}")
    streams = [GenerationStream(loaded, prepared, s, sample_index=0, max_seconds=max_seconds) for s in settings]
    iters = [iter(s) for s in streams]
    active = list(range(len(streams)))
    try:
        while active:
            for col in list(active):
                try:
                    delta = next(iters[col])
                except StopIteration:
                    active.remove(col)
                    continue
                if on_delta is not None:
                    on_delta(col, delta, streams[col])
    finally:
        for it in iters:
            it.close()
    return compare_records(streams, timing=timing)


VIEW_SINGLE = "single"
VIEW_COMPARE = "compare"
VIEWS = (VIEW_SINGLE, VIEW_COMPARE)
"""Views of the generation page: one setting (with samples) or settings side by side."""
