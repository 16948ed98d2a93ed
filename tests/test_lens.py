"""Logit lens and head ablation on real weights (SmolLM2) and a tiny random GPT-2."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from components.ablation import MAX_NEW_TOKENS, ablate_heads, out_projection, scan_heads
from components.lens import LensError, encode, logit_lens

PROMPT = "The capital of France is"


def _model_logits(loaded, ids) -> torch.Tensor:
    with torch.inference_mode():
        return loaded.model(input_ids=torch.tensor([list(ids)])).logits[0].float()


def _hidden_states(loaded, ids):
    with torch.inference_mode():
        return loaded.model(input_ids=torch.tensor([list(ids)]), output_hidden_states=True).hidden_states


@pytest.fixture(scope="module")
def smol_lens(smollm2):
    return logit_lens(smollm2, PROMPT, keep_logits=(-1, 10))


@pytest.fixture(scope="module")
def tiny_gpt2(tiny_gpt2_dir):
    """The tiny GPT-2 loaded as a local directory (the loader's own path), no env left set."""
    from components.catalog import get_spec
    from components.loading import load_model

    mp = pytest.MonkeyPatch()
    mp.setenv(get_spec("gpt2").local_dir_env, str(tiny_gpt2_dir))
    try:
        loaded = load_model(get_spec("gpt2"))
    finally:
        mp.undo()
    return loaded


# --------------------------------------------------------------------------- logit lens
def test_smollm2_last_layer_lens_is_the_models_own_logits(smollm2, smol_lens):
    res = smol_lens
    assert res.num_layers == 30 and res.seq_len == len(encode(smollm2, PROMPT)[0])
    assert res.top_ids.shape == (31, res.seq_len, 5) and res.final_rank.shape == (31, res.seq_len)
    assert res.last_normed_by_model  # HF gives the last hidden state after the final norm
    logits = _model_logits(smollm2, res.input_ids)
    diff = float(np.abs(res.logits[30] - logits.numpy()).max())
    print(f"SmolLM2 last-layer lens vs model logits: max abs diff {diff:.2e}")
    assert diff < 1e-4
    assert res.final_ids.tolist() == logits.argmax(-1).tolist()
    assert (res.final_rank[-1] == 1).all()
    np.testing.assert_allclose(res.top_probs[-1, :, 0], torch.softmax(logits, -1).max(-1).values.numpy(),
                               atol=1e-5)
    # the greedy continuation of the prompt is " Paris", and the lens sees it form late
    assert res.top_labels[-1][-1] == "␣Paris"
    first = res.layer_of_first_top(res.seq_len - 1)
    assert first is not None and 20 <= first <= 30
    assert res.final_rank[0, -1] > 100  # the embeddings alone are far from it


def test_smollm2_middle_layer_by_hand(smollm2, smol_lens):
    """Row 10 = final RMSNorm + lm_head applied by hand to the model's hidden state 10."""
    hs = _hidden_states(smollm2, smol_lens.input_ids)
    model = smollm2.model
    with torch.inference_mode():
        h = hs[10][0].double()
        normed = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + model.config.rms_norm_eps)
        normed = normed * model.model.norm.weight.double()
        by_hand = normed @ model.lm_head.weight.double().T
    diff = float(np.abs(smol_lens.logits[10] - by_hand.numpy()).max())
    assert diff < 1e-3
    p = torch.softmax(by_hand, -1)
    np.testing.assert_array_equal(smol_lens.top_ids[10, :, 0], p.argmax(-1).numpy())
    chosen = torch.tensor(smol_lens.final_ids)
    np.testing.assert_allclose(smol_lens.final_prob[10], p.gather(1, chosen[:, None])[:, 0].numpy(), atol=1e-5)
    ranks = (by_hand > by_hand.gather(1, chosen[:, None])).sum(-1) + 1
    np.testing.assert_array_equal(smol_lens.final_rank[10], ranks.numpy())
    assert np.all(smol_lens.entropy >= 0) and np.all(smol_lens.entropy <= np.log(model.config.vocab_size) + 1e-3)


