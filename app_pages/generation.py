"""Text generation: autoregressive sampling, streamed, with the next-token distribution.

Page contract (docs/contributing.md, "The page contract"): strings from ``locales/<lang>/generation.toml``,
permalink via :data:`SCHEMA` (``run=1`` regenerates the same text: same seed), presenter mode
with curated examples (``curated/generation.json``), CSV/PNG/HTML export. The page reads widgets,
then computes (:mod:`components.generation`, cached in :mod:`components.runs_generation`) and
renders (:mod:`components.views_generation`).
"""
from __future__ import annotations

import streamlit as st

from components import runs_generation as R
from components import server as srv
from components import ui
from components import views_generation as V
from components.catalog import SMOLLM2, TEXT_GENERATION, get_spec, models_for
from components.generation import (
    CHAT,
    COMPARE_DEFAULTS,
    COMPLETE,
    MAX_COLUMNS,
    MAX_NEW_TOKENS,
    VIEW_COMPARE,
    VIEW_SINGLE,
    VIEWS,
    EmptyPromptError,
    GenerationSettings,
    NoChatTemplateError,
    max_generation_seconds,
    normalize_settings,
    prepare_inputs,
    prompt_ids,
)
from components.permalink import BOOL, CHOICE, FLOAT, INT, TEXT, Param

PAGE = "generation"  # i18n: ok (page id)
t = ui.t
K = ui.persist_key
EXAMPLES = {  # example prompts are model input, not UI text: never translated
    "story": "Once upon a time, in a small village by the sea,",  # i18n: ok (model input)
    "weather": "今天的天气很好，适合出去散步。",
    "chat": "Explain self-attention to a 10-year-old in two sentences.",  # i18n: ok (model input)
    "code": "def fibonacci(n):",  # i18n: ok (model input)
}
_D = GenerationSettings()
SERVERS = ui.server_endpoints()  # operator-configured model servers; none by default
# SCHEMA: the query parameters of a generation link, every input and setting that shapes the text.
SCHEMA = [
    Param("prompt", K("gen_prompt"), TEXT, EXAMPLES["story"]),
    Param("model", K("gen_model"), CHOICE, SMOLLM2,
          choices=(*(s.key for s in models_for(TEXT_GENERATION)), *(e.key for e in SERVERS))),
    Param("mode", K("gen_mode"), CHOICE, COMPLETE, choices=(COMPLETE, CHAT)),
    Param("sample", K("gen_sample"), BOOL, _D.do_sample),
    Param("max_new", K("gen_max_new"), INT, _D.max_new_tokens, 1, MAX_NEW_TOKENS),
    Param("temp", K("gen_temp"), FLOAT, _D.temperature, 0.0, 2.0),
    Param("top_k", K("gen_topk"), INT, _D.top_k, 0, 200),
    Param("top_p", K("gen_topp"), FLOAT, _D.top_p, 0.0, 1.0),
    Param("rep", K("gen_rep"), FLOAT, _D.repetition_penalty, 1.0, 2.0),
    Param("ngram", K("gen_ngram"), INT, _D.no_repeat_ngram_size, 0, 6),
    Param("n", K("gen_n"), INT, _D.num_samples, 1, 4),
    Param("seed", K("gen_seed"), INT, _D.seed, 0, 2**31 - 1),
    # model servers only (OpenAI API settings)
    Param("stop", K("gen_stop"), TEXT, "", max_chars=400),
    Param("fpen", K("gen_fpen"), FLOAT, 0.0, -2.0, 2.0),
    Param("ppen", K("gen_ppen"), FLOAT, 0.0, -2.0, 2.0),
]
# Settings side by side: the view, the number of columns and each column's decoding settings.
SCHEMA += [
    Param("view", K("gen_view"), CHOICE, VIEW_SINGLE, choices=VIEWS),
    Param("cols", K("gen_cols"), INT, MAX_COLUMNS, 2, MAX_COLUMNS),
]
for _i, _c in enumerate(COMPARE_DEFAULTS, start=1):
    SCHEMA += [
        Param(f"c{_i}_sample", K(f"gen_c{_i}_sample"), BOOL, _c.do_sample),
        Param(f"c{_i}_temp", K(f"gen_c{_i}_temp"), FLOAT, _c.temperature, 0.0, 2.0),
        Param(f"c{_i}_top_k", K(f"gen_c{_i}_topk"), INT, _c.top_k, 0, 200),
        Param(f"c{_i}_top_p", K(f"gen_c{_i}_topp"), FLOAT, _c.top_p, 0.0, 1.0),
    ]


