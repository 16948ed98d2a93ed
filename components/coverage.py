"""How much of a text a model can actually read: the share of its characters that reach the
model as known tokens (not ``[UNK]``), or that VADER's rules can score.

A WordPiece tokenizer (all-MiniLM-L6-v2, DistilBERT) turns every word it cannot spell with its
vocabulary into one ``[UNK]``: ``😡😡``, ``😀😀😀`` and ``🎉`` are all the same single token, so
the model gets the same input and gives the same embedding, label and score for each. A
byte-level BPE tokenizer (SmolLM2, GPT-2) has no unknown token: every character is read, but
characters outside its merges arrive as UTF-8 byte fragments. VADER (Hutto & Gilbert 2014) reads
English words and emoticons, and an emoji only through its description in its emoji lexicon.

No streamlit here: the functions return numbers and an i18n message code
(``locales/<lang>/coverage.toml``); the pages translate and show them.
"""
from __future__ import annotations

import json
import re
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

MIN_KNOWN = 0.5
"""Below this share of known characters a verdict is reported as not meaningful: most of the
text then reaches the model as the one shared ``[UNK]`` vector (or is invisible to VADER), so
texts with opposite meanings get the same output -- the emoji texts above have cosine 1.000."""

TOKENS = "tokens"  # known = inside a non-[UNK] token
BYTES = "bytes"    # byte-level BPE: everything read, some characters as byte fragments
VADER = "vader"    # VADER rules + lexicons
MAX_SHOWN = 8      # unknown pieces listed in the message


@dataclass
class Coverage:
    """Coverage of one text by one reader.

    Attributes:
        reader: ``"tokens"`` (a tokenizer with an unknown token), ``"bytes"`` (byte-level
            BPE, never unknown) or ``"vader"``.
        known: non-whitespace characters the reader can read.
        total: non-whitespace characters of the text.
        fraction: ``known / total`` in [0, 1] (1.0 for a text without visible characters).
        byte_chars: characters that reach a byte-level model only as byte fragments (tokens
            that are not whole UTF-8 characters); 0 for other readers.
        unknown: up to :data:`MAX_SHOWN` unread pieces of the text, as typed, in text order.
        meaningful: ``fraction >= MIN_KNOWN``.
    """

    reader: str
    known: int
    total: int
    fraction: float
    byte_chars: int = 0
    unknown: list[str] = field(default_factory=list)
    meaningful: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


def _make(reader: str, text: str, known_mask: list[bool], byte_mask: list[bool] | None = None) -> Coverage:
    visible = [i for i, ch in enumerate(text) if not ch.isspace()]
    known = sum(1 for i in visible if known_mask[i])
    total = len(visible)
    fraction = known / total if total else 1.0
    pieces: list[str] = []
    for m in re.finditer(r"\S+", text):  # unread runs, kept as typed
        run = ""
        for i in range(m.start(), m.end()):
            if not known_mask[i]:
                run += text[i]
            elif run:
                pieces.append(run)
                run = ""
        if run:
            pieces.append(run)
    unique = list(dict.fromkeys(pieces))[:MAX_SHOWN]
    return Coverage(reader=reader, known=known, total=total, fraction=float(fraction),
                    byte_chars=sum(1 for i in visible if byte_mask and byte_mask[i]),
                    unknown=unique, meaningful=fraction >= MIN_KNOWN)


