"""The HTTP API: a real uvicorn server on 127.0.0.1, real clients, the tiny model."""

import concurrent.futures
import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import soundfile

from voxdesk.server import free_port, start_in_background
from voxdesk.server.app import ServerLimits
from voxdesk.server.wav_stream import UNKNOWN_SIZE

STEP = 7680  # samples per generation step (160 ms at 48 kHz)


@pytest.fixture(scope="module")
def server_limits():
    return ServerLimits(max_text_chars=5000, max_waiting=2)


def post_stream(server, **fields):
    return requests.post(f"{server.url}/api/tts/stream",
                         data={"text": "Hello there. General Kenobi.", "max_len": "6", **fields},
                         stream=True, timeout=60)


def test_stream_is_one_valid_wav_as_long_as_the_complete_file(server):
    started = time.monotonic()
    response = post_stream(server)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-sample-rate"] == "48000" and response.headers["x-channels"] == "1"
    body = b""
    first_byte_at = None
    for block in response.iter_content(chunk_size=None):
        first_byte_at = first_byte_at or time.monotonic()
        body += block
    finished_at = time.monotonic()
    assert body.count(b"RIFF") == 1
    assert int.from_bytes(body[4:8], "little") == UNKNOWN_SIZE
    assert int.from_bytes(body[40:44], "little") == UNKNOWN_SIZE
    streamed, rate = soundfile.read(io.BytesIO(body), dtype="float32")
    assert rate == 48000 and len(streamed) == 12 * STEP + 12000  # + the 0.25 s pause
    assert first_byte_at - started < finished_at - started

    complete = requests.post(f"{server.url}/api/tts", data={"text": "Hello there. General "
                             "Kenobi.", "max_len": "6"}, timeout=60)
    assert complete.status_code == 200
    whole, _ = soundfile.read(io.BytesIO(complete.content))
    assert abs(len(whole) - len(streamed)) <= STEP
    assert int.from_bytes(complete.content[40:44], "little") == len(whole) * 2


def test_first_bytes_arrive_before_generation_ends(server, engine):
    response = post_stream(server, text="Many words follow here. " * 6, max_len="10")
    blocks = response.iter_content(chunk_size=None)
    next(blocks)  # the header
    next(blocks)  # the first audio
    assert engine.busy  # the model is still generating the rest
    for _ in blocks:
        pass


def test_curl_and_ffprobe_read_the_whole_stream(server, tmp_path):
    if not shutil.which("curl") or not shutil.which("ffprobe"):
        pytest.skip("needs curl and ffprobe (packaging/install-system-deps.sh --test)")
    out = tmp_path / "speech.wav"
    subprocess.run(["curl", "-sN", "-o", str(out), "-F", "text=Short test.", "-F", "max_len=5",
                    f"{server.url}/api/tts/stream"], check=True, timeout=60)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True)
    assert float(probe.stdout) == pytest.approx(5 * 0.16, abs=0.01)
    assert soundfile.info(out).frames == 5 * STEP


def test_raw_pcm_format(server):
    response = post_stream(server, format="pcm", text="One.", max_len="3")
    assert response.status_code == 200 and response.headers["content-type"] == "audio/L16"
    assert len(response.content) == 3 * STEP * 2


def test_voice_cloning_upload_is_used_and_deleted(server, tmp_path):
    clip = io.BytesIO()
    t = np.arange(48000) / 16000
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), 16000,
                    format="WAV")
    before = set(Path(tempfile.gettempdir()).glob("voxdesk-upload-*"))
    response = requests.post(f"{server.url}/api/tts/stream",
                             data={"text": "In this voice.", "max_len": "4"},
                             files={"prompt_audio": ("../../etc/passwd", clip.getvalue())},
                             timeout=60)
    assert response.status_code == 200 and len(response.content) == 44 + 4 * STEP * 2
    assert set(Path(tempfile.gettempdir()).glob("voxdesk-upload-*")) == before


def test_client_disconnect_stops_generation(server, engine):
    response = post_stream(server, text="A long text to speak. " * 20, max_len="40")
    blocks = response.iter_content(chunk_size=None)
    next(blocks)
    next(blocks)
    assert engine.busy
    response.close()
    deadline = time.monotonic() + 3
    while engine.busy and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not engine.busy  # generation stopped long before its 40 x 20 steps


