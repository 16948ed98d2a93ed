"""Attention weights of real models, their aggregates, and the formula recomputed by hand.

Pure compute (torch + numpy, no streamlit). Three parts:

1. :func:`get_attention` -- one forward pass with ``output_attentions=True`` (models are
   loaded with ``attn_implementation="eager"``, the only implementation that returns
   weights) -> :class:`AttentionResult` with ``attentions`` of shape
   ``(layers, heads, seq, seq)`` (row = query token "from", column = key token "to"),
   readable token pieces, truncation info, and the hidden states entering every layer.
   Fails early with advice (as bertviz does) when no attentions come back or their length
   does not match the tokens.
2. Aggregates: :func:`mean_over_heads`, :func:`attention_rollout` (Abnar & Zuidema 2020),
   :func:`drop_tokens` (hide special tokens, rows NOT renormalised).
3. :func:`explain_head` -- the seed formula ``softmax(Q Kᵀ / √d_k) · V`` for one
   (layer, head) recomputed in float64 from the layer's own weights and the hidden state
   that entered the layer, every intermediate returned, plus the maximum absolute
   difference to the weights the model returned.

Supported architectures for the recomputation: BERT family (``BertModel``: MiniLM,
bert-base), Llama (SmolLM2: RMSNorm pre-norm, RoPE, grouped-query attention) and GPT-2
(``Conv1D`` fused ``c_attn``, LayerNorm pre-norm). Others raise
:class:`UnsupportedArchitectureError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from components.tokens import TokenPiece, readable_tokens

DEFAULT_MAX_TOKENS = 64
MAX_TOKENS_LIMIT = 256
ROLLOUT_RESIDUAL = 0.5  # Abnar & Zuidema (2020): A' = 0.5 * A + 0.5 * I
SUPPORTED_ARCHITECTURES = ("bert", "llama", "gpt2")


# --------------------------------------------------------------------------- errors
class AttentionInputError(ValueError):
    """Input text the page cannot use (empty, pair given to a decoder ...); message says why."""


class AttentionUnavailableError(RuntimeError):
    """The model returned no attention weights (or weights that do not match the tokens)."""


class UnsupportedArchitectureError(NotImplementedError):
    """:func:`explain_head` has no recomputation for this model architecture."""


NO_ATTENTION_ADVICE = (
    "Attention weights are only returned by the 'eager' attention implementation: load the model "
    "with attn_implementation=\"eager\" and call it with output_attentions=True (sdpa and "
    "flash-attention kernels never materialise the weights)."
)


# --------------------------------------------------------------------------- data
@dataclass
class AttentionResult:
    """Attention weights of one input, everything numpy (picklable, no model inside).

    Attributes:
        model_key: catalog key of the model.
        architecture: ``"bert"``, ``"llama"``, ``"gpt2"`` or the config's ``model_type``.
        is_causal: decoder (each token attends only to itself and earlier tokens).
        input_ids: token ids, length ``seq``.
        pieces: readable tokens (:class:`~components.tokens.TokenPiece`), length ``seq``.
        labels: display label per token (``TokenPiece.label``; an ``[UNK]`` token shows the
            original characters it replaced, e.g. ``今 [UNK]``).
        token_type_ids: segment of each token (0 = first sentence, 1 = second) or None.
        attentions: float32 ``(layers, heads, seq, seq)``; ``attentions[l, h, i, j]`` is how
            much query token i attends to key token j in layer l, head h; rows sum to 1.
        hidden_states: float32 ``(layers + 1, seq, hidden)``; ``hidden_states[l]`` is the
            hidden state entering layer l (index 0 = embeddings), or None if not kept.
        n_tokens_full: tokens of the input before the cap.
        max_tokens: the cap in tokens that was applied.
        num_key_value_heads: key/value heads (< heads for grouped-query attention).
    """

    model_key: str
    architecture: str
    is_causal: bool
    input_ids: list[int]
    pieces: list[TokenPiece]
    labels: list[str]
    token_type_ids: list[int] | None
    attentions: np.ndarray
    hidden_states: np.ndarray | None
    n_tokens_full: int
    max_tokens: int
    num_key_value_heads: int

    @property
    def num_layers(self) -> int:
        return int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.attentions.shape[1])

    @property
    def seq_len(self) -> int:
        return int(self.attentions.shape[-1])

    @property
    def truncated(self) -> bool:
        """True when the input had more tokens than ``max_tokens`` and was cut."""
        return self.n_tokens_full > self.seq_len

    @property
    def raw_tokens(self) -> list[str]:
        return [p.raw for p in self.pieces]

    @property
    def special_mask(self) -> np.ndarray:
        """bool ``(seq,)``: True for special tokens ([CLS], [SEP], BOS, <|im_start|> ...)."""
        return np.array([p.special for p in self.pieces], dtype=bool)


@dataclass
class HeadComputation:
    """The formula for one (layer, head), every intermediate as float64 numpy.

    Shapes (seq = tokens, hidden = model width, d_k = head dimension):
        x: ``(seq, hidden)`` hidden state entering the layer.
        x_normed: ``(seq, hidden)`` after the layer's input norm (BERT: identity, post-norm).
        q, k, v: ``(seq, d_k)`` this head's query, key (after RoPE for Llama) and value.
        q_before_rope, k_before_rope: ``(seq, d_k)`` for RoPE models, else None.
        scores: ``(seq, seq)`` ``q @ k.T * scaling`` (scaling = 1/√d_k).
        mask: ``(seq, seq)`` additive mask, 0 or -inf: the causal mask for decoders. (The input
            is one unpadded sequence, so the padding part of the attention mask adds nothing.)
        weights: ``(seq, seq)`` ``softmax(scores + mask)`` along keys.
        output: ``(seq, d_k)`` ``weights @ v``, this head's output (before the output projection).
        model_weights: ``(seq, seq)`` the attention the model returned for this head.
        max_abs_diff: ``max |weights - model_weights|`` compared in float32.
    """

    architecture: str
    layer: int
    head: int
    kv_head: int
    num_heads: int
    num_key_value_heads: int
    d_k: int
    scaling: float
    norm: str
    rope: bool
    x: np.ndarray
    x_normed: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    q_before_rope: np.ndarray | None
    k_before_rope: np.ndarray | None
    scores: np.ndarray
    mask: np.ndarray
    weights: np.ndarray
    output: np.ndarray
    model_weights: np.ndarray
    max_abs_diff: float


# --------------------------------------------------------------------------- helpers
def architecture_of(model) -> str:
    """``"bert"``, ``"llama"``, ``"gpt2"`` (recomputation supported) or the raw ``model_type``."""
    model_type = getattr(getattr(model, "config", None), "model_type", "") or ""
    return model_type


def _readable_labels(pieces: list[TokenPiece], offsets, text_of_segment, unk_token: str | None) -> list[str]:
    labels = [p.label for p in pieces]
    if offsets is None or not unk_token:
        return labels
    for i, p in enumerate(pieces):
        if p.raw == unk_token and i < len(offsets):
            seg, (a, b) = offsets[i]
            original = text_of_segment(seg)[a:b] if seg is not None and b > a else ""
            if original:
                labels[i] = f"{original} [UNK]"
    return labels


def get_attention(loaded, text: str, text_pair: str | None = None,
                  max_tokens: int = DEFAULT_MAX_TOKENS, keep_hidden_states: bool = True,
                  input_ids: list[int] | None = None) -> AttentionResult:
    """Run the model once and return its attention weights for ``text`` (and ``text_pair``).

    The text is tokenised as plain text (``split_special_tokens=True``): ``<|im_end|>`` or
    ``[SEP]`` typed by a person are ordinary pieces; the tokenizer's own markup (``[CLS]``,
    ``[SEP]`` of encoders) is still added around it.

    Args:
        loaded: a :class:`~components.loading.LoadedModel` (eager attention).
        text: the (first) sentence.
        text_pair: second sentence (encoders only: ``[CLS] a [SEP] b [SEP]`` with
            ``token_type_ids``); None or blank for one sentence.
        max_tokens: cap in tokens, 1..``MAX_TOKENS_LIMIT``; also never above the model's
            context length. Longer input is cut (pairs: longest sentence first) and
            ``AttentionResult.truncated`` is True.
        keep_hidden_states: keep the hidden states entering each layer (needed by
            :func:`explain_head`), float32 ``(layers + 1, seq, hidden)``.
        input_ids: exact token ids to analyse instead of tokenising ``text`` (e.g. what a
            generation read: chat template + prompt + reply); ``text`` is then only a label.
            Ids must lie in ``[0, vocab size)``; cut to the first ``max_tokens``.

    Returns:
        :class:`AttentionResult`, ``attentions`` float32 ``(layers, heads, seq, seq)``.

    Raises:
        AttentionInputError: empty text, a pair given to a decoder, or a cap out of range.
        AttentionUnavailableError: the model returned no attentions, or their shape does not
            match the tokens (message says how to fix it).
    """
    import torch

    text = text if isinstance(text, str) else ""
    pair = text_pair if isinstance(text_pair, str) and text_pair.strip() else None
    if not text.strip():
        raise AttentionInputError("The sentence is empty: type a sentence to see its attention.")
    spec = loaded.spec
    if pair is not None and spec.is_causal:
        raise AttentionInputError(
            f"{spec.display_name} is a decoder: sentence pairs (with segment ids) are for encoders "
            "like BERT/MiniLM. Put both sentences in one text instead."
        )
    if not isinstance(max_tokens, int) or max_tokens < 2:
        raise AttentionInputError(f"The token cap must be a whole number ≥ 2, got {max_tokens!r}.")
    cap = min(max_tokens, MAX_TOKENS_LIMIT, int(loaded.context_length))
    tok = loaded.tokenizer
    model = loaded.model
    base = getattr(model, "base_model", model)
    args = (text,) if pair is None else (text, pair)
    if input_ids is not None:
        given = [int(i) for i in input_ids]
        vocab = int(getattr(model.config, "vocab_size", 0) or len(tok))
        if not given or any(i < 0 or i >= vocab for i in given):
            raise AttentionInputError(f"Token ids must be whole numbers in [0, {vocab}).")
        n_full = len(given)
        ids = torch.tensor([given[:cap]], dtype=torch.long)
        enc = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        offsets = None
    else:
        with loaded.tokenizer_lock:
            full = tok(*args, add_special_tokens=True, truncation=False, split_special_tokens=True, verbose=False)
            n_full = len(full["input_ids"])
            enc = tok(*args, add_special_tokens=True, truncation=("longest_first" if pair else True),
                      max_length=cap, return_tensors="pt", split_special_tokens=True,
                      return_offsets_mapping=bool(getattr(tok, "is_fast", False)))
        offsets = enc.pop("offset_mapping", None)
        ids = enc["input_ids"]
    if ids.shape[-1] == 0:
        raise AttentionInputError("The sentence produced no tokens.")
    model_inputs = {"input_ids": ids, "attention_mask": enc.get("attention_mask", torch.ones_like(ids))}
    token_type_ids = enc.get("token_type_ids")
    if token_type_ids is not None and "token_type_ids" in _forward_params(base):
        model_inputs["token_type_ids"] = token_type_ids
    with loaded.lock, torch.inference_mode():
        out = base(**model_inputs, output_attentions=True, output_hidden_states=keep_hidden_states,
                   return_dict=True)
    attentions = getattr(out, "attentions", None)
    seq = int(ids.shape[-1])
    if not attentions or any(a is None for a in attentions):
        raise AttentionUnavailableError(
            f"{spec.display_name} returned no attention weights "
            f"(attn_implementation={getattr(model.config, '_attn_implementation', '?')!r}). "
            + NO_ATTENTION_ADVICE
        )
    att = torch.stack([a[0] for a in attentions]).float().numpy()  # (layers, heads, seq, seq)
    if att.ndim != 4 or att.shape[-1] != seq or att.shape[-2] != seq:
        raise AttentionUnavailableError(
            f"Attention shape {tuple(att.shape)} does not match the {seq} input tokens. " + NO_ATTENTION_ADVICE
        )
    hidden = None
    if keep_hidden_states and getattr(out, "hidden_states", None):
        hidden = torch.stack([h[0] for h in out.hidden_states]).float().numpy()
    with loaded.tokenizer_lock:
        pieces = readable_tokens(tok, ids[0].tolist())
    seq_ids = enc.sequence_ids(0) if getattr(enc, "encodings", None) else None  # dict (given ids): none
    off_list = None
    if offsets is not None:
        off_list = [((seq_ids[i] if seq_ids else 0), tuple(int(v) for v in offsets[0, i].tolist()))
                    for i in range(seq)]
    labels = _readable_labels(pieces, off_list, lambda s: text if s == 0 else (pair or ""),
                              getattr(tok, "unk_token", None))
    cfg = model.config
    num_heads = int(att.shape[1])
    return AttentionResult(
        model_key=spec.key,
        architecture=architecture_of(model),
        is_causal=bool(spec.is_causal),
        input_ids=ids[0].tolist(),
        pieces=pieces,
        labels=labels,
        token_type_ids=token_type_ids[0].tolist() if token_type_ids is not None else None,
        attentions=np.ascontiguousarray(att, dtype=np.float32),
        hidden_states=hidden,
        n_tokens_full=int(n_full),
        max_tokens=int(cap),
        num_key_value_heads=int(getattr(cfg, "num_key_value_heads", None) or num_heads),
    )


MAX_LINK_IDS = 4096
"""Most token ids a link may carry (a generation reads at most 512 + 512 + template)."""


def parse_token_ids(raw: str) -> list[int] | None:
    """Token ids from a link's ``ids`` value (``"1,4093,198"``); None when absent or not
    1..:data:`MAX_LINK_IDS` non-negative whole numbers (the page then tokenises the text)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    parts = raw.split(",")
    if len(parts) > MAX_LINK_IDS or not all(p.strip().isdigit() and p.strip().isascii() for p in parts):
        return None
    return [int(p) for p in parts]


