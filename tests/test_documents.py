"""Documents made by real libraries (reportlab, ebooklib, python-docx, odfpy, an HTML page),
extracted and checked against the text they were made from: order, outline, cleaning."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from voxdesk.documents import DocumentError, load_document, open_document
from voxdesk.testing.documents import make_docx, make_epub, make_odt, make_pdf

HEADER = "The Lighthouse Keeper - A Novel by Ann Author"
ONE = "Chapter One: The Harbour"
TWO = "Chapter Two: The Storm"
# Paragraph 1 is given as lines, with "care-" / "fully" hyphenated across a line break.
P1_LINES = ["The keeper lived alone at the end of the pier, where he wrote a long and care-",
            "fully kept diary of every ship that passed the harbour."]
P1 = ("The keeper lived alone at the end of the pier, where he wrote a long and carefully "
      "kept diary of every ship that passed the harbour.")
LONG = " ".join(f"Night {n} was calm and the lamp turned slowly over the black water." for n in
                range(1, 61))  # ~4,000 characters: runs over onto the next PDF page
P3 = "In the morning the fishermen came back with empty nets and tired faces."
S1 = "The storm came at night and nobody in the small town slept."
S2 = "By dawn the streets were full of branches and broken tiles."
CHAPTERS = [(ONE, [P1_LINES, LONG, P3]), (TWO, [S1, S2])]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    return {
        "pdf": make_pdf(folder / "book.pdf", CHAPTERS, running_header=HEADER,
                        title="The Lighthouse Keeper", author="Ann Author"),
        "epub": make_epub(folder / "book.epub", CHAPTERS, title="The Lighthouse Keeper",
                          author="Ann Author", language="en",
                          footnote=(1, "A footnote about storms."), cover=_png()),
        "docx": make_docx(folder / "book.docx", CHAPTERS, title="The Lighthouse Keeper",
                          table=[["Ship", "Date"], ["Aurora", "May"]]),
        "odt": make_odt(folder / "book.odt", CHAPTERS, title="The Lighthouse Keeper"),
    }


def _png() -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), 200, dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_pdf_drops_headers_footers_page_numbers_and_rejoins_hyphenated_words(files):
    document = load_document(files["pdf"])
    assert [c.title for c in document.chapters] == [ONE, TWO]  # the PDF's bookmarks
    one, two = document.chapters
    # Known text, in order, one paragraph each: the long paragraph runs across a page break.
    assert one.paragraphs == (ONE, P1, LONG, P3)
    assert two.paragraphs == (TWO, S1, S2)
    text = document.text()
    assert HEADER not in text and "Page " not in text and "care-" not in text
    assert document.title == "The Lighthouse Keeper" and document.author == "Ann Author"
    assert document.text(2) == f"{TWO}\n\n{S1}\n\n{S2}"


def test_pdf_without_an_outline_is_one_chapter(tmp_path):
    path = make_pdf(tmp_path / "flat.pdf", CHAPTERS, running_header=HEADER, outline=False)
    document = load_document(path)
    assert len(document.chapters) == 1
    assert document.chapters[0].paragraphs == (ONE, P1, LONG, P3, TWO, S1, S2)


def test_epub_reads_the_spine_in_order_with_its_table_of_contents(files):
    document = load_document(files["epub"])
    assert [c.title for c in document.chapters] == [ONE, TWO]
    assert document.chapters[0].paragraphs == (ONE, P1, LONG, P3)
    # The footnote and its mark are not read...
    assert document.chapters[1].paragraphs == (TWO, S1, S2)
    assert (document.title, document.author, document.language) == (
        "The Lighthouse Keeper", "Ann Author", "en")
    assert document.cover is not None and document.cover.startswith(b"\x89PNG")
    assert document.cover_type == "image/png"
    # ... unless asked for: then the note's text is read where it stands, without its mark.
    with_notes = load_document(files["epub"], include_footnotes=True)
    assert with_notes.chapters[1].paragraphs == (TWO, S1, S2, "A footnote about storms.")


def test_docx_headings_are_the_outline_and_tables_are_skipped_unless_asked(files):
    document = load_document(files["docx"])
    assert [(c.title, c.level) for c in document.chapters] == [(ONE, 1), (TWO, 1)]
    # The title line opens the first chapter rather than being a chapter of its own.
    assert document.chapters[0].paragraphs == ("The Lighthouse Keeper", ONE, P1, LONG, P3)
    assert document.chapters[1].paragraphs == (TWO, S1, S2)
    assert document.title == "The Lighthouse Keeper"
    tables = load_document(files["docx"], include_tables=True)
    assert tables.chapters[0].paragraphs[-2:] == ("Ship, Date", "Aurora, May")


def test_odt_headings_and_paragraphs(files):
    document = load_document(files["odt"])
    assert [c.title for c in document.chapters] == [ONE, TWO]
    assert document.chapters[0].paragraphs == (ONE, P1, LONG, P3)
    assert document.title == "The Lighthouse Keeper"


ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour news - The Daily Example</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/login">Log in</a></li></ul></nav>
<div class="banner">Subscribe today and get three months free! Newsletter | Podcasts</div>
<main><article><h1>The harbour reopens</h1>
<p>After two years of work the old harbour reopened on Saturday, and hundreds of people came
to see the boats return to the quay where their grandparents once fished.</p>
<h2>A new lighthouse</h2>
<p>The lighthouse, rebuilt stone by stone, was lit again at dusk while a brass band played on
the pier and the children counted the seconds between the flashes.</p>
<p>The mayor said the town would celebrate the reopening every year from now on, on the first
Saturday of June.</p></article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Ten beaches to visit</a></li></ul></aside>
<footer><p>Copyright 2025 The Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/cookies">Cookies</a></footer>
</body></html>"""


