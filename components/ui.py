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

import functools
import hashlib
import html
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from components import i18n, loading_wording, permalink, textio
from components.catalog import ModelSpec, get_spec, models_for
from components.loading import LoadedModel, ModelUnavailableError
from components.messages import render as render_message
from components.permalink import BOOL, CHOICE, INT, TEXT, TEXTS, Param

PERSIST_PREFIX = "p_"
PAGE_FILES = {
    "home": "app_pages/home.py",
    "generation": "app_pages/generation.py",
    "sentiment": "app_pages/sentiment.py",
    "classification": "app_pages/classification.py",
    "embeddings": "app_pages/embeddings.py",
    "attention": "app_pages/attention.py",
    "lens": "app_pages/lens.py",
}
"""Page id -> script path (the ids are also the URL paths and ``curated/<id>.json`` names)."""


def persist_key(name: str) -> str:
    """Widget key for a value the user sets (``p_<name>``); pass ``persist_state="session"``
    with it so the value is kept across page switches."""
    return PERSIST_PREFIX + name


def status_badge(spec: ModelSpec) -> str:
    """Cheap availability label for pickers (no network for bundled models)."""
    from components.loading import bundled_dir, hub_known_unreachable, local_dir

    if bundled_dir(spec) is not None:
        return t("ui.badge.bundled")
    if local_dir(spec) is not None:
        return t("ui.badge.local")
    return t("ui.badge.hub_offline") if hub_known_unreachable() else t("ui.badge.hub")


def _picker_label(spec: ModelSpec) -> str:
    """"name [badge]", without repeating what the display name already says ("(bundled)",
    "(124M, Hub)"): then the name alone, or just "[unavailable here]" for a Hub model while the
    Hub is known to be out of reach."""
    badge = status_badge(spec)
    # "(bundled, Q4_1 GGUF)" -> {"bundled", "q4_1 gguf"}
    said = {w.strip().lower() for group in re.findall(r"\(([^()]*)\)", spec.display_name) for w in group.split(",")}
    name = model_name(spec)
    if badge == t("ui.badge.bundled") and i18n.translate("en", "ui.badge.bundled") in said:
        return name
    if spec.hub_id and "hub" in said:
        if badge == t("ui.badge.hub"):
            return name
        if badge == t("ui.badge.hub_offline"):
            return f"{name} [{t('ui.badge.offline')}]"
    return f"{name} [{badge}]"


def model_name(spec: ModelSpec) -> str:
    """The model's name in the session's language (:func:`components.i18n.model_name`)."""
    return i18n.model_name(spec, lang())


def model_picker(task: str, name: str, label: str | None = None, help: str | None = None,
                 container=None, servers: Sequence = ()) -> str:
    """Selectbox over the catalog models of ``task``, then the operator's model servers
    ``servers`` (:class:`components.server.Endpoint`, see :func:`server_endpoints`); returns
    the chosen catalog key or server key (``server:<id>``).

    The key is persisted as ``p_<name>``. An alternative-model button (see
    :func:`model_error`) writes to the same key.
    """
    where = container or st
    specs = models_for(task)
    keys = [s.key for s in specs] + [e.key for e in servers]
    by_key = {e.key: e for e in servers}
    key = persist_key(name)
    if st.session_state.get(key) not in keys:
        st.session_state[key] = keys[0]
    return where.selectbox(
        label or t("ui.model.label"),
        keys,
        key=key, persist_state="session",
        format_func=lambda k: (t("server.picker", name=by_key[k].display_name, origin=by_key[k].origin)
                               if k in by_key else _picker_label(get_spec(k))),
        help=help or t("ui.model.help"),
    )


def server_endpoints() -> list:
    """The model servers the operator configured (env ``LLM_LAB_SERVERS``, ``[servers]`` in
    ``.streamlit/secrets.toml``; see :mod:`components.server`), empty by default. A bad entry
    is skipped and logged for the operator, never shown to visitors."""
    import logging

    from components import server

    try:
        section = st.secrets.get("servers")
    except Exception:  # noqa: BLE001 - no secrets file: the normal case
        section = None
    found, problems = server.endpoints_from(secrets=section)
    for code, values in problems:
        if (code, str(values)) not in _LOGGED_SERVER_PROBLEMS:  # once per process, not per rerun
            _LOGGED_SERVER_PROBLEMS.add((code, str(values)))
            logging.getLogger("llm_lab").warning("model server configuration: %s %s", code, values)
    return found


_LOGGED_SERVER_PROBLEMS: set = set()


def model_error(exc: ModelUnavailableError, picker_name: str | None = None) -> None:
    """Show a model-loading failure: what, why, and a button switching to the bundled model."""
    # the app's formatting kept; inserted details (library messages, paths) escaped by the loader
    details = loading_wording.error_markdown(exc, lang())
    if lang() == i18n.DEFAULT_LANG:
        st.error(details, icon="🔌")
    else:  # a translated headline; the loader's technical details (commands, paths) follow as is
        st.error(t("ui.model.unavailable", name=model_name(exc.spec)) + "\n\n" + details, icon="🔌")
    alt = exc.alternative
    if alt is not None and picker_name is not None:
        def _switch(key: str = persist_key(picker_name), value: str = alt.key) -> None:
            st.session_state[key] = value

        st.button(t("ui.model.use_alt", name=model_name(alt)), on_click=_switch, key=f"switch_{picker_name}", type="primary")


