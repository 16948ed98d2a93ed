"""Text and CSV input shared by every page that takes a batch of texts.

Pure pandas; no streamlit. Every function returns the data plus notices about what it
changed (encoding fallback, dropped blank rows, rows over the cap ...), and raises
:class:`InputError` for input it cannot use; both are :class:`components.messages.Message`
codes (``textio.*`` of ``locales/<lang>/textio.toml``) that the page translates.

Limits (see docs/security.md):
* upload size: ``server.maxUploadSize`` of ``.streamlit/config.toml`` (megabytes, MiB as
  Streamlit counts them), read from that file -- one number for Streamlit's uploader and
  :func:`read_csv_bytes`;
* rows: at most ``MAX_ROWS`` CSV rows / text lines are read; the rest are dropped with a
  notice (pages apply their own, smaller per-run caps on top).
"""
from __future__ import annotations

import codecs
import csv
import io
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from components.messages import Message, MessageError

BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
BINARY_MAGIC = (  # file signatures of formats people rename to .csv (first bytes of the file)
    (b"PK\x03\x04", "zip / xlsx / ods / docx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls / doc"),
    (b"%PDF", "pdf"), (b"\x1f\x8b", "gzip"), (b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"), (b"SQLite format 3\x00", "sqlite"),
)
DELIMITERS = ",\t;|"
"""Column separators recognised (``csv.Sniffer``): spreadsheets save "Unicode text" with tabs,
European locales use ``;``."""
MAX_NUL_SHARE = 0.1
"""Decoded text with more than this share of NUL characters is refused as binary (text can
hold a stray NUL -- kept, shown literally -- but a tenth of them is a binary file)."""
CONFIG_FILE = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"
STREAMLIT_DEFAULT_UPLOAD_MB = 200  # Streamlit's own default when the option is not set
MAX_ROWS = 100_000  # CSV rows / pasted lines read per input


def upload_limit_mb(config_file: Path = CONFIG_FILE) -> int:
    """``server.maxUploadSize`` (megabytes) from the app's ``.streamlit/config.toml``.

    Returns Streamlit's default (200) when the file or the option is missing, as Streamlit
    itself would. Raises nothing: an unreadable file also gives the default.
    """
    try:
        with open(config_file, "rb") as handle:
            value = tomllib.load(handle).get("server", {}).get("maxUploadSize")
        return int(value) if value is not None and int(value) > 0 else STREAMLIT_DEFAULT_UPLOAD_MB
    except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError):
        return STREAMLIT_DEFAULT_UPLOAD_MB


UPLOAD_LIMIT_MB = upload_limit_mb()
DEFAULT_MAX_BYTES = UPLOAD_LIMIT_MB * 1024 * 1024  # bytes; Streamlit counts an upload MB as MiB


class InputError(MessageError):
    """User input that cannot be used; ``message`` (a code and params) says why and what to do."""


def _m(code: str, **params) -> Message:
    return Message(code, params)


@dataclass
class CsvTable:
    """A decoded CSV upload.

    Attributes:
        frame: all columns as strings (no type guessing), index 0..n-1.
        encoding: the encoding that decoded it (Python codec name, e.g. "utf-8",
            "utf-16-le", "gb18030", "cp1252").
        delimiter: the column separator found (one of :data:`DELIMITERS`).
        notices: what was adapted (e.g. the cp1252 fallback).
    """

    frame: pd.DataFrame
    encoding: str
    notices: list[Message] = field(default_factory=list)
    delimiter: str = ","

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def too_large_message(size_bytes: int, max_bytes: int = DEFAULT_MAX_BYTES) -> Message:
    """The friendly message for an upload of ``size_bytes`` over ``max_bytes`` (both bytes)."""
    limit_mb, size_mb = max_bytes / 2**20, size_bytes / 2**20
    limit = f"{limit_mb:g} MB"
    shown = f"{size_mb:.1f}" if round(size_mb, 1) > limit_mb else f"{size_mb:.4f}"
    return _m("textio.too_large", size=shown, limit=limit)


