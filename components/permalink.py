"""Permalinks: a page's inputs and settings <-> URL query parameters, validated like input.

Every page declares a *schema*: a list of :class:`Param` (URL name, session-state key, kind,
default, range/choices). :func:`parse` turns untrusted query parameters into values (wrong
types, out-of-range values and unknown keys are dropped, each with a notice, never an
exception); :func:`encode` turns the current values into query parameters (defaults left
out, so links stay short).

Long text is compressed: ``"z1." + base64url(zlib(utf-8))``; decompression is bounded
(:data:`MAX_TEXT_CHARS`), so a crafted link cannot inflate memory. When a link would still
exceed :data:`MAX_LINK_CHARS`, the longest text values are left out and a notice says so.

Pure module (no streamlit); :mod:`components.ui` binds it to ``st.query_params``.
"""
from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from components.messages import Message, MessageError

TEXT = "text"
INT = "int"
FLOAT = "float"
BOOL = "bool"
CHOICE = "choice"
TEXTS = "texts"
KINDS = (TEXT, INT, FLOAT, BOOL, CHOICE, TEXTS)

COMPRESSED_PREFIX = "z1."
PLAIN_TEXT_MAX = 160
"""Text up to this many URL-quoted characters goes into a link as is; longer text is compressed."""
MAX_TEXT_CHARS = 100_000
"""Largest text (characters) a link may carry, also after decompression."""
MAX_ITEMS = 2_000
"""Largest list (:data:`TEXTS`) a link may carry."""
MAX_LINK_CHARS = 7_500
"""Budget for the query string of a link (characters). Browsers accept more, but chat tools,
slides and mail clients often cut links around 8 000 characters."""
RUN = "run"
"""Reserved query parameter: ``run=1`` asks the page to compute its result on opening."""


@dataclass(frozen=True)
class Param:
    """One setting carried in a link.

    Attributes:
        name: query-parameter name in the URL (short, e.g. ``"temp"``).
        state: session-state key of the widget it fills (e.g. ``"p_gen_temp"``).
        kind: one of :data:`KINDS`.
        default: the value a fresh session starts with; not written into links.
        lo, hi: inclusive range for :data:`INT` / :data:`FLOAT`.
        choices: allowed values for :data:`CHOICE` (compared as strings, returned as the
            matching choice object).
        max_chars: longest accepted :data:`TEXT` (and each :data:`TEXTS` item), characters.
    """

    name: str
    state: str
    kind: str
    default: Any
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None
    max_chars: int = MAX_TEXT_CHARS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if self.kind == CHOICE and not self.choices:
            raise ValueError(f"choice parameter {self.name!r} needs choices")


class LinkValueError(MessageError):
    """A link value that cannot be used; ``message`` is a ``ui.link.reason.*`` code."""