# ================================================================== page
st.title(t("generation.title"))
st.caption(t("generation.caption"))
run_requested = ui.bind_link(PAGE, SCHEMA)

# ------------------------------------------------------------------ presenter: curated example
ui.slide(PAGE, SCHEMA, lambda ex: V.render_curated(ex["result"]), run_requested,
         on_live=lambda ex: st.session_state.__setitem__(V.RUN_LIVE, True))

# ------------------------------------------------------------------ inputs
with ui.live_inputs(PAGE):
    left, right = st.columns([3, 2], gap="large")
    with left:
        model_key = ui.model_picker(TEXT_GENERATION, "gen_model", servers=SERVERS)
        endpoint = srv.find(SERVERS, model_key)
        spec = srv.display_spec(endpoint) if endpoint else get_spec(model_key)

        def _load_example() -> None:
            choice = st.session_state.get("gen_example")
            if choice in EXAMPLES:
                st.session_state[K("gen_prompt")] = EXAMPLES[choice]

        st.selectbox(t("generation.example_picker"), ["", *EXAMPLES], key="gen_example", on_change=_load_example,
                     format_func=lambda c: t(f"generation.examples.{c}") if c else "—")
        modes = [COMPLETE, CHAT] if spec.chat else [COMPLETE]
        if st.session_state.get(K("gen_mode")) not in modes:
            st.session_state[K("gen_mode")] = COMPLETE
        mode = st.radio(
            t("generation.mode"), modes, key=K("gen_mode"), persist_state="session", horizontal=True,
            format_func=lambda m: t("generation.mode_chat") if m == CHAT else t("generation.mode_complete"),
            help=t("generation.help.mode"),
        )
        if not spec.chat:
            st.caption(t("generation.no_chat", model=ui.model_name(spec)))
        prompt = st.text_area(t("generation.prompt"), key=K("gen_prompt"), persist_state="session", height=140)

    with right:
        sampling = st.toggle(t("generation.sampling"), key=K("gen_sample"), persist_state="session",
                             help=t("generation.help.sampling"))
        max_new_tokens = st.slider(
            t("generation.max_new_tokens"), 1, MAX_NEW_TOKENS, key=K("gen_max_new"), persist_state="session",
            help=t("generation.help.max_new_tokens", cap=MAX_NEW_TOKENS, seconds=f"{max_generation_seconds():g}"))
        c1, c2 = st.columns(2)
        temperature = c1.slider(t("generation.temperature"), 0.0, 2.0, step=0.05, key=K("gen_temp"),
                                persist_state="session", disabled=not sampling, help=t("generation.help.temperature"))
        top_k = c2.slider(t("generation.top_k"), 0, 200, key=K("gen_topk"), persist_state="session",
                          disabled=not sampling, help=t("generation.help.top_k"))
        top_p = c1.slider(t("generation.top_p"), 0.0, 1.0, step=0.01, key=K("gen_topp"), persist_state="session",
                          disabled=not sampling, help=t("generation.help.top_p"))
        if not ui.presenter():  # advanced controls; in presenter mode their values are kept
            repetition_penalty = c2.slider(t("generation.repetition_penalty"), 1.0, 2.0, step=0.05, key=K("gen_rep"),
                                           persist_state="session", help=t("generation.help.repetition_penalty"))
            no_repeat = c1.slider(t("generation.no_repeat"), 0, 6, key=K("gen_ngram"), persist_state="session",
                                  help=t("generation.help.no_repeat"))
            num_samples = c2.slider(t("generation.samples"), 1, 4, key=K("gen_n"), persist_state="session")
            seed = st.number_input(t("generation.seed"), min_value=0, max_value=2**31 - 1, step=1, key=K("gen_seed"),
                                   persist_state="session", help=t("generation.help.seed"))
        else:
            repetition_penalty = st.session_state[K("gen_rep")]
            no_repeat = st.session_state[K("gen_ngram")]
            num_samples = st.session_state[K("gen_n")]
            seed = st.session_state[K("gen_seed")]

    view = st.radio(t("generation.view.label"), VIEWS, key=K("gen_view"), persist_state="session", horizontal=True,
                    format_func=lambda v: t(f"generation.view.{v}"), help=t("generation.help.view"))
    column_inputs = V.column_editors() if view == VIEW_COMPARE else []

