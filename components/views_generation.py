"""Generation page, UI side: the streamed text with its live meters, the per-step probabilities,
the prompt-token table, the next-token view, the side-by-side decoding comparison, the model
server panel and the presenter example. Strings from ``locales/<lang>/generation.toml`` (and
``server.toml``) through :func:`components.ui.t`; tables, chart and reports are worded by
:mod:`components.generation_wording`. The page (``app_pages/generation.py``) reads widgets ->
compute -> these views."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pandas as pd
import streamlit as st

from components import generation as gen
from components import generation_wording as W
from components import server as srv
from components import ui
from components.attention import MAX_TOKENS_LIMIT as ATTENTION_TOKEN_LIMIT
from components.catalog import get_spec
from components.charts import next_token_figure
from components.generation import (
    CHAT,
    MAX_COLUMNS,
    MAX_NEW_TOKENS,
    MAX_PROMPT_TOKENS,
    VIEW_COMPARE,
    GenerationSettings,
    GenerationStream,
    first_step_logits,
    max_generation_seconds,
    merge_steps,
    read_sequence,
    sample_record,
    settings_record,
)

t = ui.t
K = ui.persist_key
RUN_LIVE = "gen_run_live"  # i18n: ok (state key)
RESULTS = "gen_results"  # i18n: ok (state key)
INTERRUPTED = "gen_interrupted"  # i18n: ok (state key): text of a generation cut short by a rerun or Stop


# ------------------------------------------------------------------ renderers (live + curated)
def _fmt_finish(reason: str) -> str:
    return W.finish_label(reason, ui.lang())


def show_saved(state_key: str, signature, key: str) -> tuple[dict | None, dict | None]:
    """The run saved under ``state_key``, drawn with :func:`render_samples` (a "stale" caption
    when it was made with other settings than ``signature``).

    Returns:
        (saved entry or None, its result when made with the current settings, else None).
    """
    saved = st.session_state.get(state_key)
    current = None
    if saved:
        if saved["signature"] != signature:
            st.caption(t("generation.stale"))
        else:
            current = saved["result"]
        render_samples(saved["result"], key=key)
    return saved, current


def render_samples(result: dict, key: str) -> None:
    """The generated text(s) of ``result`` (live or curated: ``{"samples", "settings", ...}``), each with its per-step
    probabilities and statistics."""
    samples = result["samples"]
    for i, res in enumerate(samples):
        if len(samples) > 1:
            st.markdown("**" + ui.escape_markdown(t("generation.sample_heading", i=i + 1, seed=res["seed"])) + "**")
        ui.show_literal(res["text"] if res["text"] else t("generation.no_text"))
        if res.get("steps"):
            with st.expander(t("generation.steps_title")):
                st.caption(t("generation.steps_caption"))
                st.markdown(ui.probability_chips_html(merge_steps(res["steps"])), unsafe_allow_html=True)
        s = res["stats"]
        if s.get("finish_reason") == "time":
            st.warning(t("generation.time_limit", seconds=f"{result.get('max_seconds', max_generation_seconds()):g}",
                         max=result["settings"]["max_new_tokens"]), icon="⏱️")
        metrics = [(t("generation.metric.prompt_tokens"), s["prompt_tokens"], None),
                   (t("generation.metric.new_tokens"), s["new_tokens"], None)]
        if "ttft_s" in s:  # timings only for a live run: no empty columns without them
            metrics += [(t("generation.metric.ttft"), t("generation.metric.seconds", value=f"{s['ttft_s']:.2f}"), None),
                        (t("generation.metric.tokens_per_s"), f"{s['tokens_per_s']:.1f}", t("generation.help.tokens_per_s"))]
        metrics.append((t("generation.metric.finish"), _fmt_finish(s["finish_reason"]), t("generation.help.finish")))
        for col, (label, value, help_text) in zip(st.columns(len(metrics)), metrics):
            col.metric(label, value, help=help_text)


def _token_objects(records: list[dict]) -> list[SimpleNamespace]:
    return [SimpleNamespace(label=r["token"], raw=r["raw"], token_id=r["id"], size=r.get("pieces", 1))
            for r in records]


def render_prompt_tokens(records: list[dict], key: str) -> None:
    """Token chips (one per character: byte pieces merged; raw strings, ids and piece count
    on hover) and the token table (raw vocabulary strings behind a toggle)."""
    st.caption(t("generation.tokens_caption", n=sum(r.get("pieces", 1) for r in records)))
    st.markdown(ui.token_chips_html(_token_objects(records)), unsafe_allow_html=True)
    with st.expander(t("generation.tokens_table")):
        raw = st.toggle(t("generation.show_raw"), key=f"{key}_tokens_raw", help=t("generation.help.show_raw"))
        ui.data_table(prompt_tokens_frame(records, raw), key=f"{key}_tokens", filename="prompt-tokens")


def distribution_frame(record: dict) -> pd.DataFrame:
    """The plotted numbers of the next-token chart (translated headers)."""
    return W.distribution_frame(record, ui.lang())


def distribution_figure(record: dict):
    """The next-token chart, labels in the session's language."""
    return W.distribution_figure(record, ui.lang())


