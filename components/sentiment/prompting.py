"""The prompting approach: SmolLM2-135M-Instruct asked with a user-editable template (plain
completion or chat), next-token logits of the label words softmaxed over those two tokens,
optional few-shot examples and calibration against the content-free input "N/A" (Zhao et al.
2021, "Calibrate before use"). Prompts that share a token prefix read it once (a key/value
cache of the prefix, expanded over the batch); :func:`prefix_plan`, :func:`tokens_read` and
:func:`llm_workload` count what the model will read before it runs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from components import coverage
from components.messages import Message
from components.sentiment.base import (
    CHAT,
    CHAT_ANSWER_PREFIX,
    COMPLETE,
    CONTENT_FREE,
    DEFAULT_MODE,
    DEFAULT_TEMPLATE,
    FEW_SHOT_EXAMPLES,
    LABEL_WORDS,
    LLM,
    LLM_BATCH,
    LLM_MAX_TEXT_TOKENS,
    LLM_OCCLUSION_WORDS,
    NEGATIVE,
    OCCLUSION_MAX_CHARS,
    PLACEHOLDER,
    POSITIVE,
    SentimentResult,
    binary_label,
    check_template,
    check_text,
    timed,
)
from components.sentiment.occlusion import occlusion, units_of, without_unit
from components.tokens import encode_chat, encode_plain


def fill_template(template: str, text: str) -> str:
    """Insert ``text`` at every ``{text}`` (plain replace: other braces stay literal)."""
    return template.replace(PLACEHOLDER, text)


def _chat_messages(template: str, text: str, few_shot: bool) -> list[dict]:
    messages = []
    for ex, lab in (FEW_SHOT_EXAMPLES if few_shot else ()):  # few-shot as earlier conversation turns
        messages += [{"role": "user", "content": fill_template(template, ex)},
                     {"role": "assistant", "content": f"{CHAT_ANSWER_PREFIX} {lab}"}]
    messages.append({"role": "user", "content": fill_template(template, text)})
    return messages


def build_prompt(loaded, template: str, text: str, few_shot: bool = False,
                 mode: str = DEFAULT_MODE) -> str:
    """The exact string the model reads before the label word (for display; the model gets
    :func:`build_prompt_ids`, where control-token look-alikes in it stay plain text).

    ``"complete"``: the filled template; few-shot puts each example of ``FEW_SHOT_EXAMPLES``
    (filled template + label word) before it, separated by blank lines.
    ``"chat"``: the filled template is a user message in the model's chat template and the
    assistant turn is opened with ``"Sentiment:"`` so the label word is the next token;
    few-shot examples are earlier user/assistant turns (one example per turn -- packing them
    into one user message made SmolLM2 answer at chance level).

    Raises:
        SentimentInputError: template without ``{text}``.
        ValueError: unknown mode.
    """
    check_template(template)
    examples = FEW_SHOT_EXAMPLES if few_shot else ()
    if mode == COMPLETE:
        parts = [fill_template(template, ex) + " " + lab for ex, lab in examples]
        return "\n\n".join(parts + [fill_template(template, text)])
    if mode != CHAT:
        raise ValueError(f"mode must be {COMPLETE!r} or {CHAT!r}")
    with loaded.tokenizer_lock:
        return encode_chat(loaded.tokenizer, _chat_messages(template, text, few_shot),
                           add_generation_prompt=True, suffix=CHAT_ANSWER_PREFIX)[2]


def build_prompt_ids(loaded, template: str, text: str, few_shot: bool = False,
                     mode: str = DEFAULT_MODE) -> list[int]:
    """Token ids of :func:`build_prompt`. The template and the text are the user's, so they
    are tokenised as plain text (``<|im_end|>`` typed in a review is ordinary pieces); in
    chat mode only the chat template's markup yields control tokens
    (:func:`components.tokens.encode_chat`).

    Raises:
        SentimentInputError / ValueError: as :func:`build_prompt`.
    """
    check_template(template)
    if mode == COMPLETE:
        prompt = build_prompt(loaded, template, text, few_shot, mode)
        with loaded.tokenizer_lock:
            return list(loaded.tokenizer(prompt, add_special_tokens=True, split_special_tokens=True,
                                         verbose=False)["input_ids"])
    if mode != CHAT:
        raise ValueError(f"mode must be {COMPLETE!r} or {CHAT!r}")
    with loaded.tokenizer_lock:
        return encode_chat(loaded.tokenizer, _chat_messages(template, text, few_shot),
                           add_generation_prompt=True, suffix=CHAT_ANSWER_PREFIX)[0]


def label_token_ids(loaded, words: Sequence[str] = LABEL_WORDS) -> list[int]:
    """First token id of each label word (" negative" and " positive" are single tokens in
    SmolLM2's vocabulary)."""
    with loaded.tokenizer_lock:
        return [loaded.tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in words]


def truncate_tokens(loaded, text: str, limit: int) -> tuple[str, int]:
    """Cut ``text`` to its first ``limit`` tokens; return (text, original token count)."""
    with loaded.tokenizer_lock:
        ids = encode_plain(loaded.tokenizer, text)  # "<|im_end|>" typed in a review stays text
        if len(ids) <= limit:
            return text, len(ids)
        return loaded.tokenizer.decode(ids[:limit], skip_special_tokens=False), len(ids)


def _prompt_rows(loaded, prompts: Sequence) -> list[list[int]]:
    """Token ids of each prompt (ids kept, strings tokenised as plain text)."""
    with loaded.tokenizer_lock:
        return [list(p) if not isinstance(p, str) else
                list(loaded.tokenizer(p, add_special_tokens=True, split_special_tokens=True,
                                      verbose=False)["input_ids"])
                for p in prompts]


def _common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest common token prefix of ``rows``, kept at least one token short of
    the shortest row (each row needs a last token of its own to read the next-token logits)."""
    if len(rows) < 2:
        return 0
    n = min(len(r) for r in rows) - 1
    first = rows[0]
    for i in range(n):
        tok = first[i]
        if any(r[i] != tok for r in rows):
            return i
    return max(n, 0)


def prefix_plan(rows: Sequence[Sequence[int]], batch_size: int = LLM_BATCH) -> tuple[int, list[int]]:
    """How :func:`label_distribution` reads ``rows`` (token ids of the prompts): the prefix
    shared by every row is read once; each batch of ``batch_size`` rows then extends it by the
    prefix its own rows share (occlusion variants of neighbouring words share the text up to the
    first of them) and reads only the rest of each row.

    Returns:
        (shared prefix length, [prefix length of each batch]) in tokens; a batch's prefix is at
        least the shared one. Tokens read in all: ``shared + sum(batch prefix - shared) +
        sum(len(row) - its batch prefix)`` (:func:`tokens_read`).
    """
    shared = _common_prefix(rows)
    batches = [max(shared, _common_prefix(rows[s:s + batch_size])) for s in range(0, len(rows), batch_size)]
    return shared, batches


def tokens_read(rows: Sequence[Sequence[int]], batch_size: int = LLM_BATCH) -> int:
    """Prompt tokens :func:`label_distribution` reads for ``rows`` (each shared token once)."""
    shared, batches = prefix_plan(rows, batch_size)
    total = shared
    for b, start in enumerate(range(0, len(rows), batch_size)):
        chunk = rows[start:start + batch_size]
        total += batches[b] - shared + sum(len(r) - batches[b] for r in chunk)
    return total


def _extend_cache(loaded, cache_kv, ids: Sequence[int], start: int):
    """Read ``ids`` (one row, positions ``start``...) after the cached keys/values ``cache_kv``
    (per layer (keys, values), batch 1, or None for an empty prefix); returns the keys/values
    of the longer prefix. The cache object is fresh per call: nothing shared is mutated."""
    import torch
    from transformers.cache_utils import DynamicCache

    if not ids:
        return cache_kv
    input_ids = torch.tensor([list(ids)], dtype=torch.long)
    width = start + len(ids)
    with loaded.lock, torch.inference_mode():
        cache = DynamicCache(ddp_cache_data=cache_kv) if cache_kv else DynamicCache()
        out = loaded.model(input_ids=input_ids, attention_mask=torch.ones((1, width), dtype=torch.long),
                           position_ids=torch.arange(start, width).unsqueeze(0), cache=cache, use_cache=True,
                           logits_to_keep=1)
    return [(k, v) for k, v, *_ in out.cache]


def label_distribution(loaded, prompts: Sequence[str], batch_size: int = LLM_BATCH,
                       progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Next-token label probabilities for each prompt.

    The prompts of one call share a long token prefix (chat markup, system message, template up
    to ``{text}``, and for occlusion variants the text up to the removed word): it is read once
    into a KV cache (batch 1), each batch extends it by what its own rows share, and only the
    rest of each row is read against that cache repeated over the batch (right padding, logits
    taken at each row's last token). Causal attention makes this the same computation as a full
    forward of each prompt (:func:`prefix_plan`; equal within float rounding, tested).

    Args:
        prompts: token ids of full prompts (see :func:`build_prompt_ids`), or strings,
            tokenised as plain text (no control tokens from their content).
        progress: called after each forward pass with the number of prompt tokens it read
            (padding excluded, a shared prefix once; they add up to :func:`tokens_read`); an
            exception it raises stops the run (how a page cancels).

    Returns:
        (p, mass): ``p`` ``(n, 2)`` softmax of the logits of the label tokens
        (negative, positive) -- a distribution over the two labels, each row sums to 1;
        ``mass`` ``(n,)`` probability of the two label tokens among the whole vocabulary
        (how much the model "wanted" to answer with a label at all).
    """
    import torch
    from transformers.cache_utils import DynamicCache

    ids = label_token_ids(loaded)
    rows = _prompt_rows(loaded, prompts)
    tok = loaded.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    shared, batch_prefixes = prefix_plan(rows, batch_size)
    shared_kv = _extend_cache(loaded, None, rows[0][:shared], 0) if shared else None
    if shared and progress is not None:
        progress(shared)
    out_p, out_mass = [], []
    for b, start in enumerate(range(0, len(rows), batch_size)):
        chunk = rows[start:start + batch_size]
        prefix = batch_prefixes[b]
        kv = _extend_cache(loaded, shared_kv, chunk[0][shared:prefix], shared)
        tails = [r[prefix:] for r in chunk]
        width = max(len(r) for r in tails)
        input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in tails], dtype=torch.long)  # right padding
        attention_mask = torch.tensor([[1] * prefix + [1] * len(r) + [0] * (width - len(r)) for r in tails],
                                      dtype=torch.long)                  # (B, prefix + width)
        last = torch.tensor([[len(r) - 1] for r in tails], dtype=torch.long)  # (B, 1) each row's last token
        with loaded.lock, torch.inference_mode():
            # the prefix's keys/values repeated over the batch (a view; the cache copies it once)
            cache = DynamicCache(ddp_cache_data=[(k.expand(len(chunk), -1, -1, -1), v.expand(len(chunk), -1, -1, -1))
                                                 for k, v in kv]) if kv else None
            logits = loaded.model(input_ids=input_ids, attention_mask=attention_mask,
                                  position_ids=torch.arange(prefix, prefix + width).expand(len(chunk), -1),
                                  cache=cache, use_cache=cache is not None,
                                  logits_to_keep=last).logits[:, 0, :]  # (B, V)
        logits = logits.float()
        label_logits = logits[:, ids]                                    # (B, 2)
        out_p.append(torch.softmax(label_logits, dim=-1).numpy())
        out_mass.append(torch.softmax(logits, dim=-1)[:, ids].sum(-1).numpy())
        if progress is not None:
            progress(prefix - shared + sum(len(r) for r in tails))
    return np.concatenate(out_p), np.concatenate(out_mass)


