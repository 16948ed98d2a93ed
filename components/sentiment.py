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
"""
from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from components import coverage, probe
from components.messages import Message, MessageError
from components.tokens import encode_chat, encode_plain

ROOT = Path(__file__).resolve().parents[1]
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


def result_dict(result: SentimentResult, timings: bool = True) -> dict:
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


# --------------------------------------------------------------------------- input checks
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


_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf"
                  r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def units_of(text: str) -> list[tuple[int, int, bool]]:
    """The units of occlusion: whitespace-separated words, except that every CJK character
    (Chinese, Japanese, Korean, incl. full-width punctuation) is a unit of its own -- Chinese is
    written without spaces, so a whitespace word can be a whole sentence.

    Returns:
        ``[(start, end, spaced)]``: character offsets into ``text`` (``text[start:end]`` is the
        unit as typed) and whether whitespace precedes it.
    """
    out: list[tuple[int, int, bool]] = []
    for match in re.finditer(r"[^\s]+", text):
        start, word = match.start(), match.group()
        spaced = start > 0
        run = None
        for i, ch in enumerate(word):
            if _CJK.match(ch):
                if run is not None:
                    out.append((start + run, start + i, spaced))
                    spaced, run = False, None
                out.append((start + i, start + i + 1, spaced))
                spaced = False
            elif run is None:
                run = i
        if run is not None:
            out.append((start + run, start + len(word), spaced))
    return out


def without_unit(text: str, start: int, end: int) -> str:
    """``text`` with ``text[start:end]`` removed. A unit standing alone between whitespace
    takes one neighbouring whitespace run with it (the following one, at the end of the text
    the preceding one), so no double space is left; a unit touching other characters (a CJK
    character inside a sentence) is cut out alone, so its neighbours do not merge."""
    left_free = start == 0 or text[start - 1].isspace()
    after = end
    while after < len(text) and text[after].isspace():
        after += 1
    if not left_free:
        return text[:start] + text[end:]
    if after > end:
        return text[:start] + text[after:]
    if end == len(text):
        before = start
        while before > 0 and text[before - 1].isspace():
            before -= 1
        return text[:before]
    return text[:start] + text[end:]


def _binary_label(p_positive: float) -> str:
    return POSITIVE if p_positive >= 0.5 else NEGATIVE


# --------------------------------------------------------------------------- occlusion
def occlusion(
    text: str,
    score_fn: Callable[[list[str]], Sequence[float]],
    max_words: int = MAX_OCCLUSION_WORDS,
    whole_chars: int | None = None,
) -> tuple[list[tuple[str, float, bool]], list[Message]]:
    """Leave-one-out occlusion: how much the score drops when each unit is removed.

    Args:
        text: the input text.
        score_fn: maps a list of texts to one score each (here P(positive) or VADER compound);
            it is called once, on ``[text] + [text without unit i for each i]`` (units:
            :func:`units_of`; everything else in the text is left exactly as typed).
        max_words: units beyond this are not occluded (weight 0; a notice says so).
            Texts over ``OCCLUSION_MAX_CHARS`` characters are not occluded at all (all
            weights 0, notice ``sentiment.notice.occlusion_skipped``).
        whole_chars: length of the text the user gave when ``text`` is a cut of it (the LLM
            reads a token-capped prefix); the character rule applies to the whole text, so
            every approach skips the same pastes.

    Returns:
        ([(unit as typed, score(text) - score(text without it), spaced)] for every unit, notices).
    """
    units = units_of(text)
    chars = max(len(text), whole_chars or 0)
    if chars > OCCLUSION_MAX_CHARS:
        return ([(text[a:b], 0.0, sp) for a, b, sp in units],
                [Message("sentiment.notice.occlusion_skipped", {"chars": f"{chars:,}", "limit": f"{OCCLUSION_MAX_CHARS:,}"})])
    n = min(len(units), max_words)
    variants = [without_unit(text, a, b) for a, b, _ in units[:n]]
    scores = [float(s) for s in score_fn([text] + variants)]
    base = scores[0]
    weights = [(text[a:b], base - scores[i + 1], sp) for i, (a, b, sp) in enumerate(units[:n])]
    weights += [(text[a:b], 0.0, sp) for a, b, sp in units[n:]]
    notices: list[Message] = []
    if len(units) > n:
        notices.append(Message("sentiment.notice.occlusion_cut", {"n": n, "total": len(units)}))
    return weights, notices


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


# --------------------------------------------------------------------------- VADER (rules)
@lru_cache(maxsize=1)
def vader_analyzer():
    """The shared ``SentimentIntensityAnalyzer`` (stateless after loading its lexicon)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _vader_clean(analyzer, text: str) -> str:
    """VADER's own emoji-to-description step (copied from ``polarity_scores``)."""
    out, prev_space = "", True
    for ch in text:
        if ch in analyzer.emojis:
            if not prev_space:
                out += " "
            out += analyzer.emojis[ch]
            prev_space = False
        else:
            out += ch
            prev_space = ch == " "
    return out.strip()


def vader_word_valences(text: str) -> tuple[list[tuple[str, float]], dict]:
    """VADER's per-word valences after its rules, and the scores they add up to.

    Re-runs the loop of ``SentimentIntensityAnalyzer.polarity_scores`` (vaderSentiment 3.3)
    and returns its internal ``sentiments`` list next to its words, so every valence is what
    VADER itself summed: lexicon value, scaled by boosters/caps, flipped by negation,
    re-weighted around "but". ``score_valence`` of these equals ``polarity_scores(text)``
    (asserted in the tests).

    Returns:
        ([(word, valence)], scores dict with neg/neu/pos/compound).
    """
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    analyzer = vader_analyzer()
    clean = _vader_clean(analyzer, text)
    words = SentiText(clean).words_and_emoticons
    sentitext = SentiText(clean)
    sentiments: list[float] = []
    for i, item in enumerate(words):
        if item.lower() in BOOSTER_DICT:
            sentiments.append(0)
            continue
        if i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of":
            sentiments.append(0)
            continue
        sentiments = analyzer.sentiment_valence(0, sentitext, item, i, sentiments)
    sentiments = analyzer._but_check(words, sentiments)
    scores = analyzer.score_valence(sentiments, clean)
    return [(w, float(v)) for w, v in zip(words, sentiments)], scores


