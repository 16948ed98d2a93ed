"""LLM Lab router: page config, navigation, shared sidebar."""
from __future__ import annotations

import os
import warnings

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
warnings.filterwarnings("ignore", message=".*torch.classes.*")

import streamlit as st  # noqa: E402

st.set_page_config(page_title="LLM Lab", page_icon="🧪", layout="wide")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", url_path="home", default=True),
    st.Page("app_pages/generation.py", title="Text generation", icon="✍️", url_path="generation"),
    st.Page("app_pages/sentiment.py", title="Sentiment", icon="🙂", url_path="sentiment"),
    st.Page("app_pages/classification.py", title="Classification", icon="🏷️", url_path="classification"),
    st.Page("app_pages/embeddings.py", title="Embedding explorer", icon="🧭", url_path="embeddings"),
    st.Page("app_pages/attention.py", title="Attention visualizer", icon="🔍", url_path="attention"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(
        "LLM Lab shows how language models work on real pretrained weights. "
        "Bundled models run offline; Hub models load from huggingface.co when it is reachable."
    )
try:
    page.run()
finally:
    # After the page has run (also when it stopped early): import torch/transformers in the
    # background, no model loaded, so the first model page after a restart is ready sooner.
    from components import warmup

    warmup.start()
