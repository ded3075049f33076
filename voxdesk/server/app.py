"""`voxdesk serve`: the local HTTP API, compatible with the original VoxCPM streaming API.

Endpoints and form fields are the original's (POST /api/tts/stream, GET /health,
GET /api/gpu/status), so its clients keep working; the stream is one valid WAV instead of a WAV
file per chunk. Plus POST /api/tts (complete file), POST /v1/audio/speech (OpenAI-compatible:
every response_format and stream_format=sse, see voxdesk.server.formats), GET /api/voices (also
/v1/voices, /v1/audio/voices) and WS /ws/tts (voxdesk.server.websocket). Errors are JSON
``{"error": message, "hint": hint}`` with a 4xx/5xx status.

Under /v1/ the error is OpenAI's ``{"error": {"message", "type", ...}, "hint"}``, which OpenAI
clients display. Voices: a ``voice`` names a profile; without one, the profile marked default
speaks (else the model's own voice), as with ``voxdesk speak``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxdesk import __version__
from voxdesk.audio.tempo import SPEED_DEFAULT, stretch_async_chunks, validate_speed
from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.voice_prompt import check_clip
from voxdesk.errors import ReferenceAudioError, VoxDeskError
from voxdesk.server import docs, uploads, websocket
from voxdesk.server.access import AccessGuard
from voxdesk.server.bridge import ClientGone, collect_chunks, stream_chunks
from voxdesk.server.documents import uploaded_text
from voxdesk.server.errors import error_body
from voxdesk.server.formats import SSE_MEDIA_TYPE, audio_body, media_type, sse_events
from voxdesk.server.service import (
    DEFAULT_PARAMS,
    KEY_HINT,
    HttpError,
    RequestSlot,
    ServerLimits,
    SpeechService,
    bearer,
    describe_problems,
    explicit_fields,
    key_matches,
    status_for,
)
from voxdesk.server.wav_stream import complete_wav
from voxdesk.voices.store import VoiceStore

__all__ = ["ServerLimits", "create_app"]  # ServerLimits: from its old home too

log = logging.getLogger(__name__)


# Form fields of the original API, with the ranges SynthesisParams accepts. (Module level:
# FastAPI resolves these annotations by name.)
# No length limit here: the body limit bounds it, and build_request says the server's own limit.
# (An empty form field counts as missing: describe_problems says "There is no text to speak".)
Text = Annotated[str, Form()]
Chapter = Annotated[int | None, Form(ge=1, le=100_000)]
Cfg = Annotated[float, Form(ge=0.1, le=10.0, allow_inf_nan=False)]
Steps = Annotated[int, Form(ge=1, le=100)]
MinLen = Annotated[int, Form(ge=1, le=4096)]
MaxLen = Annotated[int, Form(ge=1, le=8192)]
Upload = Annotated[UploadFile | None, File()]
OptionalText = Annotated[str | None, Form()]
Flag = Annotated[bool, Form()]
Seed = Annotated[int | None, Form(ge=0, le=2**63 - 1)]
SentencePause = Annotated[float, Form(ge=0.0, le=5.0)]
ParagraphPause = Annotated[float, Form(ge=0.0, le=10.0)]
StreamFormat = Annotated[Literal["wav", "pcm", "mp3", "opus"], Form()]
# 0.5-3 in steps of 0.05 (voxdesk.audio.tempo.validate_speed says why a value is refused).
Speed = Annotated[float, Form(description="how fast to speak, 0.5-3, pitch kept")]


def form_params(cfg_value: Cfg = DEFAULT_PARAMS.cfg_value,
                inference_timesteps: Steps = DEFAULT_PARAMS.inference_timesteps,
                min_len: MinLen = DEFAULT_PARAMS.min_len,
                max_len: MaxLen = DEFAULT_PARAMS.max_len,
                normalize: Flag = False, denoise: Flag = False, seed: Seed = None,
                continuity: Flag = DEFAULT_PARAMS.continuity,
                sentence_pause: SentencePause = DEFAULT_PARAMS.sentence_pause,
                paragraph_pause: ParagraphPause = DEFAULT_PARAMS.paragraph_pause,
                style: OptionalText = None,
                ) -> SynthesisParams:
    """The generation fields both form routes take (one dependency, documented once)."""
    return SynthesisParams(cfg_value, inference_timesteps, min_len, max_len, normalize, denoise,
                           seed, continuity, sentence_pause, paragraph_pause, style or None)


FormParams = Annotated[SynthesisParams, Depends(form_params)]


class VoiceId(BaseModel):
    """A custom voice as newer OpenAI clients send it: ``{"id": name}``."""

    id: str


class SpeechRequest(BaseModel):
    """The OpenAI /v1/audio/speech body. ``instructions`` is accepted and ignored (VoxCPM has
    no such control). ``speed`` is OpenAI's field (0.25-4 there): VoxDesk plays 0.5-3 and
    refuses the rest rather than silently clamping it."""

    model: str = "voxcpm"
    input: str = ""  # too long or empty: build_request says so, with this server's limit
    voice: str | VoiceId = "default"
    instructions: str | None = None
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


# OpenAI's own voice names are not VoxDesk profiles: unless a profile has that name, they mean
# the default voice (the profile marked default, else the model's own), so OpenAI clients work
# unchanged. Any other name must be a profile (404 otherwise).
OPENAI_VOICES = {"default", "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova",
                 "sage", "shimmer", "verse", "marin", "cedar"}


def error_response(request: Request, status: int, message: str, hint: str = "",
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's error shape (voxdesk.server.errors)."""
    return JSONResponse(error_body(request.url.path, status, message, hint), status, headers)


