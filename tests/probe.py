"""ffprobe (Debian's ffmpeg), the independent decoder the format tests read files back with."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

needs_ffprobe = pytest.mark.skipif(not shutil.which("ffprobe") or not shutil.which("ffmpeg"),
                                   reason="needs ffmpeg/ffprobe (apt-get install ffmpeg)")


def probe(path: Path | str, *, raw_rate: int | None = None) -> dict:
    """ffprobe's JSON: format, streams, chapters. ``raw_rate``: headerless 16-bit mono PCM."""
    raw = ["-f", "s16le", "-ar", str(raw_rate), "-ac", "1"] if raw_rate else []
    out = subprocess.run(["ffprobe", "-v", "error", *raw, "-print_format", "json",
                          "-show_format", "-show_streams", "-show_chapters", str(path)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out)


def audio_stream(info: dict) -> dict:
    return next(s for s in info["streams"] if s["codec_type"] == "audio")


def duration(info: dict) -> float:
    return float(info["format"]["duration"])


def decode(path: Path | str, rate: int = 48000, *, raw_rate: int | None = None) -> np.ndarray:
    """The file decoded by ffmpeg to float32 mono at ``rate``."""
    raw = ["-f", "s16le", "-ar", str(raw_rate), "-ac", "1"] if raw_rate else []
    data = subprocess.run(["ffmpeg", "-v", "error", *raw, "-i", str(path), "-map", "0:a:0",
                           "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
                          capture_output=True, timeout=60, check=True).stdout
    return np.frombuffer(data, dtype=np.float32)
