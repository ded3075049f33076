"""Speed on every API route: a real server on 127.0.0.1, real clients, the tiny model."""

from __future__ import annotations

import io
import json

import numpy as np
import openai
import pytest
import requests
import soundfile
from openai import OpenAI
from websockets.sync.client import connect

STEP = 7680  # samples per generation step (160 ms at 48 kHz)
FIELDS = {"text": "Hello there.", "max_len": "6", "seed": "5"}  # 6 steps: 0.96 s at 1x


def form_audio(server, route: str, **fields: str) -> np.ndarray:
    response = requests.post(f"{server.url}{route}", data={**FIELDS, **fields}, timeout=60)
    assert response.status_code == 200, response.text
    samples, rate = soundfile.read(io.BytesIO(response.content), dtype="float32")
    assert rate == 48000
    return samples


@pytest.mark.parametrize("route", ["/api/tts", "/api/tts/stream"])
def test_form_routes_speak_at_the_speed_asked(server, route):
    normal = form_audio(server, route)
    assert len(normal) == 6 * STEP
    for speed in (1.5, 2.0, 0.5):
        faster = form_audio(server, route, speed=str(speed))
        assert len(faster) == pytest.approx(len(normal) / speed, rel=0.03), speed


@pytest.mark.parametrize("speed", ["0.45", "3.05", "-1", "nan", "fast"])
def test_form_routes_refuse_a_bad_speed_with_a_json_error(server, speed):
    response = requests.post(f"{server.url}/api/tts", data={**FIELDS, "speed": speed}, timeout=60)
    assert response.status_code == 422
    body = response.json()
    assert "speed" in body["error"].lower()
    assert requests.get(f"{server.url}/health", timeout=10).json()["status"] == "ok"


def test_openai_speed_accepted_in_voxdesk_range_refused_outside(server, data_dir):
    client = OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=60)

    def frames(**options) -> int:
        content = client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.",
                                             response_format="wav", **options).content
        return len(soundfile.read(io.BytesIO(content))[0])

    normal = frames()
    assert frames(speed=1.5) == pytest.approx(normal / 1.5, rel=0.05)
    assert frames(speed=0.5) == pytest.approx(normal / 0.5, rel=0.05)
    # OpenAI allows 0.25-4; VoxDesk plays 0.5-3 and says so in OpenAI's error shape.
    for speed in (0.25, 0.4, 3.5, 4.0, 5.0):
        with pytest.raises(openai.UnprocessableEntityError) as refused:
            frames(speed=speed)
        error = refused.value.response.json()["error"]
        assert error["type"] == "invalid_request_error" and "speed" in error["message"]


def test_websocket_speaks_at_the_speed_asked_and_refuses_a_bad_one(server):
    url = server.url.replace("http://", "ws://") + "/ws/tts"

    def spoken(**fields) -> tuple[dict, int]:
        with connect(url, open_timeout=10) as ws:
            ws.send(json.dumps({"type": "speak", "text": "Hello there.", "max_len": 6,
                                "seed": 5, **fields}))
            start, audio = None, b""
            while True:
                message = ws.recv(timeout=60)
                if isinstance(message, bytes):
                    audio += message
                    continue
                event = json.loads(message)
                if event["type"] == "start":
                    start = event
                elif event["type"] in ("end", "error", "cancelled"):
                    return (start or event), len(audio) // 2

    start, normal = spoken()
    assert start["speed"] == 1.0 and normal == 6 * STEP
    start, faster = spoken(speed=2.0)
    assert start["speed"] == 2.0 and faster == pytest.approx(normal / 2, rel=0.03)
    error, _ = spoken(speed=3.5)
    assert error["type"] == "error" and "speed" in error["error"].lower() and error["hint"]
