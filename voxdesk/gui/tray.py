"""The system tray icon: read aloud, pause, stop and switch voice without opening the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

ICON_FILE = Path(__file__).resolve().parents[2] / "resources" / "icons" / "voxdesk.svg"
DEFAULT_VOICE = ""  # the name the Voice menu uses for "the model's own voice"


def _icon(speaking: bool) -> QIcon:
    """The app icon; while speaking, with a dot in the palette's highlight colour on it."""
    base = QIcon(str(ICON_FILE)) if ICON_FILE.exists() else QIcon.fromTheme("audio-volume-high")
    if not speaking:
        return base
    pixmap = base.pixmap(64, 64)
    if pixmap.isNull():
        pixmap = QPixmap(64, 64)
        pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QApplication.palette().color(QPalette.ColorRole.Highlight))
    painter.setPen(QColor(Qt.GlobalColor.white))
    painter.drawEllipse(34, 34, 28, 28)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """Menu: Read clipboard, Read selection, Pause/Resume, Stop, previous/next sentence,
    paragraph and chapter, Faster/Slower, Voice ▸, Open VoxDesk, Quit."""

    readClipboard = Signal()
    readSelection = Signal()
    pauseToggled = Signal()
    stopRequested = Signal()
    # A SpeechController method: previous_/next_ sentence, paragraph or chapter
    navigate = Signal(str)
    speedStep = Signal(int)  # +1 faster, -1 slower (by one speed step)
    voiceChosen = Signal(str)  # a profile name, or DEFAULT_VOICE
    openWindow = Signal()
    quitRequested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(_icon(False), self)
        self.menu = QMenu()
        self._add("&Read clipboard", self.readClipboard.emit)
        self._add("Read &selection", self.readSelection.emit)
        self.pause_action = self._add("&Pause", self.pauseToggled.emit)
        self.stop_action = self._add("S&top", self.stopRequested.emit)
        self.menu.addSeparator()
        self.navigation_actions = [
            self._add(text, self._emitter(method))
            for text, method in (("Previous s&entence", "previous_sentence"),
                                 ("&Next sentence", "next_sentence"),
                                 ("Previous p&aragraph", "previous_paragraph"),
                                 ("Ne&xt paragraph", "next_paragraph"),
                                 ("Previous c&hapter", "previous_chapter"),
                                 ("Next &chapter", "next_chapter"))]
        self._add("&Faster", lambda: self.speedStep.emit(1))
        self._add("S&lower", lambda: self.speedStep.emit(-1))
        self.voice_menu = self.menu.addMenu("&Voice")
        self._voices = QActionGroup(self)
        self.menu.addSeparator()
        self._add("&Open VoxDesk", self.openWindow.emit)
        self._add("&Quit", self.quitRequested.emit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.set_speaking(False)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _add(self, text: str, slot: Callable[[], None]) -> QAction:
        action = self.menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _emitter(self, method: str) -> Callable[[], None]:
        return lambda: self.navigate.emit(method)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.openWindow.emit()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_speaking(self, speaking: bool, paused: bool = False) -> None:
        self.icon.setIcon(_icon(speaking))
        state = "paused" if paused else "speaking" if speaking else "ready"
        self.state = state
        self.icon.setToolTip(f"VoxDesk — {state}")
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setEnabled(speaking)
        self.stop_action.setEnabled(speaking)
        for action in self.navigation_actions:
            action.setEnabled(speaking)

    def set_voices(self, names: list[str], current: str | None = None) -> None:
        """The voice menu: the model's own voice and ``names``; ``current`` is ticked (None:
        keep the tick where it is)."""
        if current is None:
            current = self.current_voice()
        self.voice_menu.clear()
        for action in self._voices.actions():
            self._voices.removeAction(action)
        for name in [DEFAULT_VOICE, *names]:
            action = self.voice_menu.addAction(name or "Model default voice")
            action.setCheckable(True)
            action.setChecked(name == current)
            action.setData(name)
            self._voices.addAction(action)
            action.triggered.connect(lambda _checked=False, n=name: self.voiceChosen.emit(n))

    def set_current_voice(self, name: str) -> None:
        """Tick ``name`` (a profile, or DEFAULT_VOICE); a voice not in the menu ticks nothing."""
        for action in self._voices.actions():
            action.setChecked(action.data() == name)

    def current_voice(self) -> str | None:
        checked = self._voices.checkedAction()
        return None if checked is None else str(checked.data())

    def notify(self, title: str, message: str) -> None:
        self.icon.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 4000)
