"""The first-run dialog: choose a speech model and download it, or use a model folder.

The window opens it when no model is on this computer (and again from File > Download a
model…). It lists the catalogue with what each model costs and what this computer makes of it,
pre-selects the recommended one, and downloads the choice with voxdesk.models (resumable: a
cancelled or broken download continues where it stopped). Hardware detection (it imports torch)
and the download run on a worker thread; the dialog only shows progress. Once a model is there
it is remembered (like `voxdesk models use`) and handed to the window through ``modelChosen``;
the window reports back with :meth:`FirstRunDialog.model_loaded` / :meth:`model_failed`, and
the dialog then offers a test sentence (``testRequested``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from voxdesk import models
from voxdesk.errors import VoxDeskError
from voxdesk.gui.errors import describe
from voxdesk.gui.tasks import start_thread
from voxdesk.models import (
    CatalogEntry,
    DownloadProgress,
    format_duration,
    format_size,
    hardware,
)

log = logging.getLogger(__name__)

TEST_SENTENCE = "Hello! VoxDesk is ready to read aloud for you."
PROGRESS_STEPS = 1000  # the bar counts per mille: byte counts overflow a QProgressBar's int
# Mnemonics the dialog's buttons use; each model's radio button picks a character not in here.
BUTTON_KEYS = set("dfcsou")


class DownloadWorker(QObject):
    """Runs on the dialog's thread: hardware detection, then downloads (one at a time)."""

    hardwareReady = Signal(object)  # hardware.HardwareInfo
    progress = Signal(object)  # DownloadProgress
    finished = Signal(str)  # the model's catalogue name
    failed = Signal(str, str, str)  # message, hint, kind: "cancelled", "network" or "error"

    @Slot()
    def detect(self) -> None:
        self.hardwareReady.emit(hardware.detect())

    @Slot(str, object)
    def download(self, name: str, cancel: threading.Event) -> None:
        try:
            models.download(name, progress=self.progress.emit, cancel=cancel)
        except models.DownloadCancelled as exc:
            self.failed.emit(exc.message, exc.hint, "cancelled")
        except models.NetworkError as exc:
            self.failed.emit(exc.message, exc.hint, "network")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message, not a crash
            self.failed.emit(*describe(exc), "error")
        else:
            self.finished.emit(name)


def mnemonic(text: str, taken: set[str]) -> str:
    """``text`` with an ``&`` before the last character no other control uses (so the model
    names get their distinguishing digit or letter: VoxCPM&2, VoxCPM1.&5)."""
    for index in range(len(text) - 1, -1, -1):
        key = text[index].lower()
        if key.isalnum() and key not in taken:
            taken.add(key)
            return f"{text[:index]}&{text[index:]}"
    return text


def describe_progress(p: DownloadProgress) -> str:
    """One line for the status label: what is being fetched, how fast, how long to go."""
    if p.phase == "listing":
        return f"Asking for the file list of {p.model}…"
    if p.phase == "done":
        return f"Downloaded {p.model} ({format_size(p.total_bytes)})."
    parts = [f"Downloading {p.model}: file {min(p.files_done + 1, p.files_total)} of "
             f"{p.files_total}"]
    if p.resumed_bytes:
        parts.append(f"continued from {format_size(p.resumed_bytes)}")
    if p.bytes_per_second:
        parts.append(f"{format_size(p.bytes_per_second)}/s")
    if p.eta_seconds is not None:
        parts.append(f"about {format_duration(p.eta_seconds)} left")
    return " · ".join(parts)


