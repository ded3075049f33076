"""WS /ws/tts: speech over one WebSocket, for clients that talk back while it speaks.

Protocol (JSON text messages, audio as binary messages):

client → server
  ``{"type": "speak", "text": ..., "id"?, "voice"?, "cfg_value"?, "inference_timesteps"?,
  "min_len"?, "max_len"?, "normalize"?, "denoise"?, "seed"?, "speed"?}``. ``speed``: 0.5-3
  (pitch kept; default 1). ``voice`` is a profile name
  (none: the default profile, else the model's own voice); fields not sent come from that
  profile, else VoxCPM's defaults. A valid speak replaces the one in progress.
  ``{"type": "stop"}``: stop the one in progress (nothing happens when there is none).

server → client, for each speak (``id`` echoes the client's, else counts 1, 2, ...)
  ``{"type": "start", "id", "sample_rate", "channels": 1, "format": "pcm_s16le", "sentences",
  "speed"}``
  binary messages: mono little-endian 16-bit PCM, as each model step produces it
  ``{"type": "first_chunk", "id", "latency_ms"}`` right after the first binary message
  then exactly one of
  ``{"type": "end", "id", "chunks", "samples", "audio_seconds", "latency_ms", "synthesis_ms",
  "real_time_factor"}``,
  ``{"type": "cancelled", "id", "chunks", "samples"}`` - sent once the model has really
  stopped (within one step), so a following request never waits for it,
  ``{"type": "error", "id", "error", "hint"}``.
  A bad message also gets an error event; the socket stays open. Only a wrong API key (query
  ``?api_key=KEY`` - browsers cannot set headers - or ``Authorization: Bearer KEY``) or a web
  page from an origin not allowed with --cors-origin closes it (code 1008): WebSockets are not
  covered by CORS, so without that check any web page could use the model.

Requests take the same place in the queue (Admission) and obey the same limits as HTTP ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from voxdesk.audio.tempo import SPEED_DEFAULT, stretch_async_chunks, validate_speed
from voxdesk.engine import SynthesisParams, SynthesisRequest, SynthesisStream
from voxdesk.errors import VoxDeskError
from voxdesk.server.access import origin_allowed
from voxdesk.server.bridge import stream_chunks
from voxdesk.server.service import (
    DEFAULT_PARAMS,
    KEY_HINT,
    HttpError,
    SpeechService,
    bearer,
    describe_problems,
    key_matches,
)
from voxdesk.server.wav_stream import pcm16

log = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
STOP_WAIT_S = 30.0  # longest a model step may take before "cancelled" is sent anyway
PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(SynthesisParams))
RequestId = str | int | None


class SpeakMessage(BaseModel):
    # Unknown fields are refused: a misspelt "max_length" must not be silently ignored.
    model_config = ConfigDict(extra="forbid")

    type: Literal["speak"]
    id: str | int | None = None
    text: str
    voice: str | None = None
    # Only the fields sent count (given_params); ranges are checked by SynthesisParams.validate()
    # as for the other routes.
    cfg_value: float = DEFAULT_PARAMS.cfg_value
    inference_timesteps: int = DEFAULT_PARAMS.inference_timesteps
    min_len: int = DEFAULT_PARAMS.min_len
    max_len: int = DEFAULT_PARAMS.max_len
    normalize: bool = DEFAULT_PARAMS.normalize
    denoise: bool = DEFAULT_PARAMS.denoise
    seed: int | None = Field(DEFAULT_PARAMS.seed, ge=0, le=2**63 - 1)
    continuity: bool = DEFAULT_PARAMS.continuity
    sentence_pause: float = DEFAULT_PARAMS.sentence_pause
    paragraph_pause: float = DEFAULT_PARAMS.paragraph_pause
    style: str | None = DEFAULT_PARAMS.style
    speed: float = SPEED_DEFAULT  # checked by validate_speed, as on the HTTP routes

    def given_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAM_FIELDS if name in self.model_fields_set}


@dataclass
class Generation:
    id: RequestId
    stream: SynthesisStream
    speed: float = SPEED_DEFAULT
    task: asyncio.Task[None] | None = None
    started: bool = False  # its thread runs the model (so "cancelled" waits for it)


def register(app: FastAPI, service: SpeechService, api_key: str | None,
             cors_origins: tuple[str, ...]) -> None:
    @app.websocket("/ws/tts")
    async def ws_tts(websocket: WebSocket) -> None:
        await websocket.accept()
        origin = websocket.headers.get("origin")
        if origin is not None and not origin_allowed(origin, websocket.headers.get("host", ""),
                                                     websocket.url.scheme, cors_origins):
            await _refuse(websocket, f"Web pages from {origin} may not use this server.",
                          "Start the server with --cors-origin for that page.")
            return
        presented = (websocket.query_params.get("api_key"),
                     bearer(websocket.headers.get("authorization")))
        if not key_matches(api_key, *presented):
            await _refuse(websocket, "Missing or wrong API key.", KEY_HINT)
            return
        await Session(websocket, service).run()


async def _refuse(websocket: WebSocket, message: str, hint: str) -> None:
    await websocket.send_json({"type": "error", "id": None, "error": message, "hint": hint})
    await websocket.close(POLICY_VIOLATION)


class Session:
    """One connection: reads messages while at most one generation streams its audio."""

    def __init__(self, websocket: WebSocket, service: SpeechService) -> None:
        self.ws, self.service = websocket, service
        self._send_lock = asyncio.Lock()  # the reader and the generation both send
        self._current: Generation | None = None
        self._ids = itertools.count(1)

    async def run(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("text") is None:
                    await self.error(None, "Send requests as JSON text messages.",
                                     'For example {"type": "speak", "text": "Hello."}.')
                    continue
                await self.handle(message["text"])
        except WebSocketDisconnect:
            pass
        finally:
            await self.stop(notify=False)  # the client is gone: stop the model

    async def handle(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            await self.error(None, "The message is not a JSON object.",
                             'Send {"type": "speak", "text": ...} or {"type": "stop"}.')
            return
        if data.get("type") == "stop":
            await self.stop()
        elif data.get("type") == "speak":
            await self.speak(data)
        else:
            await self.error(data.get("id"), f"Unknown message type {data.get('type')!r}.",
                             'Use "speak" or "stop".')

    async def speak(self, data: dict[str, Any]) -> None:
        request_id = data.get("id")
        try:
            message = SpeakMessage.model_validate(data)
            speed = validate_speed(message.speed)
            request = self.request_for(message)
        except ValidationError as exc:
            await self.error(request_id, describe_problems(exc.errors(include_url=False)))
            return
        except (HttpError, VoxDeskError) as exc:
            await self.error(request_id, exc.message, exc.hint)
            return
        await self.stop()  # a valid request replaces the current one
        if request_id is None:
            request_id = next(self._ids)
        try:
            self.service.admit()
        except HttpError as exc:
            await self.error(request_id, exc.message, exc.hint)
            return
        generation = Generation(request_id, self.service.engine.synthesize(request), speed)
        generation.task = asyncio.create_task(self.generate(generation))
        # Not in generate()'s finally: a task cancelled before it first runs never gets there.
        generation.task.add_done_callback(lambda _task: self.service.admission.leave())
        self._current = generation

    def request_for(self, message: SpeakMessage) -> SynthesisRequest:
        voice, params = self.service.voice(message.voice, message.given_params())
        return self.service.build_request(message.text, params, voice,
                                          self.service.lexicon(message.voice))

    async def generate(self, generation: Generation) -> None:
        stream, request_id = generation.stream, generation.id
        try:
            await self.send({"type": "start", "id": request_id,
                             "sample_rate": self.service.engine.sample_rate, "channels": 1,
                             "format": "pcm_s16le", "sentences": len(stream.segments),
                             "speed": generation.speed})
            generation.started = True  # stream_chunks starts the model thread at once
            first = True  # (not stats.chunks: the model thread may be a chunk ahead)
            rate = self.service.engine.sample_rate
            async for samples in stretch_async_chunks(stream_chunks(stream, self.others_waiting), rate,
                                                      generation.speed):
                await self.send(pcm16(samples))
                if first:
                    first = False
                    await self.send({"type": "first_chunk", "id": request_id,
                                     "latency_ms": _ms(stream.stats.first_chunk_latency)})
            await self.send({"type": "end", "id": request_id, **_stats(stream)})
        except (HttpError, VoxDeskError) as exc:
            await self.error(request_id, exc.message, exc.hint)
        except WebSocketDisconnect:
            pass  # the reader sees the disconnect too and cleans up
        except Exception as exc:  # a bug must not take the connection down with it
            log.exception("WebSocket synthesis failed")
            await self.error(request_id, f"Synthesis failed: {exc}.", "")

    def others_waiting(self) -> bool:
        return self.service.admission.admitted > 1

    async def stop(self, notify: bool = True) -> None:
        """Cancel the generation in progress and wait until the model has really stopped."""
        generation, self._current = self._current, None
        if generation is None or generation.task is None:
            return
        finished = generation.task.done()
        generation.task.cancel()
        await asyncio.gather(generation.task, return_exceptions=True)
        if finished:
            return  # it already sent its end or error
        if generation.started:
            deadline = time.monotonic() + STOP_WAIT_S
            while generation.stream.stats.finished_at is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)  # the step in progress ends, then the model is free
        if notify:
            stats = generation.stream.stats
            await self.send({"type": "cancelled", "id": generation.id, "chunks": stats.chunks,
                             "samples": stats.samples})

    async def error(self, request_id: RequestId, message: str, hint: str = "") -> None:
        try:
            await self.send({"type": "error", "id": request_id, "error": message, "hint": hint})
        except WebSocketDisconnect:
            pass

    async def send(self, message: dict[str, Any] | bytes) -> None:
        async with self._send_lock:
            if isinstance(message, bytes):
                await self.ws.send_bytes(message)
            else:
                await self.ws.send_json(message)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _stats(stream: SynthesisStream) -> dict[str, Any]:
    stats = stream.stats
    rtf = stats.real_time_factor
    return {"chunks": stats.chunks, "samples": stats.samples,
            "audio_seconds": round(stats.audio_duration, 3),
            "latency_ms": _ms(stats.first_chunk_latency),
            "synthesis_ms": _ms(stats.synthesis_time),
            "real_time_factor": None if rtf is None else round(rtf, 3)}
