"""The first-run dialog: choose a speech model and download it, or use a model folder.

The window opens it when no model is on this computer (and again from File > Download a
model…). It lists the catalogue with what each model costs and what this computer makes of it,
pre-selects the recommended one, and downloads the choice with voxdesk.models (resumable: a
cancelled or broken download continues where it stopped). Hardware detection (it imports torch)
and the download run on the window's task runner (voxdesk.gui.tasks, a lane of their own); the
dialog only shows progress. Once a model is there
it is remembered (like `voxdesk models use`) and handed to the window through ``modelChosen``;
the window reports back with :meth:`FirstRunDialog.model_loaded` / :meth:`model_failed`, and
the dialog then offers a test sentence (``testRequested``).

What each model does here comes from measurement where there is one (voxdesk.models.measured):
figures of earlier runs on this computer, or a short measurement the dialog runs in a
background process ("Measure speed here"; "Skip measuring" stops it at once). The window never
waits for it; the advice and the recommendation change as each figure arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
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
    QVBoxLayout,
    QWidget,
)

from voxdesk import models
from voxdesk.errors import VoxDeskError
from voxdesk.gui.first_run_speed import SpeedMeasuring
from voxdesk.gui.first_run_work import LANE, MEASURE_LANE, DownloadWorker, SpeedMeasurer
from voxdesk.gui.model_choice import ModelChoice, describe_progress
from voxdesk.gui.tasks import TaskRunner
from voxdesk.models import (
    CatalogEntry,
    DownloadProgress,
    format_size,
    hardware,
    measured,
)

log = logging.getLogger(__name__)

TEST_SENTENCE = "Hello! VoxDesk is ready to read aloud for you."
PROGRESS_STEPS = 1000  # the bar counts per mille: byte counts overflow a QProgressBar's int
# Mnemonics the dialog's buttons use; each model's radio button picks a character not in here.
BUTTON_KEYS = set("dfcsoumk")


class FirstRunDialog(SpeedMeasuring, QDialog):
    """Choose, download (or pick a folder), load, and hear a test sentence."""

    modelChosen = Signal(str)  # what to load: a repository id or a model folder
    testRequested = Signal(str)  # the test sentence, to be spoken by the window

    def __init__(self, parent: QWidget | None = None, measure_speed: bool = False,
                 measure_args: tuple[str, ...] = (), tasks: TaskRunner | None = None) -> None:
        """``measure_speed``: start measuring models not yet measured here as soon as the
        hardware is known (otherwise the "Measure speed here" button does it). ``tasks``: the
        window's task runner (the controller's); the dialog makes its own without one."""
        super().__init__(parent)
        self.tasks = tasks if tasks is not None else TaskRunner(self)
        self.setWindowTitle("Choose a voice model – VoxDesk")
        self.info: hardware.HardwareInfo | None = None
        self.figures: dict[str, measured.Measurement] = {}
        self.measurer: SpeedMeasurer | None = None
        self._measure_on_start = measure_speed
        self._measure_args = measure_args
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
        self.speed_label = QLabel("")
        self.speed_label.setWordWrap(True)
        self.speed_label.setAccessibleName("Speed measurement")
        self.measure_button = self._button(
            "&Measure speed here", "Measure speed here",
            "Run a few steps of each model (random weights of the real size, built once in "
            "the cache folder) to see which keeps up on this computer. It runs in the "
            "background: you can go on choosing meanwhile.", self.start_measuring)
        self.skip_button = self._button("S&kip measuring", "Skip measuring",
                                        "Stop measuring: the advice keeps the figures measured "
                                        "so far.", self.skip_measuring)
        self.skip_button.hide()
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
        speed = QHBoxLayout()
        speed.addWidget(self.speed_label, 1)
        speed.addWidget(self.measure_button)
        speed.addWidget(self.skip_button)
        layout.addLayout(speed)
        layout.addWidget(box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M" * 48))

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    def _start_worker(self) -> None:
        self.worker = DownloadWorker(self)
        self.worker.hardwareReady.connect(self._on_hardware)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_downloaded)
        self.worker.failed.connect(self._on_failed)
        self.tasks.run(self.worker.detect, lane=LANE)

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

    def recommended(self) -> CatalogEntry | None:
        return measured.recommend(self.info, self.figures) if self.info else None

    def _refresh_choices(self) -> None:
        recommended = self.recommended()
        for choice in self.choices:
            advice = measured.advise(choice.entry, self.info, self.figures) if self.info else None
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
        try:
            self.figures = measured.load_figures(info)
        except OSError:  # an unreadable cache: no figures, the rule's advice
            self.figures = {}
        self._describe_computer()
        self._refresh_choices()
        self._preselect()
        self._update_buttons()
        self._update_speed()
        if self._measure_on_start and self._unmeasured():
            self.start_measuring()

    def _describe_computer(self) -> None:
        info = self.info
        if info is None:
            return
        recommended = self.recommended()
        if info.device == "cuda":
            text = f"This computer: {info.summary()}."
        elif info.device == "mps":
            text = "This computer: Apple GPU. Speech may be slower than real time."
        else:
            text = (f"This computer: {info.summary()}. Speech is generated on the CPU, slower "
                    "than real time, so long texts pause between sentences.")
        advice = (measured.advise(recommended, info, self.figures)
                  if recommended is not None else None)
        if recommended is not None and advice is not None and advice.rtf is not None:
            keeps = "keeps up with speech" if advice.realtime else "is the fastest measured"
            text = (f"This computer: {info.summary()}. {recommended.id} {keeps} here: "
                    f"expected real-time factor {advice.rtf:.2f} ({advice.dtype}).")
        if recommended is not None and recommended.id != "VoxCPM2":
            text += " Only VoxCPM2 speaks languages other than Chinese and English."
        self.hardware_label.setText(text)
        self.hardware_label.setAccessibleDescription(text)

    def _preselect(self) -> None:
        """Select the recommendation, unless the person has chosen (or is busy)."""
        recommended = self.recommended()
        if self._user_chose or self._busy() or recommended is None:
            return
        for choice in self.choices:
            if choice.entry is recommended:
                choice.radio.setChecked(True)

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
        name, cancel = entry.id, self._cancel
        self.tasks.run(lambda: self.worker.download(name, cancel), lane=LANE)

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
        self._stop_measuring()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.cancel_download()
        self._stop_measuring()
        super().reject()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop a download and a measurement and end their lanes; False if one did not end in
        time."""
        self.cancel_download()
        self._stop_measuring()
        return self.tasks.shutdown(timeout_ms / 1000, lanes=(LANE, MEASURE_LANE))

    def busy_in_background(self) -> bool:
        """Whether a download, detection or measurement lane is still running."""
        return self.tasks.busy(LANE) or self.tasks.busy(MEASURE_LANE)
