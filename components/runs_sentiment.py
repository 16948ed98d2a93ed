"""Sentiment page, cached runs: every approach on one text, on a batch, on the bundled test
set, on the user's labelled set and on the VADER paper's sets, each cached
(``st.cache_data`` / ``st.cache_resource``) on its inputs and the prompt settings. The
computing is :mod:`components.sentiment` and :mod:`components.sentiment_benchmarks`; this
module only caches it (and draws the benchmark's progress bar)."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from components import sentiment as S
from components import sentiment_benchmarks as B
from components import ui
from components import views_sentiment as V
from components.catalog import MINILM

t = ui.t


@st.cache_resource(max_entries=2, show_spinner=False)
def trained_head(data_hash: str) -> S.SentimentHead:
    """Head trained once per training-set content (``data_hash`` = sha256 of train.csv)."""
    from components.cache import get_model

    return S.train_head(get_model(MINILM))


def head_with_spinner(data_hash: str) -> S.SentimentHead:
    with st.spinner(t("sentiment.head_training")):
        return trained_head(data_hash)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def single(approach: str, model_key: str | None, text: str, settings: tuple, attribution: bool,
            data_hash: str, _progress=None) -> dict:
    """One approach on one text -> :func:`components.sentiment.result_dict`; ``_progress``
    (not part of the cache key): the LLM's per-batch token callback."""
    from components.cache import get_model

    if approach == S.VADER:
        return S.result_dict(S.vader_sentiment(text, attribution))
    loaded = get_model(model_key)
    if approach == S.HEAD:
        res = S.head_sentiment(loaded, trained_head(data_hash), text, attribution)
    elif approach == S.LLM:
        res = S.llm_sentiment(loaded, text, S.PromptSettings(*settings), attribution, _progress)
    else:
        res = S.sst2_sentiment(loaded, text, attribution)
    return S.result_dict(res)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def batch(approach: str, model_key: str | None, texts: tuple[str, ...], settings: tuple,
          data_hash: str, _progress=None) -> tuple[list[str], list[float], float]:
    """One approach on many texts -> (labels, P(positive) per text, seconds); ``_progress``
    (not part of the cache key): the LLM's per-batch token callback."""
    import time

    from components.cache import get_model

    start = time.perf_counter()
    if approach == S.VADER:
        labels, p = S.vader_predict(texts)
    elif approach == S.HEAD:
        labels, p = S.head_predict(get_model(model_key), trained_head(data_hash), texts)
    elif approach == S.LLM:
        labels, p, _ = S.llm_predict(get_model(model_key), texts, S.PromptSettings(*settings), _progress)
    else:
        labels, p = S.sst2_predict(get_model(model_key), texts)
    return list(labels), [float(v) for v in p], time.perf_counter() - start


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def batch_coverage(approach: str, model_key: str | None, texts: tuple[str, ...]) -> list[dict]:
    from components.cache import get_model

    return S.texts_coverage(approach, None if model_key is None else get_model(model_key), texts)


@st.cache_data(max_entries=16, ttl=6 * 3600, show_spinner=False)
def evaluation(approach: str, model_key: str | None, settings: tuple, data_hash: str,
                test_hash: str) -> S.Evaluation:
    from components.cache import get_model

    if approach == S.VADER:
        return S.evaluate(S.VADER)
    loaded = get_model(model_key)
    head = trained_head(data_hash) if approach == S.HEAD else None
    return S.evaluate(approach, loaded, head, S.PromptSettings(*settings))


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def evaluation_own(approach: str, model_key: str | None, settings: tuple, data_hash: str,
                    texts: tuple[str, ...], labels: tuple[str, ...]) -> S.Evaluation:
    """One approach on the user's labelled texts."""
    from components.cache import get_model

    own = pd.DataFrame({"text": list(texts), "label": list(labels)})
    if approach == S.VADER:
        return S.evaluate(S.VADER, test=own)
    loaded = get_model(model_key)
    head = trained_head(data_hash) if approach == S.HEAD else None
    return S.evaluate(approach, loaded, head, S.PromptSettings(*settings), test=own)


@st.cache_data(max_entries=64, ttl=6 * 3600, show_spinner=False)
def bench(approach: str, model_key: str | None, set_name: str, cap: int, seed: int, settings: tuple,
           data_hash: str) -> B.BenchmarkResult:
    """One approach on a stratified sample of one set, with a progress bar (created inside:
    a cached call may only draw into its own elements)."""
    from components.cache import get_model

    total = min(cap, B.set_summary(set_name)["kept"])
    bar = st.progress(0.0, text=t("sentiment.bench.progress", approach=V.long_name(approach), done=0, total=total))

    def progress(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text=t("sentiment.bench.progress", approach=V.long_name(approach),
                                                  done=done, total=total))

    loaded = None if model_key is None else get_model(model_key)
    head = trained_head(data_hash) if approach == S.HEAD else None
    result = B.run(approach, set_name, cap, seed, loaded, head, S.PromptSettings(*settings), progress)
    bar.empty()
    return result


