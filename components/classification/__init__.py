"""Text classification without and with training: zero-shot labels and a trainable head.

Pure logic (numpy / torch / scikit-learn / pandas); no streamlit. Three methods:

* **Zero-shot by embedding similarity** (bundled all-MiniLM-L6-v2): every label becomes a
  hypothesis ``template.format(label)`` ("This text is about sports."); the text and the
  hypotheses are encoded (L2-normalised), and the cosine similarity text↔hypothesis scores
  the label.
* **Zero-shot by natural-language inference** (NLI models from the Hub, e.g.
  ``typeform/distilbert-base-uncased-mnli``, ``facebook/bart-large-mnli``): premise = text,
  hypothesis = ``template.format(label)``; the model's entailment logit scores the label.
  Same maths as the transformers ``zero-shot-classification`` pipeline (Yin et al. 2019).
* **Train your own** (fine-tuning made tangible): a logistic-regression head
  (scikit-learn) trained on *frozen* MiniLM embeddings, with stratified cross-validation.

Single-label vs multi-label:
  single-label scores are a distribution over the labels (they sum to 1: "which one?");
  multi-label scores are independent probabilities in [0, 1] per label ("does each apply?"),
  so they need not sum to 1. With one label a share is meaningless (it would always be 1),
  so one label is always scored independently.

Long texts: **truncate** (not chunk-and-average). MiniLM reads at most
``max_seq_length`` = 256 tokens (including [CLS]/[SEP]); NLI models read their own limit
(512 for DistilBERT, 1024 for BART) and only the premise is cut (``truncation="only_first"``,
as the pipeline does). Every affected text is named in a notice. Truncation keeps one
forward pass per text and is exactly what the encoder sees when used elsewhere in the app.

Every function returns its data plus ``notices`` (things it adapted), and raises
:class:`ClassificationInputError` (a :class:`components.textio.InputError`) for input it cannot use.
Notices and errors are :class:`components.messages.Message` codes (``classification.msg.*``
of ``locales/<lang>/classification.toml``) that the page translates, so results are the same
in every language and the page caches them once.

Modules, by responsibility (their public names are re-exported here for callers):

* :mod:`~components.classification.inputs`: labels, template, text batches, caps,
  :class:`ClassificationInputError` and the notice helpers;
* :mod:`~components.classification.encoder`: MiniLM sentence embeddings with truncation notices;
* :mod:`~components.classification.zero_shot`: the similarity method, :class:`ZeroShotResult`,
  score tables, ties and unreadable labels;
* :mod:`~components.classification.nli`: the NLI method;
* :mod:`~components.classification.examples`: the shipped example sets and texts;
* :mod:`~components.classification.training`: the trained head, its cross-validation and use;
* :mod:`~components.classification.records`: zero-shot results as JSON payloads and back.
"""
from __future__ import annotations

from components.classification.encoder import (
    ENCODE_BATCH,
    encode,
)
from components.classification.examples import (
    DATA_DIR,
    EXAMPLE_SETS,
    HEAD_EXAMPLE_TEXTS,
    ROOT,
    example_lines,
    load_example_set,
    zero_shot_examples,
)
from components.classification.inputs import (
    DEFAULT_TEMPLATE,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    MAX_TEMPLATE_CHARS,
    MAX_TEXT_CHARS,
    MAX_TEXTS,
    SLOT,
    ClassificationInputError,
    cap_batch,
    check_template,
    clean_texts,
    clip_chars,
    hypothesis,
    parse_labels,
)
from components.classification.nli import (
    MAX_NLI_PAIRS,
    NLI_BATCH_PAIRS,
    nli_label_ids,
    nli_limit,
    nli_logits,
    nli_scores,
    zero_shot_nli,
)
from components.classification.records import (
    PAYLOAD_COLUMNS,
    zero_shot_from_payload,
    zero_shot_payload,
)
from components.classification.training import (
    HEAD_C,
    HEAD_SEED,
    MAX_FOLDS,
    MAX_TRAIN_EXAMPLES,
    CvPlan,
    TrainResult,
    classify_with_head,
    cv_plan,
    prepare_examples,
    train_head,
)
from components.classification.zero_shot import (
    MULTI_LABEL_BIAS,
    SIMILARITY_TEMPERATURE,
    TIE_TOLERANCE,
    ZeroShotResult,
    score_column,
    semantics,
    similarity_scores,
    tie_message,
    top_ties,
    unreadable_labels,
    wide_scores,
    zero_shot_similarity,
)
from components.textio import markdown_literal

__all__ = [
    "ClassificationInputError",
    "CvPlan",
    "DATA_DIR",
    "DEFAULT_TEMPLATE",
    "ENCODE_BATCH",
    "EXAMPLE_SETS",
    "HEAD_C",
    "HEAD_EXAMPLE_TEXTS",
    "HEAD_SEED",
    "MAX_FOLDS",
    "MAX_LABELS",
    "MAX_LABEL_CHARS",
    "MAX_NLI_PAIRS",
    "MAX_TEMPLATE_CHARS",
    "MAX_TEXTS",
    "MAX_TEXT_CHARS",
    "MAX_TRAIN_EXAMPLES",
    "MULTI_LABEL_BIAS",
    "NLI_BATCH_PAIRS",
    "PAYLOAD_COLUMNS",
    "ROOT",
    "SIMILARITY_TEMPERATURE",
    "SLOT",
    "TIE_TOLERANCE",
    "TrainResult",
    "ZeroShotResult",
    "cap_batch",
    "check_template",
    "classify_with_head",
    "clean_texts",
    "clip_chars",
    "cv_plan",
    "encode",
    "example_lines",
    "hypothesis",
    "load_example_set",
    "markdown_literal",
    "nli_label_ids",
    "nli_limit",
    "nli_logits",
    "nli_scores",
    "parse_labels",
    "prepare_examples",
    "score_column",
    "semantics",
    "similarity_scores",
    "tie_message",
    "top_ties",
    "train_head",
    "unreadable_labels",
    "wide_scores",
    "zero_shot_examples",
    "zero_shot_from_payload",
    "zero_shot_nli",
    "zero_shot_payload",
    "zero_shot_similarity",
]
