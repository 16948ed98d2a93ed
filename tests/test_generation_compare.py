"""Decoding settings side by side, live meters, and one chip per character (byte pieces
merged) on the bundled SmolLM2-135M-Instruct."""
from __future__ import annotations

import math

import pytest

from components.generation import (
    COMPARE_DEFAULTS,
    COMPLETE,
    GenerationSettings,
    column_settings,
    compare_settings,
    distinct_n,
    generate_text,
    merge_steps,
    prepare_inputs,
    prompt_token_records,
    stream_rates,
)
from components.tokens import readable_tokens, token_chips

PROMPT = "Once upon a time, in a small village by the sea,"
CHINESE = "今天的天气很好"
EMOJI = "ok🦙!"  # 🦙: three byte pieces in SmolLM2's vocabulary (🙂 is one token)


@pytest.fixture(scope="module")
def columns(smollm2):
    """The four default columns (greedy, T 0.7, T 1.3, top-p 0.9), 12 new tokens, seed 7."""
    prepared = prepare_inputs(smollm2, PROMPT, COMPLETE, 12)
    settings, notices = column_settings(GenerationSettings(max_new_tokens=12, seed=7), list(COMPARE_DEFAULTS))
    assert notices == []
    return prepared, settings, compare_settings(smollm2, prepared, settings)


def test_greedy_column_equals_the_single_view_greedy_text(smollm2, columns):
    prepared, settings, records = columns
    single = generate_text(smollm2, prepared, GenerationSettings(max_new_tokens=12, do_sample=False))
    assert records[0]["settings"]["do_sample"] is False
    assert records[0]["text"] == single.text and single.text
    assert [s["token_id"] for s in records[0]["steps"]] == single.token_ids


def test_same_seed_gives_the_same_columns_twice(smollm2, columns):
    prepared, settings, records = columns
    again = compare_settings(smollm2, prepared, settings[1:3])  # other column set: same texts
    assert [r["text"] for r in again] == [r["text"] for r in records[1:3]]
    assert all(r["seed"] == 7 for r in records)
    # the sampled columns really use their own settings: not all four texts are equal
    assert len({r["text"] for r in records}) > 1


def test_mean_logprob_and_distinct_n_match_a_hand_computation(columns):
    _, _, records = columns
    for rec in records:
        steps = rec["steps"]
        assert rec["stats"]["new_tokens"] == len(steps) > 0
        by_hand = sum(math.log(s["p"]) for s in steps) / len(steps)
        assert rec["mean_logprob"] == pytest.approx(by_hand, abs=1e-4)
        ids = [s["token_id"] for s in steps]
        bigrams = list(zip(ids, ids[1:]))
        assert rec["distinct_1"] == pytest.approx(len(set(ids)) / len(ids))
        assert rec["distinct_2"] == pytest.approx(len(set(bigrams)) / len(bigrams))
    # greedy is the most likely path step by step: its mean log-prob beats temperature 1.3's
    assert records[0]["mean_logprob"] > records[2]["mean_logprob"]


def test_distinct_n_edge_cases():
    assert distinct_n([5, 5, 5, 5], 1) == 0.25
    assert distinct_n([1, 2, 1, 2], 2) == pytest.approx(2 / 3)
    assert distinct_n([1], 2) is None
    with pytest.raises(ValueError):
        distinct_n([1, 2], 0)


def test_live_meters_from_timestamps():
    assert stream_rates(10.0, None, None, 0) == {"ttft_s": None, "tokens_per_s": None, "total_s": None}
    one = stream_rates(10.0, 10.5, 10.5, 1)
    assert one["ttft_s"] == pytest.approx(0.5) and one["tokens_per_s"] == pytest.approx(2.0)
    five = stream_rates(10.0, 10.5, 12.5, 5)  # 4 tokens in the 2 s after the first
    assert five["tokens_per_s"] == pytest.approx(2.0) and five["total_s"] == pytest.approx(2.5)


