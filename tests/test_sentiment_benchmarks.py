"""The VADER paper's four human-rated sets (Hutto & Gilbert 2014) as evaluation sets."""
from __future__ import annotations

import numpy as np
import pytest

from components import sentiment as S
from components import sentiment_benchmarks as B


def _raw_rows(name: str) -> list[tuple[str, float, str]]:
    """The file read without pandas: one row per line after the header, split on tabs."""
    lines = B.FILES[name].read_text(encoding="utf-8").split("\n")
    assert lines[0] == "id\tmean_rating\ttext" and lines[-1] == ""
    rows = [line.split("\t") for line in lines[1:-1]]
    assert all(len(r) == 3 for r in rows)
    return [(r[0], float(r[1]), r[2]) for r in rows]


@pytest.mark.parametrize("name, published", [("tweets", 4200), ("amazon", 3708), ("movies", 10605), ("nyt", 5190)])
def test_loader_rows_labels_and_balance(name, published):
    raw = _raw_rows(name)
    assert len(raw) == published  # the row counts of the published files
    frame = B.load_benchmark(name)
    summary = B.set_summary(name)
    zero = sum(m == 0 for _, m, _ in raw)
    pos = sum(m > 0 for _, m, _ in raw)
    assert summary == {"rows": len(raw), "dropped_zero": zero, "kept": len(raw) - zero,
                       "positive": pos, "negative": len(raw) - zero - pos}
    assert len(frame) == len(raw) - zero
    assert list(frame.columns) == ["id", "text", "mean_rating", "label"]
    assert (frame.loc[frame.label == S.POSITIVE, "mean_rating"] > 0).all()
    assert (frame.loc[frame.label == S.NEGATIVE, "mean_rating"] < 0).all()
    assert frame["mean_rating"].between(-4, 4).all()
    # texts kept byte for byte (quotes, '&amp;', accents), ids unique
    kept = [(i, m, t) for i, m, t in raw if m != 0]
    assert frame["text"].tolist() == [t for _, _, t in kept]
    assert frame["id"].is_unique
    assert B.load_benchmark(name) is not B.load_benchmark(name)  # callers get their own copy


def test_stratified_sample_keeps_balance_and_is_seeded():
    frame = B.load_benchmark("tweets")  # 69 % positive: a skewed set shows stratification
    share = (frame.label == S.POSITIVE).mean()
    a = B.sample(frame, 100, seed=3)
    assert len(a) == 100 and a["id"].is_unique
    assert abs((a.label == S.POSITIVE).mean() - share) <= 0.01
    assert a["id"].tolist() == B.sample(frame, 100, seed=3)["id"].tolist()
    assert a["id"].tolist() != B.sample(frame, 100, seed=4)["id"].tolist()
    assert len(B.sample(frame, 10**6, seed=0)) == len(frame)


def test_macro_f1_matches_sklearn_and_intervals_contain_the_estimate():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    truth = list(rng.choice([S.NEGATIVE, S.POSITIVE], 300))
    pred = list(rng.choice([S.NEGATIVE, S.POSITIVE, S.NEUTRAL], 300, p=[0.4, 0.45, 0.15]))
    expected = f1_score(truth, pred, labels=[S.NEGATIVE, S.POSITIVE], average="macro")
    assert B.macro_f1(truth, pred) == pytest.approx(expected, abs=1e-12)
    low, high = B.bootstrap_macro_f1(truth, pred, seed=1)
    assert low < expected < high and high - low < 0.2
    assert (low, high) == B.bootstrap_macro_f1(truth, pred, seed=1)  # seeded
    lo, hi = B.wilson_interval(45, 50)
    assert lo < 0.9 < hi < 1  # Wilson stays inside [0, 1] even near 1
    assert lo == pytest.approx(0.7864, abs=1e-3)  # Wilson (1927) for 45/50


@pytest.fixture(scope="module")
def vader_full():
    return {name: B.run(S.VADER, name, B.MAX_CAP, seed=0) for name in B.SETS}


@pytest.mark.parametrize("name", ["tweets", "amazon", "movies"])
def test_page_vader_close_to_the_paper(vader_full, name):
    """Binary macro-F1 with neutral counted wrong, on the full set, within 0.03 of Table 4."""
    r = vader_full[name]
    assert r.n == B.set_summary(name)["kept"]
    assert abs(r.macro_f1 - B.PAPER_VADER_F1[name]) <= 0.03, r.macro_f1
    assert r.macro_f1_ci[0] <= r.macro_f1 <= r.macro_f1_ci[1]
    assert r.accuracy_ci[0] <= r.accuracy <= r.accuracy_ci[1]
    assert 0 < r.neutral_share < 0.4  # neutral predictions exist and are counted as misses
    assert r.accuracy + r.neutral_share <= 1 + 1e-12


def test_vader_domains_and_spearman(vader_full):
    # rules tuned to microblogs: tweets far ahead of the other domains
    assert vader_full["tweets"].macro_f1 > max(vader_full[n].macro_f1 for n in ("amazon", "movies", "nyt")) + 0.2
    for r in vader_full.values():
        assert 0.3 < r.spearman[0] < 0.95 and r.spearman[1] < 1e-10
    table = B.paper_comparison(vader_full)
    assert table["set"].tolist() == list(B.SETS)
    assert (table["difference"].abs() <= 0.03).sum() >= 3


