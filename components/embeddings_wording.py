"""The embedding explorer's shipped example sets worded in a UI language
(``locales/<lang>/embeddings.toml``: ``sets.<name>.title`` / ``.label``, ``set_labels.<word>``).

UI side of the message contract (:mod:`components.messages`): :mod:`components.embeddings`
reads the shipped files with their labels as written (English words that serve as ids); these
functions give the page, its legend and its report the set's title, legend title and labels in
the session's language. Labels users type or upload are never translated. No streamlit.
"""
from __future__ import annotations

import pandas as pd

from components import i18n
from components.embeddings import ExampleSet


def set_title(example: ExampleSet, lang: str) -> str:
    """Display title of a shipped example set in ``lang``."""
    return i18n.translate(lang, f"embeddings.sets.{example.name}.title")


def set_label_title(example: ExampleSet, lang: str) -> str:
    """What the labels of a shipped example set are (the legend title), in ``lang``."""
    return i18n.translate(lang, f"embeddings.sets.{example.name}.label")


def set_label(label: str, lang: str) -> str:
    """A shipped example set's label in ``lang``: ``embeddings.set_labels.<word>``, a trailing
    number kept ("food 1" -> "美食 1"). Only for the shipped files; a word without a string
    stays as written."""
    word, sep, number = label.rpartition(" ")
    if not (sep and number.isdigit()):
        word, number = label, ""
    shown = i18n.strings(lang).get(f"embeddings.set_labels.{word}", word)
    return f"{shown} {number}" if number else shown


def set_frame(example: ExampleSet, lang: str) -> pd.DataFrame:
    """:meth:`ExampleSet.frame` (columns ``text``, ``label``) with the labels in ``lang``."""
    frame = example.frame()
    frame["label"] = [set_label(label, lang) for label in frame["label"]]
    return frame
