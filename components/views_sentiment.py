"""Sentiment page, UI side: the result views (one column per approach, attribution matrix,
batch table and label chart, evaluation tables and confusion matrices, the cross-domain
table), the presenter example and the labelled-CSV input. Strings from
``locales/<lang>/sentiment.toml`` through :func:`components.ui.t`; the page
(``app_pages/sentiment.py``) reads widgets -> compute -> these views."""
from __future__ import annotations

import codecs

import pandas as pd
import streamlit as st

from components import charts_sentiment as charts
from components import coverage, textio, ui
from components import sentiment as S
from components import sentiment_benchmarks as B
from components import sentiment_wording as W
from components.messages import Message

K = ui.persist_key
t = ui.t
DOMAINS = "domains"  # i18n: ok (curated example kind)
MAP_MAX = 500    # texts sent to the embedding map (its own cap)


def label_names() -> dict[str, str]:
    """Label key -> translated label (``S.NOT_MEANINGFUL``: the text could not be read)."""
    return {**{k: t(f"sentiment.label.{k}") for k in (S.NEGATIVE, S.NEUTRAL, S.POSITIVE)},
            S.NOT_MEANINGFUL: t("coverage.not_meaningful")}


def short_name(approach: str) -> str:
    return t(f"sentiment.approach_short.{approach}")


def long_name(approach: str) -> str:
    return t(f"sentiment.approach.{approach}")


def notice_text(notice) -> str:
    """A notice or input error (a :class:`Message`, a :class:`MessageError`, or a stored
    result's ``[code, params]``) in the UI language; text values (labels, column names, the
    user's own words) are shown literally, never as markdown."""
    if isinstance(notice, (list, tuple)):
        notice = Message(notice[0], dict(notice[1]))
    return ui.say(notice, textio.markdown_literal)


def textio_text(item) -> str:
    """A notice or error of :mod:`components.textio` in the UI language; its values (column
    names, file errors) are shown literally, never as markdown."""
    return ui.say(item, textio.markdown_literal)



def show_coverage(cov: dict | None) -> None:
    """How much of the text the approach could read; a warning when too little to mean anything."""
    if not cov:
        return
    key, values = coverage.message(cov, ui.escape_markdown)
    if cov["meaningful"]:
        st.caption(t(key, **values), help=t("coverage.help", min=values["min"]))
    else:
        st.warning(t(key, **values), icon="❓")


def render_attribution_matrix(results: list[dict], key: str) -> tuple | None:
    """Heatmap + table of every approach's word weights, words in text order. Returns
    (figure, table) for the report, or None when no approach computed attributions."""
    with_attr = [r for r in results if r.get("attribution")]
    if not with_attr:
        return None
    longest = max(with_attr, key=lambda r: len(r["attribution"]))
    words = [p[0] for p in longest["attribution"]]
    rows, table = {}, pd.DataFrame({t("sentiment.col.word"): words})
    for r in with_attr:
        weights = [p[1] for p in r["attribution"]] + [None] * (len(words) - len(r["attribution"]))
        rows[short_name(r["approach"])] = weights[:len(words)]
        table[short_name(r["approach"])] = weights[:len(words)]
    fig = charts.attribution_heatmap(words, rows, colorbar_title=t("sentiment.chart.weight"))
    st.markdown(f"**{t('sentiment.attr.matrix_heading')}**")
    st.caption(t("sentiment.attr.matrix_caption"))
    ui.chart(fig, key=f"{key}_attr_matrix", table=table, filename="sentiment_attributions")
    return fig, table


