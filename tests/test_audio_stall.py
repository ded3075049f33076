"""An app held up mid-utterance pauses the speech and loses none of it (Player._note_a_stall).

The player's callback is Python: while the interpreter is held up (a long collection, a busy
machine) it cannot run and the sound server runs dry. What the server is given first after that
is lost (through ALSA's pulse plugin: about one device buffer, 20-40 ms of speech), so the player
gives it silence first. The hold-up here is real: for 0.4 s the interpreter keeps the GIL.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from voxdesk.testing.sink import compare_heard, zero_runs

RATE = 48000
PLAY = textwrap.dedent("""
    import sys, time
    import numpy as np
    from voxdesk.audio.player import Player

    audio = np.load(sys.argv[1])
    stall_at = int(sys.argv[2])
    player = Player()
    player.begin(48000)
    player.write(audio)  # at once: a clip, a cached sentence
    player.end_of_input()
    if stall_at >= 0:
        while player.frames_played < stall_at:
            time.sleep(0.005)
        sys.setswitchinterval(5.0)  # no other thread gets the GIL until this loop ends
        end = time.perf_counter() + 0.4
        while time.perf_counter() < end:
            pass
        sys.setswitchinterval(0.005)
    assert player.wait(10)
    player.close()
    print(player.stalls)
""")


def _longest_silence(samples: np.ndarray) -> int:
    return max((end - begin for begin, end in zero_runs(samples)), default=0)


def _play(tmp_path, sink_recorder, stall_at: int) -> tuple[np.ndarray, np.ndarray, int]:
    audio = (np.random.default_rng(7).standard_normal(RATE * 3 // 2) * 0.2).astype(np.float32)
    np.save(tmp_path / "audio.npy", audio)
    with sink_recorder() as rec:
        result = subprocess.run([sys.executable, "-c", PLAY, str(tmp_path / "audio.npy"),
                                 str(stall_at)], capture_output=True, text=True, timeout=60,
                                env=os.environ)
    assert result.returncode == 0, result.stderr
    loud = np.flatnonzero(rec.samples)
    return audio, rec.samples[loud[0] : loud[-1] + 1], int(result.stdout.split()[-1])


@pytest.mark.audio
def test_a_stall_mid_utterance_is_a_pause_and_loses_nothing(tmp_path, sink_recorder):
    audio, heard, stalls = _play(tmp_path, sink_recorder, stall_at=RATE // 2)
    assert _longest_silence(heard) > 0.2 * RATE  # the stall did starve the sound server
    assert stalls >= 1
    result = compare_heard(heard, audio)
    assert result.garbled_at is None and result.losses == [], result


@pytest.mark.audio
def test_audio_given_as_the_stream_opens_is_heard_from_its_first_sample(tmp_path, sink_recorder):
    audio, heard, _ = _play(tmp_path, sink_recorder, stall_at=-1)
    result = compare_heard(heard, audio)
    assert result.garbled_at is None and result.losses == [], result
