"""A progress bar on stderr: redrawn in place on a terminal, one line per step otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28


class Progress:
    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.done = 0
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._tty = self._stream.isatty()
        self._started = time.monotonic()
        self._last_label = ""

    def step(self, label: str) -> None:
        """One unit of work is starting; ``label`` says which."""
        self._last_label = label
        self._draw()

    def advance(self) -> None:
        self.done = min(self.done + 1, self.total)
        if self._tty:  # off a terminal, one line per step is enough
            self._draw()

    def _draw(self) -> None:
        if not self._enabled:
            return
        filled = WIDTH * self.done // self.total
        elapsed = time.monotonic() - self._started
        line = (f"[{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.0f} s  {self._last_label}")
        if self._tty:
            self._stream.write("\r\033[K" + line[:120])
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._enabled and self._tty:
            self._stream.write("\r\033[K")
            self._stream.flush()
