"""Presenter-mode examples of "Inside the prediction" (``curated/lens.json``): guess the
next token.

The slide shows a prompt; the room guesses the next token; the presenter reveals the bundled
SmolLM2's real top 5 with probabilities, then, on request, the logit lens row from which the
final answer is the top guess for good. The prompts were chosen for that contrast:

* "The capital of France is" → " Paris": a fact, the top guess only at the very last row
  (rank ~4,000 at the embeddings, ~100 ten rows before the end);
* "The opposite of hot is" → " cold": an antonym, top guess from the second-to-last row;
* "Monday, Tuesday, Wednesday," → " and" (" Thursday" is third): a pattern the model reads
  early; " and" is the top guess from about two thirds of the way up, and the continuation the
  room expects is not the model's first choice.

One forward pass per example, no sampling: the file is deterministic. Rebuild with
``HF_HUB_OFFLINE=1 python -m scripts.build_curated lens``; ``tests/test_curated.py`` compares
it with the live model (numbers within 2e-3). Pure module (no streamlit).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from components.catalog import SMOLLM2

TOP_N = 5
"""Candidates revealed on the slide."""

EXAMPLES: list[dict[str, Any]] = [
    {
        "id": "capital",
        "title": {"en": "Guess the next token: “The capital of France is …”",
                  "zh": "猜下一个词元：“The capital of France is …”（法国的首都是……）"},
        "why": {"en": "A fact: the answer appears only at the very last layer.",
                "zh": "一个事实：答案直到最后一层才出现。"},
        "params": {"text": "The capital of France is", "model": SMOLLM2},
    },
    {
        "id": "antonym",
        "title": {"en": "Guess the next token: “The opposite of hot is …”",
                  "zh": "猜下一个词元：“The opposite of hot is …”（热的反义词是……）"},
        "why": {"en": "An antonym: settled in the last two layers.",
                "zh": "反义词：在最后两层才确定。"},
        "params": {"text": "The opposite of hot is", "model": SMOLLM2},
    },
    {
        "id": "weekdays",
        "title": {"en": "Guess the next token: “Monday, Tuesday, Wednesday, …”",
                  "zh": "猜下一个词元：“Monday, Tuesday, Wednesday, …”（星期一、星期二、星期三……）"},
        "why": {"en": "A pattern: the model's first choice is not the one most people expect, and it "
                      "settles much earlier.",
                "zh": "一个规律：模型的首选并不是大多数人预期的词，而且它早得多就确定了。"},
        "params": {"text": "Monday, Tuesday, Wednesday,", "model": SMOLLM2},
    },
]


def settled_row(final_rank: Sequence[int]) -> int:
    """First lens row from which the final prediction is the top guess (rank 1) in every
    later row; ``len(final_rank) - 1`` when only the model's own output has it on top.

    Args:
        final_rank: ``(L + 1,)`` rank (1 = top) of the finally predicted token per lens row.
    """
    row = len(final_rank) - 1
    while row > 0 and int(final_rank[row - 1]) == 1:
        row -= 1
    return row


def summary(loaded, res, position: int = -1, top_n: int = TOP_N) -> dict[str, Any]:
    """What the guessing slide shows, from a :class:`components.lens.LensResult`.

    Returns:
        ``{"tokens": [label] (seq,), "top": [{"token", "token_id", "prob"}] (top_n,),
        "final": label, "settled": row, "layers": L, "final_prob": (L + 1,),
        "final_rank": (L + 1,)}`` at ``position`` (default: the last token).
    """
    from components.lens import token_label

    pos = res.seq_len - 1 if position < 0 else position
    top = [{"token": token_label(loaded.tokenizer, int(i)), "token_id": int(i), "prob": float(p)}
           for i, p in zip(res.top_ids[-1, pos, :top_n], res.top_probs[-1, pos, :top_n], strict=False)]
    ranks = [int(r) for r in res.final_rank[:, pos]]
    return {
        "tokens": list(res.labels),
        "top": top,
        "final": top[0]["token"],
        "settled": settled_row(ranks),
        "layers": int(res.num_layers),
        "final_prob": [float(p) for p in res.final_prob[:, pos]],
        "final_rank": ranks,
    }


def build(get_model: Callable[[str], Any]) -> list[dict]:
    """Compute the examples on the live bundled model.

    Args:
        get_model: ``catalog key -> LoadedModel``.

    Returns:
        ``[{"id", "title", "why", "params", "result"}]``, ``result`` as :func:`summary`.
    """
    from components.lens import logit_lens

    out = []
    for ex in EXAMPLES:
        loaded = get_model(ex["params"]["model"])
        res = logit_lens(loaded, ex["params"]["text"])
        out.append({**ex, "result": summary(loaded, res)})
    return out
