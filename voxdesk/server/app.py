"""`voxdesk serve`: the local HTTP API, compatible with the original VoxCPM streaming API.

Endpoints and form fields are the original's (POST /api/tts/stream, GET /health,
GET /api/gpu/status), so its clients keep working; the stream is one valid WAV instead of a WAV
file per chunk. Plus POST /api/tts (complete file), POST /v1/audio/speech (OpenAI-compatible)
and GET /api/voices. Errors are JSON ``{"error": message, "hint": hint}`` with a 4xx/5xx status.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from voxdesk import __version__
from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.request import MAX_TEXT_CHARS
from voxdesk.engine.voice_prompt import check_clip
from voxdesk.errors import (
    InvalidRequestError,
    ReferenceAudioError,
    TextTooLongError,
    VoxDeskError,
)
from voxdesk.server.bridge import Admission, Busy, stream_chunks
from voxdesk.server.wav_stream import complete_wav, flac, pcm16, wav_header
from voxdesk.voices.errors import VoiceNotFoundError
from voxdesk.voices.store import VoiceStore

RETRY_AFTER_S = 2
_DEFAULTS = SynthesisParams()


@dataclass(frozen=True)
class ServerLimits:
    max_text_chars: int = 20_000  # a few minutes of speech per request
    max_upload_bytes: int = 10 * 1024 * 1024
    max_upload_seconds: float = 60.0
    max_waiting: int = 4  # requests queued behind the one generating


# Form fields of the original API, with the ranges SynthesisParams accepts. (Module level:
# FastAPI resolves these annotations by name.)
Text = Annotated[str, Form(max_length=MAX_TEXT_CHARS * 4)]
Cfg = Annotated[float, Form(ge=0.1, le=10.0)]
Steps = Annotated[int, Form(ge=1, le=100)]
MinLen = Annotated[int, Form(ge=1, le=4096)]
MaxLen = Annotated[int, Form(ge=1, le=8192)]
Upload = Annotated[UploadFile | None, File()]
OptionalText = Annotated[str | None, Form()]
Flag = Annotated[bool, Form()]
StreamFormat = Annotated[Literal["wav", "pcm"], Form()]


class SpeechRequest(BaseModel):
    """The OpenAI /v1/audio/speech body."""

    model: str = "voxcpm"
    input: str = Field(min_length=1, max_length=MAX_TEXT_CHARS * 4)
    voice: str = "default"
    response_format: Literal["wav", "pcm", "flac"] = "wav"
    stream_format: Literal["audio"] = "audio"


# OpenAI's voice names mean "the model's own voice" here; any other name is a profile.
OPENAI_VOICES = {"default", "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova",
                 "sage", "shimmer", "verse"}


class HttpError(Exception):
    def __init__(self, status: int, message: str, hint: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers


def _status_for(error: VoxDeskError) -> int:
    if isinstance(error, TextTooLongError):
        return 413
    if isinstance(error, VoiceNotFoundError):
        return 404
    if isinstance(error, (InvalidRequestError, ReferenceAudioError)):
        return 422
    return 500


def create_app(engine: Engine, limits: ServerLimits = ServerLimits(), api_key: str | None = None,
               cors_origins: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI(title="VoxDesk", version=__version__,
                  description="Local text-to-speech with VoxCPM, streamed as it is generated.")
    admission = Admission(limits.max_waiting)
    app.state.engine, app.state.admission = engine, admission
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"])

    def authorised(request: Request) -> None:
        if api_key and request.headers.get("authorization") != f"Bearer {api_key}":
            raise HttpError(401, "Missing or wrong API key.", "Send 'Authorization: Bearer KEY'.")

    Auth = Depends(authorised)

    @app.exception_handler(HttpError)
    async def http_error(_request: Request, exc: HttpError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, exc.status, exc.headers)

    @app.exception_handler(VoxDeskError)
    async def voxdesk_error(_request: Request, exc: VoxDeskError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "hint": exc.hint}, _status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse({"error": f"Invalid request: {problems}.", "hint": ""}, 422)

    # -- requests ---------------------------------------------------------------------------

    def build_request(text: str, params: SynthesisParams, voice: VoiceReference | None
                      ) -> SynthesisRequest:
        if len(text) > limits.max_text_chars:
            raise HttpError(413, f"The text is {len(text):,} characters; this server takes at "
                            f"most {limits.max_text_chars:,} per request.", "Split it.")
        return SynthesisRequest(text, voice, params).validate()

    async def save_upload(upload: UploadFile, folder: Path) -> Path:
        # Never trust the client's file name: the clip gets a fixed name in a private folder.
        path = folder / "prompt-audio"
        size = 0
        with path.open("wb") as out:
            while block := await upload.read(1 << 16):
                size += len(block)
                if size > limits.max_upload_bytes:
                    raise HttpError(413, "The uploaded audio is too large.",
                                    f"Send at most {limits.max_upload_bytes // 1024 // 1024} MB.")
                out.write(block)
        try:
            check_clip(path)
        except ReferenceAudioError as exc:
            raise HttpError(415, exc.message.replace(str(path), "prompt_audio"), exc.hint) from exc
        import soundfile

        if soundfile.info(str(path)).duration > limits.max_upload_seconds:
            raise HttpError(422, "The uploaded audio is too long.",
                            f"Use at most {limits.max_upload_seconds:.0f} seconds.")
        return path

    def profile_voice(name: str) -> tuple[VoiceReference, SynthesisParams]:
        profile = VoiceStore().get(name)
        return profile.voice_reference(), profile.params

    def admit() -> None:
        try:
            admission.enter()
        except Busy:
            raise HttpError(503, "The server is busy.", f"Retry in {RETRY_AFTER_S} s.",
                            {"Retry-After": str(RETRY_AFTER_S)}) from None

    def audio_headers(fmt: str) -> dict[str, str]:
        return {"X-Sample-Rate": str(engine.sample_rate), "X-Channels": "1",
                "X-Audio-Format": fmt, "Cache-Control": "no-store"}

    async def streamed(request: SynthesisRequest, fmt: str, folder: Path | None
                       ) -> AsyncIterator[bytes]:
        try:
            if fmt == "wav":
                yield wav_header(engine.sample_rate)
            async for samples in stream_chunks(engine.synthesize(request)):
                yield pcm16(samples)
        finally:
            admission.leave()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    async def form_request(text: str, prompt_audio: UploadFile | None, prompt_text: str | None,
                           params: SynthesisParams, voice: str | None
                           ) -> tuple[SynthesisRequest, Path | None]:
        folder = None
        reference = None
        try:
            if voice:
                reference, profile_params = profile_voice(voice)
                params = profile_params if params == _DEFAULTS else params
            if prompt_audio is not None and prompt_audio.filename:
                folder = Path(tempfile.mkdtemp(prefix="voxdesk-upload-"))  # mode 0700
                clip = await save_upload(prompt_audio, folder)
                reference = VoiceReference.from_clip(clip, prompt_text)
            elif prompt_text:
                raise HttpError(422, "prompt_text needs prompt_audio (the clip it transcribes).")
            return build_request(text, params, reference), folder
        except BaseException:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    # -- the original API ---------------------------------------------------------------------

    @app.post("/api/tts/stream", dependencies=[Auth],
              summary="Speech streamed as one WAV (or raw PCM) while it is generated")
    async def tts_stream(
        text: Text,
        prompt_audio: Upload = None,
        prompt_text: OptionalText = None,
        cfg_value: Cfg = _DEFAULTS.cfg_value,
        inference_timesteps: Steps = _DEFAULTS.inference_timesteps,
        min_len: MinLen = _DEFAULTS.min_len,
        max_len: MaxLen = _DEFAULTS.max_len,
        normalize: Flag = False,
        denoise: Flag = False,
        voice: OptionalText = None,
        format: StreamFormat = "wav",
    ) -> StreamingResponse:
        params = SynthesisParams(cfg_value, inference_timesteps, min_len, max_len, normalize,
                                 denoise)
        request, folder = await form_request(text, prompt_audio, prompt_text, params, voice)
        admit()
        media = "audio/wav" if format == "wav" else "audio/L16"
        return StreamingResponse(streamed(request, format, folder), media_type=media,
                                 headers=audio_headers(format))

    @app.post("/api/tts", dependencies=[Auth], summary="Speech as one complete WAV file")
    async def tts(
        text: Text,
        prompt_audio: Upload = None,
        prompt_text: OptionalText = None,
        cfg_value: Cfg = _DEFAULTS.cfg_value,
        inference_timesteps: Steps = _DEFAULTS.inference_timesteps,
        min_len: MinLen = _DEFAULTS.min_len,
        max_len: MaxLen = _DEFAULTS.max_len,
        normalize: Flag = False,
        denoise: Flag = False,
        voice: OptionalText = None,
    ) -> Response:
        params = SynthesisParams(cfg_value, inference_timesteps, min_len, max_len, normalize,
                                 denoise)
        request, folder = await form_request(text, prompt_audio, prompt_text, params, voice)
        admit()
        try:
            samples = await collect(request)
        finally:
            admission.leave()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        return Response(complete_wav(samples, engine.sample_rate), media_type="audio/wav",
                        headers=audio_headers("wav"))

    async def collect(request: SynthesisRequest) -> np.ndarray:
        parts = [samples async for samples in stream_chunks(engine.synthesize(request))]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        info = engine.info
        return {"status": "ok", "model_loaded": True, "model_id": info.model_id,
                "device": info.device, "device_name": info.device_name,
                "sample_rate": info.sample_rate, "version": __version__,
                "busy": engine.busy, "queued": admission.admitted}

    @app.get("/api/gpu/status")
    async def gpu_status() -> dict[str, Any]:
        import torch

        if not torch.cuda.is_available():
            return {"cuda_available": False, "device": "cpu", "device_name": "CPU"}
        free, total = torch.cuda.mem_get_info()
        return {"cuda_available": True, "device": engine.info.device,
                "device_name": torch.cuda.get_device_name(),
                "memory_used_mb": (total - free) // 2**20, "memory_total_mb": total // 2**20}

    # -- beyond the original -------------------------------------------------------------------

    @app.post("/v1/audio/speech", dependencies=[Auth],
              summary="OpenAI-compatible speech (the model's own voice for OpenAI voice names)")
    async def openai_speech(body: SpeechRequest) -> Response:
        reference, params = (None, _DEFAULTS)
        if body.voice.lower() not in OPENAI_VOICES:
            reference, params = profile_voice(body.voice)
        request = build_request(body.input, params, reference)
        admit()
        if body.response_format == "flac":
            try:
                samples = await collect(request)
            finally:
                admission.leave()
            return Response(flac(samples, engine.sample_rate), media_type="audio/flac",
                            headers=audio_headers("flac"))
        media = "audio/wav" if body.response_format == "wav" else "audio/L16"
        return StreamingResponse(streamed(request, body.response_format, None), media_type=media,
                                 headers=audio_headers(body.response_format))

    @app.get("/api/voices")
    @app.get("/v1/voices")
    async def voices() -> dict[str, Any]:
        return {"voices": [{"name": p.name, "mode": p.mode, "language": p.language}
                           for p in VoiceStore().list()]}

    return app
