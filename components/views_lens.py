"""Lens page, UI side: the lens grid, one position across layers, the ablation result, the
head scan (with its progress bar), the report sections and the presenter example. Strings
from ``locales/<lang>/lens.toml`` through :func:`components.ui.t`; the page
(``app_pages/lens.py``) reads widgets -> compute (cached in :mod:`components.runs_lens`) ->
these views. The computing is :mod:`components.lens` and :mod:`components.ablation`."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from components import i18n, ui
from components.ablation import merge_scans
from components.charts_lens import (
    ablation_figure,
    ablation_table,
    lens_grid,
    lens_table,
    position_figure,
    position_table,
    row_names,
    scan_figure,
    scan_table,
)
from components.lens import LensError
from components.report import Section
from components.runs_lens import cached_scan

t = ui.t


def lang() -> str:
    return ui.lang()


def label_fn(key: str, name: str | None = None):
    """A ``format_func`` translating ``lens.<key>`` in the language of THIS run (AppTest and
    Streamlit may call format functions outside the script run): ``{k}`` in the key is the
    option, or the option fills the placeholder ``name``."""
    current = lang()
    if name is None:
        return lambda k: i18n.translate(current, f"lens.{key}".replace("{k}", str(k)))
    return lambda k: i18n.translate(current, f"lens.{key}", **{name: k})


def error(exc: LensError) -> None:
    """A :class:`components.lens.LensError` as its translated message (values shown literally)."""
    st.error(t(f"lens.msg.{exc.code}", **{k: ui.escape_markdown(str(v)) for k, v in exc.values.items()}),
             icon="⚠️")


def _note_beside(fig, key: str, table, filename: str, *captions: str) -> None:
    chart_col, note = st.columns([4, 1])
    with chart_col:
        ui.chart(fig, key=key, table=table, filename=filename)
    for caption in filter(None, captions):
        note.caption(caption)


def render_guess(example: dict) -> None:
    """Presenter slide "guess the next token" from ``curated/lens.json`` (no model): the prompt,
    then on request the model's top 5, then the lens row where the answer settled."""
    res = example["result"]
    why = example.get("why", {})
    st.caption(why.get(lang()) or why.get("en", ""))
    ui.show_literal(example["params"]["text"])
    stage_key = f"_lens_guess_{example['id']}"
    stage = int(st.session_state.get(stage_key, 0))
    if stage == 0:
        st.markdown(f"### {t('lens.guess.ask')}")

    def _next(n: int) -> None:
        st.session_state[stage_key] = n

    if stage >= 1:
        st.subheader(t("lens.guess.top_heading"))
        top = pd.DataFrame({t("lens.col.token"): [e["token"] for e in res["top"]],
                            t("lens.col.prob"): [round(e["prob"], 4) for e in res["top"]]})
        ui.data_table(top, key="lens_guess_top", filename="guess-top")
    if stage >= 2:
        from types import SimpleNamespace

        import numpy as np

        st.subheader(t("lens.guess.form_heading"))
        st.markdown(t("lens.guess.settled", token=ui.escape_markdown(res["final"]), row=res["settled"],
                      layers=res["layers"]))
        last = len(res["tokens"]) - 1  # the prediction after the prompt's last token
        rank = np.ones((len(res["final_rank"]), last + 1), dtype=int)
        prob = np.zeros((len(res["final_prob"]), last + 1))
        rank[:, last], prob[:, last] = res["final_rank"], res["final_prob"]
        view = SimpleNamespace(num_layers=res["layers"], final_rank=rank, final_prob=prob)
        ui.chart(position_figure(view, last, res["final"], lang()), key="lens_guess_form",
                 table=pd.DataFrame({t("lens.col.row"): row_names(res["layers"], lang()),
                                     t("lens.col.final_prob"): res["final_prob"],
                                     t("lens.col.final_rank"): res["final_rank"]}),
                 filename="guess-layers")
        st.caption(t("lens.caveat_lens"))
    if stage < 2:
        label = t("lens.guess.reveal") if stage == 0 else t("lens.guess.show_layers")
        st.button(label, key=f"lens_guess_next_{stage}", on_click=_next, args=(stage + 1,), icon="👀")


def render_grid(res, model_name: str, figures: list) -> None:
    """Section 1: the lens grid with its caveats; appends ``(title, figure)`` to ``figures``."""
    st.subheader(t("lens.grid.heading"))
    st.caption(t("lens.grid.how"))
    grid_title = t("lens.grid.title", name=model_name, layers=res.num_layers)
    fig = lens_grid(res, lang=lang(), title=grid_title)
    grid_table = lens_table(res, lang())
    _note_beside(fig, "lens_grid", grid_table, "logit-lens", t("lens.caveat_lens"), t("lens.caveat_norm"))
    figures.append((grid_title, fig))


