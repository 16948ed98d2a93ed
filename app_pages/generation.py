"""Text generation: autoregressive sampling, streamed, with the next-token distribution."""
from __future__ import annotations

import time

import streamlit as st

from components import ui
from components.catalog import TEXT_GENERATION, get_spec
from components.charts import next_token_figure
from components.generation import (
    CHAT,
    COMPLETE,
    EmptyPromptError,
    GenerationSettings,
    GenerationStream,
    next_token_distribution,
    next_token_logits,
    normalize_settings,
    prepare_inputs,
)
from components.tokens import readable_tokens

EXAMPLES = {
    "English: story opening": "Once upon a time, in a small village by the sea,",
    "中文: 天气 (the primer's example)": "今天的天气很好，适合出去散步。",
    "Chat: explain attention": "Explain self-attention to a 10-year-old in two sentences.",
    "Code: Python function": "def fibonacci(n):",
}
K = ui.persist_key

st.title("✍️ Text generation · 文本生成")
st.caption(
    "A GPT-style model writes one token at a time: it predicts a probability for every token in "
    "its vocabulary, picks one, appends it, and repeats (autoregressive generation)."
)

# ------------------------------------------------------------------ inputs
left, right = st.columns([3, 2], gap="large")
with left:
    model_key = ui.model_picker(TEXT_GENERATION, "gen_model")
    spec = get_spec(model_key)
    if K("gen_prompt") not in st.session_state:
        st.session_state[K("gen_prompt")] = EXAMPLES["English: story opening"]

    def _load_example() -> None:
        choice = st.session_state.get("gen_example")
        if choice in EXAMPLES:
            st.session_state[K("gen_prompt")] = EXAMPLES[choice]

    st.selectbox("Load an example prompt", ["—", *EXAMPLES], key="gen_example", on_change=_load_example)
    modes = [COMPLETE, CHAT] if spec.chat else [COMPLETE]
    if st.session_state.get(K("gen_mode")) not in modes:
        st.session_state[K("gen_mode")] = COMPLETE
    mode = st.radio(
        "Mode",
        modes,
        key=K("gen_mode"), persist_state="session",
        horizontal=True,
        format_func=lambda m: {COMPLETE: "Complete text", CHAT: "Chat (instruction template)"}[m],
        help="Complete text: the model continues your words. Chat: your words are wrapped in the "
        "model's chat template as a user message, and the model writes the assistant's reply.",
    )
    if not spec.chat:
        st.caption(f"{spec.display_name} is not instruction-tuned: only text completion.")
    prompt = st.text_area("Prompt", key=K("gen_prompt"), persist_state="session", height=140)

with right:
    sampling = st.toggle("Sampling (off = greedy)", key=K("gen_sample"), persist_state="session", value=True,
                         help="Greedy always takes the most likely token; sampling draws from the distribution.")
    max_new_tokens = st.slider("Max new tokens (max_new_tokens)", 1, 512, 64, key=K("gen_max_new"), persist_state="session")
    c1, c2 = st.columns(2)
    temperature = c1.slider("Temperature", 0.0, 2.0, 0.8, 0.05, key=K("gen_temp"), persist_state="session", disabled=not sampling,
                            help="Logits are divided by T before softmax: <1 sharpens, >1 flattens. 0 = greedy.")
    top_k = c2.slider("Top-k (0 = off)", 0, 200, 50, key=K("gen_topk"), persist_state="session", disabled=not sampling)
    top_p = c1.slider("Top-p (nucleus)", 0.0, 1.0, 0.95, 0.01, key=K("gen_topp"), persist_state="session", disabled=not sampling,
                      help="Keep the smallest set of tokens whose probabilities add up to p (Holtzman et al. 2020).")
    repetition_penalty = c2.slider("Repetition penalty", 1.0, 2.0, 1.0, 0.05, key=K("gen_rep"), persist_state="session",
                                   help="Divides positive logits of tokens already present (CTRL, Keskar et al. 2019).")
    no_repeat = c1.slider("No-repeat n-gram size", 0, 6, 0, key=K("gen_ngram"), persist_state="session",
                          help="Forbid repeating any n-gram of this size (0 = off).")
    num_samples = c2.slider("Samples", 1, 4, 1, key=K("gen_n"), persist_state="session")
    seed = st.number_input("Seed", 0, 2**31 - 1, 42, key=K("gen_seed"), persist_state="session",
                           help="Same seed + same settings → the same text, every time.")

