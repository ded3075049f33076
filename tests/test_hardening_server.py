"""Hostile but fair clients against a real uvicorn server on 127.0.0.1 (issue 16).

Uploads that never end, clients that vanish or stop reading, foreign web origins, DNS
rebinding, missing keys and malformed input: each must get a quick, clear answer in the
project's error shape, and none may fill the disk or keep the model busy for anyone else.
"""

from __future__ import annotations

import json
import os
import select
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from voxdesk.server import free_port, start_in_background
from voxdesk.server.app import ServerLimits
from voxdesk.server.uploads import max_body_bytes

KEY = "hunter2-key"
LIMIT = 4 * 1024 * 1024  # the servers' upload limit here
LIMITS = ServerLimits(max_text_chars=20_000, max_upload_bytes=LIMIT, max_waiting=4)
LONG = "This sentence is one of very many in a long request. " * 120  # minutes of model steps
SHORT = {"text": "Next one.", "max_len": "4"}
EVIL = "http://evil.example"
#: Long enough for a reader that takes nothing to fill the small socket buffers in between,
#: even on a loaded CPU (the tiny model then makes ~50 kB/s of audio).
STALL_S = 6


@pytest.fixture(scope="module")
def private_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the server's temporary files go (uploads spooled by the multipart parser too)."""
    folder = tmp_path_factory.mktemp("server-tmp")
    saved, tempfile.tempdir = tempfile.tempdir, str(folder)
    yield folder
    tempfile.tempdir = saved


@pytest.fixture(scope="module")
def server_limits(private_tmp):  # the server starts with the private temporary folder
    return LIMITS


@pytest.fixture(scope="module")
def keyed(engine, private_tmp):
    with start_in_background(engine, port=free_port(), limits=LIMITS, api_key=KEY,
                             cors_origins=("http://app.example",)) as handle:
        yield handle


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


# -- a raw HTTP/1.1 client: full control over what is sent, read and when ------------------------