# ------------------------------------------------------------------ text codec
def encode_text(text: str) -> str:
    """Text as it goes into a link: unchanged when short, else compressed (``z1.`` prefix).

    Text that itself starts with the prefix is always compressed, so decoding is unambiguous.
    """
    if len(quote(text, safe="")) <= PLAIN_TEXT_MAX and not text.startswith(COMPRESSED_PREFIX):
        return text
    packed = zlib.compress(text.encode("utf-8"), 9)
    return COMPRESSED_PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_text(raw: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Inverse of :func:`encode_text`.

    Raises:
        ValueError: corrupt compressed data, invalid UTF-8, or longer than ``max_chars``
            (checked while decompressing: at most ``4 * max_chars + 4`` bytes are inflated).
    """
    if raw.startswith(COMPRESSED_PREFIX):
        body = raw[len(COMPRESSED_PREFIX):]
        try:
            packed = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
            inflater = zlib.decompressobj()
            data = inflater.decompress(packed, 4 * max_chars + 4)
        except (ValueError, zlib.error) as exc:
            raise LinkValueError("ui.link.reason.corrupt") from exc
        if inflater.unconsumed_tail or len(data) > 4 * max_chars:
            raise LinkValueError("ui.link.reason.text_too_long")
        if not inflater.eof:
            raise LinkValueError("ui.link.reason.corrupt")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LinkValueError("ui.link.reason.not_utf8") from exc
    else:
        text = raw
    if len(text) > max_chars:
        raise LinkValueError("ui.link.reason.text_too_long")
    return text


# ------------------------------------------------------------------ parsing
def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise LinkValueError("ui.link.reason.not_bool")


def parse_value(param: Param, raw: str) -> Any:
    """One query-parameter string -> a value of ``param``'s kind.

    Raises:
        ValueError: wrong type, NaN/inf, outside ``[lo, hi]``, not among ``choices``, too long.
    """
    if not isinstance(raw, str):
        raise LinkValueError("ui.link.reason.not_text")
    if param.kind == TEXT:
        return decode_text(raw, param.max_chars)
    if param.kind == TEXTS:
        data = json.loads(decode_text(raw, MAX_TEXT_CHARS * 10))
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise LinkValueError("ui.link.reason.not_texts")
        if len(data) > MAX_ITEMS or any(len(x) > param.max_chars for x in data):
            raise LinkValueError("ui.link.reason.list_too_long")
        return data
    if param.kind == BOOL:
        return _parse_bool(raw)
    if param.kind == CHOICE:
        for choice in param.choices or ():
            if str(choice) == raw:
                return choice
        raise LinkValueError("ui.link.reason.not_choice")
    if len(raw) > 40:
        raise LinkValueError("ui.link.reason.not_number")
    if param.kind == INT:
        value: float = int(raw.strip())
    else:
        value = float(raw.strip())
        if not math.isfinite(value):
            raise LinkValueError("ui.link.reason.not_finite")
    if (param.lo is not None and value < param.lo) or (param.hi is not None and value > param.hi):
        raise LinkValueError("ui.link.reason.out_of_range")
    return value


def parse(query: Mapping[str, Any], schema: Sequence[Param]) -> tuple[dict[str, Any], list[Message]]:
    """Validate untrusted query parameters against ``schema``.

    Args:
        query: ``{name: str | list[str]}`` (a list: the last value counts, as in Streamlit).
        schema: the page's parameters (plus any global ones).

    Returns:
        ``({state_key: value}, notices)``: only valid parameters; every rejected one gives a
        notice ``Message("ui.link.ignored", {"name": ..., "reason": <a ui.link.reason.* Message>})``. Unknown names and the
        reserved :data:`RUN` are skipped silently. Never raises.
    """
    by_name = {p.name: p for p in schema}
    values: dict[str, Any] = {}
    notices: list[Message] = []
    for name, raw in query.items():
        param = by_name.get(name)
        if param is None:
            continue
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else ""
        try:
            values[param.state] = parse_value(param, raw)
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            reason = exc.message if isinstance(exc, MessageError) else Message("ui.link.reason.invalid")
            notices.append(Message("ui.link.ignored", {"name": name[:40], "reason": reason}))
    return values, notices


def wants_run(query: Mapping[str, Any]) -> bool:
    """Whether the link asks the page to compute its result on opening (``run=1``)."""
    raw = query.get(RUN)
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else ""
    try:
        return _parse_bool(str(raw)) if raw is not None else False
    except ValueError:
        return False


# ------------------------------------------------------------------ encoding
def encode_value(param: Param, value: Any) -> str:
    """A value of ``param`` as it goes into a link (inverse of :func:`parse_value`)."""
    if param.kind == TEXT:
        return encode_text(str(value))
    if param.kind == TEXTS:
        return encode_text(json.dumps([str(v) for v in value], ensure_ascii=False, separators=(",", ":")))
    if param.kind == BOOL:
        return "1" if value else "0"
    if param.kind == FLOAT:
        return repr(float(value))
    return str(value)


def encode(values: Mapping[str, Any], schema: Iterable[Param],
           budget: int = MAX_LINK_CHARS) -> tuple[dict[str, str], list[Message]]:
    """Current values -> query parameters, defaults left out.

    Args:
        values: ``{state_key: value}`` (e.g. ``st.session_state``); missing keys are skipped.
        schema: the parameters to write.
        budget: maximum length of the URL-quoted query string, characters.

    Returns:
        ``({name: str}, notices)``. If the query would exceed ``budget``, the longest
        :data:`TEXT`/:data:`TEXTS` values are left out, each with a notice
        ``("ui.link.too_long", {"name": ..., "chars": ...})``.
    """
    out: dict[str, str] = {}
    params: dict[str, Param] = {}
    for param in schema:
        if param.state not in values:
            continue
        value = values[param.state]
        if value is None or value == param.default:
            continue
        try:
            out[param.name] = encode_value(param, value)
        except (TypeError, ValueError):
            continue
        params[param.name] = param
    notices: list[Message] = []

    def size() -> int:
        return sum(len(quote(k, safe="")) + len(quote(v, safe="")) + 2 for k, v in out.items())

    while size() > budget:
        texts = [n for n in out if params[n].kind in (TEXT, TEXTS)]
        if not texts:
            break
        longest = max(texts, key=lambda n: len(out[n]))
        value = values[params[longest].state]
        chars = len(value) if params[longest].kind == TEXT else sum(len(v) for v in value)
        notices.append(Message("ui.link.too_long", {"name": longest, "chars": chars}))
        del out[longest]
    return out, notices


def canonical(query: Mapping[str, Any]) -> str:
    """Order-independent fingerprint of a query mapping (to tell our own writes from new links)."""
    items = []
    for k, v in query.items():
        if isinstance(v, (list, tuple)):
            v = v[-1] if v else ""
        items.append((str(k), str(v)))
    return json.dumps(sorted(items), ensure_ascii=False)


def free_encode(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode ad-hoc cross-link parameters by Python type (str → text codec, list → texts,
    bool → 1/0, numbers → str), for linking into another page without importing its schema."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, bool):
            out[name] = "1" if value else "0"
        elif isinstance(value, str):
            out[name] = encode_text(value)
        elif isinstance(value, (list, tuple)):
            out[name] = encode_text(json.dumps([str(v) for v in value], ensure_ascii=False, separators=(",", ":")))
        elif value is not None:
            out[name] = str(value)
    return out