def prompt_tokens_frame(records: list[dict], raw: bool = False) -> pd.DataFrame:
    """Prompt tokens as a table (translated headers; raw vocabulary strings with ``raw``)."""
    return W.prompt_tokens_frame(records, ui.lang(), raw=raw)


def render_distribution(record: dict, key: str) -> None:
    """Next-token chart (+ table tab, PNG/CSV export) and the kept-token / entropy metrics."""
    ui.chart(distribution_figure(record), key=f"{key}_next_chart", table=distribution_frame(record),
             filename="next-token-distribution")
    kept, ent = record["kept"], record["entropy_bits"]
    k1, k2, k3 = st.columns(3)
    k1.metric(t("generation.kept"), f"{kept['final']:,}", help=t("generation.kept_help", vocab=f"{kept['raw']:,}"))
    k2.metric(t("generation.entropy_before"), t("generation.bits", value=f"{ent['raw']:.2f}"))
    k3.metric(t("generation.entropy_after"), t("generation.bits", value=f"{ent['final']:.2f}"))


def describe_settings(s: dict, mode: str) -> str:
    """One translated line summarising mode and decoding settings (curated examples)."""
    decoding = (t("generation.sampled", temperature=s["temperature"], top_k=s["top_k"], top_p=s["top_p"],
                  seed=s["seed"]) if s["do_sample"] else t("generation.greedy"))
    mode_label = t("generation.mode_chat") if mode == CHAT else t("generation.mode_complete")
    return t("generation.precomputed_settings", mode=mode_label, decoding=decoding, max=s["max_new_tokens"])


# ------------------------------------------------------------------ settings side by side
CMP_RESULTS = "gen_cmp_results"  # i18n: ok (state key)


def column_title(s: dict) -> str:
    """Short translated name of one column's decoding settings (``settings_record`` dict)."""
    return W.decoding_name(s, ui.lang())


def column_editors() -> list[GenerationSettings]:
    """Widgets of the side-by-side columns (count, then sampling / temperature / top-k / top-p
    per column); returns the columns' raw settings (normalised by the caller)."""
    st.caption(t("generation.compare.shared"))
    n = st.slider(t("generation.compare.columns"), 2, MAX_COLUMNS, key=K("gen_cols"), persist_state="session")
    out = []
    for i, col in enumerate(st.columns(int(n)), start=1):
        with col:
            st.caption(t("generation.compare.column", i=i))
            sample = st.toggle(t("generation.sampling"), key=K(f"gen_c{i}_sample"), persist_state="session")
            temp = st.slider(t("generation.temperature"), 0.0, 2.0, step=0.05, key=K(f"gen_c{i}_temp"),
                             persist_state="session", disabled=not sample)
            top_k = st.slider(t("generation.top_k"), 0, 200, key=K(f"gen_c{i}_topk"), persist_state="session",
                              disabled=not sample)
            top_p = st.slider(t("generation.top_p"), 0.0, 1.0, step=0.01, key=K(f"gen_c{i}_topp"),
                              persist_state="session", disabled=not sample)
        out.append(GenerationSettings(do_sample=bool(sample), temperature=float(temp), top_k=int(top_k),
                                      top_p=float(top_p)))
    return out


