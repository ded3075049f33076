"""Real documents made with real libraries (reportlab, ebooklib, python-docx, odfpy), for the
tests and `voxdesk bench document`: known text, so extraction can be checked against it."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

#: A chapter: (title, paragraphs); a paragraph is a string, or a list of lines (already
#: wrapped, so a test can put a hyphen at a line end).
ChapterSpec = tuple[str, Sequence[str | Sequence[str]]]


def _lines(paragraph: str | Sequence[str], width: int = 80) -> list[str]:
    if isinstance(paragraph, str):
        return textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False)
    return list(paragraph)


def _flat(paragraph: str | Sequence[str]) -> str:
    """A paragraph given as lines, as a word processor holds it: one line, words whole."""
    if isinstance(paragraph, str):
        return paragraph
    out = ""
    for line in paragraph:
        out = out[:-1] + line if out.endswith("-") and line[:1].islower() else \
            f"{out} {line}".strip()
    return out


def make_pdf(path: Path, chapters: Sequence[ChapterSpec], running_header: str = "",
             title: str | None = None, author: str | None = None, lines_per_page: int = 44,
             outline: bool = True) -> Path:
    """An A4 PDF: a running header, "Page N" at the foot of every page, each chapter on a new
    page with its title and (``outline``) a bookmark; paragraphs flow across pages."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    page = [1]
    y = [0.0]

    def new_page() -> None:
        if running_header:
            pdf.setFont("Helvetica", 9)
            pdf.drawString(72, 805, running_header)
        pdf.setFont("Helvetica", 9)
        pdf.drawCentredString(297, 36, f"Page {page[0]}")
        pdf.setFont("Times-Roman", 11)
        y[0] = 760.0

    def end_page() -> None:
        pdf.showPage()
        page[0] += 1

    for number, (heading, paragraphs) in enumerate(chapters):
        if number:
            end_page()
        new_page()
        key = f"chapter-{number}"
        pdf.bookmarkPage(key)
        if outline:
            pdf.addOutlineEntry(heading, key, level=0)
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(72, y[0], heading)
        pdf.setFont("Times-Roman", 11)
        y[0] -= 32
        for paragraph in paragraphs:
            for line in _lines(paragraph):
                if y[0] < 72:
                    end_page()
                    new_page()
                pdf.drawString(72, y[0], line)
                y[0] -= 14
            y[0] -= 10  # the gap between paragraphs
    pdf.showPage()
    pdf.save()
    return path


def make_epub(path: Path, chapters: Sequence[ChapterSpec], title: str = "A Book",
              author: str = "An Author", language: str = "en",
              footnote: tuple[int, str] | None = None, cover: bytes | None = None) -> Path:
    """An EPUB 3 with a table of contents (NCX and nav), one file per chapter, and optionally
    a footnote (an aside with epub:type="footnote" and its noteref) in chapter ``footnote[0]``."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(f"voxdesk-test-{title}")
    book.set_title(title)
    book.set_language(language)
    book.add_author(author)
    if cover is not None:
        book.set_cover("cover.png", cover)
    items = []
    for number, (heading, paragraphs) in enumerate(chapters):
        item = epub.EpubHtml(title=heading, file_name=f"chapter{number + 1}.xhtml", lang=language)
        body = [f"<h1>{heading}</h1>"]
        for i, paragraph in enumerate(paragraphs):
            text = _flat(paragraph)
            if footnote is not None and footnote[0] == number and i == 0:
                text += ('<a epub:type="noteref" href="#fn1" id="ref1">1</a>')
            body.append(f"<p>{text}</p>")
        if footnote is not None and footnote[0] == number:
            body.append(f'<aside epub:type="footnote" id="fn1"><p>{footnote[1]}</p></aside>')
        item.content = "".join(body)
        book.add_item(item)
        items.append(item)
    book.toc = [epub.Link(i.file_name, i.title, f"toc{n}") for n, i in enumerate(items)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    epub.write_epub(str(path), book)
    return path


def make_docx(path: Path, chapters: Sequence[ChapterSpec], title: str | None = None,
              table: Sequence[Sequence[str]] | None = None) -> Path:
    """A DOCX with a Title, one Heading 1 per chapter, and optionally a table after the first
    chapter's text."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
        document.add_heading(title, level=0)
    for number, (heading, paragraphs) in enumerate(chapters):
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(_flat(paragraph))
        if table is not None and number == 0:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    grid.cell(r, c).text = cell
    document.save(str(path))
    return path


def make_odt(path: Path, chapters: Sequence[ChapterSpec], title: str | None = None) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    if title:
        from odf.dc import Title

        document.meta.addElement(Title(text=title))
    for heading, paragraphs in chapters:
        document.text.addElement(H(outlinelevel=1, text=heading))
        for paragraph in paragraphs:
            text = _flat(paragraph)
            document.text.addElement(P(text=text))
    document.save(str(path))
    return path


_WORDS = [
    "keeper", "lighthouse", "harbour", "storm", "night", "lamp", "water", "ship", "sailor", "rope", "stair",
    "window", "morning", "tide", "fog", "bell", "wind", "wave", "rock", "shore", "island", "letter", "diary",
    "winter", "summer", "light", "dark", "boat", "net", "fish", "town", "street", "child", "mother", "father",
    "old", "young", "quiet", "loud", "slow", "fast", "stone", "bread", "salt", "iron", "glass", "cloud",
    "rain", "snow", "star", "moon", "sun", "road", "bridge", "gate", "door"
]


def book_chapters(count: int, paragraphs: int, words: int = 60, seed: int = 0
                  ) -> list[ChapterSpec]:
    """Generated chapters of distinct, varied sentences, as long as wanted (benchmarks)."""
    import random

    rng = random.Random(seed)
    chapters: list[ChapterSpec] = []
    for c in range(count):
        body = []
        for p in range(paragraphs):
            sentences = []
            for _ in range(max(1, words // 12)):
                picked = " ".join(rng.choice(_WORDS) for _ in range(11))
                sentences.append(picked.capitalize() + ".")
            body.append(f"Paragraph {p + 1} of chapter {c + 1}. " + " ".join(sentences))
        chapters.append((f"Chapter {c + 1}", body))
    return chapters
