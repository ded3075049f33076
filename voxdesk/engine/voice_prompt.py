"""Encoded voice prompts, cached so a voice is encoded once, not on every request.

voxcpm's public API re-encodes the reference clip on every call; its model object exposes
``build_prompt_cache`` to do it once. We key the result by the clips' content (not their path:
a clip re-recorded under the same name must be re-encoded), the transcript and the denoise flag.

An optional :class:`DiskPromptCache` keeps encodings across restarts, one folder per model
fingerprint (the weights' names, sizes and times, dtype), so a changed model or a changed clip
never reuses a stale encoding. Saved voices (profiles) are then encoded once, ever.
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxdesk.engine.request import VoiceReference
from voxdesk.errors import ReferenceAudioError

if TYPE_CHECKING:
    from voxdesk.engine.model import ModelInfo

log = logging.getLogger(__name__)

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
    from voxdesk.voices.audio import check_format

    check_format(rate, data.shape[1], f"The voice clip {path.name}")
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


class DiskPromptCache:
    """Encoded prompts saved as ``<directory>/<key>.pt`` (torch.save, written atomically).

    A file that cannot be loaded (truncated, corrupt, from another torch) is deleted and the
    voice encoded again: this is a cache, never a reason for an error.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @staticmethod
    def file_key(key: tuple[Any, ...]) -> str:
        return hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()[:32]

    def path(self, key: tuple[Any, ...]) -> Path:
        return self.directory / f"{self.file_key(key)}.pt"

    def load(self, key: tuple[Any, ...]) -> Any | None:
        path = self.path(key)
        if not path.is_file():
            return None
        import torch

        try:
            prompt = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(prompt, dict):
                raise ValueError(f"unexpected {type(prompt).__name__}")
            return prompt
        except Exception as exc:  # noqa: BLE001 - any damage: rebuild
            log.warning("ignoring damaged prompt cache file %s (%s)", path, exc)
            path.unlink(missing_ok=True)
            return None

    def save(self, key: tuple[Any, ...], prompt: Any) -> None:
        import torch

        from voxdesk.atomic import atomic_write_bytes

        buffer = io.BytesIO()
        try:
            torch.save(prompt, buffer)
            atomic_write_bytes(self.path(key), buffer.getvalue())
        except Exception as exc:  # noqa: BLE001 - a full disk must not stop speech
            log.warning("could not save the encoded voice to %s (%s)", self.directory, exc)

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def __len__(self) -> int:
        return len(list(self.directory.glob("*.pt"))) if self.directory.is_dir() else 0


def model_fingerprint(info: ModelInfo) -> str:
    """Changes whenever the model's files or how they are loaded change (not their content:
    hashing gigabytes of weights would cost more than encoding a voice)."""
    parts: list[Any] = [info.architecture, info.dtype, info.sample_rate]
    try:
        for path in sorted(info.path.iterdir()):
            if path.suffix in (".json", ".safetensors", ".pth", ".pt", ".bin"):
                stat = path.stat()
                parts.append([path.name, stat.st_size, stat.st_mtime_ns])
    except OSError:
        parts.append(str(info.path))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


class PromptCache:
    """A small LRU of encoded voices, keyed by clip content + transcript + denoise, in front
    of an optional :class:`DiskPromptCache` (``disk``).

    ``enabled = False`` bypasses both (every request encodes its voice: the benchmark's
    baseline); ``clear(disk=True)`` forgets everything.
    """

    def __init__(self, capacity: int = 8, disk: DiskPromptCache | None = None) -> None:
        self.capacity = capacity
        self.disk = disk
        self.enabled = True
        self._entries: collections.OrderedDict[tuple[Any, ...], Any] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0  # memory and disk
        self.disk_hits = 0
        self.misses = 0

    @staticmethod
    def key(voice: VoiceReference, denoise: bool) -> tuple[Any, ...]:
        def digest(p: Path | None) -> str | None:
            return _file_digest(p) if p is not None else None

        return (digest(voice.reference_wav), digest(voice.prompt_wav), voice.prompt_text, denoise)

    def get_or_build(
        self, voice: VoiceReference, denoise: bool, build: Callable[[], Any]
    ) -> tuple[Any, bool]:
        """The encoded prompt for ``voice`` and whether it came from a cache."""
        for clip in voice.clips:
            if not clip.is_file():
                raise ReferenceAudioError(f"The voice clip {clip} does not exist.",
                                          "Choose another file.")
        key = self.key(voice, denoise)
        if self.enabled:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return self._entries[key], True
            prompt = self.disk.load(key) if self.disk is not None else None
            if prompt is not None:
                with self._lock:
                    self.hits += 1
                    self.disk_hits += 1
                    self._remember(key, prompt)
                return prompt, True
        for clip in voice.clips:
            check_clip(clip)
        prompt = build()
        with self._lock:
            self.misses += 1
            if self.enabled:
                self._remember(key, prompt)
        if self.enabled and self.disk is not None:
            self.disk.save(key, prompt)
        return prompt, False

    def _remember(self, key: tuple[Any, ...], prompt: Any) -> None:
        self._entries[key] = prompt
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self, disk: bool = False) -> None:
        """Forget the encodings in memory (and on disk too with ``disk=True``)."""
        with self._lock:
            self._entries.clear()
        if disk and self.disk is not None:
            self.disk.clear()
