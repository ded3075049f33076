"""The HTTP API served from the window: its settings section and the control that starts and
stops it with the window's loaded model.

Starting waits for uvicorn to listen and stopping waits for open requests (seconds, at worst),
so both happen on a task lane of their own, one after the other; the window only hears the
outcome. ``voxdesk.server`` (FastAPI, uvicorn) is imported there too, when first needed. The
server follows the controller: a newly loaded model restarts it with that model.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from voxdesk.engine import Engine
from voxdesk.gui.controller import SpeechController
from voxdesk.gui.forms import add_labelled_row
from voxdesk.gui.tasks import TaskRunner
from voxdesk.server.limits import LOCAL_HOSTS
from voxdesk.settings import ServerSettings

if TYPE_CHECKING:  # imported when the API is first switched on
    from voxdesk.server import ServerHandle

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 3.0  # uvicorn gives open requests 2 s before it closes them


def address(settings: ServerSettings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


class ServerSection(QGroupBox):
    """Edits a copy of :class:`ServerSettings`; :meth:`settings` returns the result."""

    def __init__(self, server: ServerSettings, parent: QWidget | None = None) -> None:
        super().__init__("Local API", parent)
        self._initial = server
        form = QFormLayout(self)
        self.enabled = QCheckBox("Serve the HTTP &API")
        self.enabled.setAccessibleName("Serve the HTTP API")
        self.enabled.setToolTip("Let other programs on this computer speak with the loaded model "
                                "(the VoxCPM streaming API, OpenAI's /v1/audio/speech and a "
                                "WebSocket; documentation at /docs).")
        self.enabled.setChecked(server.enabled)
        form.addRow(self.enabled)
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(min(max(server.port, 1024), 65535))
        add_labelled_row(form, "API &port:", self.port, "API port",
                         "The TCP port the API listens on.")
        self.network = QCheckBox("Let other &computers use it (needs a key)")
        self.network.setAccessibleName("Serve to the network")
        self.network.setToolTip("Listen on every network address instead of this computer "
                                "only. Clients must then send the key as "
                                "'Authorization: Bearer KEY'.")
        self.network.setChecked(server.host not in LOCAL_HOSTS)
        form.addRow(self.network)
        self.api_key = QLineEdit(server.api_key)
        self.api_key.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.api_key.setPlaceholderText("none")
        add_labelled_row(form, "API ke&y:", self.api_key, "API key",
                         "A secret clients send as a bearer token (required for the network; "
                         "optional on this computer).")
        self.address = QLabel()
        self.address.setAccessibleName("API address")
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.address)
        self.enabled.toggled.connect(self._update)
        self.port.valueChanged.connect(self._update)
        self.network.toggled.connect(self._update)
        self._update()

    def _update(self) -> None:
        for field in (self.port, self.network, self.api_key):
            field.setEnabled(self.enabled.isChecked())
        self.address.setText(f"Address: {address(self.settings())}" if self.enabled.isChecked()
                             else "Off: nothing listens.")

    def validate(self) -> str | None:
        """Why these choices cannot be accepted (focus goes to the field to fix), or None."""
        if self.enabled.isChecked() and self.network.isChecked() and not self.api_key.text():
            self.address.setText("Serving to the network needs an API key.")
            self.api_key.setFocus()
            return "Serving to the network needs an API key."
        return None

    def settings(self) -> ServerSettings:
        host = self._initial.host
        if self.network.isChecked() and host in LOCAL_HOSTS:
            host = "0.0.0.0"
        elif not self.network.isChecked():
            host = "127.0.0.1"
        return dataclasses.replace(self._initial, enabled=self.enabled.isChecked(),
                                   port=self.port.value(), host=host,
                                   api_key=self.api_key.text().strip())


@dataclass(frozen=True)
class _Wanted:
    engine: Engine  # compared by identity: a newly loaded model restarts the server
    host: str
    port: int
    api_key: str


class ApiServer(QObject):
    """Serves the API while :meth:`apply` asks for it; ``label`` shows the address. With a
    ``controller``, each model it loads is served as ``settings()`` say."""

    changed = Signal(str)  # the address now served, "" when none
    failed = Signal(str, str)  # message, hint

    def __init__(self, parent: QObject | None = None,
                 controller: SpeechController | None = None,
                 settings: Callable[[], ServerSettings] | None = None) -> None:
        super().__init__(parent)
        self.url = ""
        self.label = QLabel()
        self.label.setAccessibleName("API server")
        self.label.hide()
        self._closed = False
        self._tasks = TaskRunner(self)
        # Touched only on the control lane:
        self._handle: ServerHandle | None = None
        self._serving: _Wanted | None = None
        if controller is not None and settings is not None:
            controller.engineReady.connect(lambda engine: self.apply(settings(), engine))

    def apply(self, settings: ServerSettings, engine: Engine | None) -> None:
        """Serve ``engine`` as ``settings`` say (restarting on a change), or stop serving."""
        if self._closed:
            return
        wanted = None
        if settings.enabled and engine is not None:
            if settings.host not in LOCAL_HOSTS and not settings.api_key:
                self.failed.emit(f"Serving the API on {settings.host} would open it to the "
                                 "network without a key.", "Set an API key in File > Settings…, "
                                 "or serve to this computer only.")
            else:
                wanted = _Wanted(engine, settings.host, settings.port, settings.api_key)
        self._tasks.run(lambda: self._reconcile(wanted), self._on_outcome, lane="api-control")

    def shutdown(self) -> None:
        """Stop serving before the window goes (waits a few seconds at most)."""
        if self._closed:
            return
        self._closed = True
        self._tasks.run(lambda: self._reconcile(None), lane="api-control")
        if not self._tasks.shutdown(STOP_TIMEOUT_S + 1):
            log.warning("the API server did not stop in time")
        self._show("")

    # -- control lane -------------------------------------------------------------------------

    def _reconcile(self, wanted: _Wanted | None) -> tuple[str, str, str] | None:
        """(url, message, hint) once the server is as wanted; None if nothing changed."""
        if wanted == self._serving:
            return None
        if self._handle is not None:
            self._handle.stop(STOP_TIMEOUT_S)
            self._handle = self._serving = None
        if wanted is None:
            return ("", "", "")
        from voxdesk.server import start_in_background

        try:
            self._handle = start_in_background(wanted.engine, wanted.host, wanted.port,
                                               api_key=wanted.api_key or None)
        except Exception as exc:  # OSError above all: the port is taken
            log.warning("the API server did not start: %s", exc)
            in_use = isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return ("", reason or "The HTTP API could not start.",
                    f"Another program uses port {wanted.port}: choose another port in "
                    "File > Settings…" if in_use else "Check the port in File > Settings…")
        self._serving = wanted
        return (self._handle.url, "", "")

    # -- GUI thread --------------------------------------------------------------------------

    def _on_outcome(self, outcome: tuple[str, str, str] | None) -> None:
        if self._closed or outcome is None:  # shutdown() has said the last word
            return
        url, message, hint = outcome
        self._show(url)
        if message:
            self.failed.emit(message, hint)

    def _show(self, url: str) -> None:
        changed = url != self.url
        self.url = url
        self.label.setText(f"API: {url}" if url else "")
        self.label.setToolTip(f"VoxDesk's HTTP API; documentation at {url}/docs" if url else "")
        self.label.setVisible(bool(url))
        if changed:
            self.changed.emit(url)
