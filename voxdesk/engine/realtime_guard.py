"""Keeping speech fluent when synthesis is slower than playback: the real-time guard.

On a fast GPU a model step makes its 160 ms of audio in a fraction of that time and the player's
short pre-buffer is enough. On a CPU or a slow GPU a step takes longer than the audio it makes
(real-time factor above 1), and playing chunks as they come stutters word by word: a chunk of
sound, then a gap while the next step runs. The guard prevents that:

* it measures every model step as it goes (seconds per step, for each ``inference_timesteps``),
  starting from what earlier utterances and runs measured (``Engine.speed``,
  voxdesk.engine.speed), so a model known to be fast is heard from its first chunk;
* before a sentence plays, it predicts whether the sentence would run dry and, if so, holds the
  sentence back until enough of it is buffered to play it to its end without a gap: one pause
  between sentences instead of gaps inside them;
* with ``keep_real_time`` it lowers ``inference_timesteps`` for the next sentence, never below
  the user's floor, when the measured speed says the requested value cannot keep up.

No Qt and no audio device here. The engine calls :meth:`RealtimeGuard.plan_segment` and
:meth:`RealtimeGuard.on_chunk` (``engine.synthesize(request, planner=guard)``);
:class:`voxdesk.speech.Utterance`
asks :meth:`RealtimeGuard.admit` which chunks may go to the player now and keeps the player's
refill target at :meth:`RealtimeGuard.needed_buffer_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from voxdesk.engine.engine import AudioChunk, StreamPlanner
from voxdesk.engine.request import SynthesisParams
from voxdesk.engine.segmentation import Segment, text_weight
from voxdesk.engine.speed import (
    FIXED_SHARE,
    PRIOR_CHUNK_S,
    PRIOR_SECONDS_PER_WEIGHT,
    SpeedModel,
)

__all__ = ["DEFAULT_MIN_STEPS", "FIXED_SHARE", "PRIOR_CHUNK_S", "PRIOR_SECONDS_PER_WEIGHT",
           "RealtimeGuard", "RealtimePolicy", "SentencePlan", "SpeedModel", "StreamPlanner",
           "chunks_to_buffer"]

#: Default floor for ``inference_timesteps`` when keeping real time.
DEFAULT_MIN_STEPS = 4


@dataclass(frozen=True)
class RealtimePolicy:
    """The user's choice: "best quality" (default) or "keep real time" down to ``min_steps``."""

    keep_real_time: bool = False
    min_steps: int = DEFAULT_MIN_STEPS
    #: Predicted step times are taken as mean + ``jitter_margin`` x mean deviation (as TCP
    #: estimates a retransmission timeout), times ``safety``: step times jitter (other
    #: programs, thermal limits) and a hold slightly too long costs less than a gap.
    safety: float = 1.1
    jitter_margin: float = 2.0

    def __post_init__(self) -> None:
        if self.min_steps < 1:
            raise ValueError("min_steps must be at least 1")


def chunks_to_buffer(remaining: float, ratio: float) -> float:
    """Chunks that must be queued for ``remaining`` more chunks to play without a gap, when each
    takes ``ratio`` chunk-durations to generate.

    With Q chunks queued, the j-th chunk still to come arrives after j x ratio and is due after
    Q + j - 1 chunk-durations, so Q >= j (ratio - 1) + 1 for every j: worst for the last one.
    """
    if ratio <= 1:
        return 1.0
    return max(remaining, 0.0) * (ratio - 1) + 1


@dataclass
class SentencePlan:
    """What the guard decided for one sentence, and what happened (for the benchmark)."""

    segment: int
    timesteps: int  # inference_timesteps used
    requested_timesteps: int
    expected_steps: int
    predicted_ratio: float | None  # step time / chunk duration, None before any measurement
    steps: int = 0  # chunks generated
    held_s: float = 0.0  # audio held back before the sentence was let through to the player
    first_chunk_s: float | None = None  # the model's time for this sentence's first chunk
    learned: bool = field(default=False, repr=False)


