"""A book to audio: one M4B with chapter marks, or one file per chapter, resumable and atomic.

Each chapter is synthesised and encoded (on the encoder thread, overlapping the model) into the
work folder (voxdesk.audiobook.workdir); an interrupted export continues with the first chapter
not finished. At the end the chapters are joined - for an M4B/M4A their AAC packets copied
(no re-encoding) into one MP4; for MP3/Opus/FLAC the whole book, encoded alongside the
chapters, copied behind its header (a resumed run encodes its kept lossless FLAC chapters
once instead, as WAV always does) - with chapter marks, tags and cover, or moved into the
chapter folder; the result appears under its final name only when it is complete.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from voxdesk.atomic import _fsync_dir
from voxdesk.audio.encode import (
    SPECS,
    AudioFormat,
    ChapterMark,
    Encoder,
    attach_cover,
    chapter_entries,
    format_for_path,
    write_header,
)
from voxdesk.audio.export import PARTIAL_SUFFIX, check_writable
from voxdesk.audio.pipeline import EncodeThread, SampleTransform
from voxdesk.audiobook.book import BookLike
from voxdesk.audiobook.workdir import WorkFolder, fsync_file
from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.request import MAX_TEXT_CHARS, TextRewriter
from voxdesk.errors import ExportError, InvalidRequestError

#: The full scale of the integer sample formats a lossless chapter decodes to.
_FULL_SCALE = {"s16": 32768.0, "s16p": 32768.0, "s32": 2.0**31, "s32p": 2.0**31}
#: Speech runs at about 14 characters a second: the estimate before any chapter is measured.
CHARS_PER_SECOND = 14.0
#: One-file formats whose whole file is encoded alongside the synthesis (then given its header
#: of chapter marks, tags and cover by copying its packets), not all over again at the end.
STREAMED_WHOLE = {"mp3", "opus", "flac"}
#: A chapter longer than one request may be is synthesised in parts of at most this many.
PART_CHARS = MAX_TEXT_CHARS // 2


@dataclass(frozen=True)
class ExportProgress:
    chapter: int  # 1-based
    chapters: int
    title: str
    fraction: float  # of the whole book, by characters
    seconds_left: float | None  # None until there is a measured speed
    phase: str = "synthesis"  # "synthesis", "joining", "done"


@dataclass(frozen=True)
class AudiobookResult:
    paths: tuple[Path, ...]  # the M4B, or the chapter files in order
    chapters: tuple[ChapterMark, ...]
    resumed_chapters: int  # finished by an earlier run


@dataclass
class AudiobookJob:
    """What to make: the chapters of ``book`` in ``output``'s format, in this voice."""

    book: BookLike
    output: Path
    fmt: str | None = None
    bitrate: int | None = None
    split: bool = False
    voice: VoiceReference | None = None
    params: SynthesisParams = field(default_factory=SynthesisParams)
    #: The user's pronunciation lexicon (voxdesk.lexicon) for this voice and language.
    lexicon: TextRewriter | None = None
    title: str | None = None
    author: str | None = None
    cover: bytes | None = None
    #: A transform of the samples before encoding (a speed change: voxdesk.audio.tempo), made
    #: per chapter from the sample rate; ``transform_id`` names it in the resume key.
    transform: Callable[[int], SampleTransform] | None = None
    transform_id: str = ""
    #: The 1-based numbers of the book's chapters to include (None: all), in the book's order.
    include: Sequence[int] | None = None

    @property
    def book_title(self) -> str | None:
        return self.title or self.book.title

    @property
    def book_author(self) -> str | None:
        return self.author or self.book.author


def chapters_of(book: BookLike, include: Sequence[int] | None = None
                ) -> list[tuple[str, str]]:
    """(title, text to speak) of each chapter with text (of those in ``include``, 1-based,
    when given); the title is read first."""
    result = []
    count = len(book.chapters)
    if include is not None:
        wrong = [n for n in include if not 1 <= n <= count]
        if wrong:
            raise InvalidRequestError(f"The book has no chapter {wrong[0]}: it has {count}.",
                                      "See `voxdesk chapters FILE` for its chapters.")
    for n, chapter in enumerate(book.chapters, 1):
        if include is not None and n not in include:
            continue
        text = chapter.text.strip()
        if not text:
            continue
        title = (chapter.title or "").strip() or f"Chapter {n}"
        spoken = text if text.startswith(title) else f"{title}\n\n{text}"
        result.append((title, spoken))
    if not result:
        raise InvalidRequestError("The book has no text to read.")
    return result


