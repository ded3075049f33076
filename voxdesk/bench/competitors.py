"""Other programs keeping the CPU busy, started by the benchmark itself (the `busy` scenario).

Each competitor is a separate Python process spinning on one core until a deadline it knows
itself, so even a benchmark killed with SIGKILL leaves nothing running for longer than that;
the context manager stops them at once when the block ends, also on Ctrl+C or an exception.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

#: A competitor never outlives this, whatever happens to the benchmark.
DEFAULT_MAX_SECONDS = 600.0

_SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def competing_processes(count: int, max_seconds: float = DEFAULT_MAX_SECONDS
                        ) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` CPU-bound processes (one core each) while the block runs."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            processes.append(subprocess.Popen(
                [sys.executable, "-c", _SPIN.format(seconds=float(max_seconds))],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