def load_or_explain(key: str, picker_name: str | None = None) -> LoadedModel | None:
    """``cache.get_model(key)``, or None after showing :func:`model_error`. Notices the
    loader attached (e.g. "cache not writable, loaded without caching") show as info boxes."""
    from components.cache import get_model

    # One slot for the progress bar and the error box: a retry replaces the last run's error
    # at once (with the bar, or with nothing when the model is ready).
    slot = st.empty()
    try:
        with slot:  # get_model's progress bar draws here
            loaded = get_model(key)
    except ModelUnavailableError as exc:
        with slot.container():
            model_error(exc, picker_name)
        return None
    for note in getattr(loaded, "notices", None) or []:
        st.info(str(note), icon="ℹ️")
    return loaded


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


def _chip(text: str, tip: str, background: str) -> str:
    """One token chip: escaped ``text`` with escaped ``tip`` on hover (``:`` as ``&#58;``:
    Streamlit rewrites ``:material/`` in markdown source, see ``charts_sentiment.html_text``)."""
    return (
        f'<span title="{escape(tip)}" style="unicode-bidi:isolate;background:{background};border:1px solid #ccc;'
        'border-radius:4px;padding:1px 4px;margin:1px;display:inline-block;'
        f'font-family:monospace;white-space:pre">{escape(text).replace(":", "&#58;")}</span>'
    )


def token_chips_html(pieces) -> str:
    """HTML chips for readable tokens (``components.tokens.TokenPiece``): the readable label,
    with the raw vocabulary string and id on hover. Every string is escaped."""
    chips = [_chip(p.label, _pieces_note(getattr(p, "size", 1)) + f"{p.raw} · id {p.token_id}",
                   "#e8f1fa" if i % 2 else "#fdf1dc")
             for i, p in enumerate(pieces)]
    return "<div style='line-height:2'>" + "".join(chips) + "</div>"


def _pieces_note(n: int) -> str:
    """Hover prefix of a chip merged from ``n`` byte pieces ("" for an ordinary token)."""
    return t("ui.chips.pieces", n=n) + " · " if n > 1 else ""


def probability_chips_html(steps: list[dict]) -> str:
    """Generated tokens tinted by the probability the model gave them (darker = more
    confident); hover shows p, rank and the top alternatives. Every string is escaped."""
    chips = []
    for step in steps:
        alts = ", ".join(f"{a} {q:.2f}" for a, q in step["alternatives"])
        tip = f"p = {step['p']:.3f} (rank {step['rank']}) · alternatives: {alts} · raw {step['raw_token']}"
        if step.get("pieces", 1) > 1:
            tip = (_pieces_note(step["pieces"]) + "p = " + " × ".join(f"{q:.3f}" for q in step["piece_p"])
                   + " · " + tip)
        chips.append(_chip(step["token"], tip, f"rgba(0,114,178,{0.08 + 0.6 * step['p']:.2f})"))
    return "<div style='line-height:2'>" + "".join(chips) + "</div>"


def notices(messages: list) -> None:
    """Show adjustment notices (things the app changed about the input) as info boxes;
    :class:`components.messages.Message` items are translated (:func:`say`)."""
    for msg in messages:
        st.info(say(msg), icon="ℹ️")


class _Stopped(Exception):
    """Raised in a worker's progress callback once the script run that started it has ended."""