ui.publish_link(PAGE, SCHEMA, runnable=True)

raw_settings = GenerationSettings(
    max_new_tokens=int(max_new_tokens), do_sample=bool(sampling), temperature=float(temperature),
    top_k=int(top_k), top_p=float(top_p), repetition_penalty=float(repetition_penalty),
    no_repeat_ngram_size=int(no_repeat), num_samples=int(num_samples), seed=int(seed),
)
settings, setting_notices = normalize_settings(raw_settings)

go_clicked = st.button(t("generation.generate"), type="primary", key="gen_go")
go_clicked = go_clicked or run_requested or bool(st.session_state.pop(V.RUN_LIVE, False))

if not prompt or not prompt.strip():
    st.warning(t("generation.empty_prompt"), icon="✏️")
    st.stop()

if endpoint is not None:  # a model server: its API instead of a local model
    if view == VIEW_COMPARE:
        st.info(t("server.compare_local_only"), icon="ℹ️")
    V.server_section(endpoint, prompt, mode, settings, setting_notices, go_clicked)
    st.stop()

loaded = ui.load_or_explain(model_key, "gen_model")
if loaded is None:
    st.stop()

try:
    prepared = prepare_inputs(loaded, prompt, mode, settings.max_new_tokens)
except NoChatTemplateError:
    st.warning(t("generation.no_chat_template", model=ui.model_name(spec)), icon="✏️")
    st.stop()
except EmptyPromptError:
    st.warning(t("generation.empty_prompt"), icon="✏️")
    st.stop()

ui.notices([t(k, **v) for k, v in setting_notices + prepared.notices])

if view == VIEW_COMPARE:
    V.run_compare(loaded, prepared, settings, column_inputs, go_clicked, prompt, mode)
    st.subheader(t("generation.tokens_heading"))
    V.render_prompt_tokens(R.tokens_for(model_key, prompt_ids(prepared)), key="cmp")
    st.stop()

# ------------------------------------------------------------------ generation
st.subheader(t("generation.output"))
signature = (model_key, prepared.text, settings)
# the prompt's next-token logits, from the generation's first step
first_logits = V.stream_samples(loaded, prepared, settings, signature, model_key, prompt, mode) if go_clicked else None
current = V.render_results(signature)

# ------------------------------------------------------------------ tokens + next-token view
st.subheader(t("generation.tokens_heading"))
ids = prompt_ids(prepared)
tokens = R.tokens_for(model_key, ids)
V.render_prompt_tokens(tokens, key="live")

st.subheader(t("generation.next_heading"))
st.caption(t("generation.next_caption"))
dist_settings = GenerationSettings(do_sample=settings.do_sample, temperature=settings.temperature,
                                   top_k=settings.top_k, top_p=settings.top_p,
                                   repetition_penalty=settings.repetition_penalty,
                                   no_repeat_ngram_size=settings.no_repeat_ngram_size)
dist = R.distribution_for(model_key, ids, dist_settings, first_logits)
V.render_distribution(dist, key="live")
V.render_report_and_explainer(current, prompt, f"{ui.model_name(spec)} ({model_key})", mode, settings, dist, tokens)