def render_single(results: list[dict], key: str, show_timing: bool) -> list:
    """One column per approach: label, scores, notices, highlighted words; then the
    attribution matrix. Works on live results and on the curated JSON alike.

    Returns:
        figures for the report: ``[(heading, figure)]``.
    """
    names = label_names()
    figures = []
    cols = st.columns(max(1, len(results)), gap="medium")
    for col, res in zip(cols, results):
        approach = res["approach"]
        with col:
            st.subheader(short_name(approach), divider="gray", help=long_name(approach))
            st.metric(t("sentiment.metric.label"), t(S.shown_label_key(res)), help=t("sentiment.metric.help"))
            show_coverage(res.get("coverage"))
            table = pd.DataFrame({t("sentiment.col.label"): [names.get(k, k) for k in res["scores"]],
                                  t("sentiment.col.value"): list(res["scores"].values())})
            if approach == S.VADER:
                compound = res["extra"]["compound"]
                fig = charts.compound_chart(compound, S.VADER_POS_THRESHOLD, S.VADER_NEG_THRESHOLD, names=names,
                                            value_name=t("sentiment.col.compound"))
                compound_table = pd.DataFrame({t("sentiment.col.compound"): [compound],
                                               t("sentiment.col.label"): [names.get(res["label"], res["label"])]})
                ui.chart(fig, key=f"{key}_compound", table=compound_table, filename="sentiment_vader_compound")
                st.caption(t("sentiment.vader.compound", compound=f"{compound:+.3f}",
                             pos=f"{S.VADER_POS_THRESHOLD:+.2f}", neg=f"{S.VADER_NEG_THRESHOLD:+.2f}"))
                st.caption(t("sentiment.vader.saturation"))
                with st.expander(t("sentiment.vader.proportions")):
                    bars = charts.probability_bars(res["scores"], value_name=t("sentiment.chart.proportion"),
                                                   names=names)
                    ui.chart(bars, key=f"{key}_bars_{approach}", table=table, filename=f"sentiment_{approach}")
                    st.caption(t("sentiment.vader.proportions_caption"))
            else:
                fig = charts.probability_bars(res["scores"], value_name=t("sentiment.chart.probability"), names=names)
                ui.chart(fig, key=f"{key}_bars_{approach}", table=table, filename=f"sentiment_{approach}")
            figures.append((short_name(approach), fig))
            if show_timing and "seconds" in res:
                timing = t("sentiment.timing", ms=f"{res['seconds'] * 1000:.1f}")
                if res["attribution"]:
                    timing += " · " + t("sentiment.timing_occlusion", s=f"{res['attribution_seconds']:.2f}")
                st.caption(timing)
            for notice in res.get("notices", []):
                st.info(notice_text(notice), icon="ℹ️")
            if approach == S.VADER and res["extra"].get("word_valences"):
                title = t("sentiment.vader.valences" if res["extra"].get("valences_aligned")
                          else "sentiment.vader.valences_stripped")
                st.markdown(charts.attribution_html(res["extra"]["word_valences"], title), unsafe_allow_html=True)
            if res.get("attribution"):
                title = t("sentiment.attr.title_vader" if approach == S.VADER else "sentiment.attr.title_prob")
                st.markdown(charts.attribution_html(res["attribution"], title), unsafe_allow_html=True)
            if approach == S.LLM:
                ex = res["extra"]
                calibrated_used = bool(res.get("calibration_used", False))
                if not ui.presenter():
                    st.markdown(f"**{t('sentiment.calib.heading')}**")
                    cal_fig = charts.before_after_bars(
                        ex["uncalibrated"], ex["calibrated"], ex["content_free"], names=names,
                        series_names={k: t(f"sentiment.calib.{k}") for k in ("content_free", "uncalibrated", "calibrated")},
                        y_title=t("sentiment.chart.probability"))
                    cal_table = pd.DataFrame({
                        t("sentiment.col.label"): [names[k] for k in ex["uncalibrated"]],
                        t("sentiment.calib.content_free"): list(ex["content_free"].values()),
                        t("sentiment.calib.uncalibrated"): list(ex["uncalibrated"].values()),
                        t("sentiment.calib.calibrated"): list(ex["calibrated"].values())})
                    ui.chart(cal_fig, key=f"{key}_calibration", table=cal_table, filename="sentiment_calibration")
                    figures.append((t("sentiment.calib.heading"), cal_fig))
                    st.caption(t("sentiment.calib.caption",
                                 before=f"{ex['uncalibrated']['positive']:.3f}",
                                 after=f"{ex['calibrated']['positive']:.3f}",
                                 used=t("sentiment.calib.used" if calibrated_used else "sentiment.calib.not_used"),
                                 cf=f"{ex['content_free']['positive']:.3f}",
                                 mass=f"{ex['label_mass']:.1%}"))
                with st.expander(t("sentiment.calib.exact_prompt")):
                    ui.show_literal(ex["prompt"])
    matrix = render_attribution_matrix(results, key)
    if matrix is not None:
        figures.append((t("sentiment.attr.matrix_heading"), matrix[0]))
    return figures



