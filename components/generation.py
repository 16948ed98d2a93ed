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
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

import pandas as pd
import torch

from components.decode_batch import batch_decode_enabled, batcher_for, can_batch
from components.loading import LoadedModel
from components.locks import queued
from components.tokens import Utf8SafeDecoder, encode_chat, group_spans, readable_tokens, visible

COMPLETE = "complete"
CHAT = "chat"
MODES = (COMPLETE, CHAT)

MAX_NEW_TOKENS = 512
"""Largest ``max_new_tokens`` one request may ask for (the page's slider maximum, enforced
again in :func:`normalize_settings` for links and programmatic callers)."""
MAX_PROMPT_TOKENS = 512
"""Prompt tokens kept at most (the end of the prompt; older tokens are cut with a notice).
Measured on the 2-core machine under load (load average ~18): one forward pass of
SmolLM2-135M (eager attention) over 1024 tokens took 30 s, so the page -- which runs two
(generation + next-token view) -- keeps at most 512 prompt tokens, plus up to
:data:`MAX_NEW_TOKENS` new ones. Tokenising the whole text first is cheap (100 000
characters take ~0.05-0.5 s)."""
MAX_GENERATION_SECONDS = 60.0
"""Default wall-clock budget of one sample, seconds (see :func:`max_generation_seconds`)."""
MAX_SECONDS_ENV = "LLM_LAB_MAX_GENERATION_SECONDS"

Notice = tuple[str, dict]
"""A message for the user: (i18n key under ``generation.notice``, placeholder values)."""