def calibrate(p: np.ndarray, p_content_free: np.ndarray) -> np.ndarray:
    """Contextual calibration (Zhao et al. 2021, eq. W = diag(p_cf)^-1, b = 0): divide each
    label probability by its probability for the content-free input, renormalise.

    Args:
        p: ``(n, k)`` or ``(k,)`` label probabilities.
        p_content_free: ``(k,)`` label probabilities for the content-free input.

    Returns:
        calibrated probabilities, same shape, rows summing to 1.
    """
    q = np.asarray(p, dtype=float) / np.asarray(p_content_free, dtype=float)
    return q / q.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class PromptSettings:
    """Prompting settings (hashable: used as a cache key by the page).

    Attributes:
        template: prompt with a ``{text}`` placeholder.
        few_shot: prepend ``FEW_SHOT_EXAMPLES``.
        calibrate: apply contextual calibration against ``CONTENT_FREE``.
        mode: ``"complete"`` (plain text) or ``"chat"`` (chat template).
    """

    template: str = DEFAULT_TEMPLATE
    few_shot: bool = False
    calibrate: bool = False  # off by default: on 80 train rows "N/A" calibration lowered accuracy
    mode: str = DEFAULT_MODE


def _predict_prompts(loaded, texts: Sequence[str], settings: PromptSettings,
                     counts: list[int] | None = None) -> list[list[int]]:
    """The prompts :func:`llm_predict` scores: the content-free one, then one per text.
    ``counts``, when given, receives each text's token count before the cut."""
    # each text cut to LLM_MAX_TEXT_TOKENS, as in llm_sentiment (a 20 000-character row would
    # otherwise be a ~5 000-token prompt: minutes of eager attention on a CPU)
    cuts = [truncate_tokens(loaded, t, LLM_MAX_TEXT_TOKENS) for t in texts]
    if counts is not None:
        counts.extend(n for _, n in cuts)
    return [build_prompt_ids(loaded, settings.template, t, settings.few_shot, settings.mode)
            for t in [CONTENT_FREE, *(c for c, _ in cuts)]]