def open_request(port: int, path: str, body: bytes, headers: dict[str, str],
                 rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:  # a small window: a reader that stops reading stalls the sender quickly
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
            f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    return sock


def form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    boundary = "voxdesk-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields.items()]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def read_status(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        block = sock.recv(65536)
        if not block:
            break
        data += block
    status = int(data.split(b" ", 2)[1])
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    while length is not None and len(rest) < length:
        block = sock.recv(65536)
        if not block:
            break
        rest += block
    try:
        return status, json.loads(rest)
    except ValueError:
        return status, {}


class TempWatcher:
    """The peak of bytes held under a folder: files in it and open files (deleted ones too,
    as TemporaryFile makes them) of this process that live in it."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self._stop = str(folder), 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _usage(self) -> int:
        total = 0
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
                if target.startswith(self.folder) and target.endswith("(deleted)"):
                    total += os.stat(f"/proc/self/fd/{fd}").st_size
            except OSError:
                pass
        return total

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._usage())
            time.sleep(0.005)

    def __enter__(self) -> TempWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._usage())


def stream_upload(port: int, headers: dict[str, str], total: int, chunked: bool = True
                  ) -> tuple[int, dict, int]:
    """POST a multipart upload of ``total`` bytes of "audio" from a generator, stopping as soon
    as the server answers; returns (status, JSON body, bytes sent)."""
    boundary = "voxdesk-upload"
    opening = (f'--{boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nHello.\r\n'
               f'--{boundary}\r\nContent-Disposition: form-data; name="prompt_audio"; '
               f'filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n').encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = ["POST /api/tts HTTP/1.1", f"Host: 127.0.0.1:{port}",
            f"Content-Type: multipart/form-data; boundary={boundary}"]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    head += [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())

    def body() -> Iterator[bytes]:
        yield opening
        block = b"\0" * (1 << 20)
        for _ in range(total // len(block)):
            yield block

    sent, deadline = 0, time.monotonic() + 60
    try:
        for block in body():
            if select.select([sock], [], [], 0)[0] or time.monotonic() > deadline:
                break  # the server has answered (or refuses to read): stop sending
            sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            sent += len(block)
    except OSError:
        pass  # reset by a server that stopped reading: its answer is still there to read
    status, answer = read_status(sock)
    sock.close()
    return status, answer, sent


# -- 1. uploads are limited and authenticated before they are stored ---------------------------

UPLOAD = 300 * 1024 * 1024


def test_a_streamed_300_mb_upload_without_a_key_stores_nothing(keyed, private_tmp):
    with TempWatcher(private_tmp) as watch:
        status, answer, _sent = stream_upload(port_of(keyed), {}, UPLOAD)
    assert status == 401 and "API key" in answer["error"]
    assert watch.peak < 1024 * 1024, f"{watch.peak / 2**20:.0f} MB stored before the 401"


def test_a_streamed_300_mb_upload_with_the_key_stops_at_the_limit(keyed, private_tmp):
    with TempWatcher(private_tmp) as watch:
        status, answer, sent = stream_upload(port_of(keyed), auth(), UPLOAD)
    assert status == 413 and "MB" in answer["error"] + answer["hint"]
    # The body may hold the clip plus the form's text (up to 4 bytes a character): no more.
    limit = max_body_bytes(LIMITS)
    assert LIMIT < limit < LIMIT + 200 * 1024
    assert watch.peak <= limit, f"{watch.peak / 2**20:.1f} MB stored for a {limit / 2**20:.1f} MB limit"
    assert sent < UPLOAD  # refused while it was still coming


def test_a_too_large_content_length_is_refused_before_the_body(server, private_tmp):
    with TempWatcher(private_tmp) as watch:
        status, answer, _sent = stream_upload(port_of(server), {}, UPLOAD, chunked=False)
    assert status == 413 and answer["error"]
    assert watch.peak < 64 * 1024  # refused on the header: nothing of the body was kept


def test_an_upload_under_the_limit_still_works(server, tmp_path):
    import numpy as np
    import soundfile

    t = np.arange(16000 * 3) / 16000
    clip = tmp_path / "me.wav"
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 220 * t)).astype("float32"), 16000)
    with clip.open("rb") as f:
        response = requests.post(f"{server.url}/api/tts", data={"text": "Hi.", "max_len": "4"},
                                 files={"prompt_audio": ("me.wav", f, "audio/wav")}, timeout=60)
    assert response.status_code == 200 and response.content[:4] == b"RIFF"


# -- 2. a client that goes away, or stops reading, frees the model -----------------------------

def first_audio_seconds(server) -> float:
    """Seconds until the next (short) request's first audio arrives."""
    started = time.monotonic()
    with requests.post(f"{server.url}/api/tts/stream", data={**SHORT, "format": "pcm"},
                       stream=True, timeout=30) as response:
        assert response.status_code == 200
        next(response.iter_content(chunk_size=None))
        return time.monotonic() - started


def wait_busy(engine, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not engine.busy:
        assert time.monotonic() < deadline, "the request never started generating"
        time.sleep(0.01)


def wait_idle(engine, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while engine.busy and time.monotonic() < deadline:
        time.sleep(0.05)


ROUTES = {
    "tts-complete": ("/api/tts", "form", {}),
    "tts-stream-wav": ("/api/tts/stream", "form", {"format": "wav"}),
    "tts-stream-pcm": ("/api/tts/stream", "form", {"format": "pcm"}),
    "v1-wav": ("/v1/audio/speech", "json", {"response_format": "wav"}),
    "v1-pcm": ("/v1/audio/speech", "json", {"response_format": "pcm"}),
    "v1-flac": ("/v1/audio/speech", "json", {"response_format": "flac"}),
}


def long_request(port: int, route: str, rcvbuf: int | None = None) -> socket.socket:
    path, kind, extra = ROUTES[route]
    if kind == "form":
        body, headers = form({"text": LONG, **extra})
    else:
        body = json.dumps({"input": LONG, **extra}).encode()
        headers = {"Content-Type": "application/json"}
    return open_request(port, path, body, headers, rcvbuf)


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_dropped_client_frees_the_model_for_the_next_request(server, engine, route):
    wait_idle(engine)
    sock = long_request(port_of(server), route)
    wait_busy(engine)
    time.sleep(0.3)
    sock.close()
    assert first_audio_seconds(server) < 2.0


@pytest.mark.parametrize("route", [r for r in ROUTES if r not in ("tts-complete", "v1-flac")])
def test_a_client_that_stops_reading_frees_the_model_for_the_next(server, engine, route):
    wait_idle(engine)
    sock = long_request(port_of(server), route, rcvbuf=4096)
    try:
        wait_busy(engine)
        time.sleep(STALL_S)  # it reads nothing: the buffers between us fill up
        assert first_audio_seconds(server) < 2.0
    finally:
        sock.close()


def test_a_dropped_websocket_frees_the_model(server, engine):
    wait_idle(engine)
    ws = connect(server.url.replace("http", "ws") + "/ws/tts", open_timeout=10)
    ws.send(json.dumps({"type": "speak", "text": LONG}))
    wait_busy(engine)
    ws.socket.shutdown(socket.SHUT_RDWR)  # gone without a closing handshake
    ws.socket.close()
    assert first_audio_seconds(server) < 2.0


def test_a_websocket_that_stops_reading_frees_the_model(server, engine):
    wait_idle(engine)
    ws = connect(server.url.replace("http", "ws") + "/ws/tts", open_timeout=10, max_queue=1)
    ws.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        ws.send(json.dumps({"type": "speak", "text": LONG}))
        wait_busy(engine)
        time.sleep(STALL_S)
        assert first_audio_seconds(server) < 2.0
    finally:
        ws.close()


# -- 3. a seed out of range is refused on every route ---------------------------------------------

def test_a_huge_seed_is_refused_clearly_everywhere(server):
    huge = str(2**70)
    for path in ("/api/tts", "/api/tts/stream"):
        response = requests.post(f"{server.url}{path}", data={"text": "Hi.", "seed": huge},
                                 timeout=30)
        assert response.status_code == 422 and "seed" in response.json()["error"]
    with connect(server.url.replace("http", "ws") + "/ws/tts", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "speak", "text": "Hi.", "seed": 2**70}))
        event = json.loads(ws.recv(timeout=10))
        assert event["type"] == "error" and "seed" in event["error"]


# -- 6. origins, hosts, keys and the docs -----------------------------------------------------------

GETS = ["/health", "/api/gpu/status", "/api/voices", "/v1/voices", "/docs", "/openapi.json"]


def post(server, path: str, headers: dict[str, str]) -> requests.Response:
    if path.startswith("/v1/"):
        return requests.post(f"{server.url}{path}", json={"input": "Hi."}, headers=headers,
                             timeout=30)
    return requests.post(f"{server.url}{path}", data=SHORT, headers=headers, timeout=30)


@pytest.mark.parametrize("path", ["/api/tts", "/api/tts/stream", "/v1/audio/speech", *GETS])
def test_a_foreign_origin_is_refused_on_every_route(server, path):
    headers = {"Origin": EVIL}
    if path in GETS:
        response = requests.get(f"{server.url}{path}", headers=headers, timeout=30)
    else:
        response = post(server, path, headers)
    assert response.status_code == 403
    body = response.json()
    message = body["error"]["message"] if path.startswith("/v1/") else body["error"]
    assert "evil.example" in message and body["hint"]


def test_a_foreign_origin_is_refused_on_the_websocket(server):
    with connect(server.url.replace("http", "ws") + "/ws/tts", open_timeout=10,
                 origin=EVIL) as ws:
        event = json.loads(ws.recv(timeout=10))
    assert event["type"] == "error" and "evil.example" in event["error"]


def test_the_servers_own_pages_and_allowed_origins_pass(server, keyed):
    own = requests.post(f"{server.url}/api/tts", data=SHORT, headers={"Origin": server.url},
                        timeout=60)
    assert own.status_code == 200
    allowed = requests.post(f"{keyed.url}/api/tts", data=SHORT, timeout=60,
                            headers={"Origin": "http://app.example", **auth()})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://app.example"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7861", "127.0.0.1.evil.example"])
def test_a_foreign_host_header_is_refused(server, host):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    for path in ("/health", "/api/tts"):
        response = requests.request("POST" if path == "/api/tts" else "GET",
                                    f"{server.url}{path}", data=SHORT if path == "/api/tts"
                                    else None, headers={"Host": host}, timeout=30)
        assert response.status_code == 403, path
        assert host.split(":")[0] in response.json()["error"]


def test_loopback_names_are_accepted_as_host(server):
    port = port_of(server)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        response = requests.get(f"{server.url}/health", headers={"Host": host}, timeout=30)
        assert response.status_code == 200, host


@pytest.mark.parametrize("path", [*GETS, "/redoc"])
def test_with_a_key_nothing_answers_without_it(keyed, path):
    response = requests.get(f"{keyed.url}{path}", timeout=30)
    assert response.status_code in (401, 404)
    if response.status_code == 401:
        error = response.json()["error"]
        assert "API key" in (error["message"] if path.startswith("/v1/") else error)
    if path != "/redoc":
        assert requests.get(f"{keyed.url}{path}", headers=auth(), timeout=30).status_code == 200


def test_health_does_not_show_the_models_local_path(server, tiny_model_dir):
    text = requests.get(f"{server.url}/health", timeout=30).text
    assert str(tiny_model_dir) not in text and str(tiny_model_dir.parent) not in text


def test_the_docs_render_offline_from_local_assets(server):
    page = requests.get(f"{server.url}/docs", timeout=30)
    assert page.status_code == 200
    import re

    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'",
                                                                           page.text)
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts
    for url in urls:
        asset = requests.get(f"{server.url}{url}", timeout=30)
        assert asset.status_code == 200 and asset.content, url
    assert "SwaggerUIBundle" in requests.get(f"{server.url}{scripts[0]}", timeout=30).text


