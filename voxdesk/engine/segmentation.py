"""Split text into sentence-sized segments for pipelined synthesis.

The engine synthesises one segment at a time, so the first audio comes after the first
sentence whatever the length of the document, and each piece stays short enough for the model
to keep its voice. Segments carry their offsets in the original text, so the window can
highlight the sentence being heard.

Rules, in order: split after sentence punctuation (English and CJK, with closing quotes or
brackets kept on the sentence) and at line breaks; split a sentence that is still too long at
clause punctuation, then at spaces, then - for unspaced scripts - anywhere. Nothing is dropped:
every non-space character of the input is in exactly one segment, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Default upper bound on a segment's weight (see :func:`text_weight`): about 20 s of speech.
DEFAULT_MAX_WEIGHT = 300

_CLOSERS = "\"'”’»)\\]}」』）】》"
# A sentence ends at . ! ? ; … (one or more, ASCII ones followed by space or end of text), or at
# CJK full-width enders (no space needed), in both cases keeping trailing closing quotes/brackets.
_SENTENCE_END = re.compile(
    rf"(?:[.!?;…]+[{_CLOSERS}]*(?=\s|$)|[。！？；]+[{_CLOSERS}]*|\n)",
)
_CLAUSE_END = re.compile(rf"(?:[,:，、：]+[{_CLOSERS}]*\s*|\s[—–-]+\s)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e cf fig no approx dept est inc ltd co".split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_SPACES = re.compile(r"\s+")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")  # paragraphs are separated by a blank line


@dataclass(frozen=True)
class Segment:
    """A piece of the original text: ``text == source[start:end]``. ``paragraph_start``: the
    first segment of a paragraph (the text before it ends with a blank line, or it is the
    first), where the engine makes a longer pause."""

    index: int
    start: int
    end: int
    text: str
    paragraph_start: bool = False


def is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF  # hangul
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
    )


def text_weight(text: str) -> int:
    """Rough spoken length: a CJK character takes about three Latin letters' time to say."""
    return sum(3 if is_cjk(c) else 1 for c in text)


def split_text(text: str, max_weight: int = DEFAULT_MAX_WEIGHT) -> list[Segment]:
    """Split ``text`` into segments of at most ``max_weight`` (see module doc)."""
    if max_weight < 3:
        raise ValueError("max_weight must be at least 3")
    spans: list[tuple[int, int]] = []
    for start, end in _sentence_spans(text):
        spans.extend(_bound_span(text, start, end, max_weight))
    segments: list[Segment] = []
    previous_end = 0
    for i, (s, e) in enumerate(spans):
        starts_paragraph = i == 0 or bool(_BLANK_LINE.search(text, previous_end, s))
        segments.append(Segment(i, s, e, text[s:e], starts_paragraph))
        previous_end = e
    return segments


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _is_abbreviation(text: str, boundary_start: int, boundary_end: int) -> bool:
    if text[boundary_start:boundary_end] != ".":
        return False
    # Only the last few characters can hold an abbreviation: searching from 0 made splitting
    # quadratic in the text's length (15 s for a 60,000-character chapter).
    word = _WORD_BEFORE.search(text, max(0, boundary_start - 32), boundary_start)
    return word is not None and word.group(1).lower() in _ABBREVIATIONS


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _is_abbreviation(text, match.start(), match.end()):
            continue
        span = _strip_span(text, start, match.end())
        if span:
            spans.append(span)
        start = match.end()
    span = _strip_span(text, start, len(text))
    if span:
        spans.append(span)
    return spans


def _bound_span(text: str, start: int, end: int, max_weight: int) -> list[tuple[int, int]]:
    """Cut one sentence into pieces of at most ``max_weight``, at the gentlest break available."""
    if text_weight(text[start:end]) <= max_weight:
        return [(start, end)]
    for breaks in (_clause_breaks, _space_breaks):
        cuts = breaks(text, start, end)
        if cuts:
            return _pack(text, start, end, cuts, max_weight)
    return _hard_cut(text, start, end, max_weight)


def _clause_breaks(text: str, start: int, end: int) -> list[int]:
    return [m.end() for m in _CLAUSE_END.finditer(text, start, end) if m.end() < end]


def _space_breaks(text: str, start: int, end: int) -> list[int]:
    return [m.end() for m in _SPACES.finditer(text, start, end) if m.end() < end]


def _pack(
    text: str, start: int, end: int, cuts: list[int], max_weight: int
) -> list[tuple[int, int]]:
    """Greedily join the pieces between ``cuts`` while they fit; re-split any piece too big."""
    pieces: list[tuple[int, int]] = []
    bounds = [start, *cuts, end]
    piece_start = start
    for prev, cut in zip(bounds, bounds[1:]):
        if prev > piece_start and text_weight(text[piece_start:cut]) > max_weight:
            pieces.append((piece_start, prev))
            piece_start = prev
    pieces.append((piece_start, end))
    result: list[tuple[int, int]] = []
    for s, e in pieces:
        span = _strip_span(text, s, e)
        if span:
            result.extend(_bound_span(text, *span, max_weight))
    return result


def _hard_cut(text: str, start: int, end: int, max_weight: int) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    piece_start, weight = start, 0
    for i in range(start, end):
        w = 3 if is_cjk(text[i]) else 1
        if weight + w > max_weight:
            pieces.append((piece_start, i))
            piece_start, weight = i, 0
        weight += w
    pieces.append((piece_start, end))
    return [span for s, e in pieces if (span := _strip_span(text, s, e))]