def decode_text_bytes(data: bytes) -> tuple[str, str, list[Message]]:
    """Decode the bytes of a text file whose encoding is unknown.

    Order: a byte-order mark (UTF-8/16/32) decides; else strict UTF-8; else charset-normalizer's
    best guess (``charset_normalizer.from_bytes``, detects GB18030, Big5, Shift-JIS, UTF-16
    without BOM, Cyrillic code pages ...). When the guess is a single-byte code page and
    Windows-1252 decodes the bytes about as cleanly (charset-normalizer's ``mess_ratio`` at
    most 0.1 above the guess's), Windows-1252 wins: on short Western-European files the
    detector picks look-alike code pages (cp1257, cp850) that turn "crème" into "crčme".
    With no guess at all (a few bytes), Windows-1252 when it decodes them.

    Returns:
        (text, codec name, notices).

    Raises:
        InputError: the bytes are a known binary format (zip/xlsx, xls, pdf, images ...),
            undecodable, or decode to text of which over 10 % are NUL characters.
    """
    for magic, kind in BINARY_MAGIC:
        if data.startswith(magic):
            raise InputError("textio.binary", kind=kind)
    notices: list[Message] = []
    encoding = ""
    text = None
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data[len(bom):].decode(codec), codec
            except UnicodeDecodeError:
                raise InputError("textio.undecodable", encoding=codec) from None
            break
    if text is None:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _guess_decode(data)
            notices.append(_m("textio.cp1252" if encoding == "cp1252" else "textio.detected",
                                   encoding=encoding))
    control = text.count("\x00")
    if text and control > MAX_NUL_SHARE * len(text):
        raise InputError("textio.binary_control", n=f"{control:,}")
    return text, encoding, notices


def _guess_decode(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio
    from charset_normalizer.utils import is_multi_byte_encoding

    best = from_bytes(data).best()
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in cp1252
        western = None
    if best is None:  # too little text for statistics: Windows-1252 if its bytes fit
        if western is None:
            raise InputError("textio.undecodable_any")
        return western, "cp1252"
    if (western is not None and not is_multi_byte_encoding(best.encoding)
            and mess_ratio(western, maximum_threshold=1.0) <= best.chaos + 0.1):
        return western, "cp1252"
    return str(best), best.encoding


def sniff_delimiter(text: str) -> str:
    """The column separator of CSV ``text``: ``csv.Sniffer`` on the first 64 KiB, limited to
    :data:`DELIMITERS`; ``","`` when it cannot tell or the header line lacks the guess."""
    sample = text[:65536]
    header = sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = ""
    if not found or found not in header:
        counts = {d: header.count(d) for d in DELIMITERS}
        found = max(counts, key=counts.get) if max(counts.values()) else ","
    return found


def read_csv_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = MAX_ROWS) -> CsvTable:
    """Decode and parse CSV bytes of any common encoding and separator.

    Encoding: :func:`decode_text_bytes` (BOM, UTF-8, else charset-normalizer); separator:
    :func:`sniff_delimiter` (comma, tab -- spreadsheets' "Unicode text" --, semicolon, pipe).

    Args:
        data: raw file content.
        max_bytes: size cap in bytes (default: the app's upload limit, ``DEFAULT_MAX_BYTES``).
        max_rows: data rows kept (header excluded); further rows are not parsed and a notice
            says so.

    Raises:
        InputError: empty file, over ``max_bytes`` (message names the limit in MB), not text
            (binary such as an .xlsx renamed to .csv), not parseable as CSV, or no rows.
    """
    if not data:
        raise InputError("textio.file_empty")
    if len(data) > max_bytes:
        too_large = too_large_message(len(data), max_bytes)
        raise InputError(too_large.code, **too_large.params)
    text, encoding, notices = decode_text_bytes(data)
    delimiter = sniff_delimiter(text)
    if delimiter != ",":
        notices.append(_m("textio.delimiter_tab") if delimiter == "\t"
                       else _m("textio.delimiter", delimiter=delimiter))
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            skip_blank_lines=True, nrows=max_rows + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError("textio.not_csv", error=str(exc)) from None
    if frame.shape[1] == 0 or frame.empty:
        raise InputError("textio.no_rows")
    if len(frame) > max_rows:
        frame = frame.iloc[:max_rows]
        notices.append(_m("textio.row_cap", max_rows=f"{max_rows:,}"))
    frame.columns = [str(c).strip() for c in frame.columns]
    return CsvTable(frame=frame, encoding=encoding, notices=notices, delimiter=delimiter)


