"""File > Export… in the real window (pytest-qt on Xvfb, the tiny model): the dialog's format,
chapters, target and estimate; the export in the background with progress in the status bar
while the window stays usable; Cancel, and the next run continuing. Read back with ffprobe."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractSpinBox, QWidget
from window_helpers import open_window

from tests.probe import audio_stream, duration, needs_ffprobe, probe
from voxdesk.gui.export_dialog import FORMATS, ExportDialog, duration_text
from voxdesk.testing.documents import make_epub

pytestmark = [pytest.mark.gui, needs_ffprobe]

BOOK = ("# The Start\n\nIt begins. A bell rings.\n\n# The Middle\n\nThe fog came in.\n\n"
        "# The End\n\nIt ends. The light goes out.\n")


def long_book(sentences: int) -> str:
    body = " ".join(f"Sentence number {i} of this chapter." for i in range(sentences))
    return "".join(f"# Part {n}\n\n{body}\n\n" for n in (1, 2, 3))


@pytest.fixture
def out_dir(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def window(qtbot, warm_engine, data_dir):
    return open_window(qtbot, warm_engine, max_steps=3)


def open_dialog(window, qtbot, text: str) -> ExportDialog:
    window.editor.setPlainText(text)
    qtbot.waitUntil(lambda: len(window.controller.outline) == 3, timeout=5000)
    qtbot.keyClick(window.editor, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(window, "export_dialog", None) is not None
                    and window.export_dialog.isVisible(), timeout=5000)
    return window.export_dialog


def choose(dialog: ExportDialog, label: str, target, skip: tuple[int, ...] = ()) -> None:
    dialog.target.setText(str(target))
    dialog.format.setCurrentIndex(dialog.format.findText(label))
    for row in skip:
        dialog.chapters.item(row).setCheckState(Qt.CheckState.Unchecked)


def test_dialog_controls_are_named_and_the_estimate_is_shown(window, qtbot, tmp_path):
    dialog = open_dialog(window, qtbot, BOOK)
    for widget in dialog.findChildren(QWidget):
        inner = isinstance(widget.parent(), QAbstractSpinBox)  # the spin box has the name
        if widget.focusPolicy() != Qt.FocusPolicy.NoFocus and widget.isVisible() and not inner:
            assert widget.accessibleName(), widget
    assert [dialog.format.itemText(i) for i in range(dialog.format.count())] == \
        [label for label, _ in FORMATS]
    assert [dialog.chapters.item(i).text() for i in range(3)] == \
        ["The Start", "The Middle", "The End"]
    # The warm engine has measured its speed: the estimate says how long it takes here.
    assert "of audio" in dialog.estimate.text() and "on this computer" in dialog.estimate.text()
    whole, (audio_s, work_s) = dialog.estimate.text(), dialog.estimated
    assert audio_s > 0 and work_s is not None and work_s > 0
    dialog.speed.setValue(1.5)
    # The audio is 1.5 times shorter, and the text says so (tenths of a second when short).
    assert dialog.estimated[0] == pytest.approx(audio_s / 1.5)
    assert dialog.estimate.text() != whole and dialog.job().transform_id == "speed=1.5"
    dialog.speed.setValue(1.0)
    assert dialog.estimated[0] == pytest.approx(audio_s)
    assert dialog.estimate.text() == whole and dialog.job().transform is None
    dialog.chapters.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.estimate.text() != whole  # fewer chapters, less time
    for row in (1, 2):
        dialog.chapters.item(row).setCheckState(Qt.CheckState.Unchecked)
    assert not dialog.start.isEnabled()
    choose(dialog, "MP3", tmp_path / "x")
    # Any format is one file unless asked for a file per chapter; an M4B is always one.
    assert dialog.split.isEnabled() and not dialog.split.isChecked()
    assert dialog.target.text().endswith(".mp3")
    dialog.split.setChecked(True)
    choose(dialog, "M4B audiobook", tmp_path / "x")
    assert not dialog.split.isEnabled() and not dialog.split.isChecked()
    dialog.reject()


def test_a_short_estimate_shows_tenths_so_it_follows_the_speed():
    assert duration_text(2.4) == "2.4 s" and duration_text(2.4 / 1.5) == "1.6 s"
    assert duration_text(42.4) == "42 s" and duration_text(125) == "2 min 05 s"
    assert duration_text(3 * 3600 + 7 * 60) == "3 h 07 min"


def test_heading_without_text_is_not_an_export(window, qtbot):
    dialog = open_dialog(window, qtbot, "# One\n\nSome text.\n\n# Two\n\n# Three\n\nMore.\n")
    for row in (0, 2):
        dialog.chapters.item(row).setCheckState(Qt.CheckState.Unchecked)
    assert not dialog.start.isEnabled() and "no text" in dialog.estimate.text()
    dialog.reject()


def test_m4b_of_two_of_three_chapters_in_the_background(window, qtbot, out_dir):
    dialog = open_dialog(window, qtbot, BOOK)
    out = out_dir / "book.m4b"
    choose(dialog, "M4B audiobook", out, skip=(1,))
    seen, ticks = [], []
    window.controller.bookProgress.connect(seen.append)
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    with qtbot.waitSignal(window.controller.exportEnded, timeout=60000) as ended:
        qtbot.mouseClick(dialog.start, Qt.MouseButton.LeftButton)
        assert window.controller.exporting and window.status_area.export_progress.isVisible()
        # The window stays usable: typing goes into the text while the export runs.
        qtbot.keyClicks(window.editor, "More")
        assert window.editor.toPlainText().startswith("More# The Start")
    timer.stop()
    assert ended.args == ["finished"]
    assert seen and {p.chapter for p in seen} == {1, 2} and seen[-1].phase == "done"
    assert any(p.seconds_left is not None for p in seen)
    assert len(ticks) > 3  # the event loop ran throughout
    info = probe(out)
    assert audio_stream(info)["codec_name"] == "aac"
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == ["The Start", "The End"]
    assert float(chapters[0]["start_time"]) == pytest.approx(0, abs=0.05)
    assert float(chapters[1]["start_time"]) == pytest.approx(float(chapters[0]["end_time"]),
                                                              abs=0.05)
    assert float(chapters[1]["end_time"]) == pytest.approx(duration(info), abs=0.1)
    assert sorted(p.name for p in out_dir.iterdir()) == ["book.m4b"]


def run_export(window, qtbot, dialog) -> None:
    with qtbot.waitSignal(window.controller.exportEnded, timeout=60000) as ended:
        qtbot.mouseClick(dialog.start, Qt.MouseButton.LeftButton)
    assert ended.args == ["finished"]


def test_mp3_of_the_whole_text_is_one_file_with_chapter_marks(window, qtbot, out_dir):
    dialog = open_dialog(window, qtbot, BOOK)
    out = out_dir / "book.mp3"
    choose(dialog, "MP3", out)
    run_export(window, qtbot, dialog)
    assert sorted(p.name for p in out_dir.iterdir()) == ["book.mp3"]
    info = probe(out)
    assert audio_stream(info)["codec_name"] == "mp3"
    chapters = info["chapters"]  # ID3 CHAP frames
    assert [c["tags"]["title"] for c in chapters] == ["The Start", "The Middle", "The End"]
    assert float(chapters[0]["start_time"]) == 0
    for before, after in zip(chapters, chapters[1:]):
        assert float(after["start_time"]) == pytest.approx(float(before["end_time"]), abs=0.01)
    assert float(chapters[-1]["end_time"]) == pytest.approx(duration(info), abs=0.1)


def test_opus_per_chapter_from_the_window(window, qtbot, out_dir):
    dialog = open_dialog(window, qtbot, BOOK)
    choose(dialog, "Opus", out_dir / "book.opus", skip=(0,))
    dialog.split.setChecked(True)
    run_export(window, qtbot, dialog)
    files = sorted((out_dir / "book").iterdir())
    assert [f.name for f in files] == ["01 - The Middle.opus", "02 - The End.opus"]
    assert [audio_stream(probe(f))["codec_name"] for f in files] == ["opus", "opus"]


def test_an_opened_epub_keeps_its_title_author_and_cover(window, qtbot, tmp_path, out_dir):
    cover = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=green:s=48x64",
                    "-frames:v", "1", str(cover)], check=True, timeout=60)
    epub = make_epub(tmp_path / "lamp.epub", [("The Lamp", ["It was lit. It burned."]),
                                              ("The Dark", ["It went out."])],
                     title="A Book of Lamps", author="Ada Writer", cover=cover.read_bytes())
    with qtbot.waitSignal(window.documentShown, timeout=30000):
        window.open_path(epub)
    qtbot.keyClick(window.editor, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(window, "export_dialog", None) is not None
                    and window.export_dialog.isVisible(), timeout=5000)
    dialog = window.export_dialog
    assert dialog.target.text().endswith("A Book of Lamps.m4b")
    out = out_dir / "lamps.m4b"
    choose(dialog, "M4B audiobook", out)
    run_export(window, qtbot, dialog)
    info = probe(out)
    tags = info["format"]["tags"]
    assert tags["title"] == "A Book of Lamps" and tags["artist"] == "Ada Writer"
    assert [c["tags"]["title"] for c in info["chapters"]] == ["The Lamp", "The Dark"]
    pictures = [s for s in info["streams"] if s["disposition"]["attached_pic"]]
    assert [(p["codec_name"], p["width"], p["height"]) for p in pictures] == [("png", 48, 64)]


def test_cancel_leaves_no_file_and_the_next_run_continues(window, qtbot, out_dir):
    dialog = open_dialog(window, qtbot, long_book(12))
    out = out_dir / "long.m4b"
    choose(dialog, "M4B audiobook", out)
    seen = []
    window.controller.bookProgress.connect(seen.append)
    with qtbot.waitSignal(window.controller.exportEnded, timeout=120000) as ended:
        qtbot.mouseClick(dialog.start, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(p.chapter == 2 for p in seen), timeout=120000)
        qtbot.mouseClick(window.status_area.export_cancel, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert not out.exists()
    assert not window.status_area.export_progress.isVisible()
    assert [p.name for p in out_dir.iterdir() if not p.name.startswith(".")] == []
    # Export again: the first chapter is taken from the work folder, not made again.
    seen.clear()
    dialog = open_dialog(window, qtbot, window.editor.toPlainText())
    choose(dialog, "M4B audiobook", out)
    with qtbot.waitSignal(window.controller.exportEnded, timeout=120000) as ended:
        qtbot.mouseClick(dialog.start, Qt.MouseButton.LeftButton)
    assert ended.args == ["finished"]
    assert 1 not in {p.chapter for p in seen if p.phase == "synthesis"}
    assert [c["tags"]["title"] for c in probe(out)["chapters"]] == ["Part 1", "Part 2",
                                                                    "Part 3"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["long.m4b"]
