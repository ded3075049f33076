"""The few HTTP requests model downloads need, on the standard library.

huggingface_hub's own file download no longer resumes across sessions (a partial file is
deleted when a download fails), and ModelScope is a different API, so the bytes are fetched
here: plain GETs with ``Range`` for resuming, the platform's proxy settings, and the rule hub
clients follow for redirects: a token goes to the hub's own host, never to the CDN it redirects
to (signed CDN URLs reject an extra Authorization header, and the token must not leak).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPResponse
from typing import Any

from voxdesk import __version__

TIMEOUT_S = 30.0
USER_AGENT = f"voxdesk/{__version__}"


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(
            req.full_url
        ).netloc:
            for name in list(new.headers):
                if name.lower() == "authorization":
                    del new.headers[name]
        return new


def _tls_context() -> ssl.SSLContext:
    """The system's certificate authorities plus certifi's (as huggingface_hub uses): a bundled
    Python on macOS or Windows may find none of its own."""
    context = ssl.create_default_context()
    try:
        import certifi

        context.load_verify_locations(certifi.where())
    except (ImportError, OSError):
        pass
    return context


_opener = urllib.request.build_opener(_RedirectHandler(),
                                      urllib.request.HTTPSHandler(context=_tls_context()))


def open_url(url: str, headers: dict[str, str] | None = None, start: int = 0,
             method: str = "GET", timeout: float = TIMEOUT_S) -> HTTPResponse:
    """Open ``url``; ``start`` > 0 asks for the bytes from that offset on.

    Raises ``urllib.error.HTTPError`` for HTTP error statuses and ``OSError`` (URLError,
    timeouts, resets) when the server cannot be reached.
    """
    request = urllib.request.Request(url, method=method)
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        if name.lower() != "user-agent":
            request.add_header(name, value)
    # Compressed bodies would make Content-Length and Range refer to the wrong bytes.
    request.add_header("Accept-Encoding", "identity")
    if start > 0:
        request.add_header("Range", f"bytes={start}-")
    return _opener.open(request, timeout=timeout)


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    with open_url(url, headers) as response:
        return json.loads(response.read().decode("utf-8"))


def describe_network_error(exc: BaseException) -> str:
    """A short reason for an unreachable server: 'connection refused', 'timed out', ..."""
    reason: Any = getattr(exc, "reason", None) or exc
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return str(text).strip().rstrip(".")