def create_app(engine: Engine, limits: ServerLimits = ServerLimits(), api_key: str | None = None,
               cors_origins: tuple[str, ...] = (), listen_host: str = "127.0.0.1") -> FastAPI:
    app = FastAPI(title="VoxDesk", version=__version__,
                  description="Local text-to-speech with VoxCPM, streamed as it is generated.",
                  docs_url=None, redoc_url=None)  # /docs from local files: voxdesk.server.docs
    service = SpeechService(engine, limits)
    admission = service.admission
    app.state.engine, app.state.admission = engine, admission
    # Host, origin and key are checked before anything is read, the body's size while it is;
    # CORS outside, so that an allowed page can read a refusal too.
    app.add_middleware(uploads.BodyLimit, limits=limits)
    app.add_middleware(AccessGuard, listen_host=listen_host, cors_origins=cors_origins,
                       api_key=api_key)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["*"])
    docs.register(app)

    def authorised(request: Request) -> None:
        if not key_matches(api_key, bearer(request.headers.get("authorization"))):
            raise HttpError(401, "Missing or wrong API key.", KEY_HINT)

    Auth = Depends(authorised)

    @app.exception_handler(HttpError)
    async def http_error(request: Request, exc: HttpError) -> JSONResponse:
        return error_response(request, exc.status, exc.message, exc.hint, exc.headers)

    @app.exception_handler(ClientGone)
    async def client_gone(request: Request, exc: ClientGone) -> Response:
        return Response(status_code=499)  # nobody is there to read it

    @app.exception_handler(VoxDeskError)
    async def voxdesk_error(request: Request, exc: VoxDeskError) -> JSONResponse:
        return error_response(request, status_for(exc), exc.message, exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def starlette_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, message, hint = uploads.explain_http_exception(exc, limits)
        return error_response(request, status, message, hint,
                              dict(exc.headers) if exc.headers else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 422, describe_problems(exc.errors(), skip=1))

    # -- requests ---------------------------------------------------------------------------

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

    def audio_headers(fmt: str) -> dict[str, str]:
        return {"X-Sample-Rate": str(engine.sample_rate), "X-Channels": "1",
                "X-Audio-Format": fmt, "Cache-Control": "no-store"}

    def others_waiting() -> bool:
        return admission.admitted > 1

    def audio_of(request: SynthesisRequest, speed: float) -> AsyncIterator[np.ndarray]:
        return stretch_async_chunks(stream_chunks(engine.synthesize(request), others_waiting),
                                    engine.sample_rate, speed)

    def streamed(request: SynthesisRequest, fmt: str, slot: RequestSlot, sse: bool = False,
                 speed: float = SPEED_DEFAULT) -> StreamingResponse:
        """The response streaming ``request`` in ``fmt``; it releases ``slot`` when done (and,
        should the body never be read, when the response ends)."""

        async def body() -> AsyncIterator[bytes]:
            with slot:
                audio = audio_body(fmt, engine.sample_rate, audio_of(request, speed))
                try:
                    async for data in sse_events(audio, len(request.text)) if sse else audio:
                        yield data
                except VoxDeskError as exc:  # the status is sent: all we can do is end early
                    log.warning("Streamed synthesis ended early: %s", exc)

        return StreamingResponse(body(), media_type=SSE_MEDIA_TYPE if sse else media_type(fmt),
                                 headers=audio_headers(fmt),
                                 background=BackgroundTask(slot.release))

    async def form_request(text: str, prompt_audio: UploadFile | None, prompt_text: str | None,
                           params: SynthesisParams, voice: str | None,
                           document: UploadFile | None = None, chapter: int | None = None
                           ) -> tuple[SynthesisRequest, Path | None]:
        folder = None
        uploaded = prompt_audio is not None and bool(prompt_audio.filename)
        reference = None
        language = None
        if document is not None and document.filename:  # the text is the document's
            if text.strip():
                raise HttpError(422, "Send either text or a document, not both.")
            text, language = await uploaded_text(document, chapter, limits)
            if len(text) > limits.max_text_chars:
                raise HttpError(413, f"The document's text is {len(text):,} characters; this "
                                f"server takes at most {limits.max_text_chars:,} per request.",
                                "Send one chapter at a time (the chapter field, from 1).")
        elif chapter is not None:
            raise HttpError(422, "chapter needs a document (the document field).")
        lexicon = service.lexicon(voice, language, profile_voice=bool(voice) or not uploaded)
        try:
            if voice or not uploaded:  # an upload without a profile: no default profile either
                reference, params = service.voice(voice, explicit_fields(params))
            if prompt_audio is not None and uploaded:
                folder = Path(tempfile.mkdtemp(prefix="voxdesk-upload-"))  # mode 0700
                clip = await save_upload(prompt_audio, folder)
                reference = VoiceReference.from_clip(clip, prompt_text)
            elif prompt_text:
                raise HttpError(422, "prompt_text needs prompt_audio (the clip it transcribes).")
            return service.build_request(text, params, reference, lexicon), folder
        except BaseException:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    # -- the original API ---------------------------------------------------------------------

    @app.post("/api/tts/stream", dependencies=[Auth],
              summary="Speech streamed as one WAV (or raw PCM) while it is generated")
    async def tts_stream(
        params: FormParams,
        text: Text = "",
        prompt_audio: Upload = None,
        prompt_text: OptionalText = None,
        voice: OptionalText = None,
        format: StreamFormat = "wav",
        speed: Speed = SPEED_DEFAULT,
        document: Upload = None,
        chapter: Chapter = None,
    ) -> StreamingResponse:
        speed = validate_speed(speed)
        request, folder = await form_request(text, prompt_audio, prompt_text, params, voice,
                                             document, chapter)
        return streamed(request, format, service.slot(folder), speed=speed)

    @app.post("/api/tts", dependencies=[Auth], summary="Speech as one complete WAV file")
    async def tts(
        http: Request,
        params: FormParams,
        text: Text = "",
        prompt_audio: Upload = None,
        prompt_text: OptionalText = None,
        voice: OptionalText = None,
        speed: Speed = SPEED_DEFAULT,
        document: Upload = None,
        chapter: Chapter = None,
    ) -> Response:
        speed = validate_speed(speed)
        request, folder = await form_request(text, prompt_audio, prompt_text, params, voice,
                                             document, chapter)
        with service.slot(folder):
            samples = await collect(request, http, speed)
        return Response(complete_wav(samples, engine.sample_rate), media_type="audio/wav",
                        headers=audio_headers("wav"))

    async def collect(request: SynthesisRequest, http: Request,
                      speed: float = SPEED_DEFAULT) -> np.ndarray:
        """All the audio, for routes that answer with a complete file: stops before the next
        model step if the client goes away meanwhile (ClientGone)."""
        return await collect_chunks(audio_of(request, speed), http.is_disconnected)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        info = engine.info
        return {"status": "ok", "model_loaded": True, "model_id": public_model_id(info.model_id),
                "device": info.device, "device_name": info.device_name,
                "dtype": info.dtype, "sample_rate": info.sample_rate, "version": __version__,
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
              summary="OpenAI-compatible speech (OpenAI voice names: the default voice)")
    async def openai_speech(body: SpeechRequest) -> Response:
        speed = validate_speed(body.speed)
        name = body.voice.id if isinstance(body.voice, VoiceId) else body.voice
        reference, params = service.voice(name, {}, OPENAI_VOICES)
        request = service.build_request(body.input, params, reference, service.lexicon(name))
        return streamed(request, body.response_format, service.slot(),
                        sse=body.stream_format == "sse", speed=speed)

    @app.get("/api/voices", dependencies=[Auth])  # profile names are the user's business
    @app.get("/v1/voices", dependencies=[Auth])
    @app.get("/v1/audio/voices", dependencies=[Auth])
    async def voices() -> dict[str, Any]:
        return {"voices": [{"name": p.name, "mode": p.mode, "language": p.language}
                           for p in VoiceStore().list()]}

    websocket.register(app, service, api_key, cors_origins)
    return app


def public_model_id(model_id: str) -> str:
    """A model's id without the local folder it was loaded from (that is nobody's business)."""
    path = Path(model_id).expanduser()
    if path.is_absolute() or path.exists():
        return Path(model_id).name
    return model_id
