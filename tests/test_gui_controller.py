"""The SpeechController without any widget: its state machine and signals, navigation, voices,
speed, the outline, the background-task helper and the error presenter.

The real engine on the tiny model, the real player into the PulseAudio null sink.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soundfile
from PySide6.QtWidgets import QWidget

from voxdesk.engine import SynthesisParams
from voxdesk.gui.controller import SpeechController, State
from voxdesk.gui.errors import ErrorPresenter
from voxdesk.gui.reading import Chapter, outline_of, relocate
from voxdesk.gui.tasks import TaskRunner
from voxdesk.gui.voice_choice import clamp_speed
from voxdesk.settings import Settings

LONG = " ".join(f"This is sentence number {i}." for i in range(1, 21))
BOOK = ("# One\n\nThe first chapter starts. It goes on.\n\n"
        "# Two\n\nThe second chapter starts. It ends.\n\n"
        "# Three\n\nThe last one.")


@pytest.fixture
def controller(qtbot, warm_engine, data_dir):
    c = SpeechController(Settings(params=SynthesisParams(max_len=6, seed=3)),
                         engine=warm_engine)
    states: list[State] = []
    c.stateChanged.connect(states.append)
    c.states = states  # type: ignore[attr-defined]
    yield c
    c.shutdown()


def test_states_and_signals_of_an_utterance(controller, qtbot, sink_recorder):
    assert controller.state is State.READY
    with qtbot.waitSignal(controller.speechStarted, timeout=20000) as started:
        assert controller.speak_text(LONG)
    assert started.args == [20] and controller.state is State.SPEAKING and controller.speaking
    qtbot.waitUntil(lambda: controller.position().sentence >= 1, timeout=20000)
    controller.pause()
    assert controller.state is State.PAUSED and controller.speaking
    controller.resume()
    assert controller.state is State.SPEAKING
    with qtbot.waitSignal(controller.speechEnded, timeout=5000) as ended:
        controller.stop()
    assert ended.args[0].cancelled
    assert controller.state is State.READY and not controller.speaking
    assert controller.states == [State.SPEAKING, State.PAUSED, State.SPEAKING, State.READY]


def test_without_a_model_and_with_a_model_that_fails_to_load(qtbot, data_dir, tmp_path):
    c = SpeechController(Settings())
    failures: list[tuple[str, str]] = []
    c.failed.connect(lambda m, h: failures.append((m, h)))
    assert c.state is State.NO_MODEL
    assert not c.speak_text("Anyone?")
    assert failures[-1][0] == "No model is loaded."
    with qtbot.waitSignal(c.engineFailed, timeout=10000):
        assert c.load_model(str(tmp_path / "nothing"), "cpu")
        assert c.state is State.LOADING and not c.load_model("other", "cpu")
    assert c.state is State.FAILED and "No model directory" in failures[-1][0]
    c.shutdown()


def test_an_exception_inside_the_model_ends_the_utterance_with_an_error(
        controller, warm_engine, qtbot, monkeypatch, sink_recorder):
    generate = warm_engine._generate_segment

    def broken(text, prompt, request):
        for number, samples in enumerate(generate(text, prompt, request)):
            if number == 2:
                raise RuntimeError("CUDA error: an illegal memory access")
            yield samples

    monkeypatch.setattr(warm_engine, "_generate_segment", broken)
    failures: list[tuple[str, str]] = []
    controller.failed.connect(lambda m, h: failures.append((m, h)))
    with qtbot.waitSignal(controller.speechEnded, timeout=20000) as ended:
        controller.speak_text("This sentence breaks the model.")
    assert ended.args == [None]
    assert controller.state is State.READY and not controller.speaking
    (message, hint), = failures
    assert "illegal memory access" in message and hint
    monkeypatch.setattr(warm_engine, "_generate_segment", generate)
    with qtbot.waitSignal(controller.speechEnded, timeout=20000) as ended:  # usable again
        controller.speak_text("Fine again.")
    assert ended.args[0] is not None and not ended.args[0].cancelled


def test_next_and_previous_sentence_restart_from_that_sentence(controller, qtbot,
                                                               sink_recorder):
    document = "Intro words here. " + LONG
    requests: list = []
    controller.requested.connect(requests.append)
    heard: list[tuple[int, int, int]] = []
    controller.sentenceChanged.connect(lambda *args: heard.append(args))
    assert controller.read(document, 0)
    qtbot.waitUntil(lambda: any(i == 0 for i, *_ in heard), timeout=20000)
    assert heard[-1][1:] == (0, len("Intro words here."))
    with qtbot.waitSignal(controller.requested, timeout=5000):
        assert controller.next_sentence()
    assert requests[-1].text == LONG  # the second sentence on
    qtbot.waitUntil(lambda: heard[-1][1] == len("Intro words here. "), timeout=20000)
    with qtbot.waitSignal(controller.requested, timeout=5000):
        assert controller.next_sentence()
    assert requests[-1].text == LONG[LONG.index("This is sentence number 2."):]
    qtbot.waitUntil(lambda: heard[-1][0] == 0, timeout=20000)
    with qtbot.waitSignal(controller.requested, timeout=5000):
        assert controller.previous_sentence()  # before this reading began: the document's
    assert requests[-1].text == LONG
    controller.stop()
    qtbot.waitUntil(lambda: not controller.speaking, timeout=5000)
    assert not controller.next_sentence()  # nothing to move in


def test_chapter_navigation_follows_the_outline(controller, qtbot, sink_recorder):
    controller.set_document_text(BOOK)
    assert [c.title for c in controller.outline] == ["One", "Two", "Three"]
    requests: list = []
    controller.requested.connect(requests.append)
    assert controller.read(BOOK, 0)
    qtbot.waitUntil(lambda: controller.position().sentence >= 1, timeout=20000)
    assert controller.position().chapter == "One"
    with qtbot.waitSignal(controller.requested, timeout=5000):
        assert controller.next_chapter()
    assert requests[-1].text == BOOK[BOOK.index("# Two"):]
    qtbot.waitUntil(lambda: controller.position().chapter == "Two", timeout=20000)
    with qtbot.waitSignal(controller.requested, timeout=5000):
        assert controller.previous_chapter()  # at its first sentence: the chapter before
    assert requests[-1].text == BOOK
    controller.stop()


def test_choosing_a_profile_changes_the_voice_and_settings_of_the_next_utterance(
        qtbot, warm_engine, data_dir, tmp_path):
    from voxdesk.voices.store import VoiceStore

    clip = tmp_path / "ada.wav"
    soundfile.write(clip, (0.2 * np.sin(np.arange(48000) / 10)).astype(np.float32), 48000)
    store = VoiceStore()
    ada = store.add("Ada", clip, "Hello, I am Ada.", SynthesisParams(cfg_value=2.5, max_len=4))
    c = SpeechController(Settings(), engine=warm_engine, voice_store=store)
    voices: list = []
    c.voiceChanged.connect(voices.append)
    assert c.profile_names() == ["Ada"] and c.voice_reference() is None
    assert c.choose_profile("Ada")
    assert voices[-1].kind == "profile" and voices[-1].profile == "Ada"
    assert c.params.cfg_value == 2.5
    assert c.request("Who speaks?").voice == ada.voice_reference()
    assert not c.choose_profile("Nobody")
    assert c.choose_profile("") and c.request("Me.").voice is None
    c.shutdown()


def test_speed_is_clamped_to_its_steps_and_kept_in_the_settings(controller):
    speeds: list[float] = []
    controller.speedChanged.connect(speeds.append)
    controller.set_speed(1.26)
    assert controller.speed == pytest.approx(1.25) and controller.settings.playback.speed == 1.25
    controller.set_speed(9)
    controller.set_speed(float("nan"))
    assert speeds == [pytest.approx(1.25), 3.0, 1.0]
    assert clamp_speed(0.1) == 0.5


def test_outline_from_headings_or_standalone_lines(tmp_path):
    assert outline_of(BOOK) == (Chapter("One", 0), Chapter("Two", BOOK.index("# Two")),
                                Chapter("Three", BOOK.index("# Three")))
    assert outline_of("## Sub ##\ntext") == (Chapter("Sub", 0, 2),)
    plain = "Chapter 1\n\nIt was a dark night.\n\nChapter 2\n\nMorning came."
    assert [c.title for c in outline_of(plain)] == ["Chapter 1", "Chapter 2"]
    assert outline_of("Just one sentence.\n\nAnother one.") == ()
    moved = relocate(outline_of(plain), "New intro.\n\n" + plain)
    assert moved[0].offset == len("New intro.\n\n")


def test_task_runner_delivers_on_the_gui_thread_in_lane_order(qtbot):
    runner = TaskRunner()
    gui = threading.current_thread()
    seen: list[tuple[str, object, bool]] = []
    for n in range(5):
        runner.run(lambda n=n: (n, threading.current_thread().name),
                   lambda r: seen.append(("done", r[0], threading.current_thread() is gui)),
                   lane="one")
    runner.run(lambda: 1 / 0, None,
               lambda exc: seen.append(("error", type(exc).__name__,
                                        threading.current_thread() is gui)))
    qtbot.waitUntil(lambda: len(seen) == 6, timeout=5000)
    assert [s for s in seen if s[0] == "done"] == [("done", n, True) for n in range(5)]
    assert ("error", "ZeroDivisionError", True) in seen
    assert runner.shutdown(1.0)


def test_error_presenter_replaces_a_box_even_after_it_was_deleted(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    errors = ErrorPresenter(parent)
    errors.show("First refusal.", "A hint.")
    first = errors.box
    assert first is not None and first.informativeText() == "A hint."
    first.close()  # deletes itself (WA_DeleteOnClose)
    qtbot.waitUntil(lambda: errors.box is None, timeout=2000)
    errors.show("Second refusal.")  # must not touch the deleted box
    errors.show("Third refusal.")  # replaces the second
    qtbot.waitUntil(lambda: errors.box is not None and errors.box.text() == "Third refusal.")
    errors.show_exception(RuntimeError("boom"))
    assert "boom" in errors.box.text()
