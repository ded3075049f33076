"""Settings > Pronunciation lexicon: the user's replacements (voxdesk.lexicon) listed, added,
edited and removed, each change written to the lexicon file at once (atomically, like
`voxdesk lexicon add`); an entry that cannot be used (a bad regular expression) is refused
with the reason and saves nothing. "Hear it" speaks a sample with the entry in the form
applied, through the controller, before or after it is saved.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from voxdesk.gui.forms import add_labelled_row
from voxdesk.lexicon import Lexicon, LexiconEntry, LexiconError, LexiconStore

KINDS = (("Whole word", "word"), ("Regular expression", "regex"))
SCOPES = (("Every voice and language", "global"), ("One language", "language"),
          ("One voice", "voice"))
COLUMNS = ("Word or expression", "Say instead", "Kind", "Case", "Applies to")

#: Speaks a sample with a lexicon applied (SpeechController.hear); False if it could not.
Hear = Callable[[str, Lexicon], bool]


class LexiconEditor(QDialog):
    saved = Signal(object)  # the Lexicon, once a change is written

    def __init__(self, store: LexiconStore | None = None, hear: Hear | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pronunciation lexicon")
        self.setAccessibleName("Pronunciation lexicon")
        self.store = store if store is not None else LexiconStore()
        self._hear = hear
        self.entries: tuple[LexiconEntry, ...] = ()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Lexicon entries")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selected)
        entries_label = QLabel("&Entries (applied in this order; a voice's own first, then a "
                               "language's, then those for every voice):")
        entries_label.setWordWrap(True)
        entries_label.setBuddy(self.table)

        form = QFormLayout()
        self.pattern = QLineEdit()
        add_labelled_row(form, "&Word or expression:", self.pattern, "Word or expression",
                         "The word to replace (whole words only), or a regular expression.")
        self.replacement = QLineEdit()
        add_labelled_row(form, "Say &instead:", self.replacement, "Say instead",
                         "What the voice is given instead; for an expression, \\1 or "
                         "\\g<name> bring back its groups.")
        self.kind = QComboBox()
        for text, value in KINDS:
            self.kind.addItem(text, value)
        add_labelled_row(form, "&Kind:", self.kind, "Kind",
                         "A whole word (never inside another word), or a regular expression "
                         "(Python syntax).")
        self.match_case = QCheckBox("Match &case")
        self.match_case.setAccessibleName("Match case")
        self.match_case.setToolTip("Replace only where the letters' case is the same.")
        form.addRow(self.match_case)
        self.scope = QComboBox()
        for text, value in SCOPES:
            self.scope.addItem(text, value)
        add_labelled_row(form, "&Applies to:", self.scope, "Applies to",
                         "Every voice, the voices of one language, or one voice profile.")
        self.scope_value = QLineEdit()
        self.scope_value.setPlaceholderText("a language code (en, fr-CA) or a voice's name")
        add_labelled_row(form, "&Language or voice:", self.scope_value, "Language or voice",
                         "The language code or the voice profile's name the entry is for.")
        self.sample = QLineEdit()
        self.sample.setPlaceholderText("the word itself")
        add_labelled_row(form, "Sa&mple to hear:", self.sample, "Sample to hear",
                         "A sentence Hear it speaks with this entry applied.")
        self.scope.currentIndexChanged.connect(self._on_scope)
        self._on_scope()

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Problem")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()

        self.add_button = self._button("A&dd", "Add", "Add the entry in the form.", self.add)
        self.update_button = self._button("&Update", "Update the selected entry",
                                          "Replace the selected entry with the form.",
                                          self.update_selected)
        self.remove_button = self._button("&Remove", "Remove the selected entry",
                                          "Remove the selected entry.", self.remove_selected)
        self.hear_button = self._button("&Hear it", "Hear it", "Speak the sample (or the word) "
                                        "with this entry applied.", self.hear)
        self.hear_button.setEnabled(hear is not None)
        row = QHBoxLayout()
        for button in (self.add_button, self.update_button, self.remove_button,
                       self.hear_button):
            row.addWidget(button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(entries_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(row)
        layout.addWidget(close)
        self.resize(self.fontMetrics().horizontalAdvance("M" * 48), 520)
        self.reload()

    def _button(self, text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- the list ----------------------------------------------------------------------------

    def reload(self) -> None:
        try:
            self.entries = self.store.load().entries
        except LexiconError as exc:
            self.entries = ()
            self._show_error(exc)
        self._fill_table()

    def _fill_table(self, select: int = -1) -> None:
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            cells = (entry.pattern, entry.replacement, dict((v, t) for t, v in KINDS)[entry.kind],
                     "match" if entry.match_case else "ignore", entry.scope)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if 0 <= select < len(self.entries):
            self.table.selectRow(select)
        self._on_selected()

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _on_selected(self) -> None:
        row = self.selected_row()
        self.update_button.setEnabled(row >= 0)
        self.remove_button.setEnabled(row >= 0)
        if row < 0:
            return
        entry = self.entries[row]
        self.pattern.setText(entry.pattern)
        self.replacement.setText(entry.replacement)
        self.kind.setCurrentIndex(self.kind.findData(entry.kind))
        self.match_case.setChecked(entry.match_case)
        scope = "voice" if entry.voice else "language" if entry.language else "global"
        self.scope.setCurrentIndex(self.scope.findData(scope))
        self.scope_value.setText(entry.voice or entry.language or "")

    def _on_scope(self) -> None:
        self.scope_value.setEnabled(self.scope.currentData() != "global")

    # -- the form ----------------------------------------------------------------------------

    def entry(self) -> LexiconEntry:
        """The entry the form describes; raises LexiconError saying what is wrong."""
        scope, value = self.scope.currentData(), self.scope_value.text().strip()
        if scope != "global" and not value:
            raise LexiconError(f"Say which {scope} the entry is for.",
                               "Type a language code (en, fr-CA) or a voice profile's name, or "
                               "let it apply to every voice.")
        return LexiconEntry(self.pattern.text(), self.replacement.text(),
                            kind=self.kind.currentData(), match_case=self.match_case.isChecked(),
                            language=value if scope == "language" else None,
                            voice=value if scope == "voice" else None)

    def _form_entry(self) -> LexiconEntry | None:
        """The form's entry, or None after showing what is wrong with it."""
        try:
            return self.entry()
        except LexiconError as exc:
            self._show_error(exc)
            return None

    def _show_error(self, exc: LexiconError) -> None:
        self.error.setText(f"{exc.message} {exc.hint or ''}".strip())
        self.error.setAccessibleDescription(self.error.text())
        self.error.show()

    def _clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    def _write(self, entries: tuple[LexiconEntry, ...], select: int) -> bool:
        try:
            self.store.save(Lexicon(entries))
        except (LexiconError, OSError) as exc:
            self._show_error(exc if isinstance(exc, LexiconError)
                             else LexiconError(f"The lexicon could not be saved: {exc}."))
            return False
        self.entries = entries
        self._clear_error()
        self._fill_table(select)
        self.saved.emit(Lexicon(entries))
        return True

    # -- actions -----------------------------------------------------------------------------

    def add(self) -> bool:
        """Add the form's entry (one with the same word and scope is replaced)."""
        try:
            entry = self.entry()
            self.store.add(entry)  # checks the size limit and writes atomically
            self.entries = self.store.load().entries
        except LexiconError as exc:
            self._show_error(exc)
            return False
        self._clear_error()
        self._fill_table(len(self.entries) - 1)
        self.saved.emit(Lexicon(self.entries))
        return True

    def update_selected(self) -> bool:
        row = self.selected_row()
        if row < 0:
            return False
        entry = self._form_entry()
        if entry is None:
            return False
        entries = list(self.entries)
        entries[row] = entry
        return self._write(tuple(entries), row)

    def remove_selected(self) -> bool:
        row = self.selected_row()
        if row < 0:
            return False
        entries = self.entries[:row] + self.entries[row + 1:]
        return self._write(entries, min(row, len(entries) - 1))

    def hear(self) -> bool:
        """Speak the sample (or the word) with the form's entry applied."""
        if self._hear is None:
            return False
        entry = self._form_entry()
        if entry is None:
            return False
        self._clear_error()
        sample = self.sample.text().strip() or self.pattern.text().strip()
        return self._hear(sample, Lexicon((entry,)))
