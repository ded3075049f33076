"""A saved voice is encoded once: in memory for the next request, on disk for the next start, and
never served a stale encoding after its audio changed. The real engine on the tiny model.

(The command line's new-process reuse is in test_voices_cli.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.testing.signals import speech_like, write_clip
from voxdesk.voices import VoiceStore


@pytest.fixture
def store(tmp_path: Path) -> VoiceStore:
    return VoiceStore(tmp_path / "voices")


def new_engine(engine: Engine, disk: Path | None = None) -> Engine:
    """An engine with empty caches, as after a restart; it shares the session's loaded weights
    (loading them again would only cost time: the caches live in the Engine, not the model)."""
    fresh = Engine(engine._model)
    if disk is not None:
        fresh.use_disk_prompt_cache(disk)
    return fresh


def speak(engine: Engine, voice: VoiceReference, text: str = "Hello there.") -> tuple[
        np.ndarray, bool | None]:
    stream = engine.synthesize(SynthesisRequest(text, voice, SynthesisParams(max_len=3, seed=4)))
    audio = np.concatenate([chunk.samples for chunk in stream])
    return audio, stream.stats.voice_cache_hit


def clip(tmp_path: Path, seed: int, pitch: float = 140.0) -> Path:
    return write_clip(tmp_path / f"clip-{seed}.wav", speech_like(3.0, seed=seed, pitch=pitch))


def test_a_profile_is_encoded_on_first_use_then_cached(engine, store, tmp_path):
    engine = new_engine(engine)
    anna = store.add("Anna", clip(tmp_path, 1), transcript="Hello, I am Anna.").voice_reference()
    assert speak(engine, anna)[1] is False
    assert speak(engine, anna, "Something else entirely.")[1] is True
    # Picking a voice in the window encodes it ahead (prepare_voice): Play is then a hit.
    bob = store.add("Bob", clip(tmp_path, 2, pitch=110)).voice_reference()
    assert engine.prepare_voice(bob) is False
    assert speak(engine, bob)[1] is True
    assert engine.prepare_voice(anna) is True
    assert (engine.prompt_cache.misses, engine.prompt_cache.disk_hits) == (2, 0)


def test_the_encoding_on_disk_serves_a_restarted_engine_the_same_voice(engine, store, tmp_path):
    cache = tmp_path / "prompts"
    voice = store.add("Anna", clip(tmp_path, 3)).voice_reference()
    first, hit = speak(new_engine(engine, cache), voice)
    assert hit is False
    [saved] = cache.glob("*/*.pt")  # one folder per model fingerprint, one file per voice

    restarted = new_engine(engine, cache)
    again, hit = speak(restarted, voice)
    assert hit is True and restarted.prompt_cache.disk_hits == 1
    assert restarted.prompt_cache.misses == 0
    assert np.array_equal(first, again)  # the stored encoding is the one it would compute
    assert list(cache.glob("*/*.pt")) == [saved]


def test_changed_audio_under_the_same_name_is_encoded_again(engine, store, tmp_path):
    cache = tmp_path / "prompts"
    running = new_engine(engine, cache)
    old = store.add("Anna", clip(tmp_path, 5))
    old_audio, hit = speak(running, old.voice_reference())
    assert hit is False
    store.remove("Anna")
    new = store.add("Anna", clip(tmp_path, 6, pitch=220))  # same name, another recording
    assert new.audio_sha256 != old.audio_sha256

    # The running engine (memory cache) and a restarted one (disk cache) both encode it anew.
    new_audio, hit = speak(running, store.get("Anna").voice_reference())
    assert hit is False
    assert not np.array_equal(old_audio, new_audio)
    assert len(list(cache.glob("*/*.pt"))) == 2
    restarted_audio, hit = speak(new_engine(engine, cache), store.get("Anna").voice_reference())
    assert hit is True and np.array_equal(restarted_audio, new_audio)


def test_a_damaged_cache_file_is_rebuilt_not_an_error(engine, store, tmp_path):
    cache = tmp_path / "prompts"
    voice = store.add("Anna", clip(tmp_path, 7)).voice_reference()
    first, _ = speak(new_engine(engine, cache), voice)
    [saved] = cache.glob("*/*.pt")
    saved.write_bytes(saved.read_bytes()[:100])  # a cut-off write, a failing disk

    restarted = new_engine(engine, cache)
    again, hit = speak(restarted, voice)
    assert hit is False and np.array_equal(first, again)
    assert saved.stat().st_size > 100  # and it was saved again, whole
