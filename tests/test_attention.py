"""Attention visualizer: real attentions of the bundled models, the formula recomputed from
their weights (parity with the model, minGPT-style), tiny GPT-2/BERT, charts, and the page."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from components import i18n, palettes
from components.attention import (
    AttentionInputError,
    AttentionUnavailableError,
    UnsupportedArchitectureError,
    attention_rollout,
    drop_tokens,
    explain_head,
    get_attention,
    head_statistics,
    mean_over_heads,
    snapshot,
)
from components.charts_attention import (
    COLOR_SCALES,
    attention_heatmap,
    formula_figures,
    formula_tables,
    head_summary_table,
    heads_small_multiples,
    heads_table,
    layers_heads_grid,
    matrix_table,
    payload_bytes,
    pool_max,
)

CHINESE = "今天的天气很好，适合出去散步。"
SENTENCE = "The animal didn't cross the street because it was too tired."
ATOL = 1e-5


def _check_attention_basics(res, layers, heads, causal):
    att = res.attentions
    assert att.shape == (layers, heads, res.seq_len, res.seq_len)
    assert len(res.pieces) == len(res.labels) == len(res.input_ids) == res.seq_len
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)
    upper = np.triu(np.ones((res.seq_len, res.seq_len), dtype=bool), k=1)
    if causal:
        assert np.all(att[..., upper] == 0.0)
    else:  # bidirectional: tokens do attend to later tokens
        assert att[..., upper].max() > 0.01


def _check_recompute(loaded, res, pairs):
    for layer, head in pairs:
        hc = explain_head(loaded, res, layer, head)
        mine = torch.from_numpy(hc.weights).float()
        theirs = torch.from_numpy(res.attentions[layer, head])
        assert torch.allclose(mine, theirs, atol=ATOL, rtol=0), (layer, head, hc.max_abs_diff)
        assert hc.max_abs_diff <= ATOL
        assert hc.q.shape == hc.k.shape == hc.v.shape == (res.seq_len, hc.d_k)
        assert hc.output.shape == (res.seq_len, hc.d_k)
        np.testing.assert_allclose(hc.output, hc.weights @ hc.v)
        assert np.isclose(hc.scaling, hc.d_k ** -0.5)
    return hc


# --------------------------------------------------------------------------- MiniLM (encoder)
@pytest.fixture(scope="module")
def minilm_pair(minilm):
    return get_attention(minilm, SENTENCE, "It was very tired.", max_tokens=64)


def test_minilm_shapes_rows_and_pair(minilm, minilm_pair):
    res = minilm_pair
    _check_attention_basics(res, 6, 12, causal=False)
    assert res.architecture == "bert" and not res.is_causal
    assert res.labels[0] == "[CLS]" and res.special_mask.sum() == 3  # [CLS] a [SEP] b [SEP]
    assert set(res.token_type_ids) == {0, 1}
    assert res.hidden_states.shape == (7, res.seq_len, 384)


def test_minilm_recomputed_formula_matches_model(minilm, minilm_pair):
    # segment embeddings (pair) + bidirectional; first, middle and last layer
    _check_recompute(minilm, minilm_pair, [(0, 0), (3, 7), (5, 11)])


def test_minilm_chinese_labels_and_unknown_characters(minilm):
    res = get_attention(minilm, CHINESE)
    joined = "".join(res.labels)
    for ch in CHINESE:  # every character visible, [UNK] ones show the original character
        assert ch in joined, ch


def test_minilm_truncation_notice(minilm):
    long = " ".join(["word"] * 300)
    res = get_attention(minilm, long, max_tokens=16)
    assert res.seq_len == 16 and res.truncated and res.n_tokens_full == 302
    assert res.raw_tokens[-1] == "[SEP]"  # cut inside the text, special tokens kept
    # the model's own limit (256 for MiniLM) caps any request
    assert get_attention(minilm, long, max_tokens=10_000).seq_len == 256


# --------------------------------------------------------------------------- SmolLM2 (decoder)
@pytest.fixture(scope="module")
def smol_chinese(smollm2):
    return get_attention(smollm2, SENTENCE + " " + CHINESE, max_tokens=64)


def test_smollm2_shapes_rows_causal(smol_chinese):
    res = smol_chinese
    _check_attention_basics(res, 30, 9, causal=True)
    assert res.architecture == "llama" and res.num_key_value_heads == 3


def test_smollm2_recomputed_formula_rope_gqa(smollm2, smol_chinese):
    # heads 4 and 8 use key/value heads 1 and 2 (GQA: 9 query heads share 3 KV heads)
    hc = _check_recompute(smollm2, smol_chinese, [(0, 4), (17, 8)])
    assert hc.kv_head == 2 and hc.rope
    assert not np.allclose(hc.q, hc.q_before_rope)  # RoPE rotated the queries...
    np.testing.assert_allclose(np.linalg.norm(hc.q, axis=1), np.linalg.norm(hc.q_before_rope, axis=1))  # ...a rotation
    assert np.isinf(hc.mask[np.triu_indices(smol_chinese.seq_len, 1)]).all()
    # a head with KV head 0 must differ from one with KV head 2 in its keys
    assert not np.allclose(explain_head(smollm2, smol_chinese, 17, 0).k, hc.k)


def test_smollm2_chinese_labels(smol_chinese):
    joined = "".join(smol_chinese.labels)
    for ch in CHINESE:
        assert ch in joined, ch
    raw = "".join(smol_chinese.raw_tokens)
    assert "天" not in raw  # raw byte-level strings are mojibake: the labels did the decoding


def test_decoder_rejects_pair(smollm2):
    with pytest.raises(AttentionInputError, match="decoder"):
        get_attention(smollm2, "a", "b")


# --------------------------------------------------------------------------- aggregates
def test_rollout_and_mean_rows_sum_to_one(smol_chinese, minilm_pair):
    for res in (smol_chinese, minilm_pair):
        mean = mean_over_heads(res.attentions)
        assert mean.shape == (res.num_layers, res.seq_len, res.seq_len)
        np.testing.assert_allclose(mean.sum(-1), 1.0, atol=1e-5)
        roll = attention_rollout(res.attentions)
        assert roll.shape == mean.shape
        np.testing.assert_allclose(roll.sum(-1), 1.0, atol=1e-9)
    # rollout of a causal model stays causal
    roll = attention_rollout(smol_chinese.attentions)[-1]
    assert np.all(roll[np.triu_indices(smol_chinese.seq_len, 1)] == 0)


def test_rollout_by_hand_two_layers():
    a0 = np.array([[1.0, 0.0], [0.5, 0.5]])
    a1 = np.array([[0.2, 0.8], [0.0, 1.0]])
    att = np.stack([a0[None], a1[None]])  # (2 layers, 1 head, 2, 2)
    eye = np.eye(2)
    expect = (0.5 * a1 + 0.5 * eye) @ (0.5 * a0 + 0.5 * eye)
    np.testing.assert_allclose(attention_rollout(att)[-1], expect)


def test_drop_special_tokens_not_renormalised(minilm_pair):
    res = minilm_pair
    keep = ~res.special_mask
    sub = drop_tokens(res.attentions, keep)
    assert sub.shape[-2:] == (keep.sum(), keep.sum())
    # each kept row lost exactly the share its query gave the hidden tokens, nothing put back
    lost = res.attentions[..., ~keep].sum(-1)[..., keep]
    np.testing.assert_allclose(sub.sum(-1), 1.0 - lost, atol=1e-5)
    assert sub.sum(-1).mean() < 0.9  # MiniLM sends a lot to [CLS]/[SEP] (attention sinks)


# --------------------------------------------------------------------------- tiny Hub architectures
@pytest.mark.parametrize("key,fixture,arch,causal", [
    ("gpt2", "tiny_gpt2_dir", "gpt2", True),
    ("bert-base-uncased", "tiny_bert_dir", "bert", False),
])
def test_tiny_hub_architectures(request, as_local_model, key, fixture, arch, causal):
    from components.catalog import get_spec
    from components.loading import load_model

    as_local_model(key, request.getfixturevalue(fixture))
    loaded = load_model(get_spec(key))
    assert loaded.source.kind == "local"
    res = get_attention(loaded, "The weather today is lovely. " + CHINESE, max_tokens=48)
    assert res.architecture == arch
    _check_attention_basics(res, 2, 2, causal=causal)
    _check_recompute(loaded, res, [(0, 1), (1, 0)])
    if arch == "gpt2":  # byte-level BPE: Chinese characters decoded from byte tokens
        assert all(ch in "".join(res.labels) for ch in "今天的天气")


class NoAttentions(torch.nn.Module):
    """Wraps a real model and drops its attentions, like an sdpa/flash implementation does."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.config = inner.config

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        out.attentions = None
        return out