def test_stacked_rows_equal_one_row_at_a_time(smollm2, smol_lens, monkeypatch):
    """The lens stacks layers into one unembedding call; one layer per call gives the same cells."""
    import components.lens as lens

    per_row = smol_lens.seq_len * smollm2.model.config.vocab_size * 4
    assert lens.LENS_CHUNK_BYTES // per_row >= 2  # the shared result really came from stacked rows
    monkeypatch.setattr(lens, "LENS_CHUNK_BYTES", 1)
    single = logit_lens(smollm2, PROMPT)
    np.testing.assert_array_equal(single.top_ids, smol_lens.top_ids)
    np.testing.assert_array_equal(single.final_rank, smol_lens.final_rank)
    np.testing.assert_allclose(single.top_probs, smol_lens.top_probs, atol=1e-5)
    np.testing.assert_allclose(single.entropy, smol_lens.entropy, atol=1e-4)


def test_tiny_gpt2_lens(tiny_gpt2):
    res = logit_lens(tiny_gpt2, "The weather today is lovely. 今天", keep_logits=(0, -1))
    assert res.architecture == "gpt2" and res.num_layers == 2 and res.last_normed_by_model
    logits = _model_logits(tiny_gpt2, res.input_ids)
    diff = float(np.abs(res.logits[2] - logits.numpy()).max())
    print(f"tiny GPT-2 last-layer lens vs model logits: max abs diff {diff:.2e}")
    assert diff < 1e-5
    hs = _hidden_states(tiny_gpt2, res.input_ids)
    model = tiny_gpt2.model
    with torch.inference_mode():
        by_hand = model.transformer.ln_f(hs[0][0]) @ model.transformer.wte.weight.T
        twice = model.transformer.ln_f(hs[2][0]) @ model.transformer.wte.weight.T
    assert float(np.abs(res.logits[0] - by_hand.numpy()).max()) < 1e-5
    # norming the last hidden state again would NOT give the model's logits
    assert float((twice - logits).abs().max()) > 1e-3


def test_lens_refuses_encoders_and_empty_text(minilm, smollm2):
    with pytest.raises(LensError) as err:
        logit_lens(minilm, "hello")
    assert err.value.code == "not_causal" and err.value.values["name"]
    with pytest.raises(LensError) as err:
        logit_lens(smollm2, "  \n")
    assert err.value.code == "empty"


def test_lens_cap(smollm2):
    res = logit_lens(smollm2, "word " * 300, max_tokens=16)
    assert res.seq_len == 16 and res.truncated and res.n_tokens_full >= 300


# --------------------------------------------------------------------------- ablation
def _manual_ablated_logits(loaded, ids, layer, heads, mean: bool = False) -> torch.Tensor:
    """Independent check: our own hook zeroing (or mean-filling) the heads' slices of the
    projection input, on the full causal-LM forward."""
    cfg = loaded.model.config
    d = cfg.hidden_size // cfg.num_attention_heads
    proj = out_projection(loaded.model, layer)
    seen = {}

    def grab(_m, args):
        seen["x"] = args[0].detach().clone()

    handle = proj.register_forward_pre_hook(grab)
    try:
        _model_logits(loaded, ids)
    finally:
        handle.remove()
    x0 = seen["x"][0]

    def edit(_m, args):
        x = args[0].clone()
        for h in heads:
            sl = slice(h * d, (h + 1) * d)
            x[:, :, sl] = x0[:, sl].mean(0) if mean else 0.0
        return (x,)

    handle = proj.register_forward_pre_hook(edit)
    try:
        return _model_logits(loaded, ids)[-1]
    finally:
        handle.remove()


