"""How fast a loaded model is here: seconds per model step, learned as it goes, kept on disk.

The real-time guard (voxdesk.engine.realtime_guard) decides from these figures whether a sentence
can play as it is generated. A fresh process would otherwise know nothing and have to hold the
first sentence back until it had measured a few steps; with the figures of earlier runs on this
machine (one small JSON file per model, dtype and device in the cache folder, written
atomically) it knows from the first chunk. No Qt, no torch, no engine import here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path
from typing import Any

from voxdesk.atomic import atomic_write_json

log = logging.getLogger(__name__)

#: Spoken seconds per unit of text weight (a Latin letter; a CJK character weighs 3) before any
#: sentence has been measured: ~14 letters per second.
PRIOR_SECONDS_PER_WEIGHT = 0.07
#: VoxCPM2's audio per step, until the first chunk says otherwise.
PRIOR_CHUNK_S = 0.16
#: Share of a step's time that does not scale with ``inference_timesteps`` (the language model
#: and the audio decoder; the rest is the diffusion solver). Measured on full-size VoxCPM2 on a
#: CPU: RTF 10.2 at 10 timesteps, 5.6 at 4, so a step is ~25 % fixed + 75 % x timesteps/10.
#: Only used until two different timestep values have been measured.
FIXED_SHARE = 0.25
#: Version of the file format; a file of another version is ignored (and later replaced).
_FORMAT = 1


class SpeedModel:
    """Seconds per model step, learned as it goes, and how long sentences come out.

    Keep one per loaded model (``Engine.speed``) and pass it to every utterance's guard, so each
    utterance starts with what the earlier ones measured; :meth:`attach` a file to carry the
    figures over to the next process.
    """

    def __init__(self, alpha: float = 0.3) -> None:
        self.alpha = alpha  # weight of the newest sample in the moving averages
        self._step_s: dict[int, float] = {}  # moving average, per timesteps value
        self._jitter: dict[int, float] = {}  # moving mean absolute deviation from it
        self.first_chunk_s: float | None = None  # prefill + first step of a sentence
        self.chunk_s = PRIOR_CHUNK_S
        self.seconds_per_weight = PRIOR_SECONDS_PER_WEIGHT
        self.path: Path | None = None  # where save() writes; None: kept in memory only
        self.remembered = False  # the figures came from an earlier run's file
        self._dirty = False

    def _average(self, old: float | None, new: float) -> float:
        return new if old is None else old + self.alpha * (new - old)

    def observe_step(self, timesteps: int, seconds: float) -> None:
        mean = self._step_s.get(timesteps)
        if mean is not None:
            self._jitter[timesteps] = self._average(self._jitter.get(timesteps, 0.0),
                                                    abs(seconds - mean))
        self._step_s[timesteps] = self._average(mean, seconds)
        self._dirty = True

    def observe_first_chunk(self, seconds: float) -> None:
        self.first_chunk_s = self._average(self.first_chunk_s, seconds)
        self._dirty = True

    def observe_sentence(self, weight: int, audio_s: float) -> None:
        if weight > 0:
            self.seconds_per_weight = self._average(self.seconds_per_weight, audio_s / weight)
            self._dirty = True

    @property
    def measured(self) -> bool:
        return bool(self._step_s)

    def knows(self, timesteps: int) -> bool:
        return timesteps in self._step_s

    def step_s(self, timesteps: int) -> float | None:
        """Predicted seconds per step at ``timesteps``; None before any step was measured."""
        known = self._step_s
        if timesteps in known:
            return known[timesteps]
        if len(known) >= 2:  # least-squares line through the measured points
            xs, ys = list(known), list(known.values())
            mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
            var = sum((x - mean_x) ** 2 for x in xs)
            slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / var
            if slope > 0:
                return max(mean_y + slope * (timesteps - mean_x), 0.1 * min(ys))
        if known:  # one point (or a nonsensical fit): scale it with the prior split
            n0, s0 = min(known.items(), key=lambda item: abs(item[0] - timesteps))
            return s0 * (FIXED_SHARE + (1 - FIXED_SHARE) * timesteps / n0)
        return None

    def jitter_s(self, timesteps: int) -> float:
        """Typical deviation of one step from :meth:`step_s` (relative jitter carried over to
        timestep values not measured yet)."""
        if timesteps in self._jitter:
            return self._jitter[timesteps]
        relative = [self._jitter[n] / self._step_s[n] for n in self._jitter if self._step_s[n]]
        predicted = self.step_s(timesteps)
        return max(relative) * predicted if relative and predicted else 0.0

    # -- on disk ------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        return {"format": _FORMAT,
                "step_s": {str(k): v for k, v in self._step_s.items()},
                "jitter_s": {str(k): v for k, v in self._jitter.items()},
                "first_chunk_s": self.first_chunk_s, "chunk_s": self.chunk_s,
                "seconds_per_weight": self.seconds_per_weight}

    def load_dict(self, data: Any) -> bool:
        """Take the figures of ``data`` (as :meth:`as_dict` wrote them); False, and nothing
        changed, if it is not such a dict or holds a number that cannot be a speed."""
        try:
            if data.get("format") != _FORMAT:
                return False
            steps = {int(k): _positive(v) for k, v in data["step_s"].items()}
            jitter = {int(k): _positive(v, zero=True) for k, v in data["jitter_s"].items()}
            first = data.get("first_chunk_s")
            first = None if first is None else _positive(first)
            chunk = _positive(data["chunk_s"])
            per_weight = _positive(data["seconds_per_weight"])
        except (AttributeError, KeyError, TypeError, ValueError):
            return False
        if any(k < 1 for k in steps) or not set(jitter) <= set(steps):
            return False
        self._step_s, self._jitter = steps, jitter
        self.first_chunk_s, self.chunk_s, self.seconds_per_weight = first, chunk, per_weight
        return True

    def attach(self, path: Path) -> bool:
        """Read the figures an earlier run left at ``path`` (if any) and save there from now
        on. A missing, unreadable or damaged file is ignored: the figures are rebuilt."""
        self.path = path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            log.info("Ignoring the speed figures in %s (%s)", path, exc)
            return False
        self.remembered = self.load_dict(data)
        return self.remembered

    def save(self) -> None:
        """Write the figures to the attached file if they changed; never raises (a full disk
        must not stop speech)."""
        if self.path is None or not self._dirty or not self._step_s:
            return
        try:
            atomic_write_json(self.path, self.as_dict())
            self._dirty = False
        except OSError as exc:
            log.warning("Could not save the speed figures to %s: %s", self.path, exc)


def _positive(value: Any, zero: bool = False) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero) or number > 3600:
        raise ValueError(f"not a duration: {value!r}")
    return number


def speed_file(cache_dir: Path, fingerprint: str, device: str, device_name: str,
               threads: int) -> Path:
    """The figures' file for one model (its fingerprint includes the dtype) on one device with
    one thread count: a figure measured on another GPU or with other threads would mislead."""
    key = hashlib.sha256(json.dumps([fingerprint, device, device_name, threads]).encode())
    return cache_dir / "speed" / f"{key.hexdigest()[:20]}.json"
