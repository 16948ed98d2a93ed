"""Autoregressive generation: prompt -> input_ids -> streamed tokens -> text, plus the
next-token distribution before and after each sampling setting.

The loop the primer describes (predict a distribution over the vocabulary for the next
token, pick one, append it, repeat) is run by ``model.generate`` -- the library's
implementation, so what users see is what the model really does. This module adds:

* :func:`normalize_settings` -- turns edge-case settings (temperature 0, top-p 0, several
  greedy samples) into well-defined decoding with a notice for each change;
* :func:`prepare_inputs` -- chat template, tokenisation and the context-length clamp;
* :class:`GenerationStream` -- streamed, UTF-8-safe text with timing statistics;
* :func:`next_token_distribution` -- the logits of the next token pushed through the same
  ``transformers`` logits processors ``generate`` uses, stage by stage.

No streamlit here.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import pandas as pd
import torch

from components.loading import LoadedModel
from components.tokens import Utf8SafeDecoder, readable_tokens

COMPLETE = "complete"
CHAT = "chat"
MODES = (COMPLETE, CHAT)


class EmptyPromptError(ValueError):
    """The prompt is empty or whitespace only."""


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


def normalize_settings(settings: GenerationSettings) -> tuple[GenerationSettings, list[str]]:
    """Make edge-case settings well-defined; return (settings, notices for the user).

    * temperature <= 0 -> greedy (dividing logits by 0 is undefined; its limit is argmax);
    * top_p <= 0 -> greedy (an empty nucleus keeps only the top token);
    * greedy with num_samples > 1 -> one sample (greedy is deterministic: they would be equal);
    * max_new_tokens < 1 -> 1.
    """
    notices: list[str] = []
    s = settings
    if s.max_new_tokens < 1:
        s = replace(s, max_new_tokens=1)
        notices.append("Max new tokens must be at least 1; using 1.")
    if s.do_sample and s.temperature <= 0:
        s = replace(s, do_sample=False)
        notices.append("Temperature 0 means always taking the most likely token: using greedy decoding.")
    if s.do_sample and s.top_p <= 0:
        s = replace(s, do_sample=False)
        notices.append("Top-p 0 keeps only the single most likely token: using greedy decoding.")
    if not s.do_sample and s.num_samples > 1:
        notices.append(
            f"Greedy decoding is deterministic, so {s.num_samples} samples would be identical: "
            "showing one. Switch on sampling to compare different continuations."
        )
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
        notices: messages for the user about changes made.
    """

    text: str
    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_tokens: int
    dropped_tokens: int
    max_new_tokens: int
    notices: list[str] = field(default_factory=list)


def build_prompt_text(loaded: LoadedModel, prompt: str, mode: str) -> str:
    """The string the model sees: the prompt itself, or the chat template applied to one
    user message (with the assistant turn opened) in ``"chat"`` mode.

    Raises:
        ValueError: chat mode on a model without a chat template, or unknown mode.
    """
    if mode == COMPLETE:
        return prompt
    if mode != CHAT:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if not getattr(loaded.tokenizer, "chat_template", None):
        raise ValueError(
            f"{loaded.spec.display_name} has no chat template (it is not instruction-tuned): "
            "use 'Complete text' mode."
        )
    with loaded.lock:
        return loaded.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )


def prepare_inputs(loaded: LoadedModel, prompt: str, mode: str, max_new_tokens: int) -> PreparedPrompt:
    """Tokenise ``prompt`` for generation and fit it into the model's context window.

    Policy when prompt + ``max_new_tokens`` exceed the context length ``n_ctx``:
    ``max_new_tokens`` is kept (it is the user's output length) unless it alone needs more
    than half the window, in which case it is clamped to ``n_ctx // 2``; then the prompt is
    cut from the left (oldest tokens first) to ``n_ctx - max_new_tokens`` tokens.

    Raises:
        EmptyPromptError: ``prompt`` is empty or whitespace only.
        ValueError: see :func:`build_prompt_text`.
    """
    if not prompt or not prompt.strip():
        raise EmptyPromptError("The prompt is empty: type some text for the model to continue.")
    text = build_prompt_text(loaded, prompt, mode)
    with loaded.lock:
        ids = loaded.tokenizer(text, add_special_tokens=(mode == COMPLETE))["input_ids"]
    n_ctx = loaded.context_length
    notices: list[str] = []
    if max_new_tokens > n_ctx // 2 and len(ids) + max_new_tokens > n_ctx:
        notices.append(
            f"{max_new_tokens} new tokens do not fit {loaded.spec.display_name}'s context of "
            f"{n_ctx} tokens together with the prompt: generating at most {n_ctx // 2}."
        )
        max_new_tokens = n_ctx // 2
    dropped = max(0, len(ids) + max_new_tokens - n_ctx)
    if dropped:
        ids = ids[dropped:]
        notices.append(
            f"The prompt ({len(ids) + dropped} tokens) plus {max_new_tokens} new tokens exceed the "
            f"context window of {n_ctx} tokens: the first {dropped} prompt tokens were cut."
        )
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
        finish_reason: "eos" (the model ended its answer), "length" (hit max_new_tokens)
            or "stopped".
    """

    prompt_tokens: int = 0
    new_tokens: int = 0
    ttft_s: float = 0.0
    tokens_per_s: float = 0.0
    total_s: float = 0.0
    finish_reason: str = ""


class _QueueStreamer:
    """transformers streamer: puts ``(new token ids, decoded text delta)`` with their arrival
    time in a queue. It runs in the generation thread, which already holds ``loaded.lock``,
    so the shared tokenizer is used under the lock without the consumer waiting for the
    whole generation to end (the consumer taking the lock itself would block until then
    and nothing would stream)."""

    def __init__(self, out: queue.Queue, decoder: Utf8SafeDecoder):
        self.out = out
        self.decoder = decoder
        self.prompt_seen = False

    def put(self, value):
        if not self.prompt_seen:  # generate() first sends the prompt
            self.prompt_seen = True
            return
        ids = value.reshape(-1).tolist()
        self.out.put(("tokens", (ids, self.decoder.push(ids)), time.perf_counter()))

    def end(self):  # the "end" message is sent by GenerationStream._run after the flush
        pass


class _StopOnEvent:
    """Stopping criterion: stop when the consumer goes away (page rerun / navigation)."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids, scores, **kwargs):
        stop = self.event.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool)


