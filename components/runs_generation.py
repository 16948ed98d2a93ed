"""Generation page, cached runs: the prompt's token records, its next-token logits, the
characters a split token completes and the next-token distribution, each cached
(``st.cache_data``) on the model's catalog id, the prompt ids and the settings that shape it.
The computing (and every tensor) is :mod:`components.generation`; this module only caches it."""
from __future__ import annotations

import streamlit as st

from components.generation import (
    GenerationSettings,
    complete_characters_for,
    distribution_record_for,
    next_token_logits_for,
    prompt_token_records_for,
)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def tokens_for(key: str, ids: tuple[int, ...]) -> list[dict]:
    """Prompt token records (:func:`components.generation.prompt_token_records`) of ``ids``."""
    from components.cache import get_model

    return prompt_token_records_for(get_model(key), ids)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def logits_for(key: str, ids: tuple[int, ...], _first=None):
    """(vocab,) NumPy next-token logits after ``ids``. ``_first``: the first step's logits of a
    generation over ``ids`` (not hashed), reused instead of a second forward pass over the prompt."""
    from components.cache import get_model

    if _first is not None:
        return _first
    return next_token_logits_for(get_model(key), ids)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def completions_for(key: str, ids: tuple[int, ...], partial: tuple[int, ...]) -> dict[int, str]:
    """:func:`components.generation.complete_characters` after ``ids`` for the token ids ``partial``."""
    from components.cache import get_model

    return complete_characters_for(get_model(key), ids, partial)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def distribution_for(key: str, ids: tuple[int, ...], s: GenerationSettings, _first=None) -> dict:
    """Next-token distribution record after ``ids``, cached on exactly the settings that shape it
    (seed, length and samples are reset to defaults by the caller); ``_first`` as in :func:`logits_for`."""
    from components.cache import get_model

    return distribution_record_for(get_model(key), ids, s, logits_for(key, ids, _first),
                                   completions=lambda partial: completions_for(key, ids, tuple(partial)))
