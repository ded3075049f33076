"""The `voxdesk serve` that `voxdesk bench server` measures: started here, or one at a URL.

    with ServerProcess(model, device) as server:   # a free 127.0.0.1 port; waits for /health
        ... server.url ...
    # stopped here, whatever happened inside (exception, Ctrl+C, SIGTERM)

The server runs in its own process, as users run it, with its own model: the benchmark process
loads none (a full-size model twice would not fit). Its log goes to a file, whose last lines are
the error message when it does not come up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from voxdesk.errors import VoxDeskError

STOP_GRACE_S = 10.0  # SIGTERM, then this long for uvicorn to finish, then SIGKILL


class ServerStartError(VoxDeskError):
    """The server did not come up (exited, or did not answer /health in time)."""

    exit_code = 3


def health(url: str, timeout: float = 5.0, api_key: str | None = None) -> dict[str, Any]:
    """GET /health as a dict; raises OSError (URLError) when nothing answers."""
    request = urllib.request.Request(url.rstrip("/") + "/health")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return dict(json.loads(response.read().decode("utf-8")))


def check_url(url: str, api_key: str | None = None) -> dict[str, Any]:
    """The /health of a server someone else started, or a clear error."""
    try:
        return health(url, api_key=api_key)
    except (OSError, ValueError) as exc:
        raise ServerStartError(f"No VoxDesk server answers at {url} ({_reason(exc)}).",
                               "Start one with `voxdesk serve`, or leave out --url to let the "
                               "benchmark start its own.") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return str(exc.reason)
    return str(exc)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the server gets SIGTERM if the benchmark dies without cleaning up (kill -9)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServerProcess:
    """``voxdesk serve`` in a child process on a free 127.0.0.1 port."""

    def __init__(self, model: str, device: str = "auto", start_timeout: float = 600.0,
                 extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.model = model
        self.device = device
        self.start_timeout = start_timeout
        self.extra_args = extra_args
        self.env = env
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.health: dict[str, Any] = {}
        self.start_time_s: float | None = None  # process start -> /health answered
        self._log_dir = tempfile.TemporaryDirectory(prefix="voxdesk-bench-server-")
        self.log_path = Path(self._log_dir.name) / "serve.log"
        self._previous_sigterm: Any = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "voxdesk", "serve", "--model", self.model,
                "--device", self.device, "--host", "127.0.0.1", "--port", str(port),
                *self.extra_args]

    def start(self) -> ServerProcess:
        from voxdesk.server import free_port

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(port), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env,
                # Its own process group: a Ctrl+C reaches the benchmark, which stops the server
                # in order (and reports what it measured) instead of both dying at once.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        print(f"Started voxdesk serve (pid {self.process.pid}) on {self.url}; waiting for "
              f"/health...", file=sys.stderr, flush=True)
        deadline = started + self.start_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise ServerStartError(
                    f"voxdesk serve exited with code {code} before answering /health:\n"
                    f"{self.log_tail()}",
                    "Check --model and --device (the server's own message is above).")
            try:
                self.health = health(self.url, timeout=2.0)
                break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"voxdesk serve did not answer /health within {self.start_timeout:.0f} s.\n"
                    f"{self.log_tail()}",
                    "A large model on a busy CPU loads slowly: raise --start-timeout.")
            time.sleep(0.2)
        self.start_time_s = time.monotonic() - started
        return self

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server output)"
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join("  " + line for line in tail) or "(no server output)"

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period); its exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_GRACE_S)
        return process.returncode

    def close(self) -> None:
        self.stop()
        self._log_dir.cleanup()

    # -- context manager: always stopped, also on SIGTERM -------------------------------------

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # unwinds through __exit__, which stops the server

    def __enter__(self) -> ServerProcess:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            return self.start()
        except BaseException:
            self._exit()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._exit()

    def _exit(self) -> None:
        try:
            self.close()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None
