"""Documents in the real window under Xvfb: a real EPUB and PDF (made with ebooklib and
reportlab) shown with their chapters, chapter navigation while speaking, a bad document that
keeps the previous one, resuming after a `voxdesk` window was killed with kill -9, and
`voxdesk next` from another process reaching the running window.
"""

from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from window_helpers import highlighted, open_and_wait, open_window, play_until_heard

from voxdesk.documents import open_document
from voxdesk.engine import SynthesisParams
from voxdesk.engine.segmentation import split_text
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings
from voxdesk.testing.documents import make_epub, make_pdf

pytestmark = pytest.mark.gui
VOXDESK = [sys.executable, "-m", "voxdesk"]

CHAPTERS = [
    ("The Harbour", ["The boat came in at night. The keeper lit the lamp. The bell rang twice.",
                     "Fog rolled over the rocks. A gull cried out. The tide turned slowly."]),
    ("The Storm", ["Wind tore at the shutters. Nobody slept."]),
    ("Morning", ["The sea was calm again."]),
]
TITLES = ["The Harbour", "The Storm", "Morning"]
NO_HOTKEYS = {"read_clipboard_hotkey": "", "read_selection_hotkey": "", "close_to_tray": False}


def markdown(chapters) -> str:
    return "\n\n".join(f"# {title}\n\n" + "\n\n".join(paragraphs)
                         for title, paragraphs in chapters)


@pytest.fixture
def books(tmp_path: Path) -> dict[str, Path]:
    legacy = tmp_path / "book.md"  # Windows' code page, as an old editor saves it
    with codecs.open(str(legacy), "w", encoding="cp1252") as f:
        f.write(markdown(CHAPTERS))
    return {"epub": make_epub(tmp_path / "book.epub", CHAPTERS, title="The Keeper"),
            "pdf": make_pdf(tmp_path / "book.pdf", CHAPTERS, running_header="The Keeper",
                            title="The Keeper"),
            "md": legacy}


def make_window(qtbot, engine) -> MainWindow:
    return open_window(qtbot, engine, Settings(params=SynthesisParams(max_len=6, seed=3)))


@pytest.mark.parametrize("kind", ["epub", "pdf"])
def test_document_text_and_outline_are_shown(kind, books, qtbot, warm_engine, data_dir):
    window = make_window(qtbot, warm_engine)
    window.open_path(books[kind])
    assert window.editor.toPlainText() == ""  # extraction runs in the background
    qtbot.waitUntil(lambda: window.outline_panel.titles() == TITLES, timeout=20000)
    text = window.editor.toPlainText()
    for title, paragraphs in CHAPTERS:
        assert title in text
        for paragraph in paragraphs:
            assert paragraph in text
    assert text.index("The Harbour") < text.index("The Storm") < text.index("Morning")
    assert "The Keeper" not in text  # the PDF's running header is not read
    # Each outline entry points at its chapter's title in the shown text.
    offsets = [window.outline_panel.list.item(i).data(Qt.ItemDataRole.UserRole)
               for i in range(3)]
    assert [text[o:o + len(t)] for o, t in zip(offsets, TITLES)] == TITLES
    assert window.windowTitle().startswith("The Keeper")
    assert str(books[kind]) in window.settings.window.recent_files
    recent = [a.toolTip() for a in window.recent_menu.actions()]
    assert recent == [str(books[kind])]


def test_next_chapter_while_speaking_speaks_its_first_sentence(books, qtbot, warm_engine,
                                                               data_dir, sink_recorder):
    window = make_window(qtbot, warm_engine)
    open_and_wait(qtbot, window, books["epub"])
    controller = window.controller
    with sink_recorder():
        play_until_heard(qtbot, window, "The Harbour")
        window.editor.setFocus()
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            qtbot.keyClick(window.editor, Qt.Key.Key_PageDown, Qt.KeyboardModifier.AltModifier)
        # What reaches the engine starts with the chapter, and the chapter is what is heard.
        assert asked.args[0].text.startswith("The Storm\n\nWind tore at the shutters.")
        qtbot.waitUntil(lambda: highlighted(window) == "The Storm", timeout=20000)
        qtbot.waitUntil(lambda: highlighted(window) == "Wind tore at the shutters.",
                        timeout=20000)
        assert window.outline_panel.list.item(1).font().bold()
        with qtbot.waitSignal(controller.speechEnded, timeout=5000):
            controller.stop()


def test_a_bad_document_keeps_the_previous_one(books, qtbot, warm_engine, data_dir, tmp_path):
    window = make_window(qtbot, warm_engine)
    first = open_and_wait(qtbot, window, books["epub"])
    shown_text = window.editor.toPlainText()
    broken = tmp_path / "broken.epub"
    broken.write_bytes(books["epub"].read_bytes()[:1500])  # a real EPUB, cut short
    with qtbot.waitSignal(window.controller.documentFailed, timeout=20000) as failed:
        window.open_path(broken)
    message, hint = failed.args
    assert message and hint
    box = window.message_box
    assert box is not None and box.text() == message and box.informativeText() == hint
    assert window.editor.toPlainText() == shown_text
    assert window.outline_panel.titles() == TITLES
    assert window.controller.document == first
    assert str(broken) not in window.settings.window.recent_files


