"""The typed records that cross layers (compute -> page -> curated JSON) have exactly the keys
their TypedDict declares, on records computed live from the bundled models and on the shipped
curated examples."""
from __future__ import annotations

import json

import pytest

from components import curated
from components import sentiment as S
from components.classification import records as CR
from components.classification import zero_shot_similarity
from components.generation import COMPLETE, GenerationSettings, generate_text, prepare_inputs
from components.generation import records as GR


def _keys_fit(record: dict, td) -> None:
    keys = set(record)
    missing = td.__required_keys__ - keys
    unknown = keys - td.__required_keys__ - td.__optional_keys__
    assert not missing and not unknown, f"{td.__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}"


def test_optional_keys_are_optional():
    """Postponed annotations hide ``NotRequired`` on Python 3.11: the optional keys live in
    ``total=False`` base classes, and must be read as optional."""
    assert curated.CuratedExample.__optional_keys__ == {"why", "kind"}
    assert GR.SampleStats.__optional_keys__ == {"ttft_s", "tokens_per_s", "total_s"}
    assert S.SentimentRecord.__optional_keys__ == {"seconds", "attribution_seconds"}


@pytest.mark.parametrize("timing", [True, False])
def test_sample_and_token_records_match_their_types(smollm2, timing):
    prepared = prepare_inputs(smollm2, "Once upon a time 🌊", COMPLETE, 4)
    stream = generate_text(smollm2, prepared, GenerationSettings(max_new_tokens=4, do_sample=False))
    record = GR.sample_record(stream, timing=timing)
    _keys_fit(record, GR.SampleRecord)
    _keys_fit(record["stats"], GR.SampleStats)
    assert ("ttft_s" in record["stats"]) is timing and record["stats"]["new_tokens"] == len(record["steps"]) == 4
    for step in record["steps"]:
        _keys_fit(step, GR.StepRecord)
    chips = GR.prompt_token_records(smollm2, prepared.input_ids)
    for chip in chips:
        _keys_fit(chip, GR.PromptTokenRecord)
    assert sum(c["pieces"] for c in chips) == prepared.input_ids.shape[-1]  # 🌊's byte pieces are one chip
    json.dumps(record)  # JSON-able as it is


def test_sentiment_and_zero_shot_records_match_their_types(minilm):
    for timings in (True, False):
        _keys_fit(S.result_dict(S.vader_sentiment("Great phone, awful battery.", True), timings), S.SentimentRecord)
    payload = CR.zero_shot_payload(zero_shot_similarity(minilm, ["The match ended in a draw."], ["sports", "food"]))
    _keys_fit(payload, CR.ZeroShotPayload)
    assert CR.zero_shot_from_payload(json.loads(json.dumps(payload))).labels == ["sports", "food"]


@pytest.mark.parametrize("page", curated.PAGES)
def test_shipped_curated_examples_match_their_type(page):
    raw = json.loads(curated.path_for(page).read_text(encoding="utf-8"))
    assert raw and len(curated.load(page)) == len(raw)  # none dropped as malformed
    for example in raw:
        _keys_fit(example, curated.CuratedExample)