def max_generation_seconds() -> float:
    """Wall-clock budget of one sample in seconds: :data:`MAX_GENERATION_SECONDS`, or the
    environment variable ``LLM_LAB_MAX_GENERATION_SECONDS`` when it holds a positive finite
    number (operators; tests use a tiny value). Invalid values fall back to the default."""
    raw = os.environ.get(MAX_SECONDS_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return MAX_GENERATION_SECONDS
    return value if 0 < value < float("inf") else MAX_GENERATION_SECONDS


class EmptyPromptError(ValueError):
    """The prompt is empty or whitespace only."""


class NoChatTemplateError(ValueError):
    """Chat mode was asked of a model without a chat template (not instruction-tuned)."""


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings, named as in ``transformers.GenerationConfig``.

    Attributes:
        max_new_tokens: tokens to generate at most (never ``max_length``).
        do_sample: sample (True) or greedy argmax decoding (False).
        temperature: logits are divided by it before softmax (> 0; 0 means greedy).
        top_k: keep only the k most likely tokens (0 = off).
        top_p: keep the smallest set of tokens whose probability sums to >= top_p
            (nucleus sampling, Holtzman et al. 2020; 1.0 = off, 0 = greedy).
        repetition_penalty: CTRL penalty (Keskar et al. 2019) on tokens already present
            (1.0 = off; > 1 discourages repeats).
        no_repeat_ngram_size: forbid repeating any n-gram of this size (0 = off).
        num_samples: independent continuations, sample i seeded with ``seed + i``.
        seed: RNG seed; same seed + settings -> same text.
    """

    max_new_tokens: int = 64
    do_sample: bool = True
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    num_samples: int = 1
    seed: int = 42


def normalize_settings(settings: GenerationSettings) -> tuple[GenerationSettings, list[Notice]]:
    """Make edge-case settings well-defined; return (settings, notices for the user).

    * max_new_tokens < 1 -> 1; > :data:`MAX_NEW_TOKENS` -> :data:`MAX_NEW_TOKENS`;
    * temperature <= 0 or not finite -> greedy (dividing logits by 0 is undefined; its limit
      is argmax);
    * top_p <= 0 -> greedy (an empty nucleus keeps only the top token); top_p > 1 -> 1;
    * top_k < 0 -> 0 (off); repetition_penalty <= 0 or not finite -> 1.0 (off);
      no_repeat_ngram_size < 0 -> 0; num_samples < 1 -> 1;
    * greedy with num_samples > 1 -> one sample (greedy is deterministic: they would be equal).

    Notices are ``(key, values)`` with keys under ``generation.notice``.
    """
    import math

    notices: list[Notice] = []
    s = settings
    if s.max_new_tokens < 1:
        s = replace(s, max_new_tokens=1)
        notices.append(("generation.notice.min_tokens", {}))
    if s.max_new_tokens > MAX_NEW_TOKENS:
        notices.append(("generation.notice.max_tokens", {"asked": s.max_new_tokens, "cap": MAX_NEW_TOKENS}))
        s = replace(s, max_new_tokens=MAX_NEW_TOKENS)
    if not math.isfinite(s.top_p) or s.top_p > 1:
        s = replace(s, top_p=1.0)
    if s.top_k < 0:
        s = replace(s, top_k=0)
    if not math.isfinite(s.repetition_penalty) or s.repetition_penalty <= 0:
        s = replace(s, repetition_penalty=1.0)
    if s.no_repeat_ngram_size < 0:
        s = replace(s, no_repeat_ngram_size=0)
    if s.num_samples < 1:
        s = replace(s, num_samples=1)
    if s.do_sample and (not math.isfinite(s.temperature) or s.temperature <= 0):
        s = replace(s, do_sample=False)
        notices.append(("generation.notice.temperature_zero", {}))
    if s.do_sample and s.top_p <= 0:
        s = replace(s, do_sample=False)
        notices.append(("generation.notice.top_p_zero", {}))
    if not s.do_sample and s.num_samples > 1:
        notices.append(("generation.notice.greedy_samples", {"n": s.num_samples}))
        s = replace(s, num_samples=1)
    return s, notices


@dataclass
class PreparedPrompt:
    """Tokenised model input.

    Attributes:
        text: the exact string tokenised (after the chat template, if any).
        input_ids: (1, seq) long tensor.
        attention_mask: (1, seq) long tensor of ones.
        prompt_tokens: seq.
        dropped_tokens: tokens cut from the left to fit the context (0 if none).
        max_new_tokens: tokens that will be generated at most (possibly clamped).
        notices: :data:`Notice` s about changes made (keys under ``generation.notice``).
    """

    text: str
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_tokens: int
    dropped_tokens: int
    max_new_tokens: int
    notices: list[Notice] = field(default_factory=list)


def _check_mode(loaded: LoadedModel, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == CHAT and not getattr(loaded.tokenizer, "chat_template", None):
        raise NoChatTemplateError(
            f"{loaded.spec.display_name} has no chat template (it is not instruction-tuned): "
            "use 'Complete text' mode."
        )


def _encode(loaded: LoadedModel, prompt: str, mode: str) -> tuple[list[int], tuple[int, int], str]:
    """(input_ids, (start, end) token span of the user's text, rendered text). The user's
    text is always tokenised as plain text (:func:`components.tokens.encode_plain`): typing
    ``<|im_end|>`` cannot close the user turn; only the chat template's own markup yields
    control tokens."""
    _check_mode(loaded, mode)
    tok = loaded.tokenizer
    with loaded.tokenizer_lock:
        if mode == COMPLETE:
            ids = list(tok(prompt, add_special_tokens=True, split_special_tokens=True,
                           verbose=False)["input_ids"])
            return ids, (0, len(ids)), prompt
        ids, spans, text = encode_chat(tok, [{"role": "user", "content": prompt}], add_generation_prompt=True)
    return ids, spans[0], text


def build_prompt_text(loaded: LoadedModel, prompt: str, mode: str) -> str:
    """The string the model sees: the prompt itself, or the chat template applied to one
    user message (with the assistant turn opened) in ``"chat"`` mode. Control-token
    look-alikes in ``prompt`` stay plain text in the ids (see :func:`prepare_inputs`).

    Raises:
        NoChatTemplateError: chat mode on a model without a chat template.
        ValueError: unknown mode.
    """
    return _encode(loaded, prompt, mode)[2]


def prepare_inputs(loaded: LoadedModel, prompt: str, mode: str, max_new_tokens: int,
                   max_prompt_tokens: int = MAX_PROMPT_TOKENS) -> PreparedPrompt:
    """Tokenise ``prompt`` for generation and fit it into the model's context window.

    The user's text is tokenised as plain text (``<|im_end|>`` typed by a person is ordinary
    pieces, never the control token); in chat mode only the chat template's markup yields
    special tokens (:func:`components.tokens.encode_chat`).

    Policy when prompt + ``max_new_tokens`` exceed the context length ``n_ctx``:
    ``max_new_tokens`` is kept (it is the user's output length) unless it alone needs more
    than half the window, in which case it is clamped to ``n_ctx // 2``. The prompt is then
    cut to ``min(n_ctx - max_new_tokens, max_prompt_tokens)`` tokens (compute cap,
    :data:`MAX_PROMPT_TOKENS`):

    * complete mode: from the left (oldest tokens first) -- the model continues the end of
      the text, so the end is the context that matters;
    * chat mode: only the user's message is cut, in its middle -- the template's turns
      (system turn, user header, end of turn, assistant header) are kept so the model still
      sees a well-formed conversation and answers, and both the start of the message (where
      an instruction like "Summarise this." usually is) and its end (a closing question) stay.

    Only the tokenizer runs here (fast even for 100 000 characters), never the model.

    Args:
        prompt: the user's text (any characters; NUL and control characters are kept).
        mode: :data:`COMPLETE` or :data:`CHAT`.
        max_new_tokens: tokens the caller wants to generate.
        max_prompt_tokens: prompt tokens kept at most (>= 1).

    Raises:
        EmptyPromptError: ``prompt`` is empty or whitespace only.
        NoChatTemplateError / ValueError: see :func:`build_prompt_text`.
    """
    if not prompt or not prompt.strip():
        raise EmptyPromptError("The prompt is empty: type some text for the model to continue.")
    ids, (start, end), text = _encode(loaded, prompt, mode)
    n_ctx = loaded.context_length
    notices: list[Notice] = []
    if max_new_tokens > n_ctx // 2 and len(ids) + max_new_tokens > n_ctx:
        notices.append(("generation.notice.new_tokens_clamped",
                        {"asked": max_new_tokens, "model": loaded.spec.display_name, "n_ctx": n_ctx,
                         "cap": n_ctx // 2}))
        max_new_tokens = n_ctx // 2
    keep = max(1, min(n_ctx - max_new_tokens, int(max_prompt_tokens)))
    total = len(ids)
    dropped = max(0, total - keep)
    window = len(ids) + max_new_tokens > n_ctx and keep == n_ctx - max_new_tokens
    if dropped and mode == CHAT and end - start > dropped:
        content = end - start - dropped           # user tokens kept: half from each end
        head = start + (content + 1) // 2
        tail = end - content // 2
        ids = ids[:head] + ids[tail:]
        with loaded.tokenizer_lock:
            text = loaded.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        notices.append(("generation.notice.chat_cut",
                        {"total": total, "cap": keep, "dropped": dropped, "kept": content,
                         "user": end - start}))
    elif dropped:
        ids = ids[dropped:]
        if mode == CHAT:
            with loaded.tokenizer_lock:
                text = loaded.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        if window:
            notices.append(("generation.notice.context_cut",
                            {"total": total, "new": max_new_tokens, "n_ctx": n_ctx, "dropped": dropped}))
        else:
            notices.append(("generation.notice.prompt_cap", {"total": total, "cap": keep, "dropped": dropped}))
    input_ids = torch.tensor([ids], dtype=torch.long)  # (1, seq)
    return PreparedPrompt(
        text=text,
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        prompt_tokens=len(ids),
        dropped_tokens=dropped,
        max_new_tokens=max_new_tokens,
        notices=notices,
    )


def generate_kwargs(loaded: LoadedModel, settings: GenerationSettings, max_new_tokens: int) -> dict:
    """Keyword arguments for ``model.generate`` (all set explicitly so the model's own
    generation_config cannot silently change decoding, and no warnings are logged)."""
    tok = loaded.tokenizer
    kwargs: dict = {
        "max_new_tokens": int(max_new_tokens),
        "do_sample": bool(settings.do_sample),
        "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        "repetition_penalty": float(settings.repetition_penalty),
        "no_repeat_ngram_size": int(settings.no_repeat_ngram_size),
    }
    if settings.do_sample:
        kwargs.update(
            temperature=float(settings.temperature),
            top_k=int(settings.top_k),
            top_p=float(settings.top_p),
        )
    else:
        kwargs.update(temperature=None, top_k=None, top_p=None)
    return kwargs


@dataclass
class GenerationStats:
    """Statistics of one generated sample.

    Attributes:
        prompt_tokens: tokens in the (possibly truncated) prompt.
        new_tokens: tokens generated.
        ttft_s: seconds from the call to the first new token (prompt processing + 1 step).
        tokens_per_s: decoding throughput after the first token,
            (new_tokens - 1) / (t_last - t_first); equals new_tokens / total when only one.
        total_s: seconds from the call to the last token.
        finish_reason: "eos" (the model ended its answer), "length" (hit max_new_tokens),
            "time" (hit the wall-clock cap, :func:`max_generation_seconds`) or "stopped"
            (the consumer went away: page rerun / navigation / Stop).
    """

    prompt_tokens: int = 0
    new_tokens: int = 0
    ttft_s: float = 0.0
    tokens_per_s: float = 0.0
    total_s: float = 0.0
    finish_reason: str = ""


def logits_processors(settings: GenerationSettings):
    """The ``transformers`` logits processors ``model.generate`` would apply for ``settings``,
    in its order (``GenerationMixin._get_logits_processor``): repetition penalty (CTRL,
    Keskar et al. 2019) -> no-repeat n-gram -> temperature -> top-k -> top-p (Holtzman et al.
    2020). Returns a ``LogitsProcessorList`` called as ``procs(input_ids (1, seq), scores (1, vocab))``."""
    from transformers.generation import (
        LogitsProcessorList,
        NoRepeatNGramLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    procs = LogitsProcessorList()
    if settings.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(settings.repetition_penalty))
    if settings.no_repeat_ngram_size > 0:
        procs.append(NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size))
    if settings.do_sample:
        if settings.temperature != 1.0:
            procs.append(TemperatureLogitsWarper(settings.temperature))
        if settings.top_k > 0:
            procs.append(TopKLogitsWarper(top_k=settings.top_k))
        if settings.top_p < 1.0:
            procs.append(TopPLogitsWarper(top_p=settings.top_p))
    return procs


def eos_token_ids(loaded: LoadedModel) -> set[int]:
    """Ids that end generation: the model's ``generation_config.eos_token_id`` (one id or a
    list), else the tokenizer's ``eos_token_id`` -- what ``model.generate`` stops on."""
    eos = loaded.model.generation_config.eos_token_id
    if eos is None:
        eos = loaded.tokenizer.eos_token_id
    return {int(e) for e in (eos if isinstance(eos, list) else [eos]) if e is not None}


class GenerationStream:
    """Iterate to get text deltas of one sample as they are generated; afterwards
    ``.text``, ``.token_ids`` and ``.stats`` hold the result.

    Decoding is the loop ``model.generate`` runs (``GenerationMixin._sample``: KV cache,
    the processors of :func:`logits_processors`, argmax or ``torch.multinomial``), written
    out so the shared model's ``loaded.lock`` is held for one forward pass at a time: other
    sessions' work interleaves step by step instead of waiting for the whole generation.
    The tokenizer is used under ``loaded.tokenizer_lock`` only. Sampling draws from this
    stream's own ``torch.Generator`` seeded with :attr:`seed`, so a seed gives the same text
    whatever other sessions do. Greedy text equals ``model.generate``'s.

    Concurrent streams on the same model share their decode steps: while several are decoding,
    one forward pass computes the next-token logits of all of them (rows left-padded, each with its
    own positions and attention mask; :mod:`components.decode_batch`), then each stream applies its
    own processors, generator, stop and deadline as above. Rows join after their own prompt pass
    and leave at any step. A lone stream's steps are the unbatched forward pass itself, bit for
    bit. In a batch a row's logits differ from its solo logits by float32 rounding only (batched
    matrix products sum in another order; measured max |Δ logit| 8.4e-05 on SmolLM2 with 8 sessions),
    so greedy and seeded text are the solo text unless two candidates are closer than that (8/8
    greedy and 8/8 seeded texts identical in ``bench/concurrency.py``). ``batch_decode=False`` (or
    ``LLM_LAB_BATCH_DECODE=0``) keeps every step unbatched.

    Closing the iterator early stops generation at the next token. Generation also stops
    after ``max_seconds`` of wall-clock time (default :func:`max_generation_seconds`,
    counted from the call, prompt processing included), with ``stats.finish_reason == "time"``.

    While the first forward pass waits for the shared model behind other requests,
    :attr:`ahead` is how many requests are ahead of this one (the running one included; FIFO,
    so it only goes down) and the iterator yields an empty delta each time it changes, so the
    consumer can show the queue position; it is 0 once the run has the model (later steps
    interleave with other sessions one forward pass at a time, or share one, and are not reported).

    After the run, ``step_logits[i]`` are the model's raw (vocab,) float32 logits of step i;
    ``step_logits[0]`` are the prompt's next-token logits (:func:`next_token_logits`), so the
    next-token view needs no second forward pass over the prompt.
    """

    def __init__(self, loaded: LoadedModel, prepared: PreparedPrompt, settings: GenerationSettings,
                 sample_index: int = 0, max_seconds: float | None = None, batch_decode: bool | None = None):
        self.loaded = loaded
        self.batch_decode = batch_decode_enabled() if batch_decode is None else bool(batch_decode)
        self.prepared = prepared
        self.settings = settings
        self.seed = settings.seed + sample_index
        self.max_seconds = float(max_seconds) if max_seconds is not None else max_generation_seconds()
        self.timed_out = False
        self.text = ""
        self.token_ids: list[int] = []
        self.stats = GenerationStats(prompt_tokens=prepared.prompt_tokens)
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.step_logits: list[torch.Tensor] = []  # raw logits of each generated step
        self.ahead = 0  # requests ahead in the model's queue before the first step

    def _run(self, start: float) -> None:
        loaded = self.loaded
        try:
            with loaded.tokenizer_lock:
                decoder = Utf8SafeDecoder(loaded.tokenizer, skip_special_tokens=True)
            procs = logits_processors(self.settings)
            gen = torch.Generator().manual_seed(self.seed)
            eos = eos_token_ids(loaded)
            deadline = start + self.max_seconds
            ids = self.prepared.input_ids  # (1, seq), grows by one per step
            step_ids, cache = ids, None

            def report(ahead: int) -> None:  # runs in this worker: the consumer shows it
                self._queue.put(("ahead", ahead, time.perf_counter()))

            batcher = batcher_for(loaded) if self.batch_decode else None
            with ExitStack() as decoding:
                for step in range(self.prepared.max_new_tokens):
                    if step == 1 and batcher is not None:
                        if can_batch(loaded.model, cache):
                            decoding.enter_context(batcher.decoding())  # from now on, steps may be batched
                        else:
                            batcher = None
                    if step and batcher is not None:
                        logits, cache = batcher.step(loaded, step_ids, cache, ids.shape[1] - 1)
                    else:
                        with queued(loaded.lock, report if step == 0 else None), torch.inference_mode():
                            out = loaded.model(input_ids=step_ids, attention_mask=torch.ones_like(ids),
                                               cache=cache, use_cache=True, logits_to_keep=1)
                        cache = out.cache
                        logits = out.logits[:, -1, :].to(dtype=torch.float32)  # (1, vocab), as generate
                    self.step_logits.append(logits[0])
                    with torch.inference_mode():
                        scores = procs(ids, logits.clone())
                        if self.settings.do_sample:
                            nxt = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=gen)  # (1, 1)
                        else:
                            nxt = torch.argmax(scores, dim=-1, keepdim=True)
                    ids = torch.cat([ids, nxt], dim=-1)
                    step_ids = nxt
                    tid = int(nxt)
                    with loaded.tokenizer_lock:
                        delta = decoder.push([tid])
                    self._queue.put(("tokens", ([tid], delta), time.perf_counter()))
                    if tid in eos or self._stop.is_set():
                        break
                    if time.perf_counter() >= deadline:
                        self.timed_out = True
                        break
            with loaded.tokenizer_lock:
                tail = decoder.flush()
            self._queue.put(("tail", ([], tail), time.perf_counter()))
        except BaseException as exc:  # re-raised in the consumer
            self._error = exc
        finally:
            self._queue.put(("end", None, time.perf_counter()))

    def __iter__(self) -> Iterator[str]:
        start = time.perf_counter()
        self.started_at, self.first_at, self.last_at = start, None, None  # live meters
        worker = threading.Thread(target=self._run, args=(start,), daemon=True)
        worker.start()
        first = last = None
        eos_ids = eos_token_ids(self.loaded) | {self.loaded.tokenizer.eos_token_id}
        try:
            while True:
                kind, payload, stamp = self._queue.get()
                if kind == "end":
                    break
                if kind == "ahead":
                    self.ahead = payload
                    yield ""
                    continue
                ids, delta = payload
                if ids:
                    if first is None:
                        first = stamp
                    last = stamp
                    self.first_at, self.last_at = first, last
                    self.token_ids.extend(ids)
                if delta:
                    self.text += delta
                    yield delta
        finally:
            self._stop.set()
            worker.join()
        if self._error is not None:
            raise self._error
        n = len(self.token_ids)
        ended = bool(n and self.token_ids[-1] in eos_ids)
        if ended:
            reason = "eos"
        elif n >= self.prepared.max_new_tokens:
            reason = "length"
        elif self.timed_out:
            reason = "time"
        elif self._stop.is_set():
            reason = "stopped"
        else:
            reason = "length"
        rates = stream_rates(start, first, last, n)
        self.stats = GenerationStats(
            prompt_tokens=self.prepared.prompt_tokens,
            new_tokens=n,
            ttft_s=rates["ttft_s"] or 0.0,
            tokens_per_s=rates["tokens_per_s"] or 0.0,
            total_s=rates["total_s"] or 0.0,
            finish_reason=reason,
        )

    def live_rates(self) -> dict:
        """:func:`stream_rates` of the tokens received so far (call while iterating)."""
        return stream_rates(getattr(self, "started_at", None), getattr(self, "first_at", None),
                            getattr(self, "last_at", None), len(self.token_ids))

    def steps(self, alternatives: int = 3) -> list[dict]:
        """Per generated token: its readable text, id, probability under the model's raw
        distribution (softmax of that step's logits) and the top alternatives.

        Returns:
            one dict per new token: ``token``, ``raw_token``, ``token_id``, ``p`` (float in
            [0, 1]), ``logp`` (natural log of ``p``, from ``log_softmax``: exact even where
            ``p`` underflows), ``rank`` (1 = the model's top choice), ``alternatives`` (list of
            (token, p)), ``group`` (``[start, size]``: the steps holding the same character,
            see :func:`components.tokens.group_spans`) and ``text`` (that character, readable).
            Empty before the stream has finished.
        """
        result = []
        with self.loaded.tokenizer_lock:
            pieces = readable_tokens(self.loaded.tokenizer, self.token_ids) if self.token_ids else []
            group = {a: (a, b - a) for a, b in group_spans(pieces)}
            for a, size in list(group.values()):
                for k in range(a + 1, a + size):
                    group[k] = (a, size)
            for step, (tid, logits) in enumerate(zip(self.token_ids, self.step_logits)):
                probs = torch.softmax(logits, -1)  # (vocab,)
                top = torch.topk(probs, alternatives + 1)
                alts = [(readable_tokens(self.loaded.tokenizer, [int(i)])[0].label, float(p))
                        for p, i in zip(top.values, top.indices) if int(i) != tid][:alternatives]
                result.append({
                    "token": pieces[step].label,
                    "raw_token": pieces[step].raw,
                    "token_id": tid,
                    "p": float(probs[tid]),
                    "logp": float(torch.log_softmax(logits, -1)[tid]),
                    "rank": int((probs > probs[tid]).sum()) + 1,
                    "alternatives": alts,
                    "group": list(group[step]),
                    "text": visible(pieces[step].text),
                })
        return result


