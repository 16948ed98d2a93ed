"""Embeddings: encode texts, project them (PCA / t-SNE), find nearest neighbours.

Pure logic for the Embedding explorer page (no streamlit). Three ways to turn texts into
vectors, all on catalog models loaded by :mod:`components.loading`:

* :func:`encode_sentences` -- sentence embeddings from a sentence-transformers model
  (bundled all-MiniLM-L6-v2: mean-pooled, L2-normalised, 384-d), via
  ``SentenceTransformer.encode`` on length-sorted chunks with a progress callback;
* :func:`hidden_state_embeddings` -- mean of one layer's hidden states over the
  ``attention_mask`` (any causal/encoder model, e.g. the bundled SmolLM2, 576-d);
* :func:`word_embeddings` -- rows of the model's input embedding matrix
  (``model.get_input_embeddings()``), the primer's "word embedding" idea; a word split into
  several tokens gets the average of its tokens' rows.

Then :func:`project` (PCA, linear, with ``explained_variance_ratio_``; or t-SNE, non-linear),
:func:`project_query` (a new point through the *fitted* PCA) and :func:`nearest_neighbours`
(cosine similarity in the full embedding space, never in the 2-D/3-D projection).

Forward passes hold ``loaded.lock`` (one batch at a time), tokenizer calls
``loaded.tokenizer_lock`` (shared cached models, see :class:`components.loading.LoadedModel`).
Bad input raises :class:`EmbeddingInputError` (a :class:`components.textio.InputError`) whose
``message`` is a :class:`components.messages.Message` (a code of ``locales/<lang>/embeddings.toml``
and its params); notices are messages too, and only the page translates them.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components import coverage, probe
from components.messages import Message
from components.textio import LABEL_SEP, InputError, parse_labelled_lines

Progress = Callable[[float], None]
"""Progress callback: fraction of the texts encoded so far, in [0, 1]."""

SENTENCE = "sentence"
HIDDEN = "hidden"
WORD = "word"
METHODS = (SENTENCE, HIDDEN, WORD)

PCA = "pca"
TSNE = "tsne"

MAX_ITEMS = 20_000          # above this the page samples (stated in the UI and docs/methods.md)
TSNE_MAX_ITEMS = 3_000      # t-SNE is O(n log n) per iteration but slow on 2 CPU cores
HIDDEN_MAX_TOKENS = 256     # hidden-state texts are truncated here (CPU time bound)
MAX_ROW_NOTICES = 10        # per-row truncation notices listed; the rest are counted
HOVER_CHARS = 200

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "embeddings"


class EmbeddingInputError(InputError):
    """Unusable input; ``message`` is an ``embeddings.msg.*`` code (:mod:`components.messages`)."""


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


@dataclass
class Projection:
    """A 2-D/3-D map of embeddings.

    Attributes:
        coords: ``(n, k)`` float32 map coordinates.
        method: ``"pca"`` or ``"tsne"``.
        explained_variance_ratio_: ``(k,)`` fraction of total variance per principal
            component (PCA only, else None).
        pca: the fitted ``sklearn.decomposition.PCA`` (PCA only) -- use it to place new points.
        scree: ``(m,)`` explained variance ratio of the first m <= 10 components (PCA only),
            for the scree bar.
        notices: :class:`~components.messages.Message` s about what was adapted (e.g. t-SNE perplexity).
    """

    coords: np.ndarray
    method: str
    explained_variance_ratio_: np.ndarray | None = None
    pca: Any = None
    scree: np.ndarray | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def axis_titles(self) -> list[str]:
        """"PC1 (34.2%)" for PCA; "t-SNE 1" for t-SNE."""
        k = self.coords.shape[1]
        if self.method == PCA and self.explained_variance_ratio_ is not None:
            return [f"PC{i + 1} ({100 * r:.1f}%)" for i, r in enumerate(self.explained_variance_ratio_)]
        return [f"t-SNE {i + 1}" for i in range(k)]


# --------------------------------------------------------------------------- helpers
def md_code(text: str) -> str:
    """User text as a markdown code span, so ``st.info``/``st.warning`` show it literally
    (no bold, links, LaTeX or HTML). Backticks inside get a longer fence (CommonMark)."""
    import re

    text = str(text).replace("\r", " ").replace("\n", " ⏎ ")
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def texts_digest(texts: Sequence[str]) -> str:
    """sha256 of the texts (order matters): a short cache key for long inputs."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    h.update(str(len(texts)).encode())
    return h.hexdigest()


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