def run_with_progress(fn: Callable[[Callable[[int], None]], Any], total: int | Callable[[], int],
                      describe: Callable[[int, int, float, float | None], str], poll_seconds: float = 0.25,
                      intro: Callable[[], Any] | None = None, spinner: str | None = None,
                      min_total: int = 0) -> Any:
    """Run ``fn(progress)`` in a worker thread while this script run draws a progress bar.

    Args:
        fn: the work; it calls ``progress(n)`` after each step with the units it just
            processed (e.g. prompt tokens), which add up to about ``total``.
        total: expected units (> 0), or a callable giving them, called once the first step is
            taken: a cached result takes none, so its workload is never counted.
        describe: ``describe(done, total, seconds, rate)`` -> the bar's text; ``seconds`` is
            the wall time so far, ``rate`` the units per second measured so far in this run
            (None before the first step).
        poll_seconds: how often the bar is redrawn.
        intro: draws a note above the bar (e.g. what the run will read), once the first step
            is taken: a cached result takes none and shows neither note nor bar.
        spinner: text of a spinner shown until the first step, and throughout a run whose
            ``total`` is under ``min_total``.
        min_total: runs expecting fewer units show no note and no bar (only ``spinner``).

    A rerun or Stop interrupts this script thread at its next redraw; the worker then stops at
    its next step (its ``progress`` call raises), so no abandoned run keeps the CPU busy.

    Returns:
        ``fn``'s result; its exception is re-raised here.
    """
    import contextlib
    import threading
    import time

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    state: dict[str, Any] = {"done": 0, "result": None, "error": None}
    stop = threading.Event()

    def progress(n: int) -> None:
        if stop.is_set():
            raise _Stopped()
        state["done"] += int(n)   # only the worker writes it

    def work() -> None:
        try:
            state["result"] = fn(progress)
        except BaseException as exc:  # noqa: BLE001 - handed to the script thread
            state["error"] = exc

    worker = threading.Thread(target=work, daemon=True, name="progress-worker")  # i18n: ok (thread name)
    add_script_run_ctx(worker, get_script_run_ctx())   # cached getters inside fn need the session
    start = time.perf_counter()
    worker.start()
    expected = total if isinstance(total, int) else None
    try:
        with st.spinner(spinner) if spinner else contextlib.nullcontext():
            while worker.is_alive() and not state["done"]:   # a cached result ends here
                worker.join(poll_seconds)
            if state["done"] and expected is None:
                expected = int(total())
            while worker.is_alive() and expected is not None and expected < min_total:
                worker.join(poll_seconds)
        if not state["done"] or expected < min_total:
            worker.join()
        else:
            if intro is not None:
                intro()
            bar = None
            while True:
                alive = worker.is_alive()
                done, seconds = state["done"], time.perf_counter() - start
                text = describe(done, expected, seconds, done / seconds if done else None)
                if bar is None:
                    bar = st.progress(min(1.0, done / expected), text=text)
                else:
                    bar.progress(min(1.0, done / expected), text=text)
                if not alive:
                    break
                worker.join(poll_seconds)
    finally:
        stop.set()
    if state["error"] is not None:
        raise state["error"]
    return state["result"]


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
        st.error(t("ui.error.unexpected", error=f"{type(exc).__name__}: {exc}"), icon="⚠️")
    return None


# ====================================================================== language
LANG_KEY = PERSIST_PREFIX + "lang"
PRESENTER_KEY = PERSIST_PREFIX + "presenter"


_LANG_OVERRIDE = __import__("threading").local()
_last_lang = {"code": i18n.DEFAULT_LANG}


def lang() -> str:
    """The session's UI language code (``"en"`` or ``"zh"``).

    Outside a script run (a download button's deferred data callable, AppTest resolving a
    ``format_func``) there is no session: the language captured when the widget was drawn
    (:func:`_language`) or, failing that, the last one seen in this thread is used.
    """
    override = getattr(_LANG_OVERRIDE, "code", None)
    if override:
        return override
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return _last_lang["code"]
    code = i18n.normalize_lang(st.session_state.get(LANG_KEY))
    _last_lang["code"] = code
    return code


i18n.set_language_provider(lambda: lang())


class _language:
    """Context manager: make :func:`lang` return ``code`` in this thread (deferred callables)."""

    def __init__(self, code: str):
        self.code = code

    def __enter__(self):
        self.previous = getattr(_LANG_OVERRIDE, "code", None)
        _LANG_OVERRIDE.code = self.code

    def __exit__(self, *exc):
        _LANG_OVERRIDE.code = self.previous


def t(key: str, **values) -> str:
    """UI string ``key`` (``"<namespace>.<name>"``, see :mod:`components.i18n`) in the
    session's language, placeholders filled from ``values``."""
    return i18n.translate(lang(), key, **values)


def keep_choices() -> None:
    """Keep every widget's choice when the UI language changes (the language switch's
    ``on_change``; also called when a link changes the language).

    Streamlit sends a radio's or selectbox's value back as its *shown* label
    (``RadioSerde``/``SelectboxSerde`` in Streamlit 1.67); once the labels are in the other
    language that label matches no option, and the widget would fall back to nothing
    selected or its default. Here, before the page is drawn, each value still reads as the
    option chosen; writing it back through session state makes Streamlit send it to the
    browser again, labelled in the new language.
    """
    state = st.session_state
    for key in list(state.keys()):
        value = state[key]
        if key != LANG_KEY and _choice_like(value):
            state[key] = value


def _choice_like(value) -> bool:
    """Values an option widget can hold and that may be written back: strings and numbers
    (and lists of them, multiselect). Booleans are skipped (buttons, toggles: a button's value
    must never be set), as are ``None``, uploaded files and chart selections."""
    plain = (str, int, float)
    if isinstance(value, bool):
        return False
    if isinstance(value, plain):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(v, plain) and not isinstance(v, bool) for v in value)


def say(item, escape: Callable[[str], str] | None = None) -> str:
    """A compute module's :class:`components.messages.Message` or
    :class:`~components.messages.MessageError` in the session's language; any other value
    (a plain string, another exception) as ``str``. ``escape`` is applied to the message's
    string params (:func:`components.messages.render`)."""
    return render_message(item, lang(), escape)


