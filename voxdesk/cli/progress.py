"""A download progress bar for the terminal (a redrawn line), or plain lines in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from voxdesk.models import DownloadProgress, format_duration, format_size


class ProgressBar:
    """Call it with each :class:`DownloadProgress`; on a terminal it redraws one line, elsewhere
    (a log file, a test) it prints a line every 10 %."""

    WIDTH = 24

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._started = False
        self._last_step = -1
        self._last_draw = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        if p.phase == "listing":
            return
        if not self._started:
            self._started = True
            resumed = f", continuing with {format_size(p.resumed_bytes)} already here" \
                if p.resumed_bytes and p.phase != "done" else ""
            print(f"Downloading {p.model} ({format_size(p.total_bytes)}{resumed})",
                  file=self.stream, flush=True)
        if self.interactive:
            now = time.monotonic()
            if p.phase == "done" or now - self._last_draw >= 0.1:
                self._last_draw = now
                end = "\n" if p.phase == "done" else ""
                print(f"\r{self._line(p)}\033[K", end=end, file=self.stream, flush=True)
            return
        step = int(p.fraction * 10)
        if step != self._last_step or p.phase == "done":
            self._last_step = step
            print(self._line(p), file=self.stream, flush=True)

    def _line(self, p: DownloadProgress) -> str:
        filled = int(p.fraction * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        parts = [f"[{bar}] {p.fraction * 100:3.0f}%",
                 f"{format_size(p.done_bytes)} of {format_size(p.total_bytes)}"]
        if p.phase == "done":
            parts.append("done")
        elif p.bytes_per_second:
            parts.append(f"{format_size(p.bytes_per_second)}/s")
            if p.eta_seconds is not None:
                parts.append(f"{format_duration(p.eta_seconds)} left")
        return "  ".join(parts)

    def interrupted(self) -> None:
        if self.interactive and self._started:
            print(file=self.stream)
