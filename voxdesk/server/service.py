"""What the HTTP routes and the WebSocket share: limits, request checks, voices, admission,
API keys and error messages - so both transports refuse and accept exactly the same things."""

from __future__ import annotations

import dataclasses
import hmac
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.request import TextRewriter
from voxdesk.errors import (
    InvalidRequestError,
    ReferenceAudioError,
    TextTooLongError,
    VoxDeskError,
)
from voxdesk.server.bridge import Admission, Busy
from voxdesk.server.limits import ServerLimits
from voxdesk.voices.errors import VoiceNotFoundError
from voxdesk.voices.store import VoiceStore

RETRY_AFTER_S = 2
DEFAULT_PARAMS = SynthesisParams()
KEY_HINT = "Send 'Authorization: Bearer KEY' (WebSocket clients may add ?api_key=KEY instead)."


class HttpError(Exception):
    """A refusal with its HTTP status; the WebSocket sends the same message and hint."""

    def __init__(self, status: int, message: str, hint: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.headers = status, message, hint, headers


def status_for(error: VoxDeskError) -> int:
    if isinstance(error, TextTooLongError):
        return 413
    if isinstance(error, VoiceNotFoundError):
        return 404
    if isinstance(error, (InvalidRequestError, ReferenceAudioError)):
        return 422
    return 500


def describe_problems(errors: Iterable[Mapping[str, Any]], skip: int = 0) -> str:
    """Pydantic's validation errors as one sentence; ``skip`` drops location prefixes such as
    FastAPI's "body"."""
    errors = list(errors)
    if any(not e["loc"][skip:] for e in errors):  # the body itself: a list, a string, nothing
        return 'Invalid request: the body must be a JSON object, e.g. {"input": "Hello."}.'
    if any(e["type"] == "missing" and e["loc"][-1] in ("text", "input") for e in errors):
        return "There is no text to speak."  # a form's empty field counts as missing
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][skip:])}: {e['msg']}"
                         for e in errors)
    return f"Invalid request: {problems}."


def key_matches(api_key: str | None, *presented: str | None) -> bool:
    """Whether any presented credential is the key (always true without a key)."""
    if not api_key:
        return True
    # compare_digest: the time taken must not tell how much of a guess was right.
    return any(p is not None and hmac.compare_digest(p.encode(), api_key.encode())
               for p in presented)


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization[len("Bearer "):]
    return None


def explicit_fields(params: SynthesisParams) -> dict[str, Any]:
    """The fields of form ``params`` that differ from the defaults: a form cannot tell "not
    sent" from "sent the default", so these are the ones taken as the client's choice."""
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params)
            if getattr(params, f.name) != getattr(DEFAULT_PARAMS, f.name)}


class SpeechService:
    """One engine behind a bounded queue, with this server's limits."""

    def __init__(self, engine: Engine, limits: ServerLimits) -> None:
        self.engine, self.limits = engine, limits
        self.admission = Admission(limits.max_waiting)

    def build_request(self, text: str, params: SynthesisParams, voice: VoiceReference | None,
                      lexicon: TextRewriter | None = None) -> SynthesisRequest:
        if len(text) > self.limits.max_text_chars:
            raise HttpError(413, f"The text is {len(text):,} characters; this server takes at "
                            f"most {self.limits.max_text_chars:,} per request.", "Split it.")
        return SynthesisRequest(text, voice, params, lexicon).validate()

    def lexicon(self, name: str | None, language: str | None = None,
                profile_voice: bool = True) -> TextRewriter | None:
        """The user's lexicon for a request in voice ``name`` (a profile; an unknown name or
        none: the default profile), or for a clip (``profile_voice=False``: no profile)."""
        from voxdesk.lexicon import lexicon_for

        profile = None
        if profile_voice:
            store = VoiceStore()
            try:
                profile = store.get(name) if name else store.default()
            except VoiceNotFoundError:
                profile = store.default()
        return lexicon_for(profile.name if profile else None,
                           (profile.language if profile else None) or language)

    def voice(self, name: str | None, given: Mapping[str, Any], fallback_names: Iterable[str] = ()
              ) -> tuple[VoiceReference | None, SynthesisParams]:
        """The voice called ``name`` and its parameters with the client's ``given`` fields on
        top. A profile of that name wins; no name, or one of ``fallback_names`` (OpenAI's voice
        names), means the default profile if one is marked, else the model's own voice."""
        store = VoiceStore()
        if not name:
            profile = store.default()
        else:
            try:
                profile = store.get(name)
            except VoiceNotFoundError:  # 404, unless it is one of the fallback names
                if name.lower() not in {n.lower() for n in fallback_names}:
                    raise
                profile = store.default()
        if profile is None:
            return None, DEFAULT_PARAMS.replace(**given)
        reference = profile.voice_reference(self.engine.info.supports_reference_only)
        return reference, profile.params.replace(**given)

    def slot(self, folder: Path | None = None) -> RequestSlot:
        """A place in the queue for one request, owning its upload ``folder`` (if any): 503
        with the folder deleted when the queue is full, else a :class:`RequestSlot`."""
        try:
            self.admit()
        except BaseException:
            _remove(folder)
            raise
        return RequestSlot(self.admission, folder)

    def admit(self) -> None:
        """Take a place in the queue (the caller must ``admission.leave()``), or 503."""
        try:
            self.admission.enter()
        except Busy:
            raise HttpError(503, "The server is busy.", f"Retry in {RETRY_AFTER_S} s.",
                            {"Retry-After": str(RETRY_AFTER_S)}) from None


def _remove(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


class RequestSlot:
    """One admitted request: ``with slot:`` (or ``release()``) gives its place in the queue
    back and deletes its temporary folder, exactly once, however the request ends."""

    def __init__(self, admission: Admission, folder: Path | None) -> None:
        self._admission, self.folder = admission, folder
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._admission.leave()
            _remove(self.folder)

    def __enter__(self) -> RequestSlot:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