def render_meters(slot, rates: dict) -> None:
    """Time to first token and tokens/s (:func:`components.generation.stream_rates`) in ``slot``."""
    if rates["ttft_s"] is None:
        return
    slot.caption(t("generation.live_meters", ttft=f"{rates['ttft_s']:.2f}", rate=f"{rates['tokens_per_s']:.1f}"))


def render_queue(slot, ahead: int) -> None:
    """The queue position while a run waits for the shared model (``GenerationStream.ahead``);
    clears ``slot`` once the run has the model."""
    if ahead:
        slot.info(t("generation.queue_ahead", n=ahead), icon="⏳")
    else:
        slot.empty()


def render_columns(records: list[dict], key: str) -> None:
    """Side-by-side columns: settings, text, probability chips, mean log-prob, distinct-n."""
    for rec, col in zip(records, st.columns(len(records))):
        with col:
            st.markdown("**" + ui.escape_markdown(column_title(rec["settings"])) + "**")
            ui.show_literal(rec["text"] if rec["text"] else t("generation.no_text"))
            if rec.get("steps"):
                st.markdown(ui.probability_chips_html(merge_steps(rec["steps"])), unsafe_allow_html=True)
            lp = rec["mean_logprob"]
            st.metric(t("generation.compare.col.mean_logprob"), "—" if lp is None else f"{lp:.2f}",
                      help=t("generation.help.mean_logprob"))
            d1, d2 = rec["distinct_1"], rec["distinct_2"]
            a, b = st.columns(2)
            a.metric(t("generation.compare.col.distinct_1"), "—" if d1 is None else f"{d1:.2f}",
                     help=t("generation.help.distinct"))
            b.metric(t("generation.compare.col.distinct_2"), "—" if d2 is None else f"{d2:.2f}",
                     help=t("generation.help.distinct"))
            s = rec["stats"]
            if "ttft_s" in s:
                render_meters(st, {"ttft_s": s["ttft_s"], "tokens_per_s": s["tokens_per_s"]})
            st.caption(t("generation.metric.finish") + ": " + _fmt_finish(s["finish_reason"]))
    ui.data_table(W.compare_frame(records, ui.lang()), key=f"{key}_cmp_table", filename="decoding-settings-compared")


def run_compare(loaded, prepared, settings: GenerationSettings, columns: list[GenerationSettings],
                go_clicked: bool, prompt: str, mode: str) -> None:
    """Generate (when asked) and draw the side-by-side columns."""
    col_settings, notes = gen.column_settings(settings, columns)
    ui.notices([t(k, **v) for k, v in notes])
    st.subheader(t("generation.compare.heading"))
    st.caption(t("generation.compare.caption", seed=settings.seed, max=prepared.max_new_tokens))
    signature = (loaded.spec.key, prepared.text, tuple(col_settings))
    if go_clicked:
        slots = []
        streaming = st.empty()  # the streaming columns, replaced by the finished ones below
        for s, col in zip(col_settings, streaming.container().columns(len(col_settings))):
            with col:
                st.markdown("**" + ui.escape_markdown(column_title(gen.settings_record(s))) + "**")
                slots.append((st.empty(), st.empty()))
        shown = [""] * len(col_settings)
        painted = [0.0] * len(col_settings)
        waiting, told = st.empty(), [0]  # the first column queues first: later ones wait behind it too

        def paint(i: int, delta: str, stream) -> None:
            if i == 0 and stream.ahead != told[0]:
                told[0] = stream.ahead
                render_queue(waiting, stream.ahead)
            shown[i] += delta
            if time.perf_counter() - painted[i] > 0.1:
                slots[i][0].code(shown[i] + "▌", language=None, wrap_lines=True)
                render_meters(slots[i][1], stream.live_rates())
                painted[i] = time.perf_counter()

        records = gen.compare_settings(loaded, prepared, col_settings, max_seconds=max_generation_seconds(),
                                       on_delta=paint)
        waiting.empty()
        streaming.empty()
        st.session_state[CMP_RESULTS] = {"signature": signature, "records": records}
    saved = st.session_state.get(CMP_RESULTS)
    if not saved:
        st.caption(t("generation.press_generate"))
        return
    current = saved["records"] if saved["signature"] == signature else None
    if current is None:
        st.caption(t("generation.stale"))
    render_columns(saved["records"], key="live")
    spec = get_spec(loaded.spec.key)
    ui.report_button(
        t("generation.report_title"),
        lambda: W.compare_report_sections(
            ui.lang(), records=current, prompt=prompt, model_name=f"{ui.model_name(spec)} ({spec.key})", mode=mode,
            settings=settings,
            chips_html=[ui.probability_chips_html(merge_steps(r["steps"])) for r in current] if current else None),
        filename="decoding-settings-report", key="gen_cmp",
    )