def column_texts(table: CsvTable, column: str,
                 label_column: str | None = None) -> tuple[pd.DataFrame, list[Message]]:
    """Texts (and optional labels) of one column, blank cells dropped.

    Returns:
        (frame with columns ``text`` [and ``label``] and the original ``row`` number
        (1-based, header excluded), notices such as "3 blank rows dropped").

    Raises:
        InputError: the column is missing (the message lists the columns) or has no text.
    """
    for col in (column, label_column):
        if col is not None and col not in table.frame.columns:
            raise InputError("textio.no_column", column=repr(col),
                                     columns=", ".join(repr(c) for c in table.columns))
    out = pd.DataFrame({"row": range(1, len(table.frame) + 1), "text": table.frame[column].astype(str)})
    if label_column is not None:
        out["label"] = table.frame[label_column].astype(str).str.strip()
    blank = out["text"].str.strip() == ""
    if label_column is not None:
        blank |= out["label"] == ""
    notices = []
    if blank.any():
        notices.append(_m("textio.blank_rows_labelled" if label_column is not None else "textio.blank_rows",
                               n=int(blank.sum())))
    out = out[~blank].reset_index(drop=True)
    if out.empty:
        raise InputError("textio.no_text", column=repr(column))
    return out, notices


def split_lines(text: str, max_items: int = MAX_ROWS) -> tuple[list[str], list[Message]]:
    """One item per non-blank line (surrounding whitespace kept out of the count).

    Args:
        text: the pasted text.
        max_items: items kept; further lines are dropped with a notice.

    Returns:
        (items, notices). Raises InputError when there is no non-blank line.
    """
    lines = (text or "").splitlines()
    items = [line.strip() for line in lines if line.strip()]
    if not items:
        raise InputError("textio.empty")
    blank = sum(1 for line in lines if not line.strip())
    notices = [_m("textio.blank_lines", n=blank)] if blank and len(lines) > 1 else []
    if len(items) > max_items:
        notices.append(_m("textio.line_cap", n=f"{len(items):,}", max_items=f"{max_items:,}"))
        items = items[:max_items]
    return items, notices


LABEL_SEP = " | "
"""Separates a line's text from its label: a pipe with a space on each side, so a text may
contain bare pipes (``<|im_start|>system``, ``a|b``)."""


def parse_labelled_lines(text: str, max_items: int = MAX_ROWS) -> tuple[pd.DataFrame, list[Message]]:
    """Lines of ``text | label`` (label optional). Only :data:`LABEL_SEP` (space, pipe, space)
    splits, the last one on the line; a line ending in ``" |"`` has an empty label (and the
    rest of the line, pipes included, is the text).

    At most ``max_items`` lines are read (see :func:`split_lines`).

    Returns:
        (frame with ``text`` and ``label`` ("" when none), notices).

    Raises:
        InputError: no non-blank line.
    """
    items, notices = split_lines(text, max_items=max_items)
    texts, labels = [], []
    for item in items:
        body, label = item, ""
        if item.endswith(LABEL_SEP.rstrip()):  # lines are stripped: "text |" = empty label
            body = item[: -len(LABEL_SEP.rstrip())]
        elif LABEL_SEP in item:
            body, label = item.rsplit(LABEL_SEP, 1)
        if body.strip():
            texts.append(body.strip())
            labels.append(label.strip())
        else:
            texts.append(item)
            labels.append("")
    return pd.DataFrame({"text": texts, "label": labels}), notices


_MD_PUNCTUATION = set("\\`*_{}[]()#+-.!|<>~$:='\"&%^@/;?,")


def markdown_literal(text: str) -> str:
    """Backslash-escape every ASCII punctuation character so that Streamlit's markdown
    (``st.info``/``st.warning``/``st.caption``) shows ``text`` literally: no emphasis, links,
    HTML, LaTeX (``$``), colour directives (``:red[...]``) or emoji shortcodes.

    CommonMark allows any ASCII punctuation to be backslash-escaped; the escaped text
    renders as the original characters. Newlines become spaces (messages are one line).
    """
    text = " ".join(str(text).splitlines())
    return "".join("\\" + ch if ch in _MD_PUNCTUATION else ch for ch in text)


