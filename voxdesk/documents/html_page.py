"""HTML (a file or a fetched page): the article, not the menus (trafilatura); a page
trafilatura finds no article in is read whole, without navigation and scripts."""

from __future__ import annotations

from lxml import etree

from voxdesk.documents.blocks import Block, html_blocks, parse_html
from voxdesk.documents.cleaning import clean_inline
from voxdesk.documents.model import DocumentError, Metadata
from voxdesk.documents.options import ReadOptions
from voxdesk.documents.outline import Extracted, chapters_from_blocks
from voxdesk.documents.sources import Source


def read_html(source: Source, options: ReadOptions) -> Extracted:
    import trafilatura

    try:
        tree = parse_html(source.data)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"{source.label} is not a readable HTML page ({exc}).") from None
    extracted = trafilatura.extract(tree, output_format="xml", include_tables=options.include_tables,
                                    include_comments=False, include_formatting=True,
                                    include_images=False, include_links=False)
    blocks = _article_blocks(extracted, options) if extracted else []
    fallback = html_blocks(tree, options.include_footnotes, options.include_tables)
    if not blocks:
        blocks = fallback.blocks
    if not any(b.text for b in blocks):
        raise DocumentError(f"{source.label} has no readable text.",
                            "The page may build its text with JavaScript; save it from a browser "
                            "and open the file.")
    meta = trafilatura.extract_metadata(tree)
    title = (meta.title if meta is not None else None) or fallback.title
    author = meta.author if meta is not None else None
    language = fallback.language or (getattr(meta, "language", None) if meta else None)
    metadata = Metadata(title=title or None, author=author or None, language=language)
    return Extracted(metadata, chapters_from_blocks(blocks, title or source.label))


def _article_blocks(xml: str, options: ReadOptions) -> list[Block]:
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks: list[Block] = []

    def text(el: etree._Element) -> str:
        return clean_inline("".join(el.itertext()))

    def emit(el: etree._Element) -> None:
        for child in el:
            tag = child.tag
            if tag == "head":
                rend = str(child.get("rend", "h2"))
                level = int(rend[1]) if len(rend) == 2 and rend[1].isdigit() else 2
                blocks.append(Block(text(child), level))
            elif tag in ("p", "quote", "code"):
                blocks.append(Block(text(child)))
            elif tag == "list":
                blocks.extend(Block(text(item)) for item in child if item.tag == "item")
            elif tag == "table":
                if options.include_tables:
                    for row in child.iter("row"):
                        cells = [text(c) for c in row if c.tag == "cell"]
                        blocks.append(Block(", ".join(c for c in cells if c)))
            else:
                emit(child)

    emit(main if main is not None else root)
    return [b for b in blocks if b.text]
