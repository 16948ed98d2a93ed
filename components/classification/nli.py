"""Zero-shot classification by natural-language inference (NLI models from the Hub).

Premise = text, hypothesis = ``template.format(label)``; the model's entailment logit scores
the label. Same maths as the transformers ``zero-shot-classification`` pipeline (Yin et al.
2019): label ids matched by prefix, softmax over labels (single-label) or over
(contradiction, entailment) per label (multi-label). Only the premise is truncated
(``truncation="only_first"``).
"""
from __future__ import annotations

import numpy as np

from components.classification.inputs import (
    DEFAULT_TEMPLATE,
    ClassificationInputError,
    clean_texts,
    notice,
    truncation_notice,
)
from components.classification.zero_shot import (
    ZeroShotResult,
    is_multi_label,
    label_hypotheses,
    softmax,
    zero_shot_result,
)
from components.messages import Message

MAX_NLI_PAIRS = 2000
"""Cap on (text, label) pairs for an NLI run: each pair is one forward pass of the model."""
NLI_BATCH_PAIRS = 16
"""Pairs per NLI forward pass (bounded activation memory, ~1.6 GB peak for BART-large at 512 tokens)."""


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
    return logits, truncation_notice(lengths, texts, limit,
                                      notice("nli_pair_what", model=loaded.spec.display_name))


def nli_scores(logits: np.ndarray, entail: int, contra: int, multi_label: bool) -> np.ndarray:
    """Probabilities (n_texts, n_labels) from NLI logits (n_texts, n_labels, n_classes).

    Exactly the transformers ``zero-shot-classification`` postprocess:
    single-label (k > 1): softmax of the entailment logits across labels (rows sum to 1);
    multi-label or one label: per label, softmax over (contradiction, entailment) logits,
    keep P(entailment) -- the neutral logit is ignored.
    """
    if multi_label or logits.shape[1] == 1:
        pair = logits[..., [contra, entail]]                 # (n, k, 2)
        return softmax(pair, axis=-1)[..., 1]
    return softmax(logits[..., entail], axis=1)


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
    hyps = label_hypotheses(template, labels)
    entail, contra = nli_label_ids(loaded.model.config)
    texts, notices = clean_texts(texts)
    max_texts = max(1, MAX_NLI_PAIRS // len(labels))
    if len(texts) > max_texts:
        notices.append(notice("nli_pairs_capped", k=len(labels), n=max_texts, max=MAX_NLI_PAIRS))
        texts = texts[:max_texts]
    logits, trunc = nli_logits(loaded, texts, hyps)
    multi = is_multi_label(multi_label, labels)
    return zero_shot_result(loaded, "nli", texts, labels, hyps, logits[..., entail],
                            nli_scores(logits, entail, contra, multi), multi, notices + trunc)