TEXT_COLUMN_NAMES = ("text", "review", "sentence", "content", "文本", "评论", "句子", "内容")  # i18n: ok (header names)
"""Header names read as the text column (compared after :func:`header_key`), in no order of
preference: the leftmost column so named wins."""
LABEL_COLUMN_NAMES = ("label", "class", "category", "topic", "sentiment", "polarity", "标签", "类别")  # i18n: ok
"""Header names read as the label column (compared after :func:`header_key`)."""
GUESS_NAME, GUESS_LONGEST, GUESS_FIRST, GUESS_LAST = "name", "longest", "first", "last"  # i18n: ok (rule ids)


@dataclass(frozen=True)
class ColumnGuess:
    """A guessed column and the rule that chose it (``GUESS_*``: ``"name"``, ``"longest"``,
    ``"first"`` for the text column; ``"name"``, ``"last"`` for the label column)."""

    column: str
    rule: str


def header_key(name: str) -> str:
    """A header as compared with the name lists: NFKC-normalised (full-width letters become
    ASCII), stripped, case-folded."""
    return unicodedata.normalize("NFKC", str(name)).strip().casefold()


def _numeric_only(values: pd.Series) -> bool:
    """Every non-blank cell parses as a number (ids, ratings, scores); an all-blank column too."""
    cells = values.astype(str).str.strip()
    cells = cells[cells != ""]
    return cells.empty or bool(pd.to_numeric(cells, errors="coerce").notna().all())


def guess_text_column(frame: pd.DataFrame) -> ColumnGuess:
    """Which column of an uploaded table holds the texts.

    Rule, first that applies:

    1. ``"name"``: the leftmost column whose header is one of :data:`TEXT_COLUMN_NAMES`
       (English and Chinese; compared with :func:`header_key`, so ``" Review "`` and
       ``"ＴＥＸＴ"`` match);
    2. ``"longest"``: among the columns that are not numeric-only (ids, star ratings: see
       :func:`_numeric_only`), the one whose non-blank cells are longest on average
       (characters after stripping); the leftmost on a tie;
    3. ``"first"``: the first column (every column is numeric or blank).

    Args:
        frame: the table (cells as strings, as :func:`read_csv_bytes` returns), >= 1 column.

    Returns:
        :class:`ColumnGuess` with the column's header (``str``) and the rule used.

    Raises:
        ValueError: the frame has no column.
    """
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise ValueError("no column to guess from")
    named = {header_key(n) for n in TEXT_COLUMN_NAMES}
    for col in columns:
        if header_key(col) in named:
            return ColumnGuess(col, GUESS_NAME)
    best, best_len = None, -1.0
    for position, col in enumerate(columns):
        values = frame.iloc[:, position]
        if _numeric_only(values):
            continue
        cells = values.astype(str).str.strip()
        mean = float(cells[cells != ""].str.len().mean())
        if mean > best_len:
            best, best_len = col, mean
    if best is None:
        return ColumnGuess(columns[0], GUESS_FIRST)
    return ColumnGuess(best, GUESS_FIRST if best == columns[0] else GUESS_LONGEST)


def guess_label_column(frame: pd.DataFrame, text_column: str) -> ColumnGuess:
    """Which column of a labelled table holds the labels, given the text column.

    Rule: the leftmost column other than ``text_column`` whose header is one of
    :data:`LABEL_COLUMN_NAMES` (``"name"``); else the last column other than ``text_column``
    (``"last"``: "text,label"-shaped files put the label last); a one-column table gets that
    column (the page then says the two columns are the same).

    Returns:
        :class:`ColumnGuess`.

    Raises:
        ValueError: the frame has no column.
    """
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise ValueError("no column to guess from")
    others = [c for c in columns if c != text_column] or columns
    named = {header_key(n) for n in LABEL_COLUMN_NAMES}
    for col in others:
        if header_key(col) in named:
            return ColumnGuess(col, GUESS_NAME)
    return ColumnGuess(others[-1], GUESS_LAST)
