"""The shared linear probe on the bundled all-MiniLM-L6-v2: encoding with truncation info, a
logistic-regression head and its cross-validation, checked against direct library calls."""
from __future__ import annotations

import numpy as np
import pytest

from components import classification as C
from components import probe
from components import sentiment as S

SHORT = "The striker scored twice."
LONG = " ".join(["The weather report said it would rain all week long."] * 60)  # ~600 tokens


def test_encode_reports_truncation_and_matches_the_library(minilm):
    enc = probe.encode(minilm, [SHORT, LONG])
    assert enc.vectors.shape == (2, 384) and enc.vectors.dtype == np.float32
    assert enc.limit == minilm.sentence_model.max_seq_length == 256
    assert enc.tokens[0] == len(minilm.tokenizer(SHORT)["input_ids"])
    assert enc.tokens[1] > 256
    assert enc.truncated.tolist() == [False, True]
    np.testing.assert_allclose(np.linalg.norm(enc.vectors, axis=1), 1.0, atol=1e-5)
    direct = minilm.sentence_model.encode([SHORT, LONG], normalize_embeddings=True)
    np.testing.assert_allclose(enc.vectors, direct, atol=1e-5)
    # the long text is read up to the limit: words after the cut change nothing
    longer = probe.encode(minilm, [LONG + " Then the sun came out."])
    assert longer.tokens[0] > enc.tokens[1]
    np.testing.assert_allclose(longer.vectors[0], enc.vectors[1], atol=1e-6)


def test_encode_rejects_a_model_without_a_sentence_encoder(smollm2):
    with pytest.raises(ValueError, match="not a sentence-transformers model"):
        probe.encode(smollm2, [SHORT])


@pytest.fixture(scope="module")
def topics(minilm):
    frame, _ = C.prepare_examples(C.load_example_set("topics"))
    enc = probe.encode(minilm, frame["text"].tolist())
    return enc.vectors, frame["label"].to_numpy()


def test_cross_validation_equals_a_direct_sklearn_call(topics):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score

    X, y = topics
    cv = probe.cross_validate(X, y, folds=5, C=C.HEAD_C, seed=C.HEAD_SEED)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    head = LogisticRegression(C=10.0, max_iter=2000, random_state=0)
    assert cv.fold_accuracies == [float(s) for s in cross_val_score(head, X, y, cv=splitter)]
    np.testing.assert_array_equal(cv.predicted, cross_val_predict(head, X, y, cv=splitter))
    assert cv.accuracy == pytest.approx(float((cv.predicted == y).mean()))
    assert len(cv.fold_accuracies) == 5 and 0.5 < cv.accuracy <= 1.0  # MiniLM separates the 4 topics


def test_head_is_deterministic_with_its_seed(topics):
    X, y = topics
    a = probe.fit_head(X, y, C=4.0, seed=0)
    b = probe.fit_head(X, y, C=4.0, seed=0)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    assert (a.C, a.max_iter, a.random_state) == (4.0, 2000, 0)
    once, twice = (probe.cross_validate(X, y, folds=3, C=4.0, seed=1) for _ in range(2))
    assert once.fold_accuracies == twice.fold_accuracies
    np.testing.assert_array_equal(once.predicted, twice.predicted)


def test_both_heads_go_through_the_probe(minilm, topics):
    """Sentiment and classification heads are the probe's head with their own C and seed."""
    X, y = topics
    trained = C.train_head(minilm, C.load_example_set("topics"))
    np.testing.assert_allclose(trained.head.coef_, probe.fit_head(X, y, C.HEAD_C, C.HEAD_SEED).coef_, atol=1e-6)
    train = S.load_dataset("train").head(40)
    head = S.train_head(minilm, train)
    direct = probe.fit_head(probe.sentence_vectors(minilm, train["text"].tolist()), train["label"].to_numpy(),
                            C=S.HEAD_C, seed=S.HEAD_SEED)
    np.testing.assert_array_equal(head.classifier.coef_, direct.coef_)
    assert head.classifier.C == 4.0 and trained.head.C == 10.0