def generate_text(loaded: LoadedModel, prepared: PreparedPrompt, settings: GenerationSettings, sample_index: int = 0) -> GenerationStream:
    """Run one sample to completion (non-streaming convenience); returns the finished stream."""
    stream = GenerationStream(loaded, prepared, settings, sample_index)
    for _ in stream:
        pass
    return stream


# --------------------------------------------------------------------------- next token
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


# --------------------------------------------------------------------------- JSON records
# The page keeps its result, and presenter mode ships its curated examples, in one plain
# JSON-able shape, so both are drawn by the same renderers.
def display_stages(settings: GenerationSettings) -> list[str]:
    """``p_*`` columns of :attr:`NextTokenDistribution.table` worth drawing for ``settings``:
    ``p_raw``, ``p_penalties`` if a penalty is on, then temperature/top-k/top-p when
    sampling, else ``p_final`` (the greedy one-hot)."""
    stages = ["p_raw"]
    if settings.repetition_penalty != 1.0 or settings.no_repeat_ngram_size:
        stages.append("p_penalties")
    if settings.do_sample:
        stages += ["p_temperature", "p_top_k", "p_top_p"]
    else:
        stages.append("p_final")
    return stages


def distribution_record(dist: NextTokenDistribution, settings: GenerationSettings) -> dict:
    """JSON-able view of ``dist``: ``table`` ({column: list}, ``token_id``, ``token``,
    ``raw_token``, ``logit`` and the ``p_*`` columns), ``stages`` (:func:`display_stages`),
    ``kept`` and ``entropy_bits`` (see :class:`NextTokenDistribution`)."""
    return {
        "table": {c: dist.table[c].tolist() for c in dist.table.columns},
        "stages": display_stages(settings),
        "kept": dict(dist.kept),
        "entropy_bits": dict(dist.entropy_bits),
    }