def vader_valences_by_word(text: str) -> tuple[list[tuple[str, float, bool]], bool]:
    """VADER's per-word valences (:func:`vader_word_valences`) on the words *as typed*.

    VADER splits on whitespace, strips edge punctuation from each word (``<b>x</b>`` becomes
    ``b>x</b``) and replaces each emoji by its description (one emoji -> several words). Both
    steps are local to one whitespace word, so running them on each typed word alone gives
    VADER's tokens in order; the valences of a typed word's tokens are summed.

    Returns:
        ([(word as typed, summed valence, spaced)] -- ``spaced``: whitespace came before the
        word), aligned) where ``aligned`` is False if the per-word tokens did not reproduce
        VADER's token list (then the words are VADER's own tokens, punctuation stripped).
    """
    from vaderSentiment.vaderSentiment import SentiText

    valences, _ = vader_word_valences(text)
    analyzer = vader_analyzer()
    typed = list(re.finditer(r"\S+", text))
    counts = [len(SentiText(_vader_clean(analyzer, m.group())).words_and_emoticons) for m in typed]
    tokens = [w for w, _ in valences]
    per_word = [w for m in typed for w in SentiText(_vader_clean(analyzer, m.group())).words_and_emoticons]
    if per_word != tokens:  # defensive: never seen, but fall back to VADER's own tokens
        return [(w, v, i > 0) for i, (w, v) in enumerate(valences)], False
    out, pos = [], 0
    for m, k in zip(typed, counts):
        out.append((m.group(), float(sum(v for _, v in valences[pos:pos + k])), m.start() > 0))
        pos += k
    return out, True


def vader_label(compound: float) -> str:
    """VADER README thresholds: >= 0.05 positive, <= -0.05 negative, else neutral."""
    if compound >= VADER_POS_THRESHOLD:
        return POSITIVE
    if compound <= VADER_NEG_THRESHOLD:
        return NEGATIVE
    return NEUTRAL


def vader_sentiment(text: str, attribution: bool = True) -> SentimentResult:
    """Score ``text`` with VADER.

    Returns:
        label from the compound score; ``scores`` = VADER's neg/neu/pos proportions;
        ``p_positive`` = (compound + 1) / 2; attribution on the compound score;
        ``extra``: ``compound``, ``word_valences`` ``[[word as typed, valence, spaced]]``
        and ``valences_aligned`` (see :func:`vader_valences_by_word`).

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    analyzer = vader_analyzer()
    raw, seconds = _timed(analyzer.polarity_scores, text)
    valences, aligned = vader_valences_by_word(text)
    result = SentimentResult(
        approach=VADER,
        label=vader_label(raw["compound"]),
        scores={NEGATIVE: raw["neg"], NEUTRAL: raw["neu"], POSITIVE: raw["pos"]},
        p_positive=(raw["compound"] + 1) / 2,
        seconds=seconds,
        notices=notices,
        extra={"compound": raw["compound"], "word_valences": [list(v) for v in valences],
               "valences_aligned": aligned},
        coverage=coverage.vader_coverage(text, analyzer).as_dict(),
    )
    if attribution:
        def score(texts):
            return [analyzer.polarity_scores(t)["compound"] for t in texts]

        (weights, occ_notices), result.attribution_seconds = _timed(occlusion, text, score)
        result.attribution = weights
        result.notices += occ_notices
    return result


def vader_predict(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch VADER: (labels incl. "neutral", p_positive = (compound + 1) / 2 per text)."""
    analyzer = vader_analyzer()
    compounds = np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=float)
    return [vader_label(c) for c in compounds], (compounds + 1) / 2


