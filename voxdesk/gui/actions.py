"""The window's actions (each with its shortcut, icon, tooltip and accessible name) and its
menus. The transport bar's buttons show these same actions, so a control and its menu entry
and shortcut can never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QStyle

SP = QStyle.StandardPixmap


def themed_icon(name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    """The desktop icon theme's ``name``, or Qt's standard icon where the theme has none - drawn
    in the palette's text colour, so that it stays visible on a dark theme."""
    icon = QIcon.fromTheme(name)
    if icon.isNull():
        icon = _tinted(QApplication.style().standardIcon(fallback))
    return icon


def _tinted(icon: QIcon) -> QIcon:
    palette = QApplication.palette()
    tinted = QIcon()
    for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
        for size in (16, 24, 32, 48, 64):
            pixmap = icon.pixmap(size, size)
            if pixmap.isNull():
                continue
            shape = QPixmap(pixmap.size())
            shape.setDevicePixelRatio(pixmap.devicePixelRatio())
            shape.fill(Qt.GlobalColor.transparent)
            painter = QPainter(shape)
            painter.drawPixmap(0, 0, pixmap)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
            painter.fillRect(shape.rect(), palette.color(group, QPalette.ColorRole.ButtonText))
            painter.end()
            tinted.addPixmap(shape, mode)
    return tinted


def refresh_icons(actions: dict[str, QAction]) -> None:
    """Draw the actions' icons again (the palette changed: light to dark)."""
    for key, action in actions.items():
        spec = SPECS[key]
        if spec.icon is not None:
            action.setIcon(themed_icon(*spec.icon))


@dataclass(frozen=True)
class Spec:
    text: str  # menu text with its & mnemonic
    tip: str
    shortcuts: tuple[str, ...] = ()
    icon: tuple[str, QStyle.StandardPixmap] | None = None


