"""The engine with the tiny random-weight VoxCPM2 model: streaming, cancel, voice cache, errors."""

import threading
import time

import numpy as np
import pytest
import soundfile

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.errors import (
    EmptyTextError,
    InvalidRequestError,
    ModelNotFoundError,
    ReferenceAudioError,
    TextTooLongError,
)

STEP_SAMPLES = 7680  # VoxCPM2 yields 160 ms per generation step at 48 kHz


def request(text="Hello world.", voice=None, **params):
    return SynthesisRequest(text, voice, SynthesisParams(**{"max_len": 6, **params}))


def test_stream_yields_float32_chunks_at_the_model_rate(engine):
    assert engine.sample_rate == 48000
    stream = engine.synthesize(request("One sentence. And another one."))
    chunks = list(stream)
    assert len(stream.segments) == 2
    assert [c.segment.index for c in chunks] == sorted(c.segment.index for c in chunks)
    assert {c.segment.index for c in chunks} == {0, 1}
    assert all(c.samples.dtype == np.float32 and c.samples.ndim == 1 for c in chunks)
    pause = 12000  # 0.25 s before the second sentence (its own silence trimmed: none here)
    assert [c.samples.size for c in chunks] == [STEP_SAMPLES] * 6 + \
        [pause + STEP_SAMPLES] + [STEP_SAMPLES] * 5
    stats = stream.stats
    assert stats.chunks == len(chunks) == 12  # max_len 6 per sentence, stop head disabled
    assert stats.samples == 12 * STEP_SAMPLES + pause
    assert 0 < stats.first_chunk_latency < stats.synthesis_time
    assert stats.real_time_factor > 0 and not stats.cancelled


def test_a_generation_at_its_step_limit_makes_no_step_after_its_last(engine):
    # voxcpm runs its language models at the end of every step for the next one; after the
    # last step (the limit) that work is thrown away, and the next sentence waited for it.
    list(engine.synthesize(request("Warm.", max_len=2)))  # the house voice is made by now
    base_lm = engine._model.tts.base_lm
    calls = []
    original = base_lm.forward_step
    own = "forward_step" in vars(base_lm)  # set on the instance (compiled, say), or the class's

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    base_lm.forward_step = counting
    try:
        chunks = list(engine.synthesize(request("One sentence. And another one.", max_len=5)))
    finally:
        if own:
            base_lm.forward_step = original
        else:
            del base_lm.forward_step
    assert len(chunks) == 10  # every step's audio: nothing lost
    assert len(calls) == 2 * 4  # 4 language-model steps between a sentence's 5 patches


def test_first_chunk_arrives_before_synthesis_ends(engine):
    stream = engine.synthesize(request("A first sentence. " * 5, max_len=4))
    iterator = iter(stream)
    next(iterator)
    assert stream.stats.first_chunk_at is not None and stream.stats.finished_at is None
    rest = list(iterator)
    assert len(rest) == 19 and stream.stats.finished_at > stream.stats.first_chunk_at


def test_first_chunk_latency_does_not_grow_with_text_length(engine):
    def first_chunk_latency(text):
        stream = engine.synthesize(request(text, max_len=2))
        for _ in stream:
            stream.cancel()
        return stream.stats.first_chunk_latency

    one = "This is one ordinary sentence."
    fifty = " ".join(f"This is ordinary sentence number {i}." for i in range(50))
    first_chunk_latency(one)  # warm-up
    short = min(first_chunk_latency(one) for _ in range(3))
    long = min(first_chunk_latency(fifty) for _ in range(3))
    assert long < 3 * short + 0.05, (short, long)


def test_cancel_stops_generation_within_one_step(engine):
    stream = engine.synthesize(request("Some words. " * 20, max_len=50))
    received = 0
    for _ in stream:
        received += 1
        if received == 3:
            stream.cancel()
    assert received == 3
    assert stream.stats.cancelled
    # The model is free again and generates normally afterwards.
    assert len(list(engine.synthesize(request("Again.", max_len=3)))) == 3


