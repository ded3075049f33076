"""The compact live latency readout: how fast the current utterance started (first chunk, first
audible, real-time factor), and the recent history as a sparkline (its tooltip: the figures)."""

from __future__ import annotations

import statistics
from collections import deque

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from voxdesk.speech import UtteranceMetrics

HISTORY = 20
NONE = "–"  # shown until a value is known


def ms(seconds: float | None) -> str:
    return NONE if seconds is None else f"{seconds * 1000:.0f} ms"


class Sparkline(QWidget):
    """The first-chunk latencies of the last utterances as a line, in palette colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: deque[float] = deque(maxlen=HISTORY)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Latency history")
        self._describe()

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(6 * line, int(1.4 * line))

    def minimumSizeHint(self) -> QSize:
        return QSize(3 * self.fontMetrics().height(), self.sizeHint().height())

    def add(self, value: float) -> None:
        self.values.append(value)
        self._describe()
        self.update()

    def _describe(self) -> None:
        if not self.values:
            text = "No utterances yet."
        else:
            values = [v * 1000 for v in self.values]
            text = (f"First-chunk latency of the last {len(values)} utterances: "
                    f"median {statistics.median(values):.0f} ms, best {min(values):.0f} ms, "
                    f"worst {max(values):.0f} ms; latest {values[-1]:.0f} ms.")
        self.setAccessibleDescription(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = self.rect().adjusted(4, 4, -4, -2)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        if not self.values:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            return
        # The latest value sits at the right edge; older ones stretch to the left.
        top = max(self.values) or 1.0
        step = rect.width() / max(len(self.values) - 1, 1)
        right = rect.right() - (len(self.values) - 1) * step
        points = [QPointF(right + i * step, rect.bottom() - v / top * (rect.height() - 4))
                  for i, v in enumerate(self.values)]
        colour = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(colour, 2))
        painter.drawPolyline(QPolygonF(points))
        painter.setBrush(colour)
        for point in points:
            painter.drawEllipse(point, 2.5, 2.5)


class LatencyPanel(QWidget):
    """One line: first-chunk and first-audible latency of the current utterance, its real-time
    factor, and a sparkline of the last :data:`HISTORY` utterances."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.first_chunk = self._value(row, "First chunk", "First-chunk latency",
                                       "From pressing Play to the first audio from the model.")
        self.first_audible = self._value(row, "First audible", "First-audible latency",
                                         "From pressing Play to the first sound out of the "
                                         "speaker (includes the pre-buffer and device delay).")
        self.rtf = self._value(row, "RTF", "Real-time factor",
                               "Real-time factor: synthesis time divided by audio length; "
                               "below 1 is faster than real time.")
        self.sparkline = Sparkline()
        row.addWidget(self.sparkline)
        self.last_metrics: UtteranceMetrics | None = None

    @staticmethod
    def _value(row: QHBoxLayout, label: str, name: str, tip: str) -> QLabel:
        value = QLabel(NONE)
        value.setAccessibleName(name)
        value.setToolTip(tip)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        value.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # reachable for screen-reader users
        text = QLabel(label)
        text.setToolTip(tip)
        text.setBuddy(value)
        text.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter than the figure
        row.addWidget(text)
        row.addWidget(value)
        return value

    def start(self) -> None:
        """A new utterance began: blank the current values."""
        for label in (self.first_chunk, self.first_audible, self.rtf):
            label.setText(NONE)

    def set_first_chunk(self, seconds: float) -> None:
        self.first_chunk.setText(ms(seconds))

    def set_first_audible(self, seconds: float) -> None:
        self.first_audible.setText(ms(seconds))

    def finish(self, metrics: UtteranceMetrics) -> None:
        """The utterance ended: show its final figures and add it to the history."""
        self.last_metrics = metrics
        self.first_chunk.setText(ms(metrics.first_chunk_latency))
        self.first_audible.setText(ms(metrics.first_audible_latency))
        rtf = metrics.real_time_factor
        self.rtf.setText(NONE if rtf is None else f"{rtf:.2f}")
        if metrics.first_chunk_latency is not None:
            self.sparkline.add(metrics.first_chunk_latency)
