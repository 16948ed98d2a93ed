"""Embeddings to a 2-D/3-D map: PCA (linear) or t-SNE (non-linear), and new points on a PCA map.

scikit-learn ``PCA`` (with ``explained_variance_ratio_`` and a scree of the first components)
and ``TSNE`` (PCA init, cosine metric, perplexity adapted to the item count, after van der
Maaten & Hinton 2008). Identical rows are projected once and share their point.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from components.embeddings.inputs import EmbeddingInputError
from components.messages import Message

PCA = "pca"
TSNE = "tsne"
TSNE_MAX_ITEMS = 3_000      # t-SNE is O(n log n) per iteration but slow on 2 CPU cores


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
