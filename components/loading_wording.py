"""A model-loading failure worded in a UI language (``locales/<lang>/loading.toml``).

UI side of the message contract (:mod:`components.messages`): :mod:`components.loading` raises
:class:`~components.loading.ModelUnavailableError` with a ``wording``
(:class:`~components.messages.Message`: a ``loading.error.*`` code, the model's key and the
literal details: source kind, paths, library messages, commands in backticks); this module puts
the model's name and the source in the asked language around those details. No streamlit.
"""
from __future__ import annotations

from typing import Any

from components import i18n
from components.catalog import ModelSpec, get_spec
from components.messages import Message, render
from components.textio import markdown_literal

UNAVAILABLE = "loading.error.unavailable"
"""Code of the "no usable source" message (:func:`components.loading.unavailable_wording`)."""


def word(message: Message, spec: ModelSpec, lang: str, markdown: bool = True) -> str:
    """``message`` (a ``loading.error.*`` wording of a failure to load ``spec``) in ``lang``.

    With ``markdown``, the model names and inserted details (paths, library messages) are
    escaped for a markdown element (:func:`components.textio.markdown_literal`) while the code
    spans the loader put around ids and commands are kept; without it, everything as is.
    """
    def name(s: ModelSpec) -> str:
        text = i18n.model_name(s, lang)
        return markdown_literal(text) if markdown else text

    params: dict[str, Any] = dict(message.params)
    if message.code == UNAVAILABLE:
        def tr(key: str, **values) -> str:
            return i18n.translate(lang, f"loading.{key}", **values)

        reasons = tr("separator").join(render(r, lang) for r in params["reasons"])
        text = tr("error.unavailable", name=name(spec), reasons=reasons)
        alt = params.get("alt")
        text += tr("error.use_alt", alt=name(get_spec(alt))) if alt else tr("error.to_use")
        return text + tr("error.how", env=params["env"])
    extra = {k: markdown_literal(str(v)) if markdown else str(v)
             for k, v in params.items() if k not in ("model", "source")}
    if "source" in params:
        extra["source"] = i18n.translate(lang, f"loading.source.{params['source']}")
    return i18n.translate(lang, message.code, name=name(spec), **extra)


def error_markdown(exc, lang: str) -> str:
    """A :class:`~components.loading.ModelUnavailableError` for a markdown element in ``lang``
    (:func:`word` of its ``wording``); its English ``markdown`` when it has no wording or the
    wording fails (a wording problem must not hide the error itself)."""
    if exc.wording is None:
        return exc.markdown
    try:
        return word(exc.wording, exc.spec, lang)
    except Exception:  # noqa: BLE001
        return exc.markdown
