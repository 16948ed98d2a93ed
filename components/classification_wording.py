"""The zero-shot classification page's HTML report worded in a UI language
(``locales/<lang>/classification.toml``).

UI side of the message contract (:mod:`components.messages`): :mod:`components.classification`
returns results, tables and :class:`~components.messages.Message` codes; :func:`report_sections`
words the report for the reader's language. No streamlit: a report is built when its download
button is pressed (outside the script run) and tests call it with a language.
"""
from __future__ import annotations

import pandas as pd

from components import i18n
from components.catalog import get_spec
from components.classification import HEAD_C, HEAD_SEED
from components.messages import render
from components.report import Section


def report_sections(zs: dict | None, tr: dict | None, lang: str) -> list:
    """Sections of the page's HTML report (:mod:`components.report`) in ``lang``.

    Args:
        zs: the zero-shot part, or None: ``result`` (:class:`ZeroShotResult`), ``texts``,
            ``rows`` (1-based), ``labels``, ``model`` (catalog key), ``template``, ``mode``
            (``"single"``/``"lines"``/``"csv"``), ``table`` (per-text DataFrame as shown),
            ``figure`` (bar chart of text ``row``), ``row``, ``chart_table`` (its numbers).
        tr: the trained-head part, or None: ``result`` (:class:`TrainResult`), optionally
            ``confusion_figure`` + ``confusion_table`` and ``new`` (``table``, ``figure``, ``row``).
        lang: report language (``"en"`` or ``"zh"``), the reader's.

    Returns:
        ``list[components.report.Section]``: inputs, labels, method and settings, scores table
        and chart(s); all text is escaped by :func:`components.report.build_report`.
    """
    def t(name: str, **values) -> str:
        return i18n.translate(lang, f"classification.{name}", **values)

    yes_no = {True: t("report.yes"), False: t("report.no")}
    out: list = []
    if zs:
        result = zs["result"]
        mode = zs.get("mode")
        out += [
            Section(t("report.zero_shot"), "markdown", render(result.semantics, lang)),
            Section(t("report.inputs"), "table",
                    pd.DataFrame({t("results.row"): zs["rows"], t("results.text"): zs["texts"]})),
            Section(t("report.labels"), "text", "\n".join(zs["labels"])),
            Section(t("report.settings"), "kv", {
                t("report.method"): t(f"report.{result.method}"),
                t("report.model"): get_spec(zs["model"]).display_name,
                t("report.template"): zs["template"],
                t("report.multi_label"): yes_no[bool(result.multi_label)],
                t("report.mode"): t(f"mode.{mode}") if mode in ("single", "lines", "csv") else str(mode),
                t("report.n_texts"): len(zs["texts"]),
            }),
            Section(t("report.scores"), "table", zs["table"]),
            Section(t("report.chart", row=zs["row"]), "figure", zs["figure"]),
            Section(t("report.chart", row=zs["row"]), "table", zs["chart_table"]),
        ]
    if tr:
        head = tr["result"]
        cv = f"{head.cv_accuracy:.1%}" if head.cv_accuracy is not None else t("train.not_estimated")
        out.append(Section(t("report.train"), "kv", {
            t("report.method"): t("report.head", c=HEAD_C, seed=HEAD_SEED),
            t("train.metric_count"): f"{head.n_examples} · {len(head.classes)}",
            t("train.metric_cv"): cv,
            t("report.folds"): head.folds,
            t("report.baseline"): f"{head.majority_baseline:.1%}",
            t("report.labels"): ", ".join(head.classes),
        }))
        if "confusion_figure" in tr:
            out += [Section(t("report.confusion"), "figure", tr["confusion_figure"]),
                    Section(t("report.confusion"), "table", tr["confusion_table"])]
        if tr.get("new"):
            new = tr["new"]
            out += [Section(t("report.new_scores"), "table", new["table"]),
                    Section(t("report.new_chart", row=new["row"]), "figure", new["figure"])]
    return out
