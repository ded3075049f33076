"""Audiobook export: an M4B with chapters, tags and cover; --split chapters; resuming after
SIGKILL at random moments; a full disk. Files are read back with ffprobe."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import VOXDESK
from tests.probe import audio_stream, decode, duration, needs_ffprobe, probe
from voxdesk.audiobook import AudiobookJob, book_from_markdown, export_audiobook, load_book
from voxdesk.audiobook.export import chapters_of
from voxdesk.engine import SynthesisParams, split_text
from voxdesk.engine.segmentation import DEFAULT_MAX_WEIGHT
from voxdesk.errors import ExportError

pytestmark = needs_ffprobe

MAX_LEN = 3  # steps per sentence: the tiny test model always runs to it
STEP_S = 0.16
BOOK = """---
author: Ann Author
---
# The Test Book

## The Beginning

It starts here. Then it goes on.

## The Middle

Things happen.

### A turn

Nobody expected it.

## The End

It ends.
"""
TITLES = ["The Beginning", "The Middle", "The End"]


def expected_seconds(book, max_len: int = MAX_LEN) -> list[float]:
    """Each chapter's audio: one sentence (title included) is max_len steps of 160 ms, joined
    to the one before by the engine's sentence pause (its paragraph pause after a blank line)."""
    params, seconds = SynthesisParams(), []
    for _, text in chapters_of(book):
        segments = split_text(text, DEFAULT_MAX_WEIGHT)
        pauses = sum(params.paragraph_pause if s.paragraph_start else params.sentence_pause
                     for s in segments[1:])
        seconds.append(len(segments) * max_len * STEP_S + pauses)
    return seconds


@pytest.fixture
def book_file(tmp_path) -> Path:
    path = tmp_path / "book.md"
    path.write_text(BOOK, encoding="utf-8")
    return path


@pytest.fixture
def cover(tmp_path) -> Path:
    path = tmp_path / "cover.jpg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:s=64x48",
                    "-frames:v", "1", str(path)], check=True, timeout=60)
    return path


def test_markdown_book_has_title_author_and_chapters():
    book = book_from_markdown(BOOK, "book.md", title="book")
    assert book.title == "The Test Book" and book.author == "Ann Author"
    assert [c.title for c in book.chapters] == TITLES
    assert book.chapters[1].paragraphs == ("Things happen.", "A turn", "Nobody expected it.")
    single = book_from_markdown("Just one paragraph.\n\nAnd another.", title="notes")
    assert [c.title for c in single.chapters] == ["notes"] and single.title == "notes"


def check_chapters(info: dict, book, tolerance: float = 0.05) -> None:
    """ffprobe's chapters: the titles in order, each as long as its chapter's audio, each
    starting where the one before ends."""
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == TITLES
    start = 0.0
    for chapter, seconds in zip(chapters, expected_seconds(book)):
        assert float(chapter["start_time"]) == pytest.approx(start, abs=tolerance * 2)
        length = float(chapter["end_time"]) - float(chapter["start_time"])
        assert length == pytest.approx(seconds, abs=tolerance)  # AAC's priming: ~21 ms
        start = float(chapter["end_time"])
    assert duration(info) == pytest.approx(sum(expected_seconds(book)), abs=0.1)


def test_m4b_has_chapter_marks_tags_and_cover(engine, book_file, cover, tmp_path):
    book = load_book(book_file)
    out = tmp_path / "book.m4b"
    seen = []
    result = export_audiobook(engine, AudiobookJob(book, out, params=SynthesisParams(
        max_len=MAX_LEN), cover=cover.read_bytes()), progress=seen.append)
    assert result.paths == (out,)
    info = probe(out)
    check_chapters(info, book)
    tags = info["format"]["tags"]
    assert tags["title"] == "The Test Book" and tags["artist"] == "Ann Author"
    assert audio_stream(info)["codec_name"] == "aac"
    pictures = [s for s in info["streams"] if s["disposition"]["attached_pic"]]
    assert len(pictures) == 1 and pictures[0]["codec_name"] == "mjpeg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.m4b", "book.md", "cover.jpg"]
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {p.chapter for p in seen} == {1, 2, 3}


