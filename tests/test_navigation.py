"""Where previous/next paragraph go: pure functions of the text being read."""

from __future__ import annotations

from voxdesk.engine.segmentation import split_text
from voxdesk.gui import navigation
from voxdesk.gui.navigation import Reading

TEXT = "  One. Two.\n\n\n  Three. Four.\n \nFive.\n\n"


def test_paragraph_starts_skip_blank_lines_and_indentation():
    assert navigation.paragraph_starts(TEXT) == [2, TEXT.index("Three"), TEXT.index("Five")]
    assert navigation.paragraph_starts("") == [] and navigation.paragraph_starts("\n\n") == []


def test_next_and_previous_paragraph_from_the_sentence_heard():
    reading = Reading(TEXT, 0, len(TEXT), shown=True)
    segments = tuple(split_text(TEXT))
    two = next(s.index for s in segments if s.text == "Two.")
    four = next(s.index for s in segments if s.text == "Four.")
    assert navigation.next_paragraph(reading, segments, two) == (TEXT.index("Three"), False)
    # Within a paragraph, back to its start; from its start, to the one before.
    assert navigation.previous_paragraph(reading, segments, four) == (TEXT.index("Three"), False)
    three = next(s.index for s in segments if s.text == "Three.")
    assert navigation.previous_paragraph(reading, segments, three) == (2, False)
    five = next(s.index for s in segments if s.text == "Five.")
    assert navigation.next_paragraph(reading, segments, five) is None  # the last one
    # Only within what is being read (a selection ends before the third paragraph).
    short = Reading(TEXT, 0, TEXT.index("Five"), shown=True)
    assert navigation.next_paragraph(short, tuple(split_text(TEXT[:short.end])), four) is None