# --------------------------------------------------------------------------- encoders
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


# --------------------------------------------------------------------------- projection
def _check_matrix(vectors: np.ndarray, dims: int, what: str) -> np.ndarray:
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise EmbeddingInputError("embeddings.msg.no_embeddings")
    if dims not in (2, 3):
        raise EmbeddingInputError("embeddings.msg.dims")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X).all(axis=1)).sum())
        raise EmbeddingInputError("embeddings.msg.not_finite", n=bad)
    n = X.shape[0]
    if n <= dims:
        raise EmbeddingInputError("embeddings.msg.too_few_items", dims=dims, what=what, need=dims + 1, n=n,
                                  span=n - 1)
    var = X.var(axis=0).sum()
    scale = float((X ** 2).mean()) if X.size else 0.0
    if not var > 1e-12 * max(scale, 1e-30):
        raise EmbeddingInputError("embeddings.msg.no_variance")
    return X


def pca_project(vectors: np.ndarray, dims: int = 2) -> Projection:
    """PCA (``sklearn.decomposition.PCA``): centre, then project on the ``dims`` directions
    of largest variance -- a linear map, distances shrink but are not warped.

    Args:
        vectors: ``(n, d)`` embeddings.
        dims: 2 or 3.

    Returns:
        :class:`Projection` with ``coords`` ``(n, dims)`` float32 = ``(X - mean_) @ components_.T``,
        ``explained_variance_ratio_`` ``(dims,)``, the fitted ``pca`` and a 10-bar ``scree``.

    Raises:
        InputError: n <= dims, NaN/inf, zero total variance, or fewer than ``dims``
            independent directions (a component with no variance would be an arbitrary axis).
    """
    from sklearn.decomposition import PCA as SkPCA

    X = _check_matrix(vectors, dims, "PCA")
    n, d = X.shape
    m = min(10, n - 1, d)
    full = SkPCA(n_components=max(m, dims), random_state=0).fit(X)
    ratios = np.asarray(full.explained_variance_ratio_, dtype=np.float64)
    if not np.isfinite(ratios).all() or ratios[dims - 1] < 1e-9:
        raise EmbeddingInputError(
            "embeddings.msg.few_directions", dims=dims,
            pct=f"{100 * max(0.0, float(np.nan_to_num(ratios[dims - 1]))):.1f}")
    pca = SkPCA(n_components=dims, random_state=0).fit(X)
    coords = pca.transform(X).astype(np.float32)
    return Projection(coords=coords, method=PCA,
                      explained_variance_ratio_=np.asarray(pca.explained_variance_ratio_),
                      pca=pca, scree=ratios[:m])


def _flat_pca(U: np.ndarray, dims: int) -> Projection:
    """PCA of distinct points spanning fewer than ``dims`` directions (e.g. 2 distinct texts
    in 2-D): the directions that exist get their PCA coordinates, the others are 0 (an axis
    with no variance would be arbitrary), with a note saying how many directions exist."""
    from sklearn.decomposition import PCA as SkPCA

    n, d = U.shape
    k_max = min(dims, n - 1, d)
    pca = SkPCA(n_components=k_max, random_state=0).fit(U)
    ratios = np.asarray(pca.explained_variance_ratio_, dtype=np.float64)
    k = int((ratios > 1e-9).sum())
    coords = np.zeros((n, dims), dtype=np.float32)
    coords[:, :k] = pca.transform(U)[:, :k]
    evr = np.zeros(dims)
    evr[:k] = ratios[:k]
    note = Message("embeddings.msg.flat_map", {"unique": n, "k": k, "dims": dims, "axis": f"PC{k + 1}"})
    return Projection(coords=coords, method=PCA, explained_variance_ratio_=evr, pca=pca,
                      scree=ratios[:min(10, n - 1, d)], notices=[note])


