"""Each pytest-xdist worker gets an X display and a PulseAudio null sink of its own.

The suite runs in two processes at once (``-n``, see pyproject.toml). Most of its time is spent
waiting for audio to play in real time, so two workers nearly halve it on two cores. But tests
record the null sink to check what a person would hear, and GUI tests move focus and the
clipboard: two workers on one sink or one display would hear and type into each other. So a
worker starts its own Xvfb and loads its own null sink (with a 20 ms recorder that keeps it
ticking like a real sound card, as packaging/test-env.sh does for the main one), before Qt or
PortAudio are loaded, and removes them when it exits.

Outside xdist (one process, or a developer's own desktop) nothing changes.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
from collections.abc import Callable

_cleanups: list[Callable[[], object]] = []


def release_worker_resources() -> None:
    """Stop this worker's display and sink (from pytest_unconfigure; atexit as a fallback)."""
    while _cleanups:
        _cleanups.pop()()


atexit.register(release_worker_resources)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=20)


def _own_sink(worker: str) -> None:
    if not (shutil.which("pactl") and os.environ.get("VOXDESK_TEST_SINK")):
        return  # no test sink to begin with: the audio tests skip themselves
    if _run("pactl", "info").returncode != 0:
        return
    sink = f"voxdesk_null_{worker}"
    sinks = _run("pactl", "list", "short", "sinks").stdout.split("\n")
    module = None
    if sink not in {line.split("\t")[1] for line in sinks if "\t" in line}:
        loaded = _run("pactl", "load-module", "module-null-sink", f"sink_name={sink}", "rate=48000",
                      f"sink_properties=device.description=VoxDeskNull_{worker}")
        if loaded.returncode != 0:
            return
        module = loaded.stdout.strip()
    clock = subprocess.Popen(["parec", "--latency-msec=20", "-d", f"{sink}.monitor", "--raw"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def remove() -> None:
        clock.terminate()
        if module:
            _run("pactl", "unload-module", module)

    _cleanups.append(remove)
    os.environ.update(PULSE_SINK=sink, VOXDESK_TEST_SINK=sink, PULSE_SOURCE=f"{sink}.monitor")


def _own_display() -> None:
    if not (os.environ.get("DISPLAY") and shutil.which("Xvfb")):
        return
    # -displayfd: the server picks a free display number itself and writes it to the pipe, so
    # two workers starting at the same moment cannot take the same one.
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0",
                               "1600x1000x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number.isdigit():
        server.kill()
        return  # keep the shared display
    _cleanups.append(server.terminate)
    os.environ["DISPLAY"] = f":{number}"


def isolate_xdist_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        _own_sink(worker)
        _own_display()
