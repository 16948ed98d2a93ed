"""Logit lens: what the model would predict if it stopped after each layer.

Pure compute (torch + numpy, no streamlit, no UI language: errors carry message codes).

Source: nostalgebraist (2020), "interpreting GPT: the logit lens" (LessWrong). For every
layer, the residual stream at each position is passed through the model's OWN final norm
and unembedding (``lm_head``) -- the two steps that turn the last layer's output into
logits -- and read as a next-token distribution.

Hidden states: HF ``output_hidden_states`` gives ``layers + 1`` tensors: the embeddings
(index 0, the input of layer 0) and the output of every layer. In HF Llama / GPT-2 the LAST
one is ``last_hidden_state``, i.e. the final norm is ALREADY applied, so it is unembedded as
is (norming it twice would change the prediction); the others are normed first. Row ``L``
(the last) of the lens is therefore the model's own logits.

Known limit: the final norm and unembedding were trained to read the LAST layer only;
early layers speak a different "basis", so their lens reading is poor (mostly the input
token or frequent tokens) even when the information is there. The tuned lens (Belrose et
al. 2023, "Eliciting Latent Predictions from Transformers with the Tuned Lens") trains a
small affine translator per layer to fix this; those translators are not available for the
models here, so this is the plain logit lens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from components.tokens import token_labels

MAX_TOKENS = 128
"""Cap on the analysed tokens (longer input is cut; the record says so)."""
TOP_K = 5
"""Candidates kept per (layer, position) for the hover and tables."""
LENS_CHUNK_BYTES = 64 << 20
"""Float32 lens logits computed at once (rows stacked up to this size, at least one row)."""

# Message codes (the page translates ``lens.msg.<code>``).
NOT_CAUSAL = "not_causal"
EMPTY = "empty"
NO_TOKENS = "no_tokens"
UNSUPPORTED = "unsupported"


class LensError(ValueError):
    """An input or a model the lens cannot use.

    Attributes:
        code: message code (``not_causal``, ``empty``, ``no_tokens``, ``unsupported``).
        values: placeholders for the translated message (e.g. ``{"arch": "bert"}``).
    """

    def __init__(self, code: str, **values):
        super().__init__(code)
        self.code = code
        self.values = values


@dataclass
class LensResult:
    """The logit lens of one input, everything numpy (picklable, no model inside).

    ``L`` = number of layers, ``seq`` = tokens, ``k`` = :data:`TOP_K`. Row ``l`` of the
    ``(L + 1, seq)`` arrays reads the residual stream ENTERING layer ``l`` (row 0 = the
    embeddings) -- equivalently the output of layer ``l - 1``; row ``L`` is the model's own
    prediction.

    Attributes:
        model_key: catalog key.
        architecture: config ``model_type`` (``llama``, ``gpt2``).
        input_ids: ``(seq,)`` token ids analysed.
        labels: readable token per position (:func:`components.tokens.token_labels`).
        top_ids: int64 ``(L + 1, seq, k)`` most probable next tokens per (layer, position).
        top_probs: float32 ``(L + 1, seq, k)`` their probabilities (softmax over the full
            vocabulary).
        top_labels: ``(L + 1)`` lists of ``seq`` readable labels of ``top_ids[..., 0]``.
        final_prob: float32 ``(L + 1, seq)`` probability, at each layer, of the token the
            model finally predicts at that position (``top_ids[L, pos, 0]``).
        final_rank: int64 ``(L + 1, seq)`` its rank (1 = top) among the whole vocabulary.
        entropy: float32 ``(L + 1, seq)`` entropy of each lens distribution, nats.
        n_tokens_full: tokens of the input before the cap.
        max_tokens: the cap applied.
        last_normed_by_model: True when the last hidden state already had the final norm
            applied (HF Llama/GPT-2); then it was unembedded without norming again.
        logits: ``{row: float32 (seq, vocab)}`` full lens logits of the rows asked for with
            ``keep_logits`` (empty by default: ``seq × vocab`` per row is large).
    """

    model_key: str
    architecture: str
    input_ids: list[int]
    labels: list[str]
    top_ids: np.ndarray
    top_probs: np.ndarray
    top_labels: list[list[str]]
    final_prob: np.ndarray
    final_rank: np.ndarray
    entropy: np.ndarray
    n_tokens_full: int
    max_tokens: int
    last_normed_by_model: bool = True
    logits: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def num_layers(self) -> int:
        return int(self.top_ids.shape[0]) - 1

    @property
    def seq_len(self) -> int:
        return int(self.top_ids.shape[1])

    @property
    def truncated(self) -> bool:
        return self.n_tokens_full > self.seq_len

    @property
    def final_ids(self) -> np.ndarray:
        """``(seq,)`` the model's own greedy next token at each position."""
        return self.top_ids[-1, :, 0]

    def layer_of_first_top(self, position: int) -> int | None:
        """First layer row from which the final prediction stays the lens's top token at
        ``position`` (rank 1 through the last row), or None if it never does before the end."""
        ranks = self.final_rank[:, position]
        for row in range(len(ranks)):
            if np.all(ranks[row:] == 1):
                return row
        return None