def _parts(text: str) -> Iterator[str]:
    """``text`` in pieces one request takes, cut at paragraph (else line, else space) ends."""
    while len(text) > PART_CHARS:
        cut = max(text.rfind(sep, 0, PART_CHARS) for sep in ("\n\n", "\n", " "))
        cut = cut if cut > 0 else PART_CHARS
        yield text[:cut]
        text = text[cut:].lstrip()
    if text.strip():
        yield text


def _voice_key(voice: VoiceReference | None) -> list[object]:
    if voice is None:
        return []
    clips = []
    for clip in voice.clips:
        try:
            stat = clip.stat()
            clips.append([str(clip), stat.st_size, stat.st_mtime_ns])
        except OSError:
            clips.append([str(clip)])
    return [clips, voice.prompt_text]


def _bytes_per_second(fmt: AudioFormat, bitrate: int | None, rate: int) -> float:
    if not fmt.lossless:
        return (bitrate or fmt.bitrate or 64_000) / 8
    return rate * (4 if fmt.name == "wav-float" else 2) * (0.7 if fmt.name == "flac" else 1)


def _free(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


class AudiobookExport:
    def __init__(self, engine: Engine, job: AudiobookJob, restart: bool = False,
                 progress: Callable[[ExportProgress], None] | None = None) -> None:
        self.engine, self.job, self.progress = engine, job, progress
        self.output = Path(job.output).expanduser().absolute()
        self.split = job.split
        self.format = format_for_path(self.output, job.fmt)
        if self.split:
            self.folder = self.output.with_suffix("") if self.output.suffix else self.output
            extension = self.format.extension if self.output.suffix.lower() in ("", ".m4b") \
                else self.output.suffix.lower()
        else:
            self.folder = self.output.parent
            # One file: AAC chapters are joined by copying their packets (an M4B/M4A); any
            # other format is kept losslessly per chapter and encoded once at the end, so that
            # its chapters follow each other without the codec's padding between them.
            extension = ".m4a" if self.format.name == "aac" else ".flac"
        self.extension = extension
        self.chapters = chapters_of(job.book, job.include)
        check_writable(self.output if not self.split else self.output.parent / "probe")
        self.work = WorkFolder(self.output, self._job_key(), extension, restart=restart)
        #: The whole book in the output's format, encoded as the chapters are made; None when
        #: the run resumes (the file would lack the earlier chapters) or for other formats.
        self._whole: Encoder | None = None

    # -- the job's identity (what makes a finished chapter reusable) -------------------------

    def _job_key(self) -> dict[str, object]:
        job = self.job
        texts = hashlib.sha256(json.dumps(self.chapters).encode()).hexdigest()
        settings = [self.engine.info.model_id, self.engine.sample_rate, self.format.name,
                    job.bitrate, self.split, self.extension, _voice_key(job.voice),
                    repr(job.params), repr(job.lexicon) if job.lexicon else "",
                    job.transform_id,
                    job.book_title, job.book_author, len(self.chapters)]
        if self.split:  # tags and cover are written into each chapter's file
            settings.append(hashlib.sha256(job.cover or b"").hexdigest())
        return {"version": 1, "chapters": texts,
                "settings": hashlib.sha256(json.dumps(settings, default=str).encode()
                                           ).hexdigest()}

    # -- running ------------------------------------------------------------------------------

    def run(self) -> AudiobookResult:
        lengths: list[int | None] = [self.work.frames(i) for i in range(len(self.chapters))]
        resumed = sum(1 for n in lengths if n is not None)
        self._check_space(lengths)
        if not self.split and not resumed and self.format.name in STREAMED_WHOLE:
            self._whole = Encoder(self.work.path / "whole.partial", self.format,
                                  self.engine.sample_rate, bitrate=self.job.bitrate)
        try:
            return self._run(lengths, resumed)
        finally:
            if self._whole is not None:
                self._whole.abort()  # closed already unless the run failed
                (self.work.path / "whole.partial").unlink(missing_ok=True)

    def _run(self, lengths: list[int | None], resumed: int) -> AudiobookResult:
        total_chars = sum(len(text) for _, text in self.chapters)
        done_chars = sum(len(t) for (_, t), n in zip(self.chapters, lengths) if n is not None)
        started, chars_this_run = time.monotonic(), 0
        for index, (title, text) in enumerate(self.chapters):
            if lengths[index] is not None:
                continue

            def report(chars_in_chapter: int, index: int = index, title: str = title) -> None:
                if self.progress is None:
                    return
                run_chars = chars_this_run + chars_in_chapter
                # done_chars: its value now, after the chapters finished so far (late binding)
                done = done_chars + run_chars  # noqa: B023
                elapsed = time.monotonic() - started
                left = (total_chars - done) * elapsed / run_chars if run_chars else None
                self.progress(ExportProgress(index + 1, len(self.chapters), title,
                                             done / total_chars, left))

            report(0)
            try:
                lengths[index] = self._chapter(index, title, text, report)
            except OSError as exc:
                raise self._disk_error(exc, lengths) from exc
            done_chars += len(text)
            if self.progress is not None:
                report(0)
        if self.progress is not None:
            self.progress(ExportProgress(len(self.chapters), len(self.chapters), "", 1.0, 0.0,
                                         "joining"))
        marks = self._marks([n or 0 for n in lengths])
        try:
            paths = self._split(marks) if self.split else self._join(marks)
        except OSError as exc:
            raise self._disk_error(exc, lengths) from exc
        self.work.remove()
        if self.progress is not None:
            self.progress(ExportProgress(len(self.chapters), len(self.chapters), "", 1.0, 0.0,
                                         "done"))
        return AudiobookResult(paths, tuple(marks), resumed)

    def _tags(self, index: int | None) -> dict[str, str]:
        job, tags = self.job, {"genre": "Audiobook"}
        if job.book_title:
            tags["album"] = job.book_title
            tags["title"] = job.book_title
        if job.book_author:
            tags["artist"] = tags["album_artist"] = job.book_author
        if index is not None:
            tags["title"] = self.chapters[index][0]
            tags["track"] = f"{index + 1}/{len(self.chapters)}"
        return tags

    def _chapter(self, index: int, title: str, text: str, report: Callable[[int], None]
                 ) -> int:
        """Synthesise and encode chapter ``index`` into the work folder; its length."""
        rate = self.engine.sample_rate
        options = {"bitrate": self.job.bitrate}
        if self.split:
            options.update(tags=self._tags(index), cover=self.job.cover)
        partial = self.work.partial(index)
        fmt = self.format if self.split else SPECS[
            "aac" if self.extension == ".m4a" else "flac"]
        encoder = Encoder(partial, fmt, rate, **options)  # type: ignore[arg-type]
        transform = self.job.transform(rate) if self.job.transform else None
        whole = self._whole

        def write(samples: np.ndarray) -> None:
            encoder.write(samples)
            if whole is not None:
                whole.write(samples)

        # In blocks of a second: a file is not heard until it is done, and every write is a
        # round of calls into the codec, each taking the GIL from the synthesis thread.
        thread = EncodeThread(write if whole is not None else encoder.write, transform,
                              block_samples=rate)
        offset = 0
        try:
            for part in _parts(text):
                request = SynthesisRequest(part, self.job.voice, self.job.params,
                                           self.job.lexicon).validate()
                stream = self.engine.synthesize(request)
                last = -1
                for chunk in stream:
                    thread.put(chunk.samples)
                    if chunk.segment.index != last:
                        last = chunk.segment.index
                        report(offset + chunk.segment.start)
                offset += len(part)
            thread.finish()
            encoder.close()
        except BaseException:
            thread.abort()
            encoder.abort()
            partial.unlink(missing_ok=True)
            raise
        self.work.finish(index, encoder.frames)
        return encoder.frames

    def _marks(self, lengths: Sequence[int]) -> list[ChapterMark]:
        rate, start, marks = self.engine.sample_rate, 0.0, []
        for (title, _), frames in zip(self.chapters, lengths):
            marks.append(ChapterMark(title, start, start + frames / rate))
            start += frames / rate
        return marks

    # -- the end: one M4B, or the chapter files --------------------------------------------

    def _join(self, marks: list[ChapterMark]) -> tuple[Path, ...]:
        """The chapters, in order, as one file with chapter marks, tags and cover, written
        beside the output and renamed to it when complete."""
        fd, temp_name = tempfile.mkstemp(dir=self.output.parent, prefix=f".{self.output.name}.",
                                         suffix=PARTIAL_SUFFIX)
        os.close(fd)
        temp = Path(temp_name)
        try:
            if self.format.name == "aac":
                real_marks = self._remux(temp, marks)
            elif self._whole is not None:
                real_marks = self._header_on_whole(self._whole, temp, marks)
            else:
                real_marks = self._encode_whole(temp, marks)
            fsync_file(temp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary file only
            os.replace(temp, self.output)
            _fsync_dir(self.output.parent)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        marks[:] = real_marks
        return (self.output,)

    def _remux(self, temp: Path, marks: list[ChapterMark]) -> list[ChapterMark]:
        """Copy the chapters' AAC packets, in order, into one MP4 (no re-encoding: seconds
        for hours), with each chapter mark where that chapter's audio is heard.

        Each chapter's AAC begins with the encoder's priming frame and ends in a frame padded
        to the codec's frame size. Only the file's own start and end are trimmed (its edit
        list); in between, a decoder plays every frame whole. So every packet but the book's
        last is given a whole frame of time, and a chapter's mark is where its first real
        sample lands: after the previous chapter's padding and its own priming frame."""
        with open(temp, "wb") as sink, av.open(sink, "w", format="mp4",
                                               options={"brand": "M4B "}) as out:
            out.metadata.update(self._tags(None))
            first = av.open(os.fspath(self.work.audio(0)))
            try:
                stream = out.add_stream_from_template(first.streams.audio[0])
            finally:
                first.close()
            cover = attach_cover(out, self.job.cover)[0] if self.job.cover else None
            end = 0  # where the previous chapter's last frame ends
            starts = []
            last = len(marks) - 1
            for index in range(len(marks)):
                with av.open(os.fspath(self.work.audio(index))) as chapter:
                    source = chapter.streams.audio[0]
                    seconds = float(source.time_base or 0) or 1 / self.engine.sample_rate
                    frame = source.codec_context.frame_size or 1024
                    shift = None
                    for packet in chapter.demux(source):
                        if packet.dts is None:  # the demuxer's flush marker
                            continue
                        if shift is None:  # the encoder's priming packet comes first (pts < 0)
                            shift = end - packet.dts if index else 0
                            starts.append(max(0, shift) * seconds)  # where its pts 0 lands
                        packet.pts = (packet.pts if packet.pts is not None else packet.dts
                                      ) + shift
                        packet.dts += shift
                        if index < last:  # decoded whole: its padding is heard, count it
                            packet.duration = frame
                        end = max(end, packet.pts + (packet.duration or 0))
                        packet.stream = stream
                        out.mux(packet)
                    if shift is None:
                        starts.append(end * seconds)
            ends = [*starts[1:], end * seconds]
            real = [ChapterMark(m.title, a, b) for m, a, b in zip(marks, starts, ends)]
            out.set_chapters(chapter_entries(real))
            if cover is not None:
                out.mux(cover)
        return real

    def _header_on_whole(self, whole: Encoder, temp: Path, marks: list[ChapterMark]
                         ) -> list[ChapterMark]:
        """The whole book, encoded while it was made, with its header: its packets copied
        into a new file of the same format that has the chapter marks, tags and cover (which
        go first in the file and are known only now). Sample for sample the same audio."""
        whole.close()
        tags = self._tags(None)
        with av.open(os.fspath(self.work.path / "whole.partial"), format=self.format.container
                     ) as source, open(temp, "wb") as sink, \
                av.open(sink, "w", format=self.format.container) as out:
            audio = source.streams.audio[0]
            stream = out.add_stream_from_template(audio)
            cover = write_header(out, self.format.container, tags, marks, self.job.cover)
            for packet in source.demux(audio):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = stream
                out.mux(packet)
            if cover is not None:
                out.mux(cover)
        return marks

    def _encode_whole(self, temp: Path, marks: list[ChapterMark]) -> list[ChapterMark]:
        """Decode the lossless chapters one after another into one encoder of the output's
        format (MP3, Opus, FLAC, WAV), whose chapter marks fall on the chapters' first
        samples: the codec's own delay is in the file's header (LAME tag, Opus pre-skip)."""
        rate = self.engine.sample_rate
        encoder = Encoder(temp, self.format, rate, bitrate=self.job.bitrate,
                          tags=self._tags(None), chapters=marks, cover=self.job.cover)
        try:
            for index in range(len(marks)):
                with av.open(os.fspath(self.work.audio(index))) as chapter:
                    source = chapter.streams.audio[0]
                    for decoded in chapter.decode(source):
                        encoder.write(decoded.to_ndarray().reshape(-1).astype(np.float32)
                                      / _FULL_SCALE.get(decoded.format.name, 1.0))
            encoder.close()
        except BaseException:
            encoder.abort()
            raise
        return marks

    def _split(self, marks: list[ChapterMark]) -> tuple[Path, ...]:
        """Move the finished chapter files into the chapter folder, numbered in order."""
        width = max(2, len(str(len(self.chapters))))
        self.folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for index, (title, _) in enumerate(self.chapters):
            name = f"{index + 1:0{width}d} - {_safe_name(title)}{self.extension}"
            paths.append(self.folder / name)
        for index, path in enumerate(paths):
            os.replace(self.work.audio(index), path)
        _fsync_dir(self.folder)
        return tuple(paths)

    # -- space --------------------------------------------------------------------------------

    def _needed_bytes(self, lengths: Sequence[int | None]) -> float:
        """Bytes still to write: the chapters not done, plus (for one M4B) the joined copy."""
        rate = self.engine.sample_rate
        seconds_done = sum(n for n in lengths if n) / rate
        chars_done = sum(len(t) for (_, t), n in zip(self.chapters, lengths) if n)
        per_char = seconds_done / chars_done if chars_done else 1 / CHARS_PER_SECOND
        chars_left = sum(len(t) for (_, t), n in zip(self.chapters, lengths) if not n)
        bps = _bytes_per_second(self.format, self.job.bitrate, rate)
        work_bps = bps if self.split or self.format.name == "aac" else \
            _bytes_per_second(SPECS["flac"], None, rate)
        needed = chars_left * per_char * work_bps
        if not self.split:  # the joined copy (and, encoded alongside, the whole book)
            needed += (seconds_done + chars_left * per_char) * bps * (
                2 if self.format.name in STREAMED_WHOLE else 1)
        return needed

    def _check_space(self, lengths: Sequence[int | None]) -> None:
        needed, free = self._needed_bytes(lengths), _free(self.work.path)
        if needed > free:
            raise self._space_error(needed, free, lengths)

    def _disk_error(self, exc: OSError, lengths: Sequence[int | None]) -> Exception:
        if exc.errno != errno.ENOSPC:
            return ExportError(f"Could not write the audiobook: {exc.strerror or exc}.")
        return self._space_error(self._needed_bytes(lengths), _free(self.work.path), lengths)

    def _space_error(self, needed: float, free: int, lengths: Sequence[int | None]
                     ) -> ExportError:
        done = sum(1 for n in lengths if n)
        kept = f"the {done} finished chapter(s) are kept, " if done else ""
        return ExportError(
            f"The disk is full: this export needs about {_mb(needed)} more, and "
            f"{self.work.path.parent} has {_mb(free)} free.",
            f"Free some space and run the same command again ({kept}it continues where it "
            "stopped), or export to another drive.")


def _safe_name(title: str) -> str:
    """A chapter title as a file name on any system."""
    cleaned = "".join("_" if c in '<>:"/\\|?*' or ord(c) < 32 else c for c in title).strip(". ")
    return cleaned[:80] or "Chapter"


def export_audiobook(engine: Engine, job: AudiobookJob, *, restart: bool = False,
                     progress: Callable[[ExportProgress], None] | None = None
                     ) -> AudiobookResult:
    """Make ``job``; continues an interrupted run of the same job unless ``restart``."""
    return AudiobookExport(engine, job, restart, progress).run()
