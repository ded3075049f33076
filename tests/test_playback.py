"""Real playback: PortAudio into the PulseAudio null sink, recorded from its monitor."""

import time

import numpy as np
import pytest

from voxdesk.audio.player import Player, PlayerState
from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.errors import AudioDeviceError
from voxdesk.speech import Utterance
from voxdesk.testing.sink import (
    compare_heard,
    non_silent_span,
    normalized_cross_correlation,
)

RATE = 48000


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(
        np.float32
    )


def test_player_plays_exactly_what_it_is_given(sink_recorder):
    signal = noise(1.0)
    player = Player()
    with sink_recorder() as rec:
        player.begin(RATE)
        for start in range(0, signal.size, 7680):  # in model-sized chunks
            player.write(signal[start : start + 7680])
        player.end_of_input()
        assert player.wait(10)
        player.close()
    assert player.state is PlayerState.FINISHED and player.underruns == 0
    # Every sample, in order (a stall may pause it); the sink's 16 bits clip what passes 1.0.
    heard = compare_heard(rec.samples, np.clip(signal, -1.0, 1.0))
    assert heard.garbled_at is None and heard.losses == [], heard
    assert player.times.first_sample_handed is not None
    assert player.times.first_sample_audible >= player.times.first_sample_handed


def test_spoken_utterance_reaches_the_sink(engine, sink_recorder):
    request = SynthesisRequest("Hello there. How are you?", params=SynthesisParams(
        max_len=8, seed=3, sentence_pause=0))  # model-sized pieces only (joins: test_joins)
    expected = np.concatenate([c.samples for c in engine.synthesize(request)])
    player = Player()
    with sink_recorder() as rec:
        utterance = Utterance(engine, player, request).start()
        assert utterance.wait(30)
        player.close()
    heard = compare_heard(rec.samples, expected)
    assert heard.garbled_at is None and heard.losses == [], heard
    metrics = utterance.metrics
    assert metrics.chunks == 16 and metrics.audio_duration == pytest.approx(16 * 0.16)
    assert 0 < metrics.first_chunk_latency <= metrics.first_audible_latency
    assert metrics.first_audible_latency < metrics.synthesis_time


def test_stop_silences_within_100_ms(sink_recorder):
    player = Player()
    with sink_recorder() as rec:
        player.begin(RATE)
        player.write(noise(5.0))
        deadline = time.monotonic() + 5
        while player.times.first_sample_handed is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        stop_called = time.monotonic()
        player.stop()
        assert player.state is PlayerState.STOPPED and player.wait(0.1)
        time.sleep(0.5)
        player.close()
    start, end = non_silent_span(rec.samples)
    heard = (end - start) / RATE
    played_before_stop = stop_called - player.times.first_sample_handed
    assert heard > 0.3
    assert heard - played_before_stop < 0.1, (heard, played_before_stop)


def test_pause_holds_the_audio_and_resume_continues(sink_recorder):
    signal = noise(1.0, seed=1)
    player = Player()
    with sink_recorder() as rec:
        player.begin(RATE)
        player.write(signal)
        player.end_of_input()
        time.sleep(0.3)
        player.pause()
        frames_at_pause = player.frames_played
        time.sleep(0.6)
        assert player.frames_played == frames_at_pause and not player.wait(0)
        player.resume()
        assert player.wait(5)
        player.close()
    assert player.frames_played == signal.size
    # The whole signal was heard, with a silence of about 0.6 s in the middle of it.
    start, end = non_silent_span(rec.samples)
    assert (end - start) / RATE == pytest.approx(1.6, abs=0.15)
    correlation, _ = normalized_cross_correlation(rec.samples, signal[-12000:])
    assert correlation > 0.95


def test_late_chunks_are_counted_as_underruns_and_prebuffered(sink_recorder):
    player = Player(prebuffer_s=0.1)
    with sink_recorder():
        player.begin(RATE)
        player.write(noise(0.2))
        time.sleep(0.5)  # the producer is late: the queue runs dry
        player.write(noise(0.2, seed=2))
        player.end_of_input()
        assert player.wait(5)
        player.close()
    assert player.underruns == 1 and player.frames_played == int(0.4 * RATE)


def test_a_chunk_the_guard_lets_through_plays_without_the_pre_buffer(sink_recorder, wait_for):
    """The real-time guard has already held back what it must: its refill figure replaces the
    fixed pre-buffer, so the first sound is not delayed by it (without a guard it still is)."""
    chunk = noise(0.16)
    plain, guarded = Player(prebuffer_s=1.0), Player(prebuffer_s=1.0)
    with sink_recorder():
        plain.begin(RATE)
        plain.write(chunk)
        guarded.begin(RATE)
        guarded.rebuffer_s = 0.16  # what RealtimeGuard.needed_buffer_s says for a fast model
        guarded.write(chunk)
        assert wait_for(lambda: guarded.times.first_sample_handed is not None, 5)
        assert plain.times.first_sample_handed is None  # still filling its 1 s pre-buffer
        for player in (plain, guarded):
            player.end_of_input()
            assert player.wait(5)
            player.close()
    assert plain.frames_played == guarded.frames_played == chunk.size


def test_unknown_output_device_is_a_clear_error():
    with pytest.raises(AudioDeviceError, match="No audio output device is called"):
        Player(device="no such speaker")
    with pytest.raises(AudioDeviceError, match="no audio output device number"):
        Player(device=999)
