"""HTML/XHTML to paragraphs (blocks), for EPUB chapters, Markdown and HTML without an article.

The parsing is lxml's; this decides what a listener hears: block elements become paragraphs,
headings are marked (the outline), scripts, navigation and - unless asked for - footnotes,
note references and tables are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import lxml.html

from voxdesk.documents.cleaning import clean_inline

_BLOCK = frozenset(
    [
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hgroup", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "thead", "tfoot", "tr", "ul", "html"
    ]
)
_SKIP = frozenset(
    [
        "script", "style", "head", "noscript", "template", "svg", "math", "iframe", "object", "embed",
        "button", "select", "textarea", "input", "canvas", "video", "audio", "map", "nav"
    ]
)
_NOTE_TYPES = re.compile(r"\b(?:footnotes?|endnotes?|rearnotes?|notes|doc-footnote|"
                         r"doc-endnotes?|doc-footnotes)\b")
_NOTEREF_TYPES = re.compile(r"\b(?:noteref|doc-noteref)\b")
_NOTE_MARK = re.compile(r"^\s*[\[(]?\s*(?:\d{1,4}|[*†‡§¶]+|[a-z])\s*[\])]?\s*$")


@dataclass
class Block:
    text: str
    heading: int | None = None  # 1-6 for <h1>-<h6>


@dataclass
class Blocks:
    blocks: list[Block] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # element id -> index of its block
    title: str | None = None  # <title>
    language: str | None = None  # <html lang>


def parse_html(data: bytes | str) -> Any:
    if isinstance(data, str):
        # lxml refuses str with an encoding declaration; bytes without one it reads as
        # Latin-1 (HTML's old default), so it is told these are UTF-8.
        return lxml.html.document_fromstring(data.encode("utf-8"),
                                             parser=lxml.html.HTMLParser(encoding="utf-8"))
    return lxml.html.document_fromstring(data)


def html_blocks(data: bytes | str | Any, include_footnotes: bool = False,
                include_tables: bool = False) -> Blocks:
    root = parse_html(data) if isinstance(data, (bytes, str)) else data
    return _Walker(include_footnotes, include_tables).run(root)


def _attr(el: Any, *names: str) -> str:
    return " ".join(str(el.get(n, "")) for n in names).lower()


def is_note(el: Any) -> bool:
    return bool(_NOTE_TYPES.search(_attr(el, "epub:type", "role"))) or (
        el.tag == "aside" and "note" in _attr(el, "class", "epub:type"))


def is_note_reference(el: Any) -> bool:
    if _NOTEREF_TYPES.search(_attr(el, "epub:type", "role")):
        return True
    # <sup>1</sup> or <sup><a href="#fn1">1</a></sup>: a footnote mark, not words.
    return el.tag == "sup" and bool(_NOTE_MARK.match(el.text_content() or ""))


class _Walker:
    def __init__(self, include_footnotes: bool, include_tables: bool) -> None:
        self.notes, self.tables = include_footnotes, include_tables
        self.out = Blocks()
        self.buffer: list[str] = []

    def run(self, root: Any) -> Blocks:
        title = root.find(".//title")
        if title is not None and title.text_content().strip():
            self.out.title = clean_inline(title.text_content())
        self.out.language = root.get("lang") or root.get("xml:lang") or None
        body = root.find(".//body")
        self.walk(body if body is not None else root)
        self.flush()
        return self.out

    def flush(self, heading: int | None = None) -> None:
        text = clean_inline("".join(self.buffer))
        self.buffer = []
        if text:
            self.out.blocks.append(Block(text, heading))

    def walk(self, el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag:
            tag = tag.rsplit("}", 1)[-1].lower()
        if not tag or tag in _SKIP:
            return  # comments, processing instructions, scripts (their tail is the parent's)
        if el.get("id"):
            self.out.anchors.setdefault(el.get("id"), len(self.out.blocks))
        if el.get("hidden") is not None or "display:none" in _attr(el, "style").replace(" ", ""):
            return
        if is_note_reference(el) or (not self.notes and is_note(el)):
            return  # a note's mark is never read ("sea.1"); its text only when asked for
        if tag == "table" and not self.tables:
            return
        if tag in ("br",):
            self.buffer.append(" ")
        heading = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else None
        block = tag in _BLOCK or tag in ("td", "th")
        if block and tag not in ("td", "th"):
            self.flush()
        if el.text:
            self.buffer.append(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                self.buffer.append(child.tail)
        if tag in ("td", "th"):
            self.buffer.append(", ")  # a row is read as one paragraph: "cell, cell, cell"
        elif tag == "tr":
            text = "".join(self.buffer).strip().rstrip(",")
            self.buffer = [text]
            self.flush()
        elif block:
            self.flush(heading)
