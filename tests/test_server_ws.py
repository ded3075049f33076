"""WS /ws/tts: a real uvicorn server on 127.0.0.1, the real `websockets` client, the tiny model."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np
import pytest
import requests
import soundfile
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from voxdesk.server import free_port, start_in_background
from voxdesk.server.app import ServerLimits

STEP = 7680  # samples per generation step (160 ms at 48 kHz)
TERMINAL = {"end", "cancelled", "error"}
LONG = "A long text to speak. " * 20


@pytest.fixture(scope="module")
def server_limits():
    return ServerLimits(max_text_chars=5000)


def ws_url(server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/ws/tts" + query


@pytest.fixture
def ws(server):
    with connect(ws_url(server), open_timeout=10) as connection:
        yield connection


def speak(ws: ClientConnection, text: str, **fields: Any) -> None:
    ws.send(json.dumps({"type": "speak", "text": text, **fields}))


def receive(ws: ClientConnection) -> dict[str, Any] | bytes:
    message = ws.recv(timeout=60)
    return message if isinstance(message, bytes) else json.loads(message)


def until_terminal(ws: ClientConnection) -> tuple[list[dict[str, Any] | bytes], dict[str, Any]]:
    """Messages up to and including the request's end, cancelled or error event."""
    seen: list[dict[str, Any] | bytes] = []
    while True:
        message = receive(ws)
        seen.append(message)
        if isinstance(message, dict) and message["type"] in TERMINAL:
            return seen, message


def audio_of(messages: list[dict[str, Any] | bytes]) -> bytes:
    return b"".join(m for m in messages if isinstance(m, bytes))