def test_no_attentions_and_unsupported_architecture(minilm, minilm_pair):
    """A model that returns no attentions (sdpa-style) gives the clear error with advice; an
    architecture without a recomputation raises the NotImplementedError subclass."""
    import dataclasses

    fake = dataclasses.replace(minilm, model=NoAttentions(minilm.model))
    with pytest.raises(AttentionUnavailableError, match="eager"):
        get_attention(fake, SENTENCE)
    with pytest.raises(AttentionInputError, match="empty"):
        get_attention(minilm, "   ")
    other = dataclasses.replace(minilm_pair, architecture="t5")
    with pytest.raises(UnsupportedArchitectureError):
        explain_head(minilm, other, 0, 0)
    with pytest.raises(IndexError):
        explain_head(minilm, minilm_pair, 6, 0)


# --------------------------------------------------------------------------- charts
def test_heatmap_labels_hover_escaped_and_payload(smol_chinese):
    res = smol_chinese
    labels = list(res.labels)
    labels[1] = "<b>x</b>"
    fig = attention_heatmap(res.attentions[3, 2], labels, res.raw_tokens)
    spec = json.loads(fig.to_json())
    trace = spec["data"][0]
    assert len(trace["x"]) == len(set(trace["x"])) == res.seq_len  # duplicates kept apart
    assert "&lt;b&gt;x&lt;/b&gt;" in trace["x"][1] and "<b>x</b>" not in json.dumps(spec["layout"])
    assert "from" in trace["hovertemplate"] and "→ to" in trace["hovertemplate"]
    assert "天" in "".join(spec["layout"]["yaxis"]["ticktext"])
    assert any("raw" in c for c in trace["x"])  # raw token on hover
    assert isinstance(trace["z"], dict) and trace["z"]["dtype"] == "f4"  # compact base64
    assert payload_bytes(fig) < 200_000