def test_html_keeps_the_article_not_the_menus(tmp_path):
    path = tmp_path / "article.html"
    path.write_text(ARTICLE, encoding="utf-8")
    document = load_document(path)
    text = document.text()
    assert [c.title for c in document.chapters] == ["The harbour reopens", "A new lighthouse"]
    assert text.startswith("The harbour reopens\n\nAfter two years of work")
    assert "counted the seconds between the flashes." in text
    assert text.endswith("on the first Saturday of June.")
    for menu in ("Home", "Subscribe", "Copyright", "Privacy", "Ten beaches", "Most read"):
        assert menu not in text
    assert document.language == "en"


def test_html_from_a_url(tmp_path):
    import http.server
    import threading

    page = ARTICLE.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/article":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        document = load_document(f"{url}/article")
        assert document.chapters[0].title == "The harbour reopens"
        assert "Subscribe" not in document.text()
        with pytest.raises(DocumentError, match="404"):
            load_document(f"{url}/missing")
        with pytest.raises(DocumentError, match="MB"):
            load_document(f"{url}/article", max_bytes=1000)  # size limit while downloading
    finally:
        server.shutdown()
        server.server_close()


def test_markdown_headings_are_chapters_and_markup_is_removed(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Trip notes\n\nWe left **early** on _Monday_, see [the map](map.png).\n\n"
                    "## Day two\n\n- bought `bread`\n- walked to the lighthouse\n",
                    encoding="utf-8")
    document = load_document(path)
    assert [(c.title, c.level) for c in document.chapters] == [("Trip notes", 1),
                                                               ("Day two", 2)]
    assert document.text() == ("Trip notes\n\nWe left early on Monday, see the map.\n\n"
                               "Day two\n\nbought bread\n\nwalked to the lighthouse")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp1252"])
def test_markdown_in_common_encodings_keeps_its_accents(tmp_path, encoding):
    path = tmp_path / "notes.md"
    path.write_bytes("# Été à Paris\n\nLe café était fermé.\n".encode(encoding))
    document = load_document(path)
    assert [c.title for c in document.chapters] == ["Été à Paris"]
    assert document.text() == "Été à Paris\n\nLe café était fermé."


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252", "latin-1"])
def test_plain_text_in_common_encodings(tmp_path, encoding):
    text = ("Café au lait, s'il vous plaît: déjà vu à Paris.\nThe second line of the same "
            "paragraph.\n\nA new paragraph, naïve and façade.")
    path = tmp_path / "text.txt"
    path.write_bytes(text.encode(encoding))
    document = load_document(path)
    assert document.text() == ("Café au lait, s'il vous plaît: déjà vu à Paris. The second "
                               "line of the same paragraph.\n\nA new paragraph, naïve and façade.")


def test_identity_is_the_content_not_the_name(files, tmp_path):
    import hashlib

    copy = tmp_path / "renamed.epub"
    copy.write_bytes(files["epub"].read_bytes())
    identity = load_document(files["epub"]).identity
    assert identity == hashlib.sha256(files["epub"].read_bytes()).hexdigest()
    assert load_document(copy).identity == identity


def test_open_document_gives_the_outline_first_and_chapters_on_demand(files):
    for kind in ("pdf", "epub"):
        opened = open_document(files[kind])
        assert [e.title for e in opened.outline] == [ONE, TWO]
        assert opened.chapter(2).paragraphs == (TWO, S1, S2)
        opened.prefetch()
        assert opened.document() == load_document(files[kind])


# -- bad input ---------------------------------------------------------------------------------


def test_encrypted_pdf_is_refused(tmp_path):
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    path = tmp_path / "secret.pdf"
    pdf = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("user-pw", "owner"))
    pdf.drawString(72, 720, "Secret text.")
    pdf.save()
    with pytest.raises(DocumentError, match="encrypted") as error:
        load_document(path)
    assert "password" in error.value.hint


def test_scanned_pdf_without_text_layer_suggests_ocr(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    for _ in range(3):  # pages with only drawings on them, as a scanner makes
        pdf.rect(72, 72, 400, 600, fill=1)
        pdf.showPage()
    pdf.save()
    with pytest.raises(DocumentError, match="no text layer") as error:
        load_document(path)
    assert "OCR" in error.value.hint


def test_drm_epub_is_refused(files, tmp_path):
    path = tmp_path / "drm.epub"
    with zipfile.ZipFile(files["epub"]) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("META-INF/encryption.xml", (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
            '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
            '<enc:CipherData><enc:CipherReference URI="EPUB/chapter1.xhtml"/></enc:CipherData>'
            "</enc:EncryptedData></encryption>"))
    with pytest.raises(DocumentError, match="DRM"):
        load_document(path)


@pytest.mark.parametrize("kind", ["epub", "docx", "odt"])
def test_corrupt_archive_is_refused(files, tmp_path, kind):
    path = tmp_path / f"broken.{kind}"
    data = files[kind].read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a download cut in half
    with pytest.raises(DocumentError, match="damaged|not a readable"):
        load_document(path)


def test_binary_file_named_txt_is_refused(tmp_path):
    import numpy as np

    path = tmp_path / "image.txt"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(DocumentError, match="not a text file|encoding"):
        load_document(path)


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.pdf"
    with path.open("wb") as f:
        f.truncate(500 * 1024 * 1024)  # 500 MB, sparse: nothing is written, nothing read
    with pytest.raises(DocumentError, match="500 MB"):
        load_document(path)


def test_unreachable_url_fails_clearly():
    with pytest.raises(DocumentError, match="Cannot fetch"):
        load_document("http://127.0.0.1:9/book.html", timeout=2)  # the discard port: refused


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DocumentError, match="does not exist"):
        load_document(tmp_path / "nothing.epub")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty"):
        load_document(empty)
