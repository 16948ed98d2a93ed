"""Nearest neighbours by cosine similarity in the full embedding space (never in the map).

``cos(x, q) = x.q / (|x||q|)`` on L2-normalised rows (numpy); the k nearest items of one item
or a new vector, and each item's single nearest other item in memory-bounded chunks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from components.embeddings.inputs import EmbeddingInputError


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
