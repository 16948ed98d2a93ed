"""Readable token strings for any tokenizer (byte-level BPE, WordPiece, SentencePiece).

Raw vocabulary strings are unreadable for people: GPT-2/SmolLM2 byte-level BPE shows
``Ġ`` for a space, ``Ċ`` for a newline and mojibake like ``ä»`` for the bytes of a
Chinese character; WordPiece marks continuations with ``##``; SentencePiece uses ``▁``.

:func:`readable_tokens` decodes incrementally instead: token *i*'s text is what decoding
``input_ids[:i+1]`` adds to decoding ``input_ids[:i]``. A token that ends inside a UTF-8
character (the decoder yields U+FFFD) is grouped with the following tokens until the
character is complete, and every token of that group is labelled with the whole
character(s) plus its position in the group (``天 (1/2)``). The raw vocabulary string
stays available for hover.
"""
from __future__ import annotations

from dataclasses import dataclass

REPLACEMENT = "\ufffd"
_WHITESPACE_MARKS = {"\n": "↵", "\t": "⇥", "\r": "␍"}


@dataclass(frozen=True)
class TokenPiece:
    """One token, readable.

    Attributes:
        index: position in ``input_ids``.
        token_id: vocabulary id.
        raw: the vocabulary string (``convert_ids_to_tokens``), e.g. ``"Ġworld"``.
        text: exact text this token (or its byte group) contributes, e.g. ``" world"``.
        group_start: index of the first token of its character group.
        group_size: tokens in the group (1 unless a character spans several byte tokens).
        special: the token is a special token ([CLS], <|im_start|> ...).
    """

    index: int
    token_id: int
    raw: str
    text: str
    group_start: int
    group_size: int
    special: bool

    byte_hex: str = ""

    @property
    def label(self) -> str:
        """Short display label: whitespace made visible, group position for split characters,
        and ``‹E4 BB›`` (the token's bytes) for a byte token that is only part of a character."""
        if REPLACEMENT in self.text and self.byte_hex:
            return f"‹{self.byte_hex}›"
        text = visible(self.text) if self.text else self.raw
        if self.group_size > 1:
            text = f"{text} ({self.index - self.group_start + 1}/{self.group_size})"
        return text


def visible(text: str) -> str:
    """Make whitespace-only or newline-bearing token text visible: ``\\n`` -> ``↵``, a
    leading space -> ``␣`` ("Transformer Explainer" style), other text unchanged."""
    out = "".join(_WHITESPACE_MARKS.get(ch, ch) for ch in text)
    if out.startswith(" "):
        out = "␣" + out[1:]
    return out


def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's ``bytes_to_unicode`` table (byte-level BPE vocab chars -> bytes)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


_BYTE_DECODER = _byte_decoder()


def token_bytes(raw: str) -> bytes | None:
    """The bytes behind a raw vocabulary string, when the tokenizer works on bytes:
    SentencePiece byte fallback ``<0xE4>`` or a byte-level BPE string like ``ä»``.
    Returns None when ``raw`` is not byte-encoded."""
    if len(raw) == 6 and raw.startswith("<0x") and raw.endswith(">"):
        try:
            return bytes([int(raw[3:5], 16)])
        except ValueError:
            return None
    if raw and all(ch in _BYTE_DECODER for ch in raw):
        return bytes(_BYTE_DECODER[ch] for ch in raw)
    return None


