"""Checking and normalising a voice's reference audio on import.

Whatever a person brings (a phone's 44.1 kHz stereo MP3, a 96 kHz studio WAV, a quiet
microphone recording) is stored the same way: mono, at the encoder's sample rate, with DC
removed, leading/trailing silence trimmed and the peak at -1 dBFS. The model then sees every
profile alike, and a profile's audio (and so its prompt-cache key) never changes after import.

Anything unusable is refused with a :class:`ReferenceAudioError` that says why and what to do,
before a profile folder exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxdesk.errors import ReferenceAudioError

#: VoxCPM2's audio encoder rate (its VAE encodes 16 kHz and decodes 48 kHz); voxcpm resamples
#: a clip to the loaded model's own rate anyway, so one stored rate serves every model.
REFERENCE_RATE = 16_000
MIN_SECONDS = 1.0  # of sound, after trimming silence
MAX_SECONDS = 60.0  # of sound, after trimming silence
#: Files longer than this are refused before being read: a whole podcast is not a reference,
#: and decoding one would take seconds and hundreds of MB.
MAX_FILE_SECONDS = 2 * MAX_SECONDS
PEAK_DBFS = -1.0
SILENT_PEAK = 10 ** (-60 / 20)  # -60 dBFS: nothing but noise floor
TRIM_BELOW_DB = -40.0  # frames this far below the loudest frame count as silence
TRIM_MARGIN_S = 0.1  # silence kept around the sound, so onsets and decays are not cut
CLIPPED_FRACTION = 0.001  # more than 0.1 % of samples stuck at the rail: audibly distorted
_CLIP_RUN = 4  # consecutive identical samples at the peak: a flattened (clipped) wave top

#: Below telephone quality a recording holds no voice to clone (and resampling a 1 Hz "clip"
#: to 16 kHz would make millions of samples from nothing).
MIN_SOURCE_RATE = 8_000
MAX_SOURCE_RATE = 768_000
#: Mono or stereo: a multichannel (surround) file is not a voice recording, and averaging its
#: channels would mix the voice with whatever the others hold.
MAX_CHANNELS = 2

_FORMATS_HINT = "Use a WAV, FLAC, OGG or MP3 file of 5 to 20 seconds of clear speech."


@dataclass(frozen=True)
class PreparedAudio:
    samples: np.ndarray  # float32, mono, at ``rate``
    rate: int
    source_rate: int
    source_channels: int

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate


def prepare_reference(path: Path, rate: int = REFERENCE_RATE) -> PreparedAudio:
    """Read ``path``, check it is usable as a voice reference and normalise it."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise ReferenceAudioError(f"The audio file {path} does not exist.", "Choose another file.")
    if path.stat().st_size == 0:  # libsndfile would only say "Format not recognised"
        raise ReferenceAudioError(f"{path.name} is empty (0 bytes).", _FORMATS_HINT)
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise _unreadable(path, exc) from exc
    if info.samplerate <= 0 or info.channels <= 0:
        raise _unreadable(path, "no audio stream")
    check_format(info.samplerate, info.channels, path.name)
    if info.frames > MAX_FILE_SECONDS * info.samplerate:
        raise _too_long(path, info.frames / info.samplerate)
    try:
        data, source_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _unreadable(path, exc) from exc
    return normalise(data, source_rate, path.name, rate)


