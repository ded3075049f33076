"""The outline side panel: a document's chapters (title + offset), the one being heard marked.

Fed from the controller's ``outline`` (a tuple of :class:`~voxdesk.gui.reading.Chapter`):
Markdown headings today, a loaded document's chapters once voxdesk.documents feeds it.
Enter or a double click reads from that chapter; a single click moves the cursor there.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from voxdesk.gui.reading import Chapter

OFFSET_ROLE = Qt.ItemDataRole.UserRole


class OutlinePanel(QWidget):
    chapterChosen = Signal(int)  # offset: move there
    chapterActivated = Signal(int)  # offset: read from there

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setAccessibleName("Outline")
        self.list.setWordWrap(True)  # long titles wrap rather than scroll sideways
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("The document's chapters: Enter or a double click reads from one.")
        self.list.itemClicked.connect(lambda item: self.chapterChosen.emit(item.data(OFFSET_ROLE)))
        self.list.itemActivated.connect(
            lambda item: self.chapterActivated.emit(item.data(OFFSET_ROLE)))
        self.empty = QLabel("No chapters: headings (# Title) in the text appear here.")
        self.empty.setWordWrap(True)
        title = QLabel("O&utline")
        title.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        self.set_outline(())

    def set_outline(self, outline: tuple[Chapter, ...]) -> None:
        self.list.clear()
        for chapter in outline:
            item = QListWidgetItem("    " * (chapter.level - 1) + chapter.title)
            item.setData(OFFSET_ROLE, chapter.offset)
            item.setToolTip(chapter.title)
            self.list.addItem(item)
        self.empty.setVisible(not outline)
        self.list.setVisible(bool(outline))

    def titles(self) -> list[str]:
        return [self.list.item(i).text().strip() for i in range(self.list.count())]

    def mark(self, index: int) -> None:
        """Show chapter ``index`` (-1: none) as the one being heard."""
        for i in range(self.list.count()):
            font = self.list.item(i).font()
            font.setBold(i == index)
            self.list.item(i).setFont(font)
        if 0 <= index < self.list.count():
            self.list.scrollToItem(self.list.item(index))
