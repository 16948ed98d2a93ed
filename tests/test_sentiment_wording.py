"""The sentiment tables: compute returns them keyed by ids, with no word of a UI language; the
UI-side :func:`components.sentiment_wording.table` words headers and cells for page, CSV and report."""
from __future__ import annotations

import dataclasses
import re

import pytest

from components import i18n
from components import sentiment as S
from components import sentiment_benchmarks as B
from components import sentiment_wording as W
from components.messages import Message

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def frames():
    """Code-keyed frames of real results: VADER on 60 tweets (and the same numbers as an LLM
    row with calibration accuracies), one analysed text, the paper and cross-domain tables."""
    vader = B.run(S.VADER, "tweets", 60, seed=0)
    llm = dataclasses.replace(vader, approach=S.LLM, extra={"accuracy_uncalibrated": 0.5, "accuracy_calibrated": 0.75})
    emoji = S.result_dict(S.vader_sentiment("😡😡", attribution=False))  # nothing readable: not meaningful
    return {
        "results": B.results_frame([vader, llm]),
        "paper": B.paper_frame({"tweets": vader}),
        "cross": B.cross_domain_frame({(S.VADER, "tweets"): vader}, [S.VADER, S.HEAD]),
        "single": S.results_table([S.result_dict(S.vader_sentiment("Great food!", attribution=False)), emoji]),
        "evaluation": S.evaluation_frame([S.evaluate(S.VADER)]),
    }


def _words(frame) -> list[str]:
    return [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]


def test_code_keyed_frames_have_no_chinese_and_ids_in_cells(frames):
    for name, codes in frames.items():
        assert not [w for w in _words(codes) if HAN.search(w)], name
    assert frames["results"]["approach"].tolist() == [S.VADER, S.LLM]
    assert frames["results"]["note"].tolist() == ["", Message("sentiment.eval.llm_note", {"raw": "0.500", "cal": "0.750"})]
    assert frames["paper"]["set"].tolist() == ["tweets"]
    assert list(frames["cross"].columns) == ["approach", *B.SETS]
    assert frames["cross"].iloc[0, 1].startswith("★ ") and frames["cross"].iloc[1, 1] == "–"
    assert frames["single"][["approach", "label"]].values.tolist() == [[S.VADER, S.POSITIVE], [S.VADER, S.NOT_MEANINGFUL]]


def test_table_in_chinese_has_chinese_headers_and_cells(frames):
    def zh(key: str, **values) -> str:
        return i18n.translate("zh", key, **values)

    results = W.table(frames["results"], "zh")
    # every header is worded in Chinese except the one the Chinese locale keeps as is
    assert [c for c in results.columns if not HAN.search(c)] == [zh("sentiment.bench.col.spearman")]
    assert results.columns[0] == zh("sentiment.col.approach")
    assert zh("sentiment.col.recall", label=zh("sentiment.label.positive")) in results.columns
    assert results.iloc[:, 0].tolist() == [zh("sentiment.approach.vader"), zh("sentiment.approach.llm")]
    assert results.iloc[1, -1] == zh("sentiment.eval.llm_note", raw="0.500", cal="0.750")
    # numbers and formatted intervals are the compute frame's own
    assert results.iloc[:, 1:-1].values.tolist() == frames["results"].iloc[:, 1:-1].values.tolist()

    single = W.table(frames["single"], "zh")
    assert all(HAN.search(c) for c in single.columns[:2])
    assert single.iloc[:, 1].tolist() == [zh("sentiment.label.positive"), zh("coverage.not_meaningful")]
    cross = W.table(frames["cross"], "zh")
    assert list(cross.columns[1:]) == [zh(f"sentiment.bench.set.{n}") for n in B.SETS]
    assert W.table(frames["paper"], "zh").iloc[0, 0] == zh("sentiment.bench.set.tweets")
    evaluation = W.table(frames["evaluation"], "zh")
    assert all(HAN.search(c) for c in evaluation.columns)
    assert evaluation.iloc[0, :2].tolist() == [zh("sentiment.approach.vader"), frames["evaluation"]["accuracy"].iloc[0]]
    assert not frames["results"].columns.equals(results.columns)  # the compute frame is untouched


def test_table_in_english_matches_the_locale(frames):
    single = W.table(frames["single"], "en")
    assert list(single.columns) == [i18n.translate("en", k) for k in (
        "sentiment.col.approach", "sentiment.col.label", "sentiment.col.p_positive", "sentiment.col.compound",
        "coverage.column")]
    assert single.iloc[:, 1].tolist() == ["positive", "Not meaningful"]
    assert not [w for w in _words(single) if HAN.search(w)]
