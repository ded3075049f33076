"""Speaking one request: the engine's stream fed into the player, with its metrics.

An :class:`Utterance` is what the CLI, the tray and the window start when a person presses Play.
Synthesis runs on a background thread (or, in the GUI, the caller's QThread via :meth:`run`) and
stays ahead of playback, by at most the player's read-ahead bound; the player starts as soon as
its short pre-buffer is filled. The speed is the player's (applied as the audio is played, so a
change is heard at once and needs no new synthesis).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

from voxdesk.audio.player import Player, PlayerState
from voxdesk.engine import AudioChunk, Engine, SynthesisRequest, SynthesisStats
from voxdesk.engine.realtime_guard import RealtimeGuard
from voxdesk.errors import VoxDeskError, as_voxdesk_error


@dataclass(frozen=True)
class UtteranceMetrics:
    """What a person (and the benchmark) wants to know about one utterance. Times in seconds."""

    first_chunk_latency: float | None  # request -> first audio chunk from the model
    first_audible_latency: float | None  # request -> first sample out of the speaker
    synthesis_time: float | None  # request -> last chunk generated
    audio_duration: float
    real_time_factor: float | None  # synthesis time / audio duration
    chunks: int
    underruns: int
    cancelled: bool
    voice_cache_hit: bool | None
    seams: int = 0  # underruns inside a sentence (stutter), see Player.seams
    gap_s: float = 0.0  # silence heard while waiting for audio after the first sample
    device_underflows: int = 0  # callbacks PortAudio ran late (the device buffer ran dry)
    stalls: int = 0  # callbacks nearly as late as the device buffer lasts (Player._note_a_stall)

    @classmethod
    def collect(cls, stats: SynthesisStats, player: Player | None = None) -> UtteranceMetrics:
        audible = None
        if player is not None and player.times.first_sample_audible is not None:
            audible = player.times.first_sample_audible - stats.requested_at
        return cls(
            first_chunk_latency=stats.first_chunk_latency,
            first_audible_latency=audible,
            synthesis_time=stats.synthesis_time,
            audio_duration=stats.audio_duration,
            real_time_factor=stats.real_time_factor,
            chunks=stats.chunks,
            underruns=player.underruns if player is not None else 0,
            cancelled=stats.cancelled,
            voice_cache_hit=stats.voice_cache_hit,
            seams=player.seams if player is not None else 0,
            gap_s=player.gap_seconds if player is not None else 0.0,
            device_underflows=player.device_underflows if player is not None else 0,
            stalls=player.stalls if player is not None else 0,
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def summary(self) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        rtf = "-" if self.real_time_factor is None else f"{self.real_time_factor:.2f}"
        return (
            f"first chunk {ms(self.first_chunk_latency)}, first audible "
            f"{ms(self.first_audible_latency)}, synthesis {ms(self.synthesis_time)}, audio "
            f"{self.audio_duration:.2f} s, RTF {rtf}, {self.chunks} chunks, "
            f"{self.underruns} underruns" + (", cancelled" if self.cancelled else "")
        )


class Utterance:
    """One request being spoken. ``start()`` runs it in the background; ``stop()`` silences it."""

    def __init__(
        self,
        engine: Engine,
        player: Player,
        request: SynthesisRequest,
        on_chunk: Callable[[AudioChunk], None] | None = None,
        guard: RealtimeGuard | None = None,
    ) -> None:
        # With a guard, a sentence that would stutter is held back until it can play through.
        # (Validates the request: bad input fails here, at once.)
        self.stream = engine.synthesize(request, planner=guard)
        self.guard = guard
        self._sentence: int | None = None  # the sentence last written to the player
        self._player = player
        self._sample_rate = engine.sample_rate
        self._on_chunk = on_chunk
        self._thread: threading.Thread | None = None
        self.error: VoxDeskError | None = None

    # -- control ----------------------------------------------------------------------------

    def run(self) -> None:
        """Synthesise into the player on the calling thread; returns when synthesis ends."""
        player = self._player
        try:
            player.begin(self._sample_rate)
            for chunk in self.stream:
                if self.guard is None:
                    self._play(chunk)
                else:
                    # Faster playback eats the buffer faster: the guard plans for the speed heard.
                    self.guard.playback_speed = player.speed
                    admitted = self.guard.admit(chunk)
                    # The refill target first: the player must not wait for more than the
                    # guard asks for once the chunks are in.
                    player.rebuffer_s = self.guard.needed_buffer_s()
                    for ready in admitted:
                        self._play(ready)
                if self._on_chunk is not None:
                    self._on_chunk(chunk)
            for ready in self.guard.finish() if self.guard is not None else ():
                self._play(ready)
        except Exception as exc:  # noqa: BLE001 - any failure ends the utterance with a message, never a hang
            self.error = as_voxdesk_error(exc)
            self.stream.cancel()
            player.stop()
            return
        player.end_of_input()
        if self.guard is not None:  # what this utterance measured, for the next run
            self.guard.speed.save()

    def _play(self, chunk: AudioChunk) -> None:
        if chunk.segment.index != self._sentence:
            self._sentence = chunk.segment.index
            self._player.start_phrase()
        self._player.write(chunk.samples, mark=chunk.segment)

    def start(self) -> Utterance:
        self._thread = threading.Thread(target=self.run, name="voxdesk-synthesis", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Silence now and stop the model before its next step."""
        self.stream.cancel()
        self._player.stop()

    def pause(self) -> None:
        self._player.pause()

    def set_speed(self, speed: float) -> float:
        """Speak faster or slower from now on (0.5-3, pitch kept; see Player.set_speed)."""
        return self._player.set_speed(speed)

    @property
    def speed(self) -> float:
        return self._player.speed

    def resume(self) -> None:
        self._player.resume()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until synthesis and playback are over; raises the synthesis error, if any."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False
        finished = self._player.wait(timeout)
        if self.error is not None:
            raise self.error
        return finished

    # -- observation ------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._player.state in (PlayerState.BUFFERING, PlayerState.PLAYING,
                                      PlayerState.PAUSED)

    @property
    def metrics(self) -> UtteranceMetrics:
        return UtteranceMetrics.collect(self.stream.stats, self._player)
