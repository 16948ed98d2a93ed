"""Home: what LLM Lab is, one card per page, and a live table of models."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components.catalog import CATALOG
from components.loading import availability, hub_reachable

st.title("🧪 LLM Lab")
st.markdown(
    "**See how large language models work — on real pretrained models.** "
    "Generate text token by token, compare rule-based, data-driven and prompted sentiment, "
    "classify with labels you type, map embeddings, and look inside attention down to the "
    "formula softmax(QKᵀ/√d_k)·V recomputed from the model's own weights.  \n"
    "看见大语言模型如何工作：自回归生成、情感分析、分类、词向量与注意力机制。"
)

CARDS = [
    ("app_pages/generation.py", "✍️ Text generation · 文本生成",
     "Autoregressive sampling: watch tokens stream, and see how temperature, top-k and top-p "
     "reshape the next-token distribution."),
    ("app_pages/sentiment.py", "🙂 Sentiment · 情感分析",
     "Rule-driven → data-driven → prompted LLM, side by side, with the words that drove each decision."),
    ("app_pages/classification.py", "🏷️ Classification · 文本分类",
     "Zero-shot labels you type, or train your own head on frozen embeddings (fine-tuning made tangible)."),
    ("app_pages/embeddings.py", "🧭 Embedding explorer · 词向量",
     "Sentences and words as vectors, projected with PCA: similar meanings land close."),
    ("app_pages/attention.py", "🔍 Attention visualizer · 注意力",
     "Every layer and head, and the attention formula recomputed step by step from real weights."),
]

for row in (CARDS[:3], CARDS[3:]):
    for col, (path, title, blurb) in zip(st.columns(3), row):
        with col.container(border=True, height="stretch"):
            st.page_link(path, label=title)
            st.caption(blurb)

st.subheader("Models")
online = hub_reachable()
st.caption(
    ("The Hugging Face Hub is reachable: Hub models download on first use."
     if online else
     "The Hugging Face Hub is not reachable from this server: bundled models work; "
     "Hub models are listed for when the app runs online (e.g. on Streamlit Community Cloud).")
)
rows = [
    {
        "Model": spec.display_name,
        "Status": availability(spec),
        "Used on": ", ".join(spec.tasks),
        "Type": "decoder (causal)" if spec.is_causal else "encoder (bidirectional)",
        "Params (M)": spec.params_m,
        "Size (MB)": spec.size_mb,
        "Licence": spec.licence,
        "Hub id": spec.hub_id or "",
        "About": spec.description,
    }
    for spec in CATALOG
]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

with st.expander("💡 From rules to data to prompts · 从规则驱动到数据驱动"):
    st.markdown(
        "- **Rule-driven NLP** wrote knowledge down by hand (lexicons, grammars): transparent, brittle.\n"
        "- **Data-driven NLP** learns from labelled examples: word embeddings, then pre-trained "
        "transformers **fine-tuned** for a task.\n"
        "- **Pre-training** teaches a model to predict tokens from huge text; **fine-tuning** adapts it "
        "with a small labelled set; **prompt engineering** steers it with instructions and examples, "
        "no training at all.\n"
        "- The **Transformer** behind all of them mixes tokens with **self-attention**: "
        "Attention(Q, K, V) = softmax(QKᵀ/√d_k)·V, computed by several **heads** in parallel."
    )