def wait_idle(engine, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while engine.busy and time.monotonic() < deadline:
        time.sleep(0.02)


def test_start_pcm_chunks_and_end_match_the_complete_file(server, ws):
    text = "Hello there. General Kenobi."
    speak(ws, text, max_len=6, seed=11)
    messages, end = until_terminal(ws)
    start = messages[0]
    assert start == {"type": "start", "id": 1, "sample_rate": 48000, "channels": 1,
                     "format": "pcm_s16le", "sentences": 2, "speed": 1.0}
    assert isinstance(messages[1], bytes)  # audio comes first, the latency right after it
    assert messages[2]["type"] == "first_chunk" and messages[2]["latency_ms"] > 0
    chunks = [m for m in messages if isinstance(m, bytes)]
    assert all(isinstance(m, bytes) for m in messages[3:-1])
    pcm = np.frombuffer(audio_of(messages), dtype="<i2")
    assert end["type"] == "end" and end["id"] == 1
    assert end["chunks"] == len(chunks) and end["samples"] == len(pcm) == 12 * STEP + 12000
    assert end["audio_seconds"] == pytest.approx(12 * 0.16 + 0.25)  # + the pause
    assert end["synthesis_ms"] >= end["latency_ms"] > 0 and end["real_time_factor"] > 0

    complete = requests.post(f"{server.url}/api/tts", data={"text": text, "max_len": "6",
                             "seed": "11"}, timeout=60)
    assert complete.status_code == 200
    whole, _ = soundfile.read(io.BytesIO(complete.content), dtype="int16")
    assert abs(len(whole) - len(pcm)) <= STEP
    assert np.array_equal(whole, pcm)  # same seed, same text: the same samples


def test_stop_mid_stream_stops_the_model_and_the_socket_stays_usable(server, ws, engine):
    wait_idle(engine)
    speak(ws, LONG, max_len=40, id="long")
    assert receive(ws)["type"] == "start"
    assert isinstance(receive(ws), bytes)
    assert engine.busy
    ws.send(json.dumps({"type": "stop"}))
    messages, cancelled = until_terminal(ws)
    assert cancelled["type"] == "cancelled" and cancelled["id"] == "long"
    assert not engine.busy  # "cancelled" is sent once the model has really stopped
    assert cancelled["samples"] < 20 * 40 * STEP  # long before its 20 sentences x 40 steps
    assert len(audio_of(messages)) // 2 <= cancelled["samples"]

    speak(ws, "Still here.", max_len=3)
    messages, end = until_terminal(ws)
    assert end["type"] == "end" and len(audio_of(messages)) == 3 * STEP * 2


def test_a_new_request_replaces_the_one_being_spoken(ws, engine):
    wait_idle(engine)
    speak(ws, LONG, max_len=40, id="first")
    assert receive(ws)["type"] == "start"
    assert isinstance(receive(ws), bytes)
    speak(ws, "Second.", max_len=4, id="second")
    _, cancelled = until_terminal(ws)
    assert cancelled == {**cancelled, "type": "cancelled", "id": "first"}
    messages, end = until_terminal(ws)
    assert messages[0]["type"] == "start" and messages[0]["id"] == "second"
    assert end["type"] == "end" and end["id"] == "second"
    assert len(audio_of(messages)) == 4 * STEP * 2  # none of the first request's audio


@pytest.mark.parametrize("message, mentions", [
    ("not json", "JSON"),
    ("[1, 2]", "JSON object"),
    ('{"type": "sing", "text": "Hi."}', "sing"),
    ('{"type": "speak"}', "text"),
    ('{"type": "speak", "text": "   "}', "no text"),
    ('{"type": "speak", "text": "' + "x" * 6000 + '"}', "5,000"),
    ('{"type": "speak", "text": "Hi.", "cfg_value": "lots"}', "cfg_value"),
    ('{"type": "speak", "text": "Hi.", "inference_timesteps": 100000}', "timesteps"),
    ('{"type": "speak", "text": "Hi.", "min_len": 50, "max_len": 10}', "min length"),
    ('{"type": "speak", "text": "Hi.", "max_length": 10}', "max_length"),
    ('{"type": "speak", "text": "Hi.", "voice": "Nobody"}', "Nobody"),
    (b"\x00\x01", "JSON text"),
])
def test_a_bad_message_gets_an_error_event_and_the_socket_stays_usable(ws, message, mentions,
                                                                       data_dir):
    ws.send(message)
    error = receive(ws)
    assert error["type"] == "error" and mentions in error["error"] + error["hint"], error
    speak(ws, "Fine.", max_len=2, id=7)
    messages, end = until_terminal(ws)
    assert end["type"] == "end" and end["id"] == 7 and len(audio_of(messages)) == 2 * STEP * 2


def test_stop_with_nothing_to_stop_is_silent(ws):
    ws.send(json.dumps({"type": "stop"}))
    speak(ws, "Next.", max_len=2)
    messages, end = until_terminal(ws)
    assert messages[0]["type"] == "start" and end["type"] == "end"


def test_websocket_and_http_share_one_queue(engine):
    with start_in_background(engine, port=free_port(),
                             limits=ServerLimits(max_waiting=0)) as handle:
        wait_idle(engine)
        with connect(ws_url(handle), open_timeout=10) as ws:
            speak(ws, LONG, max_len=40)
            assert receive(ws)["type"] == "start"
            busy = requests.post(f"{handle.url}/api/tts", data={"text": "Hi.", "max_len": "2"},
                                 timeout=30)
            assert busy.status_code == 503 and busy.headers["retry-after"]
            ws.send(json.dumps({"type": "stop"}))
            _, cancelled = until_terminal(ws)
            assert cancelled["type"] == "cancelled"
        ok = requests.post(f"{handle.url}/api/tts", data={"text": "Hi.", "max_len": "2"},
                           timeout=30)
        assert ok.status_code == 200  # the WebSocket's place was given back


def test_closing_the_socket_stops_generation(server, engine):
    wait_idle(engine)
    with connect(ws_url(server), open_timeout=10) as ws:
        speak(ws, LONG, max_len=40)
        assert receive(ws)["type"] == "start"
        assert isinstance(receive(ws), bytes)
        assert engine.busy
    wait_idle(engine, 3)
    assert not engine.busy


def refused(url: str, **options: Any) -> tuple[dict[str, Any], int | None]:
    """The error event and close code of a connection the server turns away."""
    with connect(url, open_timeout=10, **options) as ws:
        error = receive(ws)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    return error, closed.value.rcvd.code if closed.value.rcvd else None


def test_api_key_in_the_query_or_header_and_foreign_web_pages_are_refused(engine):
    with start_in_background(engine, port=free_port(), api_key="s3cret",
                             cors_origins=("http://localhost:3000",)) as handle:
        error, code = refused(ws_url(handle))
        assert error["type"] == "error" and "API key" in error["error"] and code == 1008
        error, code = refused(ws_url(handle, "?api_key=wrong"))
        assert "API key" in error["error"] and code == 1008
        error, code = refused(ws_url(handle, "?api_key=s3cret"), origin="https://evil.example")
        assert "evil.example" in error["error"] and code == 1008
        for url, options in [(ws_url(handle, "?api_key=s3cret"), {}),
                             (ws_url(handle), {"additional_headers":
                                               {"Authorization": "Bearer s3cret"}}),
                             (ws_url(handle, "?api_key=s3cret"),
                              {"origin": "http://localhost:3000"})]:
            with connect(url, open_timeout=10, **options) as ws:
                speak(ws, "Allowed.", max_len=2)
                assert until_terminal(ws)[1]["type"] == "end"