def presenter() -> bool:
    """Whether presenter mode is on (large type, advanced controls hidden, curated examples)."""
    return bool(st.session_state.get(PRESENTER_KEY, False))


# ====================================================================== permalinks
GLOBAL_SCHEMA: list[Param] = [
    Param("lang", LANG_KEY, CHOICE, i18n.DEFAULT_LANG, choices=i18n.LANGS),
    Param("present", PRESENTER_KEY, BOOL, False),
]
_WRITTEN = "_link_written"   # canonical form of the query we last wrote (per session)
_ECHOES = "_link_echoes"     # fingerprints of every query this session wrote on the current page
_PAGE = "_link_page"         # page id of the previous run (a change clears _ECHOES)
_MAX_ECHOES = 256


def _fingerprint(query) -> str:
    return hashlib.sha1(permalink.canonical(query).encode("utf-8")).hexdigest()


def _remember(query) -> None:
    """Note a query this session wrote (or accepted): if the browser later sends it back,
    it is an echo of our own state, not a link."""
    echoes = [f for f in st.session_state.get(_ECHOES, []) if f != _fingerprint(query)]
    st.session_state[_ECHOES] = [*echoes, _fingerprint(query)][-_MAX_ECHOES:]
_FRESH = "_link_fresh"       # query params of a link that just arrived, until a page takes them
_NOTICES = "_link_notices"


def begin_link() -> None:
    """Router hook, before navigation: if the URL carries parameters this session did not
    write (a shared link, a cross-link, a reload), apply the global ones (language,
    presenter mode) and keep the rest for the page's :func:`bind_link`. Never raises."""
    try:
        incoming = st.query_params.to_dict()
    except Exception:  # noqa: BLE001 - malformed query: behave as if none
        incoming = {}
    # Every rerun carries the URL the browser shows, which lags our own writes while a run is
    # in flight (a widget touched mid-run sends the address of two runs ago). Any query this
    # session wrote on this page is such an echo; taking it for a link would reset the page.
    # The browser's Back/Forward is the user asking for that address again: a link, even
    # one this session wrote (presenter mode: Back from a live run returns to its slide).
    if incoming and (_history_navigation() or _fingerprint(incoming) not in st.session_state.get(_ECHOES, [])):
        values, notices = permalink.parse(incoming, GLOBAL_SCHEMA)
        if values.get(LANG_KEY, lang()) != lang():
            keep_choices()
        st.session_state.update(values)
        st.session_state[_FRESH] = incoming
        st.session_state[_NOTICES] = notices
        st.session_state[_WRITTEN] = permalink.canonical(incoming)
        _remember(incoming)
    else:
        st.session_state.pop(_FRESH, None)


