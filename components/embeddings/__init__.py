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

Modules, by responsibility (their public names are re-exported here for callers):

* :mod:`~components.embeddings.inputs`: :class:`EmbeddingInputError`, literal markdown for user
  text, the texts' digest;
* :mod:`~components.embeddings.vectors`: the three embedding methods (:class:`Embeddings`);
* :mod:`~components.embeddings.projection`: PCA / t-SNE maps (:class:`Projection`), new points
  on a PCA map;
* :mod:`~components.embeddings.neighbours`: cosine similarity and nearest neighbours;
* :mod:`~components.embeddings.items`: shipped example sets, text-area lines, sampling, search;
* :mod:`~components.embeddings.results`: one map as JSON-able data, its tables, summary facts,
  tokenizer coverage and the clicked item.
"""
from __future__ import annotations

from components.embeddings.inputs import (
    EmbeddingInputError,
    md_code,
    texts_digest,
)
from components.embeddings.items import (
    DATA_DIR,
    EXAMPLES,
    HOVER_CHARS,
    LINE_BREAKS,
    MAX_ITEMS,
    ExampleSet,
    compose_lines,
    example_sets,
    hover_text,
    matches,
    sample_items,
)
from components.embeddings.neighbours import (
    cosine_similarities,
    nearest_for_all,
    nearest_neighbours,
    normalise_rows,
)
from components.embeddings.projection import (
    PCA,
    TSNE,
    TSNE_MAX_ITEMS,
    Projection,
    pca_project,
    project,
    project_query,
    tsne_perplexity,
    tsne_project,
    unique_rows,
)
from components.embeddings.results import (
    map_result,
    neighbours_frame,
    points_frame,
    selected_item,
    summary_stats,
    text_coverage,
)
from components.embeddings.vectors import (
    HIDDEN,
    HIDDEN_MAX_TOKENS,
    MAX_ROW_NOTICES,
    METHODS,
    SENTENCE,
    WORD,
    Embeddings,
    Progress,
    encode_sentences,
    hidden_state_embeddings,
    num_layers,
    word_embeddings,
)
from components.textio import parse_labelled_lines  # the text-area format, read where the items are

__all__ = [
    "DATA_DIR",
    "EXAMPLES",
    "EmbeddingInputError",
    "Embeddings",
    "ExampleSet",
    "HIDDEN",
    "HIDDEN_MAX_TOKENS",
    "HOVER_CHARS",
    "LINE_BREAKS",
    "MAX_ITEMS",
    "MAX_ROW_NOTICES",
    "METHODS",
    "PCA",
    "Progress",
    "Projection",
    "SENTENCE",
    "TSNE",
    "TSNE_MAX_ITEMS",
    "WORD",
    "compose_lines",
    "cosine_similarities",
    "encode_sentences",
    "example_sets",
    "hidden_state_embeddings",
    "hover_text",
    "map_result",
    "matches",
    "md_code",
    "nearest_for_all",
    "nearest_neighbours",
    "neighbours_frame",
    "normalise_rows",
    "num_layers",
    "parse_labelled_lines",
    "pca_project",
    "points_frame",
    "project",
    "project_query",
    "sample_items",
    "selected_item",
    "summary_stats",
    "text_coverage",
    "texts_digest",
    "tsne_perplexity",
    "tsne_project",
    "unique_rows",
    "word_embeddings",
]
