"""Recording a voice reference from a microphone (a PortAudio input stream, via sounddevice).

PortAudio's callback copies each block into a list and updates the level meter; the window
polls :attr:`Recorder.level` (a timer, not a signal: the callback runs on PortAudio's thread and
must not touch Qt). Recording stops by itself after ``max_seconds``.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from voxdesk.audio.devices import sounddevice_module
from voxdesk.errors import AudioDeviceError

DEFAULT_RATE = 48_000  # when the device does not say; the store resamples on import anyway
DEFAULT_MAX_SECONDS = 60.0
BLOCK_S = 0.02
METER_FLOOR_DB = -60.0
_INPUT_HINT = ("Check that a microphone is connected, not muted and not used by another "
               "program, or choose another input.")


def list_input_devices() -> list[tuple[int, str]]:
    """(index, name) of every device that can record."""
    sd = sounddevice_module()
    try:
        return [(i, d["name"]) for i, d in enumerate(sd.query_devices())
                if d["max_input_channels"] > 0]
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"Could not list audio inputs: {exc}.", _INPUT_HINT) from exc


def resolve_input_device(spec: str | int | None) -> int | None:
    """A PortAudio index for ``spec`` (an index, an exact or unique partial name), or None for
    the system's default input."""
    if spec is None or spec == "":
        return None
    devices = list_input_devices()
    if isinstance(spec, int) or str(spec).strip().isdigit():
        index = int(spec)
        if any(i == index for i, _ in devices):
            return index
        raise AudioDeviceError(f"There is no audio input device number {index}.", _INPUT_HINT)
    wanted = str(spec).strip().lower()
    exact = [i for i, name in devices if name.lower() == wanted]
    partial = [i for i, name in devices if wanted in name.lower()]
    if exact or len(partial) == 1:
        return (exact or partial)[0]
    if not partial:
        raise AudioDeviceError(f"No audio input device is called {spec!r}.", _INPUT_HINT)
    raise AudioDeviceError(f"{spec!r} matches several input devices.", _INPUT_HINT)


class Recorder:
    """``start()``, watch :attr:`level`, ``stop()`` returns the samples (float32, mono).

    Thread-safety: ``start``/``stop`` from one thread (the window's); properties from any.
    """

    def __init__(self, device: str | int | None = None, sample_rate: int | None = None,
                 max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self._sd = sounddevice_module()
        self._device = resolve_input_device(device)
        self.sample_rate = sample_rate or self._default_rate()
        self.max_seconds = max_seconds
        self._blocks: list[np.ndarray] = []
        self._frames = 0
        self._level = 0.0
        self._peak = 0.0
        self._lock = threading.Lock()
        self._stream: Any = None
        self._stopped = threading.Event()
        self.started_at: float | None = None
        self.overflows = 0

    def _default_rate(self) -> int:
        try:
            info = self._sd.query_devices(self._device, "input")
            return int(info["default_samplerate"]) or DEFAULT_RATE
        except (self._sd.PortAudioError, ValueError, KeyError):
            return DEFAULT_RATE

    # -- control ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the microphone and start recording (anything recorded before is dropped)."""
        self.close()
        with self._lock:
            self._blocks, self._frames, self._level, self._peak = [], 0, 0.0, 0.0
        self._stopped.clear()
        try:
            self._stream = self._sd.InputStream(
                samplerate=self.sample_rate, channels=1, dtype="float32", device=self._device,
                blocksize=int(self.sample_rate * BLOCK_S), callback=self._callback,
                finished_callback=self._stopped.set)
            self._stream.start()
        except (self._sd.PortAudioError, ValueError) as exc:
            self._stream = None
            self._stopped.set()
            raise AudioDeviceError(f"Could not open the microphone ({exc}).",
                                   _INPUT_HINT) from exc
        self.started_at = time.monotonic()

    def stop(self) -> np.ndarray:
        """Stop recording; the recorded samples."""
        self.close()
        return self.samples()

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except self._sd.PortAudioError:
                pass
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the recording ended (``max_seconds`` reached or stopped)."""
        return self._stopped.wait(timeout)

    # -- observation ------------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self._stream is not None and not self._stopped.is_set()

    @property
    def seconds(self) -> float:
        return self._frames / self.sample_rate

    @property
    def level(self) -> float:
        """Peak of the latest block, 0..1 (1 is full scale: too loud)."""
        return self._level

    @property
    def level_db(self) -> float:
        return max(METER_FLOOR_DB, 20 * math.log10(self._level)) if self._level > 0 \
            else METER_FLOOR_DB

    @property
    def peak(self) -> float:
        """Highest level since start: near 1.0 means the recording is probably clipped."""
        return self._peak

    def samples(self) -> np.ndarray:
        with self._lock:
            if not self._blocks:
                return np.zeros(0, dtype=np.float32)
            return np.concatenate(self._blocks)

    def save(self, path: Path) -> Path:
        """Write what was recorded as a float WAV (the voice store normalises it on import)."""
        import soundfile

        soundfile.write(str(path), self.samples(), self.sample_rate, subtype="FLOAT")
        return Path(path)

    # -- PortAudio thread -----------------------------------------------------------------

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.input_overflow:
            self.overflows += 1
        block = indata[:, 0].copy()
        room = int(self.max_seconds * self.sample_rate) - self._frames
        block = block[:max(room, 0)]
        level = float(np.abs(block).max()) if block.size else 0.0
        with self._lock:
            self._blocks.append(block)
            self._frames += block.size
        self._level = level
        self._peak = max(self._peak, level)
        if self._frames >= self.max_seconds * self.sample_rate:
            raise self._sd.CallbackStop
