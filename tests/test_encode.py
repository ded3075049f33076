"""Every export format, written by the encoders and by `voxdesk export`, read back by ffprobe."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.probe import audio_stream, decode, duration, needs_ffprobe, probe
from voxdesk.audio.encode import ByteQueue, decode_audio, open_encoder
from voxdesk.audio.export import AtomicAudioWriter
from voxdesk.audio.pipeline import EncodeThread
from voxdesk.engine import SynthesisParams
from voxdesk.errors import ExportError

pytestmark = needs_ffprobe

# name, format, codec ffprobe must report, sample rate it must report for 48 kHz input
CASES = [("a.mp3", None, "mp3", 48000), ("a.opus", None, "opus", 48000),
         ("a.ogg", None, "opus", 48000), ("a.m4a", None, "aac", 48000),
         ("a.aac", None, "aac", 48000), ("a.flac", None, "flac", 48000),
         ("a.wav", None, "pcm_s16le", 48000), ("f.wav", "wav-float", "pcm_f32le", 48000),
         ("a.pcm", None, "pcm_s16le", 48000)]


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
            ).astype(np.float32) / 1.5


def write_in_chunks(writer, samples: np.ndarray, size: int = 7680) -> None:
    for i in range(0, len(samples), size):
        writer.write(samples[i:i + size])


@pytest.mark.parametrize("name, fmt, codec, rate", CASES)
def test_each_format_has_its_duration_rate_and_audio(tmp_path, name, fmt, codec, rate):
    samples = tone(3.0, 48000)
    with AtomicAudioWriter(tmp_path / name, 48000, fmt) as writer:
        write_in_chunks(writer, samples)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    raw = 48000 if name.endswith(".pcm") else None
    info = probe(tmp_path / name, raw_rate=raw)
    stream = audio_stream(info)
    assert stream["codec_name"] == codec and int(stream["sample_rate"]) == rate
    assert stream["channels"] == 1
    assert duration(info) == pytest.approx(3.0, rel=0.01)
    heard = decode(tmp_path / name, raw_rate=raw)
    # Lossy codecs shift the signal by their delay: compare loudness, not samples.
    assert np.sqrt(np.mean(heard ** 2)) == pytest.approx(np.sqrt(np.mean(samples ** 2)),
                                                         rel=0.1)


@pytest.mark.parametrize("rate", [16000, 44100])
def test_opus_resamples_other_model_rates_to_48k_and_mp3_keeps_them(tmp_path, rate):
    for name, expected in (("a.opus", 48000), ("a.mp3", rate)):
        with AtomicAudioWriter(tmp_path / name, rate) as writer:
            write_in_chunks(writer, tone(10.0, rate))
        info = probe(tmp_path / name)
        assert int(audio_stream(info)["sample_rate"]) == expected
        # (MP3's encoder delay, ~1,100 samples, counts in ffprobe's duration)
        assert duration(info) == pytest.approx(10.0, rel=0.01)


def test_bitrate_option_and_speech_defaults(tmp_path):
    sizes = {}
    for kbps in (None, 128):
        path = tmp_path / f"{kbps}.mp3"
        with AtomicAudioWriter(path, 48000, bitrate=kbps and kbps * 1000) as writer:
            write_in_chunks(writer, tone(4.0, 48000))
        sizes[kbps] = path.stat().st_size
        assert int(probe(path)["format"]["bit_rate"]) == pytest.approx((kbps or 64) * 1000,
                                                                       rel=0.1)
    assert sizes[128] > 1.8 * sizes[None]


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "pcm"])
def test_a_stream_without_seek_gets_bytes_as_it_goes(fmt, tmp_path):
    sink = ByteQueue()
    encoder = open_encoder(sink, fmt, 48000)
    pieces = []
    samples = tone(3.0, 48000)
    for i in range(0, len(samples), 7680):
        encoder.write(samples[i:i + 7680])
        pieces.append(sink.take())
    encoder.close()
    pieces.append(sink.take())
    assert sum(map(len, pieces[: len(pieces) // 2])) > 0  # before the end: streaming
    path = tmp_path / f"stream.{fmt}"
    path.write_bytes(b"".join(pieces))
    # (a streamed FLAC has no length in its header: count what decodes)
    heard = decode(path, raw_rate=48000 if fmt == "pcm" else None)
    assert len(heard) / 48000 == pytest.approx(3.0, rel=0.02)


def test_unknown_format_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="Unknown audio format 'wma'"):
        AtomicAudioWriter(tmp_path / "x.wma", 48000, "wma")


def test_encode_thread_raises_the_writers_error_in_the_caller():
    def broken(samples):
        raise OSError(28, "No space left on device")

    thread = EncodeThread(broken, max_chunks=2)
    with pytest.raises(OSError, match="No space"):
        for _ in range(100):
            thread.put(np.zeros(100, np.float32))
        thread.finish()


@pytest.mark.parametrize("fmt", ["aac", "mp3", "flac"])
def test_encoding_in_blocks_writes_the_same_file(tmp_path, fmt):
    """An export's encoder thread gathers chunks into blocks (fewer calls into the codec, so
    less GIL taken from the model): the file is byte for byte the one chunk by chunk gives."""
    chunks = np.array_split(np.random.default_rng(5).uniform(-0.5, 0.5, 48000 * 3)
                            .astype(np.float32), 37)
    files = []
    for block in (0, 48000):
        path = tmp_path / f"{block}.{'m4a' if fmt == 'aac' else fmt}"
        encoder = open_encoder(path, fmt, 48000)
        thread = EncodeThread(encoder.write, block_samples=block)
        for chunk in chunks:
            thread.put(chunk)
        thread.finish()
        encoder.close()
        files.append(path.read_bytes())
    assert files[0] == files[1] and len(files[0]) > 1000


def test_voice_clips_in_any_format_decode(tmp_path):
    path = tmp_path / "clip.m4a"
    with AtomicAudioWriter(path, 44100) as writer:
        write_in_chunks(writer, tone(2.0, 44100))
    samples, rate = decode_audio(path, 16000)
    assert rate == 16000 and len(samples) == pytest.approx(32000, rel=0.02)
    assert decode_audio(io.BytesIO(path.read_bytes()))[1] == 44100


@pytest.mark.parametrize("name, codec", [("speech.opus", "opus"), ("speech.mp3", "mp3")])
def test_voxdesk_export_writes_the_format_its_name_asks_for(cli, tiny_model_dir, tmp_path,
                                                            name, codec):
    out = tmp_path / name
    result = cli("export", "Hello from the command line. This is a second sentence.", "-o",
                 str(out), "--model", str(tiny_model_dir), "--max-len", "20", "--device", "cpu",
                 timeout=280)
    assert result.returncode == 0, result.stderr
    info = probe(out)
    assert audio_stream(info)["codec_name"] == codec
    assert int(audio_stream(info)["sample_rate"]) == 48000
    # two sentences of 20 steps (long enough for MP3's encoder delay to stay under 1 %), joined
    # by the sentence pause
    pause = SynthesisParams().sentence_pause
    assert duration(info) == pytest.approx(2 * 20 * 0.16 + pause, rel=0.01)
    assert list(tmp_path.iterdir()) == [out]
