"""Generation components on the bundled SmolLM2 and a tiny random GPT-2."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from components import i18n
from components.catalog import get_spec
from components.generation import (
    CHAT,
    COMPLETE,
    MAX_NEW_TOKENS,
    MAX_PROMPT_TOKENS,
    EmptyPromptError,
    GenerationSettings,
    GenerationStream,
    NoChatTemplateError,
    complete_characters,
    generate_kwargs,
    generate_text,
    max_generation_seconds,
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


def _en(notice) -> str:
    key, values = notice
    text = i18n.translate("en", key, **values)
    assert text != key, f"missing locale string {key}"
    return text


def test_edge_case_settings_are_normalised(smollm2):
    s, notes = normalize_settings(GenerationSettings(temperature=0.0))
    assert not s.do_sample and "greedy" in _en(notes[0])
    s, notes = normalize_settings(GenerationSettings(temperature=float("nan")))
    assert not s.do_sample and notes[0][0] == "generation.notice.temperature_zero"
    s, notes = normalize_settings(GenerationSettings(top_p=0.0))
    assert not s.do_sample and "Top-p 0" in _en(notes[0])
    prepared = prepare_inputs(smollm2, "Hello", COMPLETE, 1)
    dist = next_token_distribution(smollm2, prepared.input_ids, s)
    assert not torch.isnan(dist.probs["final"]).any() and float(dist.probs["final"].max()) == 1.0
    s, notes = normalize_settings(GenerationSettings(do_sample=False, num_samples=3))
    assert s.num_samples == 1 and "identical" in _en(notes[0]) and "3 samples" in _en(notes[0])
    s, notes = normalize_settings(GenerationSettings(max_new_tokens=0))
    assert s.max_new_tokens == 1 and notes[0][0] == "generation.notice.min_tokens"
    # the per-request cap holds for any caller (links, scripts), not only the slider
    s, notes = normalize_settings(GenerationSettings(max_new_tokens=100_000))
    assert s.max_new_tokens == MAX_NEW_TOKENS == 512
    assert "100000" in _en(notes[0]) and "512" in _en(notes[0])
    s, _ = normalize_settings(GenerationSettings(top_k=-3, top_p=7.0, repetition_penalty=float("inf"),
                                                 no_repeat_ngram_size=-1, num_samples=0))
    assert (s.top_k, s.top_p, s.repetition_penalty, s.no_repeat_ngram_size, s.num_samples) == (0, 1.0, 1.0, 0, 1)


def test_empty_prompt_and_chat_on_base_model(smollm2, tiny_gpt2_dir, as_local_model):
    for bad in ("", "   \n\t "):
        with pytest.raises(EmptyPromptError):
            prepare_inputs(smollm2, bad, COMPLETE, 10)
    as_local_model("gpt2", tiny_gpt2_dir)
    tiny = load_model(get_spec("gpt2"))
    with pytest.raises(NoChatTemplateError, match="chat template"):
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
    assert prepared.notices[0][0] == "generation.notice.context_cut"
    assert f"first {n_prompt - 44} prompt tokens were cut" in _en(prepared.notices[0])
    # the kept tokens are the END of the prompt (left truncation)
    assert prepared.input_ids[0].tolist() == tiny.tokenizer(long_prompt)["input_ids"][-44:]
    stream = generate_text(tiny, prepared, GenerationSettings(max_new_tokens=20, do_sample=False))
    assert stream.stats.prompt_tokens + stream.stats.new_tokens <= 64
    # asking for more new tokens than half the window clamps them, with a notice
    prepared = prepare_inputs(tiny, long_prompt, COMPLETE, 500)
    assert prepared.max_new_tokens == 32 and prepared.prompt_tokens == 32
    assert any("at most 32" in _en(n) for n in prepared.notices)
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


def test_wall_clock_cap_stops_generation_with_reason_time(tiny_gpt2_dir, as_local_model, monkeypatch):
    """Generation stops after the time budget; the tiny value comes from the
    documented env override, so no timing is asserted -- only the reason and the count."""
    as_local_model("gpt2", tiny_gpt2_dir)
    tiny = load_model(get_spec("gpt2"))
    settings = GenerationSettings(max_new_tokens=30, do_sample=False)
    prepared = prepare_inputs(tiny, "The weather today is", COMPLETE, settings.max_new_tokens)
    # without a cap the tiny model fills its 30 tokens (its EOS never wins greedily here)
    full = generate_text(tiny, prepared, settings)
    assert full.stats.finish_reason == "length" and full.stats.new_tokens == 30
    monkeypatch.setenv("LLM_LAB_MAX_GENERATION_SECONDS", "1e-9")
    assert max_generation_seconds() == 1e-9
    capped = generate_text(tiny, prepared, settings)
    assert capped.stats.finish_reason == "time"
    assert 1 <= capped.stats.new_tokens < 30
    assert capped.token_ids == full.token_ids[: capped.stats.new_tokens]  # same text, cut short
    # invalid overrides fall back to the documented default
    for bad in ("abc", "-1", "0", "inf", "nan"):
        monkeypatch.setenv("LLM_LAB_MAX_GENERATION_SECONDS", bad)
        assert max_generation_seconds() == 60.0


def test_100k_character_prompt_is_cut_to_the_cap_without_running_the_model(smollm2, monkeypatch):
    text = ("今天的天气很好 <script>alert(1)</script> \u200b\u202e 🙂 " * 3000)[:100_000] + "THE END"
    calls = []
    monkeypatch.setattr(smollm2.model, "forward", lambda *a, **k: calls.append(1))  # instance attr
    prepared = prepare_inputs(smollm2, text, COMPLETE, 64)
    monkeypatch.undo()
    assert calls == []  # only the tokenizer ran
    all_ids = smollm2.tokenizer(text)["input_ids"]
    assert prepared.prompt_tokens == MAX_PROMPT_TOKENS < len(all_ids)
    assert prepared.input_ids[0].tolist() == all_ids[-MAX_PROMPT_TOKENS:]  # the END is kept
    (notice,) = prepared.notices
    assert notice[0] == "generation.notice.prompt_cap"
    assert notice[1] == {"total": len(all_ids), "cap": MAX_PROMPT_TOKENS, "dropped": len(all_ids) - MAX_PROMPT_TOKENS}
    assert prepared.max_new_tokens == 64


def test_partial_character_candidates_are_labelled_with_their_character(smollm2):
    """A next-token candidate that is only the first byte(s) of a Chinese character shows
    which character the model would complete it to (checked against a fresh forward pass)."""
    prepared = prepare_inputs(smollm2, "今天的天气很好，适合出去散步。", COMPLETE, 4)
    dist = next_token_distribution(smollm2, prepared.input_ids, GenerationSettings(do_sample=False), top_n=12)
    partial = [(int(r.token_id), r.token) for r in dist.table.itertuples() if r.token.startswith("‹")]
    assert partial, "expected byte-token candidates after a Chinese prompt"
    for tid, label in partial:
        assert "→" in label, label
        ids = prepared.input_ids
        seq = [tid]
        for _ in range(3):
            with torch.inference_mode():
                nxt = int(smollm2.model(torch.cat([ids, torch.tensor([seq])], 1)).logits[0, -1].argmax())
            seq.append(nxt)
            text = smollm2.tokenizer.decode(seq)
            if not text.startswith("\ufffd"):
                break
        assert label.split("→")[1] == text[0]
    assert complete_characters(smollm2, prepared.input_ids, []) == {}


def test_first_step_logits_are_the_prompt_logits_so_the_view_needs_no_second_prefill(smollm2):
    """The next-token view reuses ``step_logits[0]`` of a generation: equal to a fresh forward."""
    from components.generation import next_token_logits

    prepared = prepare_inputs(smollm2, "The capital of France is", COMPLETE, 3)
    stream = generate_text(smollm2, prepared, replace(SAMPLING, max_new_tokens=3))
    fresh = next_token_logits(smollm2, prepared.input_ids)
    assert stream.step_logits[0].shape == fresh.shape == (smollm2.model.config.vocab_size,)
    assert float((stream.step_logits[0] - fresh).abs().max()) < 1e-5
    # and it is the logits of the prompt, not of a later step
    assert float((stream.step_logits[1] - fresh).abs().max()) > 1.0


def test_seed_gives_the_same_text_while_another_session_generates(smollm2):
    """Sampling uses the stream's own torch.Generator: a concurrent generation in another
    thread (also sampling, also drawing random numbers) does not change the text."""
    import threading

    prepared = prepare_inputs(smollm2, "Write a short poem about the sea.", CHAT, SAMPLING.max_new_tokens)
    alone = generate_text(smollm2, prepared, SAMPLING)
    other_prompt = prepare_inputs(smollm2, "List three fruits.", CHAT, 24)
    other: dict = {}
    started = threading.Event()

    def other_session():
        stream = GenerationStream(smollm2, other_prompt, replace(SAMPLING, max_new_tokens=24, seed=123))
        for _ in stream:
            started.set()
            torch.rand(8)  # the global RNG is used meanwhile, too
        other["stream"] = stream

    worker = threading.Thread(target=other_session)
    worker.start()
    started.wait(timeout=300)
    together = generate_text(smollm2, prepared, SAMPLING)
    worker.join()
    assert together.text == alone.text and together.token_ids == alone.token_ids and alone.text
    assert other["stream"].stats.new_tokens > 0


def test_tokenizer_work_does_not_wait_for_the_model_lock(smollm2):
    """Tokenising the prompt and the token table use ``tokenizer_lock`` only: they complete
    while another thread holds the model's lock (as during another session's forward pass)."""
    import threading

    from components.generation import partial_character_ids, prompt_token_records

    held, release = threading.Event(), threading.Event()

    def hold_model_lock():
        with smollm2.lock:
            held.set()
            release.wait(timeout=600)

    holder = threading.Thread(target=hold_model_lock)
    holder.start()
    held.wait(timeout=60)
    result: dict = {}

    def tokenizer_work():
        prepared = prepare_inputs(smollm2, "Write a short poem about the sea.", CHAT, 8)
        result["tokens"] = prompt_token_records(smollm2, prepared.input_ids)
        result["partial"] = partial_character_ids(smollm2, prepared.input_ids[0].tolist())

    worker = threading.Thread(target=tokenizer_work)
    worker.start()
    worker.join(timeout=300)
    finished = not worker.is_alive()
    release.set()
    holder.join()
    worker.join()
    assert finished, "tokenizer-only work waited for the model lock"
    assert len(result["tokens"]) > 5 and result["partial"] == []
