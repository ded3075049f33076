"""Timing one request to a running `voxdesk serve`, the way a client sees it.

Every function returns one :data:`~voxdesk.bench.result.Sample` with the seed's figures:
``first_byte`` (request sent -> first body byte), ``time_to_first_audio`` (-> first PCM sample,
after the WAV header), ``total_time`` (-> last byte), ``audio_duration``, ``chunks`` (body
pieces that carried audio, as they arrived) and ``bytes``. Plain ``http.client`` (standard
library): it hands over each piece of a chunked body as it arrives, with nothing buffered in
between, which is what a first-byte figure needs.
"""

from __future__ import annotations

import http.client
import json
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voxdesk.bench.result import Sample
from voxdesk.errors import VoxDeskError

READ_SIZE = 1 << 16
TIMEOUT_S = 3600.0  # a long text on a slow CPU; the benchmark is interrupted with Ctrl+C


class ServerRequestError(VoxDeskError):
    """The server answered a benchmark request with an error (or not at all)."""


@dataclass(frozen=True)
class Target:
    url: str  # http://127.0.0.1:7861
    api_key: str | None = None

    def connection(self) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        return kind(parts.hostname or "127.0.0.1", parts.port, timeout=TIMEOUT_S)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def ws_url(self, path: str) -> str:
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}{path}"


def multipart(fields: dict[str, str], files: dict[str, Path]) -> tuple[bytes, str]:
    """A multipart/form-data body (the seed's form fields and its prompt_audio upload)."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, path in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wav_data_offset(head: bytes) -> tuple[int, int, int] | None:
    """(offset of the first sample, sample rate, bytes per sample frame) once ``head`` holds
    the whole RIFF header; None while it does not yet."""
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ServerRequestError("The server's audio is not a WAV stream.")
    position, rate, frame = 12, 0, 2
    while len(head) >= position + 8:
        chunk_id, size = head[position:position + 4], struct.unpack_from("<I", head, position + 4)[0]
        if chunk_id == b"data":
            return position + 8, rate, frame
        if chunk_id == b"fmt " and len(head) >= position + 24:
            channels, rate = struct.unpack_from("<HI", head, position + 10)
            bits = struct.unpack_from("<H", head, position + 22)[0]
            frame = max(1, channels * bits // 8)
        position += 8 + size + (size & 1)
    return None


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return f"{message} {data.get('hint') or ''}".strip()
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", errors="replace")


def post(target: Target, path: str, body: bytes, content_type: str) -> Sample:
    """POST and time the answer: first byte, first audio sample, last byte."""
    connection = target.connection()
    try:
        started = time.perf_counter()
        connection.request("POST", path, body, {"Content-Type": content_type, **target.headers()})
        response = connection.getresponse()
        if response.status != 200:
            raise ServerRequestError(f"POST {path} answered {response.status}: "
                                     f"{_error_text(response.read())}")
        first_byte = first_audio = None
        head = b""
        layout: tuple[int, int, int] | None = None
        received = audio_bytes = chunks = 0
        while block := response.read1(READ_SIZE):
            now = time.perf_counter()
            if first_byte is None:
                first_byte = now - started
            before = received
            received += len(block)
            if layout is None:
                head += block
                layout = wav_data_offset(head)
                if layout is None:
                    continue
                head = b""
            offset = layout[0]
            audio_in_block = received - max(before, offset)
            if audio_in_block > 0:
                chunks += 1
                audio_bytes += audio_in_block
                if first_audio is None:
                    first_audio = now - started
        finished = time.perf_counter() - started
    finally:
        connection.close()
    rate, frame = (layout[1], layout[2]) if layout else (0, 2)
    duration = audio_bytes / frame / rate if rate else None
    return {"first_byte": first_byte, "time_to_first_audio": first_audio,
            "total_time": finished, "audio_duration": duration, "chunks": chunks,
            "bytes": received, "rtf": finished / duration if duration else None}


def form_fields(text: str, params: Any, prompt_text: str | None = None) -> dict[str, str]:
    fields = {"text": text, "cfg_value": str(params.cfg_value),
              "inference_timesteps": str(params.inference_timesteps),
              "min_len": str(params.min_len), "max_len": str(params.max_len)}
    if params.seed is not None:
        fields["seed"] = str(params.seed)
    if prompt_text:
        fields["prompt_text"] = prompt_text
    return fields


def tts_form(target: Target, path: str, text: str, params: Any, clip: Path | None = None,
             prompt_text: str | None = None) -> Sample:
    """POST /api/tts/stream or /api/tts with the seed's form fields (and a clip to clone)."""
    body, content_type = multipart(form_fields(text, params, prompt_text if clip else None),
                                   {"prompt_audio": clip} if clip else {})
    return post(target, path, body, content_type)


def openai_speech(target: Target, text: str) -> Sample:
    """POST /v1/audio/speech as OpenAI's clients send it (WAV; OpenAI has no length fields)."""
    body = json.dumps({"model": "voxcpm", "input": text, "voice": "default",
                       "response_format": "wav"}).encode()
    return post(target, "/v1/audio/speech", body, "application/json")


def websocket_speak(target: Target, text: str, params: Any) -> Sample:
    """One speak over WS /ws/tts: first message (the start event), first binary (audio)."""
    from websockets.sync.client import connect

    headers = target.headers()
    message = {"type": "speak", "text": text, "cfg_value": params.cfg_value,
               "inference_timesteps": params.inference_timesteps, "min_len": params.min_len,
               "max_len": params.max_len}
    if params.seed is not None:
        message["seed"] = params.seed
    with connect(target.ws_url("/ws/tts"), additional_headers=headers or None,
                 open_timeout=30, max_size=None) as socket:
        started = time.perf_counter()
        socket.send(json.dumps(message))
        first_byte = first_audio = None
        rate = 0
        audio_bytes = chunks = received = 0
        while True:
            frame = socket.recv(timeout=TIMEOUT_S)
            now = time.perf_counter() - started
            if first_byte is None:
                first_byte = now
            if isinstance(frame, bytes):
                chunks += 1
                audio_bytes += len(frame)
                received += len(frame)
                if first_audio is None:
                    first_audio = now
                continue
            received += len(frame.encode())
            event = json.loads(frame)
            kind = event.get("type")
            if kind == "start":
                rate = int(event.get("sample_rate") or 0)
            elif kind == "end":
                break
            elif kind in ("error", "cancelled"):
                raise ServerRequestError(f"WS /ws/tts answered {kind}: "
                                         f"{event.get('error', '')} {event.get('hint', '')}".strip())
        finished = time.perf_counter() - started
    duration = audio_bytes / 2 / rate if rate else None  # pcm_s16le mono
    return {"first_byte": first_byte, "time_to_first_audio": first_audio,
            "total_time": finished, "audio_duration": duration, "chunks": chunks,
            "bytes": received, "rtf": finished / duration if duration else None}
