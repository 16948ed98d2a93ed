"""Lens page, cached runs: the logit lens of a text, one head ablation and one layer's head
scan, each cached (``st.cache_data``) on the model's catalog id, the text or its input ids and
the settings that shape it. The computing (and every tensor) is :mod:`components.lens` and
:mod:`components.ablation`; this module only caches it."""
from __future__ import annotations

import streamlit as st

from components.ablation import ablate_heads, scan_heads
from components.lens import LensResult, logit_lens


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def cached_lens(model_key: str, text: str) -> LensResult:
    """:func:`components.lens.logit_lens`, cached on (model key, text)."""
    from components.cache import get_model

    return logit_lens(get_model(model_key), text)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def cached_ablation(model_key: str, ids: tuple[int, ...], heads: tuple[tuple[int, int], ...], mode: str,
                    position: int, max_new_tokens: int):
    """:func:`components.ablation.ablate_heads`, cached on (model key, ids, settings)."""
    from components.cache import get_model

    return ablate_heads(get_model(model_key), list(ids), heads, mode=mode, position=position,
                        max_new_tokens=max_new_tokens)


@st.cache_data(max_entries=128, ttl=3600, show_spinner=False)
def cached_scan(model_key: str, ids: tuple[int, ...], layer: int, mode: str, position: int):
    """:func:`components.ablation.scan_heads` of ONE layer (the page loops for progress)."""
    from components.cache import get_model

    return scan_heads(get_model(model_key), list(ids), [layer], mode=mode, position=position)