@dataclass
class RealtimeGuard:
    """One utterance's guard (see module doc). Not thread-safe: the synthesis thread owns it."""

    policy: RealtimePolicy = field(default_factory=RealtimePolicy)
    speed: SpeedModel = field(default_factory=SpeedModel)
    plans: list[SentencePlan] = field(default_factory=list)
    #: The player's speed (voxdesk.audio.tempo): at 2x a chunk is heard in half its duration.
    playback_speed: float = 1.0

    def __post_init__(self) -> None:
        self._weight = 0  # text weight of the current sentence
        self._max_steps = 0
        self._held: list[AudioChunk] = []
        self._sentence: int | None = None  # index of the sentence last admitted
        self._holding: int | None = None  # index of the sentence being held back
        self._rate = 0.0  # samples per second, learned from the chunks

    # -- engine side (StreamPlanner) ---------------------------------------------------------

    def plan_segment(self, segment: Segment, params: SynthesisParams) -> SynthesisParams:
        self._finish_sentence()
        requested = params.inference_timesteps
        timesteps = self._choose_timesteps(requested)
        self._weight = text_weight(segment.text)
        self._max_steps = params.max_len
        expected = round(self._weight * self.speed.seconds_per_weight / self.speed.chunk_s)
        # voxcpm yields at least min_len + 2 steps (its stop check is `step > min_len`).
        expected = min(max(expected, params.min_len + 2), params.max_len)
        self.plans.append(SentencePlan(segment.index, timesteps, requested, expected,
                                       self._ratio(timesteps)))
        return params if timesteps == requested else params.replace(inference_timesteps=timesteps)

    def on_chunk(self, chunk: AudioChunk, generation_s: float, audio_s: float) -> None:
        """``generation_s``: the model's time for this chunk alone (consumer time excluded)."""
        plan = self.plans[-1]
        plan.steps += 1
        if audio_s > 0:
            self.speed.chunk_s = audio_s
            self._rate = chunk.samples.size / audio_s
        if plan.steps == 1:  # includes the prompt prefill: not a plain step
            self.speed.observe_first_chunk(generation_s)
            plan.first_chunk_s = generation_s
        else:
            self.speed.observe_step(plan.timesteps, generation_s)

    def _finish_sentence(self) -> None:
        if not self.plans or self.plans[-1].learned:
            return
        plan = self.plans[-1]
        plan.learned = True
        # Learn the speaking rate only from sentences the model ended itself (not cut at max_len).
        if plan.steps and plan.steps < self._max_steps:
            self.speed.observe_sentence(self._weight, plan.steps * self.speed.chunk_s)

    def _ratio(self, timesteps: int) -> float | None:
        """Predicted (pessimistic) step time / chunk duration: above 1 means running dry."""
        step = self.speed.step_s(timesteps)
        if step is None:
            return None
        step += self.policy.jitter_margin * self.speed.jitter_s(timesteps)
        return step * self.policy.safety * self.playback_speed / self.speed.chunk_s

    def _choose_timesteps(self, requested: int) -> int:
        if not self.policy.keep_real_time or not self.speed.measured:
            return requested
        floor = min(self.policy.min_steps, requested)
        for timesteps in range(requested, floor - 1, -1):
            ratio = self._ratio(timesteps)
            if ratio is not None and ratio <= 1:
                return timesteps
        return floor  # even the floor is slower than real time: at least shorten the pauses

    # -- player side --------------------------------------------------------------------------

    def needed_buffer_s(self) -> float:
        """Audio that must be queued now for the rest of this sentence to play without a gap."""
        chunk = self.speed.chunk_s
        if not self.plans:
            return chunk
        plan = self.plans[-1]
        # At a faster playback speed the audio is used up sooner (see _ratio).
        safety = self.policy.safety * self.playback_speed
        if plan.steps == 1 and plan.first_chunk_s is not None \
                and plan.first_chunk_s * safety <= chunk:
            # This sentence's first chunk (prefill + one step) came faster than its audio: the
            # model keeps up right now, whatever older figures say (they may come from a busier
            # moment or from the warm-up's one-off costs). Heard at once.
            return chunk
        ratio = self._ratio(plan.timesteps)
        if ratio is None:
            # No step measured yet, and a first chunk slower than its audio: wait for one more
            # chunk to measure a step.
            first = self.speed.first_chunk_s
            fast = first is not None and first * safety <= chunk
            return chunk if fast else 2 * chunk
        remaining = plan.expected_steps - plan.steps
        if remaining < 0:  # longer than expected: assume a quarter more again, at least 1 step
            remaining = max(1, math.ceil(0.25 * plan.steps))
        return chunks_to_buffer(remaining, ratio) * chunk

    def admit(self, chunk: AudioChunk) -> list[AudioChunk]:
        """The chunks that may go to the player now, in order. The start of each sentence is held
        back until :meth:`needed_buffer_s` of it is buffered (at once when real time holds)."""
        ready: list[AudioChunk] = []
        index = chunk.segment.index
        if index != self._sentence:  # a new sentence begins: hold it back until it is safe
            ready += self._release()  # (the previous one ended before its hold filled: let it go)
            self._sentence = self._holding = index
        if self._holding != index:
            ready.append(chunk)
            return ready
        self._held.append(chunk)
        held_s = sum(c.samples.size for c in self._held) / self._rate if self._rate else 0.0
        if held_s + 1e-9 >= self.needed_buffer_s():
            if len(self._held) > 1 and self.plans:
                self.plans[-1].held_s = held_s
            ready += self._release()
        return ready

    def finish(self) -> list[AudioChunk]:
        """The stream ended: whatever is still held back, to be played now."""
        self._finish_sentence()
        return self._release()

    def _release(self) -> list[AudioChunk]:
        held, self._held, self._holding = self._held, [], None
        return held

