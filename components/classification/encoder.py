"""Sentence embeddings for classification: the bundled MiniLM through the shared probe encoder.

:func:`encode` wraps :func:`components.probe.encode` (sentence-transformers, L2-normalised,
truncated at the model's ``max_seq_length``) and names every truncated text in a notice.
"""
from __future__ import annotations

import numpy as np

from components import probe
from components.classification.inputs import truncation_notice
from components.messages import Message

ENCODE_BATCH = 32
"""Texts per MiniLM forward pass."""


def encode(loaded, texts: list[str]) -> tuple[np.ndarray, list[Message]]:
    """Unit-length sentence embeddings with the bundled sentence-transformers model.

    Args:
        loaded: a ``LoadedModel`` with ``sentence_model`` (loader sentence-transformer).
        texts: n non-empty strings.

    Returns:
        (embeddings of shape (n, d) float32 with L2 norm 1 (d = 384 for MiniLM),
        notices naming the texts truncated at ``probe.encoder_limit`` tokens).

    Raises:
        ValueError: ``loaded`` is not a sentence-transformers model.
    """
    enc = probe.encode(loaded, texts, batch_size=ENCODE_BATCH)
    notices = truncation_notice(enc.tokens.tolist(), texts, enc.limit, loaded.spec.display_name)
    return enc.vectors, notices
