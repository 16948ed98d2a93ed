"""Sentiment basics shared by every approach: labels, approach ids, limits, the prompt defaults,
:class:`SentimentInputError`, :class:`SentimentResult` and its JSON form, and the input checks.

Thresholds and defaults name their source next to them (VADER README, all-MiniLM-L6-v2 and
DistilBERT position limits, Zhao et al. 2021 content-free input); notices and errors are
``sentiment.*`` :class:`components.messages.Message` codes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from components.messages import Message, MessageError

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "sentiment"
TRAIN_CSV = DATA_DIR / "train.csv"
TEST_CSV = DATA_DIR / "test.csv"

NEGATIVE, POSITIVE, NEUTRAL = "negative", "positive", "neutral"
LABELS = (NEGATIVE, POSITIVE)  # binary order used everywhere (index 1 = positive)

VADER, HEAD, LLM, SST2 = "vader", "head", "llm", "sst2"
APPROACH_NAMES = {
    VADER: "Rules: VADER lexicon",
    HEAD: "Data-driven: MiniLM + logistic regression",
    LLM: "Prompting: SmolLM2-135M-Instruct",
    SST2: "Fine-tuned: DistilBERT SST-2 (Hub)",
}
SHORT_NAMES = {VADER: "Rules · VADER", HEAD: "Data · MiniLM + LR", LLM: "Prompting · SmolLM2",
               SST2: "Fine-tuned · DistilBERT"}
ATTRIBUTION_METHOD = "Leave-one-out occlusion"

VADER_POS_THRESHOLD = 0.05   # VADER README: compound >= 0.05 positive
VADER_NEG_THRESHOLD = -0.05  # compound <= -0.05 negative
MINILM_MAX_TOKENS = 256      # all-MiniLM-L6-v2 max_seq_length
SST2_MAX_TOKENS = 512        # DistilBERT position embeddings
LLM_MAX_TEXT_TOKENS = 256    # text inserted into the prompt (keeps CPU time bounded; = MiniLM limit)
MAX_CHARS = 20_000           # hard cap on one text before tokenisation (bounded memory)
MAX_OCCLUSION_WORDS = 48     # words occluded one by one (one extra forward each)
LLM_OCCLUSION_WORDS = 24     # fewer for the LLM: each occlusion is a full causal-LM forward
OCCLUSION_MAX_CHARS = 5_000  # longer texts get no word weights: each variant re-scores the whole
                             # text (VADER on 20 000 characters x 49 variants ~ 10 s), one
                             # visitor must not hold the server
HEAD_SEED = 0
HEAD_C = 4.0                 # inverse L2 strength (chosen by 5-fold CV on train.csv only)
LLM_BATCH = 8
LONG_RUN_TOKENS = 2_000
"""Prompt tokens of one LLM run (text, content-free prompt and occlusion variants, see
:func:`llm_workload`) from which the page says beforehand how much the model will read and
shows progress. Counted with :func:`llm_workload` (default settings, word weights on): the
sentiment page's six examples read 353-783 tokens (each shared prompt prefix once), a text at
the app's 256-token cap about 6 900 (28 prompts), so only texts well past the examples get the
note."""

CONTENT_FREE = "N/A"         # Zhao et al. 2021 content-free input
LABEL_WORDS = (" negative", " positive")
COMPLETE, CHAT = "complete", "chat"
DEFAULT_TEMPLATE = (
    "Is the sentiment of this text positive or negative?\n"
    "Text: {text}\n"
    "Sentiment:"
)
DEFAULT_MODE = CHAT  # chosen on 80 train.csv rows: chat 0.925 vs plain completion 0.887 (uncalibrated)
FEW_SHOT_EXAMPLES: tuple[tuple[str, str], ...] = (  # taken from train.csv, never from test.csv
    ("Our waiter was attentive and the pasta was delicious.", POSITIVE),
    ("The app crashes every time I try to log in.", NEGATIVE),
    ("Unemployment fell to its lowest level in a decade.", POSITIVE),
    ("The staff were rude and the room smelled of smoke.", NEGATIVE),
)
PLACEHOLDER = "{text}"
CHAT_ANSWER_PREFIX = "Sentiment:"  # opens the assistant turn in chat mode


class SentimentInputError(MessageError):
    """Text or settings that cannot be scored; ``message`` (a ``sentiment.*`` code) says why
    and what to do."""


@dataclass
class SentimentResult:
    """One approach's verdict on one text.

    Attributes:
        approach: ``"vader"``, ``"head"``, ``"llm"`` or ``"sst2"``.
        label: ``"positive"`` / ``"negative"`` (VADER may also say ``"neutral"``).
        scores: label -> probability (VADER: its neg/neu/pos proportions, which sum to 1).
        p_positive: P(positive) in [0, 1] (VADER: (compound + 1) / 2, a rescaled score).
        seconds: wall time of the prediction itself, seconds (attribution excluded).
        attribution: ``[(word, weight, spaced)]`` leave-one-out weights, one per unit of
            :func:`units_of` (a whitespace word, or one CJK character), word exactly as typed;
            weight = score(text) - score(text without the unit); ``spaced`` = whitespace came
            before the unit in the text (for re-assembling it). ``[]`` when not computed.
        attribution_seconds: wall time of the occlusion passes, seconds.
        notices: what was changed about the input (truncation ...), for the user, as
            :class:`components.messages.Message` codes.
        extra: approach-specific detail (VADER ``compound``/``word_valences``; LLM
            ``uncalibrated``/``calibrated``/``content_free``/``prompt``).
        coverage: how much of the text the approach could read
            (:meth:`components.coverage.Coverage.as_dict`); ``coverage["meaningful"]`` False
            means the label must not be shown as a verdict.
    """

    approach: str
    label: str
    scores: dict[str, float]
    p_positive: float
    seconds: float
    attribution: list[tuple[str, float]] = field(default_factory=list)
    attribution_seconds: float = 0.0
    notices: list[Message] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)


class SentimentTimes(TypedDict, total=False):
    """Wall seconds of one result: recorded only with ``timings`` (curated examples leave them out)."""

    seconds: float
    attribution_seconds: float


class SentimentRecord(SentimentTimes):
    """:func:`result_dict`: one approach's result as JSON-able data."""

    approach: str
    label: str
    scores: dict[str, float]
    p_positive: float
    attribution: list[list]
    notices: list[list]
    extra: dict
    coverage: dict


