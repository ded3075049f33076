"""EPUB through ebooklib: the spine in reading order, the table of contents as chapters.

A chapter runs from its table-of-contents entry (a file, or an anchor in one) to the next
entry; files are turned into paragraphs only when a chapter in them is wanted. Footnotes,
endnotes, note marks and tables are skipped unless asked for; so are non-linear spine items
(usually the notes) and the navigation document.
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from voxdesk.documents.blocks import Blocks, html_blocks
from voxdesk.documents.model import (
    Chapter,
    DocumentError,
    Metadata,
    OutlineEntry,
    check_chapter,
)
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.sources import Source

# Fonts may be "encrypted" by the standard obfuscation algorithms; that is not DRM.
_FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
_CONTENT_SUFFIXES = (".xhtml", ".html", ".htm", ".xml")


@dataclass(frozen=True)
class _Entry:
    title: str
    level: int
    spine: int  # index into the readable spine
    anchor: str | None


def check_drm(source: Source) -> None:
    try:
        with zipfile.ZipFile(BytesIO(source.data)) as archive:
            names = set(archive.namelist())
            bad = archive.testzip()
            encryption = (archive.read("META-INF/encryption.xml")
                          if "META-INF/encryption.xml" in names else None)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DocumentError(f"{source.label} is a damaged EPUB ({exc}).",
                            "Download or copy it again.") from None
    if bad is not None:
        raise DocumentError(f"{source.label} is a damaged EPUB ({bad} is corrupt).",
                            "Download or copy it again.")
    if encryption is None:
        return
    try:
        root = ElementTree.fromstring(encryption)
    except ElementTree.ParseError:
        return
    for data in root.iter("{http://www.w3.org/2001/04/xmlenc#}EncryptedData"):
        method = data.find("{http://www.w3.org/2001/04/xmlenc#}EncryptionMethod")
        reference = data.find(".//{http://www.w3.org/2001/04/xmlenc#}CipherReference")
        uri = (reference.get("URI", "") if reference is not None else "").lower()
        algorithm = method.get("Algorithm", "") if method is not None else ""
        if algorithm not in _FONT_OBFUSCATION or uri.endswith(_CONTENT_SUFFIXES):
            raise DocumentError(
                f"{source.label} is protected by DRM: its text is encrypted.",
                "Open it in the application it was bought for; VoxDesk reads DRM-free "
                "EPUBs only.")


def _first(book: Any, name: str) -> str | None:
    values = book.get_metadata("DC", name)
    return str(values[0][0]).strip() or None if values and values[0][0] else None


class EpubExtractor:
    def __init__(self, source: Source, options: ReadOptions) -> None:
        import ebooklib
        from ebooklib import epub

        check_drm(source)
        try:
            book = epub.read_epub(BytesIO(source.data), {"ignore_ncx": False})
        except Exception as exc:  # noqa: BLE001 (ebooklib raises anything, KeyError to lxml)
            raise DocumentError(f"{source.label} is not a readable EPUB ({exc}).",
                                "The file may be damaged; download or copy it again.") from None
        self._options = options
        self._label = source.label
        readable = []
        for idref, linear in book.spine:
            item = book.get_item_with_id(idref)
            if item is None or isinstance(item, epub.EpubNav):
                continue
            if item.get_type() != ebooklib.ITEM_DOCUMENT:
                continue
            if str(linear).lower() == "no" and not options.include_footnotes:
                continue
            readable.append(item)
        if not readable:
            raise DocumentError(f"{source.label} has no readable content.")
        self._items = readable
        self._parsed: dict[int, Blocks] = {}
        self.metadata = Metadata(title=_first(book, "title"), author=_first(book, "creator"),
                                 language=_first(book, "language"), **_cover(book))
        self._entries = self._toc_entries(book)
        first = self._position(self._entries[0])
        if first != (0, 0) and (first[1] > 0 or any(self._blocks(i).blocks
                                                    for i in range(first[0]))):
            # Text before the first entry (title page, foreword): a chapter of its own.
            self._entries.insert(0, _Entry(self.metadata.title or source.label, 1, 0, None))
        self.outline = tuple(OutlineEntry(i, e.title, e.level)
                             for i, e in enumerate(self._entries, 1))

    def _toc_entries(self, book: Any) -> list[_Entry]:
        index = {posixpath.normpath(item.get_name()): i for i, item in enumerate(self._items)}
        entries: list[_Entry] = []

        def visit(nodes: Any, level: int) -> None:
            for node in nodes:
                if isinstance(node, tuple):  # (Section, children)
                    section, children = node
                    add(getattr(section, "title", ""), getattr(section, "href", ""), level)
                    visit(children, level + 1)
                elif isinstance(node, list):
                    visit(node, level)
                else:
                    add(getattr(node, "title", ""), getattr(node, "href", ""), level)

        def add(title: str, href: str | None, level: int) -> None:
            if not href:
                return
            path, _, anchor = unquote(href).partition("#")
            spine = index.get(posixpath.normpath(path))
            if spine is None:  # NCX hrefs are relative to the NCX: match by the tail
                spine = next((i for name, i in index.items()
                              if name.endswith("/" + path.lstrip("./")) or name == path), None)
            if spine is not None:
                entries.append(_Entry(" ".join(str(title or "").split()) or f"Part {len(entries) + 1}",
                                      level, spine, anchor or None))

        visit(book.toc if isinstance(book.toc, (list, tuple)) else [book.toc], 1)
        # Reading order, whatever order the table of contents lists them in.
        entries.sort(key=lambda e: (e.spine, self._position(e)[1] if e.anchor else 0))
        if not entries:  # no usable table of contents: one chapter per spine file
            for i in range(len(self._items)):
                heading = next((b.text for b in self._blocks(i).blocks if b.heading), None)
                entries.append(_Entry(heading or f"Part {i + 1}", 1, i, None))
        return entries

    def _blocks(self, spine: int) -> Blocks:
        if spine not in self._parsed:
            item = self._items[spine]
            try:
                self._parsed[spine] = html_blocks(item.get_content(),
                                                  self._options.include_footnotes,
                                                  self._options.include_tables)
            except Exception as exc:  # noqa: BLE001 (lxml's errors on a broken file)
                raise DocumentError(f"{self._label}: {item.get_name()} cannot be read ({exc}).",
                                    "The EPUB may be damaged.") from None
        return self._parsed[spine]

    def _position(self, entry: _Entry) -> tuple[int, int]:
        if entry.anchor is None:
            return entry.spine, 0
        return entry.spine, self._blocks(entry.spine).anchors.get(entry.anchor, 0)

    def chapter(self, number: int) -> Chapter:
        check_chapter(number, len(self._entries))
        entry = self._entries[number - 1]
        start = self._position(entry)
        end = (self._position(self._entries[number]) if number < len(self._entries)
               else (len(self._items), 0))
        paragraphs: list[str] = []
        for spine in range(start[0], min(end[0], len(self._items) - 1) + 1):
            blocks = self._blocks(spine).blocks
            first = start[1] if spine == start[0] else 0
            last = end[1] if spine == end[0] else len(blocks)
            paragraphs.extend(b.text for b in blocks[first:last])
        return Chapter(entry.title, tuple(paragraphs) or (entry.title,), entry.level)


def _cover(book: Any) -> dict[str, Any]:
    import ebooklib
    from ebooklib import epub

    candidates = [i for i in book.get_items() if isinstance(i, epub.EpubCover)]
    for _, attrs in book.get_metadata("OPF", "cover"):
        item = book.get_item_with_id(attrs.get("content", ""))
        if item is not None:
            candidates.append(item)
    candidates += [i for i in book.get_items_of_type(ebooklib.ITEM_IMAGE)
                   if "cover" in i.get_name().lower()]
    for item in candidates:
        content = item.get_content()
        if content and str(item.media_type).startswith("image/"):
            return {"cover": content, "cover_type": item.media_type}
    return {}