def test_overview_figures_small(smol_chinese):
    res = smol_chinese
    grid = layers_heads_grid(res.attentions, highlight=(2, 5))
    pts = grid.data[1]
    assert len(pts.customdata) == 30 * 9 and list(pts.customdata[-1]) == [29, 8]
    heads = heads_small_multiples(res.attentions[0], res.labels, 0)
    assert len(heads.data) == 9
    assert payload_bytes(grid) + payload_bytes(heads) < 2_000_000
    pooled, blocks = pool_max(np.eye(10), 4)
    assert pooled.shape == (4, 4) and np.all(np.diag(pooled) == 1) and blocks[-1][1] == 10


def test_formula_figures(smollm2, smol_chinese):
    hc = explain_head(smollm2, smol_chinese, 1, 4)
    figs = formula_figures(hc, smol_chinese.labels)
    assert list(figs) == ["x", "q", "k", "v", "scores", "mask", "weights", "output"]
    assert "KV head 1" in figs["k"].layout.title.text


def test_chart_and_table_language_palette_and_numbers(smollm2, smol_chinese):
    """Charts take the UI language; heatmaps use cividis, signed steps the project's diverging
    scale; every table holds exactly the plotted numbers."""
    res = smol_chinese
    zh = attention_heatmap(res.attentions[2, 1], res.labels, res.raw_tokens, lang="zh")
    assert zh.layout.xaxis.title.text == i18n.translate("zh", "attention.chart.key_axis")
    assert "从" in zh.data[0].hovertemplate
    assert COLOR_SCALES["cividis"] == palettes.SEQUENTIAL == "cividis"
    assert zh.data[0].colorscale == attention_heatmap(np.eye(2), ["a", "b"], colorscale="cividis").data[0].colorscale
    table = matrix_table(res.attentions[2, 1], res.labels, res.labels)
    assert table.shape == (res.seq_len, res.seq_len + 1)
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), np.round(res.attentions[2, 1], 4), atol=1e-9)
    assert table.columns[0] == i18n.translate("en", "attention.table.corner")
    hc = explain_head(smollm2, res, 1, 4)
    figs = formula_figures(hc, res.labels, lang="zh")
    tabs = formula_tables(hc, res.labels)
    assert list(tabs) == list(figs)
    assert [c[1] for c in figs["q"].data[0].colorscale] == [c[1] for c in palettes.DIVERGING]
    np.testing.assert_allclose(tabs["weights"].iloc[:, 1:].to_numpy(), np.round(hc.weights, 4))
    assert np.isinf(tabs["mask"].iloc[0, 2]) and tabs["mask"].iloc[2, 1] == 0.0
    heads = heads_table(res.attentions[0], res.labels)
    assert len(heads) == 9 * res.seq_len
    big = heads_table(res.attentions[0], res.labels, max_cells=100)  # too many cells: one summary row per head
    assert len(big) == 9 and i18n.translate("en", "attention.table.entropy") in big.columns


