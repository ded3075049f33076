"""Encoded voice prompts, cached so a voice is encoded once, not on every request.

voxcpm's public API re-encodes the reference clip on every call; its model object exposes
``build_prompt_cache`` to do it once. We key the result by the clips' content (not their path:
a clip re-recorded under the same name must be re-encoded), the transcript and the denoise flag.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voxdesk.engine.request import VoiceReference
from voxdesk.errors import ReferenceAudioError

MIN_CLIP_SECONDS = 0.3


def check_clip(path: Path) -> None:
    """Raise :class:`ReferenceAudioError` unless ``path`` is a readable, non-silent clip."""
    import numpy as np
    import soundfile

    if not path.is_file():
        raise ReferenceAudioError(f"The voice clip {path} does not exist.",
                                  "Choose another file.")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise ReferenceAudioError(
            f"The voice clip {path.name} cannot be read as audio ({exc}).",
            "Use a WAV, FLAC, OGG or MP3 file.",
        ) from exc
    if data.shape[0] < MIN_CLIP_SECONDS * rate:
        raise ReferenceAudioError(
            f"The voice clip {path.name} is too short ({data.shape[0] / rate:.2f} s).",
            "Use a clip of 3 to 20 seconds of clear speech.",
        )
    if float(np.abs(data).max()) < 1e-4:
        raise ReferenceAudioError(f"The voice clip {path.name} is silent.",
                                  "Use a clip of clear speech.")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PromptCache:
    """A small LRU of encoded voices, keyed by clip content + transcript + denoise."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._entries: collections.OrderedDict[tuple[Any, ...], Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(voice: VoiceReference, denoise: bool) -> tuple[Any, ...]:
        def digest(p: Path | None) -> str | None:
            return _file_digest(p) if p is not None else None

        return (digest(voice.reference_wav), digest(voice.prompt_wav), voice.prompt_text, denoise)

    def get_or_build(
        self, voice: VoiceReference, denoise: bool, build: Callable[[], Any]
    ) -> tuple[Any, bool]:
        """The encoded prompt for ``voice`` and whether it came from the cache."""
        for clip in voice.clips:
            if not clip.is_file():
                raise ReferenceAudioError(f"The voice clip {clip} does not exist.",
                                          "Choose another file.")
        key = self.key(voice, denoise)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key], True
        for clip in voice.clips:
            check_clip(clip)
        prompt = build()
        with self._lock:
            self.misses += 1
            self._entries[key] = prompt
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return prompt, False

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