def cross_domain_table(cells: dict, approaches: list, key: str) -> None:
    """Approaches x sets (macro-F1 with intervals, winner per set), and which sets' winners are
    not a clear win (overlapping intervals): on the slide and on the live page alike."""
    ui.data_table(W.table(B.cross_domain_frame(cells, approaches), ui.lang()), key=key,
                  filename="sentiment_cross_domain", static=True)
    overlap = B.overlapping_sets(cells)
    if overlap:
        st.info(t("sentiment.domains.overlap", sets=", ".join(t(f"sentiment.bench.set.{n}") for n in overlap)),
                icon="⚖️")


def render_domains(result: dict) -> None:
    """The stored "approaches × sets" table (★ = best macro-F1 per set), a note where the
    winner's interval overlaps another, and the paper's VADER figures beside the page's."""
    cells = {(c.approach, c.set_name): c for c in map(B.cell_from_record, result["cells"])}
    approaches_shown = [a for a in result["approaches"] if any(k[0] == a for k in cells)]
    st.markdown(f"**{t('sentiment.domains.table_heading')}**")
    st.caption(t("sentiment.domains.sample", n=result["cap"], seed=result["seed"]))
    cross_domain_table(cells, approaches_shown, key="sent_domains_table")
    st.markdown(t("sentiment.domains.why"))
    paper = {c.set_name: c for c in map(B.cell_from_record, result["paper"])}
    st.markdown(f"**{t('sentiment.bench.paper_heading')}**")
    ui.data_table(W.table(B.paper_frame(paper), ui.lang()), key="sent_domains_paper",
                  filename="sentiment_vader_paper_vs_page", static=True)
    st.caption(t("sentiment.bench.paper_caption"))



def long_run_note(workload: S.LlmWorkload, attribution: bool) -> None:
    """Before a long LLM run: what SmolLM2 will read (counts, not a guessed duration)."""
    values = {"tokens": f"{workload.tokens:,}", "prompts": workload.prompts, "plain": f"{workload.plain_tokens:,}"}
    note = "sentiment.long_run.note_attr" if attribution and workload.plain_tokens < workload.tokens \
        else "sentiment.long_run.note"
    st.info(t(note, **values), icon="⏳")


def describe_progress(done: int, total: int, seconds: float, rate: float | None) -> str:
    """Progress-bar text: tokens read, and the speed and time left measured on this run."""
    if rate is None:
        return t("sentiment.long_run.starting", total=f"{total:,}")
    if done >= total:
        return t("sentiment.long_run.done", total=f"{total:,}", seconds=f"{seconds:.1f}", rate=f"{rate:,.0f}")
    return t("sentiment.long_run.progress", done=f"{done:,}", total=f"{total:,}", rate=f"{rate:,.0f}",
             left=f"{(total - done) / rate:.0f}")



def render_evaluation(evals: list, truth: list[str], key: str, x_title: str) -> None:
    """Accuracy, predicted-positive share and per-class recall per approach (table + chart),
    then one confusion matrix per approach. Same for the bundled set and the user's CSV."""
    names = label_names()
    true_share = sum(v == S.POSITIVE for v in truth) / max(1, len(truth))
    eval_table = W.table(S.evaluation_frame(evals), ui.lang())
    st.caption(t("sentiment.eval.share_caption", share=f"{true_share:.1%}"))
    ui.data_table(eval_table, key=f"{key}_table", filename="sentiment_evaluation")
    acc_fig = charts.accuracy_bars([(long_name(e.approach), e.accuracy) for e in evals],
                                   x_title=x_title)
    ui.chart(acc_fig, key=f"{key}_acc", table=eval_table, filename="sentiment_accuracy")
    cm_cols = st.columns(len(evals))
    for col, ev in zip(cm_cols, evals):
        with col:
            cm_table = ev.confusion.rename(index=names, columns=names).reset_index(names=t("sentiment.chart.true"))
            ui.chart(charts.confusion_heatmap(ev.confusion, short_name(ev.approach),
                                              x_title=t("sentiment.chart.predicted"),
                                              y_title=t("sentiment.chart.true"), names=names),
                     key=f"{key}_cm_{ev.approach}", table=cm_table, filename=f"sentiment_confusion_{ev.approach}")


