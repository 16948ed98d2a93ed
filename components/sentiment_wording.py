"""The sentiment page's tables and HTML report, worded in a UI language (``locales/<lang>/sentiment.toml``).

UI side of the message contract (:mod:`components.messages`): :mod:`components.sentiment` and
:mod:`components.sentiment_benchmarks` return tables keyed by column ids, with ids in the
categorical cells (approach, label, set) and :class:`~components.messages.Message` cells for
sentences; :func:`table` words them for the page, the CSV download and the report alike, so
all three read the same. No streamlit: a report is built when its download button is pressed
(outside the script run) and tests call these functions with a language.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from components import coverage, i18n
from components import sentiment as S
from components import sentiment_benchmarks as B
from components.messages import Message, render


def _header(key: str, **params) -> Message:
    return Message(key, params)


HEADERS: dict[str, Message] = {
    "approach": _header("sentiment.col.approach"),
    "label": _header("sentiment.col.label"),
    "text": _header("sentiment.col.text"),
    "p_positive": _header("sentiment.col.p_positive"),
    "compound": _header("sentiment.col.compound"),
    "coverage": _header("coverage.column"),
    "n": _header("sentiment.bench.col.n"),
    "accuracy": _header("sentiment.col.accuracy"),
    "accuracy_ci": _header("sentiment.bench.col.accuracy"),
    "macro_f1_ci": _header("sentiment.bench.col.macro_f1"),
    "positive_share": _header("sentiment.col.positive_share"),
    "neutral_share": _header("sentiment.bench.col.neutral_share"),
    "recall_positive": _header("sentiment.col.recall", label=Message("sentiment.label.positive")),
    "recall_negative": _header("sentiment.col.recall", label=Message("sentiment.label.negative")),
    "spearman": _header("sentiment.bench.col.spearman"),
    "ms_per_text": _header("sentiment.col.ms_per_text"),
    "note": _header("sentiment.col.note"),
    "set": _header("sentiment.bench.col.set"),
    "paper_f1": _header("sentiment.bench.col.paper_f1"),
    "page_f1": _header("sentiment.bench.col.page_f1"),
    "difference": _header("sentiment.bench.col.difference"),
    **{name: _header(f"sentiment.bench.set.{name}") for name in B.SETS},
}
"""Column id -> its header (a message, rendered in the report's or page's language)."""


def label_key(label: str) -> str:
    """i18n key of a label id (:data:`components.sentiment.NOT_MEANINGFUL` included)."""
    return "coverage.not_meaningful" if label == S.NOT_MEANINGFUL else f"sentiment.label.{label}"


CELLS = {
    "approach": lambda a: f"sentiment.approach.{a}",
    "label": label_key,
    "set": lambda name: f"sentiment.bench.set.{name}",
}
"""Categorical column id -> the i18n key of one of its cell ids."""


def table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` (column ids, id and :class:`Message` cells) as shown in ``lang``: headers from
    :data:`HEADERS`, cells of the :data:`CELLS` columns translated, message cells rendered;
    other columns and cells unchanged (numbers, user text). A new frame; ``frame`` is untouched."""
    out = frame.copy()
    for col in out.columns:
        if col in CELLS:
            out[col] = [i18n.translate(lang, CELLS[col](v)) for v in out[col]]
        elif out[col].dtype == object and any(isinstance(v, Message) for v in out[col]):
            out[col] = [render(v, lang) if isinstance(v, Message) else v for v in out[col]]
    out.columns = [render(HEADERS[c], lang) if c in HEADERS else c for c in out.columns]
    return out


