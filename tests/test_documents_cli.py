"""`voxdesk text`, `voxdesk chapters`, `speak/export --file DOCUMENT --chapter N`, and resume:
the position saved while speaking survives kill -9 and `--resume` continues from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import soundfile

from tests.conftest import VOXDESK
from voxdesk.documents import load_document
from voxdesk.engine.segmentation import split_text
from voxdesk.testing.documents import make_epub, make_pdf

FAST = ["--max-len", "6", "--seed", "11", "--device", "cpu"]
CHAPTERS = [
    ("The Harbour", ["The boats came in at dawn.", "The nets were full of fish."]),
    ("The Storm", [f"Sentence number {n} of the storm." for n in range(1, 13)]),
]


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return make_epub(tmp_path / "book.epub", CHAPTERS, title="Sea Stories")


def test_text_prints_exactly_what_is_read(cli, book, tmp_path):
    result = cli("text", str(book), "--chapter", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout == load_document(book).text(2) + "\n"
    assert result.stdout.startswith("The Storm\n\nSentence number 1 of the storm.\n\n")
    whole = cli("text", str(book)).stdout
    assert whole == "The Harbour\n\nThe boats came in at dawn.\n\nThe nets were full of fish." \
        "\n\n" + result.stdout


def test_chapters_lists_number_title_and_length(cli, tmp_path):
    pdf = make_pdf(tmp_path / "book.pdf", CHAPTERS, running_header="Sea Stories")
    result = cli("chapters", str(pdf))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    document = load_document(pdf)
    assert lines == [f"1. The Harbour  ({len(document.text(1)):,} characters)",
                     f"2. The Storm  ({len(document.text(2)):,} characters)"]
    data = json.loads(cli("chapters", str(pdf), "--json").stdout)
    assert [c["title"] for c in data["chapters"]] == ["The Harbour", "The Storm"]
    assert data["identity"] == document.identity


@pytest.mark.parametrize("content, expected", [
    (b"\x00\x01\x02binary" * 100, "not a text file"),
    (b"PK\x03\x04broken zip", "damaged"),
])
def test_bad_documents_give_a_one_line_error(cli, tmp_path, content, expected):
    suffix = ".epub" if content.startswith(b"PK") else ".txt"
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    for command in (["text", str(path)], ["speak", "--file", str(path), "--standalone"]):
        result = cli(*command)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("voxdesk: error:") and expected in lines[-1], result.stderr
        assert "Traceback" not in result.stderr


def test_wrong_chapter_number_is_refused_before_the_model_loads(cli, book):
    result = cli("speak", "--file", str(book), "--chapter", "7", "--model", "/nonexistent")
    assert result.returncode == 2 and "no chapter 7" in result.stderr


def test_export_of_a_chapter_is_the_chapter_text(cli, book, tiny_model_dir, tmp_path):
    from_file, from_text = tmp_path / "file.wav", tmp_path / "text.wav"
    result = cli("export", "--file", str(book), "--chapter", "1", "-o", str(from_file),
                 "--model", str(tiny_model_dir), *FAST)
    assert result.returncode == 0, result.stderr
    assert cli("export", load_document(book).text(1), "-o", str(from_text),
               "--model", str(tiny_model_dir), *FAST).returncode == 0
    file_audio, _ = soundfile.read(from_file)
    text_audio, _ = soundfile.read(from_text)
    assert len(file_audio) > 0 and (file_audio == text_audio).all()  # same text, same seed


def _position_file(env: dict[str, str], identity: str) -> Path:
    return Path(env["VOXDESK_DATA_DIR"]) / "positions" / f"{identity}.json"


def test_resume_after_kill_9_continues_at_the_saved_sentence(book, tiny_model_dir, tmp_path,
                                                            sink_recorder, monkeypatch):
    env = {**os.environ, "VOXDESK_DATA_DIR": str(tmp_path / "data"),
           "VOXDESK_CONFIG_DIR": str(tmp_path / "config")}
    document = load_document(book)
    position = _position_file(env, document.identity)
    command = [*VOXDESK, "speak", "--file", str(book), "--chapter", "2", "--standalone",
               "--model", str(tiny_model_dir), *FAST]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        saved = None
        while time.monotonic() < deadline and process.poll() is None:
            if position.exists():
                saved = json.loads(position.read_text())
                if saved["sentence"] >= 3:
                    break
            time.sleep(0.05)
        assert saved is not None and saved["sentence"] >= 3, (saved, process.poll())
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    saved = json.loads(position.read_text())  # intact after kill -9 (written atomically)
    assert saved["chapter"] == 2 and saved["identity"] == document.identity
    chapter_text = document.text(2)
    sentences = split_text(chapter_text)
    assert sentences[saved["sentence"]].start == saved["offset"]

    # Resume in this process, with a spy on the text each sentence gives the model.
    from voxdesk.cli import main
    from voxdesk.engine.engine import Engine

    heard: list[str] = []
    generate = Engine._generate_segment

    def spy(self, text, prompt, request):
        heard.append(text)
        return generate(self, text, prompt, request)

    monkeypatch.setattr(Engine, "_generate_segment", spy)
    for name in ("VOXDESK_DATA_DIR", "VOXDESK_CONFIG_DIR"):
        monkeypatch.setenv(name, env[name])
    assert main(["speak", "--file", str(book), "--chapter", "2", "--resume", "--standalone",
                 "--model", str(tiny_model_dir), *FAST]) == 0
    from voxdesk.engine.acceleration import WARM_UP_TEXT
    from voxdesk.engine.house_voice import HOUSE_SENTENCE

    expected = [s.text for s in sentences[saved["sentence"]:]]
    heard = [text for text in heard if text not in (WARM_UP_TEXT, HOUSE_SENTENCE)]  # the engine's own
    assert heard == expected  # from the saved sentence to the end of the chapter, in order
    # Chapter 2 was the last: the book is finished, so the next --resume starts afresh.
    assert not position.exists()


def test_speak_saves_the_next_chapter_when_a_chapter_ends(book, tiny_model_dir, sink_recorder,
                                                         data_dir, monkeypatch):
    from voxdesk.cli import main
    from voxdesk.reading_position import PositionStore

    assert main(["speak", "--file", str(book), "--chapter", "1", "--standalone",
                 "--model", str(tiny_model_dir), *FAST]) == 0
    saved = PositionStore().load(load_document(book).identity)
    assert saved is not None and (saved.chapter, saved.sentence, saved.offset) == (2, 0, 0)