def token_label(tokenizer, token_id: int) -> str:
    """Readable label of ONE token on its own (a lone byte piece of a CJK character shows
    its bytes, see :class:`~components.tokens.TokenPiece`)."""
    return token_labels(tokenizer, [int(token_id)])[0]


# --------------------------------------------------------------------------- model parts
def check_causal(loaded) -> None:
    """Raise :class:`LensError` (``not_causal``) unless the model is a decoder with an
    unembedding (``lm_head``)."""
    spec = loaded.spec
    if not spec.is_causal or loaded.model.get_output_embeddings() is None:
        raise LensError(NOT_CAUSAL, name=spec.display_name)


def base_and_norm(model):
    """``(decoder stack, final norm module)`` of a causal LM: Llama ``model.model`` +
    ``norm``; GPT-2 ``model.transformer`` + ``ln_f``.

    Raises:
        LensError: ``unsupported`` when no final norm is found.
    """
    base = model.base_model
    for name in ("norm", "ln_f", "final_layer_norm", "final_layernorm"):
        norm = getattr(base, name, None)
        if norm is not None:
            return base, norm
    raise LensError(UNSUPPORTED, arch=getattr(model.config, "model_type", "?"))


def encode(loaded, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[int], int]:
    """Token ids of ``text`` as plain text (typed ``<|im_end|>`` stays ordinary pieces),
    cut to ``max_tokens``.

    Returns:
        ``(ids, n_full)``: the first ``max_tokens`` ids and the full count.

    Raises:
        LensError: ``empty`` (blank text), ``no_tokens``.
    """
    if not isinstance(text, str) or not text.strip():
        raise LensError(EMPTY)
    cap = max(1, min(int(max_tokens), int(loaded.context_length)))
    with loaded.tokenizer_lock:
        ids = loaded.tokenizer(text, add_special_tokens=True, truncation=False, split_special_tokens=True,
                               verbose=False)["input_ids"]
    if not ids:
        raise LensError(NO_TOKENS)
    return [int(i) for i in ids[:cap]], len(ids)


