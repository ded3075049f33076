"""Natural pauses: each sentence's own silence is trimmed and sentences are joined with the
configured pause (longer between paragraphs), measured in the samples of the engine stream, of
an export and of what reached the PulseAudio null sink. Typographic punctuation is normalised
before the model sees it, not in the text segments point into."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from audio_helpers import export_chunks

from voxdesk.audio.player import Player
from voxdesk.engine import SynthesisParams, SynthesisRequest, split_text
from voxdesk.speech import Utterance

RATE = 48000
STEP = 7680
TEXT = "First sentence. Second one.\n\nA new paragraph."


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


#: What the "model" says for every sentence: random-length silence around a tone with a
#: pause inside it (which must survive).
SENTENCE = np.concatenate([silence(0.35), tone(0.4), silence(0.1), tone(0.3), silence(0.55)])


@pytest.fixture
def known_audio_engine(engine, monkeypatch):
    """The engine with the model's audio replaced by known silence and tone, in model-sized
    chunks (everything after the model - joins, stream, player, export - is the real one)."""

    def generate(text, prompt, request):
        for start in range(0, SENTENCE.size, STEP):
            yield SENTENCE[start:start + STEP].copy()

    monkeypatch.setattr(engine, "_generate_segment", generate)
    monkeypatch.setattr(engine, "house_voices", None)  # its prompt would be made by the fake
    return engine


def gaps(samples: np.ndarray, threshold: float = 0.01, shortest: float = 0.05) -> list[float]:
    """The silent stretches between sounds, in seconds (zero crossings of the tone excluded)."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    spaces = np.diff(loud)
    return [round(float(s) / RATE, 3) for s in spaces[spaces > shortest * RATE]]


def request(**params) -> SynthesisRequest:
    return SynthesisRequest(TEXT, params=SynthesisParams(**params))


def test_sentences_join_with_the_configured_pauses(known_audio_engine):
    stream = known_audio_engine.synthesize(request())
    audio = np.concatenate([c.samples for c in stream])
    # inside each sentence 0.1 s stays; between them 0.25 s, before the paragraph 0.6 s
    assert gaps(audio) == pytest.approx([0.1, 0.25, 0.1, 0.6, 0.1], abs=0.002)
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    assert loud[0] / RATE < 0.035 and (audio.size - loud[-1]) / RATE < 0.035  # ends trimmed
    assert [s.paragraph_start for s in stream.segments] == [True, False, True]


def test_pauses_are_a_setting(known_audio_engine):
    stream = known_audio_engine.synthesize(request(sentence_pause=0.5, paragraph_pause=1.2))
    audio = np.concatenate([c.samples for c in stream])
    assert gaps(audio) == pytest.approx([0.1, 0.5, 0.1, 1.2, 0.1], abs=0.002)


def test_export_has_the_same_joins(known_audio_engine, tmp_path):
    out = tmp_path / "joined.wav"
    stream = known_audio_engine.synthesize(request())
    export_chunks((c.samples for c in stream), out, RATE)
    written, rate = soundfile.read(out, dtype="float32")
    assert rate == RATE
    assert gaps(written) == pytest.approx([0.1, 0.25, 0.1, 0.6, 0.1], abs=0.002)


def test_what_is_heard_has_the_same_joins(known_audio_engine, sink_recorder):
    expected = [0.1, 0.25, 0.1, 0.6, 0.1]
    heard: list[list[float]] = []
    for _attempt in range(3):  # a loaded machine can drop recorded frames: the same, again
        player = Player()
        with sink_recorder() as rec:
            utterance = Utterance(known_audio_engine, player, request()).start()
            assert utterance.wait(30)
            player.close()
        assert player.underruns == 0
        # (the recording may begin with a click of the sink starting: only our gaps count)
        heard.append(gaps(rec.samples)[-5:])
        if heard[-1] == pytest.approx(expected, abs=0.012):
            break
    assert heard[-1] == pytest.approx(expected, abs=0.012), heard


def test_segmentation_marks_paragraph_starts():
    segments = split_text("One. Two.\n\nThree.\nFour.\r\n  \r\nFive.")
    assert [(s.text, s.paragraph_start) for s in segments] == [
        ("One.", True), ("Two.", False), ("Three.", True), ("Four.", False), ("Five.", True)]


def test_typographic_punctuation_is_normalised_for_the_model_only(engine, monkeypatch):
    seen: list[str] = []
    original = engine._model.tts._generate_with_prompt_cache

    def spy(*args, **kwargs):
        seen.append(kwargs["target_text"])
        yield from original(*args, **kwargs)

    monkeypatch.setattr(engine._model.tts, "_generate_with_prompt_cache", spy)
    text = "“Quoted”\u00a0words — and it’s fine\u200b…"
    stream = engine.synthesize(SynthesisRequest(text, params=SynthesisParams(max_len=2)))
    list(stream)
    assert seen[-1] == '"Quoted" words, and it\'s fine...'  # (before it: the house voice's)
    segment = stream.segments[0]
    assert text[segment.start:segment.end] == segment.text == text  # offsets: the original
