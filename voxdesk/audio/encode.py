"""Streaming audio encoders through PyAV (FFmpeg's own bindings): MP3, Opus, AAC, FLAC, WAV, PCM.

``open_encoder(target, fmt, rate)`` returns an :class:`Encoder`; ``write()`` float32 mono samples
as they are generated, ``close()`` at the end. Nothing is held beyond the codec's own frame
buffer, so memory stays flat however long the audio is. ``target`` is a path or a writable
file-like object; one without ``seek`` (an HTTP body) gets the streamable variant of the
container (ADTS instead of MP4 for AAC). A codec that cannot take the model's sample rate
(Opus: 48 kHz family only) is fed through FFmpeg's resampler.
"""

from __future__ import annotations

import base64
import io
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np

from voxdesk.errors import ExportError

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


@dataclass(frozen=True)
class AudioFormat:
    """One output format: its codec, containers, defaults and what HTTP calls it."""

    name: str
    codec: str
    container: str  # the FFmpeg muxer for a file
    stream_container: str  # the muxer for a body that cannot seek back (HTTP)
    extension: str
    media_type: str  # Content-Type of a stream in stream_container
    bitrate: int | None = None  # default for speech (mono); None: lossless
    rates: tuple[int, ...] | None = None  # the codec's sample rates, None: any

    @property
    def lossless(self) -> bool:
        return self.bitrate is None


_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200,
              96000)

#: Speech defaults: mono speech is transparent well below music bit rates (Opus at 32 kb/s,
#: MP3/AAC at 64 kb/s are what podcast and audiobook publishers use for a voice).
SPECS: dict[str, AudioFormat] = {
    "mp3": AudioFormat("mp3", "libmp3lame", "mp3", "mp3", ".mp3", "audio/mpeg", 64_000,
                       _MP3_RATES),
    "opus": AudioFormat("opus", "libopus", "ogg", "ogg", ".opus", "audio/ogg", 32_000,
                        _OPUS_RATES),
    "aac": AudioFormat("aac", "aac", "mp4", "adts", ".m4a", "audio/aac", 64_000, _AAC_RATES),
    "flac": AudioFormat("flac", "flac", "flac", "flac", ".flac", "audio/flac"),
    "wav": AudioFormat("wav", "pcm_s16le", "wav", "wav", ".wav", "audio/wav"),
    "wav-float": AudioFormat("wav-float", "pcm_f32le", "wav", "wav", ".wav", "audio/wav"),
    "pcm": AudioFormat("pcm", "pcm_s16le", "s16le", "s16le", ".pcm", "audio/L16"),
}
#: Other names people use for the same formats (the export command's former choices too).
ALIASES = {"mp4": "aac", "m4a": "aac", "m4b": "aac", "ogg": "opus", "pcm16": "wav",
           "float32": "wav-float", "raw": "pcm", "s16le": "pcm"}
#: File extension -> format.
EXTENSIONS = {".mp3": "mp3", ".opus": "opus", ".ogg": "opus", ".oga": "opus", ".m4a": "aac",
              ".m4b": "aac", ".mp4": "aac", ".aac": "aac", ".flac": "flac", ".wav": "wav",
              ".pcm": "pcm", ".raw": "pcm"}
CHOICES = tuple(sorted({*SPECS, *ALIASES}))


def resolve_format(name: str) -> AudioFormat:
    """``name`` (a format, an alias such as m4b, or an extension) as its :class:`AudioFormat`."""
    key = name.lower().lstrip(".")
    key = ALIASES.get(key, key)
    if key not in SPECS:
        raise ExportError(f"Unknown audio format {name!r}.",
                          f"Choose one of: {', '.join(FORMATS)} (or wav-float).")
    return SPECS[key]


def format_for_path(path: str | os.PathLike[str], requested: str | None = None) -> AudioFormat:
    """The requested format, else the one the file's extension names, else 16-bit WAV."""
    if requested:
        return resolve_format(requested)
    return SPECS[EXTENSIONS.get(Path(path).suffix.lower(), "wav")]


def container_for(fmt: AudioFormat, path: str | os.PathLike[str] | None, seekable: bool) -> str:
    """The muxer: ADTS for a raw ``.aac`` file or any stream that cannot seek, else the file's."""
    if not seekable:
        return fmt.stream_container
    if fmt.name == "aac" and path is not None and Path(path).suffix.lower() == ".aac":
        return "adts"
    return fmt.container


def output_rate(fmt: AudioFormat, sample_rate: int) -> int:
    """``sample_rate`` if the codec takes it, else the nearest rate above (48 kHz at most)."""
    if fmt.rates is None or sample_rate in fmt.rates:
        return sample_rate
    higher = [r for r in fmt.rates if r > sample_rate]
    return min(higher) if higher else max(fmt.rates)


