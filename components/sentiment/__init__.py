"""Sentiment analysis four ways -- rule-driven, data-driven, prompting, fine-tuned -- with
leave-one-out occlusion attribution and a held-out evaluation. Pure: no streamlit.

Approaches (each returns a :class:`SentimentResult`):

* ``vader`` -- VADER (Hutto & Gilbert 2014, ``vaderSentiment``): a hand-written lexicon of word
  valences plus rules (negation, boosters, "but", caps, punctuation). Label from the compound
  score with the thresholds of the VADER README (>= 0.05 positive, <= -0.05 negative, else
  neutral). Per-word contributions are VADER's own per-word valences after its rules
  (:func:`vader_word_valences`, the ``sentiments`` list inside ``polarity_scores``).
* ``head`` -- a scikit-learn ``LogisticRegression`` trained (fixed seed) on frozen
  all-MiniLM-L6-v2 sentence embeddings of ``data/sentiment/train.csv`` (:func:`train_head`).
* ``llm`` -- SmolLM2-135M-Instruct prompted with a user-editable template; the next-token
  logits of the label words " negative" / " positive" are softmaxed over those two tokens,
  optionally after few-shot examples, optionally calibrated against the content-free input
  "N/A" (Zhao et al. 2021, "Calibrate before use": p_cal = normalise(p / p_cf)).
* ``sst2`` -- a DistilBERT sequence classifier fine-tuned on SST-2 (Hub only), softmax of its
  two logits.

Attribution for every approach: *leave-one-out occlusion* (Zeiler & Fergus 2014; Li et al. 2016
"Understanding neural networks through representation erasure"): weight of word *i* =
score(text) - score(text without word *i*), where score is P(positive) (VADER: the compound
score). Positive weight = the word pushed towards positive.

Long text is truncated at the encoder limit (MiniLM 256 tokens, DistilBERT 512, the text put
into the LLM prompt 256) and a notice says so. Tokenizer calls hold ``loaded.tokenizer_lock``,
forward passes ``loaded.lock`` (one batch at a time; see :class:`components.loading.LoadedModel`).

Modules, by responsibility (their public names are re-exported here for callers):

* :mod:`~components.sentiment.base`: labels, approach ids, limits, prompt defaults,
  :class:`SentimentInputError`, :class:`SentimentResult`, :func:`result_dict`, input checks
  and the helpers every approach shares (:func:`binary_label`, :func:`timed`,
  :func:`truncation_notice`);
* :mod:`~components.sentiment.occlusion`: units of a text and leave-one-out occlusion;
* :mod:`~components.sentiment.vader`: the rule-driven approach (VADER);
* :mod:`~components.sentiment.head`: the shipped dataset and the MiniLM + logistic-regression head;
* :mod:`~components.sentiment.prompting`: the LLM prompting approach, shared-prefix batches,
  calibration and workload counts;
* :mod:`~components.sentiment.finetuned`: the DistilBERT SST-2 classifier;
* :mod:`~components.sentiment.evaluation`: held-out evaluation, batch coverage and result tables.
"""
from __future__ import annotations

