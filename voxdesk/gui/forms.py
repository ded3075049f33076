"""The one way a labelled field joins a form, so every field is reachable and announced alike."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


def add_labelled_row(form: QFormLayout, label: str, widget: QWidget, name: str,
                     tip: str) -> QLabel:
    """Add ``widget`` under ``label`` (its ``&`` mnemonic focuses the widget) with the accessible
    ``name`` screen readers announce and ``tip`` on both the label and the widget."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    text = QLabel(label)
    text.setBuddy(widget)
    text.setToolTip(tip)
    form.addRow(text, widget)
    return text
