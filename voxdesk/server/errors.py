"""The shape of every error the API answers, in one place: the routes, the exception handlers
and the ASGI middleware in front of them (which has no FastAPI request) all build it here."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def error_body(path: str, status: int, message: str, hint: str = "") -> dict[str, Any]:
    """``{"error": message, "hint": hint}``; under /v1/ "error" is OpenAI's object instead,
    because OpenAI's clients show only ``error.message`` (a plain string shows as nothing)."""
    error: str | dict[str, Any] = message
    if path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = {"message": message, "type": kind, "param": None, "code": None}
    return {"error": error, "hint": hint}


def error_json(path: str, status: int, message: str, hint: str = "",
               headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(path, status, message, hint), status, headers)
