"""File > Export…: the format (one file with chapter marks, or one file per chapter), the
chapters to include, the target file and an estimate of how long it will take here (from the
engine's measured speed). The export itself runs on the controller's "export" lane
(:meth:`SpeechController.export_book`), its progress and time left in the status bar."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QWidget,
)

from voxdesk.audio.tempo import SPEED_MAX, SPEED_MIN, SPEED_STEP, TimeStretch
from voxdesk.audiobook.book import Book, BookChapter
from voxdesk.audiobook.export import AudiobookJob, ExportProgress, chapters_of
from voxdesk.documents import PARAGRAPH_BREAK
from voxdesk.engine import Engine, SynthesisParams, split_text
from voxdesk.errors import VoxDeskError
from voxdesk.gui.reading import Chapter
from voxdesk.gui.shown_document import ShownDocument

#: (label, extension) of each choice; the M4B is the one-file audiobook with chapter marks.
FORMATS: tuple[tuple[str, str], ...] = (
    ("MP3", ".mp3"), ("Opus", ".opus"), ("M4A (AAC)", ".m4a"), ("M4B audiobook", ".m4b"),
    ("FLAC", ".flac"), ("WAV", ".wav"),
)


def book_from_window(text: str, outline: tuple[Chapter, ...], title: str = "Text") -> Book:
    """The window's text as a book: a chapter per top-level outline entry (the text before the
    first one, if any, is a chapter of its own); plain text is one chapter."""
    top = min((c.level for c in outline), default=1)
    starts = [c for c in outline if c.level == top]
    bounds = [(0, title)] if not starts or text[:starts[0].offset].strip() else []
    bounds += [(c.offset, c.title) for c in starts]
    chapters = []
    for n, (begin, name) in enumerate(bounds):
        end = bounds[n + 1][0] if n + 1 < len(bounds) else len(text)
        body = text[begin:end]
        if n or starts and begin == starts[0].offset:  # drop the heading line itself
            body = body.split("\n", 1)[1] if "\n" in body else ""
        paragraphs = tuple(" ".join(p.split()) for p in body.split("\n\n") if p.strip())
        chapters.append(BookChapter(name, paragraphs))
    return Book("window", title, None, None, None, None, tuple(chapters), "")


def book_to_export(text: str, outline: tuple[Chapter, ...], title: str,
                   shown: ShownDocument | None) -> Book:
    """What File > Export… makes a book of: the opened document itself while the window shows
    it unedited (its chapters, title, author and cover), else the window's text."""
    if shown is None or shown.text != text:
        return book_from_window(text, outline, title)
    chapters = tuple(BookChapter(entry.title, tuple(p for p in body.split(PARAGRAPH_BREAK)
                                                    if p.strip()), entry.level)
                     for entry, body in zip(shown.outline, shown.chapter_texts))
    return Book(shown.source, shown.title, shown.author, None, shown.cover, shown.cover_type,
                chapters, shown.identity)


def estimate_seconds(engine: Engine | None, texts: list[str], params: SynthesisParams
                     ) -> tuple[float, float | None]:
    """(seconds of audio, seconds it takes to make here): audio from the text's weight at the
    measured speaking rate, each sentence at most ``max_len`` steps; the time from the measured
    seconds per step (None before any step was measured)."""
    if engine is None:
        return 0.0, None
    speed = engine.speed
    steps = 0
    for text in texts:
        for segment in split_text(text):
            spoken = len(segment.text) * speed.seconds_per_weight / speed.chunk_s
            steps += min(math.ceil(spoken), params.max_len)
    step_s = speed.step_s(params.inference_timesteps)
    return steps * speed.chunk_s, None if step_s is None else steps * step_s


def duration_text(seconds: float) -> str:
    if seconds < 9.95:  # tenths, so a short text's estimate visibly follows the speed
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_text(p: ExportProgress) -> str:
    if p.phase == "joining":
        return "Joining the chapters…"
    left = f" · {duration_text(p.seconds_left)} left" if p.seconds_left is not None else ""
    return f"Exporting chapter {p.chapter}/{p.chapters}: {p.fraction * 100:.0f}%{left}"


