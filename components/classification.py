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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components import coverage, probe
from components.messages import Message
from components.textio import InputError, markdown_literal  # noqa: F401 - markdown_literal: re-exported

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data" / "classification"

MAX_LABELS = 20
"""Cap on labels (zero-shot) and classes (train your own): bounded memory and a readable chart."""
MAX_LABEL_CHARS = 100
"""Longest label accepted (a label is a short name, and the NLI hypothesis must fit the model)."""
MAX_TEXTS = 500
"""Cap on texts per batch (zero-shot and classify-new-text); the rest are dropped with a notice."""
MAX_TEXT_CHARS = 20_000
"""Characters of one text kept before tokenizing (the rest is cut with a notice). The encoders
read at most 256 (MiniLM) / 512-1024 (NLI) tokens, i.e. a few thousand characters of prose, so
the cut changes nothing the model sees in practice and bounds tokenizer time for 100 000-character
pastes."""
MAX_TEMPLATE_CHARS = 300
"""Longest hypothesis template (one short sentence)."""
MAX_TRAIN_EXAMPLES = 2000
"""Cap on training examples (encoding them takes about 2 s per 100 on a laptop CPU)."""
MAX_NLI_PAIRS = 2000
"""Cap on (text, label) pairs for an NLI run: each pair is one forward pass of the model."""
NLI_BATCH_PAIRS = 16
"""Pairs per NLI forward pass (bounded activation memory, ~1.6 GB peak for BART-large at 512 tokens)."""
ENCODE_BATCH = 32
"""Texts per MiniLM forward pass."""

DEFAULT_TEMPLATE = "This text is about {}."
"""Hypothesis template; the transformers pipeline default is "This example is {}."."""

SIMILARITY_TEMPERATURE = 0.05
"""Temperature of the single-label softmax over cosine similarities: p = softmax(cos / 0.05).

Source: all-MiniLM-L6-v2 was trained with sentence-transformers'
``MultipleNegativesRankingLoss``, which is a softmax over ``scale * cos`` with
``scale = 20`` (= 1 / 0.05). Using the training temperature turns cosines into the same kind
of distribution the encoder was optimised for. Measured on the shipped topics set with the
default template: matching hypotheses have cosine 0.19 ± 0.07, the others 0.00 ± 0.05,
so a 0.19 gap becomes a probability ratio of e^(0.19/0.05) ≈ 45.
"""
MULTI_LABEL_BIAS = 0.10
"""Cosine at which a label gets probability 0.5 in multi-label mode:
p = sigmoid((cos - 0.10) / 0.05).

Source: measured on ``data/classification/topics.csv`` (60 texts x 4 labels, default
template): the threshold that best separates matching from non-matching hypotheses is
0.09 (96.7 % of pairs right), midway between their mean cosines (0.19 and 0.00).
A heuristic calibration for MiniLM with short templates, not a trained one: cosines of
other encoders or very different templates live on other scales.
"""

HEAD_C = 10.0
"""Inverse L2 strength of the logistic-regression head. Unit-length 384-d embeddings have
features of size ~0.05, so sklearn's default C=1 shrinks the weights until every
probability is close to uniform; C=10 keeps cross-validated accuracy and gives readable
probabilities."""
HEAD_SEED = 0
"""Fixed ``random_state`` for the head and for the cross-validation shuffle (reproducible)."""
MAX_FOLDS = 5

EXAMPLE_SETS = {
    "topics": ("classification.train.set_topics", "topics.csv"),
}
"""Shipped labelled sets for "train your own": key -> (i18n key of the description, file in DATA_DIR)."""
HEAD_EXAMPLE_TEXTS = (
    "The home side equalised with a header in stoppage time.",
    "Preheat the oven and grease the baking tin.",
)
"""Default new texts for the trained head (one sports, one food sentence)."""
SLOT = "{}"
"""The template placeholder, passed into messages as a value (``{slot}``)."""
TIE_TOLERANCE = 1e-6
"""Scores closer than this to a text's top score tie with it. Labels that reach the model as
the same tokens (e.g. emoji that MiniLM's WordPiece vocabulary maps to ``[UNK]``) get bitwise
equal embeddings, hence equal scores; 1e-6 only absorbs float32 rounding, far below the
3 decimals the page shows."""


