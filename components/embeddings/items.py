"""The explorer's items: shipped example sets, the text area's lines, sampling, search, hover text.

Example sets are ``data/embeddings/<name>.txt`` files of ``text | label`` lines (read with
:func:`components.textio.parse_labelled_lines`); above :data:`MAX_ITEMS` items the page
keeps a seeded random sample (numpy ``default_rng``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from components.messages import Message
from components.textio import LABEL_SEP, parse_labelled_lines

MAX_ITEMS = 20_000          # above this the page samples (stated in the UI and docs/methods.md)
HOVER_CHARS = 200

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "embeddings"


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
