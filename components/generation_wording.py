"""The generation page's tables, chart and HTML reports, worded in a UI language
(``locales/<lang>/generation.toml``).

UI side of the message contract (:mod:`components.messages`): :mod:`components.generation`
returns records (prompt tokens, next-token distribution, samples, side-by-side columns) keyed by
field names, with codes in the categorical cells (``finish_reason``, stage names); the functions
here word them for the page, the CSV downloads and the report alike, so all three read the same.
No streamlit: a report is built when its download button is pressed (outside the script run) and
tests call these functions with a language.
"""
from __future__ import annotations

import pandas as pd

from components import i18n
from components.generation import CHAT, GenerationSettings

FINISH_REASONS = ("eos", "length", "time", "stopped")
"""``finish_reason`` codes with a worded name (``generation.finish.<code>``); others are shown as they are."""


def finish_label(reason: str, lang: str) -> str:
    """The name of a ``finish_reason`` code (eos / length / time / stopped) in ``lang``; an
    unknown code (a server's own reason) as it is."""
    return i18n.translate(lang, f"generation.finish.{reason}") if reason in FINISH_REASONS else reason


def prompt_tokens_frame(records: list[dict], lang: str, raw: bool = False) -> pd.DataFrame:
    """Prompt tokens (:func:`components.generation.prompt_token_records`) as a table with headers
    in ``lang``: position, readable token, pieces, id(s), and with ``raw`` the raw vocabulary
    strings (byte-level strings such as ``ä»`` are left out of the default table)."""
    def tr(key: str) -> str:
        return i18n.translate(lang, key)

    cols = {
        tr("generation.col.position"): [r["index"] for r in records],
        tr("generation.col.token"): [r["token"] for r in records],
        tr("generation.col.pieces"): [r.get("pieces", 1) for r in records],
        tr("generation.col.id"): [str(r["id"]) for r in records],
    }
    if raw:
        cols[tr("generation.col.raw")] = [r["raw"] for r in records]
    return pd.DataFrame(cols)


def distribution_frame(record: dict, lang: str, raw: bool = False) -> pd.DataFrame:
    """The numbers the next-token chart plots (:func:`components.generation.distribution_record`):
    token, id, logit and one probability column per drawn stage, headers in ``lang``; with ``raw``
    also the raw vocabulary string (left out by default: byte-level strings are unreadable)."""
    def tr(key: str) -> str:
        return i18n.translate(lang, key)

    table = pd.DataFrame(record["table"])
    cols = {"token": tr("generation.col.token")}
    if raw:
        cols["raw_token"] = tr("generation.col.raw")
    cols.update({"token_id": tr("generation.col.id"), "logit": tr("generation.col.logit")})
    cols.update({s: tr(f"generation.stage.{s}") for s in record["stages"]})
    return table[list(cols)].rename(columns=cols)


def distribution_figure(record: dict, lang: str):
    """Plotly figure of a distribution record (:func:`components.charts.next_token_figure`)
    with title, axis, legend and hover in ``lang``."""
    from components.charts import next_token_figure

    def tr(key: str) -> str:
        return i18n.translate(lang, key)

    return next_token_figure(
        pd.DataFrame(record["table"]), record["stages"],
        stage_labels={s: tr(f"generation.stage.{s}") for s in record["stages"]},
        y_title=tr("generation.chart.y"), hover=tr("generation.chart.hover"), title=tr("generation.chart.title"),
    )


def _rate_cells(stats: dict, lang: str) -> dict:
    """Report/CSV cells of a sample's timing (when measured: curated results have none) and
    finish reason, keyed by column names in ``lang``."""
    cells = {}
    if "ttft_s" in stats:
        cells[i18n.translate(lang, "generation.metric.ttft")] = round(stats["ttft_s"], 3)
        cells[i18n.translate(lang, "generation.metric.tokens_per_s")] = round(stats["tokens_per_s"], 2)
    cells[i18n.translate(lang, "generation.metric.finish")] = finish_label(stats["finish_reason"], lang)
    return cells