def render_curated(res: dict) -> None:
    """A curated example's precomputed result: single view (text, steps, next-token chart)
    or settings side by side (``res["view"] == "compare"``)."""
    if res.get("view") == VIEW_COMPARE:
        st.caption(t("generation.compare.caption", seed=res["settings"]["seed"], max=res["settings"]["max_new_tokens"]))
        ui.show_literal(res["prompt"])
        render_columns(res["columns"], key="cur")
        return
    st.caption(describe_settings(res["settings"], res["mode"]))
    ui.show_literal(res["prompt"])
    render_samples(res, key="cur")
    render_distribution(res["distribution"], key="cur")


# ------------------------------------------------------------------ model server (components/server.py)
SERVER_RESULTS = "gen_server_results"  # i18n: ok (state key)


def server_message(error: dict) -> str:
    """One sentence for a server fault (``ServerStream.error``), plus "text kept" when text had arrived."""
    text = t(f"server.error.{error['code']}", **error["values"])
    return text + " " + t("server.error.kept") if error.get("partial") else text


def server_distribution_frame(record: dict) -> pd.DataFrame:
    """The numbers of the server's next-token chart (translated headers)."""
    table = record["table"]
    return pd.DataFrame({t("generation.col.token"): table["token"], t("server.col.logprob"): table["logprob"],
                         t("server.stage"): table["p_raw"]})