def test_head_statistics_by_hand_and_on_the_model(minilm_pair):
    eye = np.eye(3)[None, None]
    prev = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=float)[None, None]
    stats = head_statistics(np.concatenate([eye, prev], axis=1))
    np.testing.assert_allclose(stats["self"][0], [1.0, 1 / 3])
    np.testing.assert_allclose(stats["previous"][0], [0.0, 1.0])
    np.testing.assert_allclose(stats["entropy"][0], [0.0, 0.0])
    assert str(stats["entropy"][0, 0]) == "0.0"  # not "-0.0"
    uniform = np.full((1, 1, 4, 4), 0.25)
    assert np.isclose(head_statistics(uniform)["entropy"][0, 0], 2.0)  # log2(4) bits
    res = minilm_pair
    table = head_summary_table(res.attentions)
    assert len(table) == 6 * 12
    first = head_statistics(res.attentions)["first"]
    np.testing.assert_allclose(table[i18n.translate("en", "attention.table.first")], np.round(first.ravel(), 4))


def test_snapshot_is_plain_json_and_clamps(minilm_pair):
    res = minilm_pair
    snap = snapshot(res, 99, 3, "a <b>", "It was very tired.", "MiniLM")
    assert snap["layer"] == 0 and snap["head"] == 3 and snap["text"] == "a <b>"
    assert json.loads(json.dumps(snap)) == snap
    np.testing.assert_allclose(snap["matrix"], res.attentions[0, 3], atol=5e-5)
    assert snap["layer_heads"] is None  # more than 16 tokens: only the chosen head is kept
    assert snap["special"].count(True) == 3


# --------------------------------------------------------------------------- page (AppTest)
def _open(app):
    at = app
    at.run()
    at.switch_page("app_pages/attention.py")
    at.run()
    return at


def _texts(at, kind):
    return " ".join(e.value for e in at.get(kind))


def _en(key, **values):
    return i18n.translate("en", f"attention.{key}", **values)


def test_page_default_smollm2_every_view(app):
    at = _open(app)  # default model: the bundled SmolLM2 (first bundled attention model)
    assert not at.exception
    assert at.selectbox(key="p_att_model").value == "smollm2-135m-instruct"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "heatmap" and spec["data"][0]["colorscale"][0][1] == "#00224e"  # cividis
    assert spec["layout"]["title"]["text"] == _en("chart.head_title", layer=0, head=0)
    assert "Jain & Wallace" in _texts(at, "caption")
    assert at.get("download_button")  # CSV of the table + the HTML report
    for view in ("overview", "aggregate", "formula"):
        at.radio(key="p_att_view").set_value(view).run()
        assert not at.exception, view
        assert at.get("plotly_chart")
        assert at.query_params["view"] in (view, [view])  # the link follows the view
        if view == "aggregate":
            at.radio(key="p_att_agg").set_value("rollout").run()
            assert not at.exception
            title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
            assert title == _en("agg.rollout_title", layer=0)
    at.selectbox(key="p_att_layer").set_value(25).run()
    at.selectbox(key="p_att_head").set_value(8).run()
    assert not at.exception
    md = _texts(at, "markdown")
    assert "✅" in md and _en("formula.gqa", head=8, kv=2, group=3, others=2) in md
    # every formula chart has its table: 8 charts, 8 tables of the same numbers
    assert len(at.get("plotly_chart")) == 8 and len(at.dataframe) >= 8