def test_live_meters_of_a_real_stream_equal_its_final_stats(smollm2):
    prepared = prepare_inputs(smollm2, PROMPT, COMPLETE, 6)
    stream = generate_text(smollm2, prepared, GenerationSettings(max_new_tokens=6, do_sample=False))
    live = stream.live_rates()
    assert live["ttft_s"] == pytest.approx(stream.stats.ttft_s)
    assert live["tokens_per_s"] == pytest.approx(stream.stats.tokens_per_s)


def test_chinese_and_emoji_chips_are_one_per_character(smollm2):
    tok = smollm2.tokenizer
    ids = tok(CHINESE + EMOJI)["input_ids"]
    pieces = readable_tokens(tok, ids)
    chips = token_chips(pieces)
    assert sum(c.size for c in chips) == len(ids)
    labels = [c.label for c in chips]
    assert "".join(labels).replace("␣", " ") == CHINESE + EMOJI
    for c in chips:  # no raw byte-level string, no "(1/2)" position, no U+FFFD in a chip
        assert "(" not in c.label and "\ufffd" not in c.label and "‹" not in c.label
        assert c.size == len(tok.convert_ids_to_tokens(list(c.token_ids)))
    # 今 is two byte pieces in SmolLM2's vocabulary: one chip, hover count 2
    jin = next(c for c in chips if "今" in c.label)
    assert jin.size == len(tok("今", add_special_tokens=False)["input_ids"]) == 2
    llama = next(c for c in chips if c.label == "🦙")
    assert llama.size == len(tok("🦙", add_special_tokens=False)["input_ids"]) == 3
    assert llama.raw == "ðŁ ¦ Ļ"  # the raw pieces stay available for hover
    # the prompt token records (page table) carry the same merge
    records = prompt_token_records(smollm2, __import__("torch").tensor([ids]))
    assert [r["token"] for r in records] == labels and [r["pieces"] for r in records] == [c.size for c in chips]


def test_merged_chip_probability_is_the_product_of_its_pieces(smollm2):
    prepared = prepare_inputs(smollm2, "今天的天气很好，适合出去", COMPLETE, 10)
    stream = generate_text(smollm2, prepared, GenerationSettings(max_new_tokens=10, do_sample=False))
    steps = stream.steps()
    merged = merge_steps(steps)
    assert sum(m["pieces"] for m in merged) == len(steps)
    multi = [m for m in merged if m["pieces"] > 1]
    assert multi, "the greedy Chinese continuation should contain a split character"
    i = 0
    for m in merged:
        part = steps[i: i + m["pieces"]]
        assert m["p"] == pytest.approx(math.prod(s["p"] for s in part), rel=1e-9)
        assert math.log(m["p"]) == pytest.approx(sum(s["logp"] for s in part), abs=1e-4)
        assert "\ufffd" not in m["token"] and "(" not in m["token"]
        assert m["pieces"] == 1 or "‹" not in m["token"]
        i += m["pieces"]
    labels = [m["token"] for m in merged]
    if labels[-1].startswith("‹"):  # stopped at max_new_tokens inside a character: its bytes stay apart
        labels = labels[:-1]
    assert "".join(labels).replace("␣", " ").replace("↵", "\n") == stream.text


