"""What every scenario needs: the loaded engine, the options, a player, a voice to clone."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voxdesk.bench.progress import Progress
from voxdesk.engine import Engine, SynthesisParams, VoiceReference
from voxdesk.engine.realtime_guard import RealtimeGuard, RealtimePolicy, SpeedModel


@dataclass
class BenchOptions:
    model: str
    device: str = "auto"
    dtype: str = "auto"
    compile: str = "auto"
    runs: int | None = None  # None: each scenario's own default
    audio: bool = True  # play through the real player (False: --no-audio)
    output_device: str | int | None = None
    params: SynthesisParams = field(default_factory=SynthesisParams)
    voice: VoiceReference | None = None  # the clone; None: a synthetic clip is made
    policy: RealtimePolicy | None = field(default_factory=RealtimePolicy)  # None: no guard
    repeat_texts: tuple[str, ...] = ("short", "medium", "long")
    #: long-text: more continuity bounds (anchor s, previous s) to measure beside the default.
    context_bounds: tuple[tuple[float, float], ...] = ()


class Bench:
    """Shared state of one `voxdesk bench` run. Close it when done (player, temporary clip)."""

    def __init__(self, engine: Engine, options: BenchOptions, progress: Progress) -> None:
        self.engine = engine
        self.options = options
        self.progress = progress
        # One speed model for all guards of the run: as in the app, later utterances start
        # with what earlier ones (and earlier runs) measured.
        self.speed = engine.speed
        self._player: Any = None
        self._tmp = tempfile.TemporaryDirectory(prefix="voxdesk-bench-")
        self._voice = options.voice
        self.cold_figures = engine.speed.as_dict()  # before any scenario measured anything

    def runs(self, default: int) -> int:
        return self.options.runs if self.options.runs is not None else default

    @property
    def params(self) -> SynthesisParams:
        return self.options.params

    def player(self) -> Any:
        """The real player on the chosen output (one for the whole run, as in the app)."""
        if self._player is None:
            from voxdesk.audio.player import Player

            self._player = Player(device=self.options.output_device)
        return self._player

    def guard(self, policy: RealtimePolicy | None | str = "default") -> RealtimeGuard | None:
        policy = self.options.policy if policy == "default" else policy
        if policy is None:
            return None
        assert isinstance(policy, RealtimePolicy)
        return RealtimeGuard(policy, self.speed)

    def cold_speed(self) -> SpeedModel:
        """What a freshly started VoxDesk knows of this model's speed: the figures its warm-up
        measured or an earlier run left in the cache folder (a copy: the run's own later
        measurements are not in it, and it writes nothing)."""
        speed = SpeedModel()
        speed.load_dict(self.cold_figures)
        return speed

    def voice(self) -> VoiceReference:
        """The voice to clone: the user's clip, or a synthetic speech-like one."""
        if self._voice is None:
            path = Path(self._tmp.name) / "voice.wav"
            write_synthetic_voice(path)
            self._voice = VoiceReference(reference_wav=path)
        return self._voice

    def close(self) -> None:
        if self._player is not None:
            self._player.close()
        self._tmp.cleanup()


def write_synthetic_voice(path: Path, seconds: float = 3.0, rate: int = 16000) -> None:
    """A deterministic, voiced, syllable-paced clip: what encoding a real clip costs, without
    shipping a recording. (The time to encode a clip depends on its length, not its content.)"""
    import soundfile

    t = np.arange(int(seconds * rate)) / rate
    pitch = 120 + 15 * np.sin(2 * np.pi * 0.7 * t)  # a gently moving voice pitch
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) ** 2  # ~4 syllables per second
    noise = np.random.default_rng(0).standard_normal(t.size) * 0.01
    clip = 0.25 * voiced * syllables / np.abs(voiced).max() + noise
    soundfile.write(str(path), clip.astype(np.float32), rate)