from components.sentiment.base import (
    APPROACH_NAMES,
    ATTRIBUTION_METHOD,
    CHAT,
    CHAT_ANSWER_PREFIX,
    COMPLETE,
    CONTENT_FREE,
    DATA_DIR,
    DEFAULT_MODE,
    DEFAULT_TEMPLATE,
    FEW_SHOT_EXAMPLES,
    HEAD,
    HEAD_C,
    HEAD_SEED,
    LABEL_WORDS,
    LABELS,
    LLM,
    LLM_BATCH,
    LLM_MAX_TEXT_TOKENS,
    LLM_OCCLUSION_WORDS,
    LONG_RUN_TOKENS,
    MAX_CHARS,
    MAX_OCCLUSION_WORDS,
    MINILM_MAX_TOKENS,
    NEGATIVE,
    NEUTRAL,
    OCCLUSION_MAX_CHARS,
    PLACEHOLDER,
    POSITIVE,
    ROOT,
    SHORT_NAMES,
    SST2,
    SST2_MAX_TOKENS,
    TEST_CSV,
    TRAIN_CSV,
    VADER,
    VADER_NEG_THRESHOLD,
    VADER_POS_THRESHOLD,
    SentimentInputError,
    SentimentRecord,
    SentimentResult,
    SentimentTimes,
    binary_label,
    check_template,
    check_text,
    result_dict,
    timed,
    truncation_notice,
)
from components.sentiment.evaluation import (
    LABEL_ALIASES,
    NOT_MEANINGFUL,
    Evaluation,
    evaluate,
    evaluate_predictions,
    evaluation_frame,
    labelled_set,
    meaningful,
    percent_cell,
    results_table,
    shown_label,
    shown_label_key,
    texts_coverage,
)
from components.sentiment.finetuned import (
    sst2_predict,
    sst2_probs,
    sst2_sentiment,
)
from components.sentiment.head import (
    SentimentHead,
    dataset_hash,
    head_predict,
    head_sentiment,
    load_dataset,
    train_head,
)
from components.sentiment.occlusion import (
    occlusion,
    units_of,
    without_unit,
)
from components.sentiment.prompting import (
    LlmWorkload,
    PromptSettings,
    build_prompt,
    build_prompt_ids,
    calibrate,
    fill_template,
    label_distribution,
    label_token_ids,
    llm_batch_workload,
    llm_predict,
    llm_sentiment,
    llm_workload,
    prefix_plan,
    tokens_read,
    truncate_tokens,
)
from components.sentiment.vader import (
    vader_analyzer,
    vader_label,
    vader_predict,
    vader_sentiment,
    vader_valences_by_word,
    vader_word_valences,
)

__all__ = [
    "APPROACH_NAMES",
    "ATTRIBUTION_METHOD",
    "binary_label",
    "build_prompt",
    "build_prompt_ids",
    "calibrate",
    "CHAT",
    "CHAT_ANSWER_PREFIX",
    "check_template",
    "check_text",
    "COMPLETE",
    "CONTENT_FREE",
    "DATA_DIR",
    "dataset_hash",
    "DEFAULT_MODE",
    "DEFAULT_TEMPLATE",
    "evaluate",
    "evaluate_predictions",
    "Evaluation",
    "evaluation_frame",
    "FEW_SHOT_EXAMPLES",
    "fill_template",
    "HEAD",
    "HEAD_C",
    "head_predict",
    "HEAD_SEED",
    "head_sentiment",
    "LABEL_ALIASES",
    "label_distribution",
    "label_token_ids",
    "LABEL_WORDS",
    "labelled_set",
    "LABELS",
    "LLM",
    "LLM_BATCH",
    "llm_batch_workload",
    "LLM_MAX_TEXT_TOKENS",
    "LLM_OCCLUSION_WORDS",
    "llm_predict",
    "llm_sentiment",
    "llm_workload",
    "LlmWorkload",
    "load_dataset",
    "LONG_RUN_TOKENS",
    "MAX_CHARS",
    "MAX_OCCLUSION_WORDS",
    "meaningful",
    "MINILM_MAX_TOKENS",
    "NEGATIVE",
    "NEUTRAL",
    "NOT_MEANINGFUL",
    "occlusion",
    "OCCLUSION_MAX_CHARS",
    "percent_cell",
    "PLACEHOLDER",
    "POSITIVE",
    "prefix_plan",
    "PromptSettings",
    "result_dict",
    "results_table",
    "ROOT",
    "SentimentHead",
    "SentimentInputError",
    "SentimentRecord",
    "SentimentTimes",
    "SentimentResult",
    "SHORT_NAMES",
    "shown_label",
    "shown_label_key",
    "SST2",
    "SST2_MAX_TOKENS",
    "sst2_predict",
    "sst2_probs",
    "sst2_sentiment",
    "TEST_CSV",
    "texts_coverage",
    "timed",
    "tokens_read",
    "TRAIN_CSV",
    "train_head",
    "truncate_tokens",
    "truncation_notice",
    "units_of",
    "VADER",
    "vader_analyzer",
    "vader_label",
    "VADER_NEG_THRESHOLD",
    "VADER_POS_THRESHOLD",
    "vader_predict",
    "vader_sentiment",
    "vader_valences_by_word",
    "vader_word_valences",
    "without_unit",
]
