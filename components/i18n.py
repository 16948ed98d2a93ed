"""UI strings in English and Simplified Chinese (中文), one place per language.

Strings live in ``locales/<lang>/<namespace>.toml`` (``locales/en/`` and ``locales/zh/``);
a key is ``"<namespace>.<name>"`` (nested TOML tables add dots: ``"generation.help.top_p"``).
Values may carry ``{placeholders}`` filled by :func:`translate`. ``tests/test_i18n.py`` fails
if a key or a placeholder is missing in either language.

Pure module (no streamlit): charts and reports can translate too; the UI reads the current
language through ``components.ui.t``.
"""
from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locales"
LANGS: tuple[str, ...] = ("en", "zh")
"""Supported language codes; the first is the default."""
LANG_NAMES = {"en": "English", "zh": "中文"}
DEFAULT_LANG = LANGS[0]


def _flatten(prefix: str, table: dict, out: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict):
            _flatten(key, value, out)
        else:
            out[key] = str(value)


@cache
def strings(lang: str) -> dict[str, str]:
    """All strings of ``lang`` as a flat ``{"namespace.key": text}`` dict.

    Raises:
        ValueError: ``lang`` is not one of :data:`LANGS`.
        tomllib.TOMLDecodeError: a locale file is not valid TOML.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    out: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(path.stem, tomllib.load(fh), out)
    return out


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in ``text`` (``str.format`` syntax)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Keep(dict):
    """format_map helper: a placeholder without a value stays as ``{name}``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


ONE_SUFFIX = "_one"
"""A language may give ``<key>_one``: the form used when the count ``n`` is 1 ("1 row was
dropped" beside "{n} rows were dropped"). Languages without grammatical number (中文) do not."""


def _is_one(count: object) -> bool:
    return count is not None and str(count).replace(",", "").strip() == "1"


def translate(lang: str, key: str, **values) -> str:
    """The string ``key`` in ``lang``, with ``{placeholders}`` filled from ``values``.

    When ``values["n"]`` is 1 and ``lang`` has ``<key>_one``, that singular form is used
    (:data:`ONE_SUFFIX`). Falls back to English, then to the key itself (so a missing string
    is visible, never an exception). Values are inserted as given: callers escape them before
    any HTML.
    """
    lang = lang if lang in LANGS else DEFAULT_LANG
    text = strings(lang).get(key + ONE_SUFFIX) if _is_one(values.get("n")) else None
    if text is None:
        text = strings(lang).get(key)
    if text is None:
        text = strings(DEFAULT_LANG).get(key, key)
    if values:
        try:
            return text.format_map(_Keep(values))
        except (ValueError, IndexError):  # a stray brace in a translation: show it unformatted
            return text
    return text


def normalize_lang(value: object) -> str:
    """A supported language code for ``value`` (``"zh-CN"`` → ``"zh"``), else the default."""
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGS else DEFAULT_LANG


def html_lang(lang: str) -> str:
    """The BCP 47 tag of UI language ``lang`` for an HTML ``lang`` attribute (``"zh"`` →
    ``"zh-CN"``: Simplified Chinese, which the locale files are written in)."""
    return "zh-CN" if normalize_lang(lang) == "zh" else "en"


_language_provider = lambda: DEFAULT_LANG  # noqa: E731 - replaced by components.ui at import


def set_language_provider(provider) -> None:
    """Register ``provider() -> lang`` (the UI registers the session's language), so pure
    modules can word their messages in the user's language without importing streamlit."""
    global _language_provider
    _language_provider = provider


def current_lang() -> str:
    """The language of the current user (the registered provider's answer, else English)."""
    try:
        return normalize_lang(_language_provider())
    except Exception:  # noqa: BLE001 - no session (tests, scripts): English
        return DEFAULT_LANG


def message(key: str, **values) -> str:
    """:func:`translate` in :func:`current_lang` — for messages built in pure modules
    (errors, notices) that the UI shows as they are."""
    return translate(current_lang(), key, **values)


def model_name(spec, lang: str | None = None) -> str:
    """The name of catalog model ``spec`` (a ``ModelSpec``) in ``lang`` (default: the current
    user's language): ``models.name.<key>`` of the locale files, else ``spec.display_name``."""
    name = strings(normalize_lang(lang) if lang else current_lang()).get(f"models.name.{spec.key}")
    return name or spec.display_name


def model_about(spec, lang: str | None = None) -> str:
    """One line about catalog model ``spec`` in ``lang``: ``models.about.<key>``, else
    ``spec.description``."""
    about = strings(normalize_lang(lang) if lang else current_lang()).get(f"models.about.{spec.key}")
    return about or spec.description