def report_sections(lang: str, *, result: dict | None, prompt: str, model_name: str, mode: str,
                    settings: GenerationSettings, dist: dict | None, steps_html: list[str] | None = None,
                    tokens_html: str | None = None) -> list:
    """Sections of the page's HTML report (:mod:`components.report`) in ``lang``: prompt, model
    and every setting (seed included), generated text(s) with their per-step probability chips,
    statistics, prompt tokens, next-token chart and its table.

    Args:
        lang: report language (``"en"`` or ``"zh"``).
        result: the page's result (``{"samples": [sample_record...], ...}``) for exactly these
            inputs, or None (nothing generated yet: the report says so).
        steps_html / tokens_html: pre-escaped HTML chips (``ui.probability_chips_html`` /
            ``ui.token_chips_html``), one per sample / for the prompt.
        dist: :func:`components.generation.distribution_record` of the prompt under ``settings``.

    Returns:
        ``list[components.report.Section]``. All plain text is escaped by
        :func:`components.report.build_report`.
    """
    from components.report import Section

    def tr(key: str, **values) -> str:
        return i18n.translate(lang, key, **values)

    r = "generation.report."
    kv = {
        tr(r + "model"): model_name,
        tr(r + "mode"): tr("generation.mode_chat") if mode == CHAT else tr("generation.mode_complete"),
        tr(r + "sampling"): tr(r + "yes") if settings.do_sample else tr(r + "no"),
        tr(r + "max_new_tokens"): settings.max_new_tokens,
        tr(r + "temperature"): settings.temperature,
        tr(r + "top_k"): settings.top_k,
        tr(r + "top_p"): settings.top_p,
        tr(r + "repetition_penalty"): settings.repetition_penalty,
        tr(r + "no_repeat"): settings.no_repeat_ngram_size,
        tr(r + "samples"): settings.num_samples,
        tr(r + "seed"): settings.seed,
    }
    sections = [Section(tr(r + "prompt"), "text", prompt), Section(tr(r + "settings"), "kv", kv)]
    if result is None:
        sections.append(Section(tr(r + "output"), "markdown", tr(r + "not_generated")))
    else:
        samples = result["samples"]
        rows = []
        for i, res in enumerate(samples):
            head = tr(r + "output") if len(samples) == 1 else \
                tr(r + "output") + " · " + tr("generation.sample_heading", i=i + 1, seed=res["seed"])
            sections.append(Section(head, "text", res["text"]))
            if steps_html and i < len(steps_html) and res.get("steps"):
                sections.append(Section(tr("generation.steps_title"), "html", steps_html[i]))
            s = res["stats"]
            row = {tr("generation.col.sample"): i + 1, tr("generation.col.seed"): res["seed"],
                   tr("generation.metric.prompt_tokens"): s["prompt_tokens"],
                   tr("generation.metric.new_tokens"): s["new_tokens"]}
            row.update(_rate_cells(s, lang))
            rows.append(row)
        sections.append(Section(tr(r + "stats"), "table", pd.DataFrame(rows)))
    if tokens_html:
        sections.append(Section(tr("generation.tokens_heading"), "html", tokens_html))
    if dist is not None:
        sections.append(Section(tr(r + "chart"), "figure", distribution_figure(dist, lang)))
        sections.append(Section(tr(r + "table"), "table", distribution_frame(dist, lang)))
    return sections


def decoding_name(settings: dict, lang: str) -> str:
    """A side-by-side column's decoding (:func:`components.generation.settings_record` dict) in
    ``lang``: "greedy", or sampled with its temperature, top_k and top_p."""
    if not settings["do_sample"]:
        return i18n.translate(lang, "generation.greedy")
    return i18n.translate(lang, "generation.compare.sampled_short", temperature=settings["temperature"],
                          top_k=settings["top_k"], top_p=settings["top_p"])


def compare_frame(records: list[dict], lang: str) -> pd.DataFrame:
    """The side-by-side columns as one table (headers in ``lang``): column number, decoding
    settings, seed, text, new tokens, mean log-prob (nats/token), distinct-1, distinct-2,
    time to first token and tokens/s (live runs) and finish reason."""
    def tr(key: str) -> str:
        return i18n.translate(lang, key)

    rows = []
    for i, r in enumerate(records):
        st = r["stats"]
        row = {tr("generation.compare.col.column"): i + 1,
               tr("generation.compare.col.decoding"): decoding_name(r["settings"], lang),
               tr("generation.col.seed"): r["seed"],
               tr("generation.compare.col.text"): r["text"],
               tr("generation.metric.new_tokens"): st["new_tokens"],
               tr("generation.compare.col.mean_logprob"): r["mean_logprob"],
               tr("generation.compare.col.distinct_1"): r["distinct_1"],
               tr("generation.compare.col.distinct_2"): r["distinct_2"]}
        row.update(_rate_cells(st, lang))
        rows.append(row)
    return pd.DataFrame(rows)


def compare_report_sections(lang: str, *, records: list[dict] | None, prompt: str, model_name: str,
                            mode: str, settings: GenerationSettings, chips_html: list[str] | None = None) -> list:
    """Sections of the side-by-side view's HTML report in ``lang``: prompt, model and shared
    settings (seed included), each column's text with its probability chips (pre-escaped HTML,
    one per column), and the table of :func:`compare_frame`. ``records`` None: the report says
    nothing was generated yet. Plain text is escaped by :func:`components.report.build_report`."""
    from components.report import Section

    def tr(key: str, **values) -> str:
        return i18n.translate(lang, key, **values)

    r = "generation.report."
    kv = {tr(r + "model"): model_name,
          tr(r + "mode"): tr("generation.mode_chat") if mode == CHAT else tr("generation.mode_complete"),
          tr(r + "max_new_tokens"): settings.max_new_tokens,
          tr(r + "repetition_penalty"): settings.repetition_penalty,
          tr(r + "no_repeat"): settings.no_repeat_ngram_size,
          tr(r + "seed"): settings.seed}
    sections = [Section(tr(r + "prompt"), "text", prompt), Section(tr(r + "settings"), "kv", kv)]
    if records is None:
        return sections + [Section(tr(r + "output"), "markdown", tr(r + "not_generated"))]
    for i, rec in enumerate(records):
        name = decoding_name(rec["settings"], lang)
        sections.append(Section(tr("generation.compare.column", i=i + 1) + " · " + name, "text", rec["text"]))
        if chips_html and i < len(chips_html):
            sections.append(Section(tr("generation.steps_title"), "html", chips_html[i]))
    sections.append(Section(tr(r + "stats"), "table", compare_frame(records, lang)))
    return sections