class GenerationStream:
    """Iterate to get text deltas of one sample as they are generated; afterwards
    ``.text``, ``.token_ids`` and ``.stats`` hold the result.

    Generation runs in a background thread holding ``loaded.lock`` (seeded sampling uses
    torch's global RNG; the lock makes seeds reproducible under concurrent sessions).
    Closing the iterator early stops generation at the next token.
    """

    def __init__(self, loaded: LoadedModel, prepared: PreparedPrompt, settings: GenerationSettings, sample_index: int = 0):
        self.loaded = loaded
        self.prepared = prepared
        self.settings = settings
        self.seed = settings.seed + sample_index
        self.text = ""
        self.token_ids: list[int] = []
        self.stats = GenerationStats(prompt_tokens=prepared.prompt_tokens)
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.step_logits: list[torch.Tensor] = []  # raw logits of each generated step

    def _run(self, start: float) -> None:
        from transformers import StoppingCriteriaList, set_seed

        try:
            with self.loaded.lock, torch.inference_mode():
                decoder = Utf8SafeDecoder(self.loaded.tokenizer, skip_special_tokens=True)
                set_seed(self.seed)
                out = self.loaded.model.generate(
                    input_ids=self.prepared.input_ids,
                    attention_mask=self.prepared.attention_mask,
                    streamer=_QueueStreamer(self._queue, decoder),
                    stopping_criteria=StoppingCriteriaList([_StopOnEvent(self._stop)]),
                    return_dict_in_generate=True,
                    output_logits=True,
                    **generate_kwargs(self.loaded, self.settings, self.prepared.max_new_tokens),
                )
                self.step_logits = [step[0].float() for step in (out.logits or ())]  # each (vocab,)
                self._queue.put(("tail", ([], decoder.flush()), time.perf_counter()))
        except BaseException as exc:  # re-raised in the consumer
            self._error = exc
        finally:
            self._queue.put(("end", None, time.perf_counter()))

    def __iter__(self) -> Iterator[str]:
        start = time.perf_counter()
        worker = threading.Thread(target=self._run, args=(start,), daemon=True)
        worker.start()
        first = last = None
        eos = self.loaded.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {self.loaded.tokenizer.eos_token_id}
        try:
            while True:
                kind, payload, stamp = self._queue.get()
                if kind == "end":
                    break
                ids, delta = payload
                if ids:
                    if first is None:
                        first = stamp
                    last = stamp
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
        if self._stop.is_set() and n < self.prepared.max_new_tokens and not (n and self.token_ids[-1] in eos_ids):
            reason = "stopped"
        else:
            reason = "eos" if n and self.token_ids[-1] in eos_ids else "length"
        self.stats = GenerationStats(
            prompt_tokens=self.prepared.prompt_tokens,
            new_tokens=n,
            ttft_s=(first - start) if first else 0.0,
            tokens_per_s=((n - 1) / (last - first)) if n > 1 and last > first else (n / max(last - start, 1e-9) if n else 0.0),
            total_s=(last - start) if last else 0.0,
            finish_reason=reason,
        )


    def steps(self, alternatives: int = 3) -> list[dict]:
        """Per generated token: its readable text, id, probability under the model's raw
        distribution (softmax of that step's logits) and the top alternatives.

        Returns:
            one dict per new token: ``token``, ``raw_token``, ``token_id``, ``p`` (float in
            [0, 1]), ``rank`` (1 = the model's top choice), ``alternatives`` (list of
            (token, p)). Empty before the stream has finished.
        """
        result = []
        with self.loaded.lock:
            pieces = readable_tokens(self.loaded.tokenizer, self.token_ids) if self.token_ids else []
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
                    "rank": int((probs > probs[tid]).sum()) + 1,
                    "alternatives": alts,
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
        out = loaded.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
    return out.logits[0, -1].float()  # (vocab,)


def next_token_distribution(
    loaded: LoadedModel,
    input_ids: torch.Tensor,
    settings: GenerationSettings,
    top_n: int = 15,
    logits: torch.Tensor | None = None,
) -> NextTokenDistribution:
    """Next-token probabilities after each sampling stage, using the processors
    ``generate`` applies, in its order (transformers ``GenerationMixin._get_logits_processor``):
    repetition penalty -> no-repeat n-gram -> temperature -> top-k -> top-p.

    Args:
        input_ids: (1, seq) prompt ids (e.g. ``PreparedPrompt.input_ids``).
        settings: normalised settings (see :func:`normalize_settings`).
        top_n: rows to show.
        logits: (vocab,) precomputed :func:`next_token_logits` (skips the forward pass).

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
    with loaded.lock:
        raw_tokens = loaded.tokenizer.convert_ids_to_tokens(shown)
        labels = [readable_tokens(loaded.tokenizer, [tid])[0].label for tid in shown]
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