# --------------------------------------------------------------------------- report
def settings_summary(approaches: Sequence[str], settings: S.PromptSettings, attribution: bool,
                     lang: str) -> dict[str, str]:
    """The settings that shaped a result, worded in ``lang``, for a report's key/value table:
    the approaches, attributions on/off and, with the LLM, its prompt settings."""
    def tr(key: str) -> str:
        return i18n.translate(lang, key)

    def yes_no(flag: bool) -> str:
        return tr("sentiment.report.yes" if flag else "sentiment.report.no")

    out = {tr("sentiment.report.approaches"): ", ".join(tr(f"sentiment.approach.{a}") for a in approaches),
           tr("sentiment.attr.toggle"): yes_no(attribution)}
    if S.LLM in approaches:
        out[tr("sentiment.prompt.format")] = tr(f"sentiment.prompt.{settings.mode}")
        out[tr("sentiment.prompt.template")] = settings.template
        out[tr("sentiment.prompt.fewshot")] = yes_no(settings.few_shot)
        out[tr("sentiment.prompt.calibrate")] = yes_no(settings.calibrate)
    return out


def report_sections(text: str, results: Sequence[dict], figures: Sequence[tuple], settings: S.PromptSettings,
                    attribution: bool, lang: str) -> list:
    """Sections of the HTML report (:mod:`components.report`) for one analysed text, in ``lang``.

    Args:
        text: the analysed text (shown literally; the report escapes it).
        results: :func:`components.sentiment.result_dict` dicts, one per approach.
        figures: ``[(heading, plotly Figure)]`` as shown on the page.
        settings, attribution: what shaped the result.
        lang: report language (``"en"`` or ``"zh"``).

    Returns:
        ``list[components.report.Section]``: inputs, settings, results table (:func:`table`),
        per-approach word highlights (escaped HTML from
        :func:`components.charts_sentiment.attribution_html`), notices, the LLM's exact prompt,
        the figures.
    """
    from components.charts_sentiment import attribution_html
    from components.report import Section
    from components.textio import markdown_literal

    secs = [Section(i18n.translate(lang, "ui.report.inputs"), "text", text),
            Section(i18n.translate(lang, "ui.report.settings"), "kv",
                    settings_summary([r["approach"] for r in results], settings, attribution, lang)),
            Section(i18n.translate(lang, "ui.report.outputs"), "table", table(S.results_table(results), lang))]
    for res in results:
        name = i18n.translate(lang, f"sentiment.approach.{res['approach']}")
        if res["approach"] == S.VADER and res["extra"].get("word_valences"):
            secs.append(Section(i18n.translate(lang, "sentiment.vader.valences"), "html",
                                attribution_html(res["extra"]["word_valences"])))
        if res.get("attribution"):
            secs.append(Section(i18n.translate(lang, "sentiment.report.attribution", approach=name), "html",
                                attribution_html(res["attribution"])))
        if res.get("coverage"):
            key, values = coverage.message(res["coverage"], markdown_literal)
            secs.append(Section(name, "markdown", i18n.translate(lang, key, **values)))
        for key, values in res.get("notices", []):
            secs.append(Section(name, "markdown", render(Message(key, dict(values)), lang)))
        if res["approach"] == S.LLM:
            secs.append(Section(i18n.translate(lang, "sentiment.calib.exact_prompt"), "text", res["extra"]["prompt"]))
    secs += [Section(heading, "figure", fig) for heading, fig in figures]
    return secs


def batch_report_sections(texts: Sequence[str], shown: pd.DataFrame, figures: Sequence[tuple],
                          settings: S.PromptSettings, approaches: Sequence[str], lang: str) -> list:
    """Sections of the HTML report for a batch, in ``lang``: the texts, settings, the per-text
    results table ``shown`` (as on the page, already worded) and the figures ``[(heading, Figure)]``."""
    from components.report import Section

    return [
        Section(i18n.translate(lang, "ui.report.inputs"), "table", table(pd.DataFrame({"text": list(texts)}), lang)),
        Section(i18n.translate(lang, "ui.report.settings"), "kv", settings_summary(approaches, settings, False, lang)),
        Section(i18n.translate(lang, "ui.report.outputs"), "table", shown),
        *[Section(heading, "figure", fig) for heading, fig in figures],
    ]
