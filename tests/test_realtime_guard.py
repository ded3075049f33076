"""The real-time guard: its arithmetic, its decisions, and what a listener gets with it on/off."""

import time

import numpy as np
import pytest

from voxdesk.audio.player import Player
from voxdesk.engine import AudioChunk, Segment, SynthesisParams, SynthesisRequest
from voxdesk.engine.realtime_guard import (
    FIXED_SHARE,
    RealtimeGuard,
    RealtimePolicy,
    SpeedModel,
    chunks_to_buffer,
)
from voxdesk.speech import Utterance

CHUNK = 7680  # samples per model step at 48 kHz: 160 ms
CHUNK_S = 0.16


def release_point(steps: int, ratio: float) -> int:
    """How many chunks of a sentence the guard waits for before letting it play."""
    for generated in range(1, steps + 1):
        if generated >= chunks_to_buffer(steps - generated, ratio):
            return generated
    return steps


def plays_without_gap(steps: int, ratio: float, start_after: int) -> bool:
    """Chunk k (1-based) exists after k*ratio chunk-durations; playback starts when
    ``start_after`` chunks exist and needs chunk k at start + (k - 1)."""
    start = start_after * ratio
    return all(k * ratio <= start + (k - 1) + 1e-9 for k in range(1, steps + 1))


@pytest.mark.parametrize("ratio", [0.5, 1.0, 1.3, 2.0, 3.7, 10.2])
@pytest.mark.parametrize("steps", [1, 2, 8, 25])
def test_the_hold_is_just_enough_for_a_gapless_sentence(steps, ratio):
    held = release_point(steps, ratio)
    assert plays_without_gap(steps, ratio, held)
    if held > 1:  # one chunk less would leave a gap: the guard never waits longer than needed
        assert not plays_without_gap(steps, ratio, held - 1)


def test_speed_model_predicts_unmeasured_timesteps():
    speed = SpeedModel()
    assert speed.step_s(10) is None and not speed.measured
    speed.observe_step(10, 1.0)
    assert speed.step_s(10) == 1.0
    assert speed.step_s(5) == pytest.approx(FIXED_SHARE + (1 - FIXED_SHARE) * 0.5)
    speed.observe_step(4, 0.5)  # a second point: a straight line through both
    assert speed.step_s(10) == 1.0 and speed.step_s(4) == 0.5
    assert speed.step_s(7) == pytest.approx(0.75)


def test_speed_model_averages_noisy_steps_and_tracks_their_jitter():
    speed = SpeedModel(alpha=0.5)
    speed.observe_step(10, 1.0)
    assert speed.jitter_s(10) == 0.0
    for seconds in (2.0, 1.0, 2.0):
        speed.observe_step(10, seconds)
    assert 1.0 < speed.step_s(10) < 2.0
    assert 0.2 < speed.jitter_s(10) < 1.0
    # Unmeasured timesteps get the same relative jitter.
    assert speed.jitter_s(5) / speed.step_s(5) == pytest.approx(
        speed.jitter_s(10) / speed.step_s(10))


def test_jittery_steps_are_held_longer_than_steady_ones_of_the_same_mean():
    steady, jittery = RealtimeGuard(), RealtimeGuard()
    params = SynthesisParams(min_len=6, max_len=8)
    for guard, times in ((steady, [0.24] * 8), (jittery, [0.12, 0.36] * 4)):
        guard.plan_segment(sentence(0), params)
        for i, seconds in enumerate(times):
            guard.on_chunk(AudioChunk(np.zeros(CHUNK, np.float32), sentence(0), i), seconds,
                           CHUNK_S)
        guard.plan_segment(sentence(1), params)
    assert jittery.plans[1].predicted_ratio > steady.plans[1].predicted_ratio
    assert jittery.needed_buffer_s() > steady.needed_buffer_s()


def sentence(index, text="A sentence of ordinary length for the test."):
    return Segment(index, 0, len(text), text)


def feed(guard, segment, step_s, steps, params=SynthesisParams(min_len=6, max_len=8)):
    """Drive the guard like the engine and the utterance do; returns the planned params and,
    per chunk, how many chunks the guard let through to the player at that moment."""
    planned = guard.plan_segment(segment, params)
    released = []
    for i in range(steps):
        chunk = AudioChunk(np.zeros(CHUNK, np.float32), segment, i)
        guard.on_chunk(chunk, step_s * (1.5 if i == 0 else 1.0), CHUNK_S)
        released.append(len(guard.admit(chunk)))
    return planned, released


def test_fast_synthesis_is_never_held_back():
    guard = RealtimeGuard()
    for index in range(3):
        _, released = feed(guard, sentence(index), step_s=0.04, steps=8)
        assert released == [1] * 8
    assert all(plan.held_s == 0 for plan in guard.plans)


