"""Switch attention heads off and measure what changes in the prediction.

Pure compute (torch + numpy, no streamlit, no UI language: errors carry message codes, see
:class:`components.lens.LensError`).

What "switching a head off" means here: each attention layer computes one output per head,
``softmax(QKᵀ/√d_k)·V`` of width ``head_dim``; the heads' outputs are concatenated
(``heads × head_dim``) and mixed by the output projection (Llama ``self_attn.o_proj``,
GPT-2 ``attn.c_proj``). We replace the slice ``[head * head_dim, (head + 1) * head_dim)`` of
that projection's INPUT, at every position, before the mixing -- the head's whole
contribution to the residual stream (the projection's bias, GPT-2 only, is untouched).
For grouped-query attention (SmolLM2: 9 query heads share 3 key/value heads) these are
QUERY heads: switching one off leaves the other query heads of its key/value group intact.

Two modes:

* ``zero``: the slice becomes 0. Simple, but a head's output usually has a non-zero mean,
  so zero is a value the next layers never saw in training; part of the measured effect is
  that distribution shift, not the head's information.
* ``mean`` (mean-ablation, as in Wang et al. 2022, "Interpretability in the Wild", IOI):
  the slice becomes the head's output AVERAGED OVER THE POSITIONS OF THIS INPUT (taken from
  the intact run). It keeps the head's typical contribution and removes only what is
  specific to each position. Why this input's positions: no reference corpus ships with the
  app, and it keeps the run self-contained and deterministic. Caveat: in a decoder the mean
  at an early position includes later positions' outputs; the prediction read at the last
  position is not affected by that (it already sees every position).

Non-mutation: the ablation is a ``forward_pre_hook`` on the projection module, registered
while holding ``loaded.lock`` and removed in ``finally`` before the lock is released, so no
other session ever runs the shared cached model with the hook in place and nothing of the
model changes (weights, config, attention implementation).

Readout: the next-token distribution at one position (default the last) from the model's
final hidden state through its ``lm_head``: ``softmax(logits)``. KL(intact‖ablated) in nats
(natural log), ``Σ p log(p/q)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from components.lens import LensError, check_causal, token_label

MODES = ("zero", "mean")
TOP_K = 10
MAX_NEW_TOKENS = 10
"""Greedy continuation cap (each token is one full forward, intact and ablated)."""
MAX_SCAN_HEADS = 300
"""Cap on heads scanned in one call (SmolLM2: 30 layers × 9 heads = 270)."""

BAD_HEAD = "bad_head"
BAD_MODE = "bad_mode"
BAD_POSITION = "bad_position"


# --------------------------------------------------------------------------- model parts
def attention_geometry(model) -> tuple[int, int, int]:
    """``(layers, query heads, head_dim)`` of a Llama or GPT-2 decoder."""
    cfg = model.config
    heads = int(cfg.num_attention_heads)
    head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // heads)
    return int(cfg.num_hidden_layers), heads, head_dim


def out_projection(model, layer: int):
    """The module whose input is the concatenated per-head outputs of ``layer``: Llama
    ``layers[layer].self_attn.o_proj``, GPT-2 ``h[layer].attn.c_proj``.

    Raises:
        LensError: ``unsupported`` for other architectures.
    """
    base = model.base_model
    blocks = getattr(base, "layers", None) or getattr(base, "h", None)
    if blocks is not None:
        block = blocks[layer]
        attn = getattr(block, "self_attn", None) or getattr(block, "attn", None)
        proj = getattr(attn, "o_proj", None) or getattr(attn, "c_proj", None)
        if proj is not None:
            return proj
    raise LensError("unsupported", arch=getattr(model.config, "model_type", "?"))


def _check_heads(model, heads: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    n_layers, n_heads, _ = attention_geometry(model)
    plan: dict[int, list[int]] = {}
    for pair in heads:
        layer, head = (int(v) for v in pair)
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise LensError(BAD_HEAD, layer=layer, head=head, layers=n_layers, heads=n_heads)
        plan.setdefault(layer, [])
        if head not in plan[layer]:
            plan[layer].append(head)
    return plan


@contextmanager
def _hooks(model, layer_rows: dict[int, list[list[int]]], means: dict | None, head_dim: int):
    """Pre-hooks replacing head slices of the projection input. ``layer_rows[layer][r]`` =
    heads to switch off in batch row ``r``; ``means[layer]``: ``(heads, head_dim)`` or None
    (zero). The caller holds ``loaded.lock``; hooks are removed on exit, also on error."""
    handles = []

    def make(layer: int):
        rows = layer_rows[layer]
        mean = None if means is None else means[layer]

        def pre(_module, args):
            x = args[0]
            b, s, width = x.shape
            y = x.clone().view(b, s, width // head_dim, head_dim)
            for r, heads in enumerate(rows):
                for h in heads:
                    y[r, :, h, :] = 0.0 if mean is None else mean[h]
            return (y.view(b, s, width), *args[1:])

        return pre

    try:
        for layer in layer_rows:
            handles.append(out_projection(model, layer).register_forward_pre_hook(make(layer)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def _run(loaded, ids, position: int, layer_rows=None, means=None, capture: Iterable[int] = (),
         attentions: bool = False):
    """One forward under ``loaded.lock`` (hooks inside it). Returns ``(logits at position
    (batch, vocab) float32, captured {layer: projection input (seq, width)}, attentions)``."""
    import torch

    model = loaded.model
    base = model.base_model
    _, _, head_dim = attention_geometry(model)
    captured: dict[int, object] = {}
    handles = []
    with loaded.lock, torch.inference_mode():
        try:
            for layer in capture:
                def grab(_m, args, layer=layer):
                    captured[layer] = args[0][0].detach().clone()
                handles.append(out_projection(model, layer).register_forward_pre_hook(grab))
            with _hooks(model, layer_rows or {}, means, head_dim):
                out = base(input_ids=ids, attention_mask=torch.ones_like(ids), output_attentions=attentions,
                           return_dict=True)
        finally:
            for handle in handles:
                handle.remove()
        logits = model.get_output_embeddings()(out.last_hidden_state[:, position]).float()
    return logits, captured, (out.attentions if attentions else None)


def _means(captured: dict, head_dim: int) -> dict:
    return {layer: x.mean(dim=0).view(-1, head_dim) for layer, x in captured.items()}


def _top(loaded, probs, k: int) -> list[dict]:
    import torch

    values, ids = torch.topk(probs, k)
    with loaded.tokenizer_lock:
        return [{"token_id": int(i), "token": token_label(loaded.tokenizer, int(i)), "prob": float(v)}
                for v, i in zip(values.tolist(), ids.tolist())]


def _kl(logits_p, logits_q) -> float:
    import torch

    lp = torch.log_softmax(logits_p.double(), -1)
    lq = torch.log_softmax(logits_q.double(), -1)
    return float((lp.exp() * (lp - lq)).sum())


# --------------------------------------------------------------------------- one ablation
@dataclass
class AblationResult:
    """Intact vs ablated next-token prediction at one position.

    Attributes:
        heads: ``[(layer, head), ...]`` switched off (query heads).
        mode: ``"zero"`` or ``"mean"``.
        position: position read (non-negative index).
        intact_top / ablated_top: top-``k`` ``[{"token_id", "token", "prob"}]`` of each run.
        intact_logits / ablated_logits: float32 ``(vocab,)`` logits at ``position``.
        kl: KL(intact‖ablated), nats.
        top_changed: the most probable token differs.
        intact_token_id: the intact top token; ``p_intact`` / ``p_ablated`` its probability
            in each run; ``logit_intact`` / ``logit_ablated`` its logit.
        continuation_intact / continuation_ablated: greedy next tokens (ids), may be empty;
            ``*_text``: their decoded text.
    """

    heads: list[tuple[int, int]]
    mode: str
    position: int
    intact_top: list[dict]
    ablated_top: list[dict]
    intact_logits: np.ndarray
    ablated_logits: np.ndarray
    kl: float
    top_changed: bool
    intact_token_id: int
    p_intact: float
    p_ablated: float
    logit_intact: float
    logit_ablated: float
    continuation_intact: list[int] = field(default_factory=list)
    continuation_ablated: list[int] = field(default_factory=list)
    continuation_intact_text: str = ""
    continuation_ablated_text: str = ""


def _position(position: int, seq: int) -> int:
    pos = int(position) + (seq if int(position) < 0 else 0)
    if not 0 <= pos < seq:
        raise LensError(BAD_POSITION, position=position, seq=seq)
    return pos


def ablate_heads(loaded, input_ids: list[int], heads: Iterable[tuple[int, int]], mode: str = "zero",
                 position: int = -1, top_k: int = TOP_K, max_new_tokens: int = 0) -> AblationResult:
    """Next-token distribution at ``position`` with the given heads switched off, next to the
    intact one.

    Args:
        loaded: causal :class:`~components.loading.LoadedModel` (Llama or GPT-2).
        input_ids: ``(seq,)`` token ids (e.g. :attr:`components.lens.LensResult.input_ids`).
        heads: ``(layer, head)`` pairs (query heads); empty = nothing switched off (the
            "ablated" run then equals the intact one exactly).
        mode: ``"zero"`` or ``"mean"`` (see the module docstring).
        position: position to read, negative from the end (default the last token).
        top_k: candidates listed per run.
        max_new_tokens: greedy continuation length, 0..:data:`MAX_NEW_TOKENS` (one forward per
            token and run, no KV cache; mean-ablation keeps the prompt's means).

    Returns:
        :class:`AblationResult`.

    Raises:
        LensError: ``not_causal``, ``bad_head`` (out of range), ``bad_mode``,
            ``bad_position``, ``unsupported``.
    """
    import torch

    check_causal(loaded)
    if mode not in MODES:
        raise LensError(BAD_MODE, mode=mode)
    model = loaded.model
    plan = _check_heads(model, heads)
    _, _, head_dim = attention_geometry(model)
    ids = torch.tensor([list(input_ids)], dtype=torch.long)
    pos = _position(position, ids.shape[-1])
    intact, captured, _ = _run(loaded, ids, pos, capture=plan if mode == "mean" else ())
    means = _means(captured, head_dim) if mode == "mean" else None
    rows = {layer: [hs] for layer, hs in plan.items()}
    ablated, _, _ = _run(loaded, ids, pos, rows, means)
    intact, ablated = intact[0], ablated[0]
    p, q = torch.softmax(intact, -1), torch.softmax(ablated, -1)
    top_id = int(intact.argmax())
    cont_i: list[int] = []
    cont_a: list[int] = []
    steps = max(0, min(int(max_new_tokens), MAX_NEW_TOKENS))
    if steps and pos == ids.shape[-1] - 1:
        for cont, layer_rows in ((cont_i, None), (cont_a, rows)):
            seq = ids
            for _ in range(steps):
                logits, _, _ = _run(loaded, seq, -1, layer_rows, means)
                nxt = int(logits[0].argmax())
                cont.append(nxt)
                seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
    with loaded.tokenizer_lock:
        decode = lambda xs: loaded.tokenizer.decode(xs, skip_special_tokens=False,  # noqa: E731
                                                    clean_up_tokenization_spaces=False)
        text_i, text_a = decode(cont_i), decode(cont_a)
    return AblationResult(
        heads=[(layer, h) for layer, hs in plan.items() for h in hs],
        mode=mode,
        position=pos,
        intact_top=_top(loaded, p, top_k),
        ablated_top=_top(loaded, q, top_k),
        intact_logits=intact.numpy().astype(np.float32),
        ablated_logits=ablated.numpy().astype(np.float32),
        kl=_kl(intact, ablated),
        top_changed=int(ablated.argmax()) != top_id,
        intact_token_id=top_id,
        p_intact=float(p[top_id]),
        p_ablated=float(q[top_id]),
        logit_intact=float(intact[top_id]),
        logit_ablated=float(ablated[top_id]),
        continuation_intact=cont_i,
        continuation_ablated=cont_a,
        continuation_intact_text=text_i,
        continuation_ablated_text=text_a,
    )


# --------------------------------------------------------------------------- head scan
@dataclass
class ScanResult:
    """Effect of switching off each head in turn, next to where that head looks.

    Attributes:
        rows: one dict per scanned head: ``layer``, ``head``, ``p_intact``, ``p_ablated``,
            ``delta_p`` (ablated − intact probability of the intact top token),
            ``delta_logit`` (same for its logit), ``kl`` (nats), ``top_changed``,
            ``attn_first`` (this head's attention weight from ``position`` to position 0,
            often an "attention sink"), ``attn_max_other`` (largest weight on any other
            position), ``attn_argmax`` (position it looks at most).
        attention: float32 ``(len(layers), heads, seq)`` attention rows from ``position``
            in the intact run, in the order of ``layers``.
        layers: the scanned layers.
        position: position read.
        intact_token_id: the intact top token at ``position``.
        capped: True when :data:`MAX_SCAN_HEADS` (or ``max_heads``) stopped the scan early.
    """

    rows: list[dict]
    attention: np.ndarray
    layers: list[int]
    position: int
    intact_token_id: int
    capped: bool = False


def scan_heads(loaded, input_ids: list[int], layers: Iterable[int], mode: str = "zero", position: int = -1,
               max_heads: int = MAX_SCAN_HEADS, progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Switch off each head of ``layers`` alone and record the effect on the prediction.

    One batched forward per layer: batch row ``r`` has head ``r`` of that layer switched off
    (same numbers as :func:`ablate_heads` with that one head, computed ``heads`` at a time).

    Args:
        loaded: causal model. input_ids: ``(seq,)`` ids. mode: ``"zero"``/``"mean"``.
        layers: layer indices to scan (in this order).
        position: position read (default last).
        max_heads: stop after this many heads (whole layers only; ``capped`` says so).
        progress: called as ``progress(done_heads, total_heads)`` after each layer.

    Returns:
        :class:`ScanResult`.

    Raises:
        LensError: as :func:`ablate_heads`.
    """
    import torch

    check_causal(loaded)
    if mode not in MODES:
        raise LensError(BAD_MODE, mode=mode)
    model = loaded.model
    n_layers, n_heads, head_dim = attention_geometry(model)
    layers = [int(v) for v in layers]
    _check_heads(model, [(layer, 0) for layer in layers])
    ids = torch.tensor([list(input_ids)], dtype=torch.long)
    pos = _position(position, ids.shape[-1])
    intact, captured, atts = _run(loaded, ids, pos, capture=layers if mode == "mean" else (), attentions=True)
    intact = intact[0]
    means = _means(captured, head_dim) if mode == "mean" else None
    top_id = int(intact.argmax())
    p_int = torch.softmax(intact, -1)
    budget = max(n_heads, int(max_heads))
    todo = []
    for layer in layers:
        if (len(todo) + 1) * n_heads > budget:
            break
        todo.append(layer)
    total = len(todo) * n_heads
    attention = np.stack([atts[layer][0, :, pos, :].float().numpy() for layer in todo]) if todo else \
        np.zeros((0, n_heads, ids.shape[-1]), dtype=np.float32)
    rows: list[dict] = []
    batch = ids.expand(n_heads, -1)
    for i, layer in enumerate(todo):
        logits, _, _ = _run(loaded, batch, pos, {layer: [[h] for h in range(n_heads)]},
                            None if means is None else {layer: means[layer]})
        for h in range(n_heads):
            abl = logits[h]
            q = torch.softmax(abl, -1)
            att = attention[i, h]
            others = att[1:] if att.shape[0] > 1 else np.zeros(1, dtype=np.float32)
            rows.append({
                "layer": layer, "head": h,
                "p_intact": float(p_int[top_id]), "p_ablated": float(q[top_id]),
                "delta_p": float(q[top_id] - p_int[top_id]),
                "delta_logit": float(abl[top_id] - intact[top_id]),
                "kl": _kl(intact, abl), "top_changed": int(abl.argmax()) != top_id,
                "attn_first": float(att[0]), "attn_max_other": float(others.max()),
                "attn_argmax": int(att.argmax()),
            })
        if progress is not None:
            progress((i + 1) * n_heads, total)
    return ScanResult(rows=rows, attention=attention.astype(np.float32), layers=todo, position=pos,
                      intact_token_id=top_id, capped=len(todo) < len(layers))


def merge_scans(parts: list[ScanResult]) -> ScanResult:
    """One :class:`ScanResult` from scans of single layers (same input, position and mode),
    in the given order (the page scans layer by layer to show progress and cache each)."""
    if not parts:
        raise ValueError("no scan to merge")
    return ScanResult(
        rows=[row for part in parts for row in part.rows],
        attention=np.concatenate([part.attention for part in parts], axis=0),
        layers=[layer for part in parts for layer in part.layers],
        position=parts[0].position,
        intact_token_id=parts[0].intact_token_id,
        capped=any(part.capped for part in parts),
    )
