"""CSV files as people have them: spreadsheets' "Unicode text" (UTF-16 with BOM, tabs),
UTF-32, UTF-8 with BOM, Chinese legacy encodings, Windows-1252, and binaries renamed to .csv."""
from __future__ import annotations

import io
import zipfile

import pytest

from components import textio
from components.i18n import translate

ROWS = [("今天的天气很好，适合出去散步。", "positive"), ("Café crème, déjà vu – “naïve”", "negative"),
        ("a, b; c | d", "neutral")]


def _csv(rows, sep=",", header=("text", "label")) -> str:
    import csv

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


@pytest.mark.parametrize("codec,bom,expected", [
    ("utf-16-le", b"\xff\xfe", "utf-16-le"),
    ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"),
    ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32-be"),
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
])
@pytest.mark.parametrize("sep", ["\t", ","])
def test_bom_files_all_rows_and_columns(codec, bom, expected, sep):
    data = bom + _csv(ROWS, sep).encode(codec)
    table = textio.read_csv_bytes(data)
    assert table.encoding == expected and table.delimiter == sep
    assert table.columns == ["text", "label"]
    assert table.frame.values.tolist() == [list(r) for r in ROWS]
    assert (sep == "\t") == any("tab" in str(n) for n in table.notices)


def test_spreadsheet_unicode_text_export():
    """What "Save as → Unicode text" writes: UTF-16-LE with BOM, tab-separated, CRLF; Python's
    "utf-16" codec writes the BOM itself."""
    data = _csv(ROWS * 40, "\t").encode("utf-16")
    table = textio.read_csv_bytes(data)
    assert table.columns == ["text", "label"] and len(table.frame) == 120
    frame, _ = textio.column_texts(table, "text", "label")
    assert frame["text"].tolist()[:3] == [r[0] for r in ROWS]


@pytest.mark.parametrize("codec,rows", [
    ("gb18030", [("今天的天气很好，适合出去散步。", "positive"), ("这个产品质量太差了，我要退货。", "negative")]),
    ("big5", [("這部電影很好看，演員表演很自然。", "positive"), ("服務太差了，再也不來了。", "negative")]),
])
def test_chinese_legacy_encodings(codec, rows):
    table = textio.read_csv_bytes(_csv(rows).encode(codec))
    assert table.frame.values.tolist() == [list(r) for r in rows]
    assert table.encoding.replace("_", "").lower() in (codec, "gb18030" if codec == "gb18030" else "big5")
    assert any(table.encoding in str(n) for n in table.notices)


def test_windows_1252():
    rows = [("Café crème, déjà vu, naïve", "positive"), ("I loved it – the “best” film, 10€", "negative")]
    table = textio.read_csv_bytes(_csv(rows).encode("cp1252"))
    assert table.encoding == "cp1252" and table.frame.values.tolist() == [list(r) for r in rows]
    assert any("cp1252" in str(n) for n in table.notices)


def test_semicolon_separated():
    table = textio.read_csv_bytes(_csv([("one, two", "positive"), ("three", "negative")], ";").encode())
    assert table.delimiter == ";" and table.frame["text"].tolist() == ["one, two", "three"]


def test_single_column_with_commas_in_cells_stays_one_column():
    table = textio.read_csv_bytes(b'text\n"Hello, world"\n"Goodbye, moon; see you"\n')
    assert table.columns == ["text"] and table.frame["text"].tolist() == ["Hello, world", "Goodbye, moon; see you"]


def _xlsx_like() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buf.getvalue()


@pytest.mark.parametrize("data,key", [
    (_xlsx_like(), "textio.binary"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, "textio.binary"),
    (b"text\n" + b"ab\x00\x00\x00\x00" * 200, "textio.binary_control"),  # valid UTF-8, NUL-heavy
    (bytes(range(256)) * 8, "textio.undecodable_any"),
])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_binary_refused_with_translated_message(data, key, lang):
    from components.messages import render

    with pytest.raises(textio.InputError) as err:
        textio.read_csv_bytes(data)
    assert err.value.message.code == key
    msg = render(err.value, lang)
    expected = translate(lang, key, kind="\x01", n="\x01", encoding="\x01")
    assert msg.startswith(expected.split("\x01")[0]) and msg.endswith(expected.split("\x01")[-1]), msg
    if key == "textio.binary" and data.startswith(b"PK"):
        assert "xlsx" in msg


def test_bad_utf16_after_bom_is_a_message():
    with pytest.raises(textio.InputError, match="UTF-16|utf-16"):
        textio.read_csv_bytes(b"\xff\xfe" + b"a\x00\x00\xd8")  # lone surrogate


def test_only_space_pipe_space_separates_a_label():
    """A bare pipe (chat control markers, ``a|b``) stays in the text; only " | " splits, the
    last one; a line ending in " |" has an empty label; compose_lines reads back unchanged."""
    from components.embeddings import compose_lines

    frame, _ = textio.parse_labelled_lines(
        "<|im_start|>system\n<|im_start|>user | chat\na | b | c\nx|y |\nplain")
    assert frame["text"].tolist() == ["<|im_start|>system", "<|im_start|>user", "a | b", "x|y", "plain"]
    assert frame["label"].tolist() == ["", "chat", "c", "", ""]
    texts = ["<|im_start|>system", "a | b", "ends with |", "p|q"]
    labels = ["", "", "x | y", "lab"]
    body, _ = compose_lines(texts, labels)
    back, _ = textio.parse_labelled_lines(body)
    assert back["text"].tolist() == texts
    assert back["label"].tolist() == ["", "", "x / y", "lab"]
