"""Embedding explorer: components on the bundled models with real numbers, charts, and the page
through AppTest on every input kind and every bad input."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from components import embeddings as emb
from components.messages import render
from components.textio import InputError

PARAPHRASES = [
    "A man is playing a guitar.",
    "The stock market crashed today.",
    "Someone is strumming a guitar.",
    "Share prices collapsed this afternoon.",
    "I like to eat apples.",
]


# --------------------------------------------------------------------------- encoders
def test_sentence_embeddings_equal_sentence_transformers(minilm):
    texts = PARAPHRASES + ["短文本也可以。", "x", "A man is playing a guitar."]  # a duplicate too
    seen = []
    got = emb.encode_sentences(minilm, texts, batch_size=3, progress=seen.append)
    expected = minilm.sentence_model.encode(texts, convert_to_numpy=True)
    assert got.vectors.shape == (len(texts), 384)
    np.testing.assert_allclose(got.vectors, expected, atol=1e-5, rtol=1e-4)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert got.truncated == []
    assert any("repeated" in str(n) for n in got.notices)


def test_sentence_truncation_notice_per_row(minilm):
    long = "word " * 400  # > 256 tokens
    got = emb.encode_sentences(minilm, ["short one", long], rows=[7, 8])
    assert got.truncated == [1]
    assert got.token_counts[1] > 256
    assert len(got.notices) == 1 and "Row 8" in str(got.notices[0]) and "256" in str(got.notices[0])
    assert "第 8 行" in render(got.notices[0], "zh")
    # the vector is the truncated text's, exactly as sentence-transformers encodes it
    np.testing.assert_allclose(got.vectors[1], minilm.sentence_model.encode([long])[0], atol=1e-5)


def test_nearest_neighbours_of_paraphrase_pair(minilm):
    vecs = emb.encode_sentences(minilm, PARAPHRASES).vectors
    nn0 = emb.nearest_neighbours(vecs, 0, k=2)
    nn2 = emb.nearest_neighbours(vecs, 2, k=2)
    assert nn0["index"].iloc[0] == 2 and nn2["index"].iloc[0] == 0
    assert emb.nearest_neighbours(vecs, 1, k=1)["index"].iloc[0] == 3
    # cosine by hand
    a, b = vecs[0], vecs[2]
    assert nn0["cosine"].iloc[0] == pytest.approx(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)), abs=1e-5)
    # a new query (not in the set) finds the guitar sentences first
    q = emb.encode_sentences(minilm, ["Guitar music being played by a man"]).vectors[0]
    assert set(emb.nearest_neighbours(vecs, q, k=2)["index"]) == {0, 2}


def test_word_embeddings_match_input_embedding_matrix(smollm2):
    got = emb.word_embeddings(smollm2, ["dog", "cat", "house", "狗"])
    matrix = smollm2.model.get_input_embeddings().weight.detach().numpy()
    for i, word in enumerate(["dog", "cat", "house", "狗"]):
        ids = smollm2.tokenizer(word, add_special_tokens=False)["input_ids"]
        np.testing.assert_allclose(got.vectors[i], matrix[ids].mean(axis=0), atol=1e-6)
        assert len(got.pieces[i]) == len(ids)
    multi = [w for w, p in zip(["dog", "cat", "house", "狗"], got.pieces) if len(p) > 1]
    assert (multi and "average" in str(got.notices[0])) or (not multi and not got.notices)


def test_hidden_states_are_masked_means(smollm2):
    texts = ["Hello world", "The cat sat on the mat and looked at the dog.", "今天的天气很好"]
    layer = 12
    got = emb.hidden_state_embeddings(smollm2, texts, layer=layer, batch_size=3)
    assert got.vectors.shape == (3, smollm2.model.config.hidden_size)
    import torch

    for i, text in enumerate(texts):  # each text alone: no padding, plain mean over its tokens
        enc = smollm2.tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            hs = smollm2.model(**enc, output_hidden_states=True).hidden_states[layer][0]
        np.testing.assert_allclose(got.vectors[i], hs.mean(dim=0).numpy(), atol=2e-4, rtol=1e-3)
    with pytest.raises(InputError, match="between 0 and 30"):
        emb.hidden_state_embeddings(smollm2, texts, layer=31)


# --------------------------------------------------------------------------- projection
def test_pca_recovers_known_axes_and_variance():
    rng = np.random.default_rng(0)
    # points along orthonormal axes u (std 3) and v (std 1) in 5-D, plus a mean offset
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    u, v = q[:, 0], q[:, 1]
    a = rng.normal(size=400)
    b = rng.normal(size=400)
    a = (a - a.mean()) / a.std() * 3.0
    b -= b.mean()
    b -= a * (a @ b) / (a @ a)  # exactly uncorrelated with a
    b /= b.std()
    X = np.outer(a, u) + np.outer(b, v) + 7.0
    proj = emb.pca_project(X, 2)
    assert abs(abs(proj.pca.components_[0] @ u) - 1) < 1e-8
    assert abs(abs(proj.pca.components_[1] @ v) - 1) < 1e-8
    np.testing.assert_allclose(proj.explained_variance_ratio_, [0.9, 0.1], atol=1e-9)
    assert proj.axis_titles == ["PC1 (90.0%)", "PC2 (10.0%)"]
    np.testing.assert_allclose(np.abs(proj.coords[:, 0]), np.abs(a), atol=1e-4)
    # a new query goes through the fitted PCA: (x - mean) @ components.T
    x = rng.normal(size=5)
    by_hand = (x - proj.pca.mean_) @ proj.pca.components_.T
    np.testing.assert_allclose(emb.project_query(proj, x), by_hand, atol=1e-5)
    with pytest.raises(InputError, match="fewer than 3 independent directions"):
        emb.pca_project(X, 3)


@pytest.mark.parametrize("vectors, message", [
    (np.ones((5, 4)), "no variance"),
    (np.eye(3, 8), "at least 4 items"),
    (np.array([[1.0, np.nan], [0.0, 1.0], [2.0, 2.0], [3.0, 1.0]]), "NaN"),
    (np.zeros((0, 3)), "no embeddings"),
])
def test_degenerate_inputs_raise_clear_errors(vectors, message):
    with pytest.raises(InputError, match=message):
        emb.pca_project(vectors, 3)


def test_tsne_marks_nonlinear_and_adapts_perplexity():
    rng = np.random.default_rng(1)
    e = np.eye(8)  # two clusters in different directions (t-SNE uses cosine distance)
    X = np.vstack([3 * e[0] + rng.normal(0, 0.1, (6, 8)), 3 * e[1] + rng.normal(0, 0.1, (6, 8))])
    proj = emb.project(X, emb.TSNE, 2)
    assert proj.coords.shape == (12, 2) and proj.explained_variance_ratio_ is None
    assert proj.method == "tsne" and proj.axis_titles == ["t-SNE 1", "t-SNE 2"]  # was the sklearn class (shadowed name)
    assert emb.project_query(proj, X[0]) is None
    assert "perplexity" in str(proj.notices[0]) and emb.tsne_perplexity(12) == pytest.approx(11 / 3)
    # the two clusters stay apart: each point's nearest map neighbour is in its own cluster
    d = np.linalg.norm(proj.coords[:, None] - proj.coords[None], axis=-1) + np.eye(12) * 1e9
    assert all((d[i].argmin() < 6) == (i < 6) for i in range(12))


def test_md_code_shows_user_text_literally():
    assert emb.md_code("**bold** $x$") == "`**bold** $x$`"
    assert emb.md_code("a `b` c") == "``a `b` c``"
    assert emb.md_code("`x`") == "`` `x` ``"


def test_sampling_and_search():
    keep, notes = emb.sample_items(25_000, cap=20_000)
    assert len(keep) == 20_000 and len(set(keep.tolist())) == 20_000 and "20,000" in str(notes[0])
    assert np.array_equal(keep, emb.sample_items(25_000, cap=20_000)[0])
    assert emb.sample_items(10, cap=20)[1] == []
    assert emb.matches(["Dog run", "cat", "hot DOG"], "dog").tolist() == [True, False, True]
    assert not emb.matches(["a"], "  ").any()


def test_example_sets_parse():
    sets = {s.name: s for s in emb.example_sets()}
    assert {"sentences_topics", "words_primer", "words_groups", "sentences_paraphrases",
            "words_analogies", "sentences_parallel"} <= set(sets)
    assert {"king", "queen", "man", "woman", "Paris", "France", "北京"} <= set(sets["words_analogies"].frame()["text"])
    parallel = sets["sentences_parallel"].frame()
    assert (parallel["label"].value_counts() == 2).all()  # each sentence with its translation
    words = sets["words_primer"].frame()
    assert {"dog", "cat", "run", "house"} <= set(words["text"])
    topics = sets["sentences_topics"].frame()
    assert topics["label"].nunique() >= 5 and (topics["text"].str.len() > 0).all()


def test_shipped_set_labels_follow_the_language_user_labels_stay_literal():
    from components import i18n
    from components.embeddings_wording import set_frame

    sets = {s.name: s for s in emb.example_sets()}
    en, zh = set_frame(sets["sentences_topics"], "en"), set_frame(sets["sentences_topics"], "zh")
    assert en["text"].tolist() == zh["text"].tolist()
    assert {"sport", "food", "weather"} <= set(en["label"])
    assert {"体育", "美食", "天气"} <= set(zh["label"]) and not {"sport", "food"} & set(zh["label"])
    assert en["label"].nunique() == zh["label"].nunique()  # no two topics merged
    assert set(set_frame(sets["sentences_parallel"], "zh")["label"]) >= {"美食 1", "美食 2"}
    for s in sets.values():  # every shipped label has a string in each language
        for label in s.frame()["label"]:  # the ids as written in the file
            word = label.rsplit(" ", 1)[0] if label.rsplit(" ", 1)[-1].isdigit() else label
            assert all(f"embeddings.set_labels.{word}" in i18n.strings(lang) for lang in i18n.LANGS)
    typed, _ = emb.parse_labelled_lines("goal | sport")
    assert typed["label"].tolist() == ["sport"]  # what users type is never translated


def test_low_coverage_note_matches_the_map(minilm):
    """Items made only of unknown characters get one vector; mostly-unknown ones do not
    (their few known tokens place them): the note says both."""
    only_unknown = ["😡😡", "🎉"]
    sets = {s.name: s for s in emb.example_sets()}
    topics = sets["sentences_topics"].frame()
    mostly_unknown = topics.loc[topics["label"] == "中文", "text"].tolist()[:3]
    vectors = emb.encode_sentences(minilm, only_unknown + mostly_unknown).vectors
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-5)
    cos = vectors[2:] @ vectors[2:].T
    assert (cos[np.triu_indices(len(mostly_unknown), 1)] < 0.999).all()
    covs, notes = emb.text_coverage(minilm, only_unknown + mostly_unknown)
    assert not any(c["meaningful"] for c in covs)
    text = render(notes[0], "en")
    assert "one point" in text and "close together" in text and "whatever they say" not in text


# --------------------------------------------------------------------------- charts
def test_scatter_escapes_hover_and_marks_query():
    from components.charts_embeddings import scatter_map, scree_bar

    texts = ["<b>bold</b>", "fish & chips", "<script>alert(1)</script>", "x" * 500]
    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
    fig = scatter_map(coords, texts, ["<i>a</i>", "b", "b", "a"], ["PC1 (60.0%)", "PC2 (40.0%)"],
                      highlight=np.array([True, False, False, False]), query_point=np.array([0.5, 0.5]),
                      query_text="where <am> I", selected=1, neighbours=[0])
    spec = json.loads(fig.to_json())
    hovers = [h for tr in spec["data"] for h in (tr.get("hovertext") or [])]
    assert "&lt;b&gt;bold&lt;/b&gt;" in hovers and "fish &amp; chips" in hovers
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hovers and not any("<script>" in h for h in hovers)
    long = [h for h in hovers if h.startswith("xxx")][0]
    assert long.replace("<br>", "").endswith("…") and len(long.replace("<br>", "")) == 200
    names = [tr["name"] for tr in spec["data"]]
    assert "&lt;i&gt;a&lt;/i&gt;" in names and _en("embeddings.chart.query") in names and "search matches (1)" in names
    assert spec["layout"]["xaxis"]["title"]["text"] == "PC1 (60.0&#37;)"  # "%" escaped: shown as typed, never a template
    base = [tr for tr in spec["data"] if tr["name"] in ("b", "&lt;i&gt;a&lt;/i&gt;")]
    assert all(tr["marker"]["opacity"] < 0.5 for tr in base)  # dimmed behind the match
    assert len(scree_bar(np.array([0.5, 0.3, 0.1]), used=2).data[0].y) == 3
    from components import palettes

    rings = [tr for tr in spec["data"] if tr["name"] == _en("embeddings.chart.neighbours")]
    fills = {tr["marker"]["color"] for tr in base} | set(palettes.OKABE_ITO)
    assert len(rings) == 1 and rings[0]["marker"]["line"]["color"] not in fills  # a ring is no category


def test_large_map_uses_webgl_and_stays_small():
    from components.charts_embeddings import scatter_map

    rng = np.random.default_rng(0)
    n = 10_000
    coords = rng.normal(size=(n, 2))
    texts = [f"short text number {i} about topic {i % 9}" for i in range(n)]
    fig = scatter_map(coords, texts, [f"t{i % 9}" for i in range(n)], ["PC1", "PC2"])
    assert all(tr.type == "scattergl" for tr in fig.data)
    assert len(fig.to_json()) < 1_500_000  # ~ text + 8 bytes/point of float32 coordinates
    fig3 = scatter_map(rng.normal(size=(50, 3)), texts[:50], None, ["PC1", "PC2", "PC3"])
    assert fig3.data[0].type == "scatter3d" and fig3.layout.scene.zaxis.title.text == "PC3"


# --------------------------------------------------------------------------- page (AppTest)
def _en(key, **values):
    from components import i18n

    return i18n.translate("en", key, **values)


def _open(app):
    app.run()
    app.switch_page("app_pages/embeddings.py")
    app.run()
    return app


def _messages(at) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info") for e in getattr(at, kind))


def test_page_example_set_default(app):
    at = _open(app)
    assert not at.exception
    charts = at.get("plotly_chart")
    assert charts, _messages(at)
    spec = json.loads(charts[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("PC1 (")
    assert len(at.dataframe) >= 2  # items + neighbours of the first item
    assert at.dataframe[-1].value.columns[-1] == "cosine similarity"
    assert at.get("download_button")


def test_page_text_area_words_3d_and_query(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.text_area(key="p_emb_text").set_value("dog | animal\ncat | animal\nrun | verb\nhouse | building\n<b>x</b> & y")
    at.radio(key="p_emb_method").set_value(emb.WORD).run()
    at.radio(key="p_emb_dims").set_value(3).run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "scatter3d"
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in json.dumps(spec)
    at.text_input(key="p_emb_query").set_value("kitten").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert any(tr.get("name") == _en("embeddings.chart.query") for tr in spec["data"])


def test_page_csv_upload_with_blank_cells_and_bom(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    rows = ["id,sentence,topic"] + [f"{i},Sentence number {i} about {t},{t}" for i, t in
                                     enumerate(["sport", "food", "tech"] * 4)] + ["99,,food", "100,  ,tech"]
    data = ("\ufeff" + "\n".join(rows)).encode("utf-8")
    at.file_uploader(key="emb_csv").set_value(("s.csv", data, "text/csv")).run()
    at.selectbox(key="p_emb_csv_text").set_value("sentence").run()
    at.selectbox(key="p_emb_csv_label").set_value("topic").run()
    assert not at.exception, at.exception
    assert "2 rows with blank" in _messages(at)
    assert at.get("plotly_chart")


@pytest.mark.parametrize("text, message", [
    ("   \n  ", "empty"),
    ("only one line\nand two", "at least 3 items"),
    ("same\nsame\nsame\nsame", "no variance"),
])
def test_page_bad_text_inputs(app, text, message):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.text_area(key="p_emb_text").set_value(text).run()
    assert not at.exception, at.exception
    assert message in _messages(at)
    assert at.text_area(key="p_emb_text").value == text  # nothing typed is lost


@pytest.mark.parametrize("data, message", [
    (b"a;b\n\xff\xfe\x00bad", "not UTF-8"),
    (b"", "empty"),
])
def test_page_bad_csv(app, data, message):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    at.file_uploader(key="emb_csv").set_value(("bad.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    assert message in _messages(at)


def test_page_csv_column_choice_belongs_to_its_upload(app):
    from components.views_embeddings import NONE

    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    first = (b"id,sentence,topic\n1,The cat sat on the mat,animals\n2,Stocks fell sharply today,money\n"
             b"3,A dog ran in the park,animals\n4,Banks raised interest rates,money\n")
    at.file_uploader(key="emb_csv").set_value(("a.csv", first, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="p_emb_csv_text").value == "sentence"  # a named text column
    assert at.selectbox(key="p_emb_csv_label").value == "topic"    # a named label column
    # the user's pick survives reruns of the same file ...
    at.selectbox(key="p_emb_csv_text").set_value("topic").run()
    at.selectbox(key="p_emb_csv_label").set_value(NONE).run()
    at.text_input(key="p_emb_search").set_value("cat").run()
    assert at.selectbox(key="p_emb_csv_text").value == "topic"
    assert at.selectbox(key="p_emb_csv_label").value == NONE
    assert at.dataframe[0].value[_en("embeddings.col.text")].tolist() == ["animals", "money", "animals", "money"]
    # ... and a new file starts from its own guess: the longest texts, no label column named
    second = b"title,body\nCats,The cat sat on the mat all day\nDogs,A dog ran across the park\nCash,Stocks fell\n"
    at.file_uploader(key="emb_csv").set_value(("b.csv", second, "text/csv")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="p_emb_csv_text").value == "body"
    assert at.selectbox(key="p_emb_csv_label").value == NONE
    at.selectbox(key="p_emb_csv_text").set_value("title").run()
    # a new file with the same columns is guessed again too (not the earlier pick)
    at.file_uploader(key="emb_csv").set_value(("d.csv", second.replace(b"Cats", b"Cows"), "text/csv")).run()
    assert at.selectbox(key="p_emb_csv_text").value == "body"
    at.file_uploader(key="emb_csv").set_value(("c.csv", first.replace(b"cat", b"cow"), "text/csv")).run()
    assert at.selectbox(key="p_emb_csv_text").value == "sentence"
    assert at.selectbox(key="p_emb_csv_label").value == "topic"
    assert not at.exception, at.exception


def test_page_remembered_column_missing_lists_columns(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    at.session_state["p_emb_csv_text"] = "review"
    at.file_uploader(key="emb_csv").set_value(("t.csv", b"title,body\na,b\nc,d\ne,f\ng,h\n", "text/csv")).run()
    assert not at.exception, at.exception
    msg = _messages(at)
    assert "`review`" in msg and "`title`" in msg and "`body`" in msg


def test_page_truncation_notice_and_hub_unavailable(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.text_area(key="p_emb_text").set_value("a\nb c\nd e f\n" + "long " * 300).run()
    assert not at.exception, at.exception
    assert "Row 4" in _messages(at) and "256" in _messages(at)
    at.radio(key="p_emb_method").set_value(emb.SENTENCE).run()
    at.selectbox(key="p_emb_model").set_value("all-mpnet-base-v2").run()
    assert not at.exception, at.exception
    assert "not available here" in " ".join(e.value for e in at.error)


def test_page_many_points_render_webgl_and_cap_samples(app, monkeypatch):
    monkeypatch.setattr(emb, "MAX_ITEMS", 1_200)  # the page reads the cap at run time
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.radio(key="p_emb_method").set_value(emb.WORD)
    at.text_area(key="p_emb_text").set_value("\n".join(f"word{i} | g{i % 4}" for i in range(1_500))).run()
    assert not at.exception, at.exception
    assert "1,500 items is above the 1,200-item cap" in _messages(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {tr["type"] for tr in spec["data"] if tr.get("name", "").startswith("g")} == {"scattergl"}
    assert sum(len(tr["hovertext"]) for tr in spec["data"] if tr.get("name", "").startswith("g")) == 1_200


def test_page_upload_over_cap(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    big = b"text\n" + b"x" * (21 * 1024 * 1024)
    at.file_uploader(key="emb_csv").set_value(("big.csv", big, "text/csv")).run()
    assert not at.exception, at.exception
    assert re.search(r"big\.csv`: The file is [\d.]+ MB", _messages(at))


def test_page_smollm2_hidden_states_layer(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.text_area(key="p_emb_text").set_value("The cat sleeps\nA dog barks\nStocks fell\nRates rose")
    at.radio(key="p_emb_method").set_value(emb.HIDDEN).run()
    assert at.selectbox(key="p_emb_model").value == "smollm2-135m-instruct"
    at.slider(key="p_emb_layer").set_value(3).run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "layer 3" in spec["layout"]["title"]["text"]
    assert any(m.value == "576" for m in at.metric)


@pytest.fixture(scope="module")
def two_sentences_alternating(minilm):
    texts = ["The cat sat on the mat.", "Stock markets fell sharply today."] * 25
    return texts, emb.encode_sentences(minilm, texts).vectors


def test_map_of_copies_pca_2d_draws_the_one_direction(two_sentences_alternating):
    """50 lines alternating two sentences: 2 distinct points span one direction. The 2-D PCA
    map is drawn (PC1 exact, PC2 = 0), copies share a position, and no message suggests 2-D."""
    texts, vectors = two_sentences_alternating
    proj = emb.project(vectors, emb.PCA, 2)
    assert proj.coords.shape == (50, 2)
    assert np.all(proj.coords[:, 1] == 0)
    assert len({tuple(c) for c in proj.coords.tolist()}) == 2
    assert np.array_equal(proj.coords[0::2], np.repeat(proj.coords[:1], 25, axis=0))
    gap = float(np.linalg.norm(vectors[0] - vectors[1]))
    assert abs(proj.coords[0, 0] - proj.coords[1, 0]) == pytest.approx(gap, rel=1e-4)
    assert proj.explained_variance_ratio_.tolist()[1] == 0 and proj.explained_variance_ratio_[0] == pytest.approx(1)
    keys = [n.code for n in proj.notices]
    assert keys == ["embeddings.msg.flat_map", "embeddings.msg.copies_share"]
    english = " ".join(str(n) for n in proj.notices)
    assert "2-D" not in english.replace("a 2-D map", "") and "50 items but only 2 distinct" in english
    np.testing.assert_array_equal(emb.project_query(proj, vectors[0]), proj.coords[0])  # a query lands on the line


def test_map_of_copies_tsne_needs_five_distinct(two_sentences_alternating, minilm):
    texts, vectors = two_sentences_alternating
    with pytest.raises(InputError, match="only 2 distinct") as info:
        emb.project(vectors, emb.TSNE, 2)
    assert "t-SNE" not in str(info.value).split("Use")[1]  # suggests PCA, never the option chosen
    # 6 distinct sentences x 5 copies: t-SNE places every copy exactly on its sentence's point
    base = ["The cat sat on the mat.", "Stock markets fell sharply today.", "I love this song.",
            "Rain is expected tomorrow.", "The team won the final.", "Add two cups of flour."]
    many = emb.encode_sentences(minilm, base * 5).vectors
    proj = emb.project(many, emb.TSNE, 2)
    assert len({tuple(c) for c in proj.coords.tolist()}) == 6
    for i in range(6):
        assert np.array_equal(proj.coords[i::6], np.repeat(proj.coords[i:i + 1], 5, axis=0))
    assert "embeddings.msg.copies_share" in [n.code for n in proj.notices]
    # PCA 3-D of the same: 6 distinct points, a real 3-D map
    pca3 = emb.project(many, emb.PCA, 3)
    assert len({tuple(c) for c in pca3.coords.tolist()}) == 6 and np.all(pca3.explained_variance_ratio_ > 0.05)


def test_page_fifty_lines_of_two_sentences_draw_a_map(app):
    at = _open(app)
    at.radio(key="p_emb_input").set_value("typed").run()
    at.text_area(key="p_emb_text").set_value("\n".join(["The cat sat on the mat.", "Stock markets fell sharply today."] * 25))
    at.run()
    assert not at.exception, at.exception
    msg = _messages(at)
    assert "choose 2-D" not in msg and "only 2 distinct" in msg and "lie in a subspace of dimension 1 only" in msg
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    from tests.conftest import plotly_array

    points = {(x, y) for tr in spec["data"] if tr.get("x") is not None
              for x, y in zip(plotly_array(tr["x"]), plotly_array(tr["y"]))}
    assert len(points) == 2


def test_emoji_items_are_flagged_on_the_map_and_neighbours(minilm):
    texts = ["😡😡", "😀😀😀", "🎉", "I love this song.", "The train was late again."]
    got = emb.encode_sentences(minilm, texts)
    unit = emb.normalise_rows(got.vectors)
    assert float(unit[0] @ unit[2]) == pytest.approx(1.0, abs=1e-5)  # one [UNK] each: the same vector
    coverages, notes = emb.text_coverage(minilm, texts)
    assert [c["fraction"] for c in coverages] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert [n.code for n in notes] == ["embeddings.msg.low_coverage"] and "3 of 5 items" in str(notes[0])
    proj = emb.project(got.vectors, emb.PCA, 2)
    result = emb.map_result(texts, got.vectors, proj, selected=0, k=4, coverages=coverages)
    nn = emb.neighbours_frame(result)
    assert nn["known"].tolist()[:2] == ["0% (0/3)", "0% (0/1)"] and nn["cosine"].tolist()[:2] == [1.0, 1.0]
    assert emb.points_frame(result)["known"].tolist() == ["0% (0/2)", "0% (0/3)", "0% (0/1)", "100% (14/14)",
                                                          "100% (21/21)"]


def test_page_renamed_spreadsheet_is_a_warning_like_other_pages(app):
    """A renamed .xlsx is a warning here as on Classification and Sentiment; the picked
    input mode stays."""
    at = _open(app)
    at.radio(key="p_emb_input").set_value("csv").run()
    at.file_uploader(key="emb_csv").set_value(("sheet.csv", b"PK\x03\x04" + b"\x00" * 64, "text/csv")).run()
    assert not at.exception, at.exception
    assert not at.error
    assert any("sheet.csv" in w.value for w in at.warning)
    assert at.radio(key="p_emb_input").value == "csv"