def sample_record(stream: GenerationStream, timing: bool = True) -> dict:
    """JSON-able result of one finished sample: ``text``, ``seed``, ``steps``
    (:meth:`GenerationStream.steps`, alternatives as ``[token, p]`` pairs) and ``stats``
    (``prompt_tokens``, ``new_tokens``, ``finish_reason``; with ``timing`` also ``ttft_s``,
    ``tokens_per_s``, ``total_s`` in seconds -- left out of curated examples, which must be
    reproducible)."""
    s = stream.stats
    stats = {"prompt_tokens": s.prompt_tokens, "new_tokens": s.new_tokens, "finish_reason": s.finish_reason}
    if timing:
        stats.update(ttft_s=s.ttft_s, tokens_per_s=s.tokens_per_s, total_s=s.total_s)
    steps = [{**st, "alternatives": [[a, p] for a, p in st["alternatives"]]} for st in stream.steps()]
    return {"text": stream.text, "seed": stream.seed, "steps": steps, "stats": stats}


def prompt_token_records(loaded: LoadedModel, input_ids: torch.Tensor) -> list[dict]:
    """Readable prompt tokens for display, one record per chip
    (:func:`components.tokens.token_chips`: the byte pieces of a split character are one
    chip): ``{"index": first position, "token": readable text, "pieces": tokens merged,
    "raw": raw vocabulary strings space-separated, "id": ids space-separated}`` for
    ``input_ids`` ((1, seq) or (seq,))."""
    from components.tokens import token_chips

    ids = input_ids.reshape(-1).tolist()
    with loaded.tokenizer_lock:
        chips = token_chips(readable_tokens(loaded.tokenizer, ids))
    return [{"index": c.start, "token": c.label, "pieces": c.size, "raw": c.raw, "id": c.token_id} for c in chips]


