"""User and model text never becomes a plotly template: every figure builder is fed labels
holding ``%{x}``, ``%{y:.2f}``, ``%{customdata[0]}`` and ``%{meta[0]}``, and no template
string of the figure (hovertemplate, texttemplate, trace names, titles) holds them
unescaped -- plotly.js would replace them with the point's values."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from components import charts
from components import charts_attention as ca
from components import charts_classification as cc
from components import charts_embeddings as ce
from components import charts_sentiment as cs
from components.charts import plotly_literal
from tests import hostile_payloads as hp

USER = hp.PLOTLY_TEMPLATE.text + " <b>&"
ESCAPED = plotly_literal(USER)
# plotly.js src/lib/index.js TEMPLATE_STRING_REGEX: what it substitutes
PLOTLY_TEMPLATE = re.compile(r"%{([^\s%{}:]*)([:|\|][^}]*)?}")
TEMPLATE_KEYS = ("hovertemplate", "texttemplate", "name")


def _strings(node, path="fig"):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _strings(v, path)
    elif isinstance(node, str):
        yield path, node


def _templates(fig):
    for path, text in _strings(fig.to_plotly_json()):
        leaf = path.rsplit(".", 1)[-1]
        if leaf in TEMPLATE_KEYS or ".title" in path or "annotations" in path:
            yield path, text


def test_plotly_literal_escapes_templates_and_html():
    assert ESCAPED == ("half &#37;{x} &#37;{y:.2f} &#37;{customdata[0]} &#37;{meta[0]} &lt;b&gt;&amp;")
    assert not PLOTLY_TEMPLATE.search(ESCAPED)
    assert PLOTLY_TEMPLATE.findall(USER)  # the raw text would be substituted


def _figures():
    labels = [USER, "b", USER]
    m = np.full((3, 3), 1 / 3)
    table = pd.DataFrame({"token": labels, "raw_token": labels, "token_id": [1, 2, 3], "p_raw": [0.5, 0.3, 0.2]})
    yield "next_token", charts.next_token_figure(table, ["p_raw"], {"p_raw": USER}, y_title=USER, title=USER,
                                                 hover=USER + " {token}")
    yield "attention_heatmap", ca.attention_heatmap(m, labels, labels, title=USER, value_name=USER)
    yield "heads", ca.heads_small_multiples(np.stack([m, m]), labels, 0, head_names=[USER, USER])
    yield "grid", ca.layers_heads_grid(np.stack([np.stack([m, m])] * 2))
    yield "matrix_step", ca.matrix_step(m, labels, USER, col_labels=labels, col_title=USER)
    yield "mask_step", ca.mask_step(np.zeros((3, 3)), labels, title=USER)
    yield "label_scores", cc.label_scores_bar(pd.DataFrame({"label": [USER, "x"], "score": [0.7, 0.3]}),
                                              True, {w: USER for w in cc.WORDS}, title=USER)
    conf = pd.DataFrame([[1, 0], [0, 1]], index=[USER, "x"], columns=[USER, "x"])
    yield "confusion_cls", cc.confusion_heatmap(conf, USER, {w: USER for w in cc.WORDS})
    coords = np.array([[0, 0], [1, 1], [2, 0]], dtype=np.float32)
    yield "map", ce.scatter_map(coords, labels, labels, axis_titles=(USER, USER), query_point=np.array([1, 0]),
                                query_text=USER, selected=0, neighbours=[1], title=USER, label_title=USER)
    names = {"positive": USER, "negative": USER}
    yield "probability_bars", cs.probability_bars({"positive": 0.6, "negative": 0.4}, title=USER, value_name=USER,
                                                  names=names)
    yield "before_after", cs.before_after_bars({"positive": 0.6}, {"positive": 0.5}, {"positive": 0.4},
                                               series_names={"before": USER, "after": USER, "content_free": USER},
                                               names=names, y_title=USER)
    yield "attribution", cs.attribution_heatmap(labels, {USER: [0.1, -0.2, None]}, title=USER, colorbar_title=USER)
    dist = pd.DataFrame({"a": ["positive", USER], "b": [USER, USER]})
    yield "label_distribution", cs.label_distribution(dist, {USER: "a", "other": "b"}, names=names, y_title=USER)
    yield "confusion_sent", cs.confusion_heatmap(conf, title=USER, x_title=USER, y_title=USER, names=names)
    yield "accuracy", cs.accuracy_bars([(USER, 0.8)], x_title=USER)


@pytest.mark.parametrize("name,fig", list(_figures()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_user_text_in_plotly_templates(name, fig):
    templates = list(_templates(fig))
    assert templates, f"{name}: no template string found"
    for path, text in templates:
        for marker in hp.PLOTLY_TEMPLATE.template_markers:
            assert marker not in text, f"{name}: {path} holds user text as template: {text[:200]}"
    if name != "grid":  # the grid shows numbers only
        # the user's text is in the figure, escaped (shown literally by plotly)
        assert any("&#37;{x}" in text for _, text in _strings(fig.to_plotly_json())), name