def test_cancel_from_another_thread_while_waiting_for_the_model(engine):
    long_stream = engine.synthesize(request("Busy. " * 10, max_len=20))
    waiting = engine.synthesize(request("Waiting."))
    got: list = []
    iterator = iter(long_stream)
    next(iterator)  # long_stream now holds the model
    thread = threading.Thread(target=lambda: got.extend(waiting))
    thread.start()
    time.sleep(0.2)
    waiting.cancel()
    thread.join(2)
    assert not thread.is_alive() and got == []
    long_stream.cancel()
    list(iterator)


def test_same_seed_gives_the_same_audio(engine):
    a = np.concatenate([c.samples for c in engine.synthesize(request(seed=5))])
    b = np.concatenate([c.samples for c in engine.synthesize(request(seed=5))])
    c = np.concatenate([c.samples for c in engine.synthesize(request(seed=6))])
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.fixture
def voice_clip(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(3 * 16000) / 16000
    audio = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.3 * rng.standard_normal(t.size))
    path = tmp_path / "voice.wav"
    soundfile.write(path, audio.astype(np.float32), 16000)
    return path


@pytest.mark.parametrize("transcript", [None, "The words said in the clip."])
def test_voice_prompt_is_encoded_once_and_then_cached(engine, voice_clip, transcript):
    voice = VoiceReference.from_clip(voice_clip, transcript)
    first = engine.synthesize(request(voice=voice))
    assert len(list(first)) == 6 and first.stats.voice_cache_hit is False
    second = engine.synthesize(request("Something else entirely.", voice=voice))
    list(second)
    assert second.stats.voice_cache_hit is True


def test_changed_clip_content_is_encoded_again(engine, voice_clip):
    voice = VoiceReference.from_clip(voice_clip)
    list(engine.synthesize(request(voice=voice)))
    data, rate = soundfile.read(voice_clip)
    soundfile.write(voice_clip, data * 0.5, rate)
    stream = engine.synthesize(request(voice=voice))
    list(stream)
    assert stream.stats.voice_cache_hit is False


@pytest.mark.parametrize("text, error", [
    ("", EmptyTextError),
    ("  \n\t ", EmptyTextError),
    ("x" * 1_000_000, TextTooLongError),
])
def test_bad_text_is_refused_before_generation(engine, text, error):
    with pytest.raises(error):
        engine.synthesize(request(text))


@pytest.mark.parametrize("params", [
    {"cfg_value": 0}, {"inference_timesteps": 0}, {"min_len": 10, "max_len": 5},
])
def test_out_of_range_parameters_are_refused(engine, params):
    with pytest.raises(InvalidRequestError):
        engine.synthesize(request(**params))


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00", bytes(range(256)) * 40])
def test_corrupt_reference_audio_is_a_clear_error(engine, tmp_path, content):
    clip = tmp_path / "broken.wav"
    clip.write_bytes(content)
    with pytest.raises(ReferenceAudioError, match="broken.wav"):
        list(engine.synthesize(request(voice=VoiceReference.from_clip(clip))))


def test_silent_or_missing_reference_is_a_clear_error(engine, tmp_path):
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(32000, dtype=np.float32), 16000)
    with pytest.raises(ReferenceAudioError, match="silent"):
        list(engine.synthesize(request(voice=VoiceReference.from_clip(silent))))
    with pytest.raises(ReferenceAudioError, match="does not exist"):
        list(engine.synthesize(request(voice=VoiceReference.from_clip(tmp_path / "nope.wav"))))


def test_unknown_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model directory"):
        Engine.load(str(tmp_path / "missing-model"), device="cpu")
    with pytest.raises(ModelNotFoundError, match="config.json"):
        Engine.load(str(tmp_path), device="cpu")


def test_hub_model_that_is_not_downloaded_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelNotFoundError, match="not downloaded"):
        Engine.load("openbmb/VoxCPM2", device="cpu")