def settings_record(settings: GenerationSettings) -> dict:
    """``settings`` as a plain dict (field name -> value)."""
    from dataclasses import asdict

    return asdict(settings)


# --------------------------------------------------------------------------- id-tuple entry points
# The page caches its model work on hashable id tuples and NumPy arrays; these build the tensors.
def prompt_ids(prepared: PreparedPrompt) -> tuple[int, ...]:
    """The prompt's ids (``prepared.input_ids`` (1, seq)) as a hashable tuple of ints, length seq."""
    return tuple(int(i) for i in prepared.input_ids[0])


def prompt_token_records_for(loaded: LoadedModel, ids: tuple[int, ...]) -> list[dict]:
    """:func:`prompt_token_records` for the prompt ids ``ids`` (seq ints)."""
    return prompt_token_records(loaded, torch.tensor([ids]))


def next_token_logits_for(loaded: LoadedModel, ids: tuple[int, ...]):
    """:func:`next_token_logits` for the prompt ids ``ids`` (seq ints), as a (vocab,) float32
    NumPy array."""
    return next_token_logits(loaded, torch.tensor([ids])).numpy()


def first_step_logits(stream: GenerationStream):
    """The (vocab,) float32 NumPy logits of a finished stream's first step (the prompt's
    next-token logits), or ``None`` when it produced no step."""
    return stream.step_logits[0].numpy() if stream.step_logits else None