class ModelChoice(QWidget):
    """One catalogue model: a radio button and what it costs and does here."""

    def __init__(self, entry: CatalogEntry, taken: set[str]) -> None:
        super().__init__()
        self.entry = entry
        self._label = mnemonic(entry.id, taken)
        self.radio = QRadioButton(self._label)
        self.radio.setAccessibleName(entry.id)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAccessibleName(f"{entry.id} details")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.details.setContentsMargins(self.radio.sizeHint().height(), 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.radio)
        layout.addWidget(self.details)
        self.update_details(None, False)

    def facts(self) -> str:
        e = self.entry
        facts = [f"{e.parameters} parameters", f"{format_size(e.approx_size_bytes)} download"]
        if e.sample_rate:
            facts.append(f"{e.sample_rate / 1000:g} kHz audio")
        facts.append(e.languages_text())
        if e.vram_gb:
            facts.append(f"needs about {e.vram_gb:g} GB of GPU memory")
        return " · ".join(facts)

    def update_details(self, advice: hardware.Advice | None, recommended: bool) -> None:
        self.radio.setText(self._label + (" (recommended)" if recommended else ""))
        lines = [self.facts()]
        installed = models.installed(self.entry.id)
        partial = models.partial_bytes(self.entry.id)
        if installed is not None:
            lines.append(f"Downloaded ({installed.path}).")
        elif partial:
            lines.append(f"{format_size(partial)} already downloaded: the download continues "
                         f"where it stopped.")
        lines.append(advice.message if advice else "Checking what this computer can run…")
        text = "\n".join(lines)
        self.details.setText(text)
        self.details.setToolTip(self.entry.description)
        self.radio.setToolTip(self.entry.description)
        self.radio.setAccessibleDescription(f"{self.entry.description} {text}")