def _history_navigation() -> bool:
    """Whether this run comes from the browser's Back/Forward buttons."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return bool(getattr(ctx, "is_history_navigation", False))


def _page_schema(page: str, schema: Sequence[Param]) -> list[Param]:
    return [*schema, Param("ex", f"{PERSIST_PREFIX}present_{page}", INT, 0, 0, 99)]


def bind_link(page: str, schema: Sequence[Param]) -> bool:
    """Page hook, at the top before any widget: put each parameter's default into session
    state if absent (so widgets are created *without* ``value=``/``index=``), then apply a
    just-arrived link's valid values (invalid ones are ignored with a notice).

    Returns:
        True when the link asked to compute the result on opening (``run=1``): treat it like
        a press of the page's main button.
    """
    full = _page_schema(page, schema)
    for p in full:
        if p.state not in st.session_state:
            st.session_state[p.state] = p.default
    incoming = st.session_state.pop(_FRESH, None)
    if st.session_state.get(_PAGE) != page:  # echoes are per page: a repeated cross-link applies
        st.session_state[_PAGE] = page
        st.session_state[_ECHOES] = []
        if incoming:
            _remember(incoming)
    if not incoming:
        return False
    values, notices = permalink.parse(incoming, full)
    # A link describes the whole page: settings it leaves out are at their defaults (links
    # omit defaults), not whatever this session had before.
    for p in full:
        st.session_state[p.state] = p.default
    st.session_state.update(values)
    st.session_state[_NOTICES] = st.session_state.get(_NOTICES, []) + notices
    if not permalink.wants_run(incoming):  # presenter mode: a link without run=1 opens on the slide
        st.session_state.pop(_live_key(page), None)
        return False
    return True


def _base_url(page: str) -> str:
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001
        url = ""
    if not url:
        return f"/{page}" if page != "home" else "/"
    parts = urlsplit(url)
    path = "/" + page if page != "home" else "/"
    prefix = parts.path.rsplit("/", 1)[0] if parts.path.count("/") > 1 else ""
    return urlunsplit((parts.scheme, parts.netloc, prefix + path, "", ""))


def publish_link(page: str, schema: Sequence[Param], runnable: bool = True) -> str:
    """Page hook, after the widgets: write the current inputs into the address bar
    (``st.query_params``), and put a "copy link" box in the sidebar.

    Args:
        page: page id (a key of :data:`PAGE_FILES`).
        schema: the page's parameters (as given to :func:`bind_link`).
        runnable: add ``run=1`` to the copied link, so opening it computes the result.

    Returns:
        The shareable URL (absolute when the browser's URL is known).
    """
    full = [*GLOBAL_SCHEMA, *_page_schema(page, schema)]
    params, notices = permalink.encode(st.session_state, full)
    if presenter() and st.session_state.get(_live_key(page)) is not None:
        # the live run of a slide has its own address (a history entry): Back returns to the
        # slide, and the address reopens the live run
        params[permalink.RUN] = "1"
    # compared with the address this rerun came from, not with our last write: a write made by
    # a run that a newer one interrupted may never reach the browser
    try:
        shown = permalink.canonical(st.query_params.to_dict())
    except Exception:  # noqa: BLE001 - malformed query: rewrite it
        shown = None
    if permalink.canonical(params) != shown:
        st.query_params.from_dict(params)
        st.session_state[_WRITTEN] = permalink.canonical(params)
    _remember(params)
    shared = dict(params)
    if runnable:
        shared[permalink.RUN] = "1"
    url = _base_url(page) + ("?" + urlencode(shared) if shared else "")
    with st.sidebar.popover(t("ui.link.button"), icon="🔗", width="stretch"):
        st.caption(t("ui.link.help"))
        st.code(url, language=None, wrap_lines=True)
        for note in notices:
            st.caption(say(note))
    for note in st.session_state.pop(_NOTICES, []):
        st.info(say(note), icon="🔗")
    return url


def reset_unshowable(schema: Sequence[Param]) -> None:
    """Persisted values the page's widgets cannot show (from an older version of the page, or
    set by hand) fall back to the schema default: a choice no longer offered, a text or a
    list that is not one, an integer that is not an int."""
    for p in schema:
        value = st.session_state.get(p.state)
        if p.kind == CHOICE and value not in p.choices:
            st.session_state[p.state] = p.default
        elif p.kind == TEXT and not isinstance(value, str):
            st.session_state[p.state] = p.default
        elif p.kind == INT and (not isinstance(value, int) or isinstance(value, bool)):
            st.session_state[p.state] = p.default
        elif p.kind == TEXTS and not isinstance(value, list):
            st.session_state[p.state] = list(p.default)


def link_button(label: str, page: str, params: dict[str, Any], key: str, icon: str | None = None,
                container=None) -> None:
    """A cross-link: a button that opens ``page`` prefilled with ``params`` (plain Python
    values, encoded with :func:`components.permalink.free_encode`; the target page validates
    them like any link) and ``run=1``."""
    where = container or st
    if where.button(label, key=key, icon=icon):
        query = permalink.free_encode(params)
        query[permalink.RUN] = "1"
        if lang() != i18n.DEFAULT_LANG:
            query["lang"] = lang()
        if presenter():
            query["present"] = "1"
        st.switch_page(PAGE_FILES[page], query_params=query)


# ====================================================================== presenter mode
def _live_key(page: str) -> str:
    return f"_present_live_{page}"


def curated_example(page: str) -> dict | None:
    """In presenter mode, a stepper over the page's curated examples (``curated/<page>.json``,
    precomputed, so they show before any model loads). Returns the current example
    (``{"id", "title", "params", "result"}``) for the page to render, or None when presenter
    mode is off or the page has no curated examples."""
    from components import curated

    if not presenter():
        return None
    examples = curated.load(page)
    if not examples:
        return None
    key = f"{PERSIST_PREFIX}present_{page}"
    index = int(st.session_state.get(key, 0)) % len(examples)
    st.session_state[key] = index

    def _step(delta: int) -> None:
        st.session_state[key] = (int(st.session_state.get(key, 0)) + delta) % len(examples)
        st.session_state.pop(_live_key(page), None)   # a new example starts as its slide

    example = examples[index]
    with st.container(border=True):
        c1, c2, c3 = st.columns([1, 8, 1], vertical_alignment="center")
        c1.button("◀", key=f"present_prev_{page}", on_click=_step, args=(-1,), help=t("ui.present.prev"))
        title = example.get("title", {})
        c2.markdown(f"**🎤 {t('ui.present.example', i=index + 1, n=len(examples))}** · "
                    f"{escape_markdown(title.get(lang()) or title.get('en') or example.get('id', ''))}")
        c3.button("▶", key=f"present_next_{page}", on_click=_step, args=(1,), help=t("ui.present.next"))
    return example


def slide(page: str, schema: Sequence[Param], render: Callable[[dict], None], run_requested: bool = False,
          on_live: Callable[[dict], None] | None = None) -> dict | None:
    """Presenter mode as slides: the current curated example (drawn by ``render(example)``
    from its JSON, no model) and a "Run this example live" button, then ``st.stop()``, so
    nothing of the live page is built and the slide shows at once. The button puts the
    example's inputs into the page's widgets (:func:`apply_example_params`), calls
    ``on_live(example)`` (the page's own "compute now" flag) and the next run returns, so the
    live page renders *instead of* the example, under a bar that leads back to the slide.

    Args:
        page: page id (a key of :data:`PAGE_FILES`).
        schema: the page's link parameters (as given to :func:`bind_link`).
        render: draws one example; a damaged example (KeyError, TypeError, ValueError) is
            reported and the live page offered instead.
        run_requested: :func:`bind_link` returned True (a link with ``run=1``): go live at once.
        on_live: called when going live (button, or ``run_requested``).

    Returns:
        The live example (presenter mode, going live) or None (presenter mode off, no curated
        examples). Never returns while the slide is shown.
    """
    example = curated_example(page)
    if example is None:
        return None
    live = _live_key(page)
    if run_requested and st.session_state.get(live) != example.get("id"):
        st.session_state[live] = example.get("id")
        if on_live is not None:
            on_live(example)
    if st.session_state.get(live) == example.get("id"):
        st.button(t("ui.present.back"), key=f"present_back_{page}", icon="🎤",
                  on_click=lambda: st.session_state.pop(live, None))
        if st.session_state.pop(_TO_TOP, False):
            _scroll_to_top()
        return example
    try:
        render(example)
    except (KeyError, TypeError, ValueError):  # a damaged file: say so, offer the live page
        import logging

        logging.getLogger("llm_lab").exception("curated example unreadable: %s", page)  # i18n: ok (log)
        st.warning(t("ui.present.broken"), icon="⚠️")
    st.caption(t("ui.present.precomputed"))

    def _go_live() -> None:
        apply_example_params(page, schema, example)
        st.session_state[live] = example.get("id")
        st.session_state[_TO_TOP] = True
        if on_live is not None:
            on_live(example)

    st.button(t("ui.present.use_inputs"), key=f"present_live_{page}", type="primary", icon="▶️",
              on_click=_go_live)
    publish_link(page, schema, runnable=False)
    st.stop()


_TO_TOP = "_present_to_top"
# Our own constant script, no user text. The browser keeps the scroll position of the slide's
# button (often below the fold) while the live page replaces the slide: back to the top,
# where the live result is drawn.
_TO_TOP_JS = """<script>
(document.querySelector('[data-testid="stMain"]') || document.scrollingElement).scrollTo(0, 0);
</script>"""


def _scroll_to_top() -> None:
    """Scroll the page to its top once (drawn in the sidebar: no gap in the page)."""
    st.sidebar.html(_TO_TOP_JS, unsafe_allow_javascript=True)


# Streamlit's frontend fetches the code of most element types (radio, selectbox, dataframe,
# plotly chart, metric...) only when a page first shows one, and draws a grey skeleton in its
# place until that file has arrived; while the page's script runs the server answers those
# requests late, so on the first visit of a page the skeletons outlive the run by a second or
# more. Importing the files of the element types the pages use (and of markdown's HTML
# support, "rehype-raw"), as soon as the app is open, fills the tab's module map before any
# page needs them.
_ELEMENT_CODE = ("Button", "ButtonGroup", "Checkbox", "DataFrame", "DownloadButton", "FileUploader", "LinkButton",
                 "Metric", "Multiselect", "NumberInput", "PageLink", "PlotlyChart", "Progress", "Radio", "Selectbox",
                 "Slider", "Spinner", "StreamlitSyntaxHighlighter", "Table", "TextArea", "TextInput", "rehype-raw")


@functools.cache  # the installed build does not change while the app runs
def _element_code_files() -> list[str]:
    """Paths (``js/Radio.<hash>.js``, ``css/DataFrame.<hash>.css``) of ``_ELEMENT_CODE`` in the
    installed Streamlit's frontend build, relative to its ``static`` folder; a name it no
    longer ships is skipped (no request can then fail). The stylesheets count: the frontend
    waits for an element's stylesheet before it draws the element."""
    from pathlib import Path

    folder = Path(st.__file__).parent / "static" / "static"
    wanted = re.compile(rf"({'|'.join(_ELEMENT_CODE)})\.[A-Za-z0-9_-]+\.(js|css)")
    return sorted(f"{f.parent.name}/{f.name}" for sub in ("js", "css") for f in (folder / sub).glob("*")
                  if wanted.fullmatch(f.name))


# No "<" before a letter inside the script: Streamlit's HTML sanitizer would drop it all.
_PRELOAD_JS = """<script>
(() => {
  const index = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (!index || window.__llmLabElementCode) return;
  const load = path => {
    const url = new URL("../" + path, index.src).href;
    if (!path.endsWith(".css")) return import(url);
    // the same link element the frontend would add: it then finds it and waits for nothing
    if ([...document.querySelectorAll('link[rel="stylesheet"]')].some(l => l.href === url)) return null;
    const link = Object.assign(document.createElement("link"), {rel: "stylesheet", href: url, crossOrigin: ""});
    const done = new Promise(resolve => { link.onload = link.onerror = resolve; });
    document.head.appendChild(link);
    return done;
  };
  window.__llmLabElementCode = Promise.allSettled(%s.map(load))
    .then(() => { document.documentElement.dataset.elementCode = "loaded"; });
})();
</script>"""


@functools.cache
def element_code_html() -> str:
    """The app's own ``<script>`` (fixed text, no user input) that :func:`preload_element_code`
    draws; empty when the installed Streamlit ships none of the files."""
    import json

    files = _element_code_files()
    return _PRELOAD_JS % json.dumps(files) if files else ""


def preload_element_code() -> None:
    """Start loading the frontend code of the element types the pages use, once per browser
    tab (drawn in the sidebar: no gap in the page). Sets ``data-element-code="loaded"`` on
    ``<html>`` when every file has arrived (or failed: a failed one loads again on first use)."""
    body = element_code_html()
    if body:
        st.sidebar.html(body, unsafe_allow_javascript=True)


def live_inputs(page: str):
    """Where a page draws its inputs: in presenter mode, once an example runs live, a collapsed
    expander, so the live result shows where the slide was, without scrolling (the widgets
    keep their values, open it to change them); otherwise the page itself, layout unchanged.

    Use as ``with ui.live_inputs(PAGE): ...`` around the page's input widgets."""
    import contextlib

    if presenter() and st.session_state.get(_live_key(page)) is not None:
        return st.expander(f"✏️ {t('ui.present.inputs')}")  # no icon=: it would hide the chevron
    return contextlib.nullcontext()


def escape_markdown(text: str) -> str:
    """``text`` shown literally inside trusted markdown (for short labels; long user text
    belongs in :func:`show_literal`): see :func:`components.textio.markdown_literal`."""
    from components.textio import markdown_literal

    return markdown_literal(text)


def apply_example_params(page: str, schema: Sequence[Param], example: dict) -> None:
    """Put a curated example's inputs into the page's widgets (validated like a link)."""
    values, _ = permalink.parse({k: permalink.encode_value(p, example["params"][k])
                                 for p in schema for k in [p.name] if k in example.get("params", {})},
                                schema)
    st.session_state.update(values)


# ====================================================================== export
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def present_figure(fig, height: int | None = None):
    """Projector sizing for a plotly figure, in place: every font set explicitly (Streamlit's
    chart theme sizes titles, ticks and legends itself, so a global font size is not enough)
    and the height × 1.25. Returns ``fig``."""
    fig.update_layout(font=dict(size=18), title_font_size=24, legend_font_size=17,
                      hoverlabel_font_size=18, height=int((height or fig.layout.height or 450) * 1.25))
    # larger ticks need more room: the last category label ("PC10") must not be cut at the edge
    fig.update_xaxes(tickfont_size=16, title_font_size=18, automargin=True)
    fig.update_yaxes(tickfont_size=16, title_font_size=18, automargin=True)
    return fig


def chart(fig, key: str, table=None, filename: str | None = None, height: int | None = None,
          on_select: str = "ignore", selection_mode=("points", "box", "lasso"), ready: bool = False):
    """A plotly chart with PNG export (modebar camera) and, when ``table`` (a DataFrame of
    the plotted numbers) is given, a "Table" tab with those numbers and a CSV download.
    Presenter mode enlarges fonts and height (:func:`present_figure`, applied to ``fig``).

    ``ready=True``: ``fig`` is already laid out for the current mode (``height`` set,
    :func:`present_figure` applied in presenter mode) and may be shared between sessions (a
    cached figure): it is drawn as it is and never modified.

    Returns:
        The selection state of ``st.plotly_chart`` when ``on_select="rerun"`` (2-D charts
        only; ``event.selection.points`` lists the picked points), else None.
    """
    if not ready and presenter():
        present_figure(fig, height)
    elif not ready and height:
        fig.update_layout(height=height)
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"],
                                                        "filename": filename or key}}
    select = {} if on_select == "ignore" else {"on_select": on_select, "selection_mode": selection_mode}
    if table is None:
        event = st.plotly_chart(fig, key=key, config=config, **select)
        return event if select else None
    tab_chart, tab_table = st.tabs([t("ui.chart.chart"), t("ui.chart.table")])
    with tab_chart:
        event = st.plotly_chart(fig, key=key, config=config, **select)
    with tab_table:
        data_table(table, f"{key}_table", filename=filename or key)
    return event if select else None


