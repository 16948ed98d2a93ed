"""Smoke test of the bench machinery (``python -m bench``): table, ratios, targets, result
files, child-process protocol, cache scan -- on real measured numbers, no timed assertions."""
from __future__ import annotations

import csv
import json
import math

import pytest

import bench
from bench import Figure, build_table, format_table, ratio, target_met, time_calls, write_results
from bench.__main__ import fold_page_output, page_status, scan_unbounded_caches


def _work(n: int) -> int:
    return sum(i * i for i in range(n))


@pytest.fixture(scope="module")
def measured():
    """Real wall times of a small and a 20x larger loop (seconds, 3 calls each)."""
    small = time_calls(lambda: _work(2_000), repeat=3, warmup=1)
    large = time_calls(lambda: _work(40_000), repeat=3)
    return bench.median(small), bench.median(large)


def test_ratio_and_target_logic_on_measured_numbers(measured):
    small, large = measured
    assert small > 0 and large > 0
    f = Figure("smoke", "small loop", small, "s", baseline=large, target=small * 2)
    assert f.ratio == pytest.approx(small / large)
    assert f.met is True
    assert Figure("smoke", "x", small, target=small / 2).met is False
    assert Figure("smoke", "x", small, target=small).met is True  # targets are inclusive upper bounds
    # missing pieces give None, never a made-up number
    assert Figure("smoke", "x", None, baseline=large, target=1.0).ratio is None
    assert Figure("smoke", "x", None, target=1.0).met is None
    assert Figure("smoke", "x", small).met is None
    assert ratio(small, 0.0) is None and ratio(small, math.nan) is None
    assert target_met(3.0, 3.0) is True and target_met(3.01, 3.0) is False


def test_table_and_result_files_round_trip(measured, tmp_path):
    small, large = measured
    figures = [
        Figure("smoke", "small loop", small, "s", baseline=large, target=large),
        Figure("smoke", "large loop", large, "s", baseline=small, target=small),
        Figure("memory", "not measured here", None, "MB", target=1500.0, note="skipped: reason"),
    ]
    rows = build_table(figures)
    assert [r["figure"] for r in rows] == ["small loop", "large loop", "not measured here"]
    assert [r["met"] for r in rows] == [True, False, None]
    assert rows[1]["ratio"] == pytest.approx(large / small)

    text = format_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["figure", "value", "baseline", "ratio", "target", "met?"]
    assert "[smoke]" in text and "[memory]" in text
    large_line = next(line for line in lines if line.startswith("large loop"))
    assert large_line.split()[-1] == "NO" and f"{large / small:.2f}x" in large_line
    md = format_table(rows, markdown=True)
    assert md.count("\n") == len(rows) + 1 and md.startswith("| figure |")

    csv_path, json_path = write_results(rows, {"cores": 2}, directory=tmp_path, stem="t")
    with csv_path.open() as handle:
        back = list(csv.DictReader(handle))
    assert [r["figure"] for r in back] == [r["figure"] for r in rows]
    assert float(back[0]["value"]) == pytest.approx(small)
    assert back[2]["value"] == "" and back[2]["note"] == "skipped: reason"
    data = json.loads(json_path.read_text())
    assert data["meta"] == {"cores": 2} and data["figures"][1]["met"] is False


def test_memory_reading_is_real():
    mem = bench.proc_memory()
    assert mem["rss"] > 1 and mem["peak"] >= mem["rss"] * 0.99


def test_child_protocol_runs_a_real_child():
    """``python -m bench child home-apptest bare``: a fresh process runs a bare AppTest and
    reports JSON on the marked line."""
    out = bench.run_json_child(["home-apptest", "bare"], timeout=300)
    assert out["exceptions"] == [] and out["titles"] == ["bare app"]
    assert out["heavy_modules"] == []  # a bare Streamlit app imports no torch
    assert out["first_run_s"] > 0 and out["_wall_s"] >= out["first_run_s"]
    assert bench.parse_child_output("noise\n" + bench.CHILD_MARK + '{"a": 1}\nmore') == {"a": 1}
    assert bench.parse_child_output("no marker") is None


def test_unbounded_cache_scan(tmp_path):
    code = tmp_path / "mod.py"
    code.write_text(
        "import streamlit as st\n"
        "@st.cache_data(max_entries=8, ttl=60)\ndef ok(x): return x\n"
        "@st.cache_data\ndef bare(x): return x\n"
        "@st.cache_resource(ttl=60)\ndef no_bound(x): return x\n"
        "@st.cache_resource(max_entries=4)\ndef model(x): return x\n"
    )
    found = scan_unbounded_caches([code])
    assert [f.split(" ")[1] for f in found] == ["(bare)", "(no_bound)"]
    assert isinstance(scan_unbounded_caches(), list)  # the app's own code parses


def test_page_output_folding_and_page_status():
    out = "\n".join([
        "warming up...",
        json.dumps({"figure": "tokens/s", "value": 12.5, "baseline": 13.0, "unit": "tok/s"}),
        json.dumps([{"name": "ttft", "value": 0.2, "target": 0.5}]),
        json.dumps({"figure": "broken", "value": "n/a"}),
        "{not json",
        "JSON " + json.dumps({"model": "m", "page_tokens_per_s": 20.0, "bare_tokens_per_s": 25.0}),
    ])
    figs = fold_page_output("generation", out)
    assert [f.name for f in figs] == ["generation: tokens/s", "generation: ttft", "generation: tokens_per_s"]
    assert figs[0].ratio == pytest.approx(12.5 / 13.0) and figs[1].met is True
    assert figs[2].value == 20.0 and figs[2].ratio == pytest.approx(0.8)
    assert page_status("home") is None
    assert page_status("no-such-page") == "page file missing"
