"""DOCX through python-docx: paragraphs and headings (Title, Heading 1-9) in body order."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from voxdesk.documents.blocks import Block
from voxdesk.documents.cleaning import clean_inline
from voxdesk.documents.model import Chapter, DocumentError, Metadata
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.outline import Extracted, chapters_from_blocks
from voxdesk.documents.sources import Source

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted Office files are OLE containers
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def refuse_ole(source: Source, kind: str) -> None:
    if source.data.startswith(OLE_MAGIC):
        raise DocumentError(
            f"{source.label} is a password-protected (encrypted) {kind} or an old binary "
            "Office file.", f"Save it again as an unprotected {kind} and open that.")


def _heading_level(paragraph: Any) -> int | None:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    # "Title" is not a heading: it opens the first chapter rather than being one.
    match = re.fullmatch(r"Heading (\d)", name)
    return int(match.group(1)) if match else None


def read_docx(source: Source, options: ReadOptions) -> Extracted:
    import docx
    from docx.table import Table

    refuse_ole(source, "DOCX")
    try:
        document = docx.Document(BytesIO(source.data))
    except Exception as exc:  # noqa: BLE001 (python-docx raises zip, KeyError, lxml errors...)
        raise DocumentError(f"{source.label} is not a readable DOCX ({type(exc).__name__}: "
                            f"{exc}).", "The file may be damaged; save it again from the "
                            "word processor.") from None
    blocks: list[Block] = []
    for part in document.iter_inner_content():
        if isinstance(part, Table):
            if options.include_tables:
                for row in part.rows:
                    cells = [clean_inline(c.text) for c in row.cells]
                    text = ", ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat
                    blocks.append(Block(text))
            continue
        level = _heading_level(part)
        blocks.append(Block(clean_inline(part.text), None if level is None else level + 1))
    if options.include_footnotes:
        notes = _footnotes(document)
        if notes:
            blocks.append(Block("Notes", 1))
            blocks.extend(Block(n) for n in notes)
    props = document.core_properties
    metadata = Metadata(title=props.title or None, author=props.author or None,
                        language=props.language or None)
    chapters: tuple[Chapter, ...] = chapters_from_blocks(blocks, metadata.title or source.label)
    return Extracted(metadata, chapters)


def _footnotes(document: Any) -> list[str]:
    from lxml import etree

    for rel in document.part.rels.values():
        if rel.reltype.endswith("/footnotes") and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            notes = []
            for note in root.iter(f"{_W}footnote"):
                if int(note.get(f"{_W}id", "0")) > 0:  # -1, 0: separators
                    text = clean_inline("".join(note.itertext()))
                    if text:
                        notes.append(text)
            return notes
    return []