class FirstRunDialog(QDialog):
    """Choose, download (or pick a folder), load, and hear a test sentence."""

    modelChosen = Signal(str)  # what to load: a repository id or a model folder
    testRequested = Signal(str)  # the test sentence, to be spoken by the window
    # Internal: queued onto the worker's thread.
    _detectRequested = Signal()
    _downloadRequested = Signal(str, object)  # name, cancel event

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a voice model – VoxDesk")
        self.info: hardware.HardwareInfo | None = None
        self.downloading: str | None = None  # the model being fetched
        self.loading: str | None = None  # what the window is loading for us
        self.ready = False
        self._cancel = threading.Event()
        self._user_chose = False
        self._build()
        self._start_worker()
        self._update_buttons()

    # == construction ==========================================================================

    def _build(self) -> None:
        intro = QLabel("VoxDesk speaks with a VoxCPM model. Download one once (VoxDesk then "
                       "works offline), or use a model folder you already have.")
        intro.setWordWrap(True)
        intro.setAccessibleName("Introduction")
        self.hardware_label = QLabel("Checking this computer…")
        self.hardware_label.setWordWrap(True)
        self.hardware_label.setAccessibleName("This computer")

        taken = set(BUTTON_KEYS)
        self.choices = [ModelChoice(entry, taken) for entry in models.tts_models()]
        self.group = QButtonGroup(self)
        box = QGroupBox("Models")
        box_layout = QVBoxLayout(box)
        for choice in self.choices:
            self.group.addButton(choice.radio)
            choice.radio.toggled.connect(self._on_choice_toggled)
            choice.radio.clicked.connect(self._on_user_choice)
            box_layout.addWidget(choice)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Download status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.download_button = self._button("&Download", "Download",
                                            "Download the chosen model and use it.",
                                            self.start_download)
        self.download_button.setDefault(True)
        self.folder_button = self._button("Use a local &folder…", "Use a local folder",
                                          "Use a VoxCPM model folder already on this computer "
                                          "(the one with config.json): no download.",
                                          self.choose_folder)
        self.cancel_button = self._button("&Cancel download", "Cancel download",
                                          "Stop the download; what was fetched is kept for "
                                          "later.", self.cancel_download)
        self.cancel_button.hide()
        self.test_button = self._button("&Speak a test sentence", "Speak a test sentence",
                                        f"Say “{TEST_SENTENCE}”", self.speak_test_sentence)
        self.test_button.hide()
        self.close_button = self._button("Cl&ose", "Close", "Close this dialog (File > "
                                         "Download a model… opens it again).", self.close)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.hardware_label)
        layout.addWidget(box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M" * 48))

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def _start_worker(self) -> None:
        self.worker = DownloadWorker()
        self.worker_thread = start_thread(self.worker, "voxdesk-first-run")
        queued = Qt.ConnectionType.QueuedConnection
        self._detectRequested.connect(self.worker.detect, queued)
        self._downloadRequested.connect(self.worker.download, queued)
        self.worker.hardwareReady.connect(self._on_hardware)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_downloaded)
        self.worker.failed.connect(self._on_failed)
        self._detectRequested.emit()

    # == state ================================================================================

    def chosen(self) -> CatalogEntry | None:
        for choice in self.choices:
            if choice.radio.isChecked():
                return choice.entry
        return None

    def choose(self, name: str) -> None:
        """Select the model ``name`` as if it was clicked."""
        entry = models.lookup(name)
        for choice in self.choices:
            if choice.entry is entry:
                choice.radio.click()

    def _on_user_choice(self) -> None:
        self._user_chose = True

    def _on_choice_toggled(self, checked: bool) -> None:
        if checked:
            self._update_buttons()

    def _busy(self) -> bool:
        return self.downloading is not None or self.loading is not None

    def _update_buttons(self) -> None:
        entry = self.chosen()
        busy = self._busy()
        for choice in self.choices:
            choice.radio.setEnabled(not busy)
        self.folder_button.setEnabled(not busy)
        self.download_button.setEnabled(entry is not None and not busy)
        self.download_button.setVisible(self.downloading is None)
        self.cancel_button.setVisible(self.downloading is not None)
        self.cancel_button.setEnabled(self.downloading is not None and not self._cancel.is_set())
        if entry is None:
            return
        if models.is_downloaded(entry.id):
            self.download_button.setText(f"&Use {entry.id}")
        elif models.partial_bytes(entry.id):
            self.download_button.setText(f"Resume &download ({entry.id})")
        else:
            self.download_button.setText(f"&Download {entry.id} "
                                         f"({format_size(entry.approx_size_bytes)})")
        self.download_button.setAccessibleName(self.download_button.text().replace("&", ""))

    def _refresh_choices(self) -> None:
        recommended = hardware.recommended_model(self.info) if self.info else None
        for choice in self.choices:
            advice = hardware.advice(choice.entry, self.info) if self.info else None
            choice.update_details(advice, choice.entry is recommended)
        self._fit()

    def _show(self, text: str) -> None:
        self.status.setText(text)
        self.status.setAccessibleDescription(text)
        self._fit()

    def _fit(self) -> None:
        """Grow to show wrapped text in full (a window's height does not follow its labels'),
        once the layout has taken in the new text."""
        QTimer.singleShot(0, self._grow)

    def _grow(self) -> None:
        layout = self.layout()
        if layout is None:
            return
        # Nested layouts learn about new text from posted events: take them in first.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        layout.activate()
        needed = self.heightForWidth(self.width())
        if self.height() < needed:
            self.resize(self.width(), needed)

    # == hardware ==============================================================================

    def _on_hardware(self, info: hardware.HardwareInfo) -> None:
        self.info = info
        recommended = hardware.recommended_model(info)
        if info.device == "cuda":
            text = f"This computer: {info.summary()}."
        elif info.device == "mps":
            text = "This computer: Apple GPU. Speech may be slower than real time."
        else:
            text = (f"This computer: {info.summary()}. Speech is generated on the CPU, slower "
                    "than real time, so long texts pause between sentences.")
        if recommended.id != "VoxCPM2":
            text += " Only VoxCPM2 speaks languages other than Chinese and English."
        self.hardware_label.setText(text)
        self._refresh_choices()
        if not self._user_chose and self.chosen() is None:
            for choice in self.choices:
                if choice.entry is recommended:
                    choice.radio.setChecked(True)
        self._update_buttons()

    # == downloading ===========================================================================

    def start_download(self) -> None:
        entry = self.chosen()
        if entry is None or self._busy():
            return
        self.downloading = entry.id
        self._cancel = threading.Event()
        self.ready = False
        self.test_button.hide()
        self.progress.setRange(0, 0)  # busy until the file list gives the size
        self.progress.show()
        self._show(f"Starting the download of {entry.id}…")
        self._update_buttons()
        self.cancel_button.setFocus()
        self._downloadRequested.emit(entry.id, self._cancel)

    def cancel_download(self) -> None:
        """Stop the download (thread-safe event: the worker is busy inside it)."""
        if self.downloading is not None:
            self._cancel.set()
            self._show("Stopping the download…")
            self._update_buttons()

    def _on_progress(self, p: DownloadProgress) -> None:
        if self.downloading is None:
            return
        if p.total_bytes:
            self.progress.setRange(0, PROGRESS_STEPS)
            self.progress.setValue(int(p.fraction * PROGRESS_STEPS))
            self.progress.setFormat(f"%p% · {format_size(p.done_bytes)} of "
                                    f"{format_size(p.total_bytes)}")
        if not self._cancel.is_set():
            self._show(describe_progress(p))

    def _on_downloaded(self, name: str) -> None:
        self.downloading = None
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setValue(PROGRESS_STEPS)
        try:
            spec = models.select_model(name)
        except VoxDeskError as exc:
            self._on_failed(exc.message, exc.hint, "error")
            return
        self._refresh_choices()
        self._hand_over(spec, f"{name} is downloaded. Loading it…")

    def _on_failed(self, message: str, hint: str, kind: str) -> None:
        self.downloading = None
        log.info("first-run download %s: %s", kind, message)
        self.progress.setVisible(kind == "cancelled")  # it shows how far the download got
        self._refresh_choices()
        self._update_buttons()
        if kind == "network":  # the way on without a network, in this dialog's words
            hint += " Without a connection: copy a model folder here and press “Use a local " \
                    "folder…”."
        self._show(f"{message}\n{hint}".strip())
        self.download_button.setFocus()

    # == a model folder ========================================================================

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a VoxCPM model folder (the one with config.json)")
        if folder:
            self.use_folder(folder)

    def use_folder(self, folder: str) -> bool:
        """Remember ``folder`` as the model and load it; False (and why, shown) if it is not
        a model folder."""
        if self._busy():
            return False
        try:
            spec = models.select_model(folder)
        except VoxDeskError as exc:
            self._show(f"{exc.message}\n{exc.hint}".strip())
            return False
        self._hand_over(spec, f"Loading the model in {spec}…")
        return True

    # == loading, then the test sentence =======================================================

    def _hand_over(self, spec: str, text: str) -> None:
        self.loading = spec
        self._show(text)
        self._update_buttons()
        self.modelChosen.emit(spec)

    def model_loaded(self, name: str) -> None:
        """The window has loaded the model: offer the test sentence."""
        if self.loading is None:
            return
        self.loading = None
        self.ready = True
        self.progress.hide()
        self._update_buttons()
        self._show(f"Ready: {name} is loaded, and VoxDesk will use it from now on. Press "
                   "“Speak a test sentence” to hear it.")
        self.test_button.show()
        self.test_button.setFocus()

    def model_failed(self, message: str, hint: str) -> None:
        if self.loading is None:
            return
        self.loading = None
        self._update_buttons()
        self._show(f"The model could not be loaded: {message}\n{hint}".strip())

    def speak_test_sentence(self) -> None:
        if self.ready:
            self.testRequested.emit(TEST_SENTENCE)

    # == closing ===============================================================================

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel_download()  # closing means "not now": what was fetched is kept
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.cancel_download()
        super().reject()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop a download and end the worker thread; False if it did not end in time."""
        self.cancel_download()
        self.worker_thread.quit()
        return self.worker_thread.wait(timeout_ms)
