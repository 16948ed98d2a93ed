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

Every model call holds ``loaded.lock`` (shared cached models, see CONVENTIONS.md).
Bad input raises :class:`components.textio.InputError` with a message for the user.
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

from components.textio import InputError, parse_labelled_lines

Progress = Callable[[float], None]
"""Progress callback: fraction of the texts encoded so far, in [0, 1]."""

SENTENCE = "sentence"
HIDDEN = "hidden"
WORD = "word"
METHODS = (SENTENCE, HIDDEN, WORD)

PCA = "pca"
TSNE = "tsne"

MAX_ITEMS = 20_000          # above this the page samples (stated in the UI and README)
TSNE_MAX_ITEMS = 3_000      # t-SNE is O(n log n) per iteration but slow on 2 CPU cores
HIDDEN_MAX_TOKENS = 256     # hidden-state texts are truncated here (CPU time bound)
MAX_ROW_NOTICES = 10        # per-row truncation notices listed; the rest are counted
HOVER_CHARS = 200

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "embeddings"


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
        notices: human-readable statements about what was changed or averaged.
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
        notices: what was adapted (e.g. t-SNE perplexity).
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
        out.append(
            f"Row {row} ({md_code(preview)}) has {int(counts[i])} tokens; {what} reads only the first "
            f"{limit}, so the rest of that text is not in its vector."
        )
    if len(truncated) > MAX_ROW_NOTICES:
        out.append(f"…and {len(truncated) - MAX_ROW_NOTICES} more row(s) were truncated at {limit} tokens.")
    return out


def _token_counts(loaded, texts: Sequence[str], add_special_tokens: bool = True) -> np.ndarray:
    """Tokens per text without truncation, ``(n,)`` int (holds ``loaded.lock``)."""
    counts = np.empty(len(texts), dtype=np.int64)
    step = 4096
    with loaded.lock:
        for start in range(0, len(texts), step):
            enc = loaded.tokenizer(
                list(texts[start:start + step]), add_special_tokens=add_special_tokens,
                truncation=False, return_attention_mask=False, verbose=False,
            )
            counts[start:start + step] = [len(ids) for ids in enc["input_ids"]]
    return counts


def _check_texts(texts: Sequence[str]) -> list[str]:
    texts = [str(t) for t in texts]
    if not texts:
        raise InputError("There is nothing to embed: the input is empty.")
    if any(not t.strip() for t in texts):
        raise InputError("Some items are blank; remove empty lines or cells first.")
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
    import torch

    texts = _check_texts(texts)
    sm = loaded.sentence_model
    if sm is None:
        raise ValueError(f"{loaded.spec.display_name} is not a sentence-transformers model.")
    limit = int(sm.max_seq_length)
    counts = _token_counts(loaded, texts)
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
        with loaded.lock, torch.inference_mode():
            vecs = sm.encode([uniq_texts[i] for i in idx], batch_size=batch_size,
                             convert_to_numpy=True, show_progress_bar=False)
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
        notices.append(f"{dupes} repeated text(s) were encoded once and share a point position.")
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
        raise InputError(f"Layer must be between 0 and {n_layers} for {loaded.spec.display_name}.")
    ctx = int(getattr(loaded, "context_length", max_tokens) or max_tokens)
    limit = min(int(max_tokens), ctx)
    counts = _token_counts(loaded, texts)
    truncated = [int(i) for i in np.flatnonzero(counts > limit)]
    order = np.argsort(-counts, kind="stable")
    hidden = int(getattr(loaded.model.config, "hidden_size", 0) or loaded.model.config.n_embd)
    out = np.empty((len(texts), hidden), dtype=np.float32)
    if progress:
        progress(0.0)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        with loaded.lock, torch.inference_mode():
            enc = loaded.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                   max_length=limit, padding_side="right", return_tensors="pt")
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
    with loaded.lock, torch.inference_mode():
        enc = loaded.tokenizer(list(words), add_special_tokens=False, return_attention_mask=False)
        for i, ids in enumerate(enc["input_ids"]):
            if not ids:
                raise InputError(f"{md_code(words[i])} produced no token for {loaded.spec.display_name}.")
            vectors[i] = matrix[torch.tensor(ids)].mean(dim=0).float().numpy()
            counts[i] = len(ids)
            pieces.append(token_labels(loaded.tokenizer, ids))
    multi = [i for i in range(len(words)) if counts[i] > 1]
    notices = []
    if multi:
        examples = "; ".join(f"{md_code(words[i])} → {md_code(' + '.join(pieces[i]))}" for i in multi[:5])
        more = f" (and {len(multi) - 5} more)" if len(multi) > 5 else ""
        notices.append(
            f"{len(multi)} of {len(words)} item(s) are several tokens for this tokenizer; each one's "
            f"vector is the average of its token rows: {examples}{more}."
        )
    long = [i for i in range(len(words)) if len(words[i].split()) > 3]
    if long:
        notices.append(
            f"{len(long)} item(s) look like sentences, not words: token embeddings ignore word order "
            "and context. Use sentence embeddings or hidden states for sentences."
        )
    return Embeddings(vectors=vectors, method=WORD, model_key=loaded.spec.key,
                      token_counts=counts, notices=notices, pieces=pieces)