def result_dict(result: SentimentResult, timings: bool = True) -> SentimentRecord:
    """A result as plain JSON-able data -- what the page renders and what presenter mode ships
    in ``curated/sentiment.json`` (``timings=False`` leaves out the wall times, which differ
    from run to run).

    Returns:
        ``{"approach", "label", "scores", "p_positive", "attribution": [[word, weight, spaced]],
        "notices": [[key, values]], "extra", "coverage"}`` (+ ``"seconds"``, ``"attribution_seconds"``).
    """
    out = {
        "approach": result.approach, "label": result.label,
        "scores": {k: float(v) for k, v in result.scores.items()},
        "p_positive": float(result.p_positive),
        "attribution": [[w, float(v), bool(sp)] for w, v, sp in result.attribution],
        "notices": [[m.code, dict(m.params)] for m in result.notices],
        "extra": dict(result.extra),
        "coverage": dict(result.coverage),
    }
    if timings:
        out["seconds"] = float(result.seconds)
        out["attribution_seconds"] = float(result.attribution_seconds)
    return out


def check_text(text: str | None) -> tuple[str, list[str]]:
    """Validate one input text; return (text stripped of surrounding whitespace, notices).

    Texts longer than ``MAX_CHARS`` characters are cut (notice); the token-level limits of
    each encoder are applied later by each approach.

    Raises:
        SentimentInputError: empty or whitespace-only text.
    """
    text = (text or "").strip()
    if not text:
        raise SentimentInputError("sentiment.error.empty")
    notices: list[Message] = []
    if len(text) > MAX_CHARS:
        notices.append(Message("sentiment.notice.chars_cut", {"n": f"{len(text):,}", "limit": f"{MAX_CHARS:,}"}))
        text = text[:MAX_CHARS]
    return text, notices


def check_template(template: str | None) -> str:
    """Validate a prompt template: it must contain the ``{text}`` placeholder.

    Raises:
        SentimentInputError: empty template, or no ``{text}`` in it.
    """
    if not (template or "").strip():
        raise SentimentInputError("sentiment.error.template_empty")
    if PLACEHOLDER not in template:
        raise SentimentInputError("sentiment.error.template_placeholder")
    return template



def binary_label(p_positive: float) -> str:
    """``"positive"`` when ``p_positive`` >= 0.5, else ``"negative"``."""
    return POSITIVE if p_positive >= 0.5 else NEGATIVE



def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), wall time in seconds)`` (``time.perf_counter``)."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def truncation_notice(n_tokens: int, limit: int, what: str) -> list[Message]:
    """``[sentiment.notice.truncated]`` when ``n_tokens`` exceed the encoder's ``limit``
    (``what`` names the model), else ``[]``."""
    if n_tokens <= limit:
        return []
    return [Message("sentiment.notice.truncated", {"n": n_tokens, "limit": limit, "what": what})]
