"""The one message type that compute code gives the UI: a code plus parameters.

Compute modules never word a message in a UI language. They return :class:`Message` values
(notices: what the app adapted about the input) and raise :class:`MessageError` (input it
cannot use); the UI translates both with :func:`render` (``components.ui.say``). A code is an
i18n key of ``locales/<lang>/<namespace>.toml`` (``"classification.msg.no_labels"``); params
fill its ``{placeholders}``. Params are values, not sentences: numbers, user text, names.

Pure module (no streamlit); ``str()`` of either type is the English text, for logs and
exception chains only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components import i18n


@dataclass(frozen=True)
class Message:
    """A message for the user: ``code`` (i18n key) and ``params`` (its placeholder values).

    Equal messages compare equal (so a page can drop notices it has already shown); hashable
    by code and the ``repr`` of the params.
    """

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.code, repr(sorted(self.params.items()))))

    def __str__(self) -> str:
        return render(self, i18n.DEFAULT_LANG)


class MessageError(ValueError):
    """Input that cannot be used; ``message`` says why (a :class:`Message`).

    ``MessageError(code, **params)``; ``str(exc)`` is the English text (logs only).
    """

    def __init__(self, code: str, **params: Any):
        self.message = Message(code, params)
        super().__init__(str(self.message))


def render(item: Message | BaseException | str, lang: str,
           escape: Callable[[str], str] | None = None) -> str:
    """``item`` in ``lang``: a :class:`Message` / :class:`MessageError` translated, anything
    else (a plain string, another exception) as ``str``.

    A param that is itself a :class:`Message` is rendered in ``lang`` too; a list/tuple param
    is its items rendered and joined with ``"; "`` (lists of named items in one notice).
    ``escape`` (e.g. a markdown escaper) is applied to every string param, so user text in a
    message is shown literally while the translated sentence keeps its own formatting.
    """
    if isinstance(item, MessageError):
        item = item.message
    if not isinstance(item, Message):
        return str(item)
    params = {name: _param(value, lang, escape) for name, value in item.params.items()}
    return i18n.translate(lang, item.code, **params)


def _param(value: Any, lang: str, escape: Callable[[str], str] | None) -> Any:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(_param(v, lang, escape)) for v in value)
    if isinstance(value, Message):
        return render(value, lang, escape)
    return escape(value) if escape is not None and isinstance(value, str) else value