def render_example(example: dict) -> None:
    """Presenter mode: one curated example from ``curated/sentiment.json`` (no model needed)."""
    result = example["result"]
    if example.get("kind") == DOMAINS:
        render_domains(result)
        return
    ui.show_literal(result["text"])
    figures = render_single(result["results"], key="sent_curated", show_timing=False)
    ui.report_button(t("sentiment.report.title"), lambda: W.report_sections(
        result["text"], result["results"], figures, S.PromptSettings(), True, ui.lang()),
        filename="sentiment_report", key="sent_report")


def batch_columns(table: pd.DataFrame, approach: str, labels: list[str], p: list[float], covs: list[dict]) -> list[str]:
    """Add one approach's label, P(positive) and (when measured) coverage columns to the batch
    table; a text the approach could not read counts as such everywhere (table, chart, map link).

    Returns:
        the labels with ``S.NOT_MEANINGFUL`` for the unreadable texts.
    """
    names, name = label_names(), short_name(approach)
    labels = [v if c["meaningful"] else S.NOT_MEANINGFUL for v, c in zip(labels, covs)]
    table[t("sentiment.col.batch_label", approach=name)] = [names.get(v, v) for v in labels]
    table[t("sentiment.col.batch_p", approach=name)] = [round(v, 4) for v in p]
    if "fraction" in covs[0]:
        table[t("coverage.column_reader", reader=name)] = [coverage.short(c) for c in covs]
    return labels


def render_batch(texts: list[str], table: pd.DataFrame, predicted: dict[str, list[str]],
                 timing_rows: list[dict]):
    """The batch results: the table, the label-count chart, the timing table (not in presenter
    mode) and the cross-link to the embedding map coloured by one approach's labels.

    Args:
        predicted: approach -> label keys per text (as :func:`batch_columns` returns them).

    Returns:
        the label-count figure for the report, or None when no approach ran.
    """
    names = label_names()
    used = {short_name(a): a for a in predicted}
    ui.data_table(table, key="sent_batch_table", filename="sentiment_results")
    dist_fig = None
    if used:
        key_table = pd.DataFrame({a: predicted[a] for a in predicted})
        dist_fig = charts.label_distribution(key_table, {n: a for n, a in used.items()}, names=names,
                                             y_title=t("sentiment.chart.texts"))
        counts = pd.DataFrame({t("sentiment.col.approach"): list(used),
                               **{names[lab]: [int((key_table[a] == lab).sum()) for a in used.values()]
                                  for lab in (S.NEGATIVE, S.NEUTRAL, S.POSITIVE, S.NOT_MEANINGFUL)
                                  if lab != S.NOT_MEANINGFUL or (key_table == lab).any(axis=None)}})
        ui.chart(dist_fig, key="sent_label_dist", table=counts, filename="sentiment_label_counts")
        if not ui.presenter():
            ui.data_table(pd.DataFrame(timing_rows), key="sent_batch_timing", filename="sentiment_timing")
        # cross-link: colour the embedding map by one approach's predicted labels
        choice = st.radio(t("sentiment.map_labels_from"), list(predicted), key="sent_map_from", horizontal=True,
                          format_func=short_name, index=len(predicted) - 1)
        shown = min(len(texts), MAP_MAX)
        ui.link_button(t("sentiment.see_on_map"), "embeddings",
                       {"texts": texts[:shown], "labels": [names.get(v, v) for v in predicted[choice][:shown]],
                        "label_title": t("sentiment.predicted_label", approach=short_name(choice))},
                       key="sent_to_map", icon="🧭")
    if S.VADER in predicted:
        st.caption(t("sentiment.batch.vader_note"))
    return dist_fig


