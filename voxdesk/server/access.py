"""Who may talk to the server, decided before a request is read: the Host it was sent to, the
web page (Origin) that sent it and the API key.

A browser sends any page's request to 127.0.0.1 (CORS only hides the answer from the page),
so a request from a page of a foreign origin is refused outright, as the WebSocket does. A
page can also re-point its own host name at 127.0.0.1 (DNS rebinding) and so become "same
origin": the Host header then names that page's host, which is refused too. The API key is
checked here, before the body is read, so that nobody without it can send a single upload
byte to the disk.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from voxdesk.server.errors import error_json
from voxdesk.server.service import KEY_HINT, bearer, key_matches

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                            "ip6-loopback"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
POLICY_VIOLATION = 1008


def host_name(authority: str) -> str | None:
    """The host name of a Host header or an origin's authority ("[::1]:7861" -> "::1")."""
    try:
        name = urlsplit(f"//{authority}").hostname
    except ValueError:
        return None
    return name.rstrip(".").lower() if name else None


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostPolicy:
    """The host names this server answers to: loopback names and addresses, the address it
    listens on, and - listening on every address - any IP address and this computer's name."""

    def __init__(self, listen_host: str) -> None:
        self.listen_host = listen_host.strip("[]").lower()
        self.names = set(LOOPBACK_NAMES) | {self.listen_host}
        self.any_address = self.listen_host in WILDCARD_HOSTS
        if self.any_address:
            self.names |= {socket.gethostname().lower(), socket.getfqdn().lower()}

    def allows(self, name: str | None) -> bool:
        if not name:
            return False
        ip = _ip(name)
        if ip is not None and (ip.is_loopback or self.any_address):
            return True
        return name in self.names or name.endswith(".localhost")  # RFC 6761: always loopback


class AccessGuard:
    """ASGI middleware: Host, then Origin, then (HTTP) the API key - each refused in the API's
    error shape before the request reaches a route or its body is read."""

    def __init__(self, app: ASGIApp, *, listen_host: str, cors_origins: tuple[str, ...] = (),
                 api_key: str | None = None) -> None:
        self.app, self.hosts, self.api_key = app, HostPolicy(listen_host), api_key
        self.cors_origins = cors_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            status, message, hint = refusal
            if scope["type"] == "websocket":  # refused in the handshake (HTTP 403)
                await send({"type": "websocket.close", "code": POLICY_VIOLATION,
                            "reason": message[:120]})
                return
            await error_json(scope["path"], status, message, hint)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, str] | None:
        authority = headers.get("host", "")
        if not self.hosts.allows(host_name(authority)):
            return (403, (f"This server does not answer to the host name "
                          f"{host_name(authority) or authority!r}."),
                    ("Use http://127.0.0.1 or localhost (a web page may have pointed its own "
                     "name at this computer)."))
        origin = headers.get("origin")
        # (The WebSocket answers a foreign origin itself, in its own protocol: websocket.py.)
        if origin is not None and scope["type"] == "http" and \
                not origin_allowed(origin, authority, scope["scheme"], self.cors_origins):
            return (403, f"Web pages from {origin} may not use this server.",
                    "Start the server with --cors-origin for that page.")
        if scope["type"] == "http" and scope["method"] != "OPTIONS" and self.api_key:
            presented = bearer(headers.get("authorization"))
            if not key_matches(self.api_key, presented):
                return 401, "Missing or wrong API key.", KEY_HINT
        return None


def origin_allowed(origin: str, authority: str, scheme: str, cors_origins: Iterable[str]) -> bool:
    """Whether a page from ``origin`` may use the server reached as ``authority``: one allowed
    with --cors-origin, or the server's own pages (/docs: same scheme, host and port)."""
    origin = origin.rstrip("/")
    allowed = {o.rstrip("/") for o in cors_origins}
    if origin in allowed or "*" in allowed:
        return True
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return origin.lower() == f"{scheme}://{authority}".lower()