def ids_text(loaded, input_ids: list[int]) -> str:
    """The text of ``input_ids`` with special tokens written literally (``<|im_start|>``),
    as the attention page shows exact ids it was given; the text box holds this string, and
    the ids are used as long as it is unchanged."""
    with loaded.tokenizer_lock:
        return loaded.tokenizer.decode(list(input_ids), skip_special_tokens=False,
                                       clean_up_tokenization_spaces=False)


def _forward_params(module) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(module.forward).parameters)
    except (TypeError, ValueError):
        return set()


# --------------------------------------------------------------------------- aggregates
def mean_over_heads(attentions: np.ndarray) -> np.ndarray:
    """Mean over heads per layer: ``(layers, heads, seq, seq)`` -> ``(layers, seq, seq)``.
    Rows still sum to 1 (a mean of row-stochastic matrices)."""
    return np.asarray(attentions, dtype=np.float64).mean(axis=1)


def attention_rollout(attentions: np.ndarray, residual: float = ROLLOUT_RESIDUAL) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers").

    Per layer ``A'_l = (1 - residual) * mean_heads(A_l) + residual * I`` (the residual
    connection), rows renormalised to sum to 1, then multiplied across layers:
    ``R_l = A'_l @ R_{l-1}``, ``R_0 = A'_0``.

    Args:
        attentions: ``(layers, heads, seq, seq)``.
        residual: weight of the identity (0.5 in the paper).

    Returns:
        float64 ``(layers, seq, seq)``: ``[l]`` is the rollout up to and including layer l;
        ``[-1]`` is the full rollout. Every row sums to 1.
    """
    mean = mean_over_heads(attentions)  # (layers, seq, seq)
    seq = mean.shape[-1]
    eye = np.eye(seq)
    out = np.empty_like(mean)
    rolled = eye
    for layer in range(mean.shape[0]):
        a = (1.0 - residual) * mean[layer] + residual * eye
        a = a / a.sum(axis=-1, keepdims=True)
        rolled = a @ rolled
        out[layer] = rolled
    return out


def drop_tokens(matrix: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Hide tokens from a view: keep rows and columns where ``keep`` is True (last two axes).

    The remaining rows are NOT renormalised: they sum to less than 1 by the weight the
    hidden tokens received (often a lot: [CLS]/[SEP] act as attention sinks).

    Args:
        matrix: ``(..., seq, seq)``.
        keep: bool ``(seq,)``.
    """
    idx = np.flatnonzero(np.asarray(keep, dtype=bool))
    return np.asarray(matrix)[..., idx[:, None], idx[None, :]]