def labelled_csv(upload, max_rows: int) -> pd.DataFrame | None:
    """The user's labelled evaluation set: read the upload, choose its text and label columns
    (:func:`components.ui.csv_text_column`), keep rows labelled positive / negative, cap at
    ``max_rows``; notices and problems are shown.

    Returns:
        frame with ``text`` and ``label`` (``S.POSITIVE`` / ``S.NEGATIVE``), or None after
        showing why the file cannot be used.
    """
    own, own_notices, own_problem = None, [], None
    try:
        own_table = textio.read_csv_bytes(upload.getvalue(),
                                          max_bytes=int(float(st.get_option("server.maxUploadSize")) * 1024 * 1024))
        own_notices += [textio_text(n) for n in own_table.notices]
        text_col, label_col, _ = ui.csv_text_column(
            own_table, upload, "sent_eval_text_col", t("sentiment.eval_own.text_column"),
            label_key="sent_eval_label_col", label_label=t("sentiment.eval_own.label_column"), persist=False)
        frame, col_notes = textio.column_texts(own_table, text_col, label_col)
        own_notices += [textio_text(n) for n in col_notes]
        own, notes = S.labelled_set(frame)
        own_notices += [notice_text(n) for n in notes]
        if len(own) > max_rows:
            own_notices.append(t("sentiment.batch.cap", n=len(own), limit=max_rows))
            own = own.iloc[:max_rows]
    except textio.InputError as exc:
        own_problem = textio_text(exc)
    except S.SentimentInputError as exc:
        own_problem = notice_text(exc)
    ui.notices(own_notices)
    if own_problem:
        st.warning(own_problem, icon="✏️")
        return None
    if own is not None:
        st.caption(t("sentiment.eval.caption_own", n=len(own), pos=int((own.label == S.POSITIVE).sum()),
                     neg=int((own.label == S.NEGATIVE).sum())))
    return own


SINGLE, LINES, CSV = "single", "lines", "csv"  # i18n: ok (input mode ids)


def read_texts(mode: str, text: str, lines: str, upload, container, max_batch: int
               ) -> tuple[list[str], list[str], str | None]:
    """The page's input as texts: the one text, the pasted lines, or the chosen column of the
    uploaded CSV (its column choice drawn in ``container``, :func:`components.ui.csv_text_column`,
    with a note when no column is named as a text column); batch texts are each cut to
    ``S.MAX_CHARS`` and at most ``max_batch`` are kept.

    Returns:
        (texts, notices in the UI language, the problem that stops the run or None).
    """
    texts: list[str] = []
    input_notices: list[str] = []
    input_problem: str | None = None
    if mode == SINGLE:
        try:
            one, notices = S.check_text(text)
            texts, input_notices = [one], [notice_text(n) for n in notices]
        except S.SentimentInputError as exc:
            input_problem = ui.say(exc)
    elif mode == LINES:
        try:
            texts, notes = textio.split_lines(lines)
            input_notices = [textio_text(n) for n in notes]
        except textio.InputError as exc:
            input_problem = textio_text(exc)
    else:
        if upload is None:
            input_problem = t("sentiment.csv.need_file")
        else:
            data = upload.getvalue()
            max_mb = float(st.get_option("server.maxUploadSize"))
            try:
                table = textio.read_csv_bytes(data, max_bytes=int(max_mb * 1024 * 1024))
                if data.startswith(codecs.BOM_UTF8):
                    input_notices.append(t("sentiment.csv.bom"))
                input_notices += [textio_text(n) for n in table.notices]
                column, _, guess = ui.csv_text_column(table, upload, K("sent_csv_column"), t("sentiment.csv.column"),
                                                      container=container)
                if guess.rule != textio.GUESS_NAME and column == guess.column:
                    st.info(t("sentiment.csv.guessed_column" if guess.rule == textio.GUESS_FIRST
                              else "sentiment.csv.guessed_longest", column="“" + ui.escape_markdown(column) + "”",
                              names=", ".join(textio.TEXT_COLUMN_NAMES),
                              columns=", ".join("“" + ui.escape_markdown(c) + "”" for c in table.columns)), icon="🗂️")
                frame, col_notices = textio.column_texts(table, column)
                input_notices += [textio_text(n) for n in col_notices]
                texts = frame["text"].tolist()
            except textio.InputError as exc:
                input_problem = textio_text(exc)
    if mode != SINGLE and not input_problem:
        capped, n_long = [], 0
        for item in texts:  # each batch text: same character cap as a single text
            try:
                item, notes = S.check_text(item)
            except S.SentimentInputError:
                continue
            capped.append(item)
            n_long += bool(notes)
        texts = capped
        if n_long:
            input_notices.append(t("sentiment.batch.long", n=n_long, limit=f"{S.MAX_CHARS:,}"))
        if len(texts) > max_batch:
            input_notices.append(t("sentiment.batch.cap", n=len(texts), limit=max_batch))
            texts = texts[:max_batch]
    return texts, input_notices, input_problem