# --------------------------------------------------------------------------- projection
def _check_matrix(vectors: np.ndarray, dims: int, what: str) -> np.ndarray:
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InputError("There are no embeddings to project.")
    if dims not in (2, 3):
        raise InputError("Choose a 2-D or 3-D map.")
    if not np.isfinite(X).all():
        bad = int((~np.isfinite(X).all(axis=1)).sum())
        raise InputError(f"{bad} embedding(s) contain NaN or infinite values; they cannot be projected.")
    n = X.shape[0]
    if n <= dims:
        raise InputError(
            f"A {dims}-D {what} needs at least {dims + 1} items (you have {n}): {n} points span at most "
            f"{n - 1} direction(s). Add items or choose {'2-D' if dims == 3 and n >= 3 else 'more items'}."
        )
    var = X.var(axis=0).sum()
    scale = float((X ** 2).mean()) if X.size else 0.0
    if not var > 1e-12 * max(scale, 1e-30):
        raise InputError(
            "All items have the same embedding (e.g. identical texts), so there is no variance "
            "to project. Add different items."
        )
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

    X = _check_matrix(vectors, dims, "PCA map")
    n, d = X.shape
    m = min(10, n - 1, d)
    full = SkPCA(n_components=max(m, dims), random_state=0).fit(X)
    ratios = np.asarray(full.explained_variance_ratio_, dtype=np.float64)
    if not np.isfinite(ratios).all() or ratios[dims - 1] < 1e-9:
        raise InputError(
            f"The items vary along fewer than {dims} independent directions (PC{dims} explains "
            f"{100 * max(0.0, float(np.nan_to_num(ratios[dims - 1]))):.1f}% of the variance), e.g. many "
            f"identical texts. Add more varied items{' or choose 2-D' if dims == 3 else ''}."
        )
    pca = SkPCA(n_components=dims, random_state=0).fit(X)
    coords = pca.transform(X).astype(np.float32)
    return Projection(coords=coords, method=PCA,
                      explained_variance_ratio_=np.asarray(pca.explained_variance_ratio_),
                      pca=pca, scree=ratios[:m])


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
    from sklearn.manifold import TSNE

    X = _check_matrix(vectors, dims, "t-SNE map")
    n = X.shape[0]
    if n < 5:
        raise InputError(f"t-SNE needs at least 5 items (you have {n}); use PCA.")
    if n > TSNE_MAX_ITEMS:
        raise InputError(
            f"t-SNE is limited to {TSNE_MAX_ITEMS:,} items here (you have {n:,}): it would take minutes "
            "on this CPU. Use PCA, or search/sample fewer items."
        )
    perp = tsne_perplexity(n, perplexity)
    notices = []
    if perp != perplexity:
        notices.append(f"t-SNE perplexity set to {perp:.1f} (it must stay below the {n} items).")
    model = TSNE(n_components=dims, perplexity=perp, init="pca", metric="cosine",
                 random_state=seed, max_iter=500)
    coords = model.fit_transform(X.astype(np.float32)).astype(np.float32)
    return Projection(coords=coords, method=TSNE, notices=notices)


def project(vectors: np.ndarray, method: str = PCA, dims: int = 2, perplexity: float = 30.0) -> Projection:
    """Dispatch to :func:`pca_project` or :func:`tsne_project`."""
    if method == PCA:
        return pca_project(vectors, dims)
    if method == TSNE:
        return tsne_project(vectors, dims, perplexity)
    raise ValueError(f"Unknown projection {method!r}")


def project_query(projection: Projection, vector: np.ndarray) -> np.ndarray | None:
    """Place a new embedding on an existing PCA map: ``pca.transform`` =
    ``(x - mean_) @ components_.T``, ``(dims,)`` float32. None for t-SNE (no transform)."""
    if projection.method != PCA or projection.pca is None:
        return None
    x = np.asarray(vector, dtype=np.float64).reshape(1, -1)
    return projection.pca.transform(x)[0].astype(np.float32)


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
            raise InputError(f"The query vector has {q.shape[0]} dimensions; the map has {X.shape[1]}.")
    if not np.isfinite(q).all() or not np.any(q):
        raise InputError("The query has no usable embedding (zero or not finite).")
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
def sample_items(n: int, cap: int = MAX_ITEMS, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Indices to keep: all when ``n <= cap``, else a sorted random sample of ``cap``
    (seeded, so the same input gives the same sample), with a notice."""
    if n <= cap:
        return np.arange(n), []
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(n, size=cap, replace=False))
    return keep, [f"{n:,} items is above the {cap:,}-item cap: a random sample of {cap:,} is shown "
                  "(same sample every time for the same input)."]


def matches(texts: Sequence[str], query: str) -> np.ndarray:
    """Boolean mask of texts containing ``query`` (case-insensitive substring; blank = none)."""
    q = (query or "").strip().casefold()
    if not q:
        return np.zeros(len(texts), dtype=bool)
    return np.fromiter((q in t.casefold() for t in texts), dtype=bool, count=len(texts))


# --------------------------------------------------------------------------- example sets
@dataclass(frozen=True)
class ExampleSet:
    """A shipped example file (``data/embeddings/<name>.txt``, lines ``text | label``)."""

    name: str
    title: str
    kind: str  # "sentences" or "words": which embedding method suits it
    path: Path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def frame(self) -> pd.DataFrame:
        """Columns ``text``, ``label`` (comment lines starting with ``#`` skipped)."""
        body = "\n".join(line for line in self.text().splitlines() if not line.lstrip().startswith("#"))
        return parse_labelled_lines(body)[0]


EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("sentences_topics", "Short sentences across 6 topics (sport, food, weather, tech, finance, 中文)", "sentences"),
    ("words_primer", "The primer's words: dog, cat, run, house (+ a few neighbours)", "words"),
    ("words_groups", "Word groups: animals, verbs, buildings, colours, numbers, 中文 words", "words"),
    ("sentences_paraphrases", "Paraphrase pairs (each sentence has a twin)", "sentences"),
)


def example_sets() -> list[ExampleSet]:
    """The shipped example sets that exist on disk, in display order."""
    return [ExampleSet(name, title, kind, DATA_DIR / f"{name}.txt")
            for name, title, kind in EXAMPLES if (DATA_DIR / f"{name}.txt").is_file()]


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