BENCH_CELLS = "sent_bench_cells"  # i18n: ok (session key: (approach, set, cap, seed, settings) -> result)


def bench_cell(approach: str, set_name: str, cap: int, seed: int, models: dict, settings: S.PromptSettings,
               data_hash: str, available) -> B.BenchmarkResult | None:
    """Cached result of one (approach, set) cell, remembered in the session for the
    cross-domain table; None when ``available(model key)`` says the model cannot load.
    ``models``: approach -> catalog key (None for VADER)."""
    key = models[approach]
    if key is not None and not available(key):
        return None
    settings_key = dataclasses.astuple(settings) if approach == S.LLM else ()
    result = ui.run_guarded(bench, approach, key, set_name, cap, seed, settings_key, data_hash)
    if result is not None:
        st.session_state.setdefault(BENCH_CELLS, {})[(approach, set_name, cap, seed, settings_key)] = result
    return result


def known_cells(cap: int, seed: int, approaches: list[str], settings: S.PromptSettings) -> dict:
    """(approach, set) -> result computed in this session with this cap, seed and prompt settings."""
    llm_settings = dataclasses.astuple(settings)
    return {(a, name): r for (a, name, c, s, st_key), r in st.session_state.get(BENCH_CELLS, {}).items()
            if c == cap and s == seed and a in approaches and st_key == (llm_settings if a == S.LLM else ())}


def llm_run(run, count, spinner: str, attribution: bool | None = None):
    """``run(progress)`` (a cached LLM run) with a spinner; the workload ``count()``
    (:class:`components.sentiment.LlmWorkload`) is counted only once the model reads (a cached
    result reads nothing), and a run of ``LONG_RUN_TOKENS`` or more shows a progress bar, and
    when ``attribution`` is given the note of what it reads. None after a shown error."""
    work: dict = {}

    def total() -> int:
        work["w"] = count()
        return work["w"].tokens

    intro = None if attribution is None else (lambda: V.long_run_note(work["w"], attribution))
    return ui.run_guarded(ui.run_with_progress, run, total, V.describe_progress, intro=intro, spinner=spinner,
                          min_total=S.LONG_RUN_TOKENS)


def single_results(approaches: list[str], models: dict, text: str, settings: S.PromptSettings,
                   attribution: bool, data_hash: str, available) -> list[dict]:
    """Every approach on one text (cached runs; result dicts of :func:`single`), skipping an
    approach whose model ``available(key)`` cannot load or whose run failed (its error shown).
    ``models``: approach -> catalog key (None for VADER)."""
    results = []
    for approach in approaches:
        key = models[approach]
        if key is not None and not available(key):
            continue
        args = (approach, key, text, dataclasses.astuple(settings), attribution, data_hash)
        spinner = t("sentiment.spinner_single", approach=V.long_name(approach))
        if approach == S.LLM:
            res = llm_run(lambda progress: single(*args, _progress=progress),
                          lambda: S.llm_workload(ui.load_or_explain(key), text, settings, attribution),
                          spinner, attribution)
        else:
            with st.spinner(spinner):
                res = ui.run_guarded(single, *args)
        if res is not None:
            results.append({**res, "calibration_used": settings.calibrate} if approach == S.LLM else res)
    return results


def batch_results(approaches: list[str], models: dict, texts: list[str], settings: S.PromptSettings,
                  data_hash: str, available) -> tuple[pd.DataFrame, dict[str, list[str]], list[dict]]:
    """Every approach on many texts (cached runs): (the results table, approach -> label keys
    per text as :func:`components.views_sentiment.batch_columns` gives them, timing rows)."""
    table = pd.DataFrame({t("sentiment.col.text"): texts})
    predicted: dict[str, list[str]] = {}
    timing_rows = []
    for approach in approaches:
        key = models[approach]
        if key is not None and not available(key):
            continue
        args = (approach, key, tuple(texts), dataclasses.astuple(settings), data_hash)
        spinner = t("sentiment.batch.spinner", approach=V.long_name(approach), n=len(texts))
        if approach == S.LLM:
            out = llm_run(lambda progress: batch(*args, _progress=progress),
                          lambda: S.llm_batch_workload(ui.load_or_explain(key), texts, settings), spinner)
        else:
            with st.spinner(spinner):
                out = ui.run_guarded(batch, *args)
        if out is None:
            continue
        labels, p, seconds = out
        covs = ui.run_guarded(batch_coverage, approach, key, tuple(texts)) or [{"meaningful": True}] * len(texts)
        predicted[approach] = V.batch_columns(table, approach, labels, p, covs)
        timing_rows.append({t("sentiment.col.approach"): V.long_name(approach),
                            t("sentiment.col.seconds"): round(seconds, 3),
                            t("sentiment.col.ms_per_text"): round(1000 * seconds / len(texts), 2)})
    return table, predicted, timing_rows