def bench_panel(approaches: list[str], cell, known_cells) -> None:
    """The evaluation on the VADER paper's sets: set / sample size / seed widgets, the chosen
    set's table, the paper's VADER figures beside the page's, and the approaches x sets table.

    Args:
        approaches: the approaches switched on.
        cell: ``(approach, set name, cap, seed) -> BenchmarkResult | None`` (cached run,
            remembered in the session; None when the model is unavailable).
        known_cells: ``(cap, seed) -> {(approach, set): result}`` computed so far.
    """
    st.divider()
    st.subheader(t("sentiment.bench.heading"))
    st.caption(t("sentiment.bench.caption"))
    b1, b2, b3 = st.columns([2, 1, 1])
    bench_set = b1.selectbox(t("sentiment.bench.set_label"), B.SETS, format_func=lambda n: t(f"sentiment.bench.set.{n}"),
                             key=K("sent_bench_set"), persist_state="session")
    bench_cap = int(b2.number_input(t("sentiment.bench.cap"), min_value=B.MIN_CAP, max_value=B.MAX_CAP, step=50,
                                    key=K("sent_bench_cap"), persist_state="session", help=t("sentiment.bench.help_cap")))
    bench_seed = int(b3.number_input(t("sentiment.bench.seed"), min_value=0, max_value=2**31 - 1, step=1,
                                     key=K("sent_bench_seed"), persist_state="session", help=t("sentiment.bench.help_seed")))
    summary = B.set_summary(bench_set)
    st.caption(t("sentiment.bench.set_caption", name=t(f"sentiment.bench.set.{bench_set}"), rows=f"{summary['rows']:,}",
                 dropped=summary["dropped_zero"], kept=f"{summary['kept']:,}", pos=f"{summary['positive']:,}",
                 neg=f"{summary['negative']:,}", n=f"{min(bench_cap, summary['kept']):,}", seed=bench_seed))
    st.info(t("sentiment.bench.neutral_rule"), icon="⚖️")
    if st.button(t("sentiment.bench.button"), key="sent_bench_run", type="primary"):
        st.session_state["sent_bench_on"] = True
    if st.session_state.get("sent_bench_on"):
        bench_results = [r for r in (cell(a, bench_set, bench_cap, bench_seed) for a in approaches) if r is not None]
        if bench_results:
            bench_table = W.table(B.results_frame(bench_results), ui.lang())
            st.caption(t("sentiment.eval.share_caption", share=f"{bench_results[0].true_positive_share:.1%}"))
            ui.data_table(bench_table, key="sent_bench_table", filename=f"sentiment_{bench_set}_evaluation",
                          static=True)  # a few rows, many columns: cells wrap instead of being cut
    else:
        st.caption(t("sentiment.bench.hint"))

    st.markdown(f"**{t('sentiment.bench.paper_heading')}**")
    st.caption(t("sentiment.bench.paper_caption"))
    if st.button(t("sentiment.bench.paper_button"), key="sent_bench_paper"):
        st.session_state["sent_bench_paper_on"] = True
    if st.session_state.get("sent_bench_paper_on"):
        full = {name: cell(S.VADER, name, B.MAX_CAP, B.DEFAULT_SEED) for name in B.SETS}
        ui.data_table(W.table(B.paper_frame({n: r for n, r in full.items() if r is not None}), ui.lang()),
                      key="sent_bench_paper_table", filename="sentiment_vader_paper_vs_page", static=True)

    st.markdown(f"**{t('sentiment.bench.cross_heading')}**")
    st.caption(t("sentiment.bench.cross_caption"))
    if st.button(t("sentiment.bench.cross_button"), key="sent_bench_fill"):
        known = known_cells(bench_cap, bench_seed)
        for name in B.SETS:
            for a in approaches:
                if (a, name) not in known:
                    cell(a, name, bench_cap, bench_seed)
    cells = known_cells(bench_cap, bench_seed)
    if cells:
        cross_domain_table(cells, approaches, key="sent_bench_cross")
    st.caption(t("sentiment.bench.cross_explain"))