raw_settings = GenerationSettings(
    max_new_tokens=int(max_new_tokens), do_sample=bool(sampling), temperature=float(temperature),
    top_k=int(top_k), top_p=float(top_p), repetition_penalty=float(repetition_penalty),
    no_repeat_ngram_size=int(no_repeat), num_samples=int(num_samples), seed=int(seed),
)
settings, setting_notices = normalize_settings(raw_settings)

go_clicked = st.button("Generate", type="primary", key="gen_go")

if not prompt or not prompt.strip():
    st.warning("The prompt is empty: type some text for the model to continue.", icon="✏️")
    st.stop()

loaded = ui.load_or_explain(model_key, "gen_model")
if loaded is None:
    st.stop()

try:
    prepared = prepare_inputs(loaded, prompt, mode, settings.max_new_tokens)
except (EmptyPromptError, ValueError) as exc:
    st.warning(str(exc), icon="✏️")
    st.stop()

ui.notices(setting_notices + prepared.notices)

# ------------------------------------------------------------------ generation
st.subheader("Output")
signature = (model_key, prepared.text, settings)
if go_clicked:
    results = []
    for i in range(settings.num_samples):
        if settings.num_samples > 1:
            st.markdown(f"**Sample {i + 1}** (seed {settings.seed + i})")
        box = st.empty()
        stream = GenerationStream(loaded, prepared, settings, sample_index=i)
        shown, last_paint = "", 0.0
        counter = st.empty()
        for delta in stream:
            shown += delta
            if time.perf_counter() - last_paint > 0.05:
                box.code(shown + "▌", language=None, wrap_lines=True)
                counter.caption(f"{len(stream.token_ids)} / {prepared.max_new_tokens} tokens · "
                                "Streamlit's Stop button (top right) interrupts generation")
                last_paint = time.perf_counter()
        box.empty()
        counter.empty()
        results.append({"text": stream.text, "stats": stream.stats, "seed": settings.seed + i,
                        "steps": stream.steps()})
    st.session_state["gen_results"] = {"signature": signature, "results": results}

saved = st.session_state.get("gen_results")
if saved:
    stale = saved["signature"] != signature
    if stale:
        st.caption("Showing the last output; the prompt or settings have changed since — press Generate to update.")
    for i, res in enumerate(saved["results"]):
        if len(saved["results"]) > 1:
            st.markdown(f"**Sample {i + 1}** (seed {res['seed']})")
        ui.show_literal(res["text"] if res["text"] else "(the model produced no text: it ended its answer at once)")
        if res.get("steps"):
            with st.expander("Step by step: each generated token and how likely the model found it"):
                st.caption("Darker = higher probability under the model's raw distribution (softmax of "
                           "that step's logits). Hover a token for its probability, rank and the top "
                           "alternatives the model considered. Sampling sometimes picks a lower-ranked token.")
                st.markdown(ui.probability_chips_html(res["steps"]), unsafe_allow_html=True)
        s = res["stats"]
        m = st.columns(5)
        m[0].metric("Prompt tokens", s.prompt_tokens)
        m[1].metric("New tokens", s.new_tokens)
        m[2].metric("Time to first token", f"{s.ttft_s:.2f} s")
        m[3].metric("Tokens / s", f"{s.tokens_per_s:.1f}", help="Decoding speed after the first token.")
        m[4].metric("Stopped at", {"eos": "end (EOS)", "length": "limit", "stopped": "interrupted"}.get(
            s.finish_reason, s.finish_reason), help="EOS: the model ended its answer; limit: max new tokens reached.")
else:
    st.caption("Press **Generate** to stream a continuation.")

# ------------------------------------------------------------------ tokens + next-token view
st.subheader("What the model sees: your prompt as tokens")


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _pieces_for(key: str, ids: tuple[int, ...]):
    from components.cache import get_model

    model = get_model(key)
    with model.lock:
        return readable_tokens(model.tokenizer, list(ids))


