"""One file for a whole book in every format: chapter marks (MP4 chapters, MP3's ID3 CHAP,
Opus/FLAC Vorbis comments) where each chapter's audio is heard, the encoder's priming and
padding included; tags and cover. Read back with ffmpeg/ffprobe."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tests.probe import audio_stream, decode, needs_ffprobe, probe
from voxdesk.audiobook import AudiobookJob, book_from_markdown, export_audiobook
from voxdesk.engine import SynthesisParams

pytestmark = needs_ffprobe

BOOK = ("---\nauthor: Ann Author\n---\n# First\n\nOne two three. Four five.\n\n"
        "# Second\n\nSix seven eight nine.\n\n# Third\n\nTen. Eleven twelve.\n")
TITLES = ["First", "Second", "Third"]
RATE = 48000


class ClickTrack:
    """The chapter's real audio made quiet, with one loud sample where the chapter begins: a
    mark the decoded file shows to the sample (the model's noise has no such edge)."""

    def __init__(self, rate: int) -> None:
        self.first = True

    def process(self, samples: np.ndarray) -> np.ndarray:
        quiet = np.asarray(samples, np.float32) * 0.002
        if self.first and quiet.size:
            quiet[0], self.first = 0.9, False
        return quiet

    def flush(self) -> np.ndarray:
        return np.zeros(0, np.float32)


def clicks(path) -> list[float]:
    audio = decode(path, RATE)
    loud = np.flatnonzero(np.abs(audio) > 0.3)
    starts = [loud[0], *(b for a, b in zip(loud, loud[1:]) if b - a > RATE // 10)]
    return [s / RATE for s in starts]


@pytest.fixture(scope="module")
def cover_png(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("cover") / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=blue:s=40x30",
                    "-frames:v", "1", str(path)], check=True, timeout=60)
    return path.read_bytes()


def export(engine, path, cover=None, progress=None):
    job = AudiobookJob(book_from_markdown(BOOK, title="Clicks"), path, cover=cover,
                       params=SynthesisParams(max_len=3, seed=3))
    job.transform, job.transform_id = ClickTrack, "clicks"
    return export_audiobook(engine, job, progress=progress)


@pytest.mark.parametrize("name, codec", [("book.m4b", "aac"), ("book.mp3", "mp3"),
                                         ("book.opus", "opus"), ("book.flac", "flac")])
def test_one_file_has_chapter_marks_on_the_chapter_audio(engine, tmp_path, cover_png, name,
                                                         codec):
    out = tmp_path / name
    result = export(engine, out, cover_png)
    assert result.paths == (out,) and sorted(p.name for p in tmp_path.iterdir()) == [name]
    info = probe(out)
    assert audio_stream(info)["codec_name"] == codec
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == TITLES
    heard = clicks(out)
    assert len(heard) == 3
    # Each mark within 3 ms of where its chapter is heard (AAC's 1024-sample priming and
    # padding are 21 ms each at 48 kHz: uncounted, they would shift every later chapter).
    for chapter, start in zip(chapters, heard):
        assert float(chapter["start_time"]) == pytest.approx(start, abs=0.003), chapters
    tags = {k.lower(): v for k, v in {**info["format"].get("tags", {}),
                                      **audio_stream(info).get("tags", {})}.items()}
    assert tags["artist"] == "Ann Author" and tags["album"] == "Clicks"
    pictures = [s for s in info["streams"] if s["disposition"]["attached_pic"]]
    assert [(p["width"], p["height"]) for p in pictures] == [(40, 30)]


def test_one_wav_holds_the_chapters_back_to_back(engine, tmp_path):
    out = tmp_path / "book.wav"
    result = export(engine, out)
    info = probe(out)
    assert audio_stream(info)["codec_name"] == "pcm_s16le"  # WAV has no chapter marks
    assert clicks(out) == pytest.approx([m.start for m in result.chapters], abs=0.001)
    assert float(info["format"]["duration"]) == pytest.approx(result.chapters[-1].end,
                                                              abs=0.001)


def test_a_resumed_one_file_export_has_every_chapter_where_it_is_heard(engine, tmp_path):
    """An MP3 is encoded whole while its chapters are made; a run that continues an
    interrupted one cannot be (the earlier chapters were made before), so it encodes the kept
    chapters at the end: the same marks on the same audio, nothing missing or doubled."""
    out = tmp_path / "book.mp3"

    def stop_at_chapter_two(p):
        if p.chapter == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(engine, out, progress=stop_at_chapter_two)
    assert not out.exists()
    work = tmp_path / ".book.mp3.voxdesk-work"
    assert sorted(p.name for p in work.iterdir()) == ["0000.flac", "0000.json", "job.json"]
    result = export(engine, out)
    assert result.resumed_chapters == 1 and not work.exists()
    chapters = probe(out)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == TITLES
    heard = clicks(out)
    assert len(heard) == 3
    for chapter, start in zip(chapters, heard):
        assert float(chapter["start_time"]) == pytest.approx(start, abs=0.003), chapters