def evaluation_panel(evaluate) -> None:
    """The evaluation on the bundled labelled test set: what it is, its button, then
    :func:`render_evaluation`.

    Args:
        evaluate: ``(test frame) -> [Evaluation]`` of the switched-on approaches.
    """
    st.divider()
    st.subheader(t("sentiment.eval.heading"))
    test = S.load_dataset("test")
    st.caption(t("sentiment.eval.caption", n=len(test), pos=int((test.label == S.POSITIVE).sum()),
                 neg=int((test.label == S.NEGATIVE).sum())))
    st.info(t("sentiment.eval.what_set"), icon="🧪")
    if not _evaluation_on_click(t("sentiment.eval.button"), test, evaluate, "sent_eval", t("sentiment.chart.accuracy")):
        st.caption(t("sentiment.eval.hint"))


def _evaluation_on_click(button: str, frame, evaluate, key: str, x_title: str) -> bool:
    """A primary button (``<key>_run``); once pressed, the evaluation of ``frame`` (text, label)
    stays shown on reruns (``<key>_on``). True when it is shown."""
    if st.button(button, key=f"{key}_run", type="primary"):
        st.session_state[f"{key}_on"] = True
    if not st.session_state.get(f"{key}_on"):
        return False
    evals = evaluate(frame)
    if evals:
        render_evaluation(evals, frame["label"].tolist(), key=key, x_title=x_title)
    return True


def own_evaluation_panel(evaluate, max_rows: int) -> None:
    """The evaluation on the user's labelled CSV: uploader, :func:`labelled_csv`, its button,
    then :func:`render_evaluation`.

    Args:
        evaluate: ``(frame with text, label) -> [Evaluation]`` of the switched-on approaches.
        max_rows: labelled rows kept from the file.
    """
    st.subheader(t("sentiment.eval_own.heading"))
    st.caption(t("sentiment.eval_own.caption", n=max_rows))
    upload = st.file_uploader(t("sentiment.eval_own.upload"), type=["csv"], key="sent_eval_csv")  # i18n: ok (file type)
    own = labelled_csv(upload, max_rows) if upload is not None else None
    if own is None:
        return
    _evaluation_on_click(t("sentiment.eval_own.button"), own, evaluate, "sent_eval_own", t("sentiment.chart.accuracy_own"))


def approach_controls(reset_prompt) -> None:
    """The approach switches, word attributions and (not in presenter mode) the Hub model and
    the LLM's prompt settings; ``reset_prompt``: the reset button's callback."""
    st.toggle(long_name(S.VADER), key=K("sent_vader"), persist_state="session", help=t("sentiment.method.vader_help"))
    st.toggle(long_name(S.HEAD), key=K("sent_head"), persist_state="session", help=t("sentiment.method.head_help"))
    st.toggle(long_name(S.LLM), key=K("sent_llm"), persist_state="session", help=t("sentiment.method.llm_help"))
    if not ui.presenter():
        st.toggle(long_name(S.SST2), key=K("sent_hub"), persist_state="session", help=t("sentiment.method.hub_help"))
        st.toggle(t("sentiment.attr.toggle"), key=K("sent_attr"), persist_state="session",
                  help=t("sentiment.attr.toggle_help"))
        with st.expander(t("sentiment.prompt.expander"), expanded=False):
            st.radio(t("sentiment.prompt.format"), [S.COMPLETE, S.CHAT], key=K("sent_mode"), persist_state="session",
                     horizontal=True, format_func=lambda m: t(f"sentiment.prompt.{m}"))
            st.text_area(t("sentiment.prompt.template"), key=K("sent_template"), persist_state="session", height=110)
            st.button(t("sentiment.prompt.reset"), on_click=reset_prompt, key="sent_reset_prompt")
            st.toggle(t("sentiment.prompt.fewshot"), key=K("sent_fewshot"), persist_state="session")
            st.toggle(t("sentiment.prompt.calibrate"), key=K("sent_calibrate"), persist_state="session",
                      help=t("sentiment.prompt.calibrate_help"))
