"""How much a client may send, enforced while the body arrives rather than after it is stored.

:class:`BodyLimit` refuses a ``Content-Length`` past the limit without reading the body, and
counts the bytes of a streamed (chunked) body as they are received, so a request past the limit
is refused before more than the limit reaches the multipart parser's temporary files. (The API
key is checked before that, in voxdesk.server.access, so without it nothing is read at all.)
The routes then check the text's length and the clip's duration with their own messages.
(FastAPI's own ``max_body_size`` answers a too-large Content-Length in plain text, not in the
API's error shape.)
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxdesk.server.errors import error_json
from voxdesk.server.limits import ServerLimits

#: Room for the form's other fields and the multipart boundaries around the text and clip.
FORM_OVERHEAD_BYTES = 64 * 1024
UTF8_MAX_BYTES = 4  # per character


def text_field_bytes(limits: ServerLimits) -> int:
    """The largest form field: the longest text allowed, in UTF-8's worst case."""
    return limits.max_text_chars * UTF8_MAX_BYTES + FORM_OVERHEAD_BYTES


def max_body_bytes(limits: ServerLimits) -> int:
    """A request's whole body: one clip at the upload limit plus the text and other fields."""
    return limits.max_upload_bytes + text_field_bytes(limits)


def too_large(limits: ServerLimits) -> tuple[str, str]:
    """The message and hint for a body past :func:`max_body_bytes`."""
    hint = (f"Send at most {limits.max_text_chars:,} characters of text and an audio clip of "
            f"at most {_mb(limits.max_upload_bytes)}.")
    return "The request is too large for this server.", hint


def explain_http_exception(exc: HTTPException, limits: ServerLimits
                           ) -> tuple[int, str, str]:
    """Starlette's own refusals (body limit, multipart limits) as status, message and hint."""
    detail = str(exc.detail)
    if exc.status_code == 413:
        return (413, *too_large(limits))
    if detail.startswith("Field exceeded maximum size"):  # Starlette's 1 MB per form field
        return 413, "A form field is too large.", \
            f"The text may have at most {limits.max_text_chars:,} characters."
    if detail.startswith("Too many"):
        return 400, f"The form has too many fields or files ({detail})", "Send one form."
    return exc.status_code, detail.rstrip(".") + ".", ""


class BodyLimit:
    """ASGI middleware: at most :func:`max_body_bytes` of request body, declared or streamed."""

    def __init__(self, app: ASGIApp, *, limits: ServerLimits) -> None:
        self.app, self.limits, self.max_bytes = app, limits, max_body_bytes(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await error_json(scope["path"], 413, *too_large(self.limits))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # the route answers it: explain_http_exception
                    raise HTTPException(413)
            return message

        await self.app(scope, counted, send)


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