def is_byte_level(tokenizer) -> bool:
    """True when the fast tokenizer works on bytes (``ByteLevel`` pre-tokenizer/decoder, as in
    GPT-2 and SmolLM2, or SentencePiece ``byte_fallback``): it never produces an unknown token."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return False
    spec = json.loads(backend.to_str())
    kinds = json.dumps([spec.get("pre_tokenizer"), spec.get("decoder")])
    return '"ByteLevel"' in kinds or bool((spec.get("model") or {}).get("byte_fallback"))


def tokenizer_coverage(tokenizer, text: str) -> Coverage:
    """Share of ``text``'s non-whitespace characters that fall inside a token other than the
    tokenizer's unknown token (``tokenizer.unk_token_id``), from the fast tokenizer's
    ``offset_mapping`` (no special tokens added). Characters the normaliser drops (control
    characters) count as unread.

    For a byte-level tokenizer (:func:`is_byte_level`) every character is read; ``byte_chars``
    counts those whose tokens are byte fragments rather than whole characters
    (``components.tokens.token_bytes`` not decodable as UTF-8 on its own).

    A tokenizer without offsets (a slow Python tokenizer) is checked word by word instead:
    a whitespace word is known unless it tokenizes to the unknown token only.
    """
    from components.tokens import token_bytes

    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                        verbose=False)  # a long text is fine: nothing is fed to the model here
    except (NotImplementedError, ValueError, TypeError):
        return _coverage_by_word(tokenizer, text)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    known = [False] * len(text)
    fragments = [False] * len(text)
    byte_level = is_byte_level(tokenizer)
    unk = None if byte_level else tokenizer.unk_token_id
    raw = tokenizer.convert_ids_to_tokens(ids) if byte_level else [None] * len(ids)
    for tid, (a, b), piece in zip(ids, offsets, raw):
        if unk is not None and tid == unk:
            continue
        partial = False
        if piece is not None:
            data = token_bytes(piece)
            if data is not None:
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    partial = True
        for i in range(a, min(b, len(text))):
            known[i] = True
            fragments[i] = fragments[i] or partial
    if byte_level:  # ByteLevel offsets may trim spaces; nothing is unknown to it
        known = [True] * len(text)
    return _make(BYTES if byte_level else TOKENS, text, known, fragments if byte_level else None)


def model_coverage(loaded, text: str) -> Coverage:
    """:func:`tokenizer_coverage` with ``loaded.tokenizer``, holding ``loaded.tokenizer_lock``
    (a fast tokenizer is not safe to call from two threads at once)."""
    with getattr(loaded, "tokenizer_lock", None) or nullcontext():
        return tokenizer_coverage(loaded.tokenizer, text)


def _coverage_by_word(tokenizer, text: str) -> Coverage:
    known = [False] * len(text)
    unk = tokenizer.unk_token_id
    for m in re.finditer(r"\S+", text):
        ids = tokenizer(m.group(), add_special_tokens=False, verbose=False)["input_ids"]
        if ids and any(i != unk for i in ids):
            for i in range(m.start(), m.end()):
                known[i] = True
    return _make(TOKENS, text, known)


def _vader_emoji_scored(analyzer, ch: str) -> bool:
    """An emoji VADER reads: its description (emoji lexicon) has a word in the valence lexicon."""
    description = analyzer.emojis.get(ch)
    return bool(description) and any(w.lower() in analyzer.lexicon for w in description.split())


def vader_coverage(text: str, analyzer=None) -> Coverage:
    """Share of ``text``'s non-whitespace characters VADER can score: ASCII characters (VADER's
    rules are for English words, punctuation and emoticons; an English word outside the
    lexicon is read as neutral), any word in its valence lexicon, and emoji whose
    description (``emoji_utf8_lexicon``) contains a lexicon word. Other scripts and emoji
    without a scored description (``😡`` = "pouting face") are unread.

    Source: vaderSentiment 3.3 (``SentimentIntensityAnalyzer.lexicon`` / ``.emojis``).
    """
    if analyzer is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
    known = [ch.isascii() for ch in text]
    for m in re.finditer(r"\S+", text):
        word = m.group().strip(".,!?;:\"'()[]").lower()
        if word and word in analyzer.lexicon:
            for i in range(m.start(), m.end()):
                known[i] = True
    for i, ch in enumerate(text):
        if not known[i] and _vader_emoji_scored(analyzer, ch):
            known[i] = True
    return _make(VADER, text, known)


def message(cov: Coverage | dict, literal=None) -> tuple[str, dict]:
    """The i18n key and values describing ``cov`` (``locales/<lang>/coverage.toml``).

    ``literal``: escaper applied to each unread piece of user text (e.g.
    ``components.textio.markdown_literal`` before markdown); the pieces are joined by spaces.
    """
    c = cov if isinstance(cov, dict) else cov.as_dict()
    literal = literal or (lambda piece: piece)
    values = {"pct": f"{c['fraction']:.0%}", "known": c["known"], "total": c["total"],
              "unknown": " ".join(literal(p) for p in c["unknown"]), "bytes": c["byte_chars"],
              "min": f"{MIN_KNOWN:.0%}"}
    if not c["meaningful"]:
        return f"coverage.low.{c['reader']}", values
    if c["reader"] == BYTES and c["byte_chars"]:
        return "coverage.bytes_fragments", values
    return f"coverage.ok.{c['reader']}", values


def short(cov: Coverage | dict) -> str:
    """Coverage as a short language-neutral cell, e.g. ``"33% (1/3)"``."""
    c = cov if isinstance(cov, dict) else cov.as_dict()
    return f"{c['fraction']:.0%} ({c['known']}/{c['total']})"
