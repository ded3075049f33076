"""Documents uploaded to the HTTP API: a real uvicorn server, real files, the tiny model."""

from __future__ import annotations

import io

import pytest
import requests
import soundfile

from voxdesk.documents import load_document
from voxdesk.server.app import ServerLimits
from voxdesk.testing.documents import make_docx, make_epub

CHAPTERS = [("Harbour", ["The boats came in."]), ("Storm", ["The wind rose.", "It rained."])]


@pytest.fixture(scope="module")
def server_limits():
    return ServerLimits(max_text_chars=5000, max_upload_bytes=200_000, max_waiting=2)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return make_epub(tmp_path_factory.mktemp("api") / "book.epub", CHAPTERS)


def post(server, route: str, files: dict, **fields):
    return requests.post(f"{server.url}{route}", data={"max_len": "4", "seed": "5", **fields},
                         files=files, timeout=120)


def test_a_chapter_of_an_uploaded_epub_is_spoken_as_its_text(server, book, engine,
                                                             monkeypatch):
    seen: list[str] = []
    generate = engine._generate_segment

    def spy(text, prompt, request):
        seen.append(text)
        return generate(text, prompt, request)

    monkeypatch.setattr(engine, "_generate_segment", spy)
    with book.open("rb") as f:
        response = post(server, "/api/tts", {"document": ("book.epub", f)}, chapter="2")
    assert response.status_code == 200, response.text
    audio, rate = soundfile.read(io.BytesIO(response.content))
    assert rate == 48000 and len(audio) > 0
    assert seen == ["Storm", "The wind rose.", "It rained."]
    assert "\n\n".join(seen) == load_document(book).text(2)

    seen.clear()
    with book.open("rb") as f:  # streamed, the whole book
        streamed = post(server, "/api/tts/stream", {"document": ("book.epub", f)})
    assert streamed.status_code == 200 and len(streamed.content) > 44
    assert seen == ["Harbour", "The boats came in.", "Storm", "The wind rose.", "It rained."]


def test_docx_upload_under_a_misleading_name_is_read_by_its_content(server, tmp_path):
    path = make_docx(tmp_path / "notes.docx", CHAPTERS)
    with path.open("rb") as f:
        response = post(server, "/api/tts", {"document": ("notes.txt", f)}, chapter="1")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name, content, status, message", [
    ("book.epub", b"PK\x03\x04 not really a zip", 422, "damaged"),
    ("photo.txt", bytes(range(256)) * 40, 422, "not a text file"),
    ("huge.txt", b"word " * 50_000, 413, "too large"),  # over max_upload_bytes
])
def test_bad_documents_get_a_clear_4xx(server, name, content, status, message):
    response = post(server, "/api/tts/stream", {"document": (name, content)})
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert response.json()["hint"]


def test_document_field_rules(server, book):
    with book.open("rb") as f:
        both = post(server, "/api/tts", {"document": ("book.epub", f)}, text="Hello.")
    assert both.status_code == 422 and "not both" in both.json()["error"]
    with book.open("rb") as f:
        missing = post(server, "/api/tts", {"document": ("book.epub", f)}, chapter="9")
    assert missing.status_code == 422 and "no chapter 9" in missing.json()["error"]
    alone = requests.post(f"{server.url}/api/tts", data={"chapter": "1"}, timeout=30)
    assert alone.status_code == 422 and "needs a document" in alone.json()["error"]
    nothing = requests.post(f"{server.url}/api/tts", data={"max_len": "4"}, timeout=30)
    assert nothing.status_code == 422
