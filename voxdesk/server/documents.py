"""A document uploaded to the form routes (`document` field, optional `chapter`): its text.

The upload is read under the server's upload limit before it is parsed; the client's file
name is used for its suffix only (the content decides the format where it can tell).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import UploadFile
from starlette.concurrency import run_in_threadpool

from voxdesk.documents import DocumentError, Source, open_source
from voxdesk.documents.sources import _SUFFIXES, sniff
from voxdesk.errors import InvalidRequestError
from voxdesk.server.limits import ServerLimits
from voxdesk.server.service import HttpError


async def uploaded_text(upload: UploadFile, chapter: int | None, limits: ServerLimits
                        ) -> tuple[str, str | None]:
    """(the text to speak, the document's language); HttpError 413/422 for a bad document."""
    data = bytearray()
    while block := await upload.read(1 << 16):
        data += block
        if len(data) > limits.max_upload_bytes:
            raise HttpError(413, "The uploaded document is too large.",
                            f"Send at most {limits.max_upload_bytes // 1024 // 1024} MB.")
    name = PurePosixPath((upload.filename or "document").replace("\\", "/")).name
    guess = _SUFFIXES.get(PurePosixPath(name).suffix.lower(), "text")
    source = Source("document", bytes(data), sniff(bytes(data), guess),
                    PurePosixPath(name).stem or "document")
    try:
        return await run_in_threadpool(_text, source, chapter)
    except DocumentError as exc:
        raise HttpError(422, exc.message.replace(source.label, "The uploaded document", 1)
                        if exc.message.startswith(source.label) else exc.message,
                        exc.hint) from None
    except InvalidRequestError as exc:  # no such chapter
        raise HttpError(422, exc.message, "Chapters are numbered from 1; `voxdesk chapters "
                        "FILE` lists them.") from None


def _text(source: Source, chapter: int | None) -> tuple[str, str | None]:
    document = open_source(source)
    return document.text(chapter), document.language
