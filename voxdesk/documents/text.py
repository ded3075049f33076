"""Plain text and Markdown: the encoding detected (charset-normalizer), BOMs removed."""

from __future__ import annotations

import re

from voxdesk.documents.blocks import html_blocks
from voxdesk.documents.cleaning import text_paragraphs
from voxdesk.documents.model import Chapter, DocumentError, Metadata
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.outline import Extracted, chapters_from_blocks
from voxdesk.documents.sources import Source

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_COMMON = ("utf_8", "cp1252", "latin_1", "iso8859_15", "cp1251", "gb18030", "shift_jis")
_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n(?:---|\.\.\.)\s*\n", re.DOTALL)


def decode(source: Source) -> str:
    """The text of ``source``, in whichever common encoding it is written."""
    from charset_normalizer import from_bytes

    data = source.data
    if not data.strip():
        raise DocumentError(f"{source.label} is empty.", "Open a file with some text in it.")
    # NUL bytes: a binary file (an image, a program) - unless it is UTF-16/32 with its BOM.
    if b"\x00" in data[:65536] and not data.startswith(_BOMS):
        raise DocumentError(f"{source.label} is not a text file (it holds binary data).",
                            "Open a text, PDF, EPUB, DOCX, ODT, HTML or Markdown file.")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8").lstrip("\ufeff")  # the usual case, and unambiguous
    except UnicodeDecodeError:
        pass
    results = from_bytes(data)
    best = results.best()
    if best is not None:
        # Short texts fit several 8-bit code pages about as well (mac_latin2 scores better than
        # cp1252 on "Été à Paris"): then take the most common one (cp1252 French is far
        # likelier than cp1257 Swedish), never a much worse fit.
        close = [m for m in results if m.chaos <= best.chaos + 0.1]
        best = next((m for name in _COMMON for m in close if m.encoding == name), best)
    if best is None:
        raise DocumentError(f"The encoding of {source.label} cannot be told, or it is not text.",
                            "Save it as UTF-8 and open it again.")
    text = str(best).lstrip("\ufeff")
    control = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\n\r\t\f")
    if control > 0.01 * min(len(text), 65536):
        raise DocumentError(f"{source.label} is not a text file (it holds binary data).",
                            "Open a text, PDF, EPUB, DOCX, ODT, HTML or Markdown file.")
    return text


def read_text(source: Source, options: ReadOptions) -> Extracted:
    paragraphs = text_paragraphs(decode(source))
    if not paragraphs:
        raise DocumentError(f"{source.label} has no text to read.")
    return Extracted(Metadata(), [Chapter(source.label, tuple(paragraphs))])


def read_markdown(source: Source, options: ReadOptions) -> Extracted:
    from markdown_it import MarkdownIt

    text = _FRONT_MATTER.sub("", decode(source))
    parser = MarkdownIt("commonmark").enable("table")
    html = parser.render(text)
    blocks = html_blocks(f"<html><body>{html}</body></html>", options.include_footnotes,
                         options.include_tables)
    title = next((b.text for b in blocks.blocks if b.heading == 1), None)
    return Extracted(Metadata(title=title), chapters_from_blocks(blocks.blocks, title or source.label))