def server_section(endpoint, prompt: str, mode: str, settings: GenerationSettings, notices: list,
                   go_clicked: bool) -> None:
    """Generation through an operator-configured OpenAI-compatible server: streamed text,
    per-token probabilities and the next-token view from the logprobs it returns; the views
    that need the weights say in one sentence why they are not there."""
    with st.expander(t("server.settings.title")):
        stop_text = st.text_area(t("server.settings.stop"), key=K("gen_stop"), persist_state="session",
                                 height=68, help=t("server.settings.stop_help", n=srv.MAX_STOP))
        c1, c2 = st.columns(2)
        fpen = c1.slider(t("server.settings.frequency_penalty"), -2.0, 2.0, step=0.1, key=K("gen_fpen"),
                         persist_state="session", help=t("server.settings.penalty_help"))
        ppen = c2.slider(t("server.settings.presence_penalty"), -2.0, 2.0, step=0.1, key=K("gen_ppen"),
                         persist_state="session", help=t("server.settings.penalty_help"))
    extra = {"stop": tuple(line for line in (stop_text or "").split("\n") if line),
             "frequency_penalty": float(fpen), "presence_penalty": float(ppen)}
    _, request_notes = srv.request_params(endpoint, prompt, mode, settings, **extra)
    ui.notices([t(k, **v) for k, v in notices] + [t(f"server.{k}", **v) for k, v in request_notes])

    st.subheader(t("generation.output"))
    signature = (endpoint.key, prompt, mode, settings, tuple(sorted(extra.items())))
    if go_clicked:
        samples, dist, limit = [], None, max_generation_seconds()
        for i in range(settings.num_samples):
            if settings.num_samples > 1:
                st.markdown("**" + ui.escape_markdown(t("generation.sample_heading", i=i + 1, seed=settings.seed + i)) + "**")
            box, counter = st.empty(), st.empty()
            params, _ = srv.request_params(endpoint, prompt, mode, settings, sample_index=i, **extra)
            stream = srv.ServerStream(endpoint, params, limit)
            shown, last_paint = "", 0.0
            counter.caption(t("server.waiting", origin=endpoint.origin))
            for delta in stream:
                shown += delta
                if time.perf_counter() - last_paint > 0.05:
                    box.code(shown + "▌", language=None, wrap_lines=True)
                    counter.caption(t("server.streaming", origin=endpoint.origin))
                    last_paint = time.perf_counter()
            box.empty()
            counter.empty()
            samples.append(stream.record())
            dist = dist or srv.distribution_record(stream.tokens)
            if stream.error is not None:  # the next samples would meet the same fault
                break
        st.session_state[SERVER_RESULTS] = {
            "signature": signature,
            "result": {"model": endpoint.key, "prompt": prompt, "mode": mode, "settings": settings_record(settings),
                       "samples": samples, "max_seconds": limit, "dist": dist},
        }

    saved, current = show_saved(SERVER_RESULTS, signature, "srv")
    if saved:
        refused = sorted({f for sample in saved["result"]["samples"] for f in sample.get("dropped", ())})
        if refused:
            st.info(t("server.notice.refused", origin=endpoint.origin, fields=ui.escape_markdown(", ".join(refused))),
                    icon="ℹ️")
        for sample in saved["result"]["samples"]:
            if sample.get("error"):
                st.warning(server_message(sample["error"]), icon="🔌")
    else:
        st.caption(t("generation.press_generate"))
    st.info(t("server.unavailable.sentence",
              views=t("server.unavailable.joiner").join(t(f"server.unavailable.{c}") for c in srv.UNAVAILABLE)),
            icon="ℹ️")

    st.subheader(t("generation.next_heading"))
    dist = saved["result"].get("dist") if saved else None
    if dist:
        st.caption(t("server.next_caption", k=dist["returned"], covered=f"{dist['covered']:.1%}"))
        fig = next_token_figure(pd.DataFrame(dist["table"]), dist["stages"], stage_labels={"p_raw": t("server.stage")},
                                y_title=t("generation.chart.y"), hover=t("generation.chart.hover"),
                                title=t("server.chart_title"))
        ui.chart(fig, key="srv_next_chart", table=server_distribution_frame(dist), filename="next-token-distribution")
    else:
        st.info(t("server.unavailable.logprobs") if saved else t("server.next_after_generate"), icon="ℹ️")

    ui.report_button(
        t("generation.report_title"),
        lambda: W.report_sections(
            ui.lang(), result=current, prompt=prompt, model_name=f"{endpoint.display_name} ({endpoint.origin})", mode=mode,
            settings=settings, dist=None,
            steps_html=[ui.probability_chips_html(r["steps"]) for r in current["samples"]] if current else None),
        filename="text-generation-report", key="gen_srv",
    )
    ui.explainer(t("server.explainer.title"), t("server.explainer.body"))


