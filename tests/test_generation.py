"""Generation components on the bundled SmolLM2 and a tiny random GPT-2."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from components.catalog import get_spec
from components.generation import (
    CHAT,
    COMPLETE,
    EmptyPromptError,
    GenerationSettings,
    GenerationStream,
    generate_kwargs,
    generate_text,
    next_token_distribution,
    normalize_settings,
    prepare_inputs,
)
from components.loading import load_model
from components.tokens import token_labels

GREEDY = GenerationSettings(max_new_tokens=24, do_sample=False)
SAMPLING = GenerationSettings(max_new_tokens=16, do_sample=True, temperature=0.9, top_k=40, top_p=0.9, seed=7)


@pytest.mark.parametrize("prompt,mode", [("The three primary colours are", COMPLETE),
                                         ("今天的天气很好，适合出去散步。", CHAT)])
def test_streamed_greedy_text_equals_generate(smollm2, prompt, mode):
    prepared = prepare_inputs(smollm2, prompt, mode, GREEDY.max_new_tokens)
    stream = GenerationStream(smollm2, prepared, GREEDY)
    deltas = list(stream)
    with torch.inference_mode():
        out = smollm2.model.generate(input_ids=prepared.input_ids, attention_mask=prepared.attention_mask,
                                     **generate_kwargs(smollm2, GREEDY, prepared.max_new_tokens))
    new_ids = out[0, prepared.prompt_tokens:].tolist()
    assert stream.token_ids == new_ids
    # a character cut by max_new_tokens is dropped, never shown as U+FFFD
    assert "".join(deltas) == stream.text == smollm2.tokenizer.decode(new_ids, skip_special_tokens=True).rstrip("\ufffd")
    assert all("\ufffd" not in d for d in deltas)
    s = stream.stats
    assert s.new_tokens == len(new_ids) and s.prompt_tokens == prepared.prompt_tokens
    assert 0 < s.ttft_s <= s.total_s and s.tokens_per_s > 0
    assert s.finish_reason in ("eos", "length")
    if s.finish_reason == "length":
        assert s.new_tokens == GREEDY.max_new_tokens


def test_same_seed_same_text_different_seed_differs(smollm2):
    prepared = prepare_inputs(smollm2, "Write a short poem about the sea.", CHAT, SAMPLING.max_new_tokens)
    a = generate_text(smollm2, prepared, SAMPLING).text
    b = generate_text(smollm2, prepared, SAMPLING).text
    others = {generate_text(smollm2, prepared, replace(SAMPLING, seed=s)).text for s in (1, 2, 3)}
    assert a == b and a
    assert others - {a}, "three other seeds all reproduced seed 7's text"
    # sample i of a multi-sample run is seeded seed + i
    assert generate_text(smollm2, prepared, SAMPLING, sample_index=1).text == \
        generate_text(smollm2, prepared, replace(SAMPLING, seed=8)).text


def test_max_new_tokens_is_honoured(smollm2):
    settings = GenerationSettings(max_new_tokens=5, do_sample=False)
    prepared = prepare_inputs(smollm2, "Once upon a time", COMPLETE, settings.max_new_tokens)
    stream = generate_text(smollm2, prepared, settings)
    assert stream.stats.new_tokens == 5 and stream.stats.finish_reason == "length"


def test_next_token_probabilities_equal_softmax_of_logits(smollm2):
    prepared = prepare_inputs(smollm2, "The capital of France is", COMPLETE, 1)
    settings = GenerationSettings(temperature=0.7, top_k=20, top_p=0.8)
    dist = next_token_distribution(smollm2, prepared.input_ids, settings, top_n=10)
    with torch.inference_mode():
        logits = smollm2.model(prepared.input_ids).logits[0, -1]
    expected = torch.softmax(logits, -1)
    assert torch.allclose(dist.probs["raw"], expected, atol=1e-7)
    for stage in ("raw", "temperature", "top_k", "top_p", "final"):
        assert math.isclose(float(dist.probs[stage].sum()), 1.0, abs_tol=1e-5), stage
    row = dist.table.iloc[0]
    assert row["token"].strip("␣") == "Paris"
    assert math.isclose(row["p_raw"], float(expected[row["token_id"]]), rel_tol=1e-6)
    assert math.isclose(row["p_temperature"], float(torch.softmax(logits / 0.7, -1)[row["token_id"]]), rel_tol=1e-5)
    assert dist.kept["raw"] == logits.numel() and dist.kept["top_k"] == 20
    assert 1 <= dist.kept["top_p"] <= 20
    # top-p keeps the smallest prefix whose mass reaches p (min 1 token)
    p_sorted = torch.sort(dist.probs["top_k"], descending=True).values
    assert float(p_sorted[: dist.kept["top_p"] - 1].sum()) < 0.8 + 1e-6
    assert dist.entropy_bits["final"] < dist.entropy_bits["raw"]


def test_edge_case_settings_are_normalised(smollm2):
    s, notes = normalize_settings(GenerationSettings(temperature=0.0))
    assert not s.do_sample and "greedy" in notes[0]
    s, notes = normalize_settings(GenerationSettings(top_p=0.0))
    assert not s.do_sample and "Top-p 0" in notes[0]
    prepared = prepare_inputs(smollm2, "Hello", COMPLETE, 1)
    dist = next_token_distribution(smollm2, prepared.input_ids, s)
    assert not torch.isnan(dist.probs["final"]).any() and float(dist.probs["final"].max()) == 1.0
    s, notes = normalize_settings(GenerationSettings(do_sample=False, num_samples=3))
    assert s.num_samples == 1 and "identical" in notes[0]
    s, notes = normalize_settings(GenerationSettings(max_new_tokens=0))
    assert s.max_new_tokens == 1


def test_empty_prompt_and_chat_on_base_model(smollm2, tiny_gpt2_dir, as_local_model):
    for bad in ("", "   \n\t "):
        with pytest.raises(EmptyPromptError):
            prepare_inputs(smollm2, bad, COMPLETE, 10)
    as_local_model("gpt2", tiny_gpt2_dir)
    tiny = load_model(get_spec("gpt2"))
    with pytest.raises(ValueError, match="chat template"):
        prepare_inputs(tiny, "hi", CHAT, 10)


def test_context_clamp_on_tiny_gpt2(tiny_gpt2_dir, as_local_model):
    as_local_model("gpt2", tiny_gpt2_dir)
    tiny = load_model(get_spec("gpt2"))  # n_positions = 64
    long_prompt = "The weather today is lovely and we go for a walk in the park. " * 10
    n_prompt = len(tiny.tokenizer(long_prompt)["input_ids"])
    assert n_prompt > 64
    prepared = prepare_inputs(tiny, long_prompt, COMPLETE, 20)
    assert prepared.max_new_tokens == 20
    assert prepared.prompt_tokens == 64 - 20 and prepared.dropped_tokens == n_prompt - 44
    assert "first" in prepared.notices[0] and "cut" in prepared.notices[0]
    # the kept tokens are the END of the prompt (left truncation)
    assert prepared.input_ids[0].tolist() == tiny.tokenizer(long_prompt)["input_ids"][-44:]
    stream = generate_text(tiny, prepared, GenerationSettings(max_new_tokens=20, do_sample=False))
    assert stream.stats.prompt_tokens + stream.stats.new_tokens <= 64
    # asking for more new tokens than half the window clamps them, with a notice
    prepared = prepare_inputs(tiny, long_prompt, COMPLETE, 500)
    assert prepared.max_new_tokens == 32 and prepared.prompt_tokens == 32
    assert any("at most 32" in n for n in prepared.notices)
    # byte-level BPE labels on the tiny tokenizer are readable too
    labels = token_labels(tiny.tokenizer, tiny.tokenizer("今天的天气")["input_ids"])
    assert "".join(labels).count("天") >= 2 and not any("Ġ" in x for x in labels)


def test_step_probabilities_match_a_fresh_forward_pass(smollm2):
    settings = GenerationSettings(max_new_tokens=4, do_sample=False)
    prepared = prepare_inputs(smollm2, "The capital of France is", COMPLETE, 4)
    stream = generate_text(smollm2, prepared, settings)
    steps = stream.steps()
    assert len(steps) == stream.stats.new_tokens == len(stream.token_ids)
    ids = prepared.input_ids
    for step, tid in zip(steps, stream.token_ids):
        with torch.inference_mode():
            probs = torch.softmax(smollm2.model(ids).logits[0, -1], -1)
        assert step["rank"] == 1 and step["token_id"] == tid  # greedy picks the top token
        assert math.isclose(step["p"], float(probs[tid]), rel_tol=1e-4)
        assert all(p <= step["p"] + 1e-9 for _, p in step["alternatives"])
        ids = torch.cat([ids, torch.tensor([[tid]])], dim=1)
