"""What the clipboard reader speaks: plain text first, visible HTML text, large text in parts."""

from voxdesk.clipboard_text import clipboard_text, html_to_text, parts


def test_plain_text_is_preferred_over_html():
    assert clipboard_text("  plain words ", "<b>html words</b>") == "plain words"


def test_html_is_reduced_to_its_visible_text():
    markup = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<h1>Title</h1><p>First &amp; <b>bold</b> para.</p><script>x()</script>"
        "<ul><li>one</li><li>two</li></ul></body></html>"
    )
    assert html_to_text(markup) == "Title\nFirst & bold para.\none\ntwo"
    assert clipboard_text(None, markup) == html_to_text(markup)


def test_nothing_readable_gives_empty_text():
    assert clipboard_text(None, None) == ""
    assert clipboard_text("   ", "<img src='x.png'>") == ""


def test_large_text_is_read_in_parts_that_cover_it_exactly():
    text = "".join(f"Sentence number {i}. " for i in range(80_000))  # ~1.7 MB
    pieces = list(parts(text))
    assert "".join(pieces) == text
    assert len(pieces) > 20 and all(len(p) <= 50_000 for p in pieces)
    assert all(p.endswith(". ") for p in pieces[:-1])