@dataclass(frozen=True)
class ChapterMark:
    """A chapter of the encoded file: title and where it starts and ends, in seconds."""

    title: str
    start: float
    end: float


class _Unseekable(io.RawIOBase):
    """A write-only view of a file-like, so FFmpeg never seeks back into an HTTP body."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sink.write(bytes(data))
        return len(data)


def _is_seekable(target: object) -> bool:
    seekable = getattr(target, "seekable", None)
    return bool(seekable()) if callable(seekable) else hasattr(target, "seek")


class Encoder:
    """One open output: ``write()`` float32 mono samples, ``close()`` once at the end."""

    def __init__(self, target: BinaryIO | str | os.PathLike[str], fmt: str | AudioFormat,
                 sample_rate: int, *, bitrate: int | None = None,
                 tags: Mapping[str, str] | None = None,
                 chapters: Sequence[ChapterMark] = (), cover: bytes | None = None) -> None:
        self.format = fmt if isinstance(fmt, AudioFormat) else resolve_format(fmt)
        self.sample_rate = sample_rate
        self.frames = 0  # input samples written
        is_path = isinstance(target, (str, os.PathLike))
        seekable = is_path or _is_seekable(target)
        muxer = container_for(self.format, target if is_path else None, seekable)
        # A path is opened here rather than by FFmpeg, whose file protocol writes in 256 KB
        # blocks: with a 32 KB buffer the file grows steadily as the audio is made.
        self._own_file: BinaryIO | None = open(target, "wb") if is_path else None  # noqa: SIM115
        sink: Any = self._own_file if is_path else (
            target if seekable else _Unseekable(target))  # type: ignore[arg-type]
        self._rate_out = output_rate(self.format, sample_rate)
        options = {}
        if not seekable:
            options["flush_packets"] = "1"  # hand each packet on at once (streaming latency)
        try:
            # Small I/O buffer for streams: the first bytes go out after the first packets.
            self._container = av.open(sink, "w", format=muxer, container_options=options,
                                      buffer_size=4096 if not seekable else 1 << 15)
        except (OSError, av.FFmpegError) as exc:
            self._close_file()
            raise ExportError(f"Could not open the {self.format.name} output: {exc}.") from exc
        try:
            self._stream = self._container.add_stream(self.format.codec, rate=self._rate_out)
            self._stream.layout = "mono"
            if not self.format.lossless:
                self._stream.bit_rate = bitrate or self.format.bitrate
            self._cover = write_header(self._container, muxer, tags, chapters, cover)
            codec_format = self._stream.codec_context.format
            self._resampler = av.AudioResampler(
                format=codec_format.name if codec_format else "flt", layout="mono",
                rate=self._rate_out)
        except BaseException:
            self._container.close()
            self._close_file()
            raise
        self._closed = False

    # -- writing ----------------------------------------------------------------------------

    def write(self, samples: np.ndarray) -> None:
        data = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(1, -1))
        if data.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(data, format="flt", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self.frames
        frame.time_base = Fraction(1, self.sample_rate)
        self.frames += data.shape[1]
        self._encode(self._resampler.resample(frame))

    def close(self) -> None:
        """Flush the codec and write the container's trailer (sizes, seek tables)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._encode(self._resampler.resample(None))
            self._container.mux(self._stream.encode(None))
            if self._cover is not None:
                self._container.mux(self._cover)
        finally:
            try:
                self._container.close()
            finally:
                self._close_file()

    def _close_file(self) -> None:
        if self._own_file is not None:
            file, self._own_file = self._own_file, None
            file.close()

    def abort(self) -> None:
        """Close without caring whether the output is complete (it is about to be deleted)."""
        if not self._closed:
            self._closed = True
            try:
                self._container.close()
            except (OSError, av.FFmpegError):
                pass
            try:
                self._close_file()
            except OSError:
                pass

    def _encode(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            self._container.mux(self._stream.encode(frame))

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate



def write_header(container: av.container.OutputContainer, muxer: str,
                 tags: Mapping[str, str] | None, chapters: Sequence[ChapterMark],
                 cover: bytes | None) -> av.Packet | None:
    """Tags, chapter marks and cover on an output ``container`` (of ``muxer``) whose audio
    stream is added and whose first packet is not yet written, each where that format keeps
    it. Returns the cover's packet, to mux after the audio (None: no cover, or one kept as a
    tag, or a container with no place for one)."""
    metadata = {k: v for k, v in (tags or {}).items() if v}
    if chapters and muxer in ("flac", "ogg"):
        # Written here: FFmpeg's FLAC muxer writes no chapters, and its Ogg muxer (5.x)
        # rounds each start up to the next whole second.
        metadata.update(vorbis_chapter_tags(chapters))
    elif chapters:
        container.set_chapters(chapter_entries(chapters))
    packet = None
    if cover and muxer == "ogg":  # Ogg has no picture stream: a tag, as Vorbis/Opus
        picture = picture_block(cover)
        if picture:
            metadata["METADATA_BLOCK_PICTURE"] = picture
    elif cover:  # an attached picture (MP4's ``covr``; MP3's APIC)
        packet, _ = attach_cover(container, cover)
    if metadata:
        container.metadata.update(metadata)
    return packet


def chapter_entries(chapters: Sequence[ChapterMark]) -> list[dict[str, Any]]:
    """Chapters in the form PyAV's ``set_chapters`` takes (milliseconds)."""
    return [{"id": i + 1, "start": round(c.start * 1000), "end": round(c.end * 1000),
             "time_base": Fraction(1, 1000), "metadata": {"title": c.title}}
            for i, c in enumerate(chapters)]


def vorbis_chapter_tags(chapters: Sequence[ChapterMark]) -> dict[str, str]:
    """Chapters as Vorbis comments (the CHAPTERnnn / CHAPTERnnnNAME convention, which FFmpeg,
    foobar2000 and VLC read) for a FLAC or Ogg file."""
    tags = {}
    for n, chapter in enumerate(chapters, 1):
        ms = round(chapter.start * 1000)
        hours, rest = divmod(ms, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        tags[f"CHAPTER{n:03d}"] = f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
        tags[f"CHAPTER{n:03d}NAME"] = chapter.title
    return tags


def _image(image: bytes) -> tuple[str, int, int] | str:
    """(codec, width, height) of JPEG/PNG bytes, or why it cannot be a cover."""
    try:
        with av.open(io.BytesIO(image)) as probe:
            video = probe.streams.video[0]
            codec, width, height = video.codec_context.name, video.width, video.height
    except (av.FFmpegError, IndexError, ValueError) as exc:
        return f"the cover is not a readable image ({exc})"
    if codec not in ("mjpeg", "png"):
        return f"the cover is {codec}; only JPEG and PNG can be embedded"
    return codec, width, height


def picture_block(image: bytes) -> str | None:
    """``image`` as the base64 FLAC picture block of a METADATA_BLOCK_PICTURE comment (the
    cover of an Ogg Opus or Vorbis file), or None when it is not a JPEG or PNG."""
    info = _image(image)
    if isinstance(info, str):
        return None
    codec, width, height = info
    mime = b"image/jpeg" if codec == "mjpeg" else b"image/png"
    block = (struct.pack(">II", 3, len(mime)) + mime  # 3: the front cover
             + struct.pack(">IIIIII", 0, width, height, 24, 0, len(image)) + image)
    return base64.b64encode(block).decode("ascii")


def attach_cover(container: av.container.OutputContainer, image: bytes
                 ) -> tuple[av.Packet | None, str | None]:
    """Add ``image`` (JPEG or PNG bytes) to ``container`` as its cover picture; returns the
    packet to mux after the audio, or (None, why) when the container or image cannot take it."""
    info = _image(image)
    if isinstance(info, str):
        return None, info
    codec, width, height = info
    if container.format.name in ("wav", "s16le", "adts"):  # no place for a picture
        return None, f"{container.format.name} has no place for a cover"
    try:
        stream = container.add_mux_stream(codec, width=width, height=height)
    except ValueError as exc:
        return None, str(exc)
    stream.disposition = av.stream.Disposition.attached_pic
    packet = av.Packet(image)
    packet.stream = stream
    packet.pts = packet.dts = 0
    return packet, None


def open_encoder(target: BinaryIO | str | os.PathLike[str], fmt: str | AudioFormat,
                 sample_rate: int, *, bitrate: int | None = None,
                 chapters: Sequence[ChapterMark] = (), tags: Mapping[str, str] | None = None,
                 cover: bytes | None = None) -> Encoder:
    """An :class:`Encoder` writing ``fmt`` to ``target`` (see the module docstring)."""
    return Encoder(target, fmt, sample_rate, bitrate=bitrate, chapters=chapters, tags=tags,
                   cover=cover)


class ByteQueue:
    """A write-only sink that keeps what was written until :meth:`take`: an encoder's output
    handed on piece by piece (HTTP streaming) without holding more than one chunk."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def decode_audio(path: str | os.PathLike[str] | BinaryIO, sample_rate: int | None = None
                 ) -> tuple[np.ndarray, int]:
    """Any audio FFmpeg reads (MP3, M4A, Opus, FLAC, WAV, video soundtracks...) as float32
    mono, at ``sample_rate`` if given, else at its own rate."""
    with av.open(path if hasattr(path, "read") else os.fspath(path)) as container:  # type: ignore[arg-type]
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = sample_rate or stream.codec_context.sample_rate or stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = []
        for frame in container.decode(stream):
            parts.extend(f.to_ndarray()[0] for f in resampler.resample(frame))
        parts.extend(f.to_ndarray()[0] for f in resampler.resample(None))
    samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return samples, int(rate)