@pytest.mark.parametrize("name, codec", [("book.mp3", "mp3"), ("book.opus", "opus")])
def test_split_chapters_are_numbered_tagged_files_in_order(engine, book_file, tmp_path,
                                                          name, codec):
    book = load_book(book_file)
    result = export_audiobook(engine, AudiobookJob(book, tmp_path / name, split=True,
                                                   params=SynthesisParams(max_len=MAX_LEN)))
    folder = tmp_path / "book"
    files = sorted(folder.iterdir())
    assert list(result.paths) == files
    suffix = Path(name).suffix
    assert [f.name for f in files] == [f"0{i} - {t}{suffix}" for i, t in enumerate(TITLES, 1)]
    for number, (path, seconds) in enumerate(zip(files, expected_seconds(book)), 1):
        info = probe(path)
        assert audio_stream(info)["codec_name"] == codec
        assert int(audio_stream(info)["sample_rate"]) == 48000
        tags = {k.lower(): v for k, v in {**info["format"].get("tags", {}),
                                           **audio_stream(info).get("tags", {})}.items()}
        assert tags["title"] == TITLES[number - 1] and tags["album"] == "The Test Book"
        assert tags["track"] == f"{number}/3" and tags["artist"] == "Ann Author"
        assert len(decode(path)) / 48000 == pytest.approx(seconds, abs=0.06)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no work folder left


def test_a_changed_book_or_restart_starts_over(engine, book_file, tmp_path):
    out = tmp_path / "book.m4b"
    params = SynthesisParams(max_len=MAX_LEN)
    first = export_audiobook(engine, AudiobookJob(load_book(book_file), out, params=params))
    assert first.resumed_chapters == 0
    book_file.write_text(BOOK.replace("Things happen.", "Other things happen."), "utf-8")
    changed = export_audiobook(engine, AudiobookJob(load_book(book_file), out, params=params))
    assert changed.resumed_chapters == 0  # nothing stale reused


def start_export(book: Path, out: Path, model: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([*VOXDESK, "export", str(book), "-o", str(out), "--model",
                             str(model), "--device", "cpu", "--max-len", str(MAX_LEN),
                             "--seed", "3", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_killed_export_resumes_with_the_same_chapters(tiny_model_dir, book_file, tmp_path):
    rng = random.Random(os.getpid())
    long_book = BOOK.replace("Things happen.", "Things happen. " * 8)
    book_file.write_text(long_book, encoding="utf-8")
    out = tmp_path / "book.m4b"
    work = tmp_path / ".book.m4b.voxdesk-work"
    for needed in (0, 1):  # kill while writing the first chapter, then a later one
        process = start_export(book_file, out, tiny_model_dir, "--quiet")
        wait_for(lambda needed=needed: len(list(work.glob("*.json"))) - 1 >= needed
                 and any(work.glob("*.partial")))
        time.sleep(rng.uniform(0, 0.5))  # a random moment in the middle of a chapter
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert not out.exists()  # never a partial file under the final name
        for record in work.glob("0*.json"):  # what is kept is whole chapters only
            frames = json.loads(record.read_text())["frames"]
            audio = record.with_suffix(".m4a")
            assert len(decode(audio)) == pytest.approx(frames, abs=2048)
    process = start_export(book_file, out, tiny_model_dir)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Continued" in err and "chapter" in err
    check_chapters(probe(out), book_from_markdown(long_book, title="book"))
    assert not work.exists()


def test_full_disk_is_a_clear_error(tiny_model_dir, book_file, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        process = start_export(book_file, disk / "book.m4b", tiny_model_dir)
        _, err = process.communicate(timeout=300)
        assert process.returncode != 0 and "Traceback" not in err, err
        message = [line for line in err.splitlines() if line.startswith("voxdesk: error:")]
        assert len(message) == 1 and "disk is full" in message[0], err
        assert "needs about" in message[0] and "MB" in message[0]
        assert not (disk / "book.m4b").exists()
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_disk_filling_up_mid_export_is_the_same_clear_error(engine, tmp_path):
    """The space check passes (the estimate is below the free space) but the audio is longer:
    the disk fills while a chapter is written; the error says so and what is done is kept."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        # ~1 s of speech by its length, but 2 x 3.2 s of audio (the tiny model's max length)
        book = book_from_markdown("## One\n\nGo.\n\n## Two\n\nNo.", title="short")
        job = AudiobookJob(book, disk / "book.m4b", params=SynthesisParams(max_len=20))
        with pytest.raises(ExportError, match="disk is full") as error:
            export_audiobook(engine, job)
        assert isinstance(error.value.__cause__, OSError)  # ENOSPC while writing, not the check
        assert "needs about" in str(error.value) and "run the same command again" in str(
            error.value)
        assert not (disk / "book.m4b").exists()
        work = disk / ".book.m4b.voxdesk-work"
        assert not list(work.glob("*.partial"))  # the chapter being written is dropped
    finally:
        subprocess.run(["umount", str(disk)], check=False)
