"""What the window does with documents: the Open, Open URL and Open recent menus, dropped
files, showing a document once it is extracted, and the offer to continue where it was left.

A mixin of :class:`~voxdesk.gui.main_window.MainWindow` (the methods moved here as they were,
so that the window module keeps to arranging widgets); the document itself lives in the
:class:`~voxdesk.gui.controller.SpeechController`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu

from voxdesk.gui.shown_document import ShownDocument
from voxdesk.gui.text_editor import AUDIO_SUFFIXES
from voxdesk.reading_position import ReadingPosition

if TYPE_CHECKING:
    from voxdesk.gui.controller import SpeechController
    from voxdesk.gui.resume_bar import ResumeBar
    from voxdesk.gui.text_editor import TextEditor
    from voxdesk.gui.voices.panel import VoicePanel
    from voxdesk.settings import Settings

MAX_RECENT = 10  # File > Open recent
TEXT_FILTER = ("Documents (*.txt *.md *.markdown *.text *.pdf *.epub *.docx *.odt *.html "
               "*.htm);;All files (*)")


class DocumentsMixin(QMainWindow):
    _export_when_complete = False  # Export… asked for while the rest of a book was on its way
    # What the window provides (see MainWindow).
    if TYPE_CHECKING:
        settings: Settings
        controller: SpeechController
        editor: TextEditor
        resume_bar: ResumeBar
        voice_panel: VoicePanel
        actions_by_name: dict[str, QAction]
        documentShown: Signal
        _save_timer: QTimer
        _read_when_opened: bool

        def play(self) -> bool: ...
        def export(self) -> None: ...
        def _move_cursor(self, offset: int) -> None: ...

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a document",
                                              self.settings.window.last_folder, TEXT_FILTER)
        if path:
            self.open_path(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Open URL", "Address of the web page to read:")
        if ok and url.strip():
            self.open_path(url.strip())

    def open_files(self, paths: list[Path]) -> None:
        """Dropped files: audio becomes the voice clip, anything else is opened as text."""
        for path in paths:
            if path.suffix.lower() in AUDIO_SUFFIXES:
                self.voice_panel.set_clip(path)
            else:
                self.open_path(path)
                break

    def open_path(self, source: str | Path, read: bool = False) -> None:
        """Open a file or URL in any format voxdesk.documents reads (plain text and Markdown in
        any common encoding too), extracted in the background and shown from its first
        chapters. ``read``: start reading it (where it was left) once shown."""
        text = str(source)
        is_url = text.lower().startswith(("http://", "https://"))
        self._read_when_opened = read
        self.statusBar().showMessage(f"Opening {text}…")
        self.controller.open_document_in_background(text if is_url else Path(text).resolve())

    def _show_document(self, shown: ShownDocument) -> None:
        self._export_when_complete = False  # a waiting Export… was for the document before
        self.editor.setPlainText(shown.text)
        self.controller.set_document_text(shown.text)
        if not shown.source.lower().startswith(("http://", "https://")):
            self.settings.window.last_folder = str(Path(shown.source).parent)
        self.setWindowTitle(f"{shown.title} – VoxDesk")
        self._show_chapter_count(shown)
        self._remember_recent(shown.source)
        self.resume_bar.dismiss()
        saved = self.controller.positions.load(shown.identity)
        offset = shown.offset_of(saved) if saved is not None else None
        if saved is not None and offset is not None and (saved.chapter, saved.sentence) > (1, 0):
            if self._read_when_opened:
                self._read_when_opened = False
                self._continue_from(saved)
            else:
                title = shown.outline[saved.chapter - 1].title
                self.resume_bar.offer(saved, title)
        elif self._read_when_opened:
            self._read_when_opened = False
            self.play()
        self.documentShown.emit(shown)

    def _continue_from(self, position: ReadingPosition) -> None:
        """Read on from a saved position's sentence."""
        shown = self.controller.document
        offset = shown.offset_of(position) if shown is not None else None
        if offset is None:
            return
        self._move_cursor(offset)
        self.play()

    def _start_over(self, position: ReadingPosition) -> None:
        self.controller.positions.forget(position.identity)
        self._move_cursor(0)

    # -- recent files --

    def _build_recent_menu(self) -> None:
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setAccessibleName("Open recent")
        file_menu = self.menuBar().actions()[0].menu()
        assert isinstance(file_menu, QMenu)
        file_menu.insertMenu(self.actions_by_name["export"], self.recent_menu)
        self._fill_recent_menu()

    def recent_files(self) -> list[str]:
        return [item for item in self.settings.window.recent_files if isinstance(item, str)]

    def _remember_recent(self, source: str) -> None:
        recent = [source, *(item for item in self.recent_files() if item != source)]
        self.settings.window.recent_files = recent[:MAX_RECENT]
        self._fill_recent_menu()
        self._save_timer.start()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for number, source in enumerate(self.recent_files(), 1):
            name = source if "://" in source else Path(source).name
            action = self.recent_menu.addAction(f"&{number % 10} {name}")
            action.setToolTip(source)
            action.triggered.connect(lambda _checked=False, s=source: self.open_path(s))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def open_text_file(self, path: Path) -> bool:
        """Open a (small) document at once, on this thread; False after showing why not."""
        return self.controller.open_document(path)

    def _extend_document(self, whole: ShownDocument, shown: ShownDocument) -> None:
        self.editor.append_unedited(whole.text[len(shown.text):])
        self._show_chapter_count(whole)
        self.documentShown.emit(whole)
        if self._export_when_complete:
            self._export_when_complete = False
            self.export()

    def _document_failed(self) -> None:
        self._export_when_complete = False
        self.statusBar().clearMessage()

    def _export_waits_for_the_rest(self) -> bool:
        """A big book is shown from its first chapters: Export… exports the whole of it, so it
        opens once the rest is there (True: it will)."""
        shown = self.controller.document
        if shown is None or shown.complete:
            return False
        self._export_when_complete = True
        self.statusBar().showMessage("Export… opens once the rest of the document is read.")
        return True

    def _show_chapter_count(self, shown: ShownDocument) -> None:
        count = f"{len(shown.outline)} chapter{'s' if len(shown.outline) != 1 else ''}"
        more = "" if shown.complete else " so far, the rest on its way"
        self.statusBar().showMessage(f"Opened {shown.title}: {count}{more}.", 8000)