@pytest.mark.parametrize("kind", ["epub", "md"])
def test_position_is_saved_and_offered_again_after_kill_9(kind, books, qtbot, warm_engine,
                                                          data_dir, tiny_model_dir, tmp_path,
                                                          wait_for):
    book = books[kind]
    identity = open_document(book).identity
    config = tmp_path / "voxdesk-config"
    config.mkdir(exist_ok=True)
    (config / "settings.json").write_text(json.dumps(
        {"params": {"max_len": 6}, "desktop": NO_HOTKEYS}), encoding="utf-8")
    env = {**os.environ, "VOXDESK_CONFIG_DIR": str(config), "VOXDESK_DATA_DIR": str(data_dir),
           "VOXDESK_INSTANCE": f"voxdesk-docs-test-{os.getpid()}-{tmp_path.name}"}
    saved = data_dir / "positions" / f"{identity}.json"
    log = open(tmp_path / "window.log", "w")
    process = subprocess.Popen([*VOXDESK, "gui", "--model", str(tiny_model_dir), "--device",
                                "cpu", str(book), "--read"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)

    def far_enough() -> bool:
        try:
            return json.loads(saved.read_text())["sentence"] >= 2
        except (OSError, ValueError, KeyError):
            return False

    try:
        assert wait_for(far_enough, 90), (tmp_path / "window.log").read_text()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    position = json.loads(saved.read_text())
    assert position["chapter"] == 1 and position["identity"] == identity

    window = make_window(qtbot, warm_engine)
    shown = open_and_wait(qtbot, window, book)
    bar = window.resume_bar
    assert bar.isVisible()
    assert bar.label.text().startswith(f"Continue from chapter 1 (The Harbour), sentence "
                                       f"{position['sentence'] + 1}")
    assert bar.continue_button.hasFocus()  # keyboard first: Enter or Alt+C continues
    sentence = split_text(shown.chapter_texts[0])[position["sentence"]]
    expected = shown.chapter_texts[0][sentence.start:sentence.end]
    with qtbot.waitSignal(window.controller.requested, timeout=5000) as asked:
        qtbot.keyClick(bar.continue_button, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert asked.args[0].text.startswith(expected)
    qtbot.waitUntil(lambda: highlighted(window) == expected, timeout=20000)
    assert not bar.isVisible()
    # The status line counts in the bar's frame: the chapter's sentences, not the reading's.
    count = len(split_text(shown.chapter_texts[0]))
    qtbot.waitUntil(lambda: window.transport.position.text().startswith(
        f"Sentence {position['sentence'] + 1} of {count}"), timeout=5000)
    with qtbot.waitSignal(window.controller.speechEnded, timeout=5000):
        window.controller.stop()


FRENCH = [("Café du port", ["Le café était fermé. Personne n'était là."]),
          ("Deuxième partie", ["À l'aube, ils partirent. Le vent soufflait."])]


def test_texts_in_other_encodings_open_with_their_outline_and_resume(
        qtbot, warm_engine, data_dir, tmp_path, sink_recorder):
    legacy = tmp_path / "café.md"
    legacy.write_bytes(codecs.encode(markdown(FRENCH), "cp1252"))
    wide = tmp_path / "notes.txt"
    with codecs.open(str(wide), "w", encoding="utf-16") as f:  # with its byte-order mark
        f.write("Première ligne, en UTF-16.\n\nEt une seconde.")
    window = make_window(qtbot, warm_engine)
    shown = open_and_wait(qtbot, window, legacy)
    text = window.editor.toPlainText()
    assert text == ("Café du port\n\nLe café était fermé. Personne n'était là.\n\n"
                    "Deuxième partie\n\nÀ l'aube, ils partirent. Le vent soufflait.")
    assert window.outline_panel.titles() == ["Café du port", "Deuxième partie"]
    with sink_recorder():  # read from the second chapter: its position is saved
        with qtbot.waitSignal(window.controller.positionSaved, timeout=20000) as saved:
            window.outline_panel.chapterActivated.emit(text.index("Deuxième"))
        assert (saved.args[0].identity, saved.args[0].chapter) == (shown.identity, 2)
        with qtbot.waitSignal(window.controller.speechEnded, timeout=5000):
            window.controller.stop()

    open_and_wait(qtbot, window, wide)
    assert window.editor.toPlainText() == "Première ligne, en UTF-16.\n\nEt une seconde."
    assert not window.resume_bar.isVisible()
    open_and_wait(qtbot, window, legacy)  # reopened: offered where it was left
    assert window.resume_bar.isVisible()
    assert "chapter 2 (Deuxième partie), sentence 1" in window.resume_bar.label.text()


def test_a_big_book_is_shown_up_to_where_it_resumes_then_whole(
        qtbot, warm_engine, data_dir, tmp_path, sink_recorder):
    from voxdesk.reading_position import PositionStore, ReadingPosition

    later = [("Afterwards", ["They never spoke of it."]), ("The End", ["Nothing more."])]
    book = make_epub(tmp_path / "long.epub", CHAPTERS + later, title="The Keeper")
    PositionStore().save(ReadingPosition(open_document(book).identity, 3, 0, 0, str(book)))
    window = make_window(qtbot, warm_engine)
    controller = window.controller
    with qtbot.waitSignal(window.documentShown, timeout=20000) as first:
        window.open_path(book)
    # Shown at once: the chapters up to where it resumes; the rest is still being extracted.
    assert not first.args[0].complete and window.outline_panel.titles() == TITLES
    assert "They never spoke" not in window.editor.toPlainText()
    bar = window.resume_bar
    assert bar.isVisible() and "chapter 3 (Morning)" in bar.label.text()
    with sink_recorder():
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            bar.continue_button.click()
        assert asked.args[0].text.startswith("Morning")
        assert "Afterwards" not in asked.args[0].text  # only what is extracted yet
        qtbot.waitUntil(lambda: controller.document.complete, timeout=20000)
        whole = controller.document
        assert window.editor.toPlainText() == whole.text
        assert window.outline_panel.titles() == TITLES + ["Afterwards", "The End"]
        # The reading goes on into the chapters appended meanwhile.
        qtbot.waitUntil(lambda: highlighted(window) == "Afterwards", timeout=30000)
        with qtbot.waitSignal(controller.speechEnded, timeout=5000):
            controller.stop()


def test_start_over_forgets_the_position(books, qtbot, warm_engine, data_dir):
    from voxdesk.reading_position import PositionStore, ReadingPosition

    book = books["pdf"]
    identity = open_document(book).identity
    PositionStore().save(ReadingPosition(identity, 2, 1, 27, str(book)))
    window = make_window(qtbot, warm_engine)
    open_and_wait(qtbot, window, book)
    assert "chapter 2 (The Storm), sentence 2" in window.resume_bar.label.text()
    window.resume_bar.start_over_button.click()
    assert not window.resume_bar.isVisible()
    assert PositionStore().load(identity) is None
    assert window.editor.textCursor().position() == 0


def test_voxdesk_next_from_another_process_reaches_the_window(books, qtbot, warm_engine,
                                                              data_dir, tmp_path, monkeypatch,
                                                              sink_recorder):
    from voxdesk.gui.desktop import Desktop

    monkeypatch.setenv("VOXDESK_INSTANCE", f"voxdesk-next-test-{os.getpid()}-{tmp_path.name}")
    window = make_window(qtbot, warm_engine)
    window.settings.desktop = type(window.settings.desktop)(**NO_HOTKEYS)
    desktop = Desktop(QApplication.instance(), window, window.settings)
    assert desktop.start(hidden=False)

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        # The window answers on this event loop: wait for the command without blocking it.
        process = subprocess.Popen([*VOXDESK, *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        qtbot.waitUntil(lambda: process.poll() is not None, timeout=30000)
        out, err = process.communicate()
        return subprocess.CompletedProcess(args, process.returncode, out, err)

    try:
        open_and_wait(qtbot, window, books["epub"])
        controller = window.controller
        with sink_recorder():
            with qtbot.waitSignal(controller.speechStarted, timeout=20000):
                window.play()
            # Paused while each command starts (seconds on a busy machine), so that it moves
            # from a known sentence; a move reads on from where it went.
            qtbot.waitUntil(lambda: highlighted(window) == "The Harbour", timeout=20000)
            controller.pause()
            with qtbot.waitSignal(controller.requested, timeout=30000) as asked:
                done = command("next", "--chapter")
            assert done.returncode == 0, done.stderr
            assert asked.args[0].text.startswith("The Storm")
            qtbot.waitUntil(lambda: highlighted(window) == "The Storm", timeout=20000)
            controller.pause()
            with qtbot.waitSignal(controller.requested, timeout=30000) as asked:
                done = command("next")
            assert done.returncode == 0, done.stderr
            assert asked.args[0].text.startswith("Wind tore at the shutters.")
            qtbot.waitUntil(lambda: highlighted(window) == "Wind tore at the shutters.",
                            timeout=20000)
            controller.pause()
            with qtbot.waitSignal(controller.requested, timeout=30000) as asked:
                done = command("previous", "--paragraph")
            assert done.returncode == 0, done.stderr
            assert asked.args[0].text.startswith("The Storm")  # the heading's paragraph
            with qtbot.waitSignal(controller.speechEnded, timeout=5000):
                controller.stop()
    finally:
        desktop.close()


def test_next_without_a_running_window_says_so(data_dir, tmp_path):
    env = {**os.environ, "VOXDESK_INSTANCE": f"voxdesk-none-{os.getpid()}-{tmp_path.name}"}
    done = subprocess.run([*VOXDESK, "next"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "not running" in done.stderr