def llm_predict(loaded, texts: Sequence[str], settings: PromptSettings = PromptSettings(),
                progress: Callable[[int], None] | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Batch LLM predictions. Each text is cut to its first ``LLM_MAX_TEXT_TOKENS`` tokens.
    ``progress``: as in :func:`label_distribution`.

    Returns:
        (labels, p_positive per text (calibrated when ``settings.calibrate``), detail dict with
        ``uncalibrated`` (n, 2), ``calibrated`` (n, 2), ``content_free`` (2,), ``mass`` (n,)).
    """
    p_all, mass = label_distribution(loaded, _predict_prompts(loaded, texts, settings), progress=progress)
    p_cf, p = p_all[0], p_all[1:]
    p_cal = calibrate(p, p_cf)
    used = p_cal if settings.calibrate else p
    labels = [binary_label(v) for v in used[:, 1]]
    detail = {"uncalibrated": p, "calibrated": p_cal, "content_free": p_cf, "mass": mass[1:]}
    return labels, used[:, 1], detail


@dataclass(frozen=True)
class LlmWorkload:
    """What :func:`llm_sentiment` will feed SmolLM2 for one text.

    Attributes:
        prompts: prompts scored (content-free + text, and with word weights again both plus
            one occlusion variant per occluded word).
        tokens: prompt tokens read in total (the forward cost grows with it; a prefix the
            prompts of one call share is read once, :func:`tokens_read`).
        text_tokens: tokens of the text as given (before the app's ``LLM_MAX_TEXT_TOKENS`` cap).
        plain_tokens: prompt tokens read without word weights.
    """

    prompts: int
    tokens: int
    text_tokens: int
    plain_tokens: int


def _llm_batches(loaded, text: str, attribution: bool) -> tuple[list[list[str]], int]:
    """The texts of each :func:`llm_predict` call of :func:`llm_sentiment`, and the text's
    token count: exactly what it runs, so :func:`llm_workload` counts what is read."""
    whole_chars = len(text)
    cut, n_tokens = truncate_tokens(loaded, text, LLM_MAX_TEXT_TOKENS)
    batches = [[cut]]
    if attribution and max(len(cut), whole_chars) <= OCCLUSION_MAX_CHARS:   # the rule of occlusion()
        units = units_of(cut)[:LLM_OCCLUSION_WORDS]
        batches.append([cut] + [without_unit(cut, a, b) for a, b, _ in units])
    return batches, n_tokens


def llm_workload(loaded, text: str, settings: PromptSettings = PromptSettings(),
                 attribution: bool = True) -> LlmWorkload:
    """Prompts and prompt tokens :func:`llm_sentiment` will read for ``text`` (tokenizer only,
    no forward pass). Each :func:`llm_predict` call also scores the content-free prompt.

    Raises:
        SentimentInputError: empty text or template without ``{text}``.
    """
    text, _ = check_text(text)
    check_template(settings.template)
    batches, n_tokens = _llm_batches(loaded, text, attribution)
    calls = [_predict_prompts(loaded, batch, settings) for batch in batches]
    reads = [tokens_read(rows) for rows in calls]
    return LlmWorkload(prompts=sum(len(rows) for rows in calls), tokens=sum(reads),
                       text_tokens=n_tokens, plain_tokens=reads[0])


def llm_batch_workload(loaded, texts: Sequence[str], settings: PromptSettings = PromptSettings()) -> LlmWorkload:
    """Prompts and prompt tokens :func:`llm_predict` will read for ``texts`` (tokenizer only,
    no forward pass): the content-free prompt and one prompt per text, each text cut to
    ``LLM_MAX_TEXT_TOKENS``. ``text_tokens`` is the longest text's token count before the cut.

    Raises:
        SentimentInputError: template without ``{text}``.
    """
    check_template(settings.template)
    counts: list[int] = []
    rows = _predict_prompts(loaded, texts, settings, counts)
    tokens = tokens_read(rows)
    return LlmWorkload(prompts=len(rows), tokens=tokens, text_tokens=max(counts, default=0), plain_tokens=tokens)


def llm_sentiment(loaded, text: str, settings: PromptSettings = PromptSettings(),
                  attribution: bool = True, progress: Callable[[int], None] | None = None) -> SentimentResult:
    """Classify ``text`` by prompting the causal LM and reading the label-word logits.

    ``progress``: called after each batch with the prompt tokens it read (they add up to
    :func:`llm_workload` ``.tokens``); an exception it raises stops the run.

    ``extra``: ``prompt`` (exact string), ``uncalibrated`` / ``calibrated`` / ``content_free``
    label distributions as {label: p}, ``label_mass`` (share of the label tokens in the full
    next-token distribution).

    Raises:
        SentimentInputError: empty text or template without ``{text}``.
    """
    text, notices = check_text(text)
    check_template(settings.template)
    whole, whole_chars = text, len(text)
    text, n_tokens = truncate_tokens(loaded, text, LLM_MAX_TEXT_TOKENS)
    if n_tokens > LLM_MAX_TEXT_TOKENS:  # the app's cap for speed, not the model's context
        notices.append(Message("sentiment.notice.cut_by_app", {
            "n": n_tokens, "limit": LLM_MAX_TEXT_TOKENS, "what": loaded.spec.display_name,
            "read": f"{len(text):,}", "chars": f"{whole_chars:,}"}))
    (labels, p, detail), seconds = timed(llm_predict, loaded, [text], settings, progress)
    p_pos = float(p[0])
    as_dict = lambda row: {NEGATIVE: float(row[0]), POSITIVE: float(row[1])}  # noqa: E731
    result = SentimentResult(
        approach=LLM, label=labels[0], scores={NEGATIVE: 1 - p_pos, POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        extra={
            "prompt": build_prompt(loaded, settings.template, text, settings.few_shot, settings.mode),
            "uncalibrated": as_dict(detail["uncalibrated"][0]),
            "calibrated": as_dict(detail["calibrated"][0]),
            "content_free": as_dict(detail["content_free"]),
            "label_mass": float(detail["mass"][0]),
        },
        # measured on the whole text, like VADER and MiniLM; the cut is told by the notice
        coverage=coverage.model_coverage(loaded, whole).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = timed(
            occlusion, text, lambda ts: llm_predict(loaded, ts, settings, progress)[1], LLM_OCCLUSION_WORDS,
            whole_chars)
        result.attribution, result.notices = weights, result.notices + occ
    return result
