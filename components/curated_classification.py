"""Presenter-mode examples of the Classification page (``curated/classification.json``).

``build(get_model)`` runs the page's own zero-shot function (:func:`components.classification.
zero_shot_similarity`, bundled all-MiniLM-L6-v2, deterministic: no sampling) on four inputs:
a news sentence (sports / politics / technology), a batch of customer-support messages
(intents), a multi-label sentence, and a Chinese sentence that shows the limit of an English-only
encoder (most Chinese characters are ``[UNK]`` in MiniLM's vocabulary, so two labels tie).
Each example's ``params`` are the page's query parameters (``SCHEMA`` in
``app_pages/classification.py``), so "run this example live" reproduces it.
Write the file with ``HF_HUB_OFFLINE=1 python -m scripts.build_curated classification``.

The prompted-LLM method (SmolLM2) is not a method of this page (the zero-shot catalog task lists
MiniLM and the NLI models), so no example uses it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components import classification as C
from components.catalog import MINILM

EXAMPLES: list[dict] = [
    {
        "id": "news-topics",
        "title": {"en": "News topic: sports, politics or technology?", "zh": "新闻主题：体育、政治还是科技？"},
        "texts": ["The striker scored twice and the team won the cup final in extra time."],
        "labels": ["sports", "politics", "technology"],
        "template": C.DEFAULT_TEMPLATE,
        "multi": False,
    },
    {
        "id": "support-intents",
        "title": {"en": "Customer-support intents (four messages at once)",
                  "zh": "客服意图识别（一次四条消息）"},
        "texts": [
            "I was charged twice for my subscription this month, please refund one payment.",
            "The app crashes every time I try to upload a photo.",
            "I forgot my password and the reset email never arrives.",
            "My parcel was supposed to arrive on Monday and it is still not here.",
        ],
        "labels": ["billing", "technical problem", "account access", "delivery"],
        "template": "The customer is asking about {}.",
        "multi": False,
    },
    {
        "id": "multi-label",
        "title": {"en": "Multi-label: one text, several topics", "zh": "多标签：一段文本，多个主题"},
        "texts": ["The football club launched a mobile app that streams every match."],
        "labels": ["sports", "technology", "politics", "food"],
        "template": C.DEFAULT_TEMPLATE,
        "multi": True,
    },
    {
        "id": "chinese-limit",
        "title": {"en": "Chinese text: MiniLM reads English only — most characters become [UNK]",
                  "zh": "中文文本：MiniLM 只懂英文——大多数汉字变成 [UNK]"},
        "texts": ["中国女排在决赛中以三比二战胜对手，夺得冠军。"],
        "labels": ["体育", "政治", "科技", "美食"],
        "template": "这段文字是关于{}的。",
        "multi": False,
    },
]
"""Inputs of the examples (texts, labels, template, multi-label); method: MiniLM similarity."""


def params_for(example: dict) -> dict[str, Any]:
    """The page's query parameters for ``example`` (names of ``SCHEMA``)."""
    texts = example["texts"]
    params: dict[str, Any] = {"labels": ", ".join(example["labels"]), "model": MINILM,
                              "template": example["template"], "multi": bool(example["multi"])}
    if len(texts) == 1:
        params.update(mode="single", text=texts[0])
    else:
        params.update(mode="lines", lines="\n".join(texts))
    return params


def build(get_model: Callable[[str], Any]) -> list[dict]:
    """The curated examples, computed now on the bundled MiniLM.

    Args:
        get_model: ``catalog key -> LoadedModel``.

    Returns:
        ``[{"id", "title", "params", "result"}]`` where ``result`` is
        :func:`components.classification.zero_shot_payload` of the live result.
    """
    loaded = get_model(MINILM)
    out = []
    for ex in EXAMPLES:
        result = C.zero_shot_similarity(loaded, ex["texts"], ex["labels"], ex["template"], ex["multi"])
        out.append({"id": ex["id"], "title": ex["title"], "params": params_for(ex),
                    "result": C.zero_shot_payload(result)})
    return out