# ------------------------------------------------------------------ the page's compare view (AppTest)
def test_compare_view_link_generates_columns_with_csv_and_chips(app, smollm2):
    """A link with the compare view, two columns (greedy, temperature 1.3) and run=1: two
    texts, the greedy one equal to the single view's greedy text, metrics computed from the
    columns' own tokens, the table for CSV export, and Chinese prompt chips merged."""
    from components import i18n
    from tests.test_generation_sharing import _fresh_app, _open

    prompt = "今天的天气很好，"
    at = _open(_fresh_app(), prompt=prompt, view="compare", cols="2", max_new="6", seed="3",
               c2_sample="1", c2_temp="1.3", c2_top_k="0", c2_top_p="1.0", run="1")
    assert not at.exception
    assert at.radio(key="p_gen_view").value == "compare"
    texts = [c.value for c in at.main.code]
    prepared = prepare_inputs(smollm2, prompt, COMPLETE, 6)
    greedy = generate_text(smollm2, prepared, GenerationSettings(max_new_tokens=6, do_sample=False)).text
    assert len(texts) == 2 and texts[0] == greedy and texts[1]  # one text per column
    metrics = [m.label for m in at.metric]
    en = i18n.translate("en", "generation.compare.col.distinct_2")
    assert metrics.count(en) == 2
    table = at.dataframe[0].value
    assert len(table) == 2 and list(table.iloc[:, 3])[0] == greedy
    chips = " ".join(m.value for m in at.markdown)
    assert "今 (1/2)" not in chips and "今" in chips and "ä»" in chips  # raw only in the hover title
    titles = [m.value for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    assert len(titles) == 2 and len(set(titles)) == 2, titles  # one title per column, not the streaming ones too


def test_presenter_shows_the_side_by_side_example_without_any_model(app, monkeypatch):
    from components import cache, curated
    from components.catalog import get_spec
    from components.loading import ModelUnavailableError
    from tests.test_generation_sharing import _open

    def _refuse(key):
        raise ModelUnavailableError(get_spec(key), "no model in this test")

    monkeypatch.setattr(cache, "get_model", _refuse)
    examples = curated.load("generation")
    index = next(i for i, ex in enumerate(examples) if ex["result"].get("view") == "compare")
    at = _open(app, present="1")
    for _ in range(index):
        at.button(key="present_next_generation").click()
        at.run()
    assert not at.exception
    columns = examples[index]["result"]["columns"]
    codes = [c.value for c in at.main.code]
    assert codes[0] == examples[index]["result"]["prompt"]
    assert codes[1:1 + len(columns)] == [c["text"] for c in columns]
    assert [*at.dataframe, *at.table][0].value.shape[0] == len(columns)


def test_rotated_next_token_labels_get_room_on_the_left(smollm2):
    """The next-token chart's first rotated labels hang left of the plot: the left margin
    covers their horizontal extent (a partial-character label such as ``‹E4 BD›→你`` was cut)."""
    import math as m

    from components.charts import TICK_ANGLE, next_token_figure
    from components.generation import distribution_record, next_token_distribution

    prepared = prepare_inputs(smollm2, "今天的天气很好，适合出去散步。我们", COMPLETE, 1)
    s = GenerationSettings(do_sample=False)
    rec = distribution_record(next_token_distribution(smollm2, prepared.input_ids, s, top_n=12), s)
    import pandas as pd

    table = pd.DataFrame(rec["table"])
    partial = [lab for lab in table["token"] if lab.startswith("‹")]
    assert partial and all("→" in lab for lab in partial)  # completed to their character
    # put the longest label first, where the cut happened
    order = sorted(range(len(table)), key=lambda i: -len(table["token"][i]))
    fig = next_token_figure(table.iloc[order].reset_index(drop=True), rec["stages"])
    first = table["token"][order[0]]
    assert fig.layout.xaxis.automargin is True
    assert fig.layout.margin.l >= 8 * len(first) * m.cos(m.radians(TICK_ANGLE))


def test_compare_report_escapes_and_holds_every_column(columns):
    from components import i18n
    from components.generation_wording import compare_report_sections
    from components.report import build_report
    from components.ui import probability_chips_html

    def en(key, **values):
        return i18n.translate("en", key, **values)

    prepared, settings, records = columns
    html = build_report("r", compare_report_sections(
        "en", records=records, prompt="<script>x</script>", model_name="SmolLM2", mode=COMPLETE, settings=settings[0],
        chips_html=[probability_chips_html(merge_steps(r["steps"])) for r in records]))
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    for i, rec in enumerate(records, start=1):
        assert en("generation.compare.column", i=i) in html
        assert __import__("html").escape(rec["text"], quote=False) in html
    assert html.count(en("generation.steps_title")) == len(records)
    assert en("generation.compare.col.distinct_2") in html