class ClassificationInputError(InputError):
    """Input the classifiers cannot use; ``message`` is a ``classification.msg.*`` code."""


def _m(name: str, **params) -> Message:
    """Message ``classification.msg.<name>`` with ``params``."""
    return Message(f"classification.msg.{name}", params)


def _more(n_named: int) -> Message | str:
    # the first 10 affected texts are named; the rest are counted
    return _m("and_more", n=n_named - 10) if n_named > 10 else ""


def _quoted(items) -> str:
    return ", ".join(repr(str(i)) for i in items)


# --------------------------------------------------------------------------- inputs
def parse_labels(raw: str, max_labels: int = MAX_LABELS) -> tuple[list[str], list[Message]]:
    """Labels from a comma-separated string.

    Trims each label, drops blanks (",,", trailing commas) and case-insensitive duplicates
    (the first spelling is kept), keeps at most ``max_labels``.

    Returns:
        (labels in input order, notices about what was dropped).

    Raises:
        InputError: no label left, or a label longer than ``MAX_LABEL_CHARS`` characters.
    """
    parts = [p.strip() for p in (raw or "").split(",")]
    notices: list[Message] = []
    labels: list[str] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    blanks = sum(1 for p in parts if not p)
    for part in parts:
        if not part:
            continue
        folded = part.casefold()
        if folded in seen:
            duplicates.append(part)
            continue
        seen.add(folded)
        labels.append(part)
    if not labels:
        raise ClassificationInputError("classification.msg.no_labels")
    too_long = [l for l in labels if len(l) > MAX_LABEL_CHARS]
    if too_long:
        raise ClassificationInputError("classification.msg.label_too_long", max=MAX_LABEL_CHARS, n=len(too_long[0]))
    if blanks and len(parts) > 1:
        notices.append(_m("empty_labels", n=blanks))
    if duplicates:
        notices.append(_m("duplicate_labels", labels=_quoted(duplicates)))
    if len(labels) > max_labels:
        notices.append(_m("too_many_labels", n=len(labels), max=max_labels,
                           dropped=_quoted(labels[max_labels:])))
        labels = labels[:max_labels]
    return labels, notices


def check_template(template: str) -> str:
    """Validate a hypothesis template: it must contain ``{}`` exactly once and be at most
    ``MAX_TEMPLATE_CHARS`` characters long.

    Returns:
        the template unchanged.

    Raises:
        InputError: no ``{}``, more than one, other braces that ``str.format`` would
            misread (e.g. ``{label}``), or too long.
    """
    template = template or ""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise ClassificationInputError("classification.msg.template_too_long", n=len(template), max=MAX_TEMPLATE_CHARS)
    count = template.count(SLOT)
    if count == 0:
        raise ClassificationInputError("classification.msg.template_no_slot", slot=SLOT, example=DEFAULT_TEMPLATE)
    if count > 1:
        raise ClassificationInputError("classification.msg.template_twice", slot=SLOT, n=count)
    rest = template.replace(SLOT, "")
    if "{" in rest or "}" in rest:
        raise ClassificationInputError("classification.msg.template_braces", slot=SLOT)
    return template


def hypothesis(template: str, label: str) -> str:
    """``template`` with ``label`` in its placeholder (``str.format``)."""
    return template.format(label)


def cap_batch(items: list, max_texts: int = MAX_TEXTS) -> tuple[list, list[Message]]:
    """The first ``max_texts`` items of a batch, with a notice when more were given."""
    if len(items) <= max_texts:
        return list(items), []
    return list(items[:max_texts]), [_m("texts_capped", n=len(items), max=max_texts)]


def clip_chars(texts: list[str], max_chars: int = MAX_TEXT_CHARS) -> tuple[list[str], list[Message]]:
    """Cut every text to its first ``max_chars`` characters (before tokenizing).

    Returns:
        (texts, notices naming the cut texts by 1-based position).
    """
    over = [i for i, t in enumerate(texts) if len(t) > max_chars]
    if not over:
        return list(texts), []
    named = [_m("named_chars", i=i + 1, preview=_preview(texts[i]), n=len(texts[i])) for i in over[:10]]
    return ([t[:max_chars] for t in texts],
            [_m("text_clipped", n=len(over), max=max_chars, named=named, more=_more(len(over)))])


