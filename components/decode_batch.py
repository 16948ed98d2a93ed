"""One batched forward pass per decode step for the generations running at once on a model.

Decoding one token reads every weight of the model once, and on a CPU that read, not the
arithmetic, sets the time of a step; a batch of rows shares that read. When several sessions
generate on the same shared model, :class:`DecodeBatcher` runs their decode steps (one new token
each; prompts are still processed one by one) as a single forward pass: each row's past keys and
values are left-padded to the longest row, the 2D ``attention_mask`` is 0 on the padding and
``position_ids`` are each row's own length, so every row attends to exactly its own tokens at its
own positions (the left-padding scheme of transformers' batched ``generate``). After the pass each
row gets back its own logits and its own KV cache, padding stripped. Rows join and leave at any
step; logits processors and sampling stay with each row's stream.

A step with one row is the unbatched forward pass itself (``input_ids`` (1, 1),
``attention_mask`` of ones, the row's own cache), so a lone generation computes exactly what it
computed without the batcher.

Operator switch: ``LLM_LAB_BATCH_DECODE=0`` turns batching off (every stream takes its own
forward passes in turn); ``LLM_LAB_BATCH_WAIT_MS`` (default 5) is the longest a submitted step waits
for the other running generations to submit theirs before it goes without them.
"""
from __future__ import annotations

import inspect
import os
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import torch

__all__ = ["DecodeBatcher", "batch_decode_enabled", "batcher_for", "can_batch"]

_DEFAULT_WAIT_MS = 5.0  # the others sample in ~1 ms; a SmolLM2 step takes 40+ ms; a lone stream never waits


def batch_decode_enabled() -> bool:
    """False when the operator set ``LLM_LAB_BATCH_DECODE`` to ``0``/``false``/``no``/``off``."""
    return os.environ.get("LLM_LAB_BATCH_DECODE", "1").strip().lower() not in {"0", "false", "no", "off"}


def _wait_seconds() -> float:
    try:
        ms = float(os.environ.get("LLM_LAB_BATCH_WAIT_MS", _DEFAULT_WAIT_MS))
    except ValueError:
        ms = _DEFAULT_WAIT_MS
    return max(0.0, min(ms, 1000.0)) / 1000.0


def can_batch(model: Any, cache: Any) -> bool:
    """Whether decode steps of ``model`` with ``cache`` can be stacked into one batch: a
    ``DynamicCache`` whose layers are all plain (full-attention) ``DynamicLayer`` and a forward
    taking ``position_ids``. Anything else (sliding-window or static caches, recurrent state)
    keeps its own forward passes."""
    from transformers.cache_utils import DynamicCache, DynamicLayer

    if type(cache) is not DynamicCache or not cache.layers:
        return False
    if any(type(layer) is not DynamicLayer or layer.keys is None for layer in cache.layers):
        return False
    try:
        return "position_ids" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


class _Request:
    __slots__ = ("token", "cache", "length", "logits", "error", "done")

    def __init__(self, token: torch.Tensor, cache: Any, length: int):
        self.token, self.cache, self.length = token, cache, length
        self.logits: torch.Tensor | None = None
        self.error: BaseException | None = None
        self.done = False


