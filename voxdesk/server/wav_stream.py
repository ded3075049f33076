"""WAV encoding for HTTP responses: one header, then PCM as it is generated.

The original VoxCPM server sent a complete WAV file per chunk, so the body was several RIFF
files glued together and players stopped after the first. A stream gets ONE header whose RIFF
and data sizes are 0xFFFFFFFF - the convention of streaming encoders (ffmpeg writes the same):
decoders read on to the end of the stream. (A size of 0 would make them read nothing.)
"""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile

UNKNOWN_SIZE = 0xFFFFFFFF
BITS = 16


def wav_header(sample_rate: int, channels: int = 1, data_size: int = UNKNOWN_SIZE) -> bytes:
    block_align = channels * BITS // 8
    riff_size = UNKNOWN_SIZE if data_size == UNKNOWN_SIZE else 36 + data_size
    return (
        b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate,
                                sample_rate * block_align, block_align, BITS)
        + b"data" + struct.pack("<I", data_size)
    )


def pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian signed 16-bit PCM."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()


def complete_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    data = pcm16(samples)
    return wav_header(sample_rate, data_size=len(data)) + data


def flac(samples: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(samples, dtype=np.float32), sample_rate, format="FLAC",
                    subtype="PCM_16")
    return buffer.getvalue()
