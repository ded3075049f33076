"""Speed: the time-stretcher itself, and speed changes heard through the real player."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from voxdesk.audio.player import Player
from voxdesk.audio.tempo import (
    SPEED_MAX,
    SPEED_MIN,
    TimeStretch,
    stretch_chunks,
    validate_speed,
)
from voxdesk.errors import InvalidRequestError
from voxdesk.testing.sink import non_silent_span

RATE = 48000
CHUNK = 7680  # what the model hands over per step (160 ms at 48 kHz)


def tone(seconds: float, frequency: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray) -> float:
    """The strongest frequency, to a fraction of a bin (parabolic interpolation)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    peak = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
    return (peak + 0.5 * (a - c) / (a - 2 * b + c)) * RATE / samples.size


def in_chunks(samples: np.ndarray, size: int = CHUNK) -> list[np.ndarray]:
    return [samples[i : i + size] for i in range(0, samples.size, size)]


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.5, 2.0, 3.0])
def test_stretch_changes_duration_and_keeps_pitch(speed):
    source = tone(4.0)
    # The path export uses: the model's chunks, stretched as they come.
    out = np.concatenate(list(stretch_chunks(in_chunks(source), RATE, speed)))
    assert out.size == pytest.approx(source.size / speed, rel=0.03)
    middle = out[out.size // 4 : 3 * out.size // 4]
    assert dominant_frequency(middle) == pytest.approx(220.0, rel=0.02)
    assert np.abs(middle).max() == pytest.approx(0.4, rel=0.1)  # no fading, no clipping


def test_speed_one_passes_the_chunks_through_untouched():
    chunks = in_chunks(tone(1.0))
    assert all(a is b for a, b in zip(stretch_chunks(chunks, RATE, 1.0), chunks))


def test_speed_changes_between_calls_without_starting_again():
    stretch = TimeStretch(RATE, 1.0)
    source = tone(4.0)
    first = np.concatenate([stretch.process(c) for c in in_chunks(source[: 2 * RATE])])
    stretch.speed = 2.0
    second = np.concatenate([stretch.process(c) for c in in_chunks(source[2 * RATE :])])
    rest = stretch.flush()
    total = first.size + second.size + rest.size
    assert total == pytest.approx(2 * RATE + RATE, rel=0.03)  # 2 s at 1x + 2 s at 2x
    assert dominant_frequency(second[RATE // 4 :]) == pytest.approx(220.0, rel=0.02)
    # After flush it is ready for a new stream.
    again = np.concatenate([stretch.process(c) for c in in_chunks(tone(1.0))] + [stretch.flush()])
    assert again.size == pytest.approx(RATE / 2, rel=0.03)


def test_first_output_comes_within_one_window():
    """The stretcher needs a window of input before its first output: at most ~70 ms, less than
    one model chunk, so the first chunk already gives sound to play."""
    for speed in (0.5, 1.5, 2.0, 3.0):
        stretch = TimeStretch(RATE, speed)
        out = stretch.process(tone(CHUNK / RATE))
        assert out.size >= 0.5 * CHUNK / speed, (speed, out.size)


@pytest.mark.parametrize("bad", [0.0, 0.45, 3.05, 10, -1.5, float("nan"), float("inf"), "1.5",
                                 None, True])
def test_bad_speeds_are_refused_with_a_hint(bad):
    with pytest.raises(InvalidRequestError) as error:
        validate_speed(bad)
    assert str(SPEED_MIN) in error.value.hint and str(SPEED_MAX) in error.value.hint


def test_speeds_are_rounded_to_steps_of_0_05():
    assert validate_speed(1.23) == 1.25
    assert validate_speed(0.5) == 0.5 and validate_speed(3) == 3.0
    assert validate_speed(np.float32(1.5)) == 1.5


# -- through the player, heard in the null sink --------------------------------------------------

CHIRP_F0, CHIRP_SLOPE = 300.0, 600.0  # Hz, Hz per second of source


def chirp(seconds: float) -> np.ndarray:
    """A rising tone: its frequency tells which instant of the source is being heard, so the
    recording shows the speed (source seconds per heard second) at every moment."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * (CHIRP_F0 * t + CHIRP_SLOPE * t**2 / 2))).astype(np.float32)


def source_time_heard(recording: np.ndarray, hop: int = 240, window: int = 2048
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(heard time, source time) every ``hop`` samples of the recording's loud part."""
    times, sources = [], []
    for start in range(0, recording.size - window, hop):
        piece = recording[start : start + window]
        if np.abs(piece).max() < 0.05:
            continue
        times.append((start + window / 2) / RATE)
        sources.append((dominant_frequency(piece) - CHIRP_F0) / CHIRP_SLOPE)
    return np.array(times), np.array(sources)


def without_gaps(recording: np.ndarray, at: float, min_gap: int = 96
                 ) -> tuple[np.ndarray, float]:
    """``recording`` without its runs of digital silence (>= 2 ms), and the time ``at`` on its
    clock moved back by the silence before it."""
    silent = np.concatenate([[False], recording == 0.0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    keep = np.ones(recording.size, dtype=bool)
    removed_before = 0
    for begin, stop in zip(edges[::2], edges[1::2]):
        if stop - begin >= min_gap:
            keep[begin:stop] = False
            if begin < at * RATE:
                removed_before += min(stop, int(at * RATE)) - begin
    return recording[keep], at - removed_before / RATE


def test_speed_change_while_playing_is_heard_within_200_ms(sink_recorder):
    player = Player()
    with sink_recorder() as rec:
        player.begin(RATE)
        player.write(chirp(4.0))
        player.end_of_input()
        deadline = time.monotonic() + 5
        while player.times.first_sample_handed is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(1.0)
        changed_at = time.monotonic()
        player.set_speed(2.0)
        assert player.wait(10)
        player.close()
    assert player.speed == 2.0
    start, end = non_silent_span(rec.samples)
    # Where the change was asked for, on the recording's clock: the first sample heard is the
    # first sample handed plus the device's latency (times.first_sample_audible).
    asked = changed_at - player.times.first_sample_audible
    # On a loaded machine the sound server may miss a callback (a device underflow): it plays
    # silence, which delays all that follows. Cut those gaps out, and out of the clock.
    recording, asked = without_gaps(rec.samples[start:end], asked)
    # Until then at 1x, the rest of the 4 s at 2x.
    assert recording.size / RATE == pytest.approx(asked + (4.0 - asked) / 2, abs=0.1)
    heard, source = source_time_heard(recording)
    # Source time runs at 1 s per heard second until the change is heard, then at 2: the
    # change is heard where the source runs measurably (20 ms) ahead of the 1x line.
    offset = np.median((source - heard)[heard < asked - 0.1])
    ahead = np.flatnonzero((heard > 0.2) & (source - heard - offset > 0.02))
    assert ahead.size, "the speed never changed"
    heard_at = heard[ahead[0]]
    assert -0.05 < heard_at - asked < 0.2, (asked, heard_at, player.device_underflows)
    after = heard > heard_at + 0.3
    slope = np.polyfit(heard[after], source[after], 1)[0]
    assert slope == pytest.approx(2.0, rel=0.05)


# -- export --------------------------------------------------------------------------------------

EXPORT_TEXT = "Hello from the command line. This is a second sentence."
FAST = ["--max-len", "6", "--seed", "11", "--device", "cpu"]


def test_export_at_1_5x_lasts_two_thirds_of_1x(cli, tiny_model_dir, tmp_path):
    import soundfile

    from voxdesk.engine import SynthesisParams

    normal, faster = tmp_path / "1x.wav", tmp_path / "1.5x.wav"
    for path, speed in ((normal, []), (faster, ["--speed", "1.5"])):
        result = cli("export", EXPORT_TEXT, "-o", str(path), "--model", str(tiny_model_dir),
                     *FAST, *speed, timeout=300)
        assert result.returncode == 0, result.stderr
    pause = int(SynthesisParams().sentence_pause * 48000)  # between the two sentences
    assert soundfile.info(normal).frames == 12 * CHUNK + pause  # two sentences, 6 steps each
    assert soundfile.info(faster).frames == pytest.approx((12 * CHUNK + pause) / 1.5, rel=0.03)


def test_a_bad_speed_is_refused_before_the_model_loads(cli, tiny_model_dir, tmp_path):
    out = tmp_path / "never.wav"
    for command in ("export", "speak"):
        extra = ["-o", str(out)] if command == "export" else ["--standalone"]
        result = cli(command, EXPORT_TEXT, *extra, "--model", str(tiny_model_dir),
                     "--speed", "3.5")
        assert result.returncode == 2 and "speed" in result.stderr.lower(), result.stderr
        assert "Loading" not in result.stderr
    assert not out.exists()


# -- positions and metrics at speed ----------------------------------------------------------------


def test_the_highlight_follows_the_sentence_heard_at_2x(sink_recorder):
    """Eight 'sentences' of 0.25 s at 2x: each is heard for 125 ms, and mark_at_playhead (the
    window's highlight) names the one being heard, device latency included."""
    player = Player(speed=2.0)
    piece = tone(0.25)
    changes: list[tuple[float, object]] = []
    with sink_recorder():
        player.begin(RATE)
        for index in range(8):
            player.start_phrase()
            player.write(piece, mark=index)
        player.end_of_input()
        while not player.wait(0.005):
            mark = player.mark_at_playhead()
            if player.times.first_sample_audible is not None and (
                    not changes or changes[-1][1] != mark):
                changes.append((time.monotonic(), mark))
        player.close()
    assert [mark for _, mark in changes] == list(range(8))
    # Sentence k is heard from k x 125 ms at 2x (k x 250 ms of the model's audio): the highlight
    # moves then, give or take the device latency's estimate (100 ms). A busy machine may only
    # delay when this thread sees a change, never make it early; the median says where it is.
    times = np.array([at for at, _ in changes[1:]])  # (the first: when polling began)
    offsets = times - player.times.first_sample_audible - 0.125 * np.arange(1, 8)
    assert offsets.min() > -0.1 and abs(np.median(offsets)) < 0.1, offsets


def test_an_utterance_at_1_5x_is_heard_in_two_thirds_of_the_time(engine, sink_recorder):
    from voxdesk.engine import SynthesisParams, SynthesisRequest
    from voxdesk.speech import Utterance

    request = SynthesisRequest("Hello there. How are you?",
                               params=SynthesisParams(max_len=8, seed=3))
    player = Player()
    with sink_recorder() as rec:
        utterance = Utterance(engine, player, request)
        assert utterance.set_speed(1.5) == 1.5 and utterance.speed == 1.5
        utterance.start()
        assert utterance.wait(60)
        player.close()
    metrics = utterance.metrics
    # the model's audio, as made, with the pause between the two sentences
    assert metrics.audio_duration == pytest.approx(16 * 0.16 + SynthesisParams().sentence_pause)
    assert 0 < metrics.first_chunk_latency <= metrics.first_audible_latency
    start, end = non_silent_span(rec.samples)
    recording, _ = without_gaps(rec.samples[start:end], 0.0)
    assert recording.size / RATE == pytest.approx(16 * 0.16 / 1.5, rel=0.05)


def test_speed_is_a_saved_setting_and_a_bad_one_falls_back_to_1x(tmp_path):
    from voxdesk.settings import Settings

    path = tmp_path / "settings.json"
    settings = Settings()
    settings.playback.speed = 1.75
    settings.playback.when_slow = "keep-up"
    settings.save(path)
    assert Settings.load(path).playback.speed == 1.75
    for bad in (7, -1, 0.1, "fast", None, True):
        data = json.loads(path.read_text())
        data["playback"]["speed"] = bad
        path.write_text(json.dumps(data))
        loaded = Settings.load(path).playback
        assert loaded.speed == 1.0 and loaded.when_slow == "keep-up", bad