# --------------------------------------------------------------------------- dataset
def load_dataset(split: str) -> pd.DataFrame:
    """The shipped labelled set: ``split`` "train" or "test" (held out, never trained on).

    Returns:
        DataFrame with ``text``, ``label`` ("positive"/"negative"), ``domain``.
    """
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test'")
    frame = pd.read_csv(DATA_DIR / f"{split}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert set(frame["label"]) <= set(LABELS), "labels must be positive/negative"
    return frame


def dataset_hash(path: Path = TRAIN_CSV) -> str:
    """sha256 (first 16 hex digits) of a dataset file: the cache key of a trained head."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- MiniLM + LR head
def _truncation_notice(n_tokens: int, limit: int, what: str) -> list[Message]:
    if n_tokens <= limit:
        return []
    return [Message("sentiment.notice.truncated", {"n": n_tokens, "limit": limit, "what": what})]


@dataclass
class SentimentHead:
    """A trained logistic-regression head on frozen sentence embeddings.

    Attributes:
        classifier: fitted ``sklearn.linear_model.LogisticRegression`` (classes_ = LABELS order).
        dataset_hash: :func:`dataset_hash` of the training file.
        n_train: training rows.
        train_seconds: embedding + fitting time, seconds.
        train_accuracy: accuracy on the training rows (for contrast with held-out accuracy).
    """

    classifier: object
    dataset_hash: str
    n_train: int
    train_seconds: float
    train_accuracy: float

    def p_positive(self, embeddings: np.ndarray) -> np.ndarray:
        """P(positive) per row of ``(n, d)`` embeddings."""
        col = list(self.classifier.classes_).index(POSITIVE)
        return self.classifier.predict_proba(embeddings)[:, col]


def train_head(loaded, train: pd.DataFrame | None = None, seed: int = HEAD_SEED,
               C: float = HEAD_C) -> SentimentHead:
    """Train the LR head on frozen MiniLM embeddings of ``train`` (default: train.csv).

    Deterministic: embeddings are deterministic on CPU and lbfgs with a fixed
    ``random_state`` gives the same weights on every run (:func:`components.probe.fit_head`).
    """
    start = time.perf_counter()
    train = load_dataset("train") if train is None else train
    x = probe.sentence_vectors(loaded, train["text"].tolist())
    y = train["label"].to_numpy()
    clf = probe.fit_head(x, y, C=C, seed=seed)
    return SentimentHead(
        classifier=clf,
        dataset_hash=dataset_hash(),
        n_train=len(train),
        train_seconds=time.perf_counter() - start,
        train_accuracy=float((clf.predict(x) == y).mean()),
    )


def head_predict(loaded, head: SentimentHead, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch head predictions: (labels, p_positive per text)."""
    p = head.p_positive(probe.sentence_vectors(loaded, texts))
    return [_binary_label(v) for v in p], p


def head_sentiment(loaded, head: SentimentHead, text: str, attribution: bool = True) -> SentimentResult:
    """Classify ``text`` with the MiniLM + logistic-regression head.

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    notices += _truncation_notice(int(probe.token_counts(loaded, [text])[0]), MINILM_MAX_TOKENS, "all-MiniLM-L6-v2")
    (labels, p), seconds = _timed(head_predict, loaded, head, [text])
    p_pos = float(p[0])
    result = SentimentResult(
        approach=HEAD, label=labels[0], scores={NEGATIVE: 1 - p_pos, POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        coverage=coverage.model_coverage(loaded, text).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = _timed(
            occlusion, text, lambda ts: head_predict(loaded, head, ts)[1])
        result.attribution, result.notices = weights, result.notices + occ
    return result


# --------------------------------------------------------------------------- LLM prompting
def fill_template(template: str, text: str) -> str:
    """Insert ``text`` at every ``{text}`` (plain replace: other braces stay literal)."""
    return template.replace(PLACEHOLDER, text)


def _chat_messages(template: str, text: str, few_shot: bool) -> list[dict]:
    messages = []
    for ex, lab in (FEW_SHOT_EXAMPLES if few_shot else ()):  # few-shot as earlier conversation turns
        messages += [{"role": "user", "content": fill_template(template, ex)},
                     {"role": "assistant", "content": f"{CHAT_ANSWER_PREFIX} {lab}"}]
    messages.append({"role": "user", "content": fill_template(template, text)})
    return messages


def build_prompt(loaded, template: str, text: str, few_shot: bool = False,
                 mode: str = DEFAULT_MODE) -> str:
    """The exact string the model reads before the label word (for display; the model gets
    :func:`build_prompt_ids`, where control-token look-alikes in it stay plain text).

    ``"complete"``: the filled template; few-shot puts each example of ``FEW_SHOT_EXAMPLES``
    (filled template + label word) before it, separated by blank lines.
    ``"chat"``: the filled template is a user message in the model's chat template and the
    assistant turn is opened with ``"Sentiment:"`` so the label word is the next token;
    few-shot examples are earlier user/assistant turns (one example per turn -- packing them
    into one user message made SmolLM2 answer at chance level).

    Raises:
        SentimentInputError: template without ``{text}``.
        ValueError: unknown mode.
    """
    check_template(template)
    examples = FEW_SHOT_EXAMPLES if few_shot else ()
    if mode == COMPLETE:
        parts = [fill_template(template, ex) + " " + lab for ex, lab in examples]
        return "\n\n".join(parts + [fill_template(template, text)])
    if mode != CHAT:
        raise ValueError(f"mode must be {COMPLETE!r} or {CHAT!r}")
    with loaded.tokenizer_lock:
        return encode_chat(loaded.tokenizer, _chat_messages(template, text, few_shot),
                           add_generation_prompt=True, suffix=CHAT_ANSWER_PREFIX)[2]


def build_prompt_ids(loaded, template: str, text: str, few_shot: bool = False,
                     mode: str = DEFAULT_MODE) -> list[int]:
    """Token ids of :func:`build_prompt`. The template and the text are the user's, so they
    are tokenised as plain text (``<|im_end|>`` typed in a review is ordinary pieces); in
    chat mode only the chat template's markup yields control tokens
    (:func:`components.tokens.encode_chat`).

    Raises:
        SentimentInputError / ValueError: as :func:`build_prompt`.
    """
    check_template(template)
    if mode == COMPLETE:
        prompt = build_prompt(loaded, template, text, few_shot, mode)
        with loaded.tokenizer_lock:
            return list(loaded.tokenizer(prompt, add_special_tokens=True, split_special_tokens=True,
                                         verbose=False)["input_ids"])
    if mode != CHAT:
        raise ValueError(f"mode must be {COMPLETE!r} or {CHAT!r}")
    with loaded.tokenizer_lock:
        return encode_chat(loaded.tokenizer, _chat_messages(template, text, few_shot),
                           add_generation_prompt=True, suffix=CHAT_ANSWER_PREFIX)[0]


def label_token_ids(loaded, words: Sequence[str] = LABEL_WORDS) -> list[int]:
    """First token id of each label word (" negative" and " positive" are single tokens in
    SmolLM2's vocabulary)."""
    with loaded.tokenizer_lock:
        return [loaded.tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in words]


def truncate_tokens(loaded, text: str, limit: int) -> tuple[str, int]:
    """Cut ``text`` to its first ``limit`` tokens; return (text, original token count)."""
    with loaded.tokenizer_lock:
        ids = encode_plain(loaded.tokenizer, text)  # "<|im_end|>" typed in a review stays text
        if len(ids) <= limit:
            return text, len(ids)
        return loaded.tokenizer.decode(ids[:limit], skip_special_tokens=False), len(ids)


def _prompt_rows(loaded, prompts: Sequence) -> list[list[int]]:
    """Token ids of each prompt (ids kept, strings tokenised as plain text)."""
    with loaded.tokenizer_lock:
        return [list(p) if not isinstance(p, str) else
                list(loaded.tokenizer(p, add_special_tokens=True, split_special_tokens=True,
                                      verbose=False)["input_ids"])
                for p in prompts]


def _common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest common token prefix of ``rows``, kept at least one token short of
    the shortest row (each row needs a last token of its own to read the next-token logits)."""
    if len(rows) < 2:
        return 0
    n = min(len(r) for r in rows) - 1
    first = rows[0]
    for i in range(n):
        tok = first[i]
        if any(r[i] != tok for r in rows):
            return i
    return max(n, 0)


def prefix_plan(rows: Sequence[Sequence[int]], batch_size: int = LLM_BATCH) -> tuple[int, list[int]]:
    """How :func:`label_distribution` reads ``rows`` (token ids of the prompts): the prefix
    shared by every row is read once; each batch of ``batch_size`` rows then extends it by the
    prefix its own rows share (occlusion variants of neighbouring words share the text up to the
    first of them) and reads only the rest of each row.

    Returns:
        (shared prefix length, [prefix length of each batch]) in tokens; a batch's prefix is at
        least the shared one. Tokens read in all: ``shared + sum(batch prefix - shared) +
        sum(len(row) - its batch prefix)`` (:func:`tokens_read`).
    """
    shared = _common_prefix(rows)
    batches = [max(shared, _common_prefix(rows[s:s + batch_size])) for s in range(0, len(rows), batch_size)]
    return shared, batches


def tokens_read(rows: Sequence[Sequence[int]], batch_size: int = LLM_BATCH) -> int:
    """Prompt tokens :func:`label_distribution` reads for ``rows`` (each shared token once)."""
    shared, batches = prefix_plan(rows, batch_size)
    total = shared
    for b, start in enumerate(range(0, len(rows), batch_size)):
        chunk = rows[start:start + batch_size]
        total += batches[b] - shared + sum(len(r) - batches[b] for r in chunk)
    return total


def _extend_cache(loaded, cache_kv, ids: Sequence[int], start: int):
    """Read ``ids`` (one row, positions ``start``...) after the cached keys/values ``cache_kv``
    (per layer (keys, values), batch 1, or None for an empty prefix); returns the keys/values
    of the longer prefix. The cache object is fresh per call: nothing shared is mutated."""
    import torch
    from transformers.cache_utils import DynamicCache

    if not ids:
        return cache_kv
    input_ids = torch.tensor([list(ids)], dtype=torch.long)
    width = start + len(ids)
    with loaded.lock, torch.inference_mode():
        cache = DynamicCache(ddp_cache_data=cache_kv) if cache_kv else DynamicCache()
        out = loaded.model(input_ids=input_ids, attention_mask=torch.ones((1, width), dtype=torch.long),
                           position_ids=torch.arange(start, width).unsqueeze(0), cache=cache, use_cache=True,
                           logits_to_keep=1)
    return [(k, v) for k, v, *_ in out.cache]


def label_distribution(loaded, prompts: Sequence[str], batch_size: int = LLM_BATCH,
                       progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Next-token label probabilities for each prompt.

    The prompts of one call share a long token prefix (chat markup, system message, template up
    to ``{text}``, and for occlusion variants the text up to the removed word): it is read once
    into a KV cache (batch 1), each batch extends it by what its own rows share, and only the
    rest of each row is read against that cache repeated over the batch (right padding, logits
    taken at each row's last token). Causal attention makes this the same computation as a full
    forward of each prompt (:func:`prefix_plan`; equal within float rounding, tested).

    Args:
        prompts: token ids of full prompts (see :func:`build_prompt_ids`), or strings,
            tokenised as plain text (no control tokens from their content).
        progress: called after each forward pass with the number of prompt tokens it read
            (padding excluded, a shared prefix once; they add up to :func:`tokens_read`); an
            exception it raises stops the run (how a page cancels).

    Returns:
        (p, mass): ``p`` ``(n, 2)`` softmax of the logits of the label tokens
        (negative, positive) -- a distribution over the two labels, each row sums to 1;
        ``mass`` ``(n,)`` probability of the two label tokens among the whole vocabulary
        (how much the model "wanted" to answer with a label at all).
    """
    import torch
    from transformers.cache_utils import DynamicCache

    ids = label_token_ids(loaded)
    rows = _prompt_rows(loaded, prompts)
    tok = loaded.tokenizer
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    shared, batch_prefixes = prefix_plan(rows, batch_size)
    shared_kv = _extend_cache(loaded, None, rows[0][:shared], 0) if shared else None
    if shared and progress is not None:
        progress(shared)
    out_p, out_mass = [], []
    for b, start in enumerate(range(0, len(rows), batch_size)):
        chunk = rows[start:start + batch_size]
        prefix = batch_prefixes[b]
        kv = _extend_cache(loaded, shared_kv, chunk[0][shared:prefix], shared)
        tails = [r[prefix:] for r in chunk]
        width = max(len(r) for r in tails)
        input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in tails], dtype=torch.long)  # right padding
        attention_mask = torch.tensor([[1] * prefix + [1] * len(r) + [0] * (width - len(r)) for r in tails],
                                      dtype=torch.long)                  # (B, prefix + width)
        last = torch.tensor([[len(r) - 1] for r in tails], dtype=torch.long)  # (B, 1) each row's last token
        with loaded.lock, torch.inference_mode():
            # the prefix's keys/values repeated over the batch (a view; the cache copies it once)
            cache = DynamicCache(ddp_cache_data=[(k.expand(len(chunk), -1, -1, -1), v.expand(len(chunk), -1, -1, -1))
                                                 for k, v in kv]) if kv else None
            logits = loaded.model(input_ids=input_ids, attention_mask=attention_mask,
                                  position_ids=torch.arange(prefix, prefix + width).expand(len(chunk), -1),
                                  cache=cache, use_cache=cache is not None,
                                  logits_to_keep=last).logits[:, 0, :]  # (B, V)
        logits = logits.float()
        label_logits = logits[:, ids]                                    # (B, 2)
        out_p.append(torch.softmax(label_logits, dim=-1).numpy())
        out_mass.append(torch.softmax(logits, dim=-1)[:, ids].sum(-1).numpy())
        if progress is not None:
            progress(prefix - shared + sum(len(r) for r in tails))
    return np.concatenate(out_p), np.concatenate(out_mass)


