"""Typographic punctuation VoxCPM stumbles over, replaced by the plain forms it was trained on.

Text pasted from word processors and web pages carries curly quotes, dashes, the ellipsis
character, non-breaking and zero-width spaces, soft hyphens...: the model reads some as words,
some as noise, some not at all. This runs on each sentence just before the model sees it (as
``normalize`` does), never on the text the window shows: segment offsets keep referring to the
original text. CJK full-width punctuation is left alone: the model knows it.
"""

from __future__ import annotations

import re

_TABLE = str.maketrans({
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2033": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2039": "'",
    "\u203a": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "'",
    "\u2026": "...", "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2043": "-",
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2002": " ",
    "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2008": " ", "\u205f": " ",
    "\u3000": " ", "\u00ad": None, "\u200b": None, "\u200c": None, "\u200d": None,
    "\u2060": None, "\ufeff": None,
})
# A dash used as punctuation (between words, or with spaces) is a pause: a comma says it best.
_DASH = re.compile(r"\s*[\u2012\u2013\u2014\u2015\u2e3a\u2e3b]+\s*")
_SPACES = re.compile(r"[ \t]+")


def normalize_typography(text: str) -> str:
    """``text`` with typographic punctuation replaced (see the module doc)."""
    text = text.translate(_TABLE)
    text = _DASH.sub(", ", text)
    text = re.sub(r",\s*([,.!?;:])", r"\1", text)  # "word—." -> "word."
    text = re.sub(r"^\s*,\s*", "", text)  # a sentence that starts with a dash
    return _SPACES.sub(" ", text).strip()
