"""Presenter-mode examples of the Attention visualizer (``curated/attention.json``) and the
page's example inputs.

Three short inputs on the bundled models, each with one (layer, head) chosen because it shows
something a presenter can point at:

* coreference (all-MiniLM-L6-v2, layer 3, head 1): "it" puts ~0.68 of its weight on "animal"
  (the largest "it" → "animal" weight of all 6 x 12 heads on this sentence);
* Chinese (SmolLM2-135M-Instruct, layer 9, head 4): the second 天 attends to the first 天 (a
  repeated-token head; each character is 2 byte-level tokens, the causal triangle is visible);
* a line of code (SmolLM2, layer 5, head 6): the ``i`` in ``print(i)`` looks back at the loop
  variable ``i``.

The heads were picked once by scanning every (layer, head) for the named token pair; the
choice is fixed in ``params`` so the file is deterministic (one forward pass, no sampling).
Rebuild with ``HF_HUB_OFFLINE=1 python -m scripts.build_curated attention``;
``tests/test_curated.py`` compares the shipped file with the live models (numbers within 2e-3;
matrices are stored with 4 decimals, the per-layer thumbnails with 3).

Pure module (no streamlit).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.catalog import MINILM, SMOLLM2, get_spec

COREFERENCE = "The animal didn't cross the street because it was too tired."
CHINESE = "今天的天气很好，适合出去散步。"
CODE = "for i in range(10): print(i)"

EXAMPLE_INPUTS: dict[str, tuple[str, str]] = {
    "coref": (COREFERENCE, ""),
    "zh": (CHINESE, ""),
    "repeat": ("one two three four one two three four one two three four", ""),
    "pair": ("Where is the cat?", "The cat is sleeping on the warm windowsill."),
}
"""The page's "load an example" choices: id -> (text, second sentence or "")."""

EXAMPLES: list[dict[str, Any]] = [
    {
        "id": "coreference",
        "title": {"en": "Coreference: what does “it” look at? (MiniLM, layer 3, head 1)",
                  "zh": "指代消解：“it” 在看哪个词？（MiniLM，第 3 层第 1 个头）"},
        "params": {"text": COREFERENCE, "model": MINILM, "layer": 3, "head": 1, "view": "head"},
    },
    {
        "id": "chinese",
        "title": {"en": "Chinese: the second 天 finds the first one (SmolLM2, layer 9, head 4)",
                  "zh": "中文：第二个“天”找到第一个“天”（SmolLM2，第 9 层第 4 个头）"},
        "params": {"text": CHINESE, "model": SMOLLM2, "layer": 9, "head": 4, "view": "head"},
    },
    {
        "id": "code",
        "title": {"en": "Code: print(i) looks back at the loop variable (SmolLM2, layer 5, head 6)",
                  "zh": "代码：print(i) 回看循环变量 i（SmolLM2，第 5 层第 6 个头）"},
        "params": {"text": CODE, "model": SMOLLM2, "layer": 5, "head": 6, "view": "head"},
    },
]


def build(get_model: Callable[[str], Any]) -> list[dict]:
    """Compute the examples on the live bundled models.

    Args:
        get_model: ``catalog key -> LoadedModel``.

    Returns:
        ``[{"id", "title", "params", "result"}]`` where ``result`` is
        :func:`components.attention.snapshot` (tokens, the head's matrix and, up to 16
        tokens, every head of that layer), at the page's default token cap.
    """
    from components.attention import DEFAULT_MAX_TOKENS, get_attention, snapshot

    out = []
    for ex in EXAMPLES:
        p = ex["params"]
        loaded = get_model(p["model"])
        result = get_attention(loaded, p["text"], None, max_tokens=DEFAULT_MAX_TOKENS, keep_hidden_states=False)
        snap = snapshot(result, p["layer"], p["head"], p["text"], None, get_spec(p["model"]).display_name)
        out.append({**ex, "result": snap})
    return out