def calibrate(p: np.ndarray, p_content_free: np.ndarray) -> np.ndarray:
    """Contextual calibration (Zhao et al. 2021, eq. W = diag(p_cf)^-1, b = 0): divide each
    label probability by its probability for the content-free input, renormalise.

    Args:
        p: ``(n, k)`` or ``(k,)`` label probabilities.
        p_content_free: ``(k,)`` label probabilities for the content-free input.

    Returns:
        calibrated probabilities, same shape, rows summing to 1.
    """
    q = np.asarray(p, dtype=float) / np.asarray(p_content_free, dtype=float)
    return q / q.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class PromptSettings:
    """Prompting settings (hashable: used as a cache key by the page).

    Attributes:
        template: prompt with a ``{text}`` placeholder.
        few_shot: prepend ``FEW_SHOT_EXAMPLES``.
        calibrate: apply contextual calibration against ``CONTENT_FREE``.
        mode: ``"complete"`` (plain text) or ``"chat"`` (chat template).
    """

    template: str = DEFAULT_TEMPLATE
    few_shot: bool = False
    calibrate: bool = False  # off by default: on 80 train rows "N/A" calibration lowered accuracy
    mode: str = DEFAULT_MODE


def _predict_prompts(loaded, texts: Sequence[str], settings: PromptSettings,
                     counts: list[int] | None = None) -> list[list[int]]:
    """The prompts :func:`llm_predict` scores: the content-free one, then one per text.
    ``counts``, when given, receives each text's token count before the cut."""
    # each text cut to LLM_MAX_TEXT_TOKENS, as in llm_sentiment (a 20 000-character row would
    # otherwise be a ~5 000-token prompt: minutes of eager attention on a CPU)
    cuts = [truncate_tokens(loaded, t, LLM_MAX_TEXT_TOKENS) for t in texts]
    if counts is not None:
        counts.extend(n for _, n in cuts)
    return [build_prompt_ids(loaded, settings.template, t, settings.few_shot, settings.mode)
            for t in [CONTENT_FREE, *(c for c, _ in cuts)]]


