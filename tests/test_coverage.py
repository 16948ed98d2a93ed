"""Coverage on the bundled models: emoji-only texts are one [UNK] for MiniLM, bytes for SmolLM2,
and partly unknown to VADER; results that depend on unread text are flagged as not meaningful."""
from __future__ import annotations

import numpy as np
import pytest

from components import coverage as C
from components import i18n
from components import sentiment as S
from components import sentiment_wording as W

EMOJI = ("😡😡", "😀😀😀", "🎉")


def test_minilm_reads_emoji_only_texts_as_one_unknown_token(minilm):
    from components.embeddings import encode_sentences

    for text in EMOJI:
        cov = C.tokenizer_coverage(minilm.tokenizer, text)
        assert (cov.reader, cov.known, cov.total, cov.meaningful) == (C.TOKENS, 0, len(text), False)
        assert cov.unknown == [text]
    # why the threshold: the model really gets the same input for all three
    vectors = encode_sentences(minilm, list(EMOJI)).vectors
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert np.allclose(unit @ unit.T, 1.0, atol=1e-5)
    mixed = C.tokenizer_coverage(minilm.tokenizer, "Finally finished my thesis 🎉 so happy right now!")
    assert mixed.meaningful and mixed.unknown == ["🎉"] and (mixed.known, mixed.total) == (39, 40)
    chinese = C.tokenizer_coverage(minilm.tokenizer, "这家餐厅的菜很好吃")
    assert chinese.known == 2 and not chinese.meaningful  # only 家 and 的 are in the vocabulary
    assert C.tokenizer_coverage(minilm.tokenizer, "I love it").fraction == 1.0


def test_smollm2_reads_every_character_some_as_bytes(smollm2):
    assert C.is_byte_level(smollm2.tokenizer)
    for text in EMOJI:
        cov = C.tokenizer_coverage(smollm2.tokenizer, text)
        assert (cov.reader, cov.fraction, cov.byte_chars, cov.meaningful) == (C.BYTES, 1.0, len(text), True)
        key, values = C.message(cov)
        assert key == "coverage.bytes_fragments"
        assert "byte" in i18n.translate("en", key, **values)
    plain = C.tokenizer_coverage(smollm2.tokenizer, "I love it")
    assert plain.byte_chars == 0 and C.message(plain)[0] == "coverage.ok.bytes"


def test_vader_coverage_follows_its_lexicons():
    analyzer = S.vader_analyzer()
    assert "😡" in analyzer.emojis  # known emoji, but "pouting face" has no valence in the lexicon
    assert C.vader_coverage("😡😡").fraction == 0.0
    assert S.vader_sentiment("😡😡").label == S.NEUTRAL
    for text in ("😀😀😀", "🎉", "The package arrived :)"):
        assert C.vader_coverage(text).fraction == 1.0, text
    assert C.vader_coverage("这家餐厅的菜很好吃").known == 0
    half = C.vader_coverage("good 餐厅")
    assert (half.known, half.total, half.meaningful) == (4, 6, True)


def test_messages_escape_user_text_and_exist_in_both_languages():
    from components.textio import markdown_literal

    cov = C.Coverage(reader=C.TOKENS, known=0, total=3, fraction=0.0, unknown=["**x**"], meaningful=False)
    key, values = C.message(cov, markdown_literal)
    assert key == "coverage.low.tokens" and values["unknown"] == markdown_literal("**x**") != "**x**"
    for lang in ("en", "zh"):
        for reader in (C.TOKENS, C.BYTES, C.VADER):
            for prefix in ("coverage.ok.", "coverage.low."):
                assert i18n.translate(lang, prefix + reader) != prefix + reader


@pytest.fixture(scope="module")
def head(minilm):
    return S.train_head(minilm)


def test_sentiment_results_on_emoji_are_not_meaningful(minilm, smollm2, head):
    for text in EMOJI:
        res = S.result_dict(S.head_sentiment(minilm, head, text, attribution=False))
        assert res["coverage"]["fraction"] == 0.0 and not S.meaningful(res)
        assert S.shown_label_key(res) == "coverage.not_meaningful"
    # the head's output is the same for all three (one [UNK]): the label would be a constant
    p = [S.head_sentiment(minilm, head, text, attribution=False).p_positive for text in EMOJI]
    assert max(p) - min(p) < 1e-6
    vader = S.result_dict(S.vader_sentiment("😡😡", attribution=False))
    assert not S.meaningful(vader)
    assert S.meaningful(S.result_dict(S.vader_sentiment("🎉", attribution=False)))
    llm = S.result_dict(S.llm_sentiment(smollm2, "😡😡", attribution=False))
    assert S.meaningful(llm) and llm["coverage"]["byte_chars"] == 2
    codes = S.results_table([S.result_dict(S.head_sentiment(minilm, head, "😡😡", attribution=False)), llm])
    assert codes["label"].iloc[0] == S.NOT_MEANINGFUL and codes["coverage"].tolist() == ["0% (0/2)", "100% (2/2)"]
    table = W.table(codes, "en")
    assert table.iloc[0, 1] == "Not meaningful" and table.iloc[0, -1] == "0% (0/2)"
    assert table.iloc[1, -1] == "100% (2/2)"


def test_word_by_word_fallback_agrees_with_offsets(minilm):
    """Tokenizers without offsets are checked per whitespace word; on MiniLM (where each
    unknown word is one [UNK]) both ways give the same counts."""
    for text in ("😡😡 I love it", "Finally finished 🎉 so happy", "😀😀😀"):
        by_word, by_offsets = C._coverage_by_word(minilm.tokenizer, text), C.tokenizer_coverage(minilm.tokenizer, text)
        assert (by_word.known, by_word.total, by_word.unknown) == (by_offsets.known, by_offsets.total, by_offsets.unknown)


def test_coverage_of_a_text_longer_than_the_model_reads_logs_no_overflow_warning(minilm):
    """Coverage tokenizes the whole text without feeding it to the model: transformers'
    "Token indices sequence length is longer than ..." warning would be noise in the server log."""
    import copy
    import io
    import logging

    from transformers.utils import logging as hf_logging

    tokenizer = copy.deepcopy(minilm.tokenizer)  # the shared one may have warned already (once each)
    tokenizer.deprecation_warnings.clear()
    text = "great movie " * 400  # 800 tokens > MiniLM's 256
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    hf_logging.get_logger().addHandler(handler)
    try:
        cov = C.tokenizer_coverage(tokenizer, text)
        tokenizer.deprecation_warnings.clear()
        tokenizer(text)  # the same call as a model input would be: the warning this test watches
    finally:
        hf_logging.get_logger().removeHandler(handler)
    assert (cov.known, cov.total) == (4000, 4000)  # every non-space character read
    assert captured.getvalue().count("Token indices sequence length") == 1  # the model-input call above, only