def test_slow_synthesis_holds_each_sentence_until_it_can_play_through():
    guard = RealtimeGuard()
    _, first = feed(guard, sentence(0), step_s=0.32, steps=8)
    _, second = feed(guard, sentence(1), step_s=0.32, steps=8)
    ratio = 0.32 * guard.policy.safety / CHUNK_S
    for released in (first, second):
        assert sum(released) == 8  # every chunk reaches the player, once
        held = released.index(next(n for n in released if n)) + 1
        assert held == release_point(8, ratio)
        assert released[held - 1] == held and released[held:] == [1] * (8 - held)
    assert guard.plans[1].predicted_ratio == pytest.approx(ratio)
    assert guard.finish() == []


def test_a_sentence_shorter_than_expected_is_released_when_the_next_begins():
    guard = RealtimeGuard()
    feed(guard, sentence(0), step_s=0.32, steps=8)
    _, released = feed(guard, sentence(1), step_s=0.32, steps=2)  # ended early: still held
    assert sum(released) == 0
    planned = guard.plan_segment(sentence(2), SynthesisParams(min_len=6, max_len=8))
    out = guard.admit(AudioChunk(np.zeros(CHUNK, np.float32), sentence(2), 0))
    assert [c.segment.index for c in out] == [1, 1]  # the held sentence, not the new chunk
    assert planned.inference_timesteps == 10
    assert [c.segment.index for c in guard.finish()] == [2]


def test_keep_real_time_lowers_timesteps_down_to_the_floor_only():
    params = SynthesisParams(min_len=6, max_len=8)
    best, keep = RealtimeGuard(), RealtimeGuard(RealtimePolicy(keep_real_time=True, min_steps=4))
    for guard in (best, keep):
        feed(guard, sentence(0), step_s=0.32, steps=8)  # twice slower than real time at 10
    assert best.plan_segment(sentence(1), params).inference_timesteps == 10
    assert keep.plan_segment(sentence(1), params).inference_timesteps == 4  # not enough: floor
    moderate = RealtimeGuard(RealtimePolicy(keep_real_time=True, min_steps=2))
    feed(moderate, sentence(0), step_s=0.18, steps=8)  # a little too slow at 10
    chosen = moderate.plan_segment(sentence(1), params).inference_timesteps
    assert 2 <= chosen < 10
    assert moderate.plans[-1].predicted_ratio <= 1
    # A request already below the floor is left alone.
    low = RealtimeGuard(RealtimePolicy(keep_real_time=True, min_steps=4))
    feed(low, sentence(0), step_s=0.32, steps=8, params=params.replace(inference_timesteps=3))
    assert low.plan_segment(sentence(1), params.replace(inference_timesteps=3)) \
        .inference_timesteps == 3


# -- with the real engine and player -------------------------------------------------------

def test_player_tells_seams_from_pauses_between_sentences(sink_recorder):
    rate = 48000
    tone = np.full(int(0.2 * rate), 0.2, np.float32)
    results = {}
    for case in ("between sentences", "inside a sentence"):
        player = Player(prebuffer_s=0.05)
        with sink_recorder():
            player.begin(rate)
            player.write(tone)
            time.sleep(0.5)  # the producer is late: the queue runs dry
            if case == "between sentences":
                player.start_phrase()
            player.write(tone)
            player.end_of_input()
            assert player.wait(5)
            player.close()
        results[case] = (player.underruns, player.seams, player.gap_seconds)
    assert results["between sentences"][:2] == (1, 0)
    assert results["inside a sentence"][:2] == (1, 1)
    for _, _, gap in results.values():
        assert 0.1 < gap < 1.0


def speak(engine, guard):
    request = SynthesisRequest("The first sentence is here. The second one follows it.",
                               params=SynthesisParams(min_len=6, max_len=6, seed=5))
    player = Player()
    utterance = Utterance(engine, player, request, guard=guard).start()
    assert utterance.wait(60)
    player.close()
    return utterance.metrics


def test_guard_turns_stutter_into_pauses_between_sentences(slow_engine, sink_recorder):
    with sink_recorder():
        off = speak(slow_engine, None)
        guard = RealtimeGuard()
        on = speak(slow_engine, guard)
        keep_guard = RealtimeGuard(RealtimePolicy(keep_real_time=True, min_steps=3))
        keep = speak(slow_engine, keep_guard)
    for metrics in (off, on, keep):
        assert metrics.chunks == 12 and not metrics.cancelled
    assert off.seams >= 3, off  # chunk, gap, chunk, gap...
    assert on.seams <= 1 and on.seams < off.seams, (on, off)
    assert on.first_audible_latency > off.first_audible_latency  # the price: a later start
    assert [p.timesteps for p in guard.plans] == [10, 10]
    assert keep.seams <= 1
    used = [p.timesteps for p in keep_guard.plans]
    assert used[0] == 10 and all(3 <= t < 10 for t in used[1:]), used


# -- first sound at once: what a fresh process knows, and what the first chunk says ------------


def first_sentence(guard, first_chunk_s, step_s=None, steps=8):
    """Feed the first sentence of an utterance; returns chunks released per chunk generated."""
    segment = sentence(0)
    guard.plan_segment(segment, SynthesisParams(min_len=6, max_len=8))
    released = []
    for i in range(steps):
        chunk = AudioChunk(np.zeros(CHUNK, np.float32), segment, i)
        guard.on_chunk(chunk, first_chunk_s if i == 0 else step_s, CHUNK_S)
        released.append(len(guard.admit(chunk)))
    return released