def test_page_minilm_pair_hide_special_and_switch_resets(app):
    at = _open(app)
    at.selectbox(key="p_att_layer").set_value(25).run()
    at.selectbox(key="p_att_model").set_value("all-minilm-l6-v2").run()  # 6 layers x 12 heads
    assert not at.exception
    assert at.selectbox(key="p_att_layer").value == 0
    assert _en("msg.reset_layer", name="all-MiniLM-L6-v2 (bundled)", limit=6, last=5, value=25) in _texts(at, "info")
    at.text_input(key="p_att_pair").input("It was very tired.").run()
    at.toggle(key="p_att_hide").set_value(True).run()
    assert not at.exception
    assert "not renormalised" in _texts(at, "caption")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert not any("[CLS]" in c or "[SEP]" in c for c in spec["data"][0]["x"])
    at.radio(key="p_att_view").set_value("formula").run()
    assert not at.exception and "✅" in _texts(at, "markdown")


def test_page_bad_inputs(app):
    at = _open(app)
    at.text_area(key="p_att_text").input("   ").run()
    assert not at.exception
    assert _en("msg.empty") in _texts(at, "warning")
    assert at.text_area(key="p_att_text").value == "   "  # nothing typed is lost
    long = "word " * 200
    at.text_area(key="p_att_text").input(long).run()
    assert not at.exception
    assert _en("msg.truncated", full=201, cap=64, n=64, limit=256) in _texts(at, "warning")
    assert at.text_area(key="p_att_text").value == long
    for box in at.warning:  # the icon is shown once, by the box, not again in its text
        assert box.icon and box.icon not in box.value


def test_page_hub_model_unavailable(app):
    at = _open(app)
    at.selectbox(key="p_att_model").set_value("gpt2").run()
    assert not at.exception
    assert "not available" in _texts(at, "error")
    assert at.text_area(key="p_att_text").value  # the sentence is still there


def test_page_model_without_attentions(app, minilm, monkeypatch):
    """The page explains (does not crash) when a model returns no attention weights."""
    import dataclasses

    import components.cache

    fake = dataclasses.replace(minilm, model=NoAttentions(minilm.model))
    monkeypatch.setattr(components.cache, "get_model", lambda key: fake)
    at = _open(app)
    assert not at.exception
    errors = _texts(at, "error")
    assert "returned no attention weights" in errors and "eager" in errors
    assert not at.get("plotly_chart")
    assert at.text_area(key="p_att_text").value


def test_page_coverage_of_emoji_text(app):
    at = _open(app)
    at.selectbox(key="p_att_model").set_value("all-minilm-l6-v2").run()
    at.text_area(key="p_att_text").set_value("😡😡").run()
    assert not at.exception, at.exception
    assert "Not meaningful: only 0% of the characters are known tokens (0/2" in _texts(at, "warning")
    at.selectbox(key="p_att_model").set_value("smollm2-135m-instruct").run()
    assert not at.exception, at.exception
    assert "2 of them only as UTF-8 byte fragments" in _texts(at, "caption")


def test_merged_characters_keep_rows_stochastic_on_real_chinese(smollm2):
    """SmolLM2 splits each of 今天 into byte pieces; merged, keys are summed and queries
    averaged over a character's pieces, so rows still sum to 1 (Clark et al. 2019)."""
    from components.attention import merge_pieces
    from components.tokens import group_spans, token_chips

    result = get_attention(smollm2, "今天天气很好", None, max_tokens=64, keep_hidden_states=False)
    spans = group_spans(result.pieces)
    chips = token_chips(result.pieces)
    assert len(spans) < result.seq_len and "今" in [c.label for c in chips]
    merged = merge_pieces(result.attentions, spans)  # (layers, heads, chars, chars)
    assert merged.shape[-2:] == (len(spans), len(spans))
    assert np.abs(merged.sum(-1) - 1).max() < 1e-5
    g = [c.label for c in chips].index("今")
    a, b = spans[g]
    layer, head = 3, 2
    m = result.attentions[layer, head].astype(np.float64)
    # by hand: column = sum over the pieces of 今, row = mean over them
    assert merged[layer, head, :, g] == pytest.approx(
        [m[sa:sb, a:b].sum(axis=1).mean() for sa, sb in spans], abs=1e-9)
    assert merged[layer, head, g] == pytest.approx(
        [m[a:b, sa:sb].sum(axis=1).mean() for sa, sb in spans], abs=1e-9)
    with pytest.raises(ValueError):
        merge_pieces(m, [(0, 2), (3, result.seq_len)])  # a gap
