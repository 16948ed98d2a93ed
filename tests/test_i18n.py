"""Language: every key in both languages, same placeholders, and no English literal left in a page."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from components import i18n

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]
PAGE_FILES += sorted((ROOT / "components").glob("views_*.py"))  # the pages' views: UI text too


def _singulars(table: dict[str, str]) -> set[str]:
    return {k for k in table if k.endswith(i18n.ONE_SUFFIX) and k.removesuffix(i18n.ONE_SUFFIX) in table}


def test_both_languages_have_the_same_keys_and_placeholders():
    """Same keys and placeholders in both languages; a singular ``<key>_one`` form is a
    language's own (English has them, 中文 has no grammatical number)."""
    en, zh = i18n.strings("en"), i18n.strings("zh")
    assert en, "no English strings found"
    assert sorted(set(en) - set(zh) - _singulars(en)) == [], "keys missing in zh"
    assert sorted(set(zh) - set(en) - _singulars(zh)) == [], "keys missing in en"
    bad = [k for k in set(en) - _singulars(en) if i18n.placeholders(en[k]) != i18n.placeholders(zh[k])]
    assert bad == [], f"placeholders differ: {bad}"


def test_singular_forms_count_n_and_use_no_other_placeholder():
    """A ``<key>_one`` form exists only beside a plural sentence counting ``{n}``, and its
    placeholders are among the plural's (it is chosen by ``n``, filled from the same values)."""
    for lang in i18n.LANGS:
        table = i18n.strings(lang)
        for key in _singulars(table):
            base = table[key.removesuffix(i18n.ONE_SUFFIX)]
            assert "n" in i18n.placeholders(base), f"{lang}:{key}: its plural does not count n"
            assert i18n.placeholders(table[key]) <= i18n.placeholders(base), f"{lang}:{key}"


def test_english_counts_agree_with_their_noun():
    """English says "1 row was dropped" and "2 rows were dropped"; 中文 has one form;
    no English sentence hedges with "(s)"."""
    assert i18n.translate("en", "textio.blank_rows", n=1) == "1 row with blank text was dropped."
    assert i18n.translate("en", "textio.blank_rows", n=2) == "2 rows with blank text were dropped."
    assert i18n.translate("en", "textio.blank_rows", n="1,000") == "1,000 rows with blank text were dropped."
    assert i18n.translate("zh", "textio.blank_rows", n=1) == i18n.translate("zh", "textio.blank_rows", n="1")
    hedged = [k for k, v in i18n.strings("en").items() if re.search(r"\w\((s|es)\)", v)]
    assert hedged == [], f"plural hedges: {hedged}"


def test_every_namespace_file_exists_in_both_languages():
    en = {p.name for p in (i18n.LOCALE_DIR / "en").glob("*.toml")}
    zh = {p.name for p in (i18n.LOCALE_DIR / "zh").glob("*.toml")}
    assert en == zh


def test_chinese_strings_are_translated():
    """A zh string identical to its English one is a missed translation (short technical
    tokens such as "CSV", "PCA" or formulas are allowed)."""
    en, zh = i18n.strings("en"), i18n.strings("zh")
    same = [k for k in en if k in zh and en[k] == zh[k] and len(re.findall(r"[A-Za-z]{3,}", en[k])) >= 3]
    assert same == [], f"untranslated: {same}"


def test_translate_fills_placeholders_and_falls_back():
    assert i18n.translate("zh", "ui.present.example", i=2, n=4) == "示例 2 / 4"
    assert i18n.translate("en", "ui.present.example", i=2, n=4) == "Example 2 of 4"
    assert i18n.translate("xx", "ui.present.example", i=1, n=1) == "Example 1 of 1"
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.normalize_lang("zh-CN") == "zh" and i18n.normalize_lang("<script>") == "en"


# ---------------------------------------------------------------- no hard-coded UI text in pages
WORDS = re.compile(r"[A-Za-z]{2,}[,.:;!?'’()-]*\s+[A-Za-z]{2,}")
UI_CALLS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "button", "toggle", "checkbox",
    "radio", "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input", "text_area",
    "file_uploader", "info", "warning", "error", "success", "metric", "expander", "tabs", "popover",
    "download_button", "link_button", "page_link", "segmented_control", "pills", "spinner", "toast",
}


def _literal_violations(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                docstrings.add(id(body[0].value))
    found = []

    def flag(node, why):
        line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
        end = lines[getattr(node, "end_lineno", node.lineno) - 1]
        if "i18n: ok" in line or "i18n: ok" in end:
            return
        found.append(f"{path.name}:{node.lineno}: {why}: {line.strip()[:90]}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if WORDS.search(node.value):
                flag(node, "English literal")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UI_CALLS:
            args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in ("label", "help", "body")]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(r"[A-Za-z]{3,}", arg.value):
                    flag(arg, "UI literal")
    return found


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_pages_take_visible_text_from_the_locale_files(path):
    assert _literal_violations(path) == []
