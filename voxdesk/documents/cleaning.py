"""Our part of extraction: turning the lines a parser gives into the text a listener wants.

Re-joins words hyphenated across line breaks, joins hard-wrapped lines into paragraphs, drops
page numbers and running headers/footers (lines that repeat at the top or bottom of pages).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

# Marks a line-end hyphen that only splits a word: pdfium's "\x02"/"\ufffe", the soft hyphen.
_SOFT_HYPHENS = "\x02\ufffe\xad"
_HYPHENS = "-\u2010"
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_PAGE_NUMBER = re.compile(
    r"^[-–—(\[]?\s*(?:page|p\.|seite|página|pagina)?\s*(?:\d{1,5}|[ivxlcdm]{1,8})"
    r"(?:\s*(?:/|of|von|de|sur)\s*\d{1,5})?\s*[-–—)\]]?$",
    re.IGNORECASE,
)


def clean_inline(text: str) -> str:
    """One paragraph's text with its spacing made regular and control characters gone."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return _SPACES.sub(" ", text).strip()


def join_lines(lines: Iterable[str]) -> str:
    """Lines of one paragraph as one line, with words split by a line-end hyphen re-joined."""
    out = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if not out:
            out = line
        elif out[-1] in _SOFT_HYPHENS:
            out = out[:-1] + line
        elif out[-1] in _HYPHENS and len(out) > 1 and out[-2].isalpha() and line[0].islower():
            # "hyphen-" + "ated": a word broken at the line end. ("well-" + "Known" stays.)
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return clean_inline(out.rstrip(_SOFT_HYPHENS))


def is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line.strip()))


def line_key(line: str) -> str:
    """What stays the same in a running header from page to page: "Chapter 2 · 17" and
    "Chapter 2 · 18" share a key."""
    return re.sub(r"\d+", "#", clean_inline(line).lower())


def edge_lines(count: int, order: Sequence[float], edge: int = 2) -> set[int]:
    """Indexes of the ``edge`` highest and lowest of ``count`` lines, by vertical position
    ``order`` (larger is higher): where headers, footers and page numbers are."""
    ranked = sorted(range(count), key=lambda i: -order[i])
    return set(ranked[:edge]) | set(ranked[-edge:])


def running_lines(pages: Sequence[Sequence[str]], share: float = 0.4) -> set[str]:
    """Keys of the lines (each page given by its edge lines) that repeat on at least ``share``
    of the pages, and on two at least: running headers and footers."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({line_key(line) for line in lines if line.strip()})
    needed = max(2, int(share * len(pages) + 0.999))
    return {key for key, n in counts.items() if n >= needed}


def is_furniture(line: str, running: set[str]) -> bool:
    return is_page_number(line) or line_key(line) in running


def text_paragraphs(text: str) -> list[str]:
    """Plain text split at blank lines; hard-wrapped lines inside a paragraph are joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (join_lines(block.split("\n")) for block in re.split(r"\n\s*\n", text))
    return [p for p in paragraphs if p]
