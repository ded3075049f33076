"""The house voice: one stable "Model default voice" per model, the same every day.

Without reference audio VoxCPM picks a random speaker on every generation (OpenBMB/VoxCPM #5).
So the first time a model is used without a voice, VoxDesk generates one short sentence
(:data:`HOUSE_SENTENCE`) from a fixed seed, and keeps its latents and text as a continuation
prompt on disk, one file per model fingerprint (weights' names, sizes, times, dtype). Every
utterance without a voice - window, CLI, hotkey, server: the engine does it - then continues
that voice, across restarts. "New default voice" makes another one from another seed.

The file is written atomically (voxdesk.atomic), so a crash while writing leaves the old voice
or the new one; a damaged file is set aside and the voice made again from its seed.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The seed of the first house voice of every model.
HOUSE_SEED = 1
#: What the house voice says in its prompt: short, neutral, ending in a full stop.
HOUSE_SENTENCE = "Hello, this is my reading voice."
#: Its longest length, in generation steps (25 x 160 ms = 4 s): a short prompt.
HOUSE_MAX_STEPS = 25
FORMAT = 1


@dataclass(frozen=True)
class HouseVoiceFile:
    seed: int
    prompt: dict[str, Any]  # prompt_text, audio_feat (+ mode on VoxCPM2): merge_prompt_cache's


class HouseVoiceStore:
    """``<directory>/<model fingerprint>.pt``: ``{"format", "seed", "prompt"}`` (torch.save)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        if self._directory is not None:
            return self._directory
        from voxdesk import paths

        return paths.data_dir() / "house-voices"

    def path(self, fingerprint: str) -> Path:
        return self.directory / f"{fingerprint}.pt"

    def stamp(self, fingerprint: str) -> tuple[int, int] | None:
        """Changes whenever the file is replaced (another process made a new voice)."""
        try:
            stat = self.path(fingerprint).stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def load(self, fingerprint: str) -> HouseVoiceFile | None:
        path = self.path(fingerprint)
        if not path.is_file():
            return None
        import torch

        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise TypeError("not a house voice file")
            prompt, seed = data["prompt"], data["seed"]
            if not isinstance(prompt, dict) or not isinstance(seed, int) \
                    or not isinstance(prompt.get("audio_feat"), torch.Tensor):
                raise TypeError("malformed")
            return HouseVoiceFile(seed, prompt)
        except Exception as exc:  # noqa: BLE001 - damaged: set it aside, make it again
            log.warning("the house voice file %s is damaged (%s); making it again", path, exc)
            try:
                os.replace(path, path.with_name(path.name + ".bad"))
            except OSError:
                pass
            return None

    def save(self, fingerprint: str, voice: HouseVoiceFile) -> None:
        import io

        import torch

        from voxdesk.atomic import atomic_write_bytes

        buffer = io.BytesIO()
        torch.save({"format": FORMAT, "seed": voice.seed, "prompt": voice.prompt}, buffer)
        atomic_write_bytes(self.path(fingerprint), buffer.getvalue())


def random_seed() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def make_prompt(tts: Any, text: str, latents: Any) -> dict[str, Any]:
    """A continuation prompt of ``latents`` saying ``text`` (the model's own merge)."""
    return dict(tts.merge_prompt_cache(None, text, latents))