def complete_characters_for(loaded: LoadedModel, ids: tuple[int, ...], partial: tuple[int, ...]) -> dict[int, str]:
    """:func:`complete_characters` after the prompt ids ``ids`` for the token ids ``partial``."""
    return complete_characters(loaded, torch.tensor([ids]), list(partial))


def distribution_record_for(loaded: LoadedModel, ids: tuple[int, ...], settings: GenerationSettings, logits,
                            completions: Callable[[list[int]], dict[int, str]], top_n: int = 12) -> dict:
    """:func:`distribution_record` of :func:`next_token_distribution` after the prompt ids ``ids``
    (seq ints), from precomputed ``logits`` ((vocab,) NumPy array, :func:`next_token_logits_for`);
    ``completions`` as in :func:`next_token_distribution`."""
    d = next_token_distribution(loaded, torch.tensor([ids]), settings, top_n=top_n,
                                logits=torch.from_numpy(logits), completions=completions)
    return distribution_record(d, settings)


# --------------------------------------------------------------------------- live meters
def stream_rates(start: float | None, first: float | None, last: float | None, n: int) -> dict:
    """Timing meters of a stream from its timestamps (``time.perf_counter`` seconds): usable
    while the text streams (``last`` = the latest token so far) and at its end.

    Args:
        start: when the request started (prompt processing included).
        first / last: arrival of the first / latest new token (None before the first).
        n: new tokens received so far.

    Returns:
        ``{"ttft_s", "tokens_per_s", "total_s"}``: time to first token ``first - start``;
        decoding throughput after the first token ``(n - 1) / (last - first)`` (the prompt's
        prefill is excluded, as in llama.cpp / vLLM reports), or ``n / (last - start)`` when
        fewer than two tokens have arrived; ``last - start``. A value is None when it cannot
        be measured yet (no token).
    """
    if start is None or first is None or last is None or n < 1:
        return {"ttft_s": None, "tokens_per_s": None, "total_s": None}
    if n > 1 and last > first:
        rate = (n - 1) / (last - first)
    else:
        rate = n / max(last - start, 1e-9)
    return {"ttft_s": first - start, "tokens_per_s": rate, "total_s": last - start}


