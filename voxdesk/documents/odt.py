"""ODT through odfpy: paragraphs, headings (text:h and its outline level), lists, notes."""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Any

from voxdesk.documents.blocks import Block
from voxdesk.documents.cleaning import clean_inline
from voxdesk.documents.docx_file import refuse_ole
from voxdesk.documents.model import DocumentError, Metadata
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.outline import Extracted, chapters_from_blocks
from voxdesk.documents.sources import Source

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def read_odt(source: Source, options: ReadOptions) -> Extracted:
    from odf.opendocument import load

    refuse_ole(source, "ODT")
    if _encrypted(source.data):
        raise DocumentError(f"{source.label} is password-protected.",
                            "Save it again without a password and open that.")
    try:
        document = load(BytesIO(source.data))
    except Exception as exc:  # noqa: BLE001 (odfpy raises KeyError, zip and XML errors alike)
        raise DocumentError(f"{source.label} is not a readable ODT ({type(exc).__name__}: "
                            f"{exc}).", "The file may be damaged; save it again.") from None
    reader = _Reader(options)
    reader.walk(document.text)
    meta = document.meta
    metadata = Metadata(title=_meta(meta, "title"), author=_meta(meta, "creator")
                        or _meta(meta, "initial-creator"), language=_meta(meta, "language"))
    return Extracted(metadata, chapters_from_blocks(reader.blocks, metadata.title or source.label))


def _encrypted(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return b"encryption-data" in archive.read("META-INF/manifest.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False  # the reader says what is wrong with it


def _meta(meta: Any, name: str) -> str | None:
    for node in meta.childNodes:
        if getattr(node, "qname", (None, None))[1] == name:
            text = clean_inline(str(node))
            return text or None
    return None


class _Reader:
    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self.blocks: list[Block] = []

    def walk(self, node: Any) -> None:
        for child in node.childNodes:
            ns, name = getattr(child, "qname", (None, None))
            if ns == TEXT_NS and name in ("p", "h"):
                notes: list[str] = []
                text = clean_inline(self.inline(child, notes))
                level = None
                if name == "h":
                    level = int(child.getAttrNS(TEXT_NS, "outline-level") or 1)
                self.blocks.append(Block(text, level))
                self.blocks.extend(Block(n) for n in notes)
            elif ns == TABLE_NS and name == "table":
                if self.options.include_tables:
                    self.table(child)
            elif ns == TEXT_NS and name in ("tracked-changes", "sequence-decls"):
                continue
            elif getattr(child, "childNodes", None):
                self.walk(child)  # lists, sections, frames

    def table(self, table: Any) -> None:
        for row in table.getElementsByType(_table_row()):
            cells = [clean_inline(self.inline(cell, [])) for cell in row.childNodes]
            text = ", ".join(c for c in cells if c)
            if text:
                self.blocks.append(Block(text))

    def inline(self, node: Any, notes: list[str]) -> str:
        parts: list[str] = []
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                parts.append(child.data)
                continue
            ns, name = child.qname
            if ns == TEXT_NS and name == "s":
                parts.append(" " * int(child.getAttrNS(TEXT_NS, "c") or 1))
            elif ns == TEXT_NS and name in ("tab", "line-break"):
                parts.append(" ")
            elif ns == TEXT_NS and name == "note":
                if self.options.include_footnotes:
                    for body in child.childNodes:
                        if body.qname == (TEXT_NS, "note-body"):
                            notes.append(clean_inline(self.inline(body, [])))
            else:
                parts.append(self.inline(child, notes))
                if ns == TEXT_NS and name == "p":
                    parts.append(" ")
        return "".join(parts)


def _table_row() -> Any:
    from odf.table import TableRow

    return TableRow
