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


def _config(engine: Engine, host: str, port: int, limits: ServerLimits, api_key: str | None,
            cors_origins: tuple[str, ...]):  # noqa: ANN202 - uvicorn.Config
    import uvicorn

    from voxdesk.server.app import create_app  # FastAPI: only when a server starts

    app = create_app(engine, limits, api_key, cors_origins)
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                          timeout_graceful_shutdown=2)


def run_server(engine: Engine, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
               limits: ServerLimits = ServerLimits(), api_key: str | None = None,
               cors_origins: tuple[str, ...] = ()) -> None:
    import uvicorn

    uvicorn.Server(_config(engine, host, port, limits, api_key, cors_origins)).run()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_free(host: str, port: int) -> None:
    """Bind as uvicorn will, to say why it could not (uvicorn only logs it and exits)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # uvicorn sets it too
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(exc.errno, f"The API server cannot listen on {host}:{port}: "
                          f"{exc.strerror or exc}.") from exc


def start_in_background(engine: Engine, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                        limits: ServerLimits = ServerLimits(), api_key: str | None = None,
                        cors_origins: tuple[str, ...] = ()) -> ServerHandle:
    """Serve from a thread; raises OSError (with the reason) when it cannot listen."""
    import uvicorn

    _check_free(host, port)
    server = uvicorn.Server(_config(engine, host, port, limits, api_key, cors_origins))

    def serve() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn's answer to a failed start; reported below
            pass

    thread = threading.Thread(target=serve, name="voxdesk-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise OSError(f"The API server could not listen on {host}:{port}.")
    return ServerHandle(f"http://{host}:{port}", server, thread)
