"""Streamed generation of one sample, with timing statistics and live meters.

Responsibility: :class:`GenerationStream` (``model.generate``'s sampling loop written out --
KV cache, :func:`~components.generation.settings.logits_processors`, argmax or
``torch.multinomial`` with the stream's own seeded ``torch.Generator`` -- holding the shared
model's lock for one forward pass at a time, decode steps batched across concurrent streams by
:mod:`components.decode_batch`), :class:`GenerationStats`, :func:`generate_text` and
:func:`stream_rates` (time to first token, decoding throughput after the first token as in
llama.cpp / vLLM reports). Sources: transformers ``GenerationMixin._sample``.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import torch

from components.decode_batch import batch_decode_enabled, batcher_for, can_batch
from components.generation.prompt import PreparedPrompt, eos_token_ids
from components.generation.settings import GenerationSettings, logits_processors, max_generation_seconds
from components.loading import LoadedModel
from components.locks import queued
from components.tokens import Utf8SafeDecoder, group_spans, readable_tokens, visible


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
