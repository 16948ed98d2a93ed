"""The shipped classification examples: labelled sets for "train your own" and zero-shot texts.

Files under ``data/classification/`` (CC0): ``topics.csv`` (``text``, ``label``) and
``zero_shot_examples.txt`` (one text per line), plus the default new texts for a trained head.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "classification"

EXAMPLE_SETS = {
    "topics": ("classification.train.set_topics", "topics.csv"),
}
"""Shipped labelled sets for "train your own": key -> (i18n key of the description, file in DATA_DIR)."""
HEAD_EXAMPLE_TEXTS = (
    "The home side equalised with a header in stoppage time.",
    "Preheat the oven and grease the baking tin.",
)
"""Default new texts for the trained head (one sports, one food sentence)."""


def load_example_set(name: str = "topics") -> pd.DataFrame:
    """A shipped labelled set (``data/classification/``, CC0) as a frame with ``text``, ``label``."""
    _, filename = EXAMPLE_SETS[name]
    frame = pd.read_csv(DATA_DIR / filename, dtype=str, keep_default_na=False)
    return frame[["text", "label"]]


def example_lines(frame: pd.DataFrame) -> str:
    """``text | label`` lines (the editable text format) for a labelled frame."""
    return "\n".join(f"{t} | {l}" for t, l in zip(frame["text"], frame["label"]))


def zero_shot_examples() -> list[str]:
    """The shipped zero-shot example texts (one per line)."""
    return [l for l in (DATA_DIR / "zero_shot_examples.txt").read_text(encoding="utf-8").splitlines() if l.strip()]