# --------------------------------------------------------------------------- merged chips
def merge_steps(steps: list[dict]) -> list[dict]:
    """One chip per character for generated steps (:meth:`GenerationStream.steps`): the byte
    pieces of a split character (``group`` of size > 1) become one entry.

    Rule for a merged chip: ``p = p_1 * p_2 * ... * p_k``, the product of its pieces'
    probabilities, each under the model's raw distribution at its own step (chain rule: the
    probability that the model writes exactly these k pieces one after another, given the
    text before them); ``logp`` is the sum of the pieces' ``logp``. ``rank`` and
    ``alternatives`` are the first piece's (where the choice of character was made).

    Returns:
        dicts with the keys of a step plus ``pieces`` (k) and ``piece_p`` (the k factors);
        ``token`` is the character text, ``raw_token`` / ``token_id`` list the pieces
        space-separated. Steps without ``group`` (older records) stay one chip each.
    """
    out: list[dict] = []
    i = 0
    while i < len(steps):
        st = steps[i]
        start, size = st.get("group", [i, 1])
        if size > 1 and start == i and i + size <= len(steps):
            part = steps[i: i + size]
            p = 1.0
            for q in part:
                p *= q["p"]
            out.append({**st, "token": st.get("text", st["token"]), "p": p,
                        "logp": sum(q.get("logp", 0.0) for q in part),
                        "raw_token": " ".join(q["raw_token"] for q in part),
                        "token_id": " ".join(str(q["token_id"]) for q in part),
                        "pieces": size, "piece_p": [q["p"] for q in part]})
            i += size
        else:
            out.append({**st, "pieces": 1, "piece_p": [st["p"]]})
            i += 1
    return out


# --------------------------------------------------------------------------- settings side by side
COMPARE_DEFAULTS: tuple[GenerationSettings, ...] = (
    GenerationSettings(do_sample=False, temperature=1.0, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=0.7, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=1.3, top_k=0, top_p=1.0),
    GenerationSettings(do_sample=True, temperature=1.0, top_k=0, top_p=0.9),
)
"""Default columns of the side-by-side view: greedy, temperature 0.7, temperature 1.3 and
nucleus top-p 0.9 (Holtzman et al. 2020), each changing one thing from plain sampling
(top-k off)."""
MAX_COLUMNS = 4