def merge_pieces(matrix: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """Attention between characters/words instead of tokens: the pieces of each span (e.g.
    the two byte-level tokens of ``今``) become one row and one column.

    Keys are **summed** over a span's pieces (the weight a query gives the character is the
    weight it gives any of its pieces), queries are **averaged** over its pieces (each piece
    is one query of equal standing), so a merged row of a stochastic matrix still sums to 1:
    the mean of rows that each sum to 1. Clark et al. (2019, "What does BERT look at?",
    section 3) combine word pieces the same way.

    Args:
        matrix: ``(..., seq, seq)`` attention weights, rows = queries, columns = keys.
        spans: ``(start, end)`` position spans (end exclusive) covering ``0..seq`` in order,
            e.g. :func:`components.tokens.group_spans`.

    Returns:
        ``(..., len(spans), len(spans))`` float64.

    Raises:
        ValueError: the spans do not tile ``0..seq`` in order.
    """
    m = np.asarray(matrix, dtype=np.float64)
    seq = m.shape[-1]
    if not spans or spans[0][0] != 0 or spans[-1][1] != seq or any(
            a >= b or b != c for (a, b), (c, _) in zip(spans, spans[1:] + [(seq, seq)], strict=True)):
        raise ValueError("spans must tile the sequence in order")
    groups = np.zeros((len(spans), seq))
    for g, (a, b) in enumerate(spans):
        groups[g, a:b] = 1.0
    keys_summed = m @ groups.T  # (..., seq, groups)
    queries_mean = (groups / groups.sum(axis=1, keepdims=True)) @ keys_summed
    return queries_mean


def head_statistics(attentions: np.ndarray) -> dict[str, np.ndarray]:
    """Summary numbers of every head (the table behind the layers x heads overview).

    Args:
        attentions: ``(layers, heads, seq, seq)``, rows sum to 1.

    Returns:
        ``{name: float64 (layers, heads)}`` with, averaged over query rows:
        ``entropy`` -- Shannon entropy of a row in bits (0 = looks at one token,
        log2(seq) = uniform); ``self`` -- weight on the token itself (diagonal);
        ``previous`` -- weight on the previous token (NaN for one token); ``first`` -- weight
        on the first token ([CLS] / the first text token of a decoder, a typical "attention
        sink"), rows 1.. only (NaN for one token); ``max`` -- largest single weight.
    """
    att = np.asarray(attentions, dtype=np.float64)
    n = att.shape[-1]
    p = np.clip(att, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0).sum(-1)
    nan = np.full(att.shape[:2], np.nan)
    return {
        "entropy": ent.mean(-1) + 0.0,  # + 0.0: no "-0" for one-hot rows
        "self": np.diagonal(att, axis1=-2, axis2=-1).mean(-1),
        "previous": np.diagonal(att, offset=-1, axis1=-2, axis2=-1).mean(-1) if n > 1 else nan,
        "first": att[..., 1:, 0].mean(-1) if n > 1 else nan,
        "max": att.max(axis=(-2, -1)),
    }


SNAPSHOT_LAYER_MAX_TOKENS = 16
"""A :func:`snapshot` keeps every head of the chosen layer only up to this many tokens."""


def snapshot(result: AttentionResult, layer: int, head: int, text: str, pair: str | None = None,
             model_name: str = "", with_layer: bool | None = None) -> dict:
    """The shown result as plain JSON data (curated examples, reports): inputs, tokens and
    the chosen head's matrix.

    Args:
        result: from :func:`get_attention`.
        layer, head: the chosen head (clamped into range with :func:`valid_layer_head`).
        text, pair: the input as typed (kept literally).
        model_name: display name of the model.
        with_layer: also keep every head of ``layer`` (rounded to 3 decimals, as the
            thumbnails show them); None = only when ``seq <= SNAPSHOT_LAYER_MAX_TOKENS``.

    Returns:
        ``{"model", "model_name", "text", "pair", "layer", "head", "labels", "raw_tokens",
        "input_ids", "special", "is_causal", "num_layers", "num_heads",
        "num_key_value_heads", "n_tokens_full", "max_tokens", "matrix" (seq x seq, 4
        decimals), "layer_heads" (heads x seq x seq, 3 decimals, or None)}``.
    """
    layer, head = valid_layer_head(result, layer, head)
    keep_layer = result.seq_len <= SNAPSHOT_LAYER_MAX_TOKENS if with_layer is None else with_layer
    return {
        "model": result.model_key,
        "model_name": model_name or result.model_key,
        "text": text,
        "pair": pair or None,
        "layer": layer,
        "head": head,
        "labels": list(result.labels),
        "raw_tokens": list(result.raw_tokens),
        "input_ids": [int(i) for i in result.input_ids],
        "special": [bool(s) for s in result.special_mask],
        "is_causal": bool(result.is_causal),
        "num_layers": result.num_layers,
        "num_heads": result.num_heads,
        "num_key_value_heads": result.num_key_value_heads,
        "n_tokens_full": result.n_tokens_full,
        "max_tokens": result.max_tokens,
        "matrix": np.round(result.attentions[layer, head].astype(np.float64), 4).tolist(),
        "layer_heads": np.round(result.attentions[layer].astype(np.float64), 3).tolist() if keep_layer else None,
    }


def valid_layer_head(result: AttentionResult, layer: int | None, head: int | None) -> tuple[int, int]:
    """Clamp a (layer, head) choice into range for ``result`` (e.g. after a model switch)."""
    layer = layer if isinstance(layer, int) and 0 <= layer < result.num_layers else 0
    head = head if isinstance(head, int) and 0 <= head < result.num_heads else 0
    return layer, head


# --------------------------------------------------------------------------- the formula
def _np(t) -> np.ndarray:
    return t.detach().to("cpu").double().numpy()


def _layer_norm(x, weight, bias, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias


def _rms_norm(x, weight, eps):
    return x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) * weight


def _rotate_half(x: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def explain_head(loaded, result: AttentionResult, layer: int, head: int) -> HeadComputation:
    """Recompute ``softmax(Q Kᵀ / √d_k + mask) · V`` for one (layer, head) from the model's weights.

    Steps (float64): x = hidden state entering ``layer`` (``result.hidden_states[layer]``) ->
    the layer's input norm (Llama: ``input_layernorm`` RMSNorm; GPT-2: ``ln_1`` LayerNorm;
    BERT is post-norm, so x enters self-attention as is) -> this head's Q, K, V from the
    layer's own projection weights (Llama: ``q_proj``/``k_proj``/``v_proj``, then rotary
    embeddings from ``model.rotary_emb`` at positions 0..seq-1, key/value head
    ``head // (heads / kv_heads)``; GPT-2: fused ``c_attn`` Conv1D split in three; BERT:
    ``query``/``key``/``value``) -> scores ``Q Kᵀ · scaling`` -> + mask (causal for decoders; one
    unpadded sequence, so no padding mask) -> softmax over keys -> output ``weights · V``.
    The recomputed weights are compared in float32 with the model's returned attentions.

    Args:
        loaded: the :class:`~components.loading.LoadedModel` that produced ``result``.
        result: from :func:`get_attention` with ``keep_hidden_states=True``.
        layer: 0..layers-1. head: 0..heads-1.

    Returns:
        :class:`HeadComputation` with every intermediate and ``max_abs_diff``.

    Raises:
        IndexError: layer or head out of range.
        ValueError: ``result`` has no hidden states.
        UnsupportedArchitectureError: not a BERT, Llama or GPT-2 model.
    """
    import torch

    arch = result.architecture
    if arch not in SUPPORTED_ARCHITECTURES:
        raise UnsupportedArchitectureError(
            f"The step-by-step recomputation supports BERT, Llama and GPT-2 models; "
            f"{loaded.spec.display_name} is '{arch}'. The attention heatmaps still work."
        )
    if not (0 <= layer < result.num_layers) or not (0 <= head < result.num_heads):
        raise IndexError(
            f"layer {layer} / head {head} out of range: the model has {result.num_layers} layers "
            f"x {result.num_heads} heads."
        )
    if result.hidden_states is None:
        raise ValueError("This result has no hidden states; call get_attention(keep_hidden_states=True).")
    x = result.hidden_states[layer].astype(np.float64)  # (seq, hidden)
    seq = x.shape[0]
    base = getattr(loaded.model, "base_model", loaded.model)
    num_heads = result.num_heads
    num_kv = result.num_key_value_heads
    q_rope = k_rope = None
    rope = False
    with loaded.lock, torch.inference_mode():
        if arch == "bert":
            attn = base.encoder.layer[layer].attention.self
            d_k = int(attn.attention_head_size)
            scaling = float(getattr(attn, "scaling", d_k ** -0.5))
            norm = "none (BERT is post-norm: the previous layer's output, already LayerNorm-ed, enters attention)"
            xn = x
            sl = slice(head * d_k, (head + 1) * d_k)
            q = xn @ _np(attn.query.weight)[sl].T + _np(attn.query.bias)[sl]
            k = xn @ _np(attn.key.weight)[sl].T + _np(attn.key.bias)[sl]
            v = xn @ _np(attn.value.weight)[sl].T + _np(attn.value.bias)[sl]
            kv_head = head
            num_kv = num_heads
        elif arch == "gpt2":
            block = base.h[layer]
            attn = block.attn
            d_k = int(attn.head_dim)
            scaling = float(getattr(attn, "scaling", d_k ** -0.5))
            norm = "ln_1 (LayerNorm, pre-norm)"
            xn = _layer_norm(x, _np(block.ln_1.weight), _np(block.ln_1.bias), block.ln_1.eps)
            w = _np(attn.c_attn.weight)  # Conv1D: (hidden, 3 * hidden), y = x @ w + b
            b = _np(attn.c_attn.bias)
            hidden = w.shape[0]
            cols = np.arange(head * d_k, (head + 1) * d_k)
            q = xn @ w[:, cols] + b[cols]
            k = xn @ w[:, hidden + cols] + b[hidden + cols]
            v = xn @ w[:, 2 * hidden + cols] + b[2 * hidden + cols]
            kv_head = head
            num_kv = num_heads
        else:  # llama
            block = base.layers[layer]
            attn = block.self_attn
            d_k = int(attn.head_dim)
            scaling = float(getattr(attn, "scaling", d_k ** -0.5))
            ln = block.input_layernorm
            eps = getattr(ln, "variance_epsilon", getattr(ln, "eps", 1e-6))
            norm = "input_layernorm (RMSNorm, pre-norm)"
            xn = _rms_norm(x, _np(ln.weight), eps)
            group = num_heads // num_kv
            kv_head = head // group
            qs = slice(head * d_k, (head + 1) * d_k)
            ks = slice(kv_head * d_k, (kv_head + 1) * d_k)

            def proj(linear, sl):
                y = xn @ _np(linear.weight)[sl].T
                if linear.bias is not None:
                    y = y + _np(linear.bias)[sl]
                return y

            q_rope, k_rope = proj(attn.q_proj, qs), proj(attn.k_proj, ks)
            v = proj(attn.v_proj, ks)
            position_ids = torch.arange(seq).unsqueeze(0)
            cos, sin = base.rotary_emb(torch.zeros(1, seq, d_k, dtype=torch.float32), position_ids)
            cos, sin = _np(cos[0]), _np(sin[0])  # (seq, d_k)
            q = q_rope * cos + _rotate_half(q_rope) * sin
            k = k_rope * cos + _rotate_half(k_rope) * sin
            rope = True
    scores = (q @ k.T) * scaling  # (seq, seq)
    mask = np.zeros((seq, seq))
    if result.is_causal:
        mask[np.triu_indices(seq, k=1)] = -np.inf  # token i may not look at j > i
    shifted = scores + mask
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    weights = e / e.sum(axis=-1, keepdims=True)
    output = weights @ v  # (seq, d_k)
    model_weights = result.attentions[layer, head].astype(np.float64)
    diff = float(np.abs(weights.astype(np.float32) - model_weights.astype(np.float32)).max())
    return HeadComputation(
        architecture=arch, layer=layer, head=head, kv_head=kv_head, num_heads=num_heads,
        num_key_value_heads=num_kv, d_k=d_k, scaling=scaling, norm=norm, rope=rope,
        x=x, x_normed=xn, q=q, k=k, v=v, q_before_rope=q_rope, k_before_rope=k_rope,
        scores=scores, mask=mask, weights=weights, output=output,
        model_weights=model_weights, max_abs_diff=diff,
    )


def is_float_precision(diff: float, tol: float = 1e-5) -> bool:
    """True when a max-abs difference is at float32 precision (≤ ``tol``, default 1e-5)."""
    return bool(np.isfinite(diff) and diff <= tol)


__all__ = [
    "AttentionInputError", "AttentionResult", "AttentionUnavailableError", "HeadComputation",
    "UnsupportedArchitectureError", "attention_rollout", "drop_tokens", "explain_head",
    "get_attention", "head_statistics", "is_float_precision", "mean_over_heads", "snapshot",
    "valid_layer_head",
    "DEFAULT_MAX_TOKENS", "MAX_TOKENS_LIMIT",
]
