"""Where a person stopped reading a document, saved as it reads, to continue another day.

A position is keyed by the document's identity (the sha256 of its bytes: a renamed or moved
file is still recognised; an edited one starts afresh) and holds the chapter (1-based), the
sentence index within the chapter (0-based, as the engine splits it) and that sentence's
character offset in the chapter's text. Each document has its own small file, rewritten
atomically (voxdesk.atomic), so a crash or kill -9 leaves the last saved sentence.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from voxdesk import paths
from voxdesk.atomic import atomic_write_json

_IDENTITY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReadingPosition:
    identity: str  # sha256 hex of the document's bytes
    chapter: int  # 1-based
    sentence: int  # 0-based, within the chapter
    offset: int  # character offset of that sentence in the chapter's text
    source: str = ""  # where the document was opened from (shown, never trusted as a key)
    saved_at: float = 0.0  # time.time()


class PositionStore:
    """Reading positions, one JSON file per document, under the data dir."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else \
            paths.data_dir() / "positions"

    def _path(self, identity: str) -> Path:
        if not _IDENTITY.match(identity):  # never a path built from anything else
            raise ValueError(f"not a document identity: {identity!r}")
        return self.directory / f"{identity}.json"

    def save(self, position: ReadingPosition) -> None:
        if position.saved_at == 0.0:
            position = ReadingPosition(**{**asdict(position), "saved_at": time.time()})
        atomic_write_json(self._path(position.identity), asdict(position))

    def load(self, identity: str) -> ReadingPosition | None:
        """The saved position, or None (never saved, or a damaged file: start afresh)."""
        path = self._path(identity)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            position = ReadingPosition(
                identity=str(data["identity"]), chapter=int(data["chapter"]),
                sentence=int(data["sentence"]), offset=int(data["offset"]),
                source=str(data.get("source", "")), saved_at=float(data.get("saved_at", 0.0)))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if position.identity != identity or min(position.chapter - 1, position.sentence,
                                                position.offset) < 0:
            return None
        return position

    def forget(self, identity: str) -> None:
        try:
            self._path(identity).unlink()
        except FileNotFoundError:
            pass
