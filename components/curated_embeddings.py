"""Presenter-mode examples of the Embedding explorer (``curated/embeddings.json``).

``build(get_model)`` maps three shipped example sets on the bundled models, exactly as the page
does with the same settings (PCA 2-D is deterministic: sklearn's ``svd_flip`` fixes the signs),
and returns each map as the JSON-able :func:`components.embeddings.map_result` dict: items,
labels, coordinates, ``explained_variance_ratio_``, scree, the selected item's nearest
neighbours and, for the first example, a query sentence placed on the map.

Regenerate with ``HF_HUB_OFFLINE=1 python -m scripts.build_curated embeddings``;
``tests/test_curated.py`` checks the shipped file against the live models (numbers within 2e-3).
Pure module (no streamlit).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components import embeddings as emb
from components import embeddings_wording as EW
from components.catalog import MINILM

EXAMPLES: list[dict[str, Any]] = [
    {
        "id": "topics",
        "title": {"en": "Sentences by topic: similar meanings land close (MiniLM sentence embeddings, PCA)",
                  "zh": "按主题分组的句子：意思相近的句子落在一起（MiniLM 句向量，PCA）"},
        "params": {"src": "example", "set": "sentences_topics", "method": emb.SENTENCE, "model": MINILM,
                   "pt": 0, "q": "The goalkeeper made a great save"},
    },
    {
        "id": "analogies",
        "title": {"en": "Word analogies: king, queen, man, woman, capitals and countries (input word embeddings, PCA)",
                  "zh": "词语类比：国王、女王、男人、女人、首都与国家（输入层词向量，PCA）"},
        "params": {"src": "example", "set": "words_analogies", "method": emb.WORD, "model": MINILM, "pt": 0},
    },
    {
        "id": "parallel",
        "title": {"en": "English / 中文 translations: an English-only model groups by language, not by meaning",
                  "zh": "中英互译句：只懂英文的模型按语言而不是按意思分组"},
        "params": {"src": "example", "set": "sentences_parallel", "method": emb.SENTENCE, "model": MINILM,
                   "pt": 0},
    },
]
"""The examples: id, bilingual title, and the page's query parameters (see the page's SCHEMA)."""

K_NEIGHBOURS = 8
"""Neighbours listed per selected item / query (the page's default ``k``)."""


def build_one(params: dict[str, Any], get_model: Callable[[str], Any]) -> dict[str, Any]:
    """One map from the page's query parameters (example-set input, PCA 2-D).

    Returns:
        :func:`components.embeddings.map_result` dict plus ``"set"`` (the example set name).

    Raises:
        KeyError: unknown example set; InputError: as the encoders / PCA.
    """
    sets = {s.name: s for s in emb.example_sets()}
    chosen = sets[params["set"]]
    frame = chosen.frame()
    texts, labels = frame["text"].tolist(), frame["label"].tolist()
    loaded = get_model(params["model"])
    method = params["method"]
    if method == emb.WORD:
        result = emb.word_embeddings(loaded, texts)
        encode = lambda q: emb.word_embeddings(loaded, [q]).vectors[0]  # noqa: E731
    elif method == emb.SENTENCE:
        result = emb.encode_sentences(loaded, texts)
        encode = lambda q: emb.encode_sentences(loaded, [q]).vectors[0]  # noqa: E731
    else:
        layer = int(params["layer"])
        result = emb.hidden_state_embeddings(loaded, texts, layer=layer)
        encode = lambda q: emb.hidden_state_embeddings(loaded, [q], layer=layer).vectors[0]  # noqa: E731
    projection = emb.project(result.vectors, emb.PCA, 2)
    query = params.get("q", "")
    out = emb.map_result(
        texts, result.vectors, projection, labels=labels, label_title=EW.set_label_title(chosen, "en"),
        model_key=params["model"], method=method, layer=params.get("layer") if method == emb.HIDDEN else None,
        selected=params.get("pt", 0), k=K_NEIGHBOURS, query=query,
        query_vector=encode(query) if query else None)
    out["set"] = chosen.name
    out.pop("notices", None)
    return out


def build(get_model: Callable[[str], Any]) -> list[dict[str, Any]]:
    """All examples: ``[{"id", "title", "params", "result"}]`` (see :mod:`components.curated`)."""
    return [{**ex, "result": build_one(ex["params"], get_model)} for ex in EXAMPLES]