# -- 7. clear messages in the project's error shape ------------------------------------------------

def test_empty_text_says_there_is_no_text(server):
    for path in ("/api/tts", "/api/tts/stream"):
        response = requests.post(f"{server.url}{path}", data={"text": ""}, timeout=30)
        assert response.status_code == 422
        assert "no text" in response.json()["error"].lower()
    response = requests.post(f"{server.url}/v1/audio/speech", json={"input": ""}, timeout=30)
    assert response.status_code == 422 and "no text" in response.json()["error"]["message"]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_number_is_named_as_such(server, value):
    response = requests.post(f"{server.url}/api/tts", data={"text": "Hi.", "cfg_value": value},
                             timeout=30)
    assert response.status_code == 422
    error = response.json()["error"]
    assert "cfg_value" in error and "finite" in error and "less than" not in error


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_told_so(server, body):
    response = requests.post(f"{server.url}/v1/audio/speech", data=body, timeout=30,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "JSON object" in message and ": :" not in message


def test_a_2_mb_form_field_gets_the_projects_error_and_the_real_limit(server):
    response = requests.post(f"{server.url}/api/tts", data={"text": "x" * (2 * 1024 * 1024)},
                             timeout=60)
    assert response.status_code == 413
    body = response.json()
    assert "detail" not in body and "20,000" in body["error"] + body["hint"]


def test_a_2_mb_v1_input_is_told_the_real_limit(server):
    response = requests.post(f"{server.url}/v1/audio/speech", timeout=60,
                             json={"input": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    message = response.json()["error"]["message"]
    assert "20,000" in message and "800000" not in message and "800,000" not in message


def test_a_lone_surrogate_on_the_websocket_is_a_clear_error(server):
    with connect(server.url.replace("http", "ws") + "/ws/tts", open_timeout=10) as ws:
        ws.send('{"type": "speak", "text": "Hello \\ud800 there."}')
        event = json.loads(ws.recv(timeout=30))
        assert event["type"] == "error"
        assert "character" in event["error"] and "codec" not in event["error"]
        ws.send(json.dumps({"type": "speak", "text": "Still fine.", "max_len": 4}))
        assert json.loads(ws.recv(timeout=30))["type"] == "start"  # the socket stays usable


def test_a_lone_surrogate_over_http_is_a_clear_error(server):
    response = requests.post(f"{server.url}/v1/audio/speech", timeout=30,
                             data=b'{"input": "Hi \\ud800."}',
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "character" in response.json()["error"]["message"]


def test_no_answer_is_a_traceback_or_plain_text(server):
    """Regression: every refusal above is JSON, never a bare 500."""
    for data in ({"text": "Hi.", "max_len": "-1"}, {"text": "Hi.", "min_len": "9", "max_len": "3"},
                 {"text": "Hi.", "voice": "nobody"}, {"text": "Hi.", "prompt_text": "x"}):
        response = requests.post(f"{server.url}/api/tts", data=data, timeout=30)
        assert 400 <= response.status_code < 500 and response.json()["error"]