def _is_wordpiece(tokenizer) -> bool:
    """True for WordPiece tokenizers (BERT family): fast backend model or ``##`` convention."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return type(backend.model).__name__ == "WordPiece"
    return getattr(tokenizer, "wordpieces_prefix", None) == "##" or hasattr(tokenizer, "wordpiece_tokenizer")


def _decode(tokenizer, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def readable_tokens(tokenizer, input_ids) -> list[TokenPiece]:
    """Readable pieces for ``input_ids`` (a list of ints or a 1-D tensor), one per token.

    Args:
        tokenizer: any Hugging Face tokenizer.
        input_ids: token ids of one sequence, length n.

    Returns:
        n :class:`TokenPiece` s; ``"".join`` of the texts of group starts equals the
        decoded string (for tokenizers whose decode is prefix-stable).

    Cost: O(n) decodes of growing prefixes (fine for n <= a few thousand).
    """
    ids = [int(i) for i in (input_ids.tolist() if hasattr(input_ids, "tolist") else input_ids)]
    raws = tokenizer.convert_ids_to_tokens(ids)
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    if _is_wordpiece(tokenizer):
        # WordPiece works on whole characters (no byte pieces). Its decode puts a space between
        # every pair of word-start tokens ("< / b >"), which would show spaces that are not in
        # the text; so the label is the vocabulary string with the "##" continuation mark removed.
        return [
            TokenPiece(index=i, token_id=t, raw=str(r), text=str(r)[2:] if str(r).startswith("##") else str(r),
                       group_start=i, group_size=1, special=t in special_ids)
            for i, (t, r) in enumerate(zip(ids, raws))
        ]
    pieces: list[TokenPiece] = []
    stable_text = ""  # decode of ids[:stable_end], which ends on a whole character
    stable_end = 0
    i = 0
    n = len(ids)
    while i < n:
        j = i
        text = _decode(tokenizer, ids[: j + 1])
        # extend the group while the decoded text ends inside a character (max 8 tokens:
        # a UTF-8 character has at most 4 bytes; a real U+FFFD in the text stops it too)
        while text.endswith(REPLACEMENT) and j + 1 < n and j - i < 8:
            j += 1
            text = _decode(tokenizer, ids[: j + 1])
        if j > i and REPLACEMENT in text[len(stable_text):]:
            # the bytes never formed a whole character (stray byte token): keep it alone
            j = i
            text = _decode(tokenizer, ids[: j + 1])
        if text.startswith(stable_text):
            piece_text = text[len(stable_text):]
        else:  # decoder merged differently (e.g. WordPiece spacing): diff on common prefix
            k = 0
            while k < min(len(text), len(stable_text)) and text[k] == stable_text[k]:
                k += 1
            piece_text = text[k:]
        size = j - i + 1
        for pos in range(i, j + 1):
            raw_bytes = token_bytes(str(raws[pos])) if REPLACEMENT in piece_text else None
            pieces.append(
                TokenPiece(
                    index=pos,
                    token_id=ids[pos],
                    raw=str(raws[pos]),
                    text=piece_text,
                    group_start=i,
                    group_size=size,
                    special=ids[pos] in special_ids,
                    byte_hex=raw_bytes.hex(" ").upper() if raw_bytes else "",
                )
            )
        stable_text = text
        stable_end = j + 1
        i = j + 1
    assert stable_end == n
    return pieces


@dataclass(frozen=True)
class TokenChip:
    """One chip of a token view: a whole character (or characters) even when the tokenizer
    split it into several byte pieces (``今`` = two byte-level BPE tokens of SmolLM2).

    Attributes:
        label: the readable text of the chip (whitespace made visible, see :func:`visible`);
            never a raw byte-level string.
        start: index of its first token in ``input_ids``.
        token_ids: the vocabulary ids of its pieces, in order.
        raws: the pieces' raw vocabulary strings (``"ä»"``, ``"Ĭ"``): for hover only.
    """

    label: str
    start: int
    token_ids: tuple[int, ...]
    raws: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of tokens (pieces) merged into this chip (1 for an ordinary token)."""
        return len(self.token_ids)

    @property
    def raw(self) -> str:
        """Raw vocabulary strings of the pieces, space-separated (hover text)."""
        return " ".join(self.raws)

    @property
    def token_id(self) -> str:
        """Ids of the pieces, space-separated (hover text)."""
        return " ".join(str(i) for i in self.token_ids)


