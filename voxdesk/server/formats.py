"""Response bodies in every format OpenAI's speech API names, and its server-sent events.

``audio_body(fmt, rate, samples)`` turns the engine's samples (an async iterator) into the
bytes of one response: WAV is one streaming WAV (a single header with unknown sizes, then PCM),
PCM is the raw 16-bit samples, MP3, Opus (Ogg) and AAC (ADTS) are encoded as the audio comes and
sent as the encoder hands out packets. FLAC is sent complete, so that its header carries the
length and checksum (encoded into a temporary file as it comes: memory stays flat).
``sse_events`` wraps any of these as OpenAI's ``speech.audio.delta``/``speech.audio.done``.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import AsyncIterator

import numpy as np

from voxdesk.audio.encode import SPECS, ByteQueue, open_encoder
from voxdesk.server.wav_stream import pcm16, wav_header

#: The response_format values of OpenAI's /v1/audio/speech, in its order (mp3 is its default).
RESPONSE_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
SSE_MEDIA_TYPE = "text/event-stream"
_FLAC_BLOCK = 1 << 16


def media_type(fmt: str) -> str:
    """The Content-Type of a ``fmt`` body (AAC is ADTS, the streamable AAC)."""
    return SPECS[fmt].media_type


async def audio_body(fmt: str, sample_rate: int, samples: AsyncIterator[np.ndarray]
                     ) -> AsyncIterator[bytes]:
    if fmt == "wav":
        yield wav_header(sample_rate)
    if fmt in ("wav", "pcm"):
        async for chunk in samples:
            yield pcm16(chunk)
        return
    if fmt == "flac":
        async for block in _complete_file(fmt, sample_rate, samples):
            yield block
        return
    sink = ByteQueue()
    encoder = open_encoder(sink, fmt, sample_rate)
    try:
        async for chunk in samples:
            encoder.write(chunk)  # a few ms per 160 ms chunk: fine on the event loop
            if data := sink.take():
                yield data
        encoder.close()
    finally:
        encoder.abort()
    if data := sink.take():
        yield data


async def _complete_file(fmt: str, sample_rate: int, samples: AsyncIterator[np.ndarray]
                         ) -> AsyncIterator[bytes]:
    with tempfile.TemporaryFile() as spool:
        encoder = open_encoder(spool, fmt, sample_rate)
        try:
            async for chunk in samples:
                encoder.write(chunk)
            encoder.close()
        finally:
            encoder.abort()
        spool.seek(0)
        while block := spool.read(_FLAC_BLOCK):
            yield block


def _event(payload: dict[str, object]) -> bytes:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


async def sse_events(body: AsyncIterator[bytes], input_tokens: int) -> AsyncIterator[bytes]:
    """OpenAI's speech event stream: each piece of ``body`` as a base64 ``speech.audio.delta``,
    then ``speech.audio.done`` with the usage (VoxDesk counts no tokens: the input's length in
    characters stands for its input tokens)."""
    async for data in body:
        if data:
            yield _event({"type": "speech.audio.delta",
                          "audio": base64.b64encode(data).decode("ascii")})
    yield _event({"type": "speech.audio.done",
                  "usage": {"input_tokens": input_tokens, "output_tokens": 0,
                            "total_tokens": input_tokens}})
