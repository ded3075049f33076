"""Checksums: SHA-256 (what the hubs publish for large files) and git blob ids (small files)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

CHUNK = 1 << 20


class FileHasher:
    """Hashes a file's bytes as they arrive, with whatever checksum the source published."""

    def __init__(self, size: int, sha256: str | None, git_sha1: str | None) -> None:
        self.expected_sha256 = sha256.lower() if sha256 else None
        self.expected_git = git_sha1.lower() if git_sha1 else None
        self._sha256 = hashlib.sha256() if sha256 else None
        self._git = None
        self.count = 0  # bytes hashed so far
        if git_sha1 and not sha256:
            # A git blob id is the SHA-1 of "blob <size>\0" followed by the content.
            self._git = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self.count += len(data)
        if self._sha256 is not None:
            self._sha256.update(data)
        if self._git is not None:
            self._git.update(data)

    def update_from_file(self, path: Path, limit: int | None = None,
                         on_bytes: Callable[[int], None] | None = None) -> None:
        """Feed the first ``limit`` bytes of ``path`` (a partial download being resumed)."""
        remaining = limit
        with open(path, "rb") as f:
            while remaining is None or remaining > 0:
                block = f.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not block:
                    break
                self.update(block)
                if remaining is not None:
                    remaining -= len(block)
                if on_bytes is not None:
                    on_bytes(len(block))

    @property
    def checks_content(self) -> bool:
        return self._sha256 is not None or self._git is not None

    def matches(self) -> bool:
        if self._sha256 is not None and self._sha256.hexdigest() != self.expected_sha256:
            return False
        if self._git is not None and self._git.hexdigest() != self.expected_git:
            return False
        return True


def file_matches(path: Path, size: int, sha256: str | None, git_sha1: str | None,
                 on_bytes: Callable[[int], None] | None = None) -> bool:
    try:
        if path.stat().st_size != size:
            return False
    except OSError:
        return False
    hasher = FileHasher(size, sha256, git_sha1)
    if hasher.checks_content:
        hasher.update_from_file(path, on_bytes=on_bytes)
    return hasher.matches()
