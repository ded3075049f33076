"""Every response_format over HTTP, read back by ffprobe; OpenAI's SSE events; the voices
route; the seed API's mp3/opus streams; no upload left behind by a 503."""

from __future__ import annotations

import base64
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile
from openai import OpenAI

from tests.probe import audio_stream, decode, needs_ffprobe, probe
from voxdesk.engine import SynthesisParams
from voxdesk.server import free_port, start_in_background
from voxdesk.server.limits import ServerLimits
from voxdesk.voices.store import VoiceStore

pytestmark = needs_ffprobe

STEP = 7680  # samples per generation step (160 ms at 48 kHz)
STEPS = 32  # the narrator's max length: 5.1 s, long enough for a 1 % check with codec delays
SECONDS = STEPS * STEP / 48000
CODECS = {"mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac", "wav": "pcm_s16le",
          "pcm": None}
TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
         "wav": "audio/wav", "pcm": "audio/L16"}


@pytest.fixture
def narrator(data_dir, tmp_path) -> None:
    """The default voice: a profile with a short max length and a fixed seed."""
    t = np.arange(3 * 16000) / 16000
    clip = tmp_path / "me.wav"
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000)
    store = VoiceStore()
    store.add("Narrator", clip, params=SynthesisParams(max_len=STEPS, seed=5))
    store.set_default("Narrator")


@pytest.mark.parametrize("fmt", list(CODECS))
def test_official_client_gets_each_response_format(server, narrator, tmp_path, fmt):
    client = OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=120)
    path = tmp_path / f"speech.{fmt}"
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hello.", response_format=fmt) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(TYPES[fmt])
        response.stream_to_file(path)
    raw = 48000 if fmt == "pcm" else None
    stream = audio_stream(probe(path, raw_rate=raw))
    if CODECS[fmt]:
        assert stream["codec_name"] == CODECS[fmt]
    assert int(stream["sample_rate"]) == 48000 and stream["channels"] == 1
    # Streamed bodies carry no length: the duration is what an independent decoder gets.
    assert len(decode(path, raw_rate=raw)) / 48000 == pytest.approx(SECONDS, rel=0.01)


def test_openai_default_format_is_mp3(server, narrator):
    response = requests.post(f"{server.url}/v1/audio/speech",
                             json={"input": "Hi.", "voice": "alloy"}, timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"


def sse_events(response: requests.Response) -> list[dict]:
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        if block.strip():
            assert block.startswith("data: "), block
            events.append(json.loads(block[len("data: "):]))
    return events


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_sse_deltas_decode_to_the_same_audio_as_the_plain_stream(server, narrator, tmp_path,
                                                                fmt):
    body = {"input": "Hello.", "voice": "alloy", "response_format": fmt}
    plain = requests.post(f"{server.url}/v1/audio/speech", json=body, timeout=120)
    sse = requests.post(f"{server.url}/v1/audio/speech", json={**body, "stream_format": "sse"},
                        timeout=120)
    assert plain.status_code == sse.status_code == 200
    events = sse_events(sse)
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert len(events) > 2  # streamed in pieces, not one blob
    done = events[-1]
    assert done["type"] == "speech.audio.done" and done["usage"]["input_tokens"] > 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    (tmp_path / "sse").write_bytes(audio)
    (tmp_path / "plain").write_bytes(plain.content)
    raw = 48000 if fmt == "pcm" else None
    heard, expected = decode(tmp_path / "sse", raw_rate=raw), decode(tmp_path / "plain",
                                                                      raw_rate=raw)
    assert len(heard) == len(expected) and np.abs(heard - expected).max() < 1e-3


def test_voices_route_beside_the_openai_paths(server, narrator):
    for path in ("/v1/audio/voices", "/v1/voices"):
        voices = requests.get(f"{server.url}{path}", timeout=10).json()["voices"]
        assert [v["name"] for v in voices] == ["Narrator"]


@pytest.mark.parametrize("fmt, codec", [("mp3", "mp3"), ("opus", "opus")])
def test_seed_api_streams_mp3_and_opus(server, tmp_path, fmt, codec):
    response = requests.post(f"{server.url}/api/tts/stream",
                             data={"text": "Hello there.", "max_len": str(STEPS),
                                   "format": fmt}, stream=True, timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == TYPES[fmt]
    path = tmp_path / f"a.{fmt}"
    path.write_bytes(response.content)
    assert audio_stream(probe(path))["codec_name"] == codec
    assert len(decode(path)) / 48000 == pytest.approx(SECONDS, rel=0.01)


def test_a_503_deletes_the_uploaded_clip(engine, tmp_path, monkeypatch):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))  # where the server puts uploads
    clip = io.BytesIO()
    t = np.arange(48000) / 16000
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000,
                    format="WAV")
    with start_in_background(engine, port=free_port(),
                             limits=ServerLimits(max_waiting=0)) as handle:
        busy = requests.post(f"{handle.url}/api/tts/stream",
                             data={"text": "A long text to speak. " * 20, "max_len": "40"},
                             stream=True, timeout=60)
        assert busy.status_code == 200, busy.text
        blocks = busy.iter_content(chunk_size=None)  # (kept: dropping it closes the request)
        next(blocks)  # generating: the one place is taken
        refused = requests.post(f"{handle.url}/api/tts/stream",
                                data={"text": "In this voice.", "max_len": "4"},
                                files={"prompt_audio": ("me.wav", clip.getvalue())},
                                timeout=60)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert list(uploads.iterdir()) == []
        busy.close()
    assert list(Path(uploads).iterdir()) == []
