"""The API's defaults and limits, in a module light enough for every `voxdesk` command and the
window to import: FastAPI and uvicorn are loaded only when a server really starts."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 7861
#: Addresses that reach this computer only; any other needs an API key.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServerLimits:
    max_text_chars: int = 20_000  # a few minutes of speech per request
    max_upload_bytes: int = 10 * 1024 * 1024
    max_upload_seconds: float = 60.0
    max_waiting: int = 4  # requests queued behind the one generating
