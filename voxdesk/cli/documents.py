"""`voxdesk text` and `voxdesk chapters`: what VoxDesk reads from a document, before it does.

    voxdesk text FILE|URL [--chapter N] [--footnotes] [--tables]
    voxdesk chapters FILE|URL [--json]

`text` prints exactly the text that would be read (after cleaning, before the lexicon), one
paragraph per blank-line-separated block, so it can be checked or piped elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voxdesk.documents import OpenedDocument


def register(subparsers: argparse._SubParsersAction) -> None:
    text = subparsers.add_parser(
        "text", help="print the text VoxDesk would read from a document",
        description="Print the text that `voxdesk speak --file` reads: page numbers, running "
        "headers and footers, footnotes and tables removed, hyphenated words re-joined.")
    text.add_argument("source", metavar="FILE|URL")
    _add_reading_options(text)
    text.add_argument("--chapter", type=int, metavar="N", help="only chapter N")
    text.set_defaults(func=run_text)

    chapters = subparsers.add_parser(
        "chapters", help="list a document's chapters",
        description="List the chapters (table of contents, bookmarks or headings) with their "
        "number (for --chapter N), title and length.")
    chapters.add_argument("source", metavar="FILE|URL")
    _add_reading_options(chapters)
    chapters.add_argument("--json", action="store_true", help="machine-readable output")
    chapters.set_defaults(func=run_chapters)


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--footnotes", action="store_true", help="include footnotes/endnotes")
    parser.add_argument("--tables", action="store_true", help="include tables")


def open_from_args(args: argparse.Namespace) -> OpenedDocument:
    """The document named by ``args.file`` (speak/export) or ``args.source`` (text/chapters)."""
    from voxdesk.documents import open_document

    source = getattr(args, "file", None) or args.source
    document = open_document(str(source), include_footnotes=getattr(args, "footnotes", False),
                             include_tables=getattr(args, "tables", False))
    chapter = getattr(args, "chapter", None)
    if chapter is not None:
        document.chapter(chapter)  # a wrong number is refused before anything else happens
    return document


def run_text(args: argparse.Namespace) -> int:
    document = open_from_args(args)
    text = document.text(args.chapter)
    sys.stdout.write(text + "\n")
    return 0


def run_chapters(args: argparse.Namespace) -> int:
    document = open_from_args(args)
    chapters = document.chapters()
    if args.json:
        print(json.dumps({
            "source": document.source, "title": document.title, "author": document.author,
            "language": document.language, "identity": document.identity,
            "chapters": [{"number": n, "title": c.title, "level": c.level,
                          "characters": len(c.text)} for n, c in enumerate(chapters, 1)],
        }, ensure_ascii=False, indent=2))
        return 0
    heading = " - ".join(x for x in (document.title, document.author) if x)
    if heading:
        print(heading)
    width = len(str(len(chapters)))
    for number, chapter in enumerate(chapters, 1):
        indent = "  " * (chapter.level - 1)
        print(f"{number:>{width}}. {indent}{chapter.title}  ({len(chapter.text):,} characters)")
    return 0
