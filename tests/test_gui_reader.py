"""The window as a reader, driven from the keyboard and mouse under Xvfb: the outline, the
transport bar (navigation, speed), the Advanced section, a voice change heard in the null sink,
and a model that raises in the middle of an utterance.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import Qt
from window_helpers import activate, highlighted, open_window

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.gui.controller import State
from voxdesk.gui.main_window import MainWindow
from voxdesk.settings import Settings
from voxdesk.testing.sink import (
    find_pieces_in_order,
    non_silent_span,
    normalized_cross_correlation,
)

pytestmark = pytest.mark.gui

LONG = " ".join(f"This is sentence number {i}." for i in range(1, 31))
BOOK = ("# Arrival\n\nThe train came in late. Nobody waited.\n\n"
        "# The town\n\nThe streets were empty. A dog barked.\n\n"
        "# Leaving\n\nShe left at dawn.")


def make_window(qtbot, engine, settings: Settings | None = None, store=None) -> MainWindow:
    return open_window(qtbot, engine, settings, store, max_steps=6, seed=3)


@pytest.fixture
def window(qtbot, warm_engine, data_dir):
    return make_window(qtbot, warm_engine)


def test_next_and_previous_sentence_from_the_keyboard(window, qtbot, sink_recorder):
    window.editor.setPlainText(LONG)
    with sink_recorder():
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "This is sentence number 1.", timeout=20000)
        assert window.transport.position.text().startswith("Sentence 1 of 30")
        assert "left" in window.transport.position.text()
        qtbot.keyClick(window.editor, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "This is sentence number 2.", timeout=20000)
        qtbot.keyClick(window.editor, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "This is sentence number 3.", timeout=20000)
        qtbot.keyClick(window.editor, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "This is sentence number 2.", timeout=20000)
        assert window.editor.toPlainText() == LONG  # the keys moved the reading, not the text
        with qtbot.waitSignal(window.controller.speechEnded, timeout=5000):
            qtbot.keyClick(window.editor, Qt.Key.Key_Escape)
    assert highlighted(window) == "" and window.transport.position.text() == ""


PARAGRAPHS = ("First paragraph opens here. It goes on a while. It ends now.\n\n"
              "Second paragraph begins. It has two sentences.\n\n"
              "Third paragraph, the last one.")


def test_next_and_previous_paragraph_from_the_keyboard(window, qtbot, sink_recorder):
    window.editor.setPlainText(PARAGRAPHS)
    controller = window.controller
    menu = [a.objectName() for a in window.menuBar().actions()[1].menu().actions()]
    assert menu.index("previous_paragraph") == menu.index("next_sentence") + 1
    action = window.actions_by_name["next_paragraph"]
    assert action.shortcut().toString() == "Alt+Down" and action.text() == "Ne&xt paragraph"
    assert not action.isEnabled()  # nothing to move in while idle
    with sink_recorder():
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "First paragraph opens here.",
                        timeout=20000)
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            qtbot.keyClick(window.editor, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
        assert asked.args[0].text == PARAGRAPHS[PARAGRAPHS.index("Second"):]
        qtbot.waitUntil(lambda: highlighted(window) == "Second paragraph begins.", timeout=20000)
        # From a paragraph's first sentence, back goes to the paragraph before.
        with qtbot.waitSignal(controller.requested, timeout=5000) as asked:
            qtbot.keyClick(window.editor, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
        assert asked.args[0].text == PARAGRAPHS
        qtbot.waitUntil(lambda: highlighted(window) == "First paragraph opens here.",
                        timeout=20000)
        assert window.editor.toPlainText() == PARAGRAPHS
        with qtbot.waitSignal(controller.speechEnded, timeout=5000):
            qtbot.keyClick(window.editor, Qt.Key.Key_Escape)


def test_outline_lists_the_chapters_reads_from_one_and_can_be_hidden(
        qtbot, warm_engine, data_dir, tmp_path, sink_recorder):
    book = tmp_path / "book.md"
    book.write_text(BOOK, encoding="utf-8")
    window = make_window(qtbot, warm_engine)
    assert window.open_text_file(book)
    assert window.outline_panel.titles() == ["Arrival", "The town", "Leaving"]
    outline = window.outline_panel.list
    with sink_recorder():
        outline.setFocus()
        outline.setCurrentRow(1)
        qtbot.keyClick(outline, Qt.Key.Key_Return)  # Enter reads from that chapter
        qtbot.waitUntil(lambda: highlighted(window) == "The town", timeout=20000)
        assert "The town" in window.transport.position.text()
        assert outline.item(1).font().bold() and not outline.item(0).font().bold()
        qtbot.keyClick(window.editor, Qt.Key.Key_PageDown, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: highlighted(window) == "Leaving", timeout=20000)
        window.controller.stop()
    qtbot.keyClick(window.editor, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert not window.outline_panel.isVisible()
    window.close()
    assert Settings.load().window.outline_visible is False
    # Typing keeps the outline in step with the text.
    again = make_window(qtbot, warm_engine, Settings.load())
    assert not again.outline_panel.isVisible()
    again.editor.setPlainText("# Only heading\n\nText.")
    qtbot.waitUntil(lambda: again.controller.outline != (), timeout=3000)
    assert [c.title for c in again.controller.outline] == ["Only heading"]


def test_speed_slider_and_shortcuts_set_the_speed_that_is_kept(qtbot, warm_engine, data_dir):
    window = make_window(qtbot, warm_engine)
    slider = window.transport.speed
    assert window.controller.speed == 1.0 and window.transport.speed_value.text() == "1.00×"
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert window.controller.speed == pytest.approx(1.05)
    assert window.transport.speed_value.text() == "1.05×"
    activate(qtbot, window)
    qtbot.keyClick(window.editor, "]", Qt.KeyboardModifier.ControlModifier)
    assert window.controller.speed == pytest.approx(1.10)
    qtbot.keyClick(slider, Qt.Key.Key_End)
    assert window.controller.speed == pytest.approx(3.0)
    window.close()
    assert Settings.load().playback.speed == pytest.approx(3.0)
    again = make_window(qtbot, warm_engine, Settings.load())
    assert again.transport.speed_value.text() == "3.00×" and again.controller.speed == 3.0


def test_advanced_section_is_collapsed_by_default_and_speaks_plainly(
        qtbot, warm_engine, data_dir):
    window = make_window(qtbot, warm_engine)
    assert not window.params_panel.isVisible() and not window.voice_panel.isVisible()
    assert window.voice_panel.combo.isVisible()  # the voice picker stays in the transport bar
    qtbot.mouseClick(window.advanced.header, Qt.MouseButton.LeftButton)
    assert window.params_panel.isVisible() and window.voice_panel.prompt.isVisible()
    labels = [window.params_panel.layout().labelForField(w).text().replace("&", "")
              for w in (window.params_panel.steps, window.params_panel.cfg,
                        window.params_panel.min_len, window.params_panel.max_len)]
    assert labels == ["Quality:", "Stay close to the voice:", "Minimum length:",
                      "Maximum length:"]
    assert "slower and cleaner" in window.params_panel.steps.toolTip()
    assert window.params_panel.max_len.suffix() == " s"
    window.params_panel.max_len.setValue(1.6)
    assert window.controller.params.max_len == 10  # seconds on screen, steps for the model
    activate(qtbot, window)
    qtbot.keyClick(window.editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert not window.params_panel.isVisible()
    qtbot.keyClick(window.editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    window.close()
    saved = Settings.load()
    assert saved.window.advanced_open and saved.params.max_len == 10
    again = make_window(qtbot, warm_engine, Settings.load())
    assert again.params_panel.isVisible()


def test_a_voice_chosen_in_the_picker_is_the_voice_heard(qtbot, warm_engine, data_dir, tmp_path,
                                                        sink_recorder):
    from voxdesk.voices.store import VoiceStore

    clip = tmp_path / "ada.wav"
    soundfile.write(clip, (0.2 * np.sin(np.arange(48000) / 9)).astype(np.float32), 48000)
    store = VoiceStore()
    ada = store.add("Ada", clip, "Hello, I am Ada.", SynthesisParams(max_len=5, seed=11))
    window = make_window(qtbot, warm_engine, store=store)
    text = "Spoken by Ada."
    window.editor.setPlainText(text)
    combo = window.voice_panel.combo
    combo.setFocus()
    combo.setCurrentIndex(combo.findText("Profile: Ada"))
    combo.activated.emit(combo.currentIndex())  # as a person picking it
    assert window.controller.voice.profile == "Ada"
    expected = np.concatenate([c.samples for c in warm_engine.synthesize(
        SynthesisRequest(text, ada.voice_reference(), ada.params))])
    default = np.concatenate([c.samples for c in warm_engine.synthesize(
        SynthesisRequest(text, None, ada.params))])
    requests: list = []
    window.controller.requested.connect(requests.append)
    with sink_recorder() as rec:
        with qtbot.waitSignal(window.controller.speechEnded, timeout=30000) as ended:
            window.play()

        def recorded_all() -> bool:  # the sound has ended: half a second of silence since
            samples = rec.so_far()
            start, end = non_silent_span(samples)
            return end > start and samples.size - end > 24000

        qtbot.waitUntil(recorded_all, timeout=5000)
        qtbot.wait(800)  # the sound server's last buffers
    assert not ended.args[0].cancelled and ended.args[0].voice_cache_hit  # Ada's, encoded
    (request,) = requests
    assert request.voice == ada.voice_reference() and request.params == ada.params
    scores = find_pieces_in_order(rec.samples, expected)
    assert min(scores) > 0.9, scores
    # The tiny random model barely listens to the voice (its output in Ada's voice and in its
    # own differ by < 1 %): what was heard is closer, sample by sample, to Ada's.
    _, offset = normalized_cross_correlation(rec.samples, expected)
    heard = rec.samples[offset:offset + expected.size]
    assert np.abs(heard - expected).mean() < np.abs(heard - default).mean()


def test_an_exception_in_the_model_leaves_the_window_idle_with_an_error(
        window, warm_engine, qtbot, monkeypatch, sink_recorder):
    generate = warm_engine._generate_segment

    def broken(text, prompt, request):
        yield from generate(text, prompt, request)
        raise RuntimeError("the model fell over")

    monkeypatch.setattr(warm_engine, "_generate_segment", broken)
    window.editor.setPlainText("First sentence. Second sentence.")
    with qtbot.waitSignal(window.controller.speechEnded, timeout=20000) as ended:
        window.play()
    assert ended.args == [None]
    qtbot.waitUntil(lambda: window.message_box is not None and window.message_box.isVisible())
    assert "the model fell over" in window.message_box.text()
    assert window.controller.state is State.READY
    assert window.play_button.accessibleName() == "Play" and not window.stop_button.isEnabled()
    assert window.editor.highlighted is None
