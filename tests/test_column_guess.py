"""The one column-guessing rule of CSV uploads (:func:`components.textio.guess_text_column`,
:func:`components.textio.guess_label_column`), on tables read by ``read_csv_bytes``."""
from __future__ import annotations

import pandas as pd
import pytest

from components import textio


def _table(text: str, encoding: str = "utf-8") -> pd.DataFrame:
    return textio.read_csv_bytes(text.encode(encoding)).frame


def _text_guess(text: str, encoding: str = "utf-8") -> tuple[str, str]:
    guess = textio.guess_text_column(_table(text, encoding))
    return guess.column, guess.rule


@pytest.mark.parametrize("header,expected", [
    ("id,text\n1,Great phone\n", "text"),
    ("stars,review\n5,Fine\n", "review"),
    ("id,sentence\n1,The striker scored.\n", "sentence"),
    ("id,content\n7,Bake the cake.\n", "content"),
    ("id, Review \n1,ok\n", "Review"),          # stripped, any case
    ("id,TEXT\n1,ok\n", "TEXT"),
])
def test_english_names(header, expected):
    assert _text_guess(header) == (expected, textio.GUESS_NAME)


def test_leftmost_named_column_wins_over_a_longer_one():
    column, rule = _text_guess("notes,text\nA very long note about nothing in particular,short\n")
    assert (column, rule) == ("text", textio.GUESS_NAME)


@pytest.mark.parametrize("header,expected,encoding", [
    ("编号,评论\n1,这家餐厅的菜很好吃\n", "评论", "utf-8"),
    ("编号,文本\n1,这家餐厅的菜很好吃，服务也很周到。\n2,送货很快，包装也很好，下次还会再买。\n", "文本", "gb18030"),
    ("编号,ＴＥＸＴ\n1,好\n", "ＴＥＸＴ", "utf-8"),     # full-width letters read as "text"
])
def test_non_ascii_headers(header, expected, encoding):
    assert _text_guess(header, encoding) == (expected, textio.GUESS_NAME)


def test_unnamed_header_not_in_the_list_falls_back():
    # a Chinese header outside the list is not a name match: the longest texts decide
    column, rule = _text_guess("编号,留言,作者\n1,送货很快，包装也很好,李\n2,一般般,王\n")
    assert (column, rule) == ("留言", textio.GUESS_LONGEST)


def test_numeric_only_columns_are_skipped():
    # ids, star ratings and scores are never the texts, even when written longer than the texts
    column, rule = _text_guess("id,score,comment\n100001,0.123456789,Nice\n100002,-3.5e+10,Bad\n")
    assert (column, rule) == ("comment", textio.GUESS_LONGEST)
    assert _text_guess("comment,id\nNice,1\n") == ("comment", textio.GUESS_FIRST)
    assert _text_guess("body,id\nhello world,7\n") == ("body", textio.GUESS_FIRST)


def test_longest_mean_string_fallback():
    text = ("author,title,body\n"
            "Ann,Short,The battery lasts all week and the screen is gorgeous.\n"
            "Bob,Bad,We waited an hour for our food.\n"
            "Cy,,\n")                       # blank cells do not pull the mean down
    frame = _table(text)
    means = {c: frame[c].str.strip().replace("", pd.NA).dropna().str.len().mean() for c in frame.columns}
    assert max(means, key=means.get) == "body"
    assert _text_guess(text) == ("body", textio.GUESS_LONGEST)


def test_tie_goes_to_the_leftmost():
    assert _text_guess("a,b\nxy,zw\n") == ("a", textio.GUESS_FIRST)


def test_all_numeric_or_blank_reads_the_first_column():
    assert _text_guess("id,stars\n1,5\n2,3\n") == ("id", textio.GUESS_FIRST)
    frame = pd.DataFrame({"x": ["", " "], "y": ["1", "2"]})
    assert textio.guess_text_column(frame) == textio.ColumnGuess("x", textio.GUESS_FIRST)


def test_no_column_is_an_error():
    with pytest.raises(ValueError):
        textio.guess_text_column(pd.DataFrame())
    with pytest.raises(ValueError):
        textio.guess_label_column(pd.DataFrame(), "text")


@pytest.mark.parametrize("text,text_col,expected", [
    ("text,label\nGood,pos\n", "text", ("label", textio.GUESS_NAME)),
    ("category,sentence\nsports,A goal\n", "sentence", ("category", textio.GUESS_NAME)),
    ("review,polarity,id\nGood,positive,1\n", "review", ("polarity", textio.GUESS_NAME)),
    ("文本,标签\n好,正面\n", "文本", ("标签", textio.GUESS_NAME)),
    ("review,stars\nI love it,1\n", "review", ("stars", textio.GUESS_LAST)),
    ("stars,review\n1,I love it\n", "review", ("stars", textio.GUESS_LAST)),
    ("text\nalone\n", "text", ("text", textio.GUESS_LAST)),
])
def test_label_column(text, text_col, expected):
    guess = textio.guess_label_column(_table(text), text_col)
    assert (guess.column, guess.rule) == expected


def test_label_never_guessed_as_the_text_column():
    # a file whose text column is itself named "label": the label guess moves elsewhere
    guess = textio.guess_label_column(_table("label,topic\nA goal,sports\n"), "label")
    assert guess == textio.ColumnGuess("topic", textio.GUESS_NAME)