def _fit_columns(df, given: dict | None) -> dict:
    """Column widths so a table fits its container instead of scrolling sideways: long text
    columns get a fixed width (the grid cuts their cells; the full text shows on hover and
    in the CSV), narrower when the table has many columns."""
    import pandas as pd

    config = dict(given or {})
    many = len(df.columns) > 5
    for col in df.columns:
        if col in config or pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        longest = int(df[col].astype(str).str.len().max()) if len(df) else 0
        if longest > 30:
            config[col] = st.column_config.TextColumn(width="medium" if many else "large")
    return config


PRESENTER_STATIC_ROWS = 30
"""Longest table shown as a static (scalable) table in presenter mode."""


def data_table(df, key: str, filename: str | None = None, static: bool = False, **dataframe_kwargs) -> None:
    """``st.dataframe`` (long text columns sized to fit, see :func:`_fit_columns`) plus a "CSV"
    download button (UTF-8 with BOM, opens in Excel). ``static``: an ``st.table`` instead, whose
    cells wrap (for a short reference table with long text in many columns). In presenter
    mode short tables are static too: the interactive grid draws on a canvas that the
    presenter stylesheet cannot enlarge."""
    if not static and presenter() and len(df) <= PRESENTER_STATIC_ROWS:
        static = True
    if static:
        st.table(df, hide_index=True)
    else:
        dataframe_kwargs.setdefault("hide_index", True)
        dataframe_kwargs.setdefault("width", "stretch")
        dataframe_kwargs["column_config"] = _fit_columns(df, dataframe_kwargs.get("column_config"))
        st.dataframe(df, key=key, **dataframe_kwargs)
    # on_click="ignore": a download needs no rerun, and a rerun would replace the file's
    # deferred id while the click is still asking for it
    st.download_button(t("ui.table.csv"), data=lambda: csv_bytes(df), on_click="ignore",
                       file_name=f"{filename or key}.csv", mime="text/csv", key=f"{key}_csv", icon="⬇️")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(df) -> bytes:
    """``df`` as CSV (UTF-8 with BOM, so Excel reads 中文 right). Text cells that a
    spreadsheet would run as a formula (starting ``= + - @``, tab or CR; OWASP "CSV
    injection") get a leading apostrophe; numbers are untouched."""
    import pandas as pd

    safe = df.copy()
    for col in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[col]) or pd.api.types.is_bool_dtype(safe[col])):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return safe.to_csv(index=False).encode("utf-8-sig")


