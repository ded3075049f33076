"""The microphone recorder, recording for real: PortAudio (ALSA's pulse plugin) reading the
PulseAudio null sink's monitor while VoxDesk's own Player plays a known tone into that sink."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile

from voxdesk.audio.player import Player
from voxdesk.audio.recorder import Recorder, list_input_devices
from voxdesk.errors import AudioDeviceError
from voxdesk.testing.signals import dominant_frequency, tone
from voxdesk.testing.sink import non_silent_span
from voxdesk.voices import VoiceStore

pytestmark = pytest.mark.audio

TONE_HZ = 880.0
TONE_S = 1.5
TONE_LEVEL = 0.5


@pytest.fixture
def monitor(sink_recorder, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the sink's monitor the default input of new PortAudio streams. libpulse reads
    PULSE_SOURCE when a stream connects, so this works even where the default source is a
    real microphone (a desktop's own PulseAudio)."""
    source = f"{sink_recorder().sink}.monitor"
    monkeypatch.setenv("PULSE_SOURCE", source)
    return source


def start_delivering(recorder: Recorder) -> None:
    """Start, and wait until audio really flows (a sound server may take a moment to connect;
    a tone played before that would be missed, as a person speaking too early would be)."""
    recorder.start()
    deadline = time.monotonic() + 5
    while recorder.seconds < 0.2:
        assert time.monotonic() < deadline, "the recorder never received audio"
        time.sleep(0.01)


def play_watching_the_meter(recorder: Recorder, samples: np.ndarray) -> list[float]:
    """Play ``samples`` into the default sink; the meter's readings meanwhile."""
    player = Player()
    levels: list[float] = []
    try:
        player.begin(48000)
        player.write(samples)
        player.end_of_input()
        deadline = time.monotonic() + 10
        while not player.wait(timeout=0.02):
            levels.append(recorder.level)
            assert time.monotonic() < deadline, "playback never finished"
    finally:
        player.close()
    time.sleep(0.3)  # the sink's last buffers reach the monitor
    return levels


@pytest.mark.parametrize("device", [None, "pulse"], ids=["default input", "input by name"])
def test_recording_contains_the_tone_and_the_meter_follows_it(monitor, device, tmp_path):
    recorder = Recorder(device=device)
    try:
        start_delivering(recorder)
        time.sleep(0.2)
        silent_level = recorder.level
        levels = play_watching_the_meter(recorder, tone(TONE_HZ, TONE_S, level=TONE_LEVEL))
        assert recorder.recording
        samples = recorder.stop()
    finally:
        recorder.close()
    rate = recorder.sample_rate
    assert not recorder.recording and samples.dtype == np.float32 and samples.ndim == 1

    # The meter: at the floor before, at the tone's level (-6 dBFS) while it played. (A little
    # above is fine: on a busy machine a playback hiccup cuts the wave, and the sound server's
    # resampling, 48 kHz sink to the input's rate, overshoots at the cut.)
    assert silent_level < 1e-3
    assert 0.45 < max(levels) < 0.65 and 0.45 < recorder.peak < 0.65
    assert sum(level > 0.4 for level in levels) > len(levels) / 2  # not one stray block

    # The recording: silence, then the whole tone (right pitch and level), then silence.
    start, end = non_silent_span(samples, threshold=0.05)
    assert start > 0.1 * rate and end < samples.size
    # Nothing recorded was dropped (hiccups in playback may only add pauses).
    assert TONE_S - 0.05 < (end - start) / rate < TONE_S + 0.5
    heard = samples[start:end]
    assert dominant_frequency(heard, rate) == pytest.approx(TONE_HZ, abs=3)
    blocks = heard[: heard.size // 960 * 960].reshape(-1, 960)
    loud = blocks[np.abs(blocks).max(axis=1) > 0.25]  # leaving out any pause
    assert float(np.sqrt(np.mean(loud**2))) == pytest.approx(TONE_LEVEL / np.sqrt(2), rel=0.05)

    # Saved, it is a clip the voice store accepts, trimmed to the tone.
    path = recorder.save(tmp_path / "recording.wav")
    info = soundfile.info(path)
    assert (info.samplerate, info.channels, info.frames) == (rate, 1, samples.size)
    profile = VoiceStore(tmp_path / "voices").add("Recorded", path, transcript="A tone.")
    assert TONE_S - 0.3 < profile.duration < TONE_S + 0.6  # the silence around it trimmed


def test_recording_stops_by_itself_at_its_maximum_length(monitor):
    recorder = Recorder(max_seconds=0.5)
    try:
        recorder.start()
        assert recorder.wait(timeout=5), "the recording did not stop at max_seconds"
        assert not recorder.recording
        assert recorder.stop().size == int(0.5 * recorder.sample_rate)
    finally:
        recorder.close()


def test_inputs_are_listed_and_an_unknown_one_is_a_clear_error(monitor):
    names = [name for _, name in list_input_devices()]
    assert "pulse" in names or "default" in names, names
    with pytest.raises(AudioDeviceError, match="No audio input device is called 'no such mic'"):
        Recorder(device="no such mic")
    with pytest.raises(AudioDeviceError, match="no audio input device number 9999"):
        Recorder(device=9999)