def test_ablating_nothing_reproduces_the_intact_logits(smollm2):
    ids, _ = encode(smollm2, PROMPT)
    res = ablate_heads(smollm2, ids, [])
    assert np.array_equal(res.intact_logits, res.ablated_logits)
    assert res.kl == 0.0 and not res.top_changed
    diff = float(np.abs(res.intact_logits - _model_logits(smollm2, ids)[-1].numpy()).max())
    print(f"SmolLM2 intact readout vs model logits: max abs diff {diff:.2e}")
    assert diff < 1e-4
    assert res.intact_top[0]["token"] == "␣Paris" and res.intact_top[0]["prob"] == pytest.approx(res.p_intact)


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_ablation_matches_a_manual_hook_and_leaves_the_model_intact(smollm2, mode):
    ids, _ = encode(smollm2, PROMPT)
    before = _model_logits(smollm2, ids)
    res = ablate_heads(smollm2, ids, [(0, 4), (0, 6)], mode=mode, max_new_tokens=3)
    manual = _manual_ablated_logits(smollm2, ids, 0, [4, 6], mean=mode == "mean")
    assert float(np.abs(res.ablated_logits - manual.numpy()).max()) < 1e-4
    assert float(np.abs(res.ablated_logits - res.intact_logits).max()) > 0.1
    assert res.kl > 0.01 and res.p_ablated < res.p_intact
    p, q = torch.softmax(torch.tensor(res.intact_logits).double(), -1), torch.softmax(manual.double(), -1)
    assert res.kl == pytest.approx(float((p * (p.log() - q.log())).sum()), rel=1e-4)
    assert len(res.continuation_intact) == 3 and res.continuation_intact_text.startswith(" Paris")
    # the cached model is unchanged: no hook left, same logits as before
    assert not out_projection(smollm2.model, 0)._forward_pre_hooks
    assert torch.equal(_model_logits(smollm2, ids), before)


def test_whole_layer_and_bad_heads(smollm2):
    ids, _ = encode(smollm2, PROMPT)
    res = ablate_heads(smollm2, ids, [(0, h) for h in range(9)], mode="zero")
    assert res.top_changed and res.kl > 1.0
    assert len(res.heads) == 9
    for bad in ([(30, 0)], [(0, 9)], [(-1, 0)]):
        with pytest.raises(LensError) as err:
            ablate_heads(smollm2, ids, bad)
        assert err.value.code == "bad_head"
    with pytest.raises(LensError) as err:
        ablate_heads(smollm2, ids, [(0, 0)], mode="resample")
    assert err.value.code == "bad_mode"
    assert MAX_NEW_TOKENS >= 3


def test_scan_matches_single_ablations(smollm2):
    ids, _ = encode(smollm2, PROMPT)
    calls = []
    scan = scan_heads(smollm2, ids, [0, 15], mode="zero", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(9, 18), (18, 18)] and not scan.capped
    assert len(scan.rows) == 18 and scan.attention.shape == (2, 9, len(ids))
    np.testing.assert_allclose(scan.attention.sum(-1), 1.0, atol=1e-4)
    for layer, head in ((0, 4), (15, 3)):
        row = next(r for r in scan.rows if (r["layer"], r["head"]) == (layer, head))
        single = ablate_heads(smollm2, ids, [(layer, head)])
        assert row["p_ablated"] == pytest.approx(single.p_ablated, abs=1e-4)
        assert row["kl"] == pytest.approx(single.kl, rel=1e-2, abs=1e-5)
        assert row["attn_first"] == pytest.approx(float(scan.attention[[0, 15].index(layer), head, 0]))
    capped = scan_heads(smollm2, ids, [0, 1, 2], max_heads=10)
    assert capped.capped and capped.layers == [0]


def test_tiny_gpt2_ablation_manual_hook(tiny_gpt2):
    ids, _ = encode(tiny_gpt2, "The weather today is lovely.")
    nothing = ablate_heads(tiny_gpt2, ids, [])
    assert np.array_equal(nothing.intact_logits, nothing.ablated_logits)
    res = ablate_heads(tiny_gpt2, ids, [(1, 0)], mode="mean")
    manual = _manual_ablated_logits(tiny_gpt2, ids, 1, [0], mean=True)
    assert float(np.abs(res.ablated_logits - manual.numpy()).max()) < 1e-5
    assert float(np.abs(res.ablated_logits - res.intact_logits).max()) > 1e-4