def report_button(title: str, sections: Callable[[], list], filename: str, key: str,
                  container=None) -> None:
    """A download button for a standalone HTML report (:mod:`components.report`); the
    ``sections`` callable builds its ``Section`` list only when the button is pressed."""
    from components.report import build_report

    code = lang()

    def _data() -> bytes:  # runs when the button is pressed, outside the script run
        with _language(code):
            return build_report(title, sections(), html_lang=i18n.html_lang(code), footer="LLM Lab").encode("utf-8")

    (container or st).download_button(t("ui.report.button"), data=_data, file_name=f"{filename}.html",
                                      mime="text/html", key=key, icon="📄", on_click="ignore")


def upload_id(upload) -> str:
    """An uploaded file's identity (Streamlit's file id, name, size): a new upload -- even of a
    file with the same name -- gets a new one."""
    return f"{getattr(upload, 'file_id', '')}\x1f{upload.name}\x1f{upload.size}"  # i18n: ok (key)


def _owned_choice(key: str, owner: str, columns: list[str], guess: str) -> None:
    """Start ``key`` from ``guess`` when the upload changed or the kept value is not a column."""
    if st.session_state.get(f"_{key}_for") != owner or st.session_state.get(key) not in columns:
        st.session_state[f"_{key}_for"] = owner
        st.session_state[key] = guess


