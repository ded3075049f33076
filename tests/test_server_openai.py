"""/v1/audio/speech driven by the official `openai` client against a real server on 127.0.0.1."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openai
import pytest
import soundfile
from openai import OpenAI

from voxdesk.engine import SynthesisParams
from voxdesk.voices.store import VoiceStore

STEP = 7680  # samples per generation step (160 ms at 48 kHz)
TEXT = "Hi."
STEPS = 3  # the profiles' max length: the tiny model always runs to it


@pytest.fixture
def client(server, data_dir) -> OpenAI:
    """A client as an OpenAI user would make one (with an empty voice folder behind it)."""
    return OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=60)


@pytest.fixture
def clip(tmp_path) -> Path:
    t = np.arange(3 * 16000) / 16000
    path = tmp_path / "me.wav"
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000)
    return path


@pytest.fixture
def narrator(client, clip) -> None:
    """A default profile whose settings keep each answer short (OpenAI's API has no max
    length: a VoxDesk user sets it in the profile)."""
    store = VoiceStore()
    store.add("Narrator", clip, params=SynthesisParams(max_len=STEPS))
    store.set_default("Narrator")


def speech_file(client: OpenAI, path: Path, **options) -> Path:
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", input=options.pop("input", TEXT), **options) as response:
        assert response.status_code == 200
        response.stream_to_file(path)
    return path


@pytest.mark.parametrize("fmt", ["wav", "flac", "pcm"])
def test_official_client_streams_each_format_to_a_file(client, narrator, tmp_path, fmt):
    path = speech_file(client, tmp_path / f"speech.{fmt}", voice="alloy", response_format=fmt)
    if fmt == "pcm":  # raw: mono 16-bit little-endian at the model's 48 kHz
        data = np.frombuffer(path.read_bytes(), dtype="<i2")
    else:
        info = soundfile.info(path)
        assert info.format == fmt.upper() and info.samplerate == 48000 and info.channels == 1
        data, _ = soundfile.read(path, dtype="int16")
    assert len(data) == STEPS * STEP and np.abs(data).max() > 0


def test_profiles_by_name_or_id_and_openai_names_mean_the_default_voice(client, clip, tmp_path):
    store = VoiceStore()
    store.add("Reader", clip, params=SynthesisParams(max_len=2))  # its settings come along
    store.add("Narrator", clip, params=SynthesisParams(max_len=STEPS))

    def frames(**options) -> int:
        path = speech_file(client, tmp_path / "out.wav", response_format="wav", **options)
        return len(soundfile.read(path)[0])

    assert frames(voice="Reader") == 2 * STEP
    assert frames(voice={"id": "reader"}) == 2 * STEP  # newer clients' custom-voice form
    store.set_default("Narrator")
    assert frames(voice="nova") == STEPS * STEP  # not a profile: the default profile speaks


def test_what_cannot_be_honoured_is_refused_with_json_errors(client, tmp_path):
    with pytest.raises(openai.NotFoundError) as missing:
        speech_file(client, tmp_path / "a.wav", voice="Nobody", response_format="wav")
    # The client shows the message of OpenAI's error object; VoxDesk's hint comes along.
    assert "Nobody" in missing.value.message and missing.value.response.json()["hint"]
    with pytest.raises(openai.UnprocessableEntityError) as speed:
        speech_file(client, tmp_path / "b.wav", voice="alloy", speed=3.5)  # OpenAI's, not ours
    assert "speed" in speed.value.message
    with pytest.raises(openai.UnprocessableEntityError) as wma:
        speech_file(client, tmp_path / "c.wma", voice="alloy", response_format="wma")
    assert "response_format" in wma.value.message
    assert not (tmp_path / "a.wav").exists()


def test_flac_body_is_a_complete_file(client, narrator):
    content = client.audio.speech.create(model="tts-1", voice="echo", input="Short.",
                                         response_format="flac").content
    info = soundfile.info(io.BytesIO(content))
    assert info.format == "FLAC" and info.frames == STEPS * STEP
