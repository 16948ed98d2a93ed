"""Concurrent generations on the bundled SmolLM2 share one batched forward pass per decode step,
and each row still gets the text it gets alone."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
import torch

from components.decode_batch import DecodeBatcher, batcher_for
from components.generation import CHAT, COMPLETE, GenerationSettings, GenerationStream, prepare_inputs

WAIT_MS = "1000"  # a step waits for every decoding stream's step (it never waits for one that left)


@contextmanager
def batch_sizes(loaded):
    """Batch size of every decode-step forward pass run by ``loaded``'s batcher meanwhile."""
    batcher, sizes = batcher_for(loaded), []
    batcher.on_batch = sizes.append
    try:
        yield sizes
    finally:
        batcher.on_batch = None


def solo(loaded, prompt, mode, settings):
    """The stream run alone with batching off: the reference each row must reproduce."""
    stream = GenerationStream(loaded, prepare_inputs(loaded, prompt, mode, settings.max_new_tokens), settings,
                              max_seconds=3600, batch_decode=False)
    list(stream)
    return stream


def start(loaded, prompt, mode, settings, results, key, stop_after=None, started=None):
    """Run a batched stream in a thread (as a Streamlit session does); ``stop_after`` tokens
    closes it early, ``started`` is set once it has received 3 tokens."""
    def run():
        stream = GenerationStream(loaded, prepare_inputs(loaded, prompt, mode, settings.max_new_tokens), settings,
                                  max_seconds=3600, batch_decode=True)
        results[key] = stream
        it = iter(stream)
        try:
            for _ in it:
                if started is not None and len(stream.token_ids) >= 3:
                    started.set()
                if stop_after is not None and len(stream.token_ids) >= stop_after:
                    it.close()
                    break
        except BaseException as exc:
            results[key + ":error"] = exc
        finally:
            if started is not None:
                started.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_lone_stream_through_the_batcher_is_bit_identical(smollm2):
    settings = GenerationSettings(max_new_tokens=8, do_sample=False)
    ref = solo(smollm2, "The three primary colours are", COMPLETE, settings)
    with batch_sizes(smollm2) as sizes:
        stream = GenerationStream(smollm2, prepare_inputs(smollm2, "The three primary colours are", COMPLETE, 8),
                                  settings, max_seconds=3600, batch_decode=True)
        list(stream)
    assert stream.token_ids == ref.token_ids
    assert all(torch.equal(a, b) for a, b in zip(stream.step_logits, ref.step_logits, strict=True))
    assert sizes == [1] * (len(stream.token_ids) - 1)  # every decode step went through the batcher


def test_greedy_rows_share_forwards_join_and_leave_and_keep_their_solo_text(smollm2, monkeypatch):
    monkeypatch.setenv("LLM_LAB_BATCH_WAIT_MS", WAIT_MS)
    long = GenerationSettings(max_new_tokens=16, do_sample=False)
    rows = {  # key: (prompt, mode, settings)
        "story": ("Once upon a time, in a small village by the sea, there lived an old fisherman who", COMPLETE, long),
        "code": ("def fibonacci(n):", COMPLETE, long),
        "eos": ("What is 2+2? Answer with just the number.", CHAT, long),  # ends on <|im_end|> after 8 tokens
        "late": ("今天的天气很好，适合出去散步。", COMPLETE, GenerationSettings(max_new_tokens=8, do_sample=False)),
    }
    refs = {k: solo(smollm2, *row) for k, row in rows.items()}
    assert refs["eos"].stats.finish_reason == "eos"
    results: dict = {}
    started = threading.Event()
    with batch_sizes(smollm2) as sizes:
        threads = [start(smollm2, *rows["story"], results, "story", started=started),
                   *(start(smollm2, *rows[k], results, k) for k in ("code", "eos"))]
        started.wait()  # "late" joins while the others are decoding
        threads.append(start(smollm2, *rows["late"], results, "late"))
        for t in threads:
            t.join()
    assert not [k for k in results if k.endswith(":error")]
    for key, ref in refs.items():
        got = results[key]
        assert got.token_ids == ref.token_ids, key
        assert got.text == ref.text and got.stats.finish_reason == ref.stats.finish_reason, key
        gap = max(float((a - b).abs().max()) for a, b in zip(got.step_logits, ref.step_logits, strict=True))
        assert gap < 1e-3, key  # float32 rounding of a different batch shape, not a different computation
    assert sum(sizes) == sum(len(r.token_ids) - 1 for r in refs.values())  # every decode step, once
    assert max(sizes) >= 3 and len(sizes) < sum(sizes)  # the late row decoded in one pass with others
    assert batcher_for(smollm2).active == 0


