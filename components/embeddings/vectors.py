"""Texts to vectors: sentence embeddings, mean-pooled hidden states, input-embedding rows.

Three ways, all on catalog models loaded by :mod:`components.loading`: sentence-transformers
``encode`` (bundled all-MiniLM-L6-v2), the mean of one layer's hidden states over the
``attention_mask``, and rows of ``model.get_input_embeddings()`` (averaged over a word's
tokens). Token counts come from the shared probe (:mod:`components.probe`); texts cut at the
model's limit are named in notices. Forward passes hold ``loaded.lock``, tokenizer calls
``loaded.tokenizer_lock``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from components import probe
from components.embeddings.inputs import EmbeddingInputError, md_code
from components.messages import Message

Progress = Callable[[float], None]
"""Progress callback: fraction of the texts encoded so far, in [0, 1]."""

SENTENCE = "sentence"
HIDDEN = "hidden"
WORD = "word"
METHODS = (SENTENCE, HIDDEN, WORD)

HIDDEN_MAX_TOKENS = 256     # hidden-state texts are truncated here (CPU time bound)
MAX_ROW_NOTICES = 10        # per-row truncation notices listed; the rest are counted


@dataclass
class Embeddings:
    """Vectors for a list of texts.

    Attributes:
        vectors: ``(n, d)`` float32, row i for ``texts[i]``.
        method: one of ``METHODS``.
        model_key: catalog key of the model that produced them.
        layer: hidden-state layer (0 = embedding output) for ``HIDDEN``, else None.
        token_counts: ``(n,)`` tokens per text before truncation (special tokens included
            for sentences / hidden states; without them for words).
        truncated: indices of texts cut at the model's limit.
        notices: :class:`~components.messages.Message` s about what was changed or averaged.
        pieces: for ``WORD``: per text, the readable tokens whose rows were averaged.
    """

    vectors: np.ndarray
    method: str
    model_key: str
    layer: int | None = None
    token_counts: np.ndarray | None = None
    truncated: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    pieces: list[list[str]] | None = None


def _row_notices(truncated: list[int], counts: np.ndarray, limit: int, texts: Sequence[str],
                 rows: Sequence[int] | None, what: str) -> list[str]:
    """Per-row truncation notices (first ``MAX_ROW_NOTICES``, then a count of the rest)."""
    out = []
    for i in truncated[:MAX_ROW_NOTICES]:
        row = rows[i] if rows is not None else i + 1
        preview = texts[i][:40] + ("…" if len(texts[i]) > 40 else "")
        out.append(Message("embeddings.msg.truncated_row", {
            "row": row, "preview": md_code(preview), "tokens": int(counts[i]), "model": what, "limit": limit}))
    if len(truncated) > MAX_ROW_NOTICES:
        out.append(Message("embeddings.msg.truncated_more", {"n": len(truncated) - MAX_ROW_NOTICES, "limit": limit}))
    return out


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = [str(t) for t in texts]
    if not texts:
        raise EmbeddingInputError("embeddings.msg.nothing")
    if any(not t.strip() for t in texts):
        raise EmbeddingInputError("embeddings.msg.blank_items")
    return texts


def encode_sentences(
    loaded,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: Progress | None = None,
    rows: Sequence[int] | None = None,
) -> Embeddings:
    """Sentence embeddings with ``loaded.sentence_model.encode``.

    Texts are sorted by token count (so each batch pads little), unique texts are encoded
    once, and encoding runs in chunks of ``8 * batch_size`` texts so ``progress`` can report.
    The vectors equal ``SentenceTransformer.encode(texts)`` row for row (same model, same
    truncation); for all-MiniLM-L6-v2 they are 384-d and unit length (its Normalize module).

    Args:
        loaded: a :class:`~components.loading.LoadedModel` with a ``sentence_model``.
        texts: n non-blank strings.
        batch_size: texts per forward pass.
        progress: called with the fraction encoded (0..1) after each chunk.
        rows: display row numbers for notices (default 1..n).

    Returns:
        :class:`Embeddings` with ``vectors`` ``(n, d)`` float32; ``truncated`` lists texts
        longer than ``max_seq_length`` tokens (256 for MiniLM), each with a notice.

    Raises:
        InputError: no texts / blank text.
        ValueError: ``loaded`` is not a sentence-transformers model.
    """
    texts = _check_texts(texts)
    limit = probe.encoder_limit(loaded)
    sm = loaded.sentence_model
    counts = probe.token_counts(loaded, texts)
    truncated = [int(i) for i in np.flatnonzero(counts > limit)]

    unique: dict[str, int] = {}
    slot = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        slot[i] = unique.setdefault(t, len(unique))
    uniq_texts = list(unique)
    uniq_counts = np.zeros(len(uniq_texts), dtype=np.int64)
    uniq_counts[slot] = counts
    order = np.argsort(-uniq_counts, kind="stable")  # longest first: a memory spike shows early

    getter = getattr(sm, "get_embedding_dimension", None) or sm.get_sentence_embedding_dimension
    dim = getter() or 0
    out = np.empty((len(uniq_texts), dim), dtype=np.float32) if dim else None
    chunk = max(batch_size * 8, 1)
    done = 0
    if progress:
        progress(0.0)
    for start in range(0, len(order), chunk):
        idx = order[start:start + chunk]
        vecs = probe.sentence_vectors(loaded, [uniq_texts[i] for i in idx], batch_size, normalize=False)
        if out is None:
            out = np.empty((len(uniq_texts), vecs.shape[1]), dtype=np.float32)
        out[idx] = vecs
        done += len(idx)
        if progress:
            progress(done / len(order))
    vectors = out[slot]

    notices = _row_notices(truncated, counts, limit, texts, rows,
                           f"{loaded.spec.display_name} (max_seq_length)")
    dupes = len(texts) - len(uniq_texts)
    if dupes:
        notices.append(Message("embeddings.msg.repeated", {"n": dupes}))
    return Embeddings(vectors=vectors, method=SENTENCE, model_key=loaded.spec.key,
                      token_counts=counts, truncated=truncated, notices=notices)


def num_layers(loaded) -> int:
    """Transformer layers of ``loaded.model`` (hidden states run 0..num_layers)."""
    cfg = loaded.model.config
    for name in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(cfg, name, None)
        if isinstance(value, int):
            return value
    raise ValueError(f"Cannot tell the layer count of {loaded.spec.display_name}.")


def hidden_state_embeddings(
    loaded,
    texts: Sequence[str],
    layer: int,
    batch_size: int = 16,
    max_tokens: int = HIDDEN_MAX_TOKENS,
    progress: Progress | None = None,
    rows: Sequence[int] | None = None,
) -> Embeddings:
    """Mean-pooled hidden states of one layer: ``sum_t h[l, t] * m_t / sum_t m_t``.

    ``h[l]`` is ``hidden_states[layer]`` from ``model(..., output_hidden_states=True)``
    (``layer`` 0 = the embedding output, ``num_layers(loaded)`` = the last layer), ``m`` the
    ``attention_mask``. Batches are right-padded (``padding_side="right"`` per call), so for
    a causal model no real token ever sees a pad and positions start at 0: each vector equals
    the mean over the same text run alone. Texts are length-sorted to pad little.

    Args:
        loaded: any LoadedModel whose ``model`` returns ``hidden_states`` (SmolLM2, GPT-2, BERT).
        texts: n non-blank strings.
        layer: 0..num_layers(loaded).
        batch_size: texts per forward pass.
        max_tokens: texts are truncated to this many tokens (notice per row).
        progress: called with the fraction done.
        rows: display row numbers for notices.

    Returns:
        :class:`Embeddings`, ``vectors`` ``(n, hidden_size)`` float32 (576 for SmolLM2).

    Raises:
        InputError: empty/blank texts, or ``layer`` out of range.
    """
    import torch

    texts = _check_texts(texts)
    n_layers = num_layers(loaded)
    if not 0 <= int(layer) <= n_layers:
        raise EmbeddingInputError("embeddings.msg.layer_range", n=n_layers, model=loaded.spec.display_name)
    ctx = int(getattr(loaded, "context_length", max_tokens) or max_tokens)
    limit = min(int(max_tokens), ctx)
    counts = probe.token_counts(loaded, texts)
    truncated = [int(i) for i in np.flatnonzero(counts > limit)]
    order = np.argsort(-counts, kind="stable")
    hidden = int(getattr(loaded.model.config, "hidden_size", 0) or loaded.model.config.n_embd)
    out = np.empty((len(texts), hidden), dtype=np.float32)
    if progress:
        progress(0.0)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        with loaded.tokenizer_lock:
            enc = loaded.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=limit, padding_side="right", return_tensors="pt",
                                   split_special_tokens=True)  # a typed "[SEP]" stays text
        with loaded.lock, torch.inference_mode():
            outputs = loaded.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                   output_hidden_states=True)
            states = outputs.hidden_states[layer]                    # (B, T, H)
            mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)  # (B, T, 1)
            mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)  # (B, H)
        out[idx] = mean.float().numpy()
        if progress:
            progress(min(1.0, (start + len(idx)) / len(order)))
    notices = _row_notices(truncated, counts, limit, texts, rows, f"{loaded.spec.display_name}")
    return Embeddings(vectors=out, method=HIDDEN, model_key=loaded.spec.key, layer=int(layer),
                      token_counts=counts, truncated=truncated, notices=notices)


def word_embeddings(loaded, words: Sequence[str]) -> Embeddings:
    """Rows of the input embedding matrix ``E = model.get_input_embeddings().weight``
    ``(vocab, d)`` for each word: ``E[ids].mean(0)`` over the word's tokens.

    Each word is tokenized as typed (no special tokens, no added leading space). Words that
    become several tokens get the average of their rows -- stated in a notice. These vectors
    are the model's *static*, context-free token embeddings (Word2Vec/GloVe-like), before any
    attention layer.

    Returns:
        :class:`Embeddings` with ``vectors`` ``(n, d)`` float32 and ``pieces`` (readable tokens).

    Raises:
        InputError: empty input or a word that yields no token.
    """
    import torch

    from components.tokens import token_labels

    words = _check_texts(words)
    matrix = loaded.model.get_input_embeddings().weight  # (vocab, d)
    vectors = np.empty((len(words), matrix.shape[1]), dtype=np.float32)
    pieces: list[list[str]] = []
    counts = np.empty(len(words), dtype=np.int64)
    with loaded.tokenizer_lock, torch.inference_mode():  # no forward pass: a read of the embedding matrix
        enc = loaded.tokenizer(list(words), add_special_tokens=False, return_attention_mask=False,
                               split_special_tokens=True)
        for i, ids in enumerate(enc["input_ids"]):
            if not ids:
                raise EmbeddingInputError("embeddings.msg.no_token", word=md_code(words[i]),
                                          model=loaded.spec.display_name)
            vectors[i] = matrix[torch.tensor(ids)].mean(dim=0).float().numpy()
            counts[i] = len(ids)
            pieces.append(token_labels(loaded.tokenizer, ids))
    multi = [i for i in range(len(words)) if counts[i] > 1]
    notices = []
    if multi:
        examples = "; ".join(f"{md_code(words[i])} → {md_code(' + '.join(pieces[i]))}" for i in multi[:5])
        examples += " …" if len(multi) > 5 else ""
        notices.append(Message("embeddings.msg.multi_token", {"n": len(multi), "total": len(words), "examples": examples}))
    long = [i for i in range(len(words)) if len(words[i].split()) > 3]
    if long:
        notices.append(Message("embeddings.msg.sentences_as_words", {"n": len(long)}))
    return Embeddings(vectors=vectors, method=WORD, model_key=loaded.spec.key,
                      token_counts=counts, notices=notices, pieces=pieces)