# --------------------------------------------------------------------------- the lens
def logit_lens(loaded, text: str | None = None, input_ids: list[int] | None = None,
               max_tokens: int = MAX_TOKENS, top_k: int = TOP_K, keep_logits=()) -> LensResult:
    """Logit lens of ``text`` (or of exact ``input_ids``) at every layer and position.

    One forward pass with ``output_hidden_states=True`` (under ``loaded.lock``), then for each
    of the ``L + 1`` hidden states: final norm (except the last, already normed by the model)
    → ``lm_head`` → softmax over the vocabulary. Rows are stacked into one ``lm_head`` call of
    up to :data:`LENS_CHUNK_BYTES` of logits (at least one row of ``seq × vocab``), so the
    unembedding weights are read once per chunk, not once per layer.

    Args:
        loaded: a causal :class:`~components.loading.LoadedModel`.
        text: input text (tokenised as plain text), or None when ``input_ids`` are given.
        input_ids: exact token ids (cut to ``max_tokens``).
        max_tokens: cap in tokens (default :data:`MAX_TOKENS`).
        top_k: candidates kept per cell.
        keep_logits: rows (0..L, negative from the end) whose full float32
            ``(seq, vocab)`` lens logits are kept in ``LensResult.logits`` (for checks).

    Returns:
        :class:`LensResult` with ``(L + 1, seq)`` arrays.

    Raises:
        LensError: ``not_causal`` (encoders: no next-token head), ``empty``/``no_tokens``,
            ``unsupported`` (no final norm found).
    """
    import torch

    check_causal(loaded)
    model = loaded.model
    base, norm = base_and_norm(model)
    lm_head = model.get_output_embeddings()
    if input_ids is not None:
        ids_list = [int(i) for i in input_ids]
        if not ids_list:
            raise LensError(NO_TOKENS)
        n_full = len(ids_list)
        ids_list = ids_list[:max(1, min(int(max_tokens), int(loaded.context_length)))]
    else:
        ids_list, n_full = encode(loaded, text, max_tokens)
    ids = torch.tensor([ids_list], dtype=torch.long)
    with loaded.lock, torch.inference_mode():
        out = base(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True,
                   return_dict=True)
    hidden = out.hidden_states
    last = out.last_hidden_state
    normed_by_model = hidden[-1] is last or torch.equal(hidden[-1], last)
    n_rows = len(hidden)
    seq = ids.shape[-1]
    k = int(top_k)
    top_ids = np.zeros((n_rows, seq, k), dtype=np.int64)
    top_probs = np.zeros((n_rows, seq, k), dtype=np.float32)
    final_prob = np.zeros((n_rows, seq), dtype=np.float32)
    final_rank = np.zeros((n_rows, seq), dtype=np.int64)
    entropy = np.zeros((n_rows, seq), dtype=np.float32)
    final_ids = None
    keep = {int(r) % n_rows for r in keep_logits}
    kept: dict[int, np.ndarray] = {}
    order = [n_rows - 1, *range(n_rows - 1)]  # last row first: it fixes the token every row ranks
    vocab = int(lm_head.weight.shape[0])
    per_chunk = max(1, LENS_CHUNK_BYTES // (seq * vocab * 4))
    with torch.inference_mode():
        for first in range(0, n_rows, per_chunk):
            rows = order[first:first + per_chunk]
            # rows stacked: one read of the unembedding weights per chunk instead of one per row
            states = torch.cat([hidden[r][0] if (r == n_rows - 1 and normed_by_model) else norm(hidden[r][0])
                                for r in rows])  # (len(rows) * seq, d_model)
            chunk = lm_head(states).float().view(len(rows), seq, vocab)
            for row, logits in zip(rows, chunk):  # logits: (seq, vocab)
                if row in keep:
                    kept[row] = logits.numpy().copy()
                # few passes over seq × vocab: with the matmul, most of the lens's cost
                lse = torch.logsumexp(logits, dim=-1, keepdim=True)  # (seq, 1)
                tl, ti = torch.topk(logits, k, dim=-1)
                top_ids[row], top_probs[row] = ti.numpy(), (tl - lse).exp().numpy()
                if final_ids is None:
                    final_ids = ti[:, 0]
                chosen = logits.gather(1, final_ids[:, None])  # (seq, 1)
                final_prob[row] = (chosen - lse)[:, 0].exp().numpy()
                final_rank[row] = ((logits > chosen).sum(dim=-1) + 1).numpy()
                p = torch.softmax(logits, dim=-1)
                # H = -Σ p log p = logsumexp - Σ p · logits
                entropy[row] = (lse[:, 0] - (p * logits).sum(dim=-1)).clamp_min(0.0).numpy()
    unique = sorted({int(i) for i in top_ids[:, :, 0].ravel()})
    with loaded.tokenizer_lock:
        names = {i: token_label(loaded.tokenizer, i) for i in unique}
        labels = token_labels(loaded.tokenizer, ids_list)
    return LensResult(
        model_key=loaded.spec.key,
        architecture=getattr(model.config, "model_type", "") or "",
        input_ids=ids_list,
        labels=labels,
        top_ids=top_ids,
        top_probs=top_probs,
        top_labels=[[names[int(i)] for i in top_ids[row, :, 0]] for row in range(n_rows)],
        final_prob=final_prob,
        final_rank=final_rank,
        entropy=entropy,
        n_tokens_full=int(n_full),
        max_tokens=int(max_tokens),
        last_normed_by_model=bool(normed_by_model),
        logits=kept,
    )
