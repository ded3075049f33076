"""Turning what is on the clipboard into text worth reading aloud (no Qt here).

Plain text is preferred; HTML (what browsers put on the clipboard) is reduced to its visible
text; anything else (images, files) is not text. Very large clipboards are read in parts, so a
whole book pasted by accident starts speaking at once and never lands in the model at once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from voxdesk.engine.request import MAX_TEXT_CHARS

#: Clipboard text longer than this is read in parts of about this size.
PART_CHARS = 50_000

_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section",
               "article", "blockquote", "pre", "dt", "dd", "table", "ul", "ol"}
_HIDDEN_TAGS = {"script", "style", "head", "title", "template", "noscript"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def clipboard_text(plain: str | None, markup: str | None) -> str:
    """The text to read: plain text if there is any, else the visible text of the HTML."""
    if plain and plain.strip():
        return plain.strip()
    if markup and markup.strip():
        return html_to_text(markup)
    return ""


def parts(text: str, size: int = PART_CHARS) -> Iterator[str]:
    """Split ``text`` into consecutive parts of about ``size`` characters, at line or sentence
    ends where possible; every part is within the engine's request limit."""
    size = min(size, MAX_TEXT_CHARS)
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind(sep) + len(sep) for sep in ("\n", ". ", "。"))
            if cut > size // 2:
                end = start + cut
        yield text[start:end]
        start = end
