"""Presenter-mode examples: the shipped results equal what the live bundled models compute now."""
from __future__ import annotations

import json

import pytest

from components import curated


@pytest.fixture(scope="module")
def get_model(smollm2, minilm):
    models = {smollm2.spec.key: smollm2, minilm.spec.key: minilm}
    return lambda key: models[key]


@pytest.mark.parametrize("page", curated.PAGES)
def test_shipped_examples_match_live_models(page, get_model):
    stored = curated.load(page)
    assert 2 <= len(stored) <= 6, f"curated/{page}.json should hold a few examples"
    for ex in stored:
        assert set(ex) >= {"id", "title", "params", "result"}
        assert ex["title"].get("en") and ex["title"].get("zh")
    fresh = curated.to_jsonable(curated.builder(page)(get_model))
    assert curated.differences(stored, fresh) == [], (
        f"curated/{page}.json is stale: run `python -m scripts.build_curated {page}`")


def test_differences_finds_changes():
    assert curated.differences({"a": [1.0, "x"]}, {"a": [1.0005, "x"]}) == []
    assert curated.differences({"a": [1.0, "x"]}, {"a": [1.1, "x"]}) == ["$.a[0]: 1.0 != 1.1"]
    assert curated.differences({"a": "x"}, {"a": "y", "b": 1}) != []


@pytest.mark.parametrize("page", curated.PAGES)
def test_every_shipped_example_has_the_stored_shape(page):
    raw = json.loads(curated.path_for(page).read_text(encoding="utf-8"))
    assert [e.get("id") for e in raw if curated.check_example(e) is None] == []
    assert len(curated.load(page)) == len(raw)


def test_load_drops_malformed_examples(tmp_path, monkeypatch):
    good = {"id": "a", "title": {"en": "A", "zh": "甲"}, "params": {"text": "hi"}, "result": {"x": 1}}
    bad = [
        {**good, "id": ""},
        {**good, "title": {"en": "A"}},                # no Chinese title
        {**good, "params": ["text", "hi"]},
        {k: v for k, v in good.items() if k != "result"},
        {**good, "why": {"en": "because", "zh": 3}},
        "not an example",
    ]
    monkeypatch.setattr(curated, "CURATED_DIR", tmp_path)
    (tmp_path / "sentiment.json").write_text(json.dumps([good, *bad, {**good, "id": "b", "why": good["title"]}]),
                                             encoding="utf-8")
    assert [e["id"] for e in curated.load("sentiment")] == ["a", "b"]
