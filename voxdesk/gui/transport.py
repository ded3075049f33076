"""The transport bar under the document: play/pause, stop, previous/next sentence and chapter,
the speed, the voice, where the reading is, and the latency readout."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from voxdesk.gui.actions import SP, SPECS, accessible_name, refresh_icons, themed_icon
from voxdesk.gui.controller import Position, State
from voxdesk.gui.latency_panel import LatencyPanel
from voxdesk.gui.voice_choice import SPEED_MAX, SPEED_MIN, SPEED_STEP

BUTTONS = ("previous_chapter", "previous_sentence", "play", "stop", "next_sentence",
           "next_chapter")


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TransportBar(QWidget):
    speedChosen = Signal(float)

    def __init__(self, actions: dict[str, QAction], voice_picker: QWidget,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._actions = actions
        self._state = State.NO_MODEL
        size = self.style().pixelMetric(self.style().PixelMetric.PM_ToolBarIconSize)
        self.buttons: dict[str, QToolButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for key in BUTTONS:
            button = QToolButton()
            button.setDefaultAction(actions[key])
            button.setAccessibleName(accessible_name(SPECS[key]).replace(" / ", "/"))
            button.setIconSize(QSize(size * 3 // 2 if key == "play" else size,
                                     size * 3 // 2 if key == "play" else size))
            button.setAutoRaise(True)
            # Clicking must not take the focus from the text (Space there types); Tab still
            # reaches the buttons.
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            row.addWidget(button)
            self.buttons[key] = button
        self.buttons["play"].setAccessibleName("Play")
        row.addSpacing(self.fontMetrics().horizontalAdvance("MM"))

        speed_label = QLabel("S&peed:")
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setAccessibleName("Speed")
        self.speed.setToolTip("How fast the voice speaks, 0.5× to 3× (Ctrl+[ and Ctrl+]).")
        self.speed.setRange(round(SPEED_MIN / SPEED_STEP), round(SPEED_MAX / SPEED_STEP))
        self.speed.setSingleStep(1)
        self.speed.setPageStep(5)
        self.speed.setMinimumWidth(self.fontMetrics().horizontalAdvance("M" * 8))
        self.speed.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.speed.valueChanged.connect(self._on_speed)
        speed_label.setBuddy(self.speed)
        self.speed_value = QLabel()
        self.speed_value.setMinimumWidth(self.fontMetrics().horizontalAdvance("3.00×"))
        row.addWidget(speed_label)
        row.addWidget(self.speed)
        row.addWidget(self.speed_value)
        row.addSpacing(self.fontMetrics().horizontalAdvance("MM"))
        row.addWidget(voice_picker)
        row.addStretch(1)

        self.position = QLabel()
        self.position.setAccessibleName("Position")
        self.position.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.position.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.latency = LatencyPanel()
        info = QHBoxLayout()
        info.setContentsMargins(0, 0, 0, 0)
        info.addWidget(self.position, 1)
        info.addWidget(self.latency)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(info)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            refresh_icons(self._actions)
            self.show_state(self._state)
        super().changeEvent(event)

    def set_speed(self, speed: float) -> None:
        self.speed.blockSignals(True)
        self.speed.setValue(round(speed / SPEED_STEP))
        self.speed.blockSignals(False)
        self.speed_value.setText(f"{speed:.2f}×")

    def _on_speed(self, value: int) -> None:
        speed = value * SPEED_STEP
        self.speed_value.setText(f"{speed:.2f}×")
        self.speedChosen.emit(speed)

    def show_state(self, state: State) -> None:
        """Play becomes Pause while speaking; navigation only means something then."""
        self._state = state
        sounding = state in (State.SPEAKING, State.PAUSED)
        play = self._actions["play"]
        if state is State.SPEAKING:
            play.setIcon(themed_icon("media-playback-pause", SP.SP_MediaPause))
            play.setText("&Pause")
            play.setToolTip("Pause (Ctrl+Enter; Space outside the text).")
        else:
            play.setIcon(themed_icon("media-playback-start", SP.SP_MediaPlay))
            play.setText("&Resume" if state is State.PAUSED else "&Play")
            play.setToolTip(("Resume" if state is State.PAUSED else "Play the selection or "
                             "from the cursor") + " (Ctrl+Enter; Space outside the text).")
        self.buttons["play"].setAccessibleName("Pause" if state is State.SPEAKING else
                                               "Resume" if state is State.PAUSED else "Play")
        self._actions["stop"].setEnabled(sounding or state is State.PREVIEWING)
        for key in ("previous_sentence", "next_sentence", "previous_paragraph", "next_paragraph",
                    "previous_chapter", "next_chapter"):
            self._actions[key].setEnabled(sounding)

    def show_position(self, position: Position, state: State) -> None:
        if position.sentences == 0:
            self.position.setText("Paused" if state is State.PAUSED else "")
            return
        parts = [f"Sentence {max(position.sentence, 1)} of {position.sentences}"]
        if position.chapter:
            parts.append(position.chapter)
        parts.append(f"{clock(position.elapsed_s)} read")
        if position.remaining_s is not None:
            parts.append(f"about {clock(position.remaining_s)} left")
        if state is State.PAUSED:
            parts.insert(0, "Paused")
        self.position.setText(" · ".join(parts))