def clean_texts(texts: list[str], max_texts: int = MAX_TEXTS) -> tuple[list[str], list[Message]]:
    """Drop empty/whitespace texts, cap the count (``max_texts``) and each text's length
    (``MAX_TEXT_CHARS``).

    Returns:
        (texts stripped of surrounding whitespace, notices).

    Raises:
        InputError: nothing but blank text.
    """
    texts = [str(t) for t in texts]
    kept = [t.strip() for t in texts if t.strip()]
    if not kept:
        raise ClassificationInputError("classification.msg.text_empty")
    notices = []
    if len(kept) < len(texts):
        notices.append(_m("texts_blank", n=len(texts) - len(kept)))
    kept, capped = cap_batch(kept, max_texts)
    kept, clipped = clip_chars(kept, MAX_TEXT_CHARS)
    return kept, notices + capped + clipped


def _preview(text: str, n: int = 40) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= n else one_line[: n - 1] + "…"


def _truncation_notice(lengths: list[int], texts: list[str], limit: int, what: str | Message) -> list[Message]:
    over = [i for i, n in enumerate(lengths) if n > limit]
    if not over:
        return []
    named = [_m("named_tokens", i=i + 1, preview=_preview(texts[i]), n=lengths[i]) for i in over[:10]]
    return [_m("truncated", n=len(over), limit=limit, model=what, named=named, more=_more(len(over)))]


# --------------------------------------------------------------------------- encoder
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
    notices = _truncation_notice(enc.tokens.tolist(), texts, enc.limit, loaded.spec.display_name)
    return enc.vectors, notices


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# --------------------------------------------------------------------------- zero-shot
@dataclass
class ZeroShotResult:
    """Scores of every (text, label) pair.

    Attributes:
        scores: tidy frame, one row per (text, label): ``text_id`` (0-based), ``text``,
            ``label``, ``hypothesis``, ``raw`` (cosine similarity, or entailment logit for
            NLI), ``score`` (probability in [0, 1]), ``rank`` (1 = best label for that text).
        method: "similarity" or "nli".
        multi_label: True when scores are independent per label (also forced for one label).
        labels: the labels, in input order.
        notices: adaptations (truncation, one label ...).
        semantics: one line saying what the scores mean.
    """

    scores: pd.DataFrame
    method: str
    multi_label: bool
    labels: list[str]
    notices: list[Message] = field(default_factory=list)
    semantics: Message | None = None

    def wide(self) -> pd.DataFrame:
        """One row per text: ``text``, ``top_label``, ``top_score`` and one column
        ``p(<label>)`` per label (its score), labels in input order -- the CSV download format."""
        return wide_scores(self.scores, self.labels)