def llm_predict(loaded, texts: Sequence[str], settings: PromptSettings = PromptSettings(),
                progress: Callable[[int], None] | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Batch LLM predictions. Each text is cut to its first ``LLM_MAX_TEXT_TOKENS`` tokens.
    ``progress``: as in :func:`label_distribution`.

    Returns:
        (labels, p_positive per text (calibrated when ``settings.calibrate``), detail dict with
        ``uncalibrated`` (n, 2), ``calibrated`` (n, 2), ``content_free`` (2,), ``mass`` (n,)).
    """
    p_all, mass = label_distribution(loaded, _predict_prompts(loaded, texts, settings), progress=progress)
    p_cf, p = p_all[0], p_all[1:]
    p_cal = calibrate(p, p_cf)
    used = p_cal if settings.calibrate else p
    labels = [_binary_label(v) for v in used[:, 1]]
    detail = {"uncalibrated": p, "calibrated": p_cal, "content_free": p_cf, "mass": mass[1:]}
    return labels, used[:, 1], detail


@dataclass(frozen=True)
class LlmWorkload:
    """What :func:`llm_sentiment` will feed SmolLM2 for one text.

    Attributes:
        prompts: prompts scored (content-free + text, and with word weights again both plus
            one occlusion variant per occluded word).
        tokens: prompt tokens read in total (the forward cost grows with it; a prefix the
            prompts of one call share is read once, :func:`tokens_read`).
        text_tokens: tokens of the text as given (before the app's ``LLM_MAX_TEXT_TOKENS`` cap).
        plain_tokens: prompt tokens read without word weights.
    """

    prompts: int
    tokens: int
    text_tokens: int
    plain_tokens: int


def _llm_batches(loaded, text: str, attribution: bool) -> tuple[list[list[str]], int]:
    """The texts of each :func:`llm_predict` call of :func:`llm_sentiment`, and the text's
    token count: exactly what it runs, so :func:`llm_workload` counts what is read."""
    whole_chars = len(text)
    cut, n_tokens = truncate_tokens(loaded, text, LLM_MAX_TEXT_TOKENS)
    batches = [[cut]]
    if attribution and max(len(cut), whole_chars) <= OCCLUSION_MAX_CHARS:   # the rule of occlusion()
        units = units_of(cut)[:LLM_OCCLUSION_WORDS]
        batches.append([cut] + [without_unit(cut, a, b) for a, b, _ in units])
    return batches, n_tokens


def llm_workload(loaded, text: str, settings: PromptSettings = PromptSettings(),
                 attribution: bool = True) -> LlmWorkload:
    """Prompts and prompt tokens :func:`llm_sentiment` will read for ``text`` (tokenizer only,
    no forward pass). Each :func:`llm_predict` call also scores the content-free prompt.

    Raises:
        SentimentInputError: empty text or template without ``{text}``.
    """
    text, _ = check_text(text)
    check_template(settings.template)
    batches, n_tokens = _llm_batches(loaded, text, attribution)
    calls = [_predict_prompts(loaded, batch, settings) for batch in batches]
    reads = [tokens_read(rows) for rows in calls]
    return LlmWorkload(prompts=sum(len(rows) for rows in calls), tokens=sum(reads),
                       text_tokens=n_tokens, plain_tokens=reads[0])


def llm_batch_workload(loaded, texts: Sequence[str], settings: PromptSettings = PromptSettings()) -> LlmWorkload:
    """Prompts and prompt tokens :func:`llm_predict` will read for ``texts`` (tokenizer only,
    no forward pass): the content-free prompt and one prompt per text, each text cut to
    ``LLM_MAX_TEXT_TOKENS``. ``text_tokens`` is the longest text's token count before the cut.

    Raises:
        SentimentInputError: template without ``{text}``.
    """
    check_template(settings.template)
    counts: list[int] = []
    rows = _predict_prompts(loaded, texts, settings, counts)
    tokens = tokens_read(rows)
    return LlmWorkload(prompts=len(rows), tokens=tokens, text_tokens=max(counts, default=0), plain_tokens=tokens)


def llm_sentiment(loaded, text: str, settings: PromptSettings = PromptSettings(),
                  attribution: bool = True, progress: Callable[[int], None] | None = None) -> SentimentResult:
    """Classify ``text`` by prompting the causal LM and reading the label-word logits.

    ``progress``: called after each batch with the prompt tokens it read (they add up to
    :func:`llm_workload` ``.tokens``); an exception it raises stops the run.

    ``extra``: ``prompt`` (exact string), ``uncalibrated`` / ``calibrated`` / ``content_free``
    label distributions as {label: p}, ``label_mass`` (share of the label tokens in the full
    next-token distribution).

    Raises:
        SentimentInputError: empty text or template without ``{text}``.
    """
    text, notices = check_text(text)
    check_template(settings.template)
    whole, whole_chars = text, len(text)
    text, n_tokens = truncate_tokens(loaded, text, LLM_MAX_TEXT_TOKENS)
    if n_tokens > LLM_MAX_TEXT_TOKENS:  # the app's cap for speed, not the model's context
        notices.append(Message("sentiment.notice.cut_by_app", {
            "n": n_tokens, "limit": LLM_MAX_TEXT_TOKENS, "what": loaded.spec.display_name,
            "read": f"{len(text):,}", "chars": f"{whole_chars:,}"}))
    (labels, p, detail), seconds = _timed(llm_predict, loaded, [text], settings, progress)
    p_pos = float(p[0])
    as_dict = lambda row: {NEGATIVE: float(row[0]), POSITIVE: float(row[1])}  # noqa: E731
    result = SentimentResult(
        approach=LLM, label=labels[0], scores={NEGATIVE: 1 - p_pos, POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        extra={
            "prompt": build_prompt(loaded, settings.template, text, settings.few_shot, settings.mode),
            "uncalibrated": as_dict(detail["uncalibrated"][0]),
            "calibrated": as_dict(detail["calibrated"][0]),
            "content_free": as_dict(detail["content_free"]),
            "label_mass": float(detail["mass"][0]),
        },
        # measured on the whole text, like VADER and MiniLM; the cut is told by the notice
        coverage=coverage.model_coverage(loaded, whole).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = _timed(
            occlusion, text, lambda ts: llm_predict(loaded, ts, settings, progress)[1], LLM_OCCLUSION_WORDS,
            whole_chars)
        result.attribution, result.notices = weights, result.notices + occ
    return result


# --------------------------------------------------------------------------- DistilBERT SST-2
def _classifier_label(name: str, index: int) -> str:
    low = str(name).lower()
    if low in (NEGATIVE, POSITIVE):
        return low
    return LABELS[index]  # LABEL_0 / LABEL_1 -> negative / positive (SST-2 convention)


def sst2_probs(loaded, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """Softmax of the sequence classifier's logits, ``(n, 2)`` in (negative, positive) order.
    Inputs are truncated at ``SST2_MAX_TOKENS`` (or the model's smaller position limit)."""
    import torch

    model = loaded.model
    limit = min(SST2_MAX_TOKENS, int(getattr(model.config, "max_position_embeddings", SST2_MAX_TOKENS)))
    id2label = model.config.id2label
    order = {_classifier_label(id2label[i], i): i for i in range(model.config.num_labels)}
    cols = [order[NEGATIVE], order[POSITIVE]]
    out = []
    for start in range(0, len(texts), batch_size):
        with loaded.tokenizer_lock:
            enc = loaded.tokenizer(list(texts[start:start + batch_size]), return_tensors="pt",
                                   padding=True, truncation=True, max_length=limit,
                                   split_special_tokens=True)  # a typed "[SEP]" stays text
        with loaded.lock, torch.inference_mode():
            logits = model(**enc).logits.float()                         # (B, num_labels)
        out.append(torch.softmax(logits, dim=-1)[:, cols].numpy())
    return np.concatenate(out)


def sst2_predict(loaded, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Batch SST-2 predictions: (labels, p_positive)."""
    p = sst2_probs(loaded, texts)[:, 1]
    return [_binary_label(v) for v in p], p


def sst2_sentiment(loaded, text: str, attribution: bool = True) -> SentimentResult:
    """Classify ``text`` with the fine-tuned DistilBERT sequence classifier.

    Raises:
        SentimentInputError: empty text.
    """
    text, notices = check_text(text)
    limit = min(SST2_MAX_TOKENS, int(getattr(loaded.model.config, "max_position_embeddings", SST2_MAX_TOKENS)))
    notices += _truncation_notice(int(probe.token_counts(loaded, [text])[0]), limit, loaded.spec.display_name)
    probs, seconds = _timed(sst2_probs, loaded, [text])
    p_pos = float(probs[0, 1])
    result = SentimentResult(
        approach=SST2, label=_binary_label(p_pos),
        scores={NEGATIVE: float(probs[0, 0]), POSITIVE: p_pos},
        p_positive=p_pos, seconds=seconds, notices=notices,
        coverage=coverage.model_coverage(loaded, text).as_dict(),
    )
    if attribution:
        (weights, occ), result.attribution_seconds = _timed(
            occlusion, text, lambda ts: sst2_probs(loaded, ts)[:, 1])
        result.attribution, result.notices = weights, result.notices + occ
    return result


def texts_coverage(approach: str, loaded, texts: Sequence[str]) -> list[dict]:
    """Per text, how much of it ``approach`` can read (:mod:`components.coverage`): VADER's
    lexicons for ``"vader"``, else the tokenizer of ``loaded``. Repeated texts computed once."""
    memo: dict[str, dict] = {}
    analyzer = vader_analyzer() if approach == VADER else None
    for text in texts:
        if text not in memo:
            cov = (coverage.vader_coverage(text, analyzer) if approach == VADER
                   else coverage.model_coverage(loaded, text))
            memo[text] = cov.as_dict()
    return [memo[t] for t in texts]


# --------------------------------------------------------------------------- evaluation
@dataclass
class Evaluation:
    """Held-out evaluation of one approach.

    Attributes:
        approach: approach key.
        accuracy: fraction correct (``sklearn.metrics.accuracy_score``); VADER "neutral" counts
            as wrong (the set is binary).
        confusion: DataFrame, rows = true label, columns = predicted label
            (``sklearn.metrics.confusion_matrix``); VADER has an extra "neutral" column.
        n: texts evaluated.
        seconds_per_text: mean wall time per text, seconds.
        predictions: the predicted labels, in test-set order.
        extra: e.g. LLM ``accuracy_uncalibrated`` / ``accuracy_calibrated``.
        positive_share: fraction of texts predicted positive (a bias towards one label shows
            here next to the true share).
        recall: true label -> recall (``sklearn.metrics.recall_score`` per class; NaN when the
            set has no text of that label).
    """

    approach: str
    accuracy: float
    confusion: pd.DataFrame
    n: int
    seconds_per_text: float
    predictions: list[str]
    extra: dict = field(default_factory=dict)
    positive_share: float = float("nan")
    recall: dict = field(default_factory=dict)


def evaluate_predictions(approach: str, truth: Sequence[str], predicted: Sequence[str],
                         seconds: float, extra: dict | None = None) -> Evaluation:
    """Accuracy and confusion matrix of ``predicted`` against ``truth``."""
    from sklearn.metrics import accuracy_score, confusion_matrix

    cols = list(LABELS) + ([NEUTRAL] if NEUTRAL in predicted else [])
    cm = confusion_matrix(list(truth), list(predicted), labels=cols)
    frame = pd.DataFrame(cm, index=cols, columns=cols).loc[list(LABELS)]
    frame.index.name, frame.columns.name = "true", "predicted"
    support = frame.sum(axis=1)
    recall = {lab: float(frame.loc[lab, lab] / support[lab]) if support[lab] else float("nan") for lab in LABELS}
    return Evaluation(
        approach=approach, accuracy=float(accuracy_score(list(truth), list(predicted))),
        confusion=frame, n=len(truth), seconds_per_text=seconds / max(1, len(truth)),
        predictions=list(predicted), extra=extra or {},
        positive_share=float(np.mean([p == POSITIVE for p in predicted])) if len(predicted) else float("nan"),
        recall=recall,
    )


LABEL_ALIASES = {
    POSITIVE: ("positive", "pos", "1", "1.0", "+1", "+", "true", "yes"),
    NEGATIVE: ("negative", "neg", "0", "0.0", "-1", "-", "false", "no"),
}
"""Accepted spellings of the two labels in a user's CSV (compared lower-cased, stripped)."""


def labelled_set(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Message]]:
    """A user's labelled texts (``components.textio.column_texts`` with a label column) as an
    evaluation set: labels normalised to ``positive`` / ``negative`` (:data:`LABEL_ALIASES`),
    other labels dropped with a notice, texts capped like single texts (:func:`check_text`).

    Returns:
        (frame with ``text``, ``label``, ``row``; notices).

    Raises:
        SentimentInputError: no row has a recognised label (``sentiment.eval.no_labels``).
    """
    lookup = {alias: lab for lab, aliases in LABEL_ALIASES.items() for alias in aliases}
    labels = frame["label"].astype(str).str.strip().str.lower().map(lookup)
    notices: list[Message] = []
    unknown = frame.loc[labels.isna(), "label"].astype(str)
    if len(unknown):
        shown = ", ".join(repr(v) for v in list(dict.fromkeys(unknown))[:5])
        notices.append(Message("sentiment.eval.dropped_labels", {"n": len(unknown), "values": shown}))
    out = frame.loc[labels.notna(), ["row", "text"]].assign(label=labels[labels.notna()]).reset_index(drop=True)
    if out.empty:
        raise SentimentInputError("sentiment.eval.no_labels", values=shown if len(unknown) else "")
    texts, cut = [], 0
    for text in out["text"]:
        text, notes = check_text(text)
        texts.append(text)
        cut += bool(notes)
    if cut:
        notices.append(Message("sentiment.batch.long", {"n": cut, "limit": f"{MAX_CHARS:,}"}))
    return out.assign(text=texts), notices


def evaluate(approach: str, loaded=None, head: SentimentHead | None = None,
             settings: PromptSettings = PromptSettings(), test: pd.DataFrame | None = None) -> Evaluation:
    """Evaluate one approach on the held-out set (default ``test.csv``).

    Args:
        approach: ``"vader"``, ``"head"`` (needs ``loaded`` = MiniLM and ``head``),
            ``"llm"`` (needs ``loaded`` = SmolLM2), ``"sst2"`` (needs ``loaded``).

    Raises:
        ValueError: unknown approach or missing model.
    """
    test = load_dataset("test") if test is None else test
    texts, truth = test["text"].tolist(), test["label"].tolist()
    start = time.perf_counter()
    extra: dict = {}
    if approach == VADER:
        pred, _ = vader_predict(texts)
    elif approach == HEAD:
        if loaded is None or head is None:
            raise ValueError("head evaluation needs the MiniLM model and a trained head")
        pred, _ = head_predict(loaded, head, texts)
    elif approach == LLM:
        if loaded is None:
            raise ValueError("LLM evaluation needs the causal LM")
        pred, _, detail = llm_predict(loaded, texts, settings)
        raw = [_binary_label(v) for v in detail["uncalibrated"][:, 1]]
        cal = [_binary_label(v) for v in detail["calibrated"][:, 1]]
        extra = {
            "accuracy_uncalibrated": float(np.mean([a == b for a, b in zip(raw, truth)])),
            "accuracy_calibrated": float(np.mean([a == b for a, b in zip(cal, truth)])),
            "content_free": detail["content_free"].tolist(),
        }
    elif approach == SST2:
        if loaded is None:
            raise ValueError("SST-2 evaluation needs the classifier")
        pred, _ = sst2_predict(loaded, texts)
    else:
        raise ValueError(f"unknown approach {approach!r}")
    return evaluate_predictions(approach, truth, pred, time.perf_counter() - start, extra)



# --------------------------------------------------------------------------- tables
NOT_MEANINGFUL = "not_meaningful"
"""Label id shown instead of the verdict when too little of the text was readable."""


def meaningful(result: dict) -> bool:
    """False when too little of the text was readable (:mod:`components.coverage`): the label
    is then reported as not meaningful. Results without coverage (older curated files) count
    as meaningful."""
    return bool(result.get("coverage", {}).get("meaningful", True))


def shown_label(result: dict) -> str:
    """Label id to show: the verdict, or :data:`NOT_MEANINGFUL` under low coverage."""
    return result["label"] if meaningful(result) else NOT_MEANINGFUL


def shown_label_key(result: dict) -> str:
    """i18n key of the label to show: the verdict, or "not meaningful" under low coverage."""
    label = shown_label(result)
    return "coverage.not_meaningful" if label == NOT_MEANINGFUL else f"sentiment.label.{label}"


def results_table(results: Sequence[dict]) -> pd.DataFrame:
    """One row per approach, keyed by column ids (the UI words headers and cells,
    ``components.sentiment_wording.table``): ``approach`` (id), ``label`` (:func:`shown_label`),
    ``p_positive`` (rounded to 4 places), ``compound`` (VADER's, else None), ``coverage``
    (:func:`components.coverage.short`, "" without coverage). ``results``: :func:`result_dict` dicts."""
    return pd.DataFrame({
        "approach": [r["approach"] for r in results],
        "label": [shown_label(r) for r in results],
        "p_positive": [round(float(r["p_positive"]), 4) for r in results],
        "compound": [r["extra"].get("compound") for r in results],
        "coverage": [coverage.short(r["coverage"]) if r.get("coverage") else "" for r in results],
    })


def percent_cell(value: float) -> str:
    """A share as a table cell (``"61.0%"``); ``"–"`` when undefined (NaN: no text of that label)."""
    return "–" if value != value else f"{value:.1%}"


def evaluation_frame(evals: Sequence[Evaluation]) -> pd.DataFrame:
    """One row per :class:`Evaluation`, keyed by column ids (worded by the UI like
    :func:`results_table`): ``approach`` (id), ``accuracy`` (3 places), ``positive_share``,
    ``recall_positive``, ``recall_negative`` (:func:`percent_cell`), ``ms_per_text``, ``note``
    (the LLM's uncalibrated / calibrated accuracy as a :class:`Message`, else "")."""
    rows = []
    for ev in evals:
        note = ""
        if ev.approach == LLM:
            note = Message("sentiment.eval.llm_note", {"raw": f"{ev.extra['accuracy_uncalibrated']:.3f}",
                                                       "cal": f"{ev.extra['accuracy_calibrated']:.3f}"})
        rows.append({"approach": ev.approach, "accuracy": round(ev.accuracy, 3),
                     "positive_share": percent_cell(ev.positive_share),
                     "recall_positive": percent_cell(ev.recall.get(POSITIVE, float("nan"))),
                     "recall_negative": percent_cell(ev.recall.get(NEGATIVE, float("nan"))),
                     "ms_per_text": round(ev.seconds_per_text * 1000, 2), "note": note})
    return pd.DataFrame(rows)