class ExportDialog(QDialog):
    """Choose what to export and where; :meth:`job` is the result once accepted."""

    def __init__(self, book: Book, engine: Engine | None, params: SynthesisParams,
                 folder: str, parent: QWidget | None = None, speed: float = 1.0) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setAccessibleName("Export")
        self.book, self.engine, self.params = book, engine, params
        form = QFormLayout(self)

        self.format = QComboBox()
        for label, extension in FORMATS:
            self.format.addItem(label, extension)
        self.format.setCurrentIndex(3 if len(book.chapters) > 1 else 0)
        self.format.setAccessibleName("Format")
        self.format.setToolTip("The audio format (Alt+F). M4B: one audiobook file with "
                               "chapter marks.")
        form.addRow(self._label("&Format:", self.format), self.format)

        self.split = QCheckBox("One file &per chapter")
        self.split.setAccessibleName("One file per chapter")
        self.split.setToolTip("Numbered files in a folder named after the target (Alt+P).")
        form.addRow("", self.split)

        self.chapters = QListWidget()
        self.chapters.setAccessibleName("Chapters")
        self.chapters.setToolTip("The chapters to include (Alt+C; Space ticks one).")
        for n, chapter in enumerate(book.chapters, 1):
            item = QListWidgetItem(chapter.title or f"Chapter {n}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.chapters.addItem(item)
        form.addRow(self._label("&Chapters:", self.chapters), self.chapters)

        self.speed = QDoubleSpinBox()
        self.speed.setRange(SPEED_MIN, SPEED_MAX)
        self.speed.setSingleStep(SPEED_STEP)
        self.speed.setDecimals(2)
        self.speed.setSuffix("×")
        self.speed.setValue(speed)
        self.speed.setAccessibleName("Speed")
        self.speed.setToolTip("How fast the exported speech is, same pitch (Alt+S); the "
                              "window's speed by default.")
        form.addRow(self._label("&Speed:", self.speed), self.speed)

        self.target = QLineEdit(str(Path(folder) / f"{_file_stem(book.title)}.m4b"))
        self.target.setAccessibleName("Target file")
        self.target.setToolTip("Where the export is written (Alt+T).")
        self.browse = QPushButton("&Browse…")
        self.browse.setAccessibleName("Browse for the target file")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(self.browse)
        form.addRow(self._label("&Target:", self.target), row)

        self.estimate = QLabel()
        self.estimate.setAccessibleName("Estimate")
        self.estimate.setWordWrap(True)
        form.addRow("Estimate:", self.estimate)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.start.setAccessibleName("Start the export")
        self.start.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName(
            "Cancel")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

        self.format.currentIndexChanged.connect(self._format_changed)
        self.split.toggled.connect(self._update)
        self.chapters.itemChanged.connect(self._update)
        self.speed.valueChanged.connect(self._update)
        #: (seconds of audio, seconds to make it here) as the estimate shows them
        self.estimated: tuple[float, float | None] | None = None
        self._format_changed()

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _format_changed(self) -> None:
        extension = self.format.currentData()
        # Every format is one file with chapter marks where its container has them (M4B/M4A,
        # MP3's ID3 chapters, Opus and FLAC comments), or one file per chapter; an M4B is
        # the one-file audiobook by definition.
        if extension == ".m4b":
            self.split.setChecked(False)
        self.split.setEnabled(extension != ".m4b")
        self.target.setText(str(Path(self.target.text()).with_suffix(extension)))
        self._update()

    def included(self) -> list[int]:
        """The 1-based numbers of the ticked chapters."""
        return [i + 1 for i in range(self.chapters.count())
                if self.chapters.item(i).checkState() == Qt.CheckState.Checked]

    def _update(self) -> None:
        include = self.included()
        self.start.setEnabled(bool(include))
        self.estimated = None
        if not include:
            self.estimate.setText("Tick at least one chapter.")
            return
        try:
            texts = [text for _, text in chapters_of(self.book, include)]
        except VoxDeskError as exc:  # only chapters without text ticked
            self.start.setEnabled(False)
            self.estimate.setText(exc.message)
            return
        audio_s, work_s = estimate_seconds(self.engine, texts, self.params)
        audio_s /= self.speed.value()  # the time-stretch itself costs little next to the model
        self.estimated = (audio_s, work_s)
        took = (f"about {duration_text(work_s)} on this computer" if work_s is not None
                else "the time it takes is known once this model has spoken here")
        self.estimate.setText(f"About {duration_text(audio_s)} of audio; {took}.")

    def _browse(self) -> None:
        extension = self.format.currentData()
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.target.text(),
                                              f"{self.format.currentText()} (*{extension})")
        if path:
            self.target.setText(str(Path(path).with_suffix(extension)))

    def job(self) -> AudiobookJob:
        extension = self.format.currentData()
        output = Path(self.target.text()).expanduser().with_suffix(extension)
        job = AudiobookJob(self.book, output, split=self.split.isChecked(),
                           params=self.params, include=self.included(), cover=self.book.cover)
        speed = round(self.speed.value(), 2)
        if speed != 1.0:
            job.transform = lambda rate: TimeStretch(rate, speed)
            job.transform_id = f"speed={speed:g}"
        return job


def _file_stem(title: str | None) -> str:
    cleaned = "".join(c for c in (title or "speech") if c.isalnum() or c in " -_").strip()
    return cleaned[:60] or "speech"
