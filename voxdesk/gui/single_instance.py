"""One VoxDesk per user: later invocations hand their command to the running one.

The running app listens on a local socket (QLocalServer: a Unix socket, a named pipe on
Windows). `voxdesk read-clipboard`, `voxdesk stop`, `voxdesk speak TEXT`... first try to send
their command there, so a keypress bound in the desktop's settings reaches the model that is
already loaded instead of loading a second one. Messages are one JSON object per line.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_TIMEOUT_MS = 300
REPLY_TIMEOUT_MS = 5000
MAX_MESSAGE_BYTES = 2_000_000  # a `speak` of the largest text a request accepts, and some


def server_name() -> str:
    """Per user (and overridable, so tests and several sessions don't meet)."""
    return os.environ.get("VOXDESK_INSTANCE") or f"voxdesk-{getpass.getuser()}"


def send_command(command: dict[str, Any], timeout_ms: int = REPLY_TIMEOUT_MS) -> dict[str, Any] | None:
    """Send ``command`` to the running instance; its reply, or None when none is running."""
    socket = QLocalSocket()
    socket.connectToServer(server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return None
    socket.write((json.dumps(command) + "\n").encode())
    socket.waitForBytesWritten(timeout_ms)
    reply = b""
    while not reply.endswith(b"\n") and socket.waitForReadyRead(timeout_ms):
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    try:
        return json.loads(reply) if reply else {"ok": False, "error": "no reply"}
    except json.JSONDecodeError:
        return {"ok": False, "error": "unreadable reply"}


class InstanceServer(QObject):
    """Listens for commands; ``handler(command) -> reply dict`` runs on the GUI thread."""

    commandReceived = Signal(dict)

    def __init__(self, handler: Callable[[dict[str, Any]], dict[str, Any]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._handler = handler
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening; False if another instance already does."""
        if send_command({"command": "ping"}, timeout_ms=1000) is not None:
            return False
        QLocalServer.removeServer(server_name())  # a stale socket left by a crashed instance
        return self._server.listen(server_name())

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            buffer = bytearray()

            def read(socket: QLocalSocket = socket, buffer: bytearray = buffer) -> None:
                buffer.extend(bytes(socket.readAll().data()))
                if len(buffer) > MAX_MESSAGE_BYTES:
                    socket.abort()
                    return
                if b"\n" in buffer:
                    line = bytes(buffer).split(b"\n", 1)[0]
                    socket.write((json.dumps(self._reply(line)) + "\n").encode())
                    socket.flush()
                    socket.disconnectFromServer()

            socket.readyRead.connect(read)
            socket.disconnected.connect(socket.deleteLater)

    def _reply(self, line: bytes) -> dict[str, Any]:
        try:
            command = json.loads(line)
            if not isinstance(command, dict) or not isinstance(command.get("command"), str):
                raise ValueError("not a command")
        except ValueError:
            return {"ok": False, "error": "malformed command"}
        if command["command"] == "ping":
            return {"ok": True, "pid": os.getpid()}
        self.commandReceived.emit(command)
        try:
            return self._handler(command)
        except Exception as exc:  # a bad command must never take the app down
            return {"ok": False, "error": str(exc)}
