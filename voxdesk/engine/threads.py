"""torch's thread count on a busy desktop: no more threads than the cores other programs leave.

torch runs each operation on all its threads, which then wait for each other. When another
program keeps a core busy, one of them is often descheduled and the others spin until it comes
back: with 2 threads on 2 cores and one competing process, every step takes far more than the
fair 2x. So before each sentence and between its steps :class:`ThreadTuner` looks at how
much CPU the *other* programs used since it last looked (Linux /proc/stat minus this process's
own time) and uses the cores left, at least one, at most the count torch started with.
Elsewhere, or when the user fixed the count (OMP_NUM_THREADS / VOXDESK_THREADS), it does nothing.

A model whose matrices are all small (the test models) runs on one thread from the start
(:func:`start_threads`): its operations are too short to share, and the second thread would
only spin, taking a core from everything else (an export's encoder, the window, the player).
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
#: Threads pay only for a model with a linear layer at least this big. The tiny test model
#: (largest layer 8,192 weights) synthesised a book in 85 ms per second of audio on 1 thread
#: and 87-117 ms on 2, which kept both cores busy (OpenMP's idle thread spins) so that an MP3
#: encoder beside it added 12-30 % instead of 2 %; every real VoxCPM model's layers are over
#: 1 M weights, and the full-size one runs 1.7x faster on 2 threads than on 1.
PARALLEL_MIN_WEIGHTS = 256 * 1024

_machine_threads: int | None = None


def machine_threads() -> int:
    """torch's thread count before VoxDesk changed it (what a big model may use)."""
    global _machine_threads
    if _machine_threads is None:
        import torch

        _machine_threads = torch.get_num_threads()
    return _machine_threads


def largest_linear(model: object) -> int:
    """The weights of ``model``'s biggest linear layer (0 if it has none)."""
    import torch

    if not isinstance(model, torch.nn.Module):
        return 0
    weights = (getattr(m, "weight" if isinstance(m, torch.nn.Linear) else "packed_weight", None)
               for m in model.modules())
    return max((w.numel() for w in weights if isinstance(w, torch.Tensor)), default=0)


def start_threads(model: object) -> int:
    """Set torch's thread count for a newly loaded ``model`` (on the CPU) and return it: the
    user's ``VOXDESK_THREADS``, else 1 for a model too small to share, else the machine's."""
    import torch

    fixed = os.environ.get("VOXDESK_THREADS", "").strip()
    if fixed:
        try:
            wanted = max(1, int(fixed))
        except ValueError:
            log.warning("VOXDESK_THREADS=%r is not a number: ignored", fixed)
            wanted = machine_threads()
    elif os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()  # the user's, as torch read it
    elif largest_linear(model) < PARALLEL_MIN_WEIGHTS:
        wanted = 1
    else:
        wanted = machine_threads()
    torch.set_num_threads(wanted)
    return wanted


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
        self._apply_here()
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

    def _apply_here(self) -> None:
        """torch keeps a count per thread once that thread has run an operation: a generation
        on a thread that ran one under another count (the window's synthesis thread, under the
        model loaded before) would otherwise keep it."""
        import torch

        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)

    def reset(self) -> None:
        """Back to the full count (e.g. when the tuner is turned off)."""
        import torch

        torch.set_num_threads(self.max_threads)
        self.threads = self.max_threads
