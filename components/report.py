"""Standalone HTML reports: a page's inputs, settings, outputs and charts in one file.

The file opens offline: plotly.js is embedded once (``include_plotlyjs=True``, ~4.6 MB),
no other script or stylesheet is fetched. Every piece of user or model text is
HTML-escaped here; only :class:`Section` of kind ``"html"`` is inserted as is, and callers
must build that from escaped parts (e.g. ``ui.token_chips_html``).

Pure module (no streamlit).
"""
from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass
from typing import Any

KINDS = ("kv", "text", "table", "figure", "html", "markdown")


@dataclass(frozen=True)
class Section:
    """One block of a report.

    Attributes:
        heading: section title (escaped).
        kind: ``"kv"`` (dict of settings), ``"text"`` (literal text, shown in ``<pre>``),
            ``"table"`` (pandas DataFrame), ``"figure"`` (plotly Figure), ``"html"``
            (pre-escaped HTML), ``"markdown"`` (plain prose, escaped; blank lines → paragraphs).
        payload: the data for that kind.
    """

    heading: str
    kind: str
    payload: Any


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.8em;border-radius:6px;font-size:.95em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f0f3f6}.meta{color:#666;font-size:.85em}
"""


def _table_html(df) -> str:
    return df.to_html(index=False, escape=True, border=0, na_rep="", float_format=lambda x: f"{x:.4g}")


# Plotly's default figure height and margins (plotly.js layout defaults), used when a figure sets none.
_PLOTLY_HEIGHT, _PLOTLY_MARGIN_T, _PLOTLY_MARGIN_B = 450, 100, 80
# Room per category on a bar chart's category axis: a tick label (~12 px font) plus the gap.
_PX_PER_CATEGORY = 28
_MIN_PLOT_PX = 120


def _category_count(fig) -> int:
    """Most categories any bar trace puts on its category axis (y for horizontal bars, else x)."""
    n = 0
    for trace in fig.data:
        if getattr(trace, "type", None) != "bar":
            continue
        cats = trace.y if getattr(trace, "orientation", None) == "h" else trace.x
        if cats is not None:
            n = max(n, len({str(c) for c in cats}))
    return n


def _report_figure(fig):
    """A copy of ``fig`` laid out for a page of its own: the app's figures use tight margins
    (Streamlit pads around them); here ticks, axis titles and legends get room of their own.

    The report's larger margins are added to the height rather than taken from the plot
    area, which keeps at least :data:`_MIN_PLOT_PX` pixels and :data:`_PX_PER_CATEGORY` per
    bar category (plotly drops category tick labels that do not fit)."""
    import plotly.graph_objects as go

    out = go.Figure(fig)
    margin = out.layout.margin
    t, b = max(margin.t or 0, 70), max(margin.b or 0, 80)
    out.update_layout(margin=dict(l=max(margin.l or 0, 80), r=max(margin.r or 0, 30), t=t, b=b))
    old_t = _PLOTLY_MARGIN_T if margin.t is None else margin.t
    old_b = _PLOTLY_MARGIN_B if margin.b is None else margin.b
    area = (out.layout.height or _PLOTLY_HEIGHT) - old_t - old_b
    area = max(area, _MIN_PLOT_PX, _PX_PER_CATEGORY * _category_count(out))
    out.update_layout(height=area + t + b)
    out.update_xaxes(automargin=True)
    out.update_yaxes(automargin=True)
    return out


def build_report(title: str, sections: list[Section], html_lang: str = "en", footer: str = "") -> str:
    """Render a standalone HTML document.

    Args:
        title: report title (escaped).
        sections: blocks in order; unknown kinds are skipped.
        html_lang: the document's BCP 47 language tag for ``<html lang>`` (e.g. ``"zh-CN"``,
            :func:`components.i18n.html_lang`); the report words nothing itself.
        footer: a line under the title (escaped), e.g. "LLM Lab · model · date".

    Returns:
        The HTML document (str). Raises nothing for empty sections.
    """
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(html_lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{html.escape(footer or "LLM Lab")} · '
        f'{_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}</p>',
    ]
    plotly_embedded = False
    for sec in sections:
        if sec.kind not in KINDS or sec.payload is None:
            continue
        parts.append(f"<h2>{html.escape(sec.heading)}</h2>")
        if sec.kind == "kv":
            rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                           for k, v in dict(sec.payload).items())
            parts.append(f"<table>{rows}</table>")
        elif sec.kind == "text":
            parts.append(f"<pre>{html.escape(str(sec.payload))}</pre>")
        elif sec.kind == "markdown":
            parts += [f"<p>{html.escape(p.strip())}</p>" for p in str(sec.payload).split("\n\n") if p.strip()]
        elif sec.kind == "table":
            parts.append(_table_html(sec.payload))
        elif sec.kind == "figure":
            parts.append(_report_figure(sec.payload).to_html(
                full_html=False, include_plotlyjs=not plotly_embedded, config={"displaylogo": False}))
            plotly_embedded = True
        elif sec.kind == "html":
            parts.append(str(sec.payload))
    parts.append("</body></html>")
    return "\n".join(parts)