def distinct_n(token_ids: list[int], n: int) -> float | None:
    """distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural
    Conversation Models"): unique n-grams / total n-grams of one text, here over token ids.

    Returns:
        a float in (0, 1] (1 = no n-gram repeats), or None when the text has fewer than
        ``n`` tokens (no n-gram).

    Raises:
        ValueError: ``n < 1``.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    grams = [tuple(token_ids[i: i + n]) for i in range(len(token_ids) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def mean_logprob(steps: list[dict]) -> float | None:
    """Mean log-probability of the generated tokens under the model's raw distribution,
    nats per token: ``(1/T) * sum_t log p(x_t | x_<t)`` (the negative of the per-token
    cross-entropy; ``exp(-value)`` is the perplexity of the text under the model).
    Uses each step's ``logp`` (:meth:`GenerationStream.steps`). None for no tokens."""
    if not steps:
        return None
    return sum(s["logp"] for s in steps) / len(steps)


def column_settings(base: GenerationSettings, columns: list[GenerationSettings]) -> tuple[
        list[GenerationSettings], list[Notice]]:
    """Settings of each side-by-side column: ``base`` (shared max_new_tokens, penalties and
    seed) with the column's ``do_sample``, ``temperature``, ``top_k`` and ``top_p``, one
    sample each, normalised (:func:`normalize_settings`).

    Returns:
        (settings per column, notices of all columns, each once).
    """
    out, notices = [], []
    for c in columns[:MAX_COLUMNS]:
        s, note = normalize_settings(replace(base, do_sample=c.do_sample, temperature=c.temperature,
                                             top_k=c.top_k, top_p=c.top_p, num_samples=1))
        out.append(s)
        notices += [x for x in note if x not in notices]
    return out, notices


def compare_records(streams: list[GenerationStream], timing: bool = True) -> list[dict]:
    """JSON-able records of finished side-by-side streams: :func:`sample_record` plus
    ``settings`` (:func:`settings_record`), ``mean_logprob`` (nats/token, :func:`mean_logprob`),
    ``distinct_1`` and ``distinct_2`` (:func:`distinct_n` over the generated token ids)."""
    records = []
    for stream in streams:
        rec = sample_record(stream, timing=timing)
        rec.update(settings=settings_record(stream.settings), mean_logprob=mean_logprob(rec["steps"]),
                   distinct_1=distinct_n(stream.token_ids, 1), distinct_2=distinct_n(stream.token_ids, 2))
        records.append(rec)
    return records


def compare_settings(loaded: LoadedModel, prepared: PreparedPrompt, settings: list[GenerationSettings],
                     max_seconds: float | None = None,
                     on_delta: Callable[[int, str, GenerationStream], None] | None = None,
                     timing: bool = True) -> list[dict]:
    """Generate one continuation of the same prompt per decoding setting, side by side.

    Every column is a :class:`GenerationStream` (same prompt, same seed -- each with its own
    ``torch.Generator`` -- and its own settings); they run together, each in its worker thread,
    taking ``loaded.lock`` for one forward pass at a time, so columns advance step by step
    together. Greedy columns equal the single view's greedy text; a sampled column gives the
    same text for the same seed and settings, whatever the other columns are.

    Args:
        settings: 1 to :data:`MAX_COLUMNS` normalised settings (see :func:`column_settings`).
        max_seconds: wall-clock budget per column (default :func:`max_generation_seconds`).
        on_delta: called as ``on_delta(column, text_delta, stream)`` while text streams (the
            page paints with it).
        timing: keep timings in the records (False for reproducible curated examples).

    Returns:
        one :func:`compare_records` record per column, in order.

    Raises:
        ValueError: no settings or more than :data:`MAX_COLUMNS`.
    """
    if not 1 <= len(settings) <= MAX_COLUMNS:
        raise ValueError(f"between 1 and {MAX_COLUMNS} settings, not {len(settings)}")
    streams = [GenerationStream(loaded, prepared, s, sample_index=0, max_seconds=max_seconds) for s in settings]
    iters = [iter(s) for s in streams]
    active = list(range(len(streams)))
    try:
        while active:
            for col in list(active):
                try:
                    delta = next(iters[col])
                except StopIteration:
                    active.remove(col)
                    continue
                if on_delta is not None:
                    on_delta(col, delta, streams[col])
    finally:
        for it in iters:
            it.close()
    return compare_records(streams, timing=timing)


VIEW_SINGLE = "single"
VIEW_COMPARE = "compare"
VIEWS = (VIEW_SINGLE, VIEW_COMPARE)
"""Views of the generation page: one setting (with samples) or settings side by side."""
