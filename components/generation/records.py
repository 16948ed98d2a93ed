"""JSON-able records of generation results, the page's id-tuple entry points and merged chips.

Responsibility: the one plain shape the page keeps its result in and presenter mode ships its
curated examples in (:func:`distribution_record`, :func:`sample_record`,
:func:`prompt_token_records`, :func:`settings_record`), entry points on hashable id tuples and
NumPy arrays for the page's cached runs (:func:`prompt_ids`, :func:`next_token_logits_for`,
:func:`distribution_record_for`, ...), and :func:`merge_steps` (one chip per character, its
probability the product of its pieces' by the chain rule).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import torch

from components.generation.next_token import (
    NextTokenDistribution,
    complete_characters,
    next_token_distribution,
    next_token_logits,
)
from components.generation.prompt import PreparedPrompt
from components.generation.settings import GenerationSettings
from components.generation.stream import GenerationStream
from components.loading import LoadedModel
from components.tokens import readable_tokens


# --------------------------------------------------------------------------- JSON records
# The page keeps its result, and presenter mode ships its curated examples, in one plain
# JSON-able shape, so both are drawn by the same renderers.
class StepRecord(TypedDict):
    """One generated token (:meth:`GenerationStream.steps`; ``alternatives`` as [token, p] pairs)."""

    token: str
    raw_token: str
    token_id: int
    p: float
    logp: float
    rank: int
    alternatives: list
    group: list[int]
    text: str


class SampleTimes(TypedDict, total=False):
    """Times of one sample, seconds: recorded only with ``timing`` (curated examples leave them out)."""

    ttft_s: float
    tokens_per_s: float
    total_s: float


class SampleStats(SampleTimes):
    """Counts of one sample, and its :class:`SampleTimes` when recorded."""

    prompt_tokens: int
    new_tokens: int
    finish_reason: str


class SampleRecord(TypedDict):
    """:func:`sample_record`."""

    text: str
    seed: int
    steps: list[StepRecord]
    stats: SampleStats


class DistributionRecord(TypedDict):
    """:func:`distribution_record`."""

    table: dict[str, list]
    stages: list[str]
    kept: dict[str, int]
    entropy_bits: dict[str, float]


class PromptTokenRecord(TypedDict):
    """One chip of :func:`prompt_token_records`."""

    index: int
    token: str
    pieces: int
    raw: str
    id: str


def display_stages(settings: GenerationSettings) -> list[str]:
    """``p_*`` columns of :attr:`NextTokenDistribution.table` worth drawing for ``settings``:
    ``p_raw``, ``p_penalties`` if a penalty is on, then temperature/top-k/top-p when
    sampling, else ``p_final`` (the greedy one-hot)."""
    stages = ["p_raw"]
    if settings.repetition_penalty != 1.0 or settings.no_repeat_ngram_size:
        stages.append("p_penalties")
    if settings.do_sample:
        stages += ["p_temperature", "p_top_k", "p_top_p"]
    else:
        stages.append("p_final")
    return stages


def distribution_record(dist: NextTokenDistribution, settings: GenerationSettings) -> DistributionRecord:
    """JSON-able view of ``dist``: ``table`` ({column: list}, ``token_id``, ``token``,
    ``raw_token``, ``logit`` and the ``p_*`` columns), ``stages`` (:func:`display_stages`),
    ``kept`` and ``entropy_bits`` (see :class:`NextTokenDistribution`)."""
    return {
        "table": {c: dist.table[c].tolist() for c in dist.table.columns},
        "stages": display_stages(settings),
        "kept": dict(dist.kept),
        "entropy_bits": dict(dist.entropy_bits),
    }


def sample_record(stream: GenerationStream, timing: bool = True) -> SampleRecord:
    """JSON-able result of one finished sample: ``text``, ``seed``, ``steps``
    (:meth:`GenerationStream.steps`, alternatives as ``[token, p]`` pairs) and ``stats``
    (``prompt_tokens``, ``new_tokens``, ``finish_reason``; with ``timing`` also ``ttft_s``,
    ``tokens_per_s``, ``total_s`` in seconds -- left out of curated examples, which must be
    reproducible)."""
    s = stream.stats
    stats = {"prompt_tokens": s.prompt_tokens, "new_tokens": s.new_tokens, "finish_reason": s.finish_reason}
    if timing:
        stats.update(ttft_s=s.ttft_s, tokens_per_s=s.tokens_per_s, total_s=s.total_s)
    steps = [{**st, "alternatives": [[a, p] for a, p in st["alternatives"]]} for st in stream.steps()]
    return {"text": stream.text, "seed": stream.seed, "steps": steps, "stats": stats}


def prompt_token_records(loaded: LoadedModel, input_ids: torch.Tensor) -> list[PromptTokenRecord]:
    """Readable prompt tokens for display, one record per chip
    (:func:`components.tokens.token_chips`: the byte pieces of a split character are one
    chip): ``{"index": first position, "token": readable text, "pieces": tokens merged,
    "raw": raw vocabulary strings space-separated, "id": ids space-separated}`` for
    ``input_ids`` ((1, seq) or (seq,))."""
    from components.tokens import token_chips

    ids = input_ids.reshape(-1).tolist()
    with loaded.tokenizer_lock:
        chips = token_chips(readable_tokens(loaded.tokenizer, ids))
    return [{"index": c.start, "token": c.label, "pieces": c.size, "raw": c.raw, "id": c.token_id} for c in chips]


def settings_record(settings: GenerationSettings) -> dict:
    """``settings`` as a plain dict (field name -> value)."""
    from dataclasses import asdict

    return asdict(settings)


# --------------------------------------------------------------------------- id-tuple entry points
# The page caches its model work on hashable id tuples and NumPy arrays; these build the tensors.
def prompt_ids(prepared: PreparedPrompt) -> tuple[int, ...]:
    """The prompt's ids (``prepared.input_ids`` (1, seq)) as a hashable tuple of ints, length seq."""
    return tuple(int(i) for i in prepared.input_ids[0])


