"""Presenter-mode examples of the text generation page (``curated/generation.json``).

Four examples on the bundled SmolLM2-135M-Instruct: an English story opening (greedy),
a Chinese story rhyme on which greedy decoding loops (and each character takes byte-level
tokens), a chat instruction that the model answers and ends with its end-of-turn token
(sampling, fixed seed) and the story opening under four decoding settings side by side.
Each result holds what the page draws: the generated text with its per-step probabilities
(:meth:`components.generation.GenerationStream.steps`), token counts and finish reason (no
timings: they are not reproducible) and the next-token distribution table at each decoding
stage. ``max_new_tokens`` stays <= 48 so ``tests/test_curated.py`` rebuilds them quickly.

Regenerate: ``HF_HUB_OFFLINE=1 python -m scripts.build_curated generation``. Pure module.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.catalog import SMOLLM2
from components.generation import (
    CHAT,
    COMPARE_DEFAULTS,
    COMPLETE,
    VIEW_COMPARE,
    GenerationSettings,
    column_settings,
    compare_settings,
    distribution_record,
    generate_text,
    next_token_distribution,
    normalize_settings,
    prepare_inputs,
    sample_record,
    settings_record,
)

EXAMPLES: list[dict] = [
    {
        "id": "story-greedy",
        "title": {"en": "Story opening, greedy decoding: always the most likely next token gives a fluent, "
                        "predictable story (29 tokens end on a full stop)",
                  "zh": "故事开头 · 贪心解码：每步都取概率最高的词元，得到流畅但可预料的故事（29 个词元恰好停在句号）"},
        "prompt": "Once upon a time, in a small village by the sea,",
        "mode": COMPLETE,
        "settings": GenerationSettings(max_new_tokens=29, do_sample=False),
    },
    {
        "id": "loop-zh",
        "title": {"en": "Greedy decoding falls into a loop (Chinese): the model repeats 山上有一座庙 while "
                        "each character costs one or more byte-level tokens",
                  "zh": "贪心解码陷入循环（中文）：模型不断重复“山上有一座庙”，且每个汉字要占一个或多个字节级词元"},
        "prompt": "从前有一座山，山上有一座庙，",
        "mode": COMPLETE,
        "settings": GenerationSettings(max_new_tokens=30, do_sample=False),
    },
    {
        "id": "chat-sampled",
        "title": {"en": "Chat instruction, sampling (T = 0.7, top-k 50, top-p 0.9, seed 42): the chat template "
                        "makes the model answer and stop by itself at its end-of-turn token",
                  "zh": "对话指令 · 采样（温度 0.7，top-k 50，top-p 0.9，种子 42）：对话模板让模型作答，"
                        "并在轮次结束词元处自行停下"},
        "prompt": "What is a language model? Answer in one sentence.",
        "mode": CHAT,
        "settings": GenerationSettings(max_new_tokens=48, do_sample=True, temperature=0.7, top_k=50, top_p=0.9,
                                       seed=42),
    },
]


def link_params(model: str, prompt: str, mode: str, s: GenerationSettings) -> dict:
    """The page's query parameters (``app_pages/generation.py`` SCHEMA names) for one example."""
    return {"prompt": prompt, "model": model, "mode": mode, "sample": s.do_sample, "max_new": s.max_new_tokens,
            "temp": s.temperature, "top_k": s.top_k, "top_p": s.top_p, "rep": s.repetition_penalty,
            "ngram": s.no_repeat_ngram_size, "n": s.num_samples, "seed": s.seed}


def build(get_model: Callable[[str], Any]) -> list[dict]:
    """Run every example live on the bundled SmolLM2 (``get_model(catalog_key) -> LoadedModel``).

    Returns:
        ``[{"id", "title", "params", "result"}]``; ``result`` = ``{"model", "prompt", "mode",
        "settings", "samples": [sample_record(timing=False)], "distribution": distribution_record}``
        -- the shape the page renders for its own results.
    """
    loaded = get_model(SMOLLM2)
    out = []
    for ex in EXAMPLES:
        settings, _ = normalize_settings(ex["settings"])
        prepared = prepare_inputs(loaded, ex["prompt"], ex["mode"], settings.max_new_tokens)
        samples = [sample_record(generate_text(loaded, prepared, settings, i), timing=False)
                   for i in range(settings.num_samples)]
        dist = next_token_distribution(loaded, prepared.input_ids, settings, top_n=12)
        out.append({
            "id": ex["id"],
            "title": ex["title"],
            "params": link_params(SMOLLM2, ex["prompt"], ex["mode"], settings),
            "result": {
                "model": SMOLLM2, "prompt": ex["prompt"], "mode": ex["mode"],
                "settings": settings_record(settings), "samples": samples,
                "distribution": distribution_record(dist, settings),
            },
        })
    out.append(compare_example(loaded))
    return out


COMPARE_EXAMPLE = {
    "id": "settings-side-by-side",
    "title": {"en": "One prompt, one seed, four decoding settings side by side",
              "zh": "同一提示词、同一种子，四种解码设置并排对比"},
    "prompt": "Once upon a time, in a small village by the sea,",
    "mode": COMPLETE,
    "settings": GenerationSettings(max_new_tokens=16, seed=42),
}


def compare_example(loaded) -> dict:
    """The side-by-side example: :data:`COMPARE_EXAMPLE` under the default columns
    (:data:`components.generation.COMPARE_DEFAULTS`); ``result`` = ``{"model", "prompt",
    "mode", "view": "compare", "settings", "columns": compare_records(timing=False)}``."""
    ex = COMPARE_EXAMPLE
    base, _ = normalize_settings(ex["settings"])
    cols, _ = column_settings(base, list(COMPARE_DEFAULTS))
    prepared = prepare_inputs(loaded, ex["prompt"], ex["mode"], base.max_new_tokens)
    records = compare_settings(loaded, prepared, cols, timing=False)
    params = {**link_params(SMOLLM2, ex["prompt"], ex["mode"], base), "view": VIEW_COMPARE, "cols": len(cols)}
    for i, c in enumerate(cols, start=1):
        params.update({f"c{i}_sample": c.do_sample, f"c{i}_temp": c.temperature, f"c{i}_top_k": c.top_k,
                       f"c{i}_top_p": c.top_p})
    return {"id": ex["id"], "title": ex["title"], "params": params,
            "result": {"model": SMOLLM2, "prompt": ex["prompt"], "mode": ex["mode"], "view": VIEW_COMPARE,
                       "settings": settings_record(base), "columns": records}}