def csv_text_column(table: textio.CsvTable, upload, key: str, label: str, *, label_key: str | None = None,
                    label_label: str | None = None, container=None, persist: bool = True
                    ) -> tuple[str, str | None, textio.ColumnGuess]:
    """The column choice of one CSV upload: a text-column selectbox, and a label-column one
    beside it when ``label_key`` is given.

    Each choice belongs to its upload (:func:`upload_id`): a new file starts from its own guess
    (:func:`components.textio.guess_text_column` / ``guess_label_column``), a rerun on the same
    file keeps what the user picked.

    Args:
        table: the decoded upload (:func:`components.textio.read_csv_bytes`).
        upload: Streamlit's ``UploadedFile`` (its identity keys the choice).
        key, label: the text selectbox's widget key and label (``label_key``, ``label_label``
            the same for the label column).
        container: where to draw (default: the page body).
        persist: ``persist_state="session"`` (keys from :func:`persist_key`).

    Returns:
        (text column, label column or None, the text column's guess -- its ``rule`` lets a page
        say why that column was read).
    """
    columns, owner = table.columns, upload_id(upload)
    guess = textio.guess_text_column(table.frame)
    _owned_choice(key, owner, columns, guess.column)
    where = container if container is not None else st
    kept = {"persist_state": "session"} if persist else {}
    if label_key is None:
        return where.selectbox(label, columns, key=key, **kept), None, guess
    _owned_choice(label_key, owner, columns, textio.guess_label_column(table.frame, st.session_state[key]).column)
    left, right = where.columns(2)
    text_col = left.selectbox(label, columns, key=key, **kept)
    label_col = right.selectbox(label_label, columns, key=label_key, **kept)
    return text_col, label_col, guess