# --------------------------------------------------------------------------- the page
def _frame_with(at, column: str):
    """The first dataframe shown with this (English) column."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _open_page(app):
    at = app
    at.run()
    at.switch_page("app_pages/lens.py")
    at.run()
    return at


def test_page_lens_ablation_and_scan(app, smollm2):
    import json

    from components import i18n

    at = _open_page(app)
    at.text_area(key="p_lens_text").input(PROMPT).run()
    assert not at.exception
    ids, _ = encode(smollm2, PROMPT)
    greedy = int(_model_logits(smollm2, ids)[-1].argmax())
    from components.lens import token_label

    expected = token_label(smollm2.tokenizer, greedy)
    summary = _frame_with(at, i18n.translate("en", "lens.position.prediction"))
    assert summary.iloc[0, 1] == expected == "␣Paris"  # the model's own greedy next token
    grid = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert grid["data"][0]["type"] == "heatmap"
    assert grid["data"][0]["text"][-1][-1] == expected  # top row, last position
    captions = " ".join(c.value for c in at.caption)
    assert "nostalgebraist" in captions and "Belrose" in captions
    assert i18n.translate("en", "lens.ablation.none") in " ".join(i.value for i in at.info)

    at.multiselect(key="p_lens_heads").set_value(["4", "6"]).run()
    assert not at.exception
    kl = float(at.metric[0].value)
    direct = ablate_heads(smollm2, ids, [(0, 4), (0, 6)], mode="zero")
    assert kl == pytest.approx(direct.kl, abs=1e-3) and kl > 0.01
    assert at.query_params["heads"]  # the link carries the heads

    at.button(key="lens_scan_run").click().run()
    assert not at.exception
    scan = _frame_with(at, i18n.translate("en", "lens.col.attn_first"))
    assert len(scan) == 9 and sorted(scan[i18n.translate("en", "lens.col.head")]) == list(range(9))


def test_page_encoder_and_empty_text(app):
    from components import i18n

    at = _open_page(app)
    at.selectbox(key="p_lens_model").set_value("all-minilm-l6-v2").run()
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "no next-token head" in infos
    at.text_area(key="p_lens_text").input("  ").run()
    assert not at.exception
    assert i18n.translate("en", "lens.msg.empty") in " ".join(w.value for w in at.warning)


def test_page_hostile_text_shown_literally(app):
    from components.charts import plotly_literal

    hostile = "<b>x</b> %{x} $\\alpha$ **bold** :red[r] 今天"
    at = _open_page(app)
    at.text_area(key="p_lens_text").input(hostile).run()
    assert not at.exception
    assert at.text_area(key="p_lens_text").value == hostile
    import json

    grid = json.loads(at.get("plotly_chart")[0].proto.spec)
    ticks = "".join(grid["layout"]["xaxis"]["ticktext"])
    assert "<b>" not in ticks and "%{x}" not in ticks
    assert plotly_literal("<") in ticks and "&#37;{" in ticks


def test_page_in_chinese(app):
    from components import i18n

    app.query_params["lang"] = "zh"
    at = _open_page(app)
    assert not at.exception
    assert at.title[0].value == i18n.translate("zh", "lens.title")
    summary = _frame_with(at, i18n.translate("zh", "lens.position.prediction"))
    assert summary.iloc[0, 1] == "␣Berlin"  # "… The capital of Germany is" → " Berlin"
    assert at.multiselect(key="p_lens_heads").options[0] == i18n.translate("zh", "lens.ablation.head_name", h="0")


def test_settled_row():
    from components.curated_lens import settled_row

    assert settled_row([5, 3, 1, 2, 1, 1]) == 4  # on top from row 4 for good (row 2 was a blip)
    assert settled_row([9, 1, 1, 1]) == 1
    assert settled_row([7, 3]) == 1  # only the model's own output row has it on top


def test_guess_slide_matches_the_live_lens(smollm2):
    """The shipped "guess the next token" slides are the live model's top 5 and settled row."""
    from components import curated
    from components.curated_lens import settled_row, summary

    for example in curated.load("lens"):
        res = logit_lens(smollm2, example["params"]["text"])
        live = summary(smollm2, res)
        shipped = example["result"]
        assert [e["token_id"] for e in shipped["top"]] == [int(i) for i in res.top_ids[-1, -1, :5]]
        assert shipped["settled"] == live["settled"] == settled_row(res.final_rank[:, -1])
        assert res.final_rank[shipped["settled"]:, -1].max() == 1
        if shipped["settled"] > 0:
            assert res.final_rank[shipped["settled"] - 1, -1] > 1
    assert [e["result"]["final"] for e in curated.load("lens")][:2] == ["␣Paris", "␣cold"]