def normalise(data: np.ndarray, source_rate: int, label: str,
              rate: int = REFERENCE_RATE) -> PreparedAudio:
    """Check and normalise decoded audio (frames x channels, or mono) from ``label``."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    frames, channels = data.shape
    check_format(source_rate, channels, label)
    if frames == 0:
        raise ReferenceAudioError(f"{label} contains no audio.", _FORMATS_HINT)
    if not np.isfinite(data).all():
        raise ReferenceAudioError(f"{label} is damaged (it contains invalid sample values).",
                                  _FORMATS_HINT)
    seconds = frames / source_rate
    if seconds > MAX_FILE_SECONDS:
        raise _too_long(Path(label), seconds)
    if seconds < MIN_SECONDS:
        raise ReferenceAudioError(
            f"{label} is too short ({seconds:.1f} s); a voice needs at least "
            f"{MIN_SECONDS:.0f} s of speech.", "Use 5 to 20 seconds of clear speech.")
    if float(np.abs(data).max()) < SILENT_PEAK:
        raise ReferenceAudioError(f"{label} is silent.",
                                  "Check the microphone or the file, and use clear speech.")
    clipped = clipped_fraction(data)
    if clipped > CLIPPED_FRACTION:
        raise ReferenceAudioError(
            f"{label} is clipped: {clipped:.1%} of it is cut off at full volume, which would "
            f"make the cloned voice distorted.",
            "Record again with the input volume lower (the level meter should stay out of "
            "the red).")
    mono = data.mean(axis=1)
    mono = _resample(mono, source_rate, rate)
    mono = mono - float(mono.mean())  # DC offset would waste headroom and bias the encoder
    mono = trim_silence(mono, rate)
    seconds = mono.size / rate
    if seconds < MIN_SECONDS:
        raise ReferenceAudioError(
            f"{label} has only {seconds:.1f} s of sound; a voice needs at least "
            f"{MIN_SECONDS:.0f} s of speech.", "Use 5 to 20 seconds of clear speech.")
    if seconds > MAX_SECONDS:
        raise _too_long(Path(label), seconds)
    peak = float(np.abs(mono).max())
    mono = mono * (10 ** (PEAK_DBFS / 20) / peak)
    return PreparedAudio(mono.astype(np.float32), rate, int(source_rate), int(channels))


def check_format(rate: int, channels: int, label: str) -> None:
    """Refuse sample rates and channel counts no voice recording has."""
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise ReferenceAudioError(
            f"{label} has a sample rate of {rate:,} Hz; a voice recording needs "
            f"{MIN_SOURCE_RATE // 1000}-{MAX_SOURCE_RATE // 1000} kHz.",
            "Record again or convert it, e.g. `ffmpeg -i IN -ar 16000 -ac 1 OUT.wav`.")
    if channels > MAX_CHANNELS:
        raise ReferenceAudioError(
            f"{label} has {channels} channels; a voice recording is mono or stereo.",
            "Mix it down to mono first, e.g. `ffmpeg -i IN -ac 1 OUT.wav`.")


def clipped_fraction(data: np.ndarray) -> float:
    """Share of samples in runs of identical values at a channel's peak (flattened tops).

    Identical consecutive values are what a converter or a gain stage produces when it runs out
    of range; a loud but clean wave passes its peak without repeating it. The test is relative
    to each channel's own peak, so a clipped recording turned down afterwards is caught too.
    """
    stuck = 0
    for channel in np.atleast_2d(data.T):
        magnitude = np.abs(channel)
        peak = float(magnitude.max())
        if peak < SILENT_PEAK:
            continue
        at_peak = magnitude >= peak * 0.999
        flat = np.concatenate([[False], np.abs(np.diff(channel)) <= peak * 1e-6])
        candidate = at_peak & flat  # this sample repeats the previous one, at the peak
        # Runs of `candidate` of length >= _CLIP_RUN - 1 mean >= _CLIP_RUN identical samples.
        edges = np.diff(np.concatenate([[0], candidate.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = ends - starts
        stuck += int((lengths[lengths >= _CLIP_RUN - 1] + 1).sum())
    return stuck / data.size


def trim_silence(samples: np.ndarray, rate: int) -> np.ndarray:
    """Drop leading and trailing silence (keeping a short margin)."""
    frame = max(1, int(rate * 0.02))
    count = samples.size // frame
    if count == 0:
        return samples
    rms = np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1))
    threshold = max(float(rms.max()) * 10 ** (TRIM_BELOW_DB / 20), SILENT_PEAK)
    loud = np.flatnonzero(rms > threshold)
    if loud.size == 0:
        return samples[:0]
    margin = int(TRIM_MARGIN_S * rate)
    start = max(0, int(loud[0]) * frame - margin)
    end = min(samples.size, (int(loud[-1]) + 1) * frame + margin)
    return samples[start:end]


def _resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    if source == target:
        return samples.astype(np.float32)
    from scipy.signal import resample_poly

    g = math.gcd(int(source), int(target))
    return resample_poly(samples, target // g, source // g).astype(np.float32)


def write_reference(path: Path, audio: PreparedAudio) -> None:
    """Write normalised audio as 16-bit WAV, flushed to disk (the caller renames it into place).

    Encoded in memory first: libsndfile reports a short write (full disk) as a bare assertion
    in soundfile, whereas a plain file write raises OSError, which the store turns into a
    message.
    """
    import io
    import os

    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, audio.samples, audio.rate, subtype="PCM_16", format="WAV")
    with open(path, "wb") as f:
        f.write(buffer.getvalue())
        f.flush()
        os.fsync(f.fileno())


def _unreadable(path: Path, reason: object) -> ReferenceAudioError:
    return ReferenceAudioError(f"{path.name} cannot be read as audio ({reason}).", _FORMATS_HINT)


def _too_long(path: Path, seconds: float) -> ReferenceAudioError:
    return ReferenceAudioError(
        f"{path.name} is too long ({_duration(seconds)}); a voice reference is at most "
        f"{MAX_SECONDS:.0f} s of speech.",
        "Cut out 5 to 20 seconds of clear speech (any audio editor can do it) and use that.")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
