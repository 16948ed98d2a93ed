"""Text and CSV input shared by every page that takes a batch of texts.

Pure pandas; no streamlit. Every function returns the data plus human-readable notices
about what it changed (encoding fallback, dropped blank rows, rows over the cap ...), and
raises :class:`InputError` with a clear message for input it cannot use.

Limits (see README, "Security"):
* upload size: ``server.maxUploadSize`` of ``.streamlit/config.toml`` (megabytes, MiB as
  Streamlit counts them), read from that file -- one number for Streamlit's uploader and
  :func:`read_csv_bytes`;
* rows: at most ``MAX_ROWS`` CSV rows / text lines are read; the rest are dropped with a
  notice (pages apply their own, smaller per-run caps on top).
"""
from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from components.i18n import message

ENCODINGS = ("utf-8-sig", "cp1252")  # utf-8-sig also strips a BOM; cp1252 never fails to decode
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


class InputError(ValueError):
    """User input that cannot be used; the message says why and what to do."""


@dataclass
class CsvTable:
    """A decoded CSV upload.

    Attributes:
        frame: all columns as strings (no type guessing), index 0..n-1.
        encoding: the encoding that decoded it ("utf-8-sig" or "cp1252").
        notices: what was adapted (e.g. the cp1252 fallback).
    """

    frame: pd.DataFrame
    encoding: str
    notices: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


def too_large_message(size_bytes: int, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The friendly message for an upload of ``size_bytes`` over ``max_bytes`` (both bytes)."""
    limit_mb, size_mb = max_bytes / 2**20, size_bytes / 2**20
    limit = f"{limit_mb:g} MB"
    shown = f"{size_mb:.1f}" if round(size_mb, 1) > limit_mb else f"{size_mb:.4f}"
    return message("textio.too_large", size=shown, limit=limit)


def read_csv_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_rows: int = MAX_ROWS) -> CsvTable:
    """Decode and parse CSV bytes: UTF-8 (BOM stripped), else Windows-1252.

    Args:
        data: raw file content.
        max_bytes: size cap in bytes (default: the app's upload limit, ``DEFAULT_MAX_BYTES``).
        max_rows: data rows kept (header excluded); further rows are not parsed and a notice
            says so.

    Raises:
        InputError: empty file, over ``max_bytes`` (message names the limit in MB), not
            parseable as CSV, or no rows.
    """
    if not data:
        raise InputError(message("textio.file_empty"))
    if len(data) > max_bytes:
        raise InputError(too_large_message(len(data), max_bytes))
    notices: list[str] = []
    text = None
    encoding = ""
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    assert text is not None  # cp1252 with errors is impossible: use replace as last resort
    if encoding != "utf-8-sig":
        notices.append(message("textio.cp1252", encoding=encoding))
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True,
                            nrows=max_rows + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(message("textio.not_csv", error=str(exc))) from None
    if frame.shape[1] == 0 or frame.empty:
        raise InputError(message("textio.no_rows"))
    if len(frame) > max_rows:
        frame = frame.iloc[:max_rows]
        notices.append(message("textio.row_cap", max_rows=f"{max_rows:,}"))
    frame.columns = [str(c).strip() for c in frame.columns]
    return CsvTable(frame=frame, encoding=encoding, notices=notices)


def column_texts(table: CsvTable, column: str, label_column: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Texts (and optional labels) of one column, blank cells dropped.

    Returns:
        (frame with columns ``text`` [and ``label``] and the original ``row`` number
        (1-based, header excluded), notices such as "3 blank rows dropped").

    Raises:
        InputError: the column is missing (the message lists the columns) or has no text.
    """
    for col in (column, label_column):
        if col is not None and col not in table.frame.columns:
            raise InputError(message("textio.no_column", column=repr(col),
                                     columns=", ".join(repr(c) for c in table.columns)))
    out = pd.DataFrame({"row": range(1, len(table.frame) + 1), "text": table.frame[column].astype(str)})
    if label_column is not None:
        out["label"] = table.frame[label_column].astype(str).str.strip()
    blank = out["text"].str.strip() == ""
    if label_column is not None:
        blank |= out["label"] == ""
    notices = []
    if blank.any():
        notices.append(message("textio.blank_rows_labelled" if label_column is not None else "textio.blank_rows",
                               n=int(blank.sum())))
    out = out[~blank].reset_index(drop=True)
    if out.empty:
        raise InputError(message("textio.no_text", column=repr(column)))
    return out, notices


def split_lines(text: str, max_items: int = MAX_ROWS) -> tuple[list[str], list[str]]:
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
        raise InputError(message("textio.empty"))
    blank = sum(1 for line in lines if not line.strip())
    notices = [message("textio.blank_lines", n=blank)] if blank and len(lines) > 1 else []
    if len(items) > max_items:
        notices.append(message("textio.line_cap", n=f"{len(items):,}", max_items=f"{max_items:,}"))
        items = items[:max_items]
    return items, notices


def parse_labelled_lines(text: str, sep: str = "|", max_items: int = MAX_ROWS) -> tuple[pd.DataFrame, list[str]]:
    """Lines of ``text | label`` (label optional; the LAST ``sep`` splits, so text may contain it).

    At most ``max_items`` lines are read (see :func:`split_lines`).

    Returns:
        (frame with ``text`` and ``label`` ("" when none), notices).

    Raises:
        InputError: no non-blank line.
    """
    items, notices = split_lines(text, max_items=max_items)
    texts, labels = [], []
    for item in items:
        if sep in item:
            body, label = item.rsplit(sep, 1)
            if body.strip():
                texts.append(body.strip())
                labels.append(label.strip())
                continue
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
