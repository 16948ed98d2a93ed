"""Autoregressive generation: prompt -> input_ids -> streamed tokens -> text, plus the
next-token distribution before and after each sampling setting.

The loop the primer describes (predict a distribution over the vocabulary for the next
token, pick one, append it, repeat) is ``model.generate``'s sampling loop written out with
the library's own logits processors and KV cache, so the shared model is locked for one
forward pass at a time (see :class:`GenerationStream`); greedy text equals ``generate``'s.
This module adds:

* :func:`normalize_settings` -- turns edge-case settings (temperature 0, top-p 0, several
  greedy samples) into well-defined decoding with a notice for each change;
* :func:`prepare_inputs` -- chat template, tokenisation and the context-length clamp;
* :class:`GenerationStream` -- streamed, UTF-8-safe text with timing statistics;
* :func:`next_token_distribution` -- the logits of the next token pushed through the same
  ``transformers`` logits processors ``generate`` uses, stage by stage.

Per-request caps, so one request cannot hold the shared model for minutes:
:data:`MAX_NEW_TOKENS` new tokens, :data:`MAX_PROMPT_TOKENS` prompt tokens (cut from the
left, with a notice) and :func:`max_generation_seconds` of wall-clock time per sample
(``finish_reason == "time"``).

Messages for the user are returned as :data:`Notice` tuples ``(i18n key, values)``; the page
translates them (``locales/<lang>/generation.toml``, ``[notice]`` table). No streamlit here.

Modules, by responsibility (their public names are re-exported here for callers):

* :mod:`~components.generation.settings`: per-request caps, :class:`GenerationSettings`,
  :func:`normalize_settings`, :func:`generate_kwargs`, :func:`logits_processors`;
* :mod:`~components.generation.prompt`: modes, :class:`PreparedPrompt`, :func:`build_prompt_text`,
  :func:`prepare_inputs`, the prompt errors, :func:`eos_token_ids`;
* :mod:`~components.generation.stream`: :class:`GenerationStream`, :class:`GenerationStats`,
  :func:`generate_text`, :func:`stream_rates`;
* :mod:`~components.generation.next_token`: :class:`NextTokenDistribution`,
  :func:`next_token_distribution`, :func:`complete_characters`, :func:`read_sequence`;
* :mod:`~components.generation.records`: JSON-able records, id-tuple entry points, :func:`merge_steps`;
* :mod:`~components.generation.compare`: settings side by side (:func:`compare_settings`,
  :func:`distinct_n`, :func:`mean_logprob`) and the page's views.
"""
from __future__ import annotations

from components.generation.compare import (
    COMPARE_DEFAULTS,
    MAX_COLUMNS,
    VIEW_COMPARE,
    VIEW_SINGLE,
    VIEWS,
    column_settings,
    compare_records,
    compare_settings,
    distinct_n,
    mean_logprob,
)
from components.generation.next_token import (
    STAGES,
    NextTokenDistribution,
    complete_characters,
    next_token_distribution,
    next_token_logits,
    partial_character_ids,
    read_sequence,
)
from components.generation.prompt import (
    CHAT,
    COMPLETE,
    MODES,
    EmptyPromptError,
    NoChatTemplateError,
    PreparedPrompt,
    build_prompt_text,
    eos_token_ids,
    prepare_inputs,
)
from components.generation.records import (
    complete_characters_for,
    display_stages,
    distribution_record,
    distribution_record_for,
    first_step_logits,
    merge_steps,
    next_token_logits_for,
    prompt_ids,
    prompt_token_records,
    prompt_token_records_for,
    sample_record,
    settings_record,
)
from components.generation.settings import (
    MAX_GENERATION_SECONDS,
    MAX_NEW_TOKENS,
    MAX_PROMPT_TOKENS,
    MAX_SECONDS_ENV,
    GenerationSettings,
    Notice,
    generate_kwargs,
    logits_processors,
    max_generation_seconds,
    normalize_settings,
)
from components.generation.stream import GenerationStats, GenerationStream, generate_text, stream_rates

__all__ = [
    "CHAT", "COMPARE_DEFAULTS", "COMPLETE", "MAX_COLUMNS", "MAX_GENERATION_SECONDS", "MAX_NEW_TOKENS",
    "MAX_PROMPT_TOKENS", "MAX_SECONDS_ENV", "MODES", "STAGES", "VIEWS", "VIEW_COMPARE", "VIEW_SINGLE",
    "EmptyPromptError", "GenerationSettings", "GenerationStats", "GenerationStream", "NextTokenDistribution",
    "NoChatTemplateError", "Notice", "PreparedPrompt", "build_prompt_text", "column_settings", "compare_records",
    "compare_settings", "complete_characters", "complete_characters_for", "display_stages", "distinct_n",
    "distribution_record", "distribution_record_for", "eos_token_ids", "first_step_logits", "generate_kwargs",
    "generate_text", "logits_processors", "max_generation_seconds", "mean_logprob", "merge_steps",
    "next_token_distribution", "next_token_logits", "next_token_logits_for", "normalize_settings",
    "partial_character_ids", "prepare_inputs", "prompt_ids", "prompt_token_records", "prompt_token_records_for",
    "read_sequence", "sample_record", "settings_record", "stream_rates",
]