def prompt_token_records_for(loaded: LoadedModel, ids: tuple[int, ...]) -> list[dict]:
    """:func:`prompt_token_records` for the prompt ids ``ids`` (seq ints)."""
    return prompt_token_records(loaded, torch.tensor([ids]))


def next_token_logits_for(loaded: LoadedModel, ids: tuple[int, ...]):
    """:func:`next_token_logits` for the prompt ids ``ids`` (seq ints), as a (vocab,) float32
    NumPy array."""
    return next_token_logits(loaded, torch.tensor([ids])).numpy()


def first_step_logits(stream: GenerationStream):
    """The (vocab,) float32 NumPy logits of a finished stream's first step (the prompt's
    next-token logits), or ``None`` when it produced no step."""
    return stream.step_logits[0].numpy() if stream.step_logits else None


def complete_characters_for(loaded: LoadedModel, ids: tuple[int, ...], partial: tuple[int, ...]) -> dict[int, str]:
    """:func:`complete_characters` after the prompt ids ``ids`` for the token ids ``partial``."""
    return complete_characters(loaded, torch.tensor([ids]), list(partial))


def distribution_record_for(loaded: LoadedModel, ids: tuple[int, ...], settings: GenerationSettings, logits,
                            completions: Callable[[list[int]], dict[int, str]], top_n: int = 12) -> dict:
    """:func:`distribution_record` of :func:`next_token_distribution` after the prompt ids ``ids``
    (seq ints), from precomputed ``logits`` ((vocab,) NumPy array, :func:`next_token_logits_for`);
    ``completions`` as in :func:`next_token_distribution`."""
    d = next_token_distribution(loaded, torch.tensor([ids]), settings, top_n=top_n,
                                logits=torch.from_numpy(logits), completions=completions)
    return distribution_record(d, settings)


# --------------------------------------------------------------------------- merged chips
def merge_steps(steps: list[dict]) -> list[dict]:
    """One chip per character for generated steps (:meth:`GenerationStream.steps`): the byte
    pieces of a split character (``group`` of size > 1) become one entry.

    Rule for a merged chip: ``p = p_1 * p_2 * ... * p_k``, the product of its pieces'
    probabilities, each under the model's raw distribution at its own step (chain rule: the
    probability that the model writes exactly these k pieces one after another, given the
    text before them); ``logp`` is the sum of the pieces' ``logp``. ``rank`` and
    ``alternatives`` are the first piece's (where the choice of character was made).

    Returns:
        dicts with the keys of a step plus ``pieces`` (k) and ``piece_p`` (the k factors);
        ``token`` is the character text, ``raw_token`` / ``token_id`` list the pieces
        space-separated. Steps without ``group`` (older records) stay one chip each.
    """
    out: list[dict] = []
    i = 0
    while i < len(steps):
        st = steps[i]
        start, size = st.get("group", [i, 1])
        if size > 1 and start == i and i + size <= len(steps):
            part = steps[i: i + size]
            p = 1.0
            for q in part:
                p *= q["p"]
            out.append({**st, "token": st.get("text", st["token"]), "p": p,
                        "logp": sum(q.get("logp", 0.0) for q in part),
                        "raw_token": " ".join(q["raw_token"] for q in part),
                        "token_id": " ".join(str(q["token_id"]) for q in part),
                        "pieces": size, "piece_p": [q["p"] for q in part]})
            i += size
        else:
            out.append({**st, "pieces": 1, "piece_p": [st["p"]]})
            i += 1
    return out
