"""Presenter-mode examples: the shipped results equal what the live bundled models compute now."""
from __future__ import annotations

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
