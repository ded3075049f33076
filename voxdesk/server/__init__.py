"""The local HTTP API (FastAPI). ``run_server`` serves until stopped; ``start_in_background``
serves from a thread (the window uses it) and returns a handle with ``url`` and ``stop()``."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from voxdesk.engine import Engine
from voxdesk.server.limits import DEFAULT_PORT, ServerLimits


@dataclass
class ServerHandle:
    url: str
    _server: object
    _thread: threading.Thread

    def stop(self, timeout: float = 10) -> None:
        """Stop listening at once, give open requests a moment, then close them."""
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


#: Kernel send buffer of each connection (Linux doubles it). Small: audio is ~100 kB/s, and a
#: client that stops reading must stall the sender within seconds, not after megabytes
#: (voxdesk.server.bridge then frees the model), rather than the kernel's autotuned 4 MB.
SEND_BUFFER_BYTES = 32 * 1024


def _config(engine: Engine, host: str, port: int, limits: ServerLimits, api_key: str | None,
            cors_origins: tuple[str, ...]):  # noqa: ANN202 - uvicorn.Config
    import uvicorn

    from voxdesk.server.app import create_app  # FastAPI: only when a server starts

    app = create_app(engine, limits, api_key, cors_origins, listen_host=host)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          timeout_graceful_shutdown=2)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound now (before a model loads for minutes), so that a port in
    use or an address not of this computer is reported at once; OSError says why."""
    if not 0 <= port <= 65535:
        raise OSError(f"The port must be between 1 and 65535, not {port}.")
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"The API server cannot listen on {host}: unknown address.") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)  # inherited
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"The API server cannot listen on {host}:{port}: "
                      f"{exc.strerror or exc}.") from exc
    sock.set_inheritable(True)
    return sock


def run_server(engine: Engine, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
               limits: ServerLimits = ServerLimits(), api_key: str | None = None,
               cors_origins: tuple[str, ...] = (), sock: socket.socket | None = None) -> None:
    """Serve until stopped, on ``sock`` (from :func:`listen`) or a socket bound now."""
    import uvicorn

    sock = sock or listen(host, port)
    uvicorn.Server(_config(engine, host, port, limits, api_key, cors_origins)).run([sock])


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start_in_background(engine: Engine, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                        limits: ServerLimits = ServerLimits(), api_key: str | None = None,
                        cors_origins: tuple[str, ...] = ()) -> ServerHandle:
    """Serve from a thread; raises OSError (with the reason) when it cannot listen."""
    import uvicorn

    sock = listen(host, port)
    server = uvicorn.Server(_config(engine, host, port, limits, api_key, cors_origins))

    def serve() -> None:
        try:
            server.run([sock])
        except SystemExit:  # uvicorn's answer to a failed start; reported below
            pass

    thread = threading.Thread(target=serve, name="voxdesk-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        sock.close()
        raise OSError(f"The API server could not listen on {host}:{port}.")
    return ServerHandle(f"http://{host}:{port}", server, thread)
