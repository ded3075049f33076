"""EPUB to audiobook through the real `voxdesk export` command: chapters from the EPUB's table
of contents, its title/author/cover, --chapter selection and --speed. Read back with ffprobe."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.probe import audio_stream, duration, needs_ffprobe, probe
from tests.test_audiobook import expected_seconds
from voxdesk.audiobook.export import chapters_of
from voxdesk.documents import load_document
from voxdesk.testing.documents import make_epub

pytestmark = needs_ffprobe

MAX_LEN = 3  # steps per sentence: the tiny test model always runs to it
CHAPTERS = [("Arrival at the Harbour", ["The boat came in. The keeper waved."]),
            ("The Long Night", ["A storm rose.", "The lamp held."]),
            ("Morning", ["Fog lifted. Gulls cried. It was over."])]
TITLES = [title for title, _ in CHAPTERS]


@pytest.fixture
def epub(tmp_path) -> Path:
    cover = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=blue:s=64x48",
                    "-frames:v", "1", str(cover)], check=True, timeout=60)
    return make_epub(tmp_path / "harbour.epub", CHAPTERS, title="The Harbour",
                     author="Ada Writer", cover=cover.read_bytes())


def chapter_seconds(cli, tiny_model_dir, epub: Path, folder: Path, *args: str) -> list[float]:
    """Each chapter's audio on its own: the book exported as one WAV per chapter."""
    export(cli, tiny_model_dir, str(epub), "-o", str(folder / "wav.wav"), "--split",
           "chapters", *args)
    files = sorted((folder / "wav").iterdir())
    assert [f.name for f in files] == [f"0{n} - {t}.wav" for n, t in enumerate(TITLES, 1)]
    return [duration(probe(f)) for f in files]


def export(cli, tiny_model_dir, *args: str):
    result = cli("export", *args, "--model", str(tiny_model_dir), "--max-len", str(MAX_LEN),
                 "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_epub_to_m4b_has_toc_chapters_tags_and_cover(cli, tiny_model_dir, epub, tmp_path):
    out = tmp_path / "harbour.m4b"
    seconds_each = chapter_seconds(cli, tiny_model_dir, epub, tmp_path)
    assert all(s > 0.4 for s in seconds_each)
    export(cli, tiny_model_dir, str(epub), "-o", str(out))
    info = probe(out)
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == TITLES
    start = 0.0
    for chapter, seconds in zip(chapters, seconds_each):
        assert float(chapter["start_time"]) == pytest.approx(start, abs=0.1)
        assert float(chapter["end_time"]) - float(chapter["start_time"]) == \
            pytest.approx(seconds, abs=0.05)
        start = float(chapter["end_time"])
    tags = info["format"]["tags"]
    assert tags["title"] == "The Harbour" and tags["artist"] == "Ada Writer"
    assert audio_stream(info)["codec_name"] == "aac"
    pictures = [s for s in info["streams"] if s["disposition"]["attached_pic"]]
    assert len(pictures) == 1 and pictures[0]["codec_name"] == "png"


def test_epub_to_one_file_of_any_format_keeps_its_chapters(tiny_model_dir, epub, tmp_path,
                                                           data_dir, capsys):
    """`voxdesk export book.epub -o book.mp3` (no --split) is the audiobook the window makes:
    chapter marks (MP3 ID3 CHAP, Opus/FLAC chapter comments) where each chapter starts, and
    the progress bar; one WAV holds the chapters back to back and says it has no marks."""
    from voxdesk.cli import main

    seconds = expected_seconds(load_document(epub))  # the tiny model runs to max_len
    starts = [sum(seconds[:n]) for n in range(len(seconds))]
    # FLAC takes the same chapter comments as Opus (test_audiobook_formats checks both).
    for name, codec in [("book.mp3", "mp3"), ("book.opus", "opus"), ("book.wav", "pcm_s16le")]:
        out = tmp_path / name
        quiet = [] if codec == "mp3" else ["--quiet"]
        assert main(["export", str(epub), "-o", str(out), "--model", str(tiny_model_dir),
                     "--device", "cpu", "--max-len", str(MAX_LEN), *quiet]) == 0
        err = capsys.readouterr().err
        info = probe(out)
        assert audio_stream(info)["codec_name"] == codec
        assert duration(info) == pytest.approx(sum(seconds), abs=0.06)
        if codec == "pcm_s16le":
            assert info["chapters"] == []
            assert "WAV has no chapter marks" in err and ".m4b" in err
            continue
        assert "no chapter marks" not in err
        assert [c["tags"]["title"] for c in info["chapters"]] == TITLES, name
        assert [float(c["start_time"]) for c in info["chapters"]] == pytest.approx(
            starts, abs=0.02), name
        if not quiet:  # the progress bar, a line per chapter off a terminal
            assert all(f"chapter {n}/3: {t}" in err for n, t in enumerate(TITLES, 1)), err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("book")) == [
        "book.mp3", "book.opus", "book.wav"]  # no work folder left


def test_epub_one_chapter_and_split(cli, tiny_model_dir, epub, tmp_path):
    out = tmp_path / "second.m4b"
    export(cli, tiny_model_dir, "--file", str(epub), "--chapter", "2", "-o", str(out))
    info = probe(out)
    assert [c["tags"]["title"] for c in info["chapters"]] == [TITLES[1]]
    assert [t for t, _ in chapters_of(load_document(epub), [2])] == [TITLES[1]]
    assert 0.4 < duration(info) < 10
    export(cli, tiny_model_dir, str(epub), "-o", str(tmp_path / "parts.mp3"),
           "--split", "chapters")
    names = sorted(p.name for p in (tmp_path / "parts").iterdir())
    assert names == [f"0{n} - {t}.mp3" for n, t in enumerate(TITLES, 1)]


def test_epub_m4b_at_speed_1_5_is_two_thirds_as_long(cli, tiny_model_dir, epub, tmp_path):
    out, normal_out = tmp_path / "fast.m4b", tmp_path / "normal.m4b"
    export(cli, tiny_model_dir, str(epub), "-o", str(normal_out))
    export(cli, tiny_model_dir, str(epub), "-o", str(out), "--speed", "1.5")
    info = probe(out)
    normal = duration(probe(normal_out))
    assert duration(info) == pytest.approx(normal / 1.5, rel=0.05)
    assert [c["tags"]["title"] for c in info["chapters"]] == TITLES
    assert float(info["chapters"][-1]["end_time"]) == pytest.approx(normal / 1.5, rel=0.05)


def test_epub_chapter_that_does_not_exist_is_a_clear_error(cli, tiny_model_dir, epub,
                                                          tmp_path):
    result = cli("export", "--file", str(epub), "--chapter", "9", "-o",
                 str(tmp_path / "x.m4b"), "--model", str(tiny_model_dir), "--quiet")
    assert result.returncode != 0 and "no chapter 9" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.m4b").exists()