def test_head_on_a_stratified_sample(minilm):
    head = S.train_head(minilm)
    r = B.run(S.HEAD, "movies", 60, seed=0, loaded=minilm, head=head)
    assert r.n == 60 and r.neutral_share == 0
    assert 0.55 < r.accuracy <= 1 and r.accuracy_ci[0] < r.accuracy < r.accuracy_ci[1]
    assert r.spearman[0] > 0.2  # P(positive) ranks snippets like the human mean rating
    cells = {(S.HEAD, "movies"): r, (S.VADER, "movies"): B.run(S.VADER, "movies", 60, seed=0)}
    assert B.winners(cells)["movies"] == max(cells, key=lambda k: cells[k].macro_f1)[0]



def test_stored_cells_round_trip_and_overlap_rule(vader_full):
    real = vader_full["tweets"]
    cell = B.cell_from_record(B.cell_record(real))
    assert (cell.n, cell.macro_f1, cell.macro_f1_ci) == (real.n, real.macro_f1, real.macro_f1_ci)
    assert B.paper_frame({"tweets": cell}).equals(B.paper_frame({"tweets": real}))
    lo, hi = real.macro_f1_ci
    apart = B.F1Cell(S.HEAD, "tweets", real.n, lo - 0.2, (lo - 0.3, lo - 0.1))
    touching = B.F1Cell(S.LLM, "tweets", real.n, lo - 0.05, (lo - 0.1, lo))
    assert B.overlapping_sets({(S.VADER, "tweets"): real, (S.HEAD, "tweets"): apart}) == []
    assert B.overlapping_sets({(S.VADER, "tweets"): real, (S.HEAD, "tweets"): apart,
                               (S.LLM, "tweets"): touching}) == ["tweets"]
    frame = B.cross_domain_frame({(S.VADER, "tweets"): real, (S.HEAD, "tweets"): apart}, [S.VADER, S.HEAD])
    assert frame.iloc[0, 1].startswith("★ ") and not frame.iloc[1, 1].startswith("★")



@pytest.mark.slow
def test_llm_on_a_handful_of_tweets(smollm2):
    """SmolLM2 prompting (one forward per snippet): labels are binary, the reported accuracy is
    the uncalibrated one (calibration off by default), the score is P(positive)."""
    seen = []
    r = B.run(S.LLM, "tweets", 16, seed=0, loaded=smollm2, progress=lambda done, total: seen.append((done, total)))
    assert r.n == 16 and r.neutral_share == 0 and seen[-1] == (16, 16)
    assert r.accuracy == pytest.approx(r.extra["accuracy_uncalibrated"])
    assert r.accuracy > 0.5 and -1 <= r.spearman[0] <= 1


# --------------------------------------------------------------------------- page (AppTest)
def test_page_benchmark_panel_from_a_link(app):
    """A link sets the set, rows and seed; the table's numbers are the component's; the
    cross-domain view fills and marks a winner per set; the paper table compares VADER."""
    from components.i18n import translate

    app.query_params.update({"bset": "amazon", "bcap": "60", "bseed": "2", "llm": "0", "hub": "0", "attr": "0"})
    app.switch_page("app_pages/sentiment.py")
    at = app.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="p_sent_bench_set").value == "amazon"
    assert at.number_input(key="p_sent_bench_cap").value == 60
    assert at.number_input(key="p_sent_bench_seed").value == 2
    at.button(key="sent_bench_run").click().run()
    assert not at.exception, at.exception
    col_f1 = translate("en", "sentiment.bench.col.macro_f1")
    col_n = translate("en", "sentiment.bench.col.n")
    table = next(d.value for d in [*at.dataframe, *at.table] if col_f1 in d.value.columns and col_n in d.value.columns)
    assert table[col_n].tolist() == [60, 60]  # VADER and the head, same sample
    expected = B.run(S.VADER, "amazon", 60, seed=2)
    assert table[col_f1].iloc[0].startswith(f"{expected.macro_f1:.3f} [")
    assert "(−0.05, 0.05)" in " ".join(str(m.value) for m in at.info)

    at.button(key="sent_bench_fill").click().run()
    assert not at.exception, at.exception
    tweets = translate("en", "sentiment.bench.set.tweets")
    cross = next(d.value for d in [*at.dataframe, *at.table] if tweets in d.value.columns)
    assert cross.shape == (2, 5) and not (cross == "–").any().any()
    for name in B.SETS:
        assert sum(v.startswith("★") for v in cross[translate("en", f"sentiment.bench.set.{name}")]) == 1

    at.button(key="sent_bench_paper").click().run()
    assert not at.exception, at.exception
    paper_col = translate("en", "sentiment.bench.col.paper_f1")
    paper = next(d.value for d in [*at.dataframe, *at.table] if paper_col in d.value.columns)
    assert paper[paper_col].tolist() == [B.PAPER_VADER_F1[n] for n in B.SETS]
    assert abs(paper[translate("en", "sentiment.bench.col.difference")].iloc[0]) <= 0.03  # tweets