def test_openai_compatible_speech(server):
    response = requests.post(f"{server.url}/v1/audio/speech", json={
        "model": "voxcpm", "input": "Hello from the OpenAI route.", "voice": "alloy",
        "response_format": "wav"}, stream=True, timeout=60)
    assert response.status_code == 200
    data, rate = soundfile.read(io.BytesIO(response.content))
    assert rate == 48000 and len(data) > 0
    flac = requests.post(f"{server.url}/v1/audio/speech", json={
        "input": "Flac please.", "response_format": "flac"}, timeout=60)
    assert flac.status_code == 200 and soundfile.info(io.BytesIO(flac.content)).format == "FLAC"


def test_health_gpu_and_docs(server):
    health = requests.get(f"{server.url}/health", timeout=10).json()
    assert health["status"] == "ok" and health["model_loaded"] and health["sample_rate"] == 48000
    gpu = requests.get(f"{server.url}/api/gpu/status", timeout=10).json()
    assert gpu["cuda_available"] is False and gpu["device_name"] == "CPU"
    assert requests.get(f"{server.url}/docs", timeout=10).status_code == 200
    assert "/api/tts/stream" in requests.get(f"{server.url}/openapi.json", timeout=10).json()[
        "paths"]


@pytest.mark.parametrize("fields, files, status", [
    ({}, None, 422),  # missing text
    ({"text": "   "}, None, 422),
    ({"text": "x" * 6000}, None, 413),  # over this server's limit
    ({"text": "Hi.", "cfg_value": "lots"}, None, 422),
    ({"text": "Hi.", "inference_timesteps": "100000"}, None, 422),
    ({"text": "Hi.", "min_len": "50", "max_len": "10"}, None, 422),
    ({"text": "Hi."}, {"prompt_audio": ("a.wav", b"RIFF garbage" * 100)}, 415),
    ({"text": "Hi.", "prompt_text": "no clip"}, None, 422),
])
def test_bad_input_gets_a_json_4xx_and_the_server_keeps_running(server, fields, files, status):
    response = requests.post(f"{server.url}/api/tts/stream", data=fields, files=files,
                             timeout=30)
    assert response.status_code == status, response.text
    assert response.json()["error"]
    assert requests.get(f"{server.url}/health", timeout=10).status_code == 200


def test_ten_megabytes_of_text_is_refused(server):
    response = requests.post(f"{server.url}/api/tts", data={"text": "x" * 10_000_000},
                             timeout=60)
    assert 400 <= response.status_code < 500
    assert requests.get(f"{server.url}/health", timeout=10).status_code == 200


def test_load_200_requests_from_8_clients(server):
    before = set(Path(tempfile.gettempdir()).glob("voxdesk-upload-*"))

    def one(i: int) -> int:
        response = requests.post(f"{server.url}/api/tts", data={"text": f"Number {i}.",
                                 "max_len": "2", "inference_timesteps": "1"}, timeout=60)
        if response.status_code in (429, 503):
            assert "retry-after" in response.headers
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(200)))
    assert set(codes) <= {200, 429, 503}
    assert codes.count(200) >= 3  # the one generating plus the waiting room get served
    assert requests.get(f"{server.url}/health", timeout=10).json()["queued"] == 0
    assert one(999) == 200  # and it still serves normally afterwards
    assert set(Path(tempfile.gettempdir()).glob("voxdesk-upload-*")) == before


def test_api_key_is_required_when_set(engine):
    handle = start_in_background(engine, port=free_port(), api_key="s3cret")
    try:
        url = f"{handle.url}/api/tts"
        assert requests.post(url, data={"text": "Hi.", "max_len": "2"}, timeout=30
                             ).status_code == 401
        ok = requests.post(url, data={"text": "Hi.", "max_len": "2"}, timeout=30,
                           headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    finally:
        handle.stop()


def test_serve_refuses_the_network_without_an_api_key(cli, tiny_model_dir):
    result = cli("serve", "--host", "0.0.0.0", "--model", str(tiny_model_dir))
    assert result.returncode != 0 and "--api-key" in result.stderr
