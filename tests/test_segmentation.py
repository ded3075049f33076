"""Text segmentation: sentences, bounds, offsets, and nothing dropped."""

import random

import pytest

from voxdesk.engine.segmentation import split_text, text_weight


def non_space(text: str) -> str:
    return "".join(text.split())


def test_english_sentences_with_abbreviations_and_quotes():
    text = 'Hello there, Mr. Smith! How are you? I paid $3.50 for "this." Fine.'
    assert [s.text for s in split_text(text)] == [
        "Hello there, Mr. Smith!",
        "How are you?",
        'I paid $3.50 for "this."',
        "Fine.",
    ]


def test_chinese_and_mixed_punctuation():
    text = "你好。今天天气很好！我们去公园吧？Mixed text 和中文。Next one."
    assert [s.text for s in split_text(text)] == [
        "你好。", "今天天气很好！", "我们去公园吧？", "Mixed text 和中文。", "Next one.",
    ]


def test_line_breaks_end_segments():
    text = "A heading\nFirst paragraph here.\n\n- a list item"
    assert [s.text for s in split_text(text)] == [
        "A heading", "First paragraph here.", "- a list item",
    ]


def test_offsets_point_into_the_original_text():
    text = "  One.  Two!\n Three?  "
    for segment in split_text(text):
        assert text[segment.start : segment.end] == segment.text
    assert [s.index for s in split_text(text)] == [0, 1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "word " * 500,
        "a, " * 400,
        "中" * 1000,
        "x" * 1234,
        "Long clause one, long clause two; " * 50,
    ],
)
def test_long_sentences_are_bounded_and_nothing_is_dropped(text):
    segments = split_text(text, max_weight=120)
    assert all(text_weight(s.text) <= 120 for s in segments)
    assert non_space("".join(s.text for s in segments)) == non_space(text)


def test_random_text_keeps_every_character_in_order():
    rng = random.Random(1)
    alphabet = "abc  ,.!?;\n。！？，中文\"'"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        segments = split_text(text, max_weight=30)
        assert non_space("".join(s.text for s in segments)) == non_space(text)
        assert all(text_weight(s.text) <= 30 for s in segments)
        assert all(s.text == s.text.strip() and s.text for s in segments)


def test_blank_text_has_no_segments():
    assert split_text(" \n\t ") == []