def unique_rows(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``vectors`` and, for each row, the index of its distinct row
    (``np.unique(axis=0, return_inverse=True)``): ``U[inverse]`` equals ``vectors``."""
    U, inverse = np.unique(np.asarray(vectors), axis=0, return_inverse=True)
    return U, np.asarray(inverse).reshape(-1)


def tsne_perplexity(n: int, requested: float = 30.0) -> float:
    """Perplexity adapted to n: ``min(requested, (n - 1) / 3)``, at least 2 (sklearn needs
    perplexity < n; van der Maaten's rule of thumb is 5-50 for thousands of points)."""
    return float(max(2.0, min(requested, (n - 1) / 3.0)))


def tsne_project(vectors: np.ndarray, dims: int = 2, perplexity: float = 30.0, seed: int = 0) -> Projection:
    """t-SNE (``sklearn.manifold.TSNE``, PCA init, cosine metric): a *non-linear* map that
    keeps close neighbours close; distances between far clusters and cluster sizes carry
    no meaning, and new points cannot be placed (no ``transform``).

    Raises:
        InputError: as :func:`pca_project`, fewer than 5 items, or more than ``TSNE_MAX_ITEMS``.
    """
    from sklearn.manifold import TSNE as SkTSNE  # not ``TSNE``: that name is this module's "tsne" constant

    X = _check_matrix(vectors, dims, "t-SNE")
    n = X.shape[0]
    if n < 5:
        raise EmbeddingInputError("embeddings.msg.tsne_few", n=n)
    if n > TSNE_MAX_ITEMS:
        raise EmbeddingInputError("embeddings.msg.tsne_many", cap=f"{TSNE_MAX_ITEMS:,}", n=f"{n:,}")
    perp = tsne_perplexity(n, perplexity)
    notices = []
    if perp != perplexity:
        notices.append(Message("embeddings.msg.perplexity", {"perp": f"{perp:.1f}", "n": n}))
    model = SkTSNE(n_components=dims, perplexity=perp, init="pca", metric="cosine",
                 random_state=seed, max_iter=500)
    coords = model.fit_transform(X.astype(np.float32)).astype(np.float32)
    return Projection(coords=coords, method=TSNE, notices=notices)


def project(vectors: np.ndarray, method: str = PCA, dims: int = 2, perplexity: float = 30.0) -> Projection:
    """Map ``vectors`` with :func:`pca_project` or :func:`tsne_project`.

    Identical rows (repeated texts) are projected once and every copy gets that point's
    coordinates, so copies share a position exactly (t-SNE would otherwise spread identical
    points apart: its attraction between them is finite). Then a note says how many distinct
    points the map has. PCA of distinct points spanning fewer than ``dims`` directions draws
    the directions that exist and sets the others to 0 (note ``embeddings.msg.flat_map``).

    Raises:
        InputError: as the projections; t-SNE with fewer than 5 distinct points
            (``embeddings.msg.tsne_few_unique``); a single distinct point (no variance).
    """
    if method not in (PCA, TSNE):
        raise ValueError(f"Unknown projection {method!r}")
    X = np.asarray(vectors)
    if X.ndim != 2 or X.shape[0] == 0 or not np.isfinite(X).all():
        return pca_project(X, dims) if method == PCA else tsne_project(X, dims, perplexity)  # raises
    U, inverse = unique_rows(X)
    n, n_unique = X.shape[0], U.shape[0]
    if n_unique == n:
        if method == TSNE:
            return tsne_project(X, dims, perplexity)
        try:
            return pca_project(X, dims)
        except EmbeddingInputError as exc:
            if exc.message.code != "embeddings.msg.few_directions" or n_unique < 2:
                raise
            return _flat_pca(np.asarray(X, dtype=np.float64), dims)
    if n_unique < 2:
        raise EmbeddingInputError("embeddings.msg.no_variance")
    if method == TSNE:
        if n_unique < 5:
            raise EmbeddingInputError("embeddings.msg.tsne_few_unique", n=n, unique=n_unique)
        proj = tsne_project(U, dims, perplexity)
    else:
        U64 = np.asarray(U, dtype=np.float64)
        try:
            proj = pca_project(U64, dims) if n_unique > dims else _flat_pca(U64, dims)
        except EmbeddingInputError as exc:
            if exc.message.code != "embeddings.msg.few_directions":
                raise
            proj = _flat_pca(U64, dims)
    proj.coords = proj.coords[inverse]
    proj.notices = [*proj.notices, Message("embeddings.msg.copies_share", {"n": n, "unique": n_unique})]
    return proj


def project_query(projection: Projection, vector: np.ndarray) -> np.ndarray | None:
    """Place a new embedding on an existing PCA map: ``pca.transform`` =
    ``(x - mean_) @ components_.T``, ``(dims,)`` float32. None for t-SNE (no transform)."""
    if projection.method != PCA or projection.pca is None:
        return None
    x = np.asarray(vector, dtype=np.float64).reshape(1, -1)
    xy = projection.pca.transform(x)[0]
    out = np.zeros(projection.coords.shape[1], dtype=np.float32)
    out[:len(xy)] = xy[:len(out)]
    if projection.explained_variance_ratio_ is not None:  # axes without variance (flat map) stay 0
        out[np.asarray(projection.explained_variance_ratio_) <= 0] = 0
    return out


# --------------------------------------------------------------------------- neighbours
def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    X = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def cosine_similarities(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``cos(x_i, q) = x_i·q / (|x_i||q|)`` for every row, ``(n,)`` float32."""
    return normalise_rows(vectors) @ normalise_rows(np.asarray(query).reshape(1, -1))[0]


def nearest_neighbours(vectors: np.ndarray, query: np.ndarray | int, k: int = 10) -> pd.DataFrame:
    """The k most cosine-similar items in the full embedding space.

    Args:
        vectors: ``(n, d)`` embeddings.
        query: a row index (that item is excluded from its own neighbours) or a ``(d,)`` vector.
        k: neighbours to return (fewer if there are fewer items).

    Returns:
        DataFrame with ``rank`` (1..), ``index`` (row in ``vectors``), ``cosine`` (float, -1..1),
        most similar first.

    Raises:
        InputError: ``query`` vector has the wrong size or is zero / not finite.
    """
    X = np.asarray(vectors)
    if isinstance(query, (int, np.integer)):
        exclude = int(query)
        q = X[exclude]
    else:
        exclude = None
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != X.shape[1]:
            raise EmbeddingInputError("embeddings.msg.query_dims", got=q.shape[0], want=X.shape[1])
    if not np.isfinite(q).all() or not np.any(q):
        raise EmbeddingInputError("embeddings.msg.query_zero")
    sims = cosine_similarities(X, q)
    if exclude is not None:
        sims = sims.copy()
        sims[exclude] = -np.inf
    k = max(0, min(int(k), X.shape[0] - (1 if exclude is not None else 0)))
    if k == 0:
        return pd.DataFrame({"rank": [], "index": [], "cosine": []})
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.argsort(-sims[top], kind="stable")]
    return pd.DataFrame({"rank": np.arange(1, k + 1), "index": top.astype(int),
                         "cosine": sims[top].astype(float)})


def nearest_for_all(vectors: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Each item's single nearest other item by cosine, in row chunks (memory ``chunk x n``).

    Returns:
        ``(index (n,) int64, cosine (n,) float32)``; index -1 when there is only one item.
    """
    U = normalise_rows(vectors)
    n = U.shape[0]
    best = np.full(n, -1, dtype=np.int64)
    score = np.full(n, np.nan, dtype=np.float32)
    if n < 2:
        return best, score
    for start in range(0, n, chunk):
        sims = U[start:start + chunk] @ U.T                      # (chunk, n)
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf                        # not itself
        best[start:start + chunk] = sims.argmax(axis=1)
        score[start:start + chunk] = sims[rows, best[start:start + chunk]]
    return best, score


# --------------------------------------------------------------------------- items
def sample_items(n: int, cap: int = MAX_ITEMS, seed: int = 0) -> tuple[np.ndarray, list[Message]]:
    """Indices to keep: all when ``n <= cap``, else a sorted random sample of ``cap``
    (seeded, so the same input gives the same sample), with a notice."""
    if n <= cap:
        return np.arange(n), []
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(n, size=cap, replace=False))
    return keep, [Message("embeddings.msg.sampled", {"n": f"{n:,}", "cap": f"{cap:,}"})]


def matches(texts: Sequence[str], query: str) -> np.ndarray:
    """Boolean mask of texts containing ``query`` (case-insensitive substring; blank = none)."""
    q = (query or "").strip().casefold()
    if not q:
        return np.zeros(len(texts), dtype=bool)
    return np.fromiter((q in t.casefold() for t in texts), dtype=bool, count=len(texts))


# --------------------------------------------------------------------------- example sets
@dataclass(frozen=True)
class ExampleSet:
    """A shipped example file (``data/embeddings/<name>.txt``, lines ``text | label``).

    Its title, label name and labels are UI strings (``embeddings.sets.<name>.title`` / ``.label``,
    ``embeddings.set_labels.<word>``), worded by :mod:`components.embeddings_wording`.
    """

    name: str
    kind: str  # "sentences" or "words": which embedding method suits it
    path: Path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def frame(self) -> pd.DataFrame:
        """Columns ``text``, ``label`` (comment lines starting with ``#`` skipped); labels as
        written in the file (label ids; :mod:`components.embeddings_wording` words them)."""
        body = "\n".join(line for line in self.text().splitlines() if not line.lstrip().startswith("#"))
        return parse_labelled_lines(body)[0]


EXAMPLES: tuple[tuple[str, str], ...] = (
    ("sentences_topics", "sentences"),
    ("sentences_parallel", "sentences"),
    ("sentences_paraphrases", "sentences"),
    ("words_analogies", "words"),
    ("words_primer", "words"),
    ("words_groups", "words"),
)
"""(file name, kind) of the shipped sets, in display order. The first set of each kind is the
default for the methods that suit it (sentences: sentence embeddings / hidden states; words:
word embeddings)."""


def example_sets(kind: str | None = None) -> list[ExampleSet]:
    """The shipped example sets that exist on disk, in display order (only ``kind`` if given)."""
    return [ExampleSet(name, k, DATA_DIR / f"{name}.txt")
            for name, k in EXAMPLES if (DATA_DIR / f"{name}.txt").is_file() and kind in (None, k)]


LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Characters ``str.splitlines`` breaks a line at."""


def compose_lines(texts: Sequence[str], labels: Sequence[str] | None = None) -> tuple[str, int]:
    """Items as the text area's ``text | label`` lines (inverse of
    :func:`components.textio.parse_labelled_lines` for ordinary texts).

    A text without a label but containing ``" | "`` (or ending in ``" |"``) gets a trailing
    ``" |"`` (empty label), so it is read back whole; a line-break character inside a text or
    label (see :data:`LINE_BREAKS`) becomes a space, and ``|`` inside a label becomes ``"/"``.

    Returns:
        (the lines joined by ``"\\n"``, number of texts whose line breaks were replaced).
    """
    table = str.maketrans({ch: " " for ch in LINE_BREAKS})
    lines, changed = [], 0
    for i, text in enumerate(texts):
        flat = str(text).translate(table)
        changed += flat != str(text)
        label = "" if labels is None else str(labels[i]).translate(table).replace("|", "/").strip()
        if label:
            lines.append(f"{flat}{LABEL_SEP}{label}")
        elif LABEL_SEP in flat or flat.strip().endswith(" |"):
            lines.append(f"{flat.strip()} |")
        else:
            lines.append(flat)
    return "\n".join(lines), changed


def hover_text(text: str, limit: int = HOVER_CHARS) -> str:
    """Text cut to ``limit`` characters with "…" (raw text; escape before HTML use)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_stats(vectors: np.ndarray) -> dict[str, float]:
    """Quick facts for the page: n, d, mean L2 norm, mean pairwise cosine (on <= 2,000 rows)."""
    X = np.asarray(vectors, dtype=np.float32)
    sub = normalise_rows(X[:2000])
    n = sub.shape[0]
    mean_cos = float((sub @ sub.T).sum() - n) / (n * (n - 1)) if n > 1 else math.nan
    return {"n": float(X.shape[0]), "d": float(X.shape[1]),
            "mean_norm": float(np.linalg.norm(X, axis=1).mean()), "mean_cosine": mean_cos}


# --------------------------------------------------------------------------- coverage
def text_coverage(loaded, texts: Sequence[str]) -> tuple[list[dict], list[Message]]:
    """How much of each text the model's tokenizer reads (:func:`components.coverage.tokenizer_coverage`,
    one :meth:`~components.coverage.Coverage.as_dict` per text; repeated texts computed once),
    and a note listing the items too unknown to place meaningfully (``embeddings.msg.low_coverage``:
    they reach the model mostly as ``[UNK]``, so e.g. ``😡😡`` and ``🎉`` get the same vector)."""
    memo: dict[str, dict] = {}
    out = []
    for text in texts:
        if text not in memo:
            memo[text] = coverage.model_coverage(loaded, str(text)).as_dict()
        out.append(memo[text])
    low = [i for i, c in enumerate(out) if not c["meaningful"]]
    notes = []
    if low:
        examples = ", ".join(md_code(hover_text(texts[i], 40)) for i in low[:5])
        notes.append(Message("embeddings.msg.low_coverage", {"n": len(low), "total": len(texts), "examples": examples,
                                                          "min": f"{coverage.MIN_KNOWN:.0%}"}))
    return out, notes


# --------------------------------------------------------------------------- result
def _neighbour_dict(nn: pd.DataFrame) -> dict[str, list]:
    return {"index": [int(i) for i in nn["index"]], "cosine": [float(c) for c in nn["cosine"]]}


def map_result(
    texts: Sequence[str],
    vectors: np.ndarray,
    projection: Projection,
    *,
    labels: Sequence[str] | None = None,
    label_title: str = "",
    rows: Sequence[int] | None = None,
    model_key: str = "",
    method: str = SENTENCE,
    layer: int | None = None,
    perplexity: float | None = None,
    selected: int | None = None,
    k: int = 8,
    query: str = "",
    query_vector: np.ndarray | None = None,
    notices: Sequence[Message] = (),
    coverages: Sequence[dict] | None = None,
) -> dict[str, Any]:
    """Everything the page shows for one map, as plain JSON-able data (the same structure is
    rendered live and from ``curated/embeddings.json``).

    Args:
        texts: n items; vectors: their ``(n, d)`` embeddings; projection: their map.
        labels: n labels (colours) or None; label_title: the legend title.
        rows: display row numbers (default 1..n).
        model_key, method, layer, perplexity: the settings (for the report and the title).
        selected: index of the chosen item (its k nearest neighbours are listed), or None.
        query, query_vector: a new text and its ``(d,)`` embedding (placed on a PCA map).
        notices: :class:`~components.messages.Message` s to keep with the result.
        coverages: n :func:`text_coverage` dicts, or None (then no "known" column).

    Returns:
        dict with ``texts``, ``labels``, ``label_title``, ``rows``, ``model``, ``method``,
        ``layer``, ``projection``, ``dims``, ``perplexity``, ``coords`` ``(n, dims)``,
        ``explained_variance_ratio_`` ``(dims,)`` or None, ``scree`` ``(m,)`` or None,
        ``vector_dims`` (d), ``mean_cosine``, ``nearest`` (each item's nearest other item:
        ``{"index", "cosine"}``), ``selected``, ``neighbours`` (``{"index", "cosine"}`` of the
        selected item, cosine in the full space), ``query``, ``query_xy`` (None for t-SNE),
        ``query_neighbours``, and with ``coverages``: ``known`` (n cells like ``"0% (0/2)"``)
        and ``meaningful`` (n bools).
    """
    n = len(texts)
    best, score = nearest_for_all(vectors)
    result: dict[str, Any] = {
        "texts": [str(t) for t in texts],
        "labels": None if labels is None else [str(x) for x in labels],
        "label_title": str(label_title or ""),
        "rows": list(range(1, n + 1)) if rows is None else [int(r) for r in rows],
        "model": model_key, "method": method, "layer": None if layer is None else int(layer),
        "projection": projection.method, "dims": int(projection.coords.shape[1]),
        "perplexity": None if projection.method != TSNE or perplexity is None else float(perplexity),
        "coords": np.asarray(projection.coords, dtype=float).tolist(),
        "explained_variance_ratio_": (None if projection.explained_variance_ratio_ is None
                                      else [float(r) for r in projection.explained_variance_ratio_]),
        "scree": None if projection.scree is None else [float(r) for r in projection.scree],
        "vector_dims": int(np.asarray(vectors).shape[1]),
        "mean_cosine": summary_stats(vectors)["mean_cosine"],
        "nearest": {"index": [int(i) for i in best],
                    "cosine": [float(c) if np.isfinite(c) else None for c in score]},
        "selected": None, "neighbours": None,
        "query": "", "query_xy": None, "query_neighbours": None,
        "notices": [{"code": x.code, "params": dict(x.params)} for x in notices if isinstance(x, Message)],
    }
    if coverages is not None:
        result["known"] = [coverage.short(c) for c in coverages]
        result["meaningful"] = [bool(c["meaningful"]) for c in coverages]
    if selected is not None and 0 <= int(selected) < n:
        result["selected"] = int(selected)
        result["neighbours"] = _neighbour_dict(nearest_neighbours(vectors, int(selected), k=k))
    if query and query_vector is not None:
        result["query"] = str(query)
        result["query_neighbours"] = _neighbour_dict(nearest_neighbours(vectors, query_vector, k=k))
        xy = project_query(projection, query_vector)
        result["query_xy"] = None if xy is None else [float(v) for v in xy]
    return result


def neighbours_frame(result: dict[str, Any], which: str = "neighbours") -> pd.DataFrame | None:
    """The neighbours of the selected item (``which="neighbours"``) or of the query
    (``"query_neighbours"``) as a DataFrame with ``rank``, ``row``, ``text``, [``label``],
    [``known``: coverage of the item's text], ``cosine`` (English column ids; the page renames
    them for display). None if absent."""
    nn = result.get(which)
    if not nn:
        return None
    idx = nn["index"]
    frame = pd.DataFrame({"rank": range(1, len(idx) + 1), "row": [result["rows"][i] for i in idx],
                          "text": [result["texts"][i] for i in idx]})
    if result.get("labels") is not None:
        frame["label"] = [result["labels"][i] for i in idx]
    if result.get("known") is not None:
        frame["known"] = [result["known"][i] for i in idx]
    frame["cosine"] = np.round(np.asarray(nn["cosine"], dtype=float), 4)
    return frame


def points_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per item: ``row``, ``text``, [``label``], the map coordinates (one column per
    axis, ``x``/``y``/``z``), and its nearest other item (``nearest_row``, ``nearest_text``,
    ``nearest_cosine``, full-space cosine)."""
    coords = np.asarray(result["coords"], dtype=float).reshape(len(result["texts"]), -1)
    frame = pd.DataFrame({"row": result["rows"], "text": result["texts"]})
    if result.get("labels") is not None:
        frame["label"] = result["labels"]
    for j, axis in enumerate("xyz"[: coords.shape[1]]):
        frame[axis] = np.round(coords[:, j], 4)
    best = result["nearest"]["index"]
    frame["nearest_row"] = [result["rows"][i] if i >= 0 else None for i in best]
    frame["nearest_text"] = [result["texts"][i] if i >= 0 else "" for i in best]
    frame["nearest_cosine"] = [None if c is None else round(float(c), 4) for c in result["nearest"]["cosine"]]
    if result.get("known") is not None:
        frame["known"] = result["known"]
    return frame


def selected_item(selection: Any, n: int) -> int | None:
    """The item index picked by a click on the map, from Streamlit's plotly selection state
    (``{"points": [{"customdata": i | [i], ...}, ...]}``; every trace of
    :func:`components.charts_embeddings.scatter_map` carries the item index as ``customdata``,
    the query star carries -1). The last selected point counts; None when no item is selected
    or the value is malformed/out of range (never raises)."""
    try:
        points = (selection or {}).get("points") or []
    except AttributeError:
        return None
    for point in reversed(list(points)):
        try:
            data = point.get("customdata")
            if isinstance(data, (list, tuple)):
                data = data[0] if data else None
            index = int(data)
        except (AttributeError, TypeError, ValueError, OverflowError):
            continue
        if 0 <= index < n:
            return index
    return None
