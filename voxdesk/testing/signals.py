"""Synthetic test signals: speech-like clips a voice store accepts, and pure tones.

Made on the fly (numpy), so no audio fixtures have to be committed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def speech_like(seconds: float, rate: int = 44100, seed: int = 0, pitch: float = 140.0,
                level: float = 0.5) -> np.ndarray:
    """A voiced, syllable-paced signal (harmonics under a 4 Hz envelope, a little breath
    noise). Different ``seed``/``pitch`` give different content, hence different voices."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = pitch + 0.15 * pitch * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    signal = voiced * envelope + 0.05 * rng.standard_normal(t.size)
    return (level * signal / np.abs(signal).max()).astype(np.float32)


def tone(frequency: float, seconds: float, rate: int = 48000, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    """The frequency (Hz) of the strongest FFT bin, DC excluded, with a Hann window."""
    samples = np.asarray(samples, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


def write_clip(path: Path, samples: np.ndarray, rate: int = 44100, **kwargs: object) -> Path:
    import soundfile

    soundfile.write(str(path), samples, rate, **kwargs)
    return path