def remembered(tmp_path, step_s):
    """A SpeedModel as a fresh process finds it: read back from the file an earlier run saved."""
    earlier = SpeedModel()
    earlier.attach(tmp_path / "speed.json")
    for _ in range(5):
        earlier.observe_step(10, step_s)
    earlier.observe_first_chunk(step_s * 1.5)
    earlier.save()
    fresh = SpeedModel()
    assert fresh.attach(tmp_path / "speed.json") and fresh.remembered
    return fresh


def test_a_model_known_fast_from_an_earlier_run_is_heard_from_its_first_chunk(tmp_path):
    # The first chunk itself is slow here (a long prefill): only the remembered steps say "fast".
    guard = RealtimeGuard(speed=remembered(tmp_path, 0.04))
    assert first_sentence(guard, first_chunk_s=0.4, step_s=0.04) == [1] * 8
    assert guard.plans[0].held_s == 0


def test_a_first_chunk_faster_than_its_audio_is_heard_at_once_even_with_slow_old_figures(
        tmp_path):
    # Figures from a busier moment say "slow"; the first chunk says the model keeps up now.
    guard = RealtimeGuard(speed=remembered(tmp_path, 0.32))
    assert first_sentence(guard, first_chunk_s=0.05, step_s=0.04) == [1] * 8


def test_nothing_known_and_a_fast_first_chunk_is_heard_at_once():
    assert first_sentence(RealtimeGuard(), first_chunk_s=0.06, step_s=0.04) == [1] * 8


@pytest.mark.parametrize("known", [False, True])
def test_a_slow_model_is_still_held_from_a_cold_start(tmp_path, known):
    speed = remembered(tmp_path, 0.32) if known else SpeedModel()
    guard = RealtimeGuard(speed=speed)
    released = first_sentence(guard, first_chunk_s=0.45, step_s=0.32)
    held = next(i for i, n in enumerate(released) if n) + 1
    ratio = 0.32 * guard.policy.safety / CHUNK_S
    assert held >= release_point(8, ratio) > 1  # never less than a gapless start needs
    assert sum(released) == 8


def test_speed_figures_survive_a_restart_and_damage_is_ignored(tmp_path):
    path = tmp_path / "speed" / "model.json"
    speed = SpeedModel()
    speed.attach(path)
    speed.save()  # nothing measured: nothing written
    assert not path.exists()
    speed.observe_step(10, 0.5)
    speed.observe_step(4, 0.3)
    speed.observe_sentence(40, 2.8)
    speed.save()
    again = SpeedModel()
    assert again.attach(path)
    assert again.step_s(10) == 0.5 and again.step_s(7) == speed.step_s(7)
    assert again.seconds_per_weight == speed.seconds_per_weight
    assert not list(path.parent.glob("*.tmp"))  # written atomically: no leftovers
    for damage in ("{not json", '{"format": 1, "step_s": {"10": -1}}', "[]",
                   '{"format": 1, "step_s": {"10": NaN}, "jitter_s": {}, "chunk_s": 0.16, '
                   '"seconds_per_weight": 0.07}', '{"format": 99}'):
        path.write_text(damage)
        damaged = SpeedModel()
        assert not damaged.attach(path) and not damaged.measured
        damaged.observe_step(10, 0.2)
        damaged.save()  # the damaged file is replaced by good figures
        assert SpeedModel().attach(path)


def test_saving_speed_figures_never_fails_speech(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    speed = SpeedModel()
    speed.attach(blocker / "speed.json")  # its folder is a file: cannot be written
    speed.observe_step(10, 0.2)
    speed.save()  # logs, does not raise


def test_a_fresh_engine_starts_from_the_figures_the_last_run_left(tiny_model_dir, tmp_path,
                                                                  sink_recorder):
    from voxdesk.engine import Engine

    first = Engine.load(str(tiny_model_dir), device="cpu", remember_speed=False)
    assert first.wait_until_warm(120)
    # The warm-up at load measured a step before any request: a guard knows the speed at once.
    assert len(first.acceleration.warm_up_steps_s) == 6 and first.speed.knows(10)
    first.remember_speed(tmp_path)
    assert not first.speed.remembered  # no earlier run in this folder
    with sink_recorder():
        guard = RealtimeGuard(speed=first.speed)
        speak(first, guard)
    assert list((tmp_path / "speed").glob("*.json"))
    learned = first.speed.step_s(10)
    del first

    second = Engine.load(str(tiny_model_dir), device="cpu", remember_speed=False)
    assert second.remember_speed(tmp_path) and second.speed.remembered
    assert second.speed.step_s(10) == pytest.approx(learned)
    assert second.wait_until_warm(120)
    assert second.speed.step_s(10) == pytest.approx(learned)  # the warm-up did not replace it
