"""The embedding explorer's input error and the text helpers its modules share.

:class:`EmbeddingInputError` (a :class:`components.textio.InputError` whose ``message`` is an
``embeddings.msg.*`` :class:`components.messages.Message`), user text as a literal markdown
code span (CommonMark code-span rules) and a sha256 digest of a text list for cache keys.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence

from components.textio import InputError


class EmbeddingInputError(InputError):
    """Unusable input; ``message`` is an ``embeddings.msg.*`` code (:mod:`components.messages`)."""


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
