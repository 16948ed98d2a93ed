"""The next token's distribution before and after each sampling stage.

Responsibility: :func:`next_token_logits` (one forward pass over the prompt),
:func:`next_token_distribution` (those logits pushed through the same ``transformers`` logits
processors ``generate`` applies, stage by stage: repetition penalty -> no-repeat n-gram ->
temperature -> top-k -> top-p), :class:`NextTokenDistribution`, the completion of candidates
that are only part of a UTF-8 character (:func:`partial_character_ids`,
:func:`complete_characters`) and :func:`read_sequence` (the exact ids one generation read and
wrote). Sources: transformers ``GenerationMixin._get_logits_processor``; Shannon entropy in bits.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import torch

from components.generation.settings import GenerationSettings
from components.loading import LoadedModel
from components.tokens import readable_tokens

STAGES = ("raw", "penalties", "temperature", "top_k", "top_p")


@dataclass
class NextTokenDistribution:
    """The next token's distribution at each stage of the sampling pipeline.

    Attributes:
        table: one row per shown token (the ``top_n`` most likely raw tokens plus any other
            token still kept at the final stage, up to ``top_n``), columns ``token_id``,
            ``token`` (readable), ``raw_token``, ``logit``, ``p_raw`` (softmax of the model's
            logits), ``p_penalties`` (after repetition penalty / no-repeat n-gram),
            ``p_temperature``, ``p_top_k``, ``p_top_p`` and ``p_final`` (what is sampled from;
            one-hot on the argmax for greedy), sorted by ``p_raw``.
        kept: tokens with non-zero probability after each stage (vocab size for "raw").
        entropy_bits: Shannon entropy of the raw and final distributions, bits.
        probs: full-vocabulary probabilities per stage, dict of (vocab,) tensors.
        logits: the model's raw next-token logits, (vocab,).
    """

    table: pd.DataFrame
    kept: dict[str, int]
    entropy_bits: dict[str, float]
    probs: dict[str, torch.Tensor]
    logits: torch.Tensor


def _entropy_bits(p: torch.Tensor) -> float:
    nz = p[p > 0]
    return max(0.0, float(-(nz * torch.log2(nz)).sum()))  # no "-0.00" for a one-hot


def next_token_logits(loaded: LoadedModel, input_ids: torch.Tensor) -> torch.Tensor:
    """The model's logits for the token after ``input_ids``.

    Args:
        input_ids: (1, seq) prompt ids.

    Returns:
        (vocab,) float32 tensor.
    """
    with loaded.lock, torch.inference_mode():
        out = loaded.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), logits_to_keep=1)
    return out.logits[0, -1].float()  # (vocab,)


def partial_character_ids(loaded: LoadedModel, token_ids: list[int]) -> list[int]:
    """The ids among ``token_ids`` whose text alone is not a whole UTF-8 character (a byte
    token such as ``‹E4 BD›``, the first bytes of a Chinese character)."""
    from components.tokens import REPLACEMENT

    with loaded.tokenizer_lock:
        return [int(t) for t in token_ids
                if REPLACEMENT in loaded.tokenizer.decode([int(t)], skip_special_tokens=False)]


def complete_characters(loaded: LoadedModel, input_ids: torch.Tensor, token_ids: list[int],
                        max_steps: int = 3) -> dict[int, str]:
    """For next-token candidates that are only part of a UTF-8 character, the character the
    model would most likely complete them to (greedy continuation, at most ``max_steps``
    further tokens: a character has at most 4 bytes).

    One forward pass over the prompt (KV cache kept), then ``max_steps`` single-token steps
    for all candidates at once (the cache repeated per candidate).

    Args:
        input_ids: (1, seq) prompt ids.
        token_ids: candidate ids, each a partial character (see :func:`partial_character_ids`).

    Returns:
        ``{token_id: completed text}`` (e.g. ``{4612: "你"}``); a candidate that does not form a
        character within ``max_steps`` is left out.
    """
    from components.tokens import REPLACEMENT

    if not token_ids:
        return {}
    cands = [int(t) for t in token_ids]
    with loaded.lock, torch.inference_mode():
        out = loaded.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=True,
                           logits_to_keep=1)
    past = out.cache  # transformers 5.x name of the KV cache (was past_key_values)
    past.batch_repeat_interleave(len(cands))
    seqs = [[c] for c in cands]
    done: dict[int, str] = {}
    step_ids = torch.tensor(cands, dtype=torch.long).unsqueeze(1)  # (B, 1)
    length = input_ids.shape[1]
    for _ in range(max_steps):
        length += 1
        mask = torch.ones((len(cands), length), dtype=torch.long)
        with loaded.lock, torch.inference_mode():  # one step at a time: other sessions interleave
            out = loaded.model(input_ids=step_ids, attention_mask=mask, cache=past, use_cache=True)
        past = out.cache
        nxt = torch.argmax(out.logits[:, -1], dim=-1)  # (B,)
        with loaded.tokenizer_lock:
            for b, tid in enumerate(nxt.tolist()):
                seqs[b].append(int(tid))
                if cands[b] not in done:
                    text = loaded.tokenizer.decode(seqs[b], skip_special_tokens=True)
                    if text and not text.startswith(REPLACEMENT):
                        done[cands[b]] = text[0]  # the character the candidate's bytes begin
        step_ids = nxt.unsqueeze(1)
        if len(done) == len(cands):
            break
    return done


def next_token_distribution(
    loaded: LoadedModel,
    input_ids: torch.Tensor,
    settings: GenerationSettings,
    top_n: int = 15,
    logits: torch.Tensor | None = None,
    completions: dict[int, str] | Callable[[list[int]], dict[int, str]] | None = None,
) -> NextTokenDistribution:
    """Next-token probabilities after each sampling stage, using the processors
    ``generate`` applies, in its order (transformers ``GenerationMixin._get_logits_processor``):
    repetition penalty -> no-repeat n-gram -> temperature -> top-k -> top-p.

    Args:
        input_ids: (1, seq) prompt ids (e.g. ``PreparedPrompt.input_ids``).
        settings: normalised settings (see :func:`normalize_settings`).
        top_n: rows to show.
        logits: (vocab,) precomputed :func:`next_token_logits` (skips the forward pass).
        completions: ``{token_id: character}`` for shown candidates that are only part of a
            UTF-8 character (see :func:`complete_characters`), or a callable taking those ids
            and returning that dict (e.g. a cached one); computed here when None and such
            candidates are shown. Their label becomes ``"‹E4 BD›→你"`` (bytes, then the
            character the model would most likely complete them to) instead of bare bytes.

    Returns:
        :class:`NextTokenDistribution`; ``p_raw`` equals ``softmax(logits)`` exactly.
    """
    from transformers.generation import (
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    if logits is None:
        logits = next_token_logits(loaded, input_ids)
    logits = logits.float()
    scores = logits.unsqueeze(0).clone()  # (1, vocab) as generate passes them
    probs: dict[str, torch.Tensor] = {"raw": torch.softmax(logits, dim=-1)}
    if settings.repetition_penalty != 1.0:
        scores = RepetitionPenaltyLogitsProcessor(settings.repetition_penalty)(input_ids, scores)
    if settings.no_repeat_ngram_size > 0:
        scores = NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size)(input_ids, scores)
    probs["penalties"] = torch.softmax(scores[0], dim=-1)
    if settings.do_sample:
        if settings.temperature != 1.0:
            scores = TemperatureLogitsWarper(settings.temperature)(input_ids, scores)
        probs["temperature"] = torch.softmax(scores[0], dim=-1)
        if settings.top_k > 0:
            scores = TopKLogitsWarper(top_k=settings.top_k)(input_ids, scores)
        probs["top_k"] = torch.softmax(scores[0], dim=-1)
        if settings.top_p < 1.0:
            scores = TopPLogitsWarper(top_p=settings.top_p)(input_ids, scores)
        probs["top_p"] = torch.softmax(scores[0], dim=-1)
        final = probs["top_p"]
    else:
        for stage in ("temperature", "top_k", "top_p"):
            probs[stage] = probs["penalties"]
        final = torch.zeros_like(logits)
        final[int(torch.argmax(scores[0]))] = 1.0
    probs["final"] = final

    shown = torch.topk(probs["raw"], top_n).indices.tolist()
    for tid in torch.topk(final, top_n).indices.tolist():
        if final[tid] > 0 and tid not in shown:
            shown.append(tid)
    with loaded.tokenizer_lock:
        raw_tokens = loaded.tokenizer.convert_ids_to_tokens(shown)
        labels = [readable_tokens(loaded.tokenizer, [tid])[0].label for tid in shown]
    partial = partial_character_ids(loaded, shown)
    if partial:
        if completions is None:
            completions = complete_characters(loaded, input_ids, partial)
        elif callable(completions):
            completions = completions(partial)
        labels = [f"{label}→{completions[tid]}" if tid in partial and completions.get(tid) else label
                  for tid, label in zip(shown, labels)]
    table = pd.DataFrame(
        {
            "token_id": shown,
            "token": labels,
            "raw_token": [str(t) for t in raw_tokens],
            "logit": logits[shown].tolist(),
            **{f"p_{stage}": probs[stage][shown].tolist() for stage in (*STAGES, "final")},
        }
    ).sort_values("p_raw", ascending=False, ignore_index=True)
    kept = {stage: int((probs[stage] > 0).sum()) for stage in (*STAGES, "final")}
    return NextTokenDistribution(
        table=table,
        kept=kept,
        entropy_bits={"raw": _entropy_bits(probs["raw"]), "final": _entropy_bits(final)},
        probs=probs,
        logits=logits,
    )


def read_sequence(loaded: LoadedModel, prompt_ids: list[int], new_ids: list[int]) -> dict:
    """What one generation read and wrote, for the attention page's cross-link: ``ids`` the
    exact token ids (chat template included, the user's text as plain-text pieces, then the
    reply) as ``"1,4093,..."``, and ``text`` their decoding with special tokens written
    literally (``<|im_start|>user\\n...``), so the attention page analyses exactly the ids
    the model read -- not a re-tokenisation of prompt + reply glued together."""
    ids = [int(i) for i in prompt_ids] + [int(i) for i in new_ids]
    with loaded.tokenizer_lock:
        text = loaded.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    return {"text": text, "ids": ",".join(str(i) for i in ids)}