def wide_scores(scores: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Pivot a tidy ``scores`` frame (``text_id``, ``text``, ``label``, ``score``) to one row per text."""
    pivot = scores.pivot(index="text_id", columns="label", values="score")[labels]
    texts = scores.drop_duplicates("text_id").set_index("text_id")["text"]
    top = scores[scores["rank"] == 1].set_index("text_id")
    out = pd.DataFrame({"text": texts, "top_label": top["label"], "top_score": top["score"]})
    for label in labels:
        out[score_column(label)] = pivot[label]
    return out.reset_index(drop=True)


def score_column(label: str) -> str:
    """Column name of a label's score in wide tables: ``p(label)`` (never collides with
    ``text``/``top_label``/``top_score``/``row``, whatever the user calls a label)."""
    return f"p({label})"


def semantics(multi_label: bool, n_labels: int) -> Message:
    """One line saying what the scores mean (one label / multi-label / single-label)."""
    if n_labels == 1:
        return _m("semantics_one")
    return _m("semantics_multi" if multi_label else "semantics_single")


def _tidy(texts, labels, hyps, raw: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """(n_texts, n_labels) arrays -> tidy frame with ranks."""
    n, k = raw.shape
    ranks = np.empty_like(scores, dtype=int)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks[np.arange(n)[:, None], order] = np.arange(1, k + 1)[None, :]
    return pd.DataFrame({
        "text_id": np.repeat(np.arange(n), k),
        "text": np.repeat(np.asarray(texts, dtype=object), k),
        "label": labels * n,
        "hypothesis": hyps * n,
        "raw": raw.reshape(-1).astype(float),
        "score": scores.reshape(-1).astype(float),
        "rank": ranks.reshape(-1),
    })


def similarity_scores(cosine: np.ndarray, multi_label: bool,
                      temperature: float = SIMILARITY_TEMPERATURE,
                      bias: float = MULTI_LABEL_BIAS) -> np.ndarray:
    """Map cosine similarities (n_texts, n_labels) to probabilities of the same shape.

    Single-label (and k > 1): ``softmax(cos / temperature)`` over the labels (rows sum to 1).
    Multi-label or one label: ``sigmoid((cos - bias) / temperature)`` per label, independent.
    See ``SIMILARITY_TEMPERATURE`` and ``MULTI_LABEL_BIAS`` for the sources of the constants.
    """
    cosine = np.asarray(cosine, dtype=np.float64)
    if multi_label or cosine.shape[1] == 1:
        return _sigmoid((cosine - bias) / temperature)
    return _softmax(cosine / temperature, axis=1)


def zero_shot_similarity(loaded, texts: list[str], labels: list[str],
                         template: str = DEFAULT_TEMPLATE, multi_label: bool = False) -> ZeroShotResult:
    """Zero-shot classification by cosine similarity of sentence embeddings.

    Args:
        loaded: the bundled MiniLM ``LoadedModel`` (any sentence-transformers model works).
        texts: n texts (blank ones dropped, see :func:`clean_texts`).
        labels: k >= 1 labels (see :func:`parse_labels`).
        template: hypothesis template with one ``{}``.
        multi_label: independent probabilities per label instead of a distribution.

    Returns:
        :class:`ZeroShotResult` with ``raw`` = cosine in [-1, 1] and ``score`` from
        :func:`similarity_scores`.

    Raises:
        InputError: empty texts, no labels, bad template.
    """
    template = check_template(template)
    if not labels:
        raise ClassificationInputError("classification.msg.no_labels")
    texts, notices = clean_texts(texts)
    hyps = [hypothesis(template, l) for l in labels]
    text_emb, trunc = encode(loaded, texts)     # (n, d)
    hyp_emb, _ = encode(loaded, hyps)            # (k, d)
    cosine = text_emb @ hyp_emb.T                      # (n, k), unit vectors -> cosine
    multi = multi_label or len(labels) == 1
    scores = similarity_scores(cosine, multi)
    notices += trunc + unreadable_labels(loaded, labels)
    if len(labels) == 1:
        notices.append(semantics(True, 1))
    return ZeroShotResult(_tidy(texts, labels, hyps, cosine, scores), "similarity", multi, list(labels),
                          notices, semantics(multi, len(labels)))


def unreadable_labels(loaded, labels: list[str]) -> list[Message]:
    """A notice naming the labels the model cannot read, or ``[]``.

    A label is unreadable when under :data:`components.coverage.MIN_KNOWN` of its characters
    reach the model as known tokens (:func:`components.coverage.model_coverage`, which holds
    ``loaded.tokenizer_lock``): with a WordPiece tokenizer such a label is mostly ``[UNK]``,
    so labels made of unknown characters (``😀``, ``😡``) give the same hypothesis tokens and
    exactly the same score. Byte-level tokenizers read every label.

    Returns:
        ``[Message("classification.msg.labels_unreadable", labels, unknown, model)]`` or ``[]``.
    """
    bad, pieces = [], []
    for label in labels:
        cov = coverage.model_coverage(loaded, label)
        if not cov.meaningful:
            bad.append(label)
            pieces += cov.unknown
    if not bad:
        return []
    unknown = " ".join(list(dict.fromkeys(pieces))[: coverage.MAX_SHOWN])
    return [_m("labels_unreadable", labels=_quoted(bad), n=len(bad), unknown=unknown,
               model=loaded.spec.display_name)]


def top_ties(scores: pd.DataFrame, tolerance: float = TIE_TOLERANCE) -> dict[int, list[str]]:
    """Texts whose best score is shared by several labels.

    Args:
        scores: tidy frame with ``text_id``, ``label``, ``score`` (as :class:`ZeroShotResult`).
        tolerance: see :data:`TIE_TOLERANCE`.

    Returns:
        ``{text_id: [labels tied at the top, in rank order]}`` for texts with >= 2 such labels.
    """
    out: dict[int, list[str]] = {}
    for text_id, group in scores.groupby("text_id", sort=True):
        ordered = group.sort_values("rank" if "rank" in group.columns else "score",
                                    ascending="rank" in group.columns, kind="stable")
        best = float(ordered["score"].max())
        tied = [str(l) for l, s in zip(ordered["label"], ordered["score"]) if best - float(s) <= tolerance]
        if len(tied) > 1:
            out[int(text_id)] = tied
    return out


def tie_message(scores: pd.DataFrame, text_id: int, row: int,
                ties: dict[int, list[str]] | None = None) -> Message | None:
    """``classification.msg.tie`` for one text whose top labels tie (see :func:`top_ties`), or
    None when it has a single best label. ``row``: the text's 1-based row, for the message;
    ``ties``: :func:`top_ties` of ``scores`` when the caller has it already (else computed for
    this text only)."""
    if ties is None:
        ties = top_ties(scores[scores["text_id"] == text_id])
    tied = ties.get(int(text_id))
    if not tied:
        return None
    best = float(scores.loc[scores["text_id"] == text_id, "score"].max())
    return _m("tie", row=row, labels=_quoted(tied), n=len(tied), score=f"{best:.4f}")


def nli_label_ids(config) -> tuple[int, int]:
    """(entailment index, contradiction index) of an NLI classifier's logits.

    Labels are matched case-insensitively by prefix ("entail...", "contradict...") in
    ``config.label2id`` (then ``id2label``), as the transformers pipeline does. When no label
    starts with "contradict", the pipeline's rule is used: index 0, or the last index when
    entailment is 0.

    Raises:
        InputError: the model has no entailment label (it is not an NLI model).
    """
    pairs: dict[str, int] = {}
    for label, idx in (getattr(config, "label2id", None) or {}).items():
        pairs[str(label).lower()] = int(idx)
    if not any(k.startswith("entail") for k in pairs):
        for idx, label in (getattr(config, "id2label", None) or {}).items():
            pairs[str(label).lower()] = int(idx)
    entail = next((i for l, i in pairs.items() if l.startswith("entail")), None)
    if entail is None:
        raise ClassificationInputError("classification.msg.nli_no_entailment", labels=", ".join(sorted(pairs)))
    contra = next((i for l, i in pairs.items() if l.startswith("contradict")), None)
    if contra is None:
        contra = (int(config.num_labels) - 1) if entail == 0 else 0
    return entail, contra


def nli_limit(loaded) -> int:
    """Tokens the NLI model reads per (premise, hypothesis) pair."""
    limit = int(loaded.context_length)
    tok_max = getattr(loaded.tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < 100_000:
        limit = min(limit, tok_max)
    return limit


def nli_logits(loaded, texts: list[str], hyps: list[str]) -> tuple[np.ndarray, list[Message]]:
    """Raw logits of every (premise=text, hypothesis) pair.

    Pairs are run in batches of ``NLI_BATCH_PAIRS``, each forward pass under ``loaded.lock``
    (tokenizing under ``loaded.tokenizer_lock``); premises are
    truncated to fit (``truncation="only_first"``), hypotheses never are.

    Returns:
        (logits of shape (n_texts, n_hyps, n_classes) float64, truncation notices).
    """
    import torch

    limit = nli_limit(loaded)
    pairs = [(t, h) for t in texts for h in hyps]
    longest_hyp = max(hyps, key=len)
    chunks = []
    with loaded.tokenizer_lock:
        lengths = [len(loaded.tokenizer(t, longest_hyp, split_special_tokens=True, verbose=False)["input_ids"]) for t in texts]
    for start in range(0, len(pairs), NLI_BATCH_PAIRS):
        batch = pairs[start:start + NLI_BATCH_PAIRS]
        with loaded.tokenizer_lock:
            enc = loaded.tokenizer(
                [p for p, _ in batch], [h for _, h in batch], padding=True,
                truncation="only_first", max_length=limit, return_tensors="pt",
                split_special_tokens=True,  # a typed "[SEP]" stays text
            )
        with loaded.lock, torch.inference_mode():
            out = loaded.model(**enc)
        chunks.append(out.logits.float().cpu().numpy())   # (b, n_classes)
    logits = np.concatenate(chunks).astype(np.float64).reshape(len(texts), len(hyps), -1)
    return logits, _truncation_notice(lengths, texts, limit,
                                      _m("nli_pair_what", model=loaded.spec.display_name))


def nli_scores(logits: np.ndarray, entail: int, contra: int, multi_label: bool) -> np.ndarray:
    """Probabilities (n_texts, n_labels) from NLI logits (n_texts, n_labels, n_classes).

    Exactly the transformers ``zero-shot-classification`` postprocess:
    single-label (k > 1): softmax of the entailment logits across labels (rows sum to 1);
    multi-label or one label: per label, softmax over (contradiction, entailment) logits,
    keep P(entailment) -- the neutral logit is ignored.
    """
    if multi_label or logits.shape[1] == 1:
        pair = logits[..., [contra, entail]]                 # (n, k, 2)
        return _softmax(pair, axis=-1)[..., 1]
    return _softmax(logits[..., entail], axis=1)


def zero_shot_nli(loaded, texts: list[str], labels: list[str],
                  template: str = DEFAULT_TEMPLATE, multi_label: bool = False) -> ZeroShotResult:
    """Zero-shot classification with an NLI sequence classifier (premise = text).

    Args:
        loaded: a ``LoadedModel`` of loader sequence-classification with an entailment label.
        texts, labels, template, multi_label: as in :func:`zero_shot_similarity`.

    Returns:
        :class:`ZeroShotResult` with ``raw`` = entailment logit and ``score`` from
        :func:`nli_scores`.

    Raises:
        InputError: empty texts, no labels, bad template, too many pairs, not an NLI model.
    """
    template = check_template(template)
    if not labels:
        raise ClassificationInputError("classification.msg.no_labels")
    entail, contra = nli_label_ids(loaded.model.config)
    texts, notices = clean_texts(texts)
    max_texts = max(1, MAX_NLI_PAIRS // len(labels))
    if len(texts) > max_texts:
        notices.append(_m("nli_pairs_capped", k=len(labels), n=max_texts, max=MAX_NLI_PAIRS))
        texts = texts[:max_texts]
    hyps = [hypothesis(template, l) for l in labels]
    logits, trunc = nli_logits(loaded, texts, hyps)
    multi = multi_label or len(labels) == 1
    scores = nli_scores(logits, entail, contra, multi)
    notices += trunc + unreadable_labels(loaded, labels)
    if len(labels) == 1:
        notices.append(semantics(True, 1))
    return ZeroShotResult(_tidy(texts, labels, hyps, logits[..., entail], scores), "nli", multi,
                          list(labels), notices, semantics(multi, len(labels)))


# --------------------------------------------------------------------------- train your own
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


@dataclass
class CvPlan:
    """How the head will be evaluated: ``folds`` (0 = no cross-validation) and why."""

    folds: int
    notices: list[Message]


def prepare_examples(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Message]]:
    """Clean labelled examples for training.

    Strips text and labels, drops rows with a blank text or label (counted), merges labels
    that differ only in case (first spelling kept), drops exact duplicate rows, caps at
    ``MAX_TRAIN_EXAMPLES`` examples and each text at ``MAX_TEXT_CHARS`` characters.

    Args:
        frame: with columns ``text`` and ``label``.

    Returns:
        (frame with ``text``, ``label``, notices).

    Raises:
        InputError: no examples left, fewer than 2 classes (one class: nothing to tell
            apart), or more than ``MAX_LABELS`` classes.
    """
    df = pd.DataFrame({"text": frame["text"].astype(str).str.strip(),
                       "label": frame["label"].astype(str).str.strip()})
    notices: list[Message] = []
    blank = (df["text"] == "") | (df["label"] == "")
    if blank.any():
        notices.append(_m("examples_blank", n=int(blank.sum())))
    df = df[~blank]
    if df.empty:
        raise ClassificationInputError("classification.msg.no_examples")
    first: dict[str, str] = {}
    for label in df["label"]:
        first.setdefault(label.casefold(), label)
    merged = df["label"].map(lambda l: first[l.casefold()])
    if (merged != df["label"]).any():
        notices.append(_m("labels_merged"))
    df = df.assign(label=merged)
    dup = df.duplicated()
    if dup.any():
        notices.append(_m("examples_dup", n=int(dup.sum())))
        df = df[~dup]
    if len(df) > MAX_TRAIN_EXAMPLES:
        notices.append(_m("examples_capped", n=len(df), max=MAX_TRAIN_EXAMPLES))
        df = df.iloc[:MAX_TRAIN_EXAMPLES]
    classes = df["label"].unique().tolist()
    if len(classes) < 2:
        raise ClassificationInputError("classification.msg.one_class", label=repr(classes[0]))
    if len(classes) > MAX_LABELS:
        raise ClassificationInputError("classification.msg.too_many_classes", n=len(classes), max=MAX_LABELS)
    clipped, clip_notices = clip_chars(df["text"].tolist(), MAX_TEXT_CHARS)
    notices += clip_notices
    return df.assign(text=clipped).reset_index(drop=True), notices


def cv_plan(labels: list[str] | pd.Series, max_folds: int = MAX_FOLDS) -> CvPlan:
    """Number of stratified cross-validation folds: ``min(max_folds, smallest class count)``.

    Stratified k-fold needs every class in every fold, so at least 2 examples per class are
    needed for any cross-validation; with fewer the head is still trained but not evaluated.
    """
    counts = pd.Series(list(labels)).value_counts()
    smallest = int(counts.min())
    if smallest < 2:
        few = _quoted(counts[counts < 2].index)
        return CvPlan(0, [_m("cv_too_few", few=few)])
    folds = min(max_folds, smallest)
    notices = []
    if folds < max_folds:
        notices.append(_m("cv_fewer_folds", n=smallest, folds=folds, max=max_folds))
    return CvPlan(folds, notices)


@dataclass
class TrainResult:
    """A logistic-regression head trained on frozen embeddings.

    Attributes:
        classes: class labels in the head's order.
        head: the fitted ``sklearn.linear_model.LogisticRegression`` (on all examples).
        folds: cross-validation folds used (0 = none, see notices).
        cv_accuracy: pooled out-of-fold accuracy in [0, 1], or None without CV.
        fold_accuracies: accuracy of each fold.
        confusion: counts, index = true label, columns = predicted label (out-of-fold),
            or an empty frame without CV.
        predictions: per example ``text``, ``label``, ``predicted`` (out-of-fold), ``correct``.
        majority_baseline: share of the largest class (the accuracy of always guessing it).
        counts: examples per class.
        n_examples: examples used.
        notices: adaptations.
    """

    classes: list[str]
    head: Any
    folds: int
    cv_accuracy: float | None
    fold_accuracies: list[float]
    confusion: pd.DataFrame
    predictions: pd.DataFrame
    majority_baseline: float
    counts: pd.Series
    n_examples: int
    notices: list[Message] = field(default_factory=list)


def train_head(loaded, frame: pd.DataFrame) -> TrainResult:
    """Train a logistic-regression head on frozen sentence embeddings and cross-validate it.

    Only the head (k x d weights + k biases) is trained; the encoder is not changed.

    Args:
        loaded: the bundled MiniLM ``LoadedModel``.
        frame: labelled examples (``text``, ``label``), cleaned by :func:`prepare_examples`
            here again (idempotent).

    Returns:
        :class:`TrainResult`. Cross-validation: ``StratifiedKFold(folds, shuffle=True,
        random_state=0)``; confusion matrix and accuracy from ``cross_val_predict`` on the
        same folds.

    Raises:
        InputError: see :func:`prepare_examples`.
    """
    from sklearn.metrics import confusion_matrix

    df, notices = prepare_examples(frame)
    X, trunc = encode(loaded, df["text"].tolist())      # (n, 384), frozen encoder
    notices += trunc
    y = df["label"].to_numpy()
    counts = df["label"].value_counts()
    plan = cv_plan(y)
    notices += plan.notices
    classes = sorted(counts.index.tolist())
    cv_acc = None
    folds: list[float] = []
    confusion = pd.DataFrame()
    predicted = np.full(len(y), "", dtype=object)
    if plan.folds >= 2:
        cv = probe.cross_validate(X, y, plan.folds, C=HEAD_C, seed=HEAD_SEED)
        predicted, folds, cv_acc = cv.predicted, cv.fold_accuracies, cv.accuracy
        cm = confusion_matrix(y, predicted, labels=classes)
        confusion = pd.DataFrame(cm, index=pd.Index(classes, name="true"),
                                 columns=pd.Index(classes, name="predicted"))
    head = probe.fit_head(X, y, C=HEAD_C, seed=HEAD_SEED)
    predictions = pd.DataFrame({"text": df["text"], "label": df["label"], "predicted": predicted})
    predictions["correct"] = predictions["label"] == predictions["predicted"] if cv_acc is not None else None
    return TrainResult(
        classes=[str(c) for c in head.classes_], head=head, folds=plan.folds, cv_accuracy=cv_acc,
        fold_accuracies=folds, confusion=confusion, predictions=predictions,
        majority_baseline=float(counts.max() / counts.sum()), counts=counts,
        n_examples=len(df), notices=notices,
    )


def classify_with_head(loaded, result: TrainResult, texts: list[str]) -> tuple[pd.DataFrame, list[Message]]:
    """Classify new texts with a trained head (same frozen encoder).

    Returns:
        (tidy frame ``text_id``, ``text``, ``label``, ``score`` (predict_proba; rows of one
        text sum to 1), ``rank``; notices).

    Raises:
        InputError: no non-blank text.
    """
    texts, notices = clean_texts(texts)
    X, trunc = encode(loaded, texts)
    proba = result.head.predict_proba(X)                 # (n, k)
    labels = [str(c) for c in result.head.classes_]
    frame = _tidy(texts, labels, labels, proba, proba).drop(columns=["hypothesis", "raw"])
    return frame, notices + trunc


# --------------------------------------------------------------------------- serialisation
PAYLOAD_COLUMNS = ("text_id", "text", "label", "hypothesis", "raw", "score")


def zero_shot_payload(result: ZeroShotResult) -> dict:
    """A zero-shot result as plain JSON data (curated presenter examples).

    Returns:
        ``{"method", "multi_label", "labels", "scores": {column: list}}`` with the tidy
        columns :data:`PAYLOAD_COLUMNS`. Language-neutral: notices and the semantics line are
        not stored, and neither are ranks (re-derived on load, so labels whose scores tie --
        e.g. two Chinese labels that both tokenize to ``[UNK]`` -- cannot flip between machines).
    """
    return {"method": result.method, "multi_label": bool(result.multi_label), "labels": list(result.labels),
            "scores": {c: result.scores[c].tolist() for c in PAYLOAD_COLUMNS}}


def zero_shot_from_payload(payload: dict) -> ZeroShotResult:
    """Inverse of :func:`zero_shot_payload`: ranks from the stored scores (stable: ties keep
    label order), semantics line as a :class:`Message`.

    Raises:
        KeyError / ValueError / TypeError: the payload is not one written by :func:`zero_shot_payload`.
    """
    frame = pd.DataFrame({c: payload["scores"][c] for c in PAYLOAD_COLUMNS})
    labels = [str(l) for l in payload["labels"]]
    n, k = int(frame["text_id"].max()) + 1, len(labels)
    if len(frame) != n * k:
        raise ValueError("scores do not cover every (text, label) pair")
    frame = frame.sort_values(["text_id"], kind="stable")
    texts = frame.drop_duplicates("text_id")["text"].tolist()
    hyps = frame["hypothesis"].tolist()[:k]
    raw = frame["raw"].to_numpy(dtype=float).reshape(n, k)
    scores = frame["score"].to_numpy(dtype=float).reshape(n, k)
    multi = bool(payload["multi_label"])
    return ZeroShotResult(_tidy(texts, labels, hyps, raw, scores), str(payload["method"]), multi, labels, [],
                          semantics(multi, len(labels)))
