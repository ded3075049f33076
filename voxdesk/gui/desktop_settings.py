"""The "Desktop" part of the settings dialog: global shortcuts, the tray, starting at login."""

from __future__ import annotations

import dataclasses
import os
import sys

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QSystemTrayIcon,
    QWidget,
)

from voxdesk.hotkeys import WAYLAND_HINT, HotkeyError, Shortcut
from voxdesk.settings import DesktopSettings

AUTOSTART_SUPPORTED = sys.platform.startswith("linux")
PORTABLE = QKeySequence.SequenceFormat.PortableText


def shortcut_to_keys(text: str) -> QKeySequence:
    """A saved shortcut ("Super+F5") as Qt writes it ("Meta+F5"); empty if it does not parse."""
    try:
        shortcut = Shortcut.parse(text) if text else None
    except HotkeyError:
        return QKeySequence()
    if shortcut is None:
        return QKeySequence()
    # Qt calls the Super (Windows) key Meta; Shortcut.parse accepts both.
    return QKeySequence.fromString(str(shortcut).replace("Super+", "Meta+"), PORTABLE)


def keys_to_shortcut(keys: QKeySequence) -> str:
    """What the user pressed, in the settings' spelling ("" = no shortcut).

    Raises HotkeyError (with the reason) for what no backend could grab: no modifier, only
    modifiers, or more than one chord.
    """
    if keys.isEmpty():
        return ""
    if keys.count() > 1:
        raise HotkeyError(f"{keys.toString()} is a sequence of several keys.",
                          "Press a single combination, e.g. Ctrl+Alt+R.")
    return str(Shortcut.parse(keys.toString(PORTABLE)))


class ShortcutField(QWidget):
    """A key recorder plus a Clear button (a keyboard user cannot "type" an empty shortcut)."""

    def __init__(self, name: str, clear_text: str, text: str) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QKeySequenceEdit(shortcut_to_keys(text))
        self.edit.setMaximumSequenceLength(1)
        # Without this, Tab would be recorded as the shortcut and trap keyboard focus here.
        self.edit.setFinishingKeyCombinations([
            QKeyCombination(Qt.Key.Key_Tab), QKeyCombination(Qt.Key.Key_Backtab),
            QKeyCombination(Qt.KeyboardModifier.ShiftModifier, Qt.Key.Key_Backtab)])
        self.edit.setAccessibleName(f"{name} shortcut")
        self.edit.setToolTip("Click here and press the keys, e.g. Ctrl+Alt+R. It works in every "
                             "program while VoxDesk runs.")
        self.clear = QPushButton(clear_text)
        self.clear.setAccessibleName(f"Clear the {name.lower()} shortcut")
        self.clear.setToolTip("No global shortcut for this action.")
        self.clear.clicked.connect(self.edit.clear)
        row.addWidget(self.edit, 1)
        row.addWidget(self.clear)

    def keys(self) -> QKeySequence:
        return self.edit.keySequence()


class DesktopSection(QGroupBox):
    """Edits a copy of :class:`DesktopSettings`; :meth:`settings` returns the result."""

    def __init__(self, desktop: DesktopSettings, parent: QWidget | None = None) -> None:
        super().__init__("Desktop", parent)
        self._initial = desktop
        form = QFormLayout(self)
        self.read_clipboard = ShortcutField("Read clipboard", "Cl&ear",
                                            desktop.read_clipboard_hotkey)
        self.read_selection = ShortcutField("Read selection", "Clea&r",
                                            desktop.read_selection_hotkey)
        for text, field in (("Read clip&board:", self.read_clipboard),
                            ("Read &selection:", self.read_selection)):
            label = QLabel(text)
            label.setBuddy(field.edit)
            form.addRow(label, field)
        if os.environ.get("WAYLAND_DISPLAY"):
            wayland = QLabel("In a Wayland session your desktop asks you to confirm these "
                             "shortcuts (where it supports global shortcuts). Otherwise: "
                             f"{WAYLAND_HINT}")
            wayland.setWordWrap(True)
            form.addRow(wayland)

        self.close_to_tray = QCheckBox("&Keep running in the tray when the window is closed")
        self.close_to_tray.setChecked(desktop.close_to_tray)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            self.close_to_tray.setEnabled(False)
            self.close_to_tray.setToolTip("This desktop has no system tray: closing the window "
                                          "quits VoxDesk.")
        form.addRow(self.close_to_tray)

        self.autostart = QCheckBox("Start VoxDesk at &login (in the tray)")
        self.autostart.setChecked(desktop.autostart and AUTOSTART_SUPPORTED)
        if AUTOSTART_SUPPORTED:
            self.autostart.setToolTip("Adds VoxDesk to your session's autostart programs "
                                      "(~/.config/autostart).")
        else:
            self.autostart.setEnabled(False)
            self.autostart.setToolTip("Not available on this system yet: add VoxDesk to your "
                                      "login items (startup apps) with `voxdesk --tray`.")
        form.addRow(self.autostart)

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Desktop settings problem")
        self.problem.setStyleSheet("font-weight: bold;")
        self.problem.hide()
        form.addRow(self.problem)

    def validate(self) -> str | None:
        """Why the shortcuts cannot be saved (also shown in the section), or None if they can."""
        problem, field = None, None
        try:
            clipboard, selection = self._shortcuts()
            if clipboard and clipboard == selection:
                problem = (f"{clipboard} is set for both actions: give one of them another "
                           "shortcut, or clear it.")
                field = self.read_selection
        except _FieldError as exc:
            problem, field = str(exc.error), exc.field
        self.problem.setText(problem or "")
        self.problem.setVisible(problem is not None)
        if field is not None:
            field.edit.setFocus()  # straight to the shortcut to fix
        return problem

    def _shortcuts(self) -> tuple[str, str]:
        texts = []
        for name, field in (("Read clipboard", self.read_clipboard),
                            ("Read selection", self.read_selection)):
            try:
                texts.append(keys_to_shortcut(field.keys()))
            except HotkeyError as exc:
                raise _FieldError(field, HotkeyError(f"{name}: {exc.message}", exc.hint)) from exc
        return texts[0], texts[1]

    def settings(self) -> DesktopSettings:
        """The edited settings (call after :meth:`validate` returned None)."""
        clipboard, selection = self._shortcuts()
        autostart = self.autostart.isChecked() if AUTOSTART_SUPPORTED else self._initial.autostart
        return dataclasses.replace(self._initial, read_clipboard_hotkey=clipboard,
                                   read_selection_hotkey=selection,
                                   close_to_tray=self.close_to_tray.isChecked(),
                                   autostart=autostart)


class _FieldError(Exception):
    def __init__(self, field: ShortcutField, error: HotkeyError) -> None:
        super().__init__(str(error))
        self.field, self.error = field, error
