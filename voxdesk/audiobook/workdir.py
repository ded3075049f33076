"""The work folder of an audiobook export: the finished chapters, kept between runs.

It lies beside the output (``.book.m4b.voxdesk-work``, so on the same disk: the final rename is
atomic). Each chapter is encoded into ``NNNN.partial`` and renamed to ``NNNN.EXT`` once complete
and flushed; then ``NNNN.json`` records its length. A chapter counts as done only with both, so
a run killed at any moment leaves whole chapters or none: the next run redoes at most the one it
was writing. ``job.json`` names what is being made (text, voice, settings, format); a different
job in the same place starts over.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from voxdesk.atomic import atomic_write_json

WORK_SUFFIX = ".voxdesk-work"


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


class WorkFolder:
    def __init__(self, output: Path, job: dict[str, object], extension: str,
                 restart: bool = False) -> None:
        self.path = output.parent / f".{output.name}{WORK_SUFFIX}"
        self.extension = extension
        manifest = self.path / "job.json"
        if self.path.exists() and (restart or self._read(manifest) != job):
            shutil.rmtree(self.path)  # --restart, or another text/voice/format: start over
        self.path.mkdir(parents=True, exist_ok=True)
        if not manifest.exists():
            atomic_write_json(manifest, job)
        for stale in self.path.glob("*.partial"):  # what a killed run was writing
            stale.unlink()

    @staticmethod
    def _read(path: Path) -> object:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def audio(self, index: int) -> Path:
        return self.path / f"{index:04d}{self.extension}"

    def partial(self, index: int) -> Path:
        return self.path / f"{index:04d}.partial"

    def frames(self, index: int) -> int | None:
        """The length of chapter ``index`` in samples if it is finished, else None."""
        record = self._read(self.path / f"{index:04d}.json")
        if isinstance(record, dict) and self.audio(index).exists():
            frames = record.get("frames")
            return frames if isinstance(frames, int) else None
        return None

    def finish(self, index: int, frames: int) -> None:
        """Make the encoded ``partial(index)`` chapter ``index``, durably."""
        partial = self.partial(index)
        fsync_file(partial)
        os.replace(partial, self.audio(index))
        atomic_write_json(self.path / f"{index:04d}.json", {"frames": frames})

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