class DecodeBatcher:
    """Gathers the decode steps of the generations running on one model into batched forwards.

    A stream calls :meth:`decoding` around its decode loop (after its prompt's forward pass) so
    the batcher knows how many steps to expect, and :meth:`step` for each new token. The first
    thread to find no step running becomes the leader: it waits until every decoding stream has
    submitted (at most ``LLM_LAB_BATCH_WAIT_MS``), takes the model's ``lock`` like any other
    request (first come, first served, one forward pass), takes every step submitted by then and
    runs them as one forward pass; the others just wait for their result. Thread-safe.

    :attr:`on_batch` (optional) is called with the batch size after each forward pass, in the
    leader's thread (for tests and benchmarks).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pending: list[_Request] = []
        self._active = 0  # streams between their prompt's forward pass and their last step
        self._leading = False
        self.on_batch: Callable[[int], None] | None = None

    @property
    def active(self) -> int:
        """Streams registered with :meth:`decoding` now."""
        with self._cond:
            return self._active

    @contextmanager
    def decoding(self):
        """Register the calling stream as decoding for the ``with`` block."""
        with self._cond:
            self._active += 1
        try:
            yield self
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()  # a leader waiting for this stream's step stops waiting

    def step(self, loaded: Any, token: torch.Tensor, cache: Any, length: int) -> tuple[torch.Tensor, Any]:
        """One decode step of one row.

        Args:
            loaded: the :class:`components.loading.LoadedModel` (its ``model`` and ``lock``).
            token: (1, 1) long tensor, the row's last token id.
            cache: the row's KV cache (``DynamicCache`` of ``length`` positions, batch 1).
            length: tokens the row has seen so far (prompt + generated before ``token``).

        Returns:
            ``(logits, cache)``: the row's (1, vocab) float32 next-token logits and its cache
            extended by ``token``'s position (``length + 1`` positions).

        Raises:
            whatever the forward pass raised for this row.
        """
        req = _Request(token, cache, length)
        wait = _wait_seconds()
        with self._cond:
            self._pending.append(req)
            self._cond.notify_all()
            until = None  # the gathering wait starts once no pass is running
            while not req.done:
                if not self._leading:
                    until = time.monotonic() + wait if until is None else until
                    remaining = until - time.monotonic()
                    if len(self._pending) < self._active and remaining > 0:
                        self._cond.wait(remaining)  # the others are sampling their last token
                        continue
                    self._leading = True
                    break
                until = None
                self._cond.wait()
        if not req.done:
            try:
                self._lead(loaded)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if req.error is not None:
            raise req.error
        return req.logits, req.cache

    def _lead(self, loaded: Any) -> None:
        batch: list[_Request] = []
        try:
            with loaded.lock, torch.inference_mode():
                with self._cond:
                    batch, self._pending = self._pending, []
                if len(batch) == 1 or not all(can_batch(loaded.model, r.cache) for r in batch):
                    for r in batch:
                        _solo(loaded, r)
                else:
                    try:
                        _batched(loaded, batch)
                    except Exception:  # one bad row must not fail the others: retry one by one
                        for r in batch:
                            _solo(loaded, r)
            if self.on_batch is not None:
                self.on_batch(len(batch))
        except BaseException as exc:
            for r in batch:
                if not r.done:
                    r.error = exc
            raise
        finally:
            with self._cond:
                for r in batch:
                    r.done = True
                self._cond.notify_all()


def _solo(loaded: Any, r: _Request) -> None:
    """The unbatched decode step, exactly as a lone stream runs it."""
    try:
        out = loaded.model(input_ids=r.token, attention_mask=torch.ones((1, r.length + 1), dtype=torch.long),
                           cache=r.cache, use_cache=True, logits_to_keep=1)
        r.cache = out.cache
        r.logits = out.logits[:, -1, :].to(dtype=torch.float32)
        r.error = None
    except Exception as exc:
        r.error = exc


def _batched(loaded: Any, batch: list[_Request]) -> None:
    width = max(r.length for r in batch)
    pads = [width - r.length for r in batch]
    rows = len(batch)
    layers = []
    for i in range(len(batch[0].cache.layers)):
        per_row = [(r.cache.layers[i].keys, r.cache.layers[i].values) for r in batch]
        k0, v0 = per_row[0]
        keys = k0.new_zeros((rows, k0.shape[1], width, k0.shape[3]))
        values = v0.new_zeros((rows, v0.shape[1], width, v0.shape[3]))
        for b, (k, v) in enumerate(per_row):
            keys[b, :, pads[b]:] = k[0]
            values[b, :, pads[b]:] = v[0]
        layers.append((keys, values))
    mask = torch.ones((rows, width + 1), dtype=torch.long)
    for b, pad in enumerate(pads):
        mask[b, :pad] = 0
    out = loaded.model(
        input_ids=torch.cat([r.token for r in batch], dim=0),  # (rows, 1)
        attention_mask=mask,
        position_ids=torch.tensor([[r.length] for r in batch], dtype=torch.long),
        cache=_wrap_layers(layers), use_cache=True, logits_to_keep=1,
    )
    logits = out.logits[:, -1, :].to(dtype=torch.float32)  # (rows, vocab)
    grown = out.cache
    for b, r in enumerate(batch):
        r.cache = _wrap_layers([(layer.keys[b:b + 1, :, pads[b]:], layer.values[b:b + 1, :, pads[b]:])
                                for layer in grown.layers])
        r.logits = logits[b:b + 1].clone()
        r.error = None


def _wrap_layers(keys_values: list[tuple[torch.Tensor, torch.Tensor]]):
    """A ``DynamicCache`` of plain full-attention layers holding copies of the given
    per-layer (keys, values), each (batch, kv heads, positions, head dim)."""
    from transformers.cache_utils import DynamicCache

    return DynamicCache(ddp_cache_data=keys_values)


_BATCHERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BATCHERS_LOCK = threading.Lock()


def batcher_for(loaded: Any) -> DecodeBatcher:
    """The :class:`DecodeBatcher` of ``loaded``'s model (one per model object, created on first
    use, dropped with the model; the model itself is not touched)."""
    with _BATCHERS_LOCK:
        batcher = _BATCHERS.get(loaded.model)
        if batcher is None:
            batcher = _BATCHERS[loaded.model] = DecodeBatcher()
        return batcher