SPECS: dict[str, Spec] = {
    "open": Spec("&Open…", "Open a document: PDF, EPUB, DOCX, ODT, HTML, Markdown or text "
                 "(Ctrl+O).", ("Ctrl+O",), ("document-open", SP.SP_DialogOpenButton)),
    "open_url": Spec("Open &URL…", "Open a web article by its address (Ctrl+L).", ("Ctrl+L",)),
    "export": Spec("&Export…", "Export the text as audio: MP3, Opus, M4A, an M4B "
                   "audiobook with chapters, FLAC or WAV (Ctrl+E).", ("Ctrl+E",),
                   ("document-save-as", SP.SP_DialogSaveButton)),
    "cancel_export": Spec("&Cancel export", "Stop the export; no file is written "
                          "(Ctrl+Shift+E).", ("Ctrl+Shift+E",)),
    "load_model": Spec("&Load model…", "Use a VoxCPM model folder on this computer "
                       "(Ctrl+Shift+L).", ("Ctrl+Shift+L",)),
    "download": Spec("&Download a model…", "Choose and download a model (Ctrl+Shift+D).",
                     ("Ctrl+Shift+D",)),
    "settings": Spec("&Settings…", "Output device, shortcuts, tray, the local API (Ctrl+,).",
                     ("Ctrl+,",)),
    "quit": Spec("&Quit", "Quit VoxDesk (Ctrl+Q).", ("Ctrl+Q",)),
    "play": Spec("&Play / Pause", "Play the selection or from the cursor; pause and resume "
                 "(Ctrl+Enter; Space outside the text).", ("Ctrl+Return", "Ctrl+Enter"),
                 ("media-playback-start", SP.SP_MediaPlay)),
    "stop": Spec("&Stop", "Stop reading (Esc).", ("Esc",),
                 ("media-playback-stop", SP.SP_MediaStop)),
    "previous_sentence": Spec("P&revious sentence", "Back to the previous sentence (Alt+Left).",
                              ("Alt+Left",), ("media-seek-backward", SP.SP_MediaSeekBackward)),
    "next_sentence": Spec("&Next sentence", "On to the next sentence (Alt+Right).",
                          ("Alt+Right",), ("media-seek-forward", SP.SP_MediaSeekForward)),
    "previous_paragraph": Spec("Previous par&agraph", "To the start of this paragraph, or "
                               "the one before (Alt+Up).", ("Alt+Up",)),
    "next_paragraph": Spec("Ne&xt paragraph", "On to the next paragraph (Alt+Down).",
                           ("Alt+Down",)),
    "previous_chapter": Spec("Previous &chapter", "To the start of this chapter, or the one "
                             "before (Alt+Page Up).", ("Alt+PgUp",),
                             ("media-skip-backward", SP.SP_MediaSkipBackward)),
    "next_chapter": Spec("Next c&hapter", "On to the next chapter (Alt+Page Down).",
                         ("Alt+PgDown",), ("media-skip-forward", SP.SP_MediaSkipForward)),
    "faster": Spec("&Faster", "Speak faster by 0.05× (Ctrl+]).", ("Ctrl+]",)),
    "slower": Spec("S&lower", "Speak slower by 0.05× (Ctrl+[).", ("Ctrl+[",)),
    "focus_text": Spec("Go to the &text", "Move the keyboard into the document "
                       "(Ctrl+Shift+T).", ("Ctrl+Shift+T",)),
    "outline": Spec("&Outline", "Show or hide the chapter outline (Ctrl+Shift+O).",
                    ("Ctrl+Shift+O",)),
    "advanced": Spec("&Advanced settings", "Show or hide the voice clip and synthesis "
                     "settings (Ctrl+Shift+M).", ("Ctrl+Shift+M",)),
    "manage_voices": Spec("&Manage voice profiles…", "Add, preview, rename, export or delete "
                          "saved voices (Ctrl+Shift+P).", ("Ctrl+Shift+P",)),
    "choose_clip": Spec("Choose reference &clip…", "Clone the voice of a short recording "
                        "(Ctrl+Shift+K).", ("Ctrl+Shift+K",)),
    "play_reference": Spec("&Play reference", "Listen to the current voice's recording "
                           "(Ctrl+Shift+R).", ("Ctrl+Shift+R",)),
    "new_default_voice": Spec("&New default voice", "Make another voice for \"Model default "
                              "voice\" (every sentence keeps it; Ctrl+Shift+N).",
                              ("Ctrl+Shift+N",)),
    "shortcuts": Spec("&Keyboard shortcuts", "Every shortcut of the window (F1).", ("F1",)),
    "diagnostics": Spec("Copy &diagnostics", "Put a report for a bug report on the clipboard "
                        "(Ctrl+Shift+I).", ("Ctrl+Shift+I",)),
    "about": Spec("&About VoxDesk", "Version and credits (Shift+F1).", ("Shift+F1",)),
}

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", "open_url", "export", "cancel_export", "-", "load_model", "download",
               "settings", "-", "quit")),
    ("&Speech", ("play", "stop", "-", "previous_sentence", "next_sentence", "previous_paragraph",
                 "next_paragraph", "previous_chapter", "next_chapter", "-", "faster", "slower")),
    # Vie&w, not &View: Alt+V goes to the voice picker.
    ("Vie&w", ("focus_text", "outline", "advanced")),
    ("V&oices", ("manage_voices", "choose_clip", "play_reference", "new_default_voice")),
    ("&Help", ("shortcuts", "diagnostics", "about")),
)
CHECKABLE = ("outline", "advanced")


def accessible_name(spec: Spec) -> str:
    return spec.text.replace("&", "").rstrip("…")


def build_actions(window: QMainWindow, slots: dict[str, Callable[[], object]]
                  ) -> dict[str, QAction]:
    """One QAction per :data:`SPECS` entry, added to ``window`` (shortcuts work with the menu
    bar hidden) and its menus; ``slots[key]`` runs when it is triggered."""
    actions: dict[str, QAction] = {}
    for key, spec in SPECS.items():
        action = QAction(spec.text, window)
        action.setObjectName(key)
        action.setToolTip(spec.tip)
        action.setStatusTip(spec.tip)
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        if spec.icon is not None:
            action.setIcon(themed_icon(*spec.icon))
        if key in CHECKABLE:
            action.setCheckable(True)
            action.toggled.connect(lambda _on, slot=slots[key]: slot())
        else:
            action.triggered.connect(lambda _checked=False, slot=slots[key]: slot())
        window.addAction(action)
        actions[key] = action
    bar = window.menuBar()
    for title, keys in MENUS:
        menu: QMenu = bar.addMenu(title)
        for key in keys:
            if key == "-":
                menu.addSeparator()
            else:
                menu.addAction(actions[key])
    return actions


def shortcuts_text() -> str:
    """The Help > Keyboard shortcuts table."""
    rows = [f"{', '.join(spec.shortcuts)}\t{accessible_name(spec)}"
            for spec in SPECS.values() if spec.shortcuts]
    rows += ["Space\tPause / resume (when the text is not focused)",
             "Alt+letter\tThe underlined control or menu"]
    return "\n".join(rows)
