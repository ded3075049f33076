"""The inline bar that offers to continue a reopened document where it was left: non-blocking
(reading, scrolling and the menus go on around it), reachable from the keyboard (it takes the
focus when it appears; Alt+C continues, Alt+T starts over)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from voxdesk.reading_position import ReadingPosition


class ResumeBar(QFrame):
    continueChosen = Signal(object)  # ReadingPosition
    startOverChosen = Signal(object)  # ReadingPosition

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Continue reading")
        self.position: ReadingPosition | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.continue_button = QPushButton("&Continue")
        self.continue_button.setAccessibleName("Continue where you stopped")
        self.start_over_button = QPushButton("S&tart over")
        self.start_over_button.setAccessibleName("Start over from the beginning")
        self.continue_button.clicked.connect(lambda: self._choose(self.continueChosen))
        self.start_over_button.clicked.connect(lambda: self._choose(self.startOverChosen))
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.continue_button)
        layout.addWidget(self.start_over_button)
        self.hide()

    def offer(self, position: ReadingPosition, chapter_title: str) -> None:
        where = f"chapter {position.chapter}"
        if chapter_title:
            where += f" ({chapter_title})"
        self.label.setText(f"Continue from {where}, sentence {position.sentence + 1}?")
        self.label.setAccessibleName(self.label.text())
        self.position = position
        self.show()
        self.continue_button.setFocus()

    def dismiss(self) -> None:
        self.position = None
        self.hide()

    def _choose(self, signal: SignalInstance) -> None:
        position = self.position
        self.dismiss()
        if position is not None:
            signal.emit(position)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
            event.accept()
            return
        super().keyPressEvent(event)
