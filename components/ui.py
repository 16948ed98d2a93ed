"""Small shared Streamlit widgets: model picker, error box, explainer panels, state keeping.

Conventions every page follows:
* widget keys that hold what a user typed or chose start with ``p_`` (``persist_key``) and
  the widget is created with ``persist_state="session"`` (Streamlit >= 1.6x), so the value
  survives moving to another page and back (by default Streamlit drops the state of widgets
  that are not rendered);
* user and model text is shown with :func:`show_literal` / ``st.text`` / ``st.code`` /
  dataframes -- never through markdown or HTML;
* loading errors go through :func:`model_error`, which names the model and offers the
  bundled alternative.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from components.catalog import ModelSpec, get_spec, models_for
from components.loading import LoadedModel, ModelUnavailableError

PERSIST_PREFIX = "p_"


def persist_key(name: str) -> str:
    """Widget key for a value the user sets (``p_<name>``); pass ``persist_state="session"``
    with it so the value is kept across page switches."""
    return PERSIST_PREFIX + name


def status_badge(spec: ModelSpec) -> str:
    """Cheap availability label for pickers (no network for bundled models)."""
    from components.loading import bundled_dir, hub_offline_forced, local_dir

    if bundled_dir(spec) is not None:
        return "bundled"
    if local_dir(spec) is not None:
        return "local"
    return "Hub" if not hub_offline_forced() else "Hub · offline"


def model_picker(task: str, name: str, label: str = "Model", help: str | None = None,
                 container=None) -> str:
    """Selectbox over the catalog models of ``task``; returns the chosen catalog key.

    The key is persisted as ``p_<name>``. An alternative-model button (see
    :func:`model_error`) writes to the same key.
    """
    where = container or st
    specs = models_for(task)
    keys = [s.key for s in specs]
    key = persist_key(name)
    if st.session_state.get(key) not in keys:
        st.session_state[key] = keys[0]
    return where.selectbox(
        label,
        keys,
        key=key, persist_state="session",
        format_func=lambda k: f"{get_spec(k).display_name}  [{status_badge(get_spec(k))}]",
        help=help or "Bundled models run offline. Hub models download from huggingface.co on first use.",
    )


def model_error(exc: ModelUnavailableError, picker_name: str | None = None) -> None:
    """Show a model-loading failure: what, why, and a button switching to the bundled model."""
    st.error(str(exc), icon="🔌")
    alt = exc.alternative
    if alt is not None and picker_name is not None:
        def _switch(key: str = persist_key(picker_name), value: str = alt.key) -> None:
            st.session_state[key] = value

        st.button(f"Use {alt.display_name}", on_click=_switch, key=f"switch_{picker_name}", type="primary")


def load_or_explain(key: str, picker_name: str | None = None) -> LoadedModel | None:
    """``cache.get_model(key)``, or None after showing :func:`model_error`."""
    from components.cache import get_model

    try:
        return get_model(key)
    except ModelUnavailableError as exc:
        model_error(exc, picker_name)
        return None


def explainer(title: str, body_md: str, expanded: bool = False) -> None:
    """A "what you are seeing" panel. ``body_md`` is the project's own trusted markdown."""
    with st.expander(f"💡 {title}", expanded=expanded):
        st.markdown(body_md)


def show_literal(text: str, height: int | str = "content", container=None) -> None:
    """Show user/model text exactly as typed: no markdown, LaTeX or HTML interpretation."""
    (container or st).code(text, language=None, wrap_lines=True, height=height)


def escape(text: str) -> str:
    """HTML-escape text before it goes into any HTML (plotly hover, highlighted tokens)."""
    return html.escape(str(text), quote=True)


def highlighted_tokens_html(pieces: list[tuple[str, float]], title: str = "") -> str:
    """HTML of tokens tinted by a signed weight in [-1, 1] (red negative, green positive).

    Every token string is escaped here, so the result is safe for
    ``st.markdown(..., unsafe_allow_html=True)``.
    """
    spans = []
    for text, weight in pieces:
        w = max(-1.0, min(1.0, float(weight)))
        colour = f"rgba(0,158,115,{abs(w):.2f})" if w >= 0 else f"rgba(213,94,0,{abs(w):.2f})"
        spans.append(
            f'<span title="{weight:+.3f}" style="background:{colour};padding:1px 2px;'
            f'border-radius:3px;white-space:pre-wrap">{escape(text)}</span>'
        )
    head = f"<div style='font-size:0.8em;opacity:0.7'>{escape(title)}</div>" if title else ""
    return head + "<div style='line-height:1.9'>" + "".join(spans) + "</div>"


def _chip(text: str, tip: str, background: str) -> str:
    """One token chip: escaped ``text`` with escaped ``tip`` on hover."""
    return (
        f'<span title="{escape(tip)}" style="background:{background};border:1px solid #ccc;'
        'border-radius:4px;padding:1px 4px;margin:1px;display:inline-block;'
        f'font-family:monospace;white-space:pre">{escape(text)}</span>'
    )


def token_chips_html(pieces) -> str:
    """HTML chips for readable tokens (``components.tokens.TokenPiece``): the readable label,
    with the raw vocabulary string and id on hover. Every string is escaped."""
    chips = [_chip(p.label, f"{p.raw} · id {p.token_id}", "#e8f1fa" if i % 2 else "#fdf1dc")
             for i, p in enumerate(pieces)]
    return "<div style='line-height:2'>" + "".join(chips) + "</div>"


def probability_chips_html(steps: list[dict]) -> str:
    """Generated tokens tinted by the probability the model gave them (darker = more
    confident); hover shows p, rank and the top alternatives. Every string is escaped."""
    chips = []
    for step in steps:
        alts = ", ".join(f"{a} {q:.2f}" for a, q in step["alternatives"])
        tip = f"p = {step['p']:.3f} (rank {step['rank']}) · alternatives: {alts} · raw {step['raw_token']}"
        chips.append(_chip(step["token"], tip, f"rgba(0,114,178,{0.08 + 0.6 * step['p']:.2f})"))
    return "<div style='line-height:2'>" + "".join(chips) + "</div>"


def notices(messages: list[str]) -> None:
    """Show adjustment notices (things the app changed about the input) as info boxes."""
    for msg in messages:
        st.info(msg, icon="ℹ️")


def run_guarded(fn: Callable, *args, **kwargs):
    """Call ``fn``; on an unexpected exception show a short error instead of a traceback
    and return None (the exception is still logged on the server)."""
    import logging

    try:
        return fn(*args, **kwargs)
    except ModelUnavailableError as exc:
        model_error(exc)
    except Exception as exc:  # last line of defence: never a traceback in the UI
        logging.getLogger("llm_lab").exception("unexpected error")
        st.error(f"Something went wrong: {type(exc).__name__}: {exc}", icon="⚠️")
    return None
