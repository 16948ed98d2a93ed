"""LLM Lab router: page config, links, language, presenter mode, navigation, shared sidebar."""
from __future__ import annotations

import os
import warnings

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
warnings.filterwarnings("ignore", message=".*torch.classes.*")

import streamlit as st  # noqa: E402

from components import i18n, memory, ui  # noqa: E402

# Before the sessions' threads allocate: they share two malloc arenas (glibc only; see
# components/memory.py), so memory one session frees is reused by the next.
memory.limit_malloc_arenas()

st.set_page_config(page_title="LLM Lab", page_icon="🧪", layout="wide")  # i18n: ok (product name)

# A shared link's language / presenter settings apply before anything is drawn.
ui.begin_link()
if ui.LANG_KEY not in st.session_state:
    st.session_state[ui.LANG_KEY] = i18n.DEFAULT_LANG
if ui.PRESENTER_KEY not in st.session_state:
    st.session_state[ui.PRESENTER_KEY] = False

t = ui.t
# Streamlit serves the default page at "/" whatever its url_path (which then only names it
# internally), so "/home" needs a page of its own: a hidden alias that opens Home.
HOME = st.Page("app_pages/home.py", title=t("app.nav.home"), icon="🏠", url_path="index", default=True)


def _home_alias() -> None:
    st.switch_page(HOME, query_params=st.query_params.to_dict())


PAGES = [
    HOME,
    st.Page("app_pages/generation.py", title=t("app.nav.generation"), icon="✍️", url_path="generation"),
    st.Page("app_pages/sentiment.py", title=t("app.nav.sentiment"), icon="🙂", url_path="sentiment"),
    st.Page("app_pages/classification.py", title=t("app.nav.classification"), icon="🏷️", url_path="classification"),
    st.Page("app_pages/embeddings.py", title=t("app.nav.embeddings"), icon="🧭", url_path="embeddings"),
    st.Page("app_pages/attention.py", title=t("app.nav.attention"), icon="🔍", url_path="attention"),
    st.Page("app_pages/lens.py", title=t("app.nav.lens"), icon="🔬", url_path="lens"),
    st.Page(_home_alias, title=t("app.nav.home"), icon="🏠", url_path="home", visibility="hidden"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.segmented_control(t("ui.language"), list(i18n.LANGS), key=ui.LANG_KEY, persist_state="session",
                         format_func=lambda code: i18n.LANG_NAMES[code], required=True, on_change=ui.keep_choices)
    st.toggle(t("ui.presenter"), key=ui.PRESENTER_KEY, persist_state="session", help=t("ui.presenter_help"))
    st.caption(t("ui.sidebar_about"))
    ui.preload_element_code()
if ui.presenter():
    # Our own static stylesheet (no user text): bigger type for a projector.
    st.html(
        "<style>"
        "[data-testid='stMain'] {font-size: 1.25rem;}"
        "[data-testid='stMain'] p, [data-testid='stMain'] li, [data-testid='stMain'] label {font-size: 1.2rem !important;}"
        "[data-testid='stMain'] h1 {font-size: 3rem !important;}"
        "[data-testid='stMain'] h2, [data-testid='stMain'] h3 {font-size: 2rem !important;}"
        "[data-testid='stMain'] code, [data-testid='stMain'] pre {font-size: 1.15rem !important;}"
        "[data-testid='stMain'] [data-testid='stMetricValue'],"
        " [data-testid='stMain'] [data-testid='stMetricValue'] p,"
        " [data-testid='stMain'] [data-testid='stMetricValue'] div {font-size: 2.6rem !important;}"
        "[data-testid='stMain'] [data-testid='stCaptionContainer'] {font-size: 1.05rem !important;}"
        "[data-testid='stMain'] [data-testid='stTable'] td, [data-testid='stMain'] [data-testid='stTable'] th"
        " {font-size: 1.15rem !important;}"
        # long widget labels (toggles in a narrow column) wrap instead of ending in "…"
        "[data-testid='stMain'] label p, [data-testid='stMain'] [data-testid='stWidgetLabel'] p"
        " {white-space: normal !important; overflow: visible !important; text-overflow: clip !important;}"
        "[data-testid='stMain'] [data-testid='stWidgetLabel'] {overflow: visible !important; height: auto !important;}"
        "[data-testid='stMain'] textarea, [data-testid='stMain'] input,"
        " [data-testid='stMain'] [data-baseweb='select'] * {font-size: 1.15rem !important;}"
        "</style>"  # i18n: ok (CSS)
    )
try:
    page.run()
finally:
    # After the page has run (also when it stopped early): import torch/transformers in the
    # background, no model loaded, so the first model page after a restart is ready sooner.
    from components import warmup

    warmup.start()
    # what this run freed (a generation's KV cache, a page's tensors) goes back to the OS
    memory.release_free_memory()