pieces = _pieces_for(model_key, tuple(int(t) for t in prepared.input_ids[0]))
st.caption(f"{len(pieces)} tokens. Hover a token for its raw vocabulary string and id.")
st.markdown(ui.token_chips_html(pieces), unsafe_allow_html=True)
with st.expander("Token table (id, readable text, raw vocabulary string)"):
    st.dataframe(
        {"position": [p.index for p in pieces], "token": [p.label for p in pieces],
         "raw": [p.raw for p in pieces], "id": [p.token_id for p in pieces]},
        hide_index=True, width="stretch",
    )


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def _logits_for(key: str, ids: tuple[int, ...]):
    import torch

    from components.cache import get_model

    return next_token_logits(get_model(key), torch.tensor([ids])).numpy()


st.subheader("Next-token distribution · 下一个词的概率")
st.caption(
    "The model's probabilities for the very next token after your prompt, and how each decoding "
    "setting reshapes them before one token is drawn. Move the sliders: this chart updates without "
    "generating."
)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def _distribution_for(key: str, ids: tuple[int, ...], do_sample: bool, temperature: float, top_k: int,
                      top_p: float, repetition_penalty: float, no_repeat_ngram_size: int):
    """Cached on exactly the settings that shape the distribution (not seed, length or samples)."""
    import torch

    from components.cache import get_model

    dist_settings = GenerationSettings(do_sample=do_sample, temperature=temperature, top_k=top_k, top_p=top_p,
                                       repetition_penalty=repetition_penalty,
                                       no_repeat_ngram_size=no_repeat_ngram_size)
    d = next_token_distribution(get_model(key), torch.tensor([ids]), dist_settings, top_n=12,
                                logits=torch.from_numpy(_logits_for(key, ids)))
    return d.table, d.kept, d.entropy_bits


ids = tuple(int(t) for t in prepared.input_ids[0])
table, kept, entropy_bits = _distribution_for(
    model_key, ids, settings.do_sample, settings.temperature, settings.top_k, settings.top_p,
    settings.repetition_penalty, settings.no_repeat_ngram_size)
stages = ["p_raw"]
if settings.repetition_penalty != 1.0 or settings.no_repeat_ngram_size:
    stages.append("p_penalties")
if settings.do_sample:
    stages += ["p_temperature", "p_top_k", "p_top_p"]
else:
    stages.append("p_final")
st.plotly_chart(next_token_figure(table, stages), key="gen_next_chart")
k1, k2, k3 = st.columns(3)
k1.metric("Tokens that can be drawn", f"{kept['final']:,}", help=f"of {kept['raw']:,} in the vocabulary")
k2.metric("Entropy before", f"{entropy_bits['raw']:.2f} bits")
k3.metric("Entropy after", f"{entropy_bits['final']:.2f} bits")
with st.expander("Table of probabilities"):
    st.dataframe(table.drop(columns=["token_id"]), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns
                                if c.startswith("p_") or c == "logit"})

ui.explainer(
    "What you are seeing · 自回归生成与采样",
    """
**Autoregressive generation (自回归生成).** A causal language model is pre-trained to predict the next
token. To write, it turns the last position's **logits** into probabilities with softmax, picks a token,
appends it to the input and runs again — one token per step, which is why text streams.

**Decoding settings (采样策略).**
- *Greedy*: always the most likely token — deterministic, often repetitive.
- *Temperature* T divides the logits: softmax(logits / T). T < 1 sharpens the distribution, T > 1 flattens it.
- *Top-k* keeps only the k most likely tokens; *top-p* (nucleus) keeps the smallest set whose probabilities
  sum to p — both cut the long tail of unlikely tokens, then the rest is renormalised.
- *Repetition penalty* and *no-repeat n-gram* discourage loops.

**Prompt engineering (提示工程).** In *Chat* mode your text is wrapped in the model's chat template, the
format it was fine-tuned on for following instructions; in *Complete text* it simply continues.

The bundled model is SmolLM2-135M-Instruct (4-bit GGUF, dequantized): tiny, fast on a CPU, and clearly
weaker than large models — good for seeing the mechanism, not for facts.
""",
)