def group_spans(pieces: list[TokenPiece]) -> list[tuple[int, int]]:
    """``(start, end)`` position spans (end exclusive) of the chips of ``pieces``: one span
    per character group of :func:`readable_tokens` (``group_start``/``group_size``), one per
    token otherwise. A group cut short (its pieces not all present) is kept token by token."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(pieces)
    while i < n:
        p = pieces[i]
        end = i + p.group_size
        whole = (p.group_size > 1 and p.group_start == p.index and end <= n
                 and all(pieces[k].group_start == p.index for k in range(i, end)))
        spans.append((i, end) if whole else (i, i + 1))
        i = end if whole else i + 1
    return spans


def token_chips(pieces: list[TokenPiece]) -> list[TokenChip]:
    """Merge the byte pieces of each split character into one chip (see :class:`TokenChip`).

    Args:
        pieces: :func:`readable_tokens` output for one sequence, in order.

    Returns:
        chips in order; ``sum(c.size for c in chips) == len(pieces)``.
    """
    chips = []
    for a, b in group_spans(pieces):
        first = pieces[a]
        label = visible(first.text) if b - a > 1 else first.label
        chips.append(TokenChip(label=label, start=first.index,
                               token_ids=tuple(p.token_id for p in pieces[a:b]),
                               raws=tuple(p.raw for p in pieces[a:b])))
    return chips


def token_labels(tokenizer, input_ids) -> list[str]:
    """Display labels (see :attr:`TokenPiece.label`) for ``input_ids``."""
    return [p.label for p in readable_tokens(tokenizer, input_ids)]


class Utf8SafeDecoder:
    """Incremental decoder for streaming: feed token ids, get text that never ends inside
    a UTF-8 character (text is held back while decoding ends in U+FFFD)."""

    def __init__(self, tokenizer, skip_special_tokens: bool = True):
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.ids: list[int] = []
        self.emitted = ""

    def push(self, token_ids) -> str:
        """Add token ids; return the newly completed text (possibly "")."""
        self.ids.extend(int(t) for t in token_ids)
        text = self.tokenizer.decode(
            self.ids,
            skip_special_tokens=self.skip_special_tokens,
            clean_up_tokenization_spaces=False,
        )
        if text.endswith(REPLACEMENT):
            return ""
        delta = text[len(self.emitted):]
        self.emitted = text
        return delta

    def flush(self) -> str:
        """Text still held back at the end of the stream. Bytes of a character the stream
        stopped in the middle of (e.g. at max_new_tokens) are dropped, not shown as U+FFFD."""
        text = self.tokenizer.decode(
            self.ids,
            skip_special_tokens=self.skip_special_tokens,
            clean_up_tokenization_spaces=False,
        ).rstrip(REPLACEMENT)
        delta = text[len(self.emitted):]
        self.emitted = text
        return delta


# --------------------------------------------------------------------------- user text → ids
ST_PLAIN_TEXT = {"processing_kwargs": {"text": {"split_special_tokens": True}}}
"""Keyword arguments for ``SentenceTransformer.encode`` (sentence-transformers 5+
``processing_kwargs``, passed to the tokenizer): a typed ``[SEP]`` is ordinary pieces."""
_SLOT = "\ue000llmlab-slot-{}\ue001"  # private-use characters: never in a chat template


def encode_plain(tokenizer, text: str) -> list[int]:
    """Token ids of user or model ``text`` as plain text: ``"<|im_end|>"`` typed by a person
    becomes ordinary pieces (``<``, ``|``, ``im``...), never the control token. Uses the
    ``split_special_tokens=True`` option of Hugging Face tokenizers; no special tokens are
    added (no BOS/EOS/CLS).

    Returns:
        list of ints (empty for ``""``).
    """
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False, split_special_tokens=True,
                          verbose=False)["input_ids"])


def encode_chat(tokenizer, messages: list[dict], add_generation_prompt: bool = True,
                suffix: str = "") -> tuple[list[int], list[tuple[int, int]], str]:
    """Apply the tokenizer's chat template to ``messages`` and tokenise so that only the
    template's own markup can produce special tokens; every message content (user text,
    examples, replies) is tokenised with :func:`encode_plain`.

    The template is rendered around placeholders (private-use characters), the rendered
    string is split at them, template pieces are tokenised normally (``<|im_start|>`` → id 1)
    and content pieces as plain text, then the ids are concatenated. Pieces meet at the
    template's newlines/markers, where byte-level BPE pre-tokenisers split anyway.

    Args:
        messages: ``[{"role": ..., "content": str}, ...]``.
        add_generation_prompt: open the assistant turn at the end.
        suffix: plain text appended after the template (e.g. an answer prefix).

    Returns:
        ``(input_ids, spans, text)``: ids; ``spans[i] = (start, end)`` token positions of
        message ``i``'s content; ``text`` the rendered string (contents inserted literally).

    Raises:
        ValueError: the template changed a message content (placeholder not found once).
    """
    slots = [_SLOT.format(i) for i in range(len(messages))]
    shaped = [{**m, "content": s} for m, s in zip(messages, slots)]
    rendered = tokenizer.apply_chat_template(shaped, tokenize=False, add_generation_prompt=add_generation_prompt)
    ids: list[int] = []
    spans: list[tuple[int, int]] = []
    text = ""
    rest = rendered
    for m, slot in zip(messages, slots):
        if rest.count(slot) != 1:
            raise ValueError("the chat template does not insert message contents verbatim")
        head, rest = rest.split(slot)
        if head:
            ids += tokenizer(head, add_special_tokens=False, verbose=False)["input_ids"]
        content = str(m.get("content", ""))
        start = len(ids)
        ids += encode_plain(tokenizer, content)
        spans.append((start, len(ids)))
        text += head + content
    if rest:
        ids += tokenizer(rest, add_special_tokens=False, verbose=False)["input_ids"]
    ids += encode_plain(tokenizer, suffix)
    return ids, spans, text + rest + suffix