def test_per_row_settings_seeds_and_early_stop(smollm2, monkeypatch):
    monkeypatch.setenv("LLM_LAB_BATCH_WAIT_MS", WAIT_MS)
    rows = {
        "greedy": ("The three primary colours are", COMPLETE, GenerationSettings(max_new_tokens=12, do_sample=False)),
        "sampled": ("Write a short poem about the sea.", CHAT,
                    GenerationSettings(max_new_tokens=6, do_sample=True, temperature=0.9, top_k=40, top_p=0.9,
                                       seed=7, repetition_penalty=1.3)),
        "stopped": ("Write a short poem about the sea.", CHAT,
                    GenerationSettings(max_new_tokens=12, do_sample=True, temperature=1.2, seed=11)),
    }
    refs = {k: solo(smollm2, *row) for k, row in rows.items()}
    results: dict = {}
    with batch_sizes(smollm2) as sizes:
        threads = [start(smollm2, *rows[k], results, k, stop_after=4 if k == "stopped" else None) for k in rows]
        for t in threads:
            t.join()
    assert not [k for k in results if k.endswith(":error")]
    assert results["greedy"].token_ids == refs["greedy"].token_ids
    assert results["sampled"].token_ids == refs["sampled"].token_ids  # own seed, own generator
    assert results["sampled"].stats.finish_reason == "length" and len(results["sampled"].token_ids) == 6
    stopped = results["stopped"]
    assert 4 <= len(stopped.token_ids) < 12  # closed by its consumer: left at its next step
    assert stopped.token_ids == refs["stopped"].token_ids[:len(stopped.token_ids)]
    assert refs["sampled"].token_ids != refs["stopped"].token_ids[:6]  # the seeds do differ
    assert max(sizes) >= 2
    assert batcher_for(smollm2).active == 0


def _prefill(loaded, prompt):
    ids = prepare_inputs(loaded, prompt, COMPLETE, 4).input_ids
    with torch.inference_mode():
        out = loaded.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True, logits_to_keep=1)
    return out.cache, ids.shape[1], int(out.logits[0, -1].argmax())


def test_an_error_in_one_row_fails_that_row_only(smollm2, monkeypatch):
    monkeypatch.setenv("LLM_LAB_BATCH_WAIT_MS", WAIT_MS)
    batcher = DecodeBatcher()  # a private batcher: the two steps below are its only rows
    good_cache, good_len, good_tok = _prefill(smollm2, "The three primary colours are")
    ref_cache, _, _ = _prefill(smollm2, "The three primary colours are")
    bad_cache, bad_len, _ = _prefill(smollm2, "def fibonacci(n):")
    with torch.inference_mode():
        ref = smollm2.model(input_ids=torch.tensor([[good_tok]]), attention_mask=torch.ones((1, good_len + 1),
                            dtype=torch.long), cache=ref_cache, use_cache=True, logits_to_keep=1).logits[0, -1]
    vocab = smollm2.model.get_input_embeddings().num_embeddings
    out: dict = {}
    sizes: list[int] = []
    batcher.on_batch = sizes.append
    barrier = threading.Barrier(2)

    def row(key, token, cache, length):
        with batcher.decoding():
            barrier.wait()
            try:
                out[key] = batcher.step(smollm2, torch.tensor([[token]]), cache, length)
            except Exception as exc:
                out[key] = exc

    threads = [threading.Thread(target=row, args=("good", good_tok, good_cache, good_len)),
               threading.Thread(target=row, args=("bad", vocab + 5, bad_cache, bad_len))]  # no such token
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sizes == [2]
    assert isinstance(out["bad"], IndexError)
    logits, cache = out["good"]
    assert torch.equal(logits[0], ref.float())  # retried alone: exactly the solo step
    assert cache.get_seq_length() == good_len + 1
    assert batcher.active == 0


@pytest.mark.parametrize("flag,expected", [("0", False), ("off", False), ("1", True), ("", True)])
def test_operator_switch(smollm2, monkeypatch, flag, expected):
    monkeypatch.setenv("LLM_LAB_BATCH_DECODE", flag)
    stream = GenerationStream(smollm2, prepare_inputs(smollm2, "Hi", COMPLETE, 2), GenerationSettings(max_new_tokens=2))
    assert stream.batch_decode is expected