# ------------------------------------------------------------------ single view (local model)
def stream_samples(loaded, prepared, settings: GenerationSettings, signature: tuple, model_key: str, prompt: str,
                   mode: str):
    """Generate ``settings.num_samples`` texts, each streamed with a Stop button, the queue
    position and live meters; saves the result under :data:`RESULTS` and returns the prompt's
    next-token logits from the first step ((vocab,) NumPy array, or ``None``)."""
    samples, first_logits = [], None
    limit = max_generation_seconds()
    st.session_state.pop(INTERRUPTED, None)
    for i in range(settings.num_samples):
        if settings.num_samples > 1:
            st.markdown("**" + ui.escape_markdown(t("generation.sample_heading", i=i + 1, seed=settings.seed + i)) + "**")
        waiting = st.empty()
        stop_slot = st.empty()  # pressing it reruns the page: the stream is cut, its text kept
        stop_slot.button(t("generation.stop"), key=f"gen_stop_{i}", icon="⏹️")
        box = st.empty()
        counter = st.empty()
        meters = st.empty()
        stream = GenerationStream(loaded, prepared, settings, sample_index=i, max_seconds=limit)
        shown, last_paint, told = "", 0.0, 0
        for delta in stream:
            if stream.ahead != told:
                told = stream.ahead
                render_queue(waiting, told)
            shown += delta
            if time.perf_counter() - last_paint > 0.05:
                box.code(shown + "▌", language=None, wrap_lines=True)
                counter.caption(t("generation.streaming", n=len(stream.token_ids), max=prepared.max_new_tokens))
                render_meters(meters, stream.live_rates())
                last_paint = time.perf_counter()
                # a rerun (any widget, the language switch) or Stop may cut the stream at the next
                # paint; the next run (which can start before this one has stopped) shows this text
                st.session_state[INTERRUPTED] = {"signature": signature, "text": shown, "sample": i + 1}
        waiting.empty()
        stop_slot.empty()
        box.empty()
        counter.empty()
        meters.empty()
        samples.append(sample_record(stream, timing=True))
        if first_logits is None:
            first_logits = first_step_logits(stream)
        if i == 0:
            read = read_sequence(loaded, list(gen.prompt_ids(prepared)), stream.token_ids)
    st.session_state.pop(INTERRUPTED, None)
    st.session_state[RESULTS] = {
        "signature": signature,
        "result": {"model": model_key, "prompt": prompt, "mode": mode, "settings": settings_record(settings),
                   "samples": samples, "max_seconds": limit},
        "read": read,  # exact ids of sample 1 (template + prompt + reply) for the attention page
    }
    return first_logits


def render_results(signature: tuple) -> dict | None:
    """The text of a run cut short, the saved samples (marked stale when ``signature`` changed)
    and the link to the attention page; returns the saved result when it is current."""
    cut = st.session_state.get(INTERRUPTED)
    if cut and cut["signature"] == signature:
        st.warning(t("generation.interrupted", sample=cut["sample"]), icon="✂️")
        ui.show_literal(cut["text"])
    saved, current = show_saved(RESULTS, signature, "live")
    if saved:
        if saved.get("read"):
            n_read = saved["read"]["ids"].count(",") + 1  # cap: every token read, up to the page's limit
            ui.link_button(t("generation.inspect_attention"), "attention",
                           {**saved["read"], "model": saved["result"]["model"],
                            "cap": max(8, min(ATTENTION_TOKEN_LIMIT, -(-n_read // 8) * 8))},
                           key="gen_to_attention", icon="🔍")
    else:
        st.caption(t("generation.press_generate"))
    return current


def render_report_and_explainer(current: dict | None, prompt: str, model_name: str, mode: str, settings: GenerationSettings,
                  dist: dict, tokens: list[dict]) -> None:
    """The HTML report button of the single view (built when pressed) and the page's explainer."""
    ui.report_button(
        t("generation.report_title"),
        lambda: W.report_sections(
            ui.lang(), result=current, prompt=prompt, model_name=model_name, mode=mode,
            settings=settings, dist=dist,
            steps_html=[ui.probability_chips_html(merge_steps(r["steps"])) for r in current["samples"]] if current else None,
            tokens_html=ui.token_chips_html(_token_objects(tokens))),
        filename="text-generation-report", key="gen",
    )
    ui.explainer(t("generation.explainer.title"),
                 t("generation.explainer.body", cap=MAX_NEW_TOKENS, seconds=f"{max_generation_seconds():g}",
                   prompt_cap=MAX_PROMPT_TOKENS))
