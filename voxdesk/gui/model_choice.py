"""One catalogue model in the first-run dialog: a radio button with a distinguishing mnemonic, and
what the model costs and does on this computer; and the download's progress in one line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QRadioButton, QVBoxLayout, QWidget

from voxdesk import models
from voxdesk.models import CatalogEntry, DownloadProgress, format_duration, format_size, measured


def mnemonic(text: str, taken: set[str]) -> str:
    """``text`` with an ``&`` before the last character no other control uses (so the model
    names get their distinguishing digit or letter: VoxCPM&2, VoxCPM1.&5)."""
    for index in range(len(text) - 1, -1, -1):
        key = text[index].lower()
        if key.isalnum() and key not in taken:
            taken.add(key)
            return f"{text[:index]}&{text[index:]}"
    return text


def describe_progress(p: DownloadProgress) -> str:
    """One line for the status label: what is being fetched, how fast, how long to go."""
    if p.phase == "listing":
        return f"Asking for the file list of {p.model}…"
    if p.phase == "done":
        return f"Downloaded {p.model} ({format_size(p.total_bytes)})."
    parts = [f"Downloading {p.model}: file {min(p.files_done + 1, p.files_total)} of "
             f"{p.files_total}"]
    if p.resumed_bytes:
        parts.append(f"continued from {format_size(p.resumed_bytes)}")
    if p.bytes_per_second:
        parts.append(f"{format_size(p.bytes_per_second)}/s")
    if p.eta_seconds is not None:
        parts.append(f"about {format_duration(p.eta_seconds)} left")
    return " · ".join(parts)


class ModelChoice(QWidget):
    """One catalogue model: a radio button and what it costs and does here."""

    def __init__(self, entry: CatalogEntry, taken: set[str]) -> None:
        super().__init__()
        self.entry = entry
        self._label = mnemonic(entry.id, taken)
        self.radio = QRadioButton(self._label)
        self.radio.setAccessibleName(entry.id)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAccessibleName(f"{entry.id} details")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.details.setContentsMargins(self.radio.sizeHint().height(), 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.radio)
        layout.addWidget(self.details)
        self.update_details(None, False)

    def facts(self) -> str:
        e = self.entry
        facts = [f"{e.parameters} parameters", f"{format_size(e.approx_size_bytes)} download"]
        if e.sample_rate:
            facts.append(f"{e.sample_rate / 1000:g} kHz audio")
        facts.append(e.languages_text())
        if e.vram_gb:
            facts.append(f"needs about {e.vram_gb:g} GB of GPU memory")
        return " · ".join(facts)

    def update_details(self, advice: measured.ModelAdvice | None, recommended: bool) -> None:
        self.radio.setText(self._label + (" (recommended)" if recommended else ""))
        lines = [self.facts()]
        installed = models.installed(self.entry.id)
        partial = models.partial_bytes(self.entry.id)
        if installed is not None:
            lines.append(f"Downloaded ({installed.path}).")
        elif partial:
            lines.append(f"{format_size(partial)} already downloaded: the download continues "
                         f"where it stopped.")
        lines.append(advice.message if advice else "Checking what this computer can run…")
        text = "\n".join(lines)
        self.details.setText(text)
        self.details.setToolTip(self.entry.description)
        self.radio.setToolTip(self.entry.description)
        self.radio.setAccessibleDescription(f"{self.entry.description} {text}")
