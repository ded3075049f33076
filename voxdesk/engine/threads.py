"""torch's thread count on a busy desktop: no more threads than the cores other programs leave.

torch runs each operation on all its threads, which then wait for each other. When another
program keeps a core busy, one of them is often descheduled and the others spin until it comes
back: with 2 threads on 2 cores and one competing process, every step takes far more than the
fair 2x. So before each sentence and between its steps :class:`ThreadTuner` looks at how
much CPU the *other* programs used since it last looked (Linux /proc/stat minus this process's
own time) and uses the cores left, at least one, at most the count torch started with.
Elsewhere, or when the user fixed the count (OMP_NUM_THREADS / VOXDESK_THREADS), it does nothing.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)

#: Shorter windows than this are too noisy to act on: keep the current count.
MIN_WINDOW_S = 0.3
#: A core counts as taken by others when they used more than this share of it.
TAKEN_SHARE = 0.5


def _read_cpu() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine since boot, or None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return total - idle, total


def _read_own() -> int | None:
    """This process's user + system jiffies (all its threads)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def free_cores(cores: int, busy: int, total: int, own: int) -> float:
    """Cores not used by other programs, from jiffy deltas of the machine and this process."""
    if total <= 0:
        return float(cores)
    others = max(0, busy - own) * cores / total
    return cores - others


class ThreadTuner:
    def __init__(self, max_threads: int | None = None, cores: int | None = None) -> None:
        import torch

        self.max_threads = max_threads or torch.get_num_threads()
        self.cores = cores or os.cpu_count() or 1
        fixed = os.environ.get("OMP_NUM_THREADS") or os.environ.get("VOXDESK_THREADS")
        self.enabled = not fixed and _read_cpu() is not None and self.max_threads > 1
        self.threads = self.max_threads
        self._last = self._sample()

    def _sample(self) -> tuple[float, tuple[int, int] | None, int | None]:
        return time.monotonic(), _read_cpu(), _read_own()

    def adjust(self, reproducible: bool = False) -> int:
        """Set torch's thread count for what comes next; returns it. ``reproducible``: the full
        count, always (another count sums in another order: not bit-identical audio)."""
        if not self.enabled:
            return self.threads
        if reproducible:
            if self.threads != self.max_threads:
                self.reset()
            return self.threads
        # Called between steps too: read /proc only once the window is long enough to act on.
        if time.monotonic() - self._last[0] < MIN_WINDOW_S:
            return self.threads
        now = self._sample()
        (_, cpu0, own0), (_, cpu1, own1) = self._last, now
        if None in (cpu0, cpu1, own0, own1):
            return self.threads
        self._last = now
        assert cpu0 is not None and cpu1 is not None and own0 is not None and own1 is not None
        free = free_cores(self.cores, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], own1 - own0)
        # A core others use for more than TAKEN_SHARE of the time is theirs.
        wanted = max(1, min(self.max_threads, int(free + (1 - TAKEN_SHARE))))
        if wanted != self.threads:
            import torch

            log.info("Other programs use %.1f of %d cores: %d torch thread(s)",
                     self.cores - free, self.cores, wanted)
            torch.set_num_threads(wanted)
            self.threads = wanted
        return self.threads

    def reset(self) -> None:
        """Back to the full count (e.g. when the tuner is turned off)."""
        import torch

        torch.set_num_threads(self.max_threads)
        self.threads = self.max_threads