def render_position(res, position: int, figures: list, tables: list) -> None:
    """Section 2 below its slider: the chosen position's summary and its rank across layers."""
    labels = res.labels
    final_label = res.top_labels[-1][position]
    first = res.layer_of_first_top(position)
    # token text only in dataframes (shown literally), never in metric/markdown labels
    summary = pd.DataFrame([{
        t("lens.position.token"): labels[position],
        t("lens.position.prediction"): final_label,
        t("lens.position.probability"): round(float(res.top_probs[-1, position, 0]), 4),
        t("lens.position.first_top"): row_names(res.num_layers, lang())[first] if first is not None else "—",
    }])
    st.dataframe(summary, hide_index=True, key="lens_summary")
    st.caption(t("lens.position.first_top_help"))
    pos_fig = position_figure(res, position, final_label, lang())
    pos_table = position_table(res, position, lang())
    _note_beside(pos_fig, "lens_position_chart", pos_table, f"logit-lens-position{position}", t("lens.caveat_rank"))
    figures.append((t("lens.position.heading"), pos_fig))
    tables.append((t("lens.position.heading"), pos_table))


def render_ablation(ablation, res, mode: str, position: int, n_new: int, gqa: bool,
                    figures: list, tables: list) -> None:
    """Section 3's result: KL, top-token change, the intact/ablated chart and continuations.
    ``gqa``: the model shares key/value heads (adds that caveat)."""
    k1, k2, k3 = st.columns(3)
    k1.metric(t("lens.ablation.kl"), f"{ablation.kl:.4f}", help=t("lens.ablation.kl_help"))
    k2.metric(t("lens.ablation.p_top"), f"{ablation.p_ablated:.4f}",
              delta=f"{ablation.p_ablated - ablation.p_intact:+.4f}", help=t("lens.ablation.p_top_help"))
    k3.metric(t("lens.ablation.top_changed"),
              t("lens.ablation.changed_yes") if ablation.top_changed else t("lens.ablation.changed_no"))
    st.dataframe(pd.DataFrame([{t("lens.ablation.intact_top"): ablation.intact_top[0]["token"],
                                t("lens.ablation.ablated_top"): ablation.ablated_top[0]["token"]}]),
                 hide_index=True, key="lens_ablation_tops")
    abl_fig = ablation_figure(ablation, lang())
    abl_table = ablation_table(ablation, lang())
    _note_beside(abl_fig, "lens_ablation_chart", abl_table, "ablation",
                 t(f"lens.caveat_{mode}"), t("lens.caveat_gqa") if gqa else "")
    figures.append((t("lens.ablation.heading"), abl_fig))
    tables.append((t("lens.ablation.heading"), abl_table))
    if ablation.continuation_intact:
        left, right = st.columns(2)
        with left:
            st.markdown(t("lens.ablation.cont_intact"))
            ui.show_literal(ablation.continuation_intact_text)
        with right:
            st.markdown(t("lens.ablation.cont_ablated"))
            ui.show_literal(ablation.continuation_ablated_text)
    elif n_new == 0 and position != res.seq_len - 1:
        st.caption(t("lens.ablation.cont_last_only"))


def run_scan(model_key: str, ids: tuple[int, ...], scan_layers: list[int], mode: str, position: int,
             n_heads: int) -> list:
    """Section 4's scan, one cached layer at a time behind a progress bar; returns the layers'
    scans done (a :class:`components.lens.LensError` is shown and stops the loop)."""
    bar = st.progress(0.0, text=t("lens.scan.progress", done=0, total=len(scan_layers) * n_heads))
    parts = []
    try:
        for i, scan_layer in enumerate(scan_layers):
            parts.append(cached_scan(model_key, ids, scan_layer, mode, position))
            bar.progress((i + 1) / len(scan_layers),
                         text=t("lens.scan.progress", done=(i + 1) * n_heads, total=len(scan_layers) * n_heads))
    except LensError as exc:
        error(exc)
    bar.empty()
    return parts


def render_scan(parts: list, labels, figures: list, tables: list) -> None:
    """Section 4's result: the merged scan's chart with its caveats."""
    scan = merge_scans(parts)
    sc_fig = scan_figure(scan, labels, lang())
    sc_table = scan_table(scan, lang())
    _note_beside(sc_fig, "lens_scan_chart", sc_table, "head-scan", t("lens.caveat_scan"), t("lens.caveat"))
    figures.append((t("lens.scan.heading"), sc_fig))
    tables.append((t("lens.scan.heading"), sc_table))


def report_sections(model_name: str, res, position: int, heads, mode: str, text: str,
                    figures: list, tables: list) -> list:
    """The HTML report's sections: settings, the input text, then every shown figure and table."""
    settings = {
        t("lens.report.model"): model_name,
        t("lens.report.tokens"): res.seq_len,
        t("lens.report.position"): position,
        t("lens.report.heads"): ", ".join(f"{a}.{b}" for a, b in heads) or "—",
        t("lens.report.mode"): t(f"lens.mode.{mode}"),
    }
    return [Section(t("lens.report.settings"), "kv", settings), Section(t("lens.input.text"), "text", text),
            *[Section(title, "figure", f) for title, f in figures],
            *[Section(title, "table", df) for title, df in tables]]
