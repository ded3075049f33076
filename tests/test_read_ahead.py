"""Bounded read-ahead: synthesis stays a bounded amount ahead of playback, and memory stays flat
however long the text (today's books would otherwise pile up in the player's queue)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np

from voxdesk.audio.player import Player
from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.speech import Utterance

RATE = 48000
CHUNK = 7680  # one model step at 48 kHz: 160 ms, 30 KB


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def book(sentences: int = 2000) -> str:
    return " ".join(f"Line {n}." for n in range(sentences))


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_synthesis_stops_at_the_bound_and_stop_is_immediate(engine, sink_recorder):
    """Paused, nothing is played: the engine (the tiny model, 2,000 sentences) must stop writing
    once the bound is queued, however fast or slow it is - and Stop must still end it at once."""
    # No pauses between sentences: every chunk is one 160 ms step, so the bound is 6 chunks.
    request = SynthesisRequest(book(), params=SynthesisParams(
        min_len=1, max_len=1, seed=1, sentence_pause=0.0, paragraph_pause=0.0))
    player = Player(read_ahead_s=1.0)
    utterance = Utterance(engine, player, request)
    player.pause()  # before begin: ignored; paused right after the stream opens instead
    utterance.start()
    assert wait_until(lambda: player.state.value != "idle", 10)
    player.pause()
    stats = utterance.stream.stats
    # The bound: 1 s, i.e. 6 chunks of 160 ms; a 7th would go over it and has to wait.
    assert wait_until(lambda: stats.chunks >= 7, 120), stats.chunks
    time.sleep(1.0)
    held = stats.chunks
    time.sleep(1.0)
    assert stats.chunks == held, "synthesis went on past the bound"
    assert held <= 8  # 6 queued + the one waiting to be written (+ one in the model's hands)
    assert player.queued_seconds <= 1.0 + 1e-6
    stopped = time.monotonic()
    utterance.stop()
    assert utterance.wait(2)
    assert time.monotonic() - stopped < 1.0
    player.close()


def test_memory_stays_flat_while_a_fast_producer_reads_2000_sentences(sink_recorder):
    """A producer faster than real time (as a GPU is) writes 2,000 sentences (5 min 20 s of
    audio, 61 MB unbounded) while the player plays at 3x: the queue never exceeds its bound and
    the process's memory does not grow with what was written."""
    player = Player(read_ahead_s=2.0, speed=3.0)
    sentence = (0.2 * np.random.default_rng(0).standard_normal(CHUNK)).astype(np.float32)
    written = []
    player.begin(RATE)

    def produce() -> None:
        for index in range(2000):
            player.start_phrase()
            player.write(sentence.copy(), mark=index)  # a fresh array each, as the model makes
            written.append(index)
        player.end_of_input()

    with sink_recorder():
        baseline = rss_bytes()
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        assert wait_until(lambda: player.times.first_sample_handed is not None, 10)
        queued, growth = [], []
        for _ in range(35):  # 3.5 s, i.e. 10 s of audio at 3x
            time.sleep(0.1)
            queued.append(player.queued_seconds)
            growth.append(rss_bytes() - baseline)
        marks_heard = player.mark_at_playhead()
        played_chunks = player.frames_played * 3.0 / CHUNK
        sent = len(written)
        stopped = time.monotonic()
        player.stop()
        producer.join(2)
        assert not producer.is_alive() and time.monotonic() - stopped < 1.0
        player.close()
    assert max(growth) < 16 * 2**20, [g // 2**20 for g in growth]  # unbounded: +61 MB
    assert max(queued) <= 2.0 + 1e-6, max(queued)
    assert min(queued) > 1.0  # it really was kept full: the producer ran ahead, up to the bound
    # Written = played + at most the bound (+1 chunk waiting): far from all 2,000.
    assert sent <= played_chunks + 2.0 / 0.16 + 3, (sent, played_chunks)
    # And the highlight knows where it is at 3x: about 3 sentences a 160 ms heard.
    assert isinstance(marks_heard, int) and abs(marks_heard - played_chunks) < 6