def plotly_y(values):
    from tests.conftest import plotly_array

    return [int(v) for v in plotly_array(values)]


def test_guess_slide_reveals_in_steps_without_a_model(app, monkeypatch):
    from components import cache, curated, i18n
    from components.catalog import get_spec
    from components.loading import ModelUnavailableError

    def _refuse(key):
        raise ModelUnavailableError(get_spec(key), "no model in this test")

    monkeypatch.setattr(cache, "get_model", _refuse)
    app.query_params["present"] = "1"
    at = _open_page(app)
    assert not at.exception
    example = curated.load("lens")[0]
    assert at.code[0].value == example["params"]["text"]
    assert i18n.translate("en", "lens.guess.ask") in " ".join(m.value for m in at.markdown)
    assert not at.dataframe and not at.table and not at.text_area  # answer hidden, no live page
    at.button(key="lens_guess_next_0").click().run()
    assert not at.exception
    top = at.table[0].value  # presenter mode: a static table, scaled with the text
    assert list(top.iloc[:, 0]) == [e["token"] for e in example["result"]["top"]]
    assert top.iloc[0, 1] == pytest.approx(example["result"]["top"][0]["prob"], abs=1e-4)
    at.button(key="lens_guess_next_1").click().run()
    assert not at.exception
    said = i18n.translate("en", "lens.guess.settled", token="␣Paris", row=example["result"]["settled"],
                          layers=example["result"]["layers"])
    assert said in " ".join(m.value for m in at.markdown)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    last = len(example["result"]["tokens"]) - 1
    assert plotly_y(spec["data"][1]["y"]) == example["result"]["final_rank"]
    assert spec["layout"]["title"]["text"] == i18n.translate("en", "lens.chart.position_title", token="␣Paris",
                                                             pos=last)


def test_attention_head_links_to_its_ablation(app, smollm2):
    """From a head on the attention page to the same head switched off on this page: same
    text, model, layer and head, and the effect computed at once."""
    from components import permalink

    text = "The capital of France is"
    app.switch_page("app_pages/attention.py")
    for k, v in permalink.free_encode({"text": text, "model": "smollm2-135m-instruct", "layer": 5,
                                       "head": 3, "run": 1}).items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    app.button(key="att_to_ablation").click().run()
    assert not app.exception
    assert app.text_area(key="p_lens_text").value == text
    assert app.multiselect(key="p_lens_heads").value == ["3"]
    ids, _ = encode(smollm2, text)
    direct = ablate_heads(smollm2, ids, [(5, 3)], mode="zero")
    assert float(app.metric[0].value) == pytest.approx(direct.kl, abs=1e-3)


def test_page_position_slider_ends_at_the_last_token(app, smollm2):
    """Positions run left to right with "last token" at the right end, where the last position
    is; a link naming the last position by number opens as "last token" (offered once)."""
    from components import i18n, permalink

    ids, _ = encode(smollm2, PROMPT)
    app.switch_page("app_pages/lens.py")
    for k, v in permalink.free_encode({"text": PROMPT, "position": len(ids) - 1}).items():
        app.query_params[k] = v
    app.run()
    assert not app.exception
    slider = app.select_slider(key="p_lens_position")
    options = list(slider.options)
    assert len(options) == len(ids)
    assert options[0].startswith("0 · ") and options[-1] == i18n.translate("en", "lens.position.last")
    assert slider.value == -1
    slider.set_value(0).run()
    assert not app.exception
    token = i18n.translate("en", "lens.position.token")
    assert _frame_with(app, token)[token].iloc[0] == "The"
