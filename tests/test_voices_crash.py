"""Crash safety: a process saving profiles non-stop is killed (SIGKILL) at varied moments, and
at the most dangerous one (a write complete on disk but not yet renamed into place); the store
must always load, and every profile must be the old or the new version, intact."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voxdesk.voices import VoiceStore

ITERATIONS = 10  # kills at varied moments
# Kills forced inside a write, one for each rename of the child's first loop: profile.json,
# another profile.json, a new folder, store.json, a move to the trash and back, a duplicate, the
# export.
STALLED_RENAMES = range(1, 9)

# Every kind of write the store does, in a loop: rewrite profile.json (update, rename, default),
# create folders (add, duplicate), move folders (remove to trash, restore) and export a file.
CHILD = r"""
import sys
from pathlib import Path
from voxdesk.voices import VoiceStore

root, clip, export, start = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
stall_at = int(sys.argv[5])
if stall_at:
    # Fault injection: the stall_at-th rename (the step that makes a finished write visible)
    # waits to be killed, so that kill surely lands inside a write however fast the disk is.
    import os, time
    renames = [0]
    def stalling(rename):
        def call(*args, **kwargs):
            renames[0] += 1
            if renames[0] == stall_at:
                print("inside a write", flush=True)
                time.sleep(3600)
            return rename(*args, **kwargs)
        return call
    os.rename, os.replace = stalling(os.rename), stalling(os.replace)
store = VoiceStore(root)
print("ready", flush=True)
i = start
while True:
    i += 1
    store.update("Anna", transcript=f"version {i}")
    carl = next(n for n in store.names() if n.startswith("Carl"))
    store.rename(carl, "Carl B" if carl == "Carl" else "Carl")
    store.add(f"New {i}", clip, transcript=f"new {i}")
    store.set_default(f"New {i}" if i % 2 else "Anna")
    removed = store.remove(f"New {i}")
    store.restore(removed)
    store.duplicate("Anna", f"Copy {i}")
    store.export("Anna", export)
    print(i, flush=True)
"""


def speech_like(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    voiced = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    return (0.4 * voiced * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) / 2.3).astype(np.float32)


def check_intact(store: VoiceStore) -> None:
    """Every profile loads, its audio matches its checksum, and it is a version we wrote."""
    profiles = store.list()
    assert store.problems == [], store.problems
    names = [p.name for p in profiles]
    assert "Anna" in names and "Bob" in names
    assert sum(n in ("Carl", "Carl B") for n in names) == 1, names
    for profile in profiles:
        audio = profile.audio_path.read_bytes()
        assert hashlib.sha256(audio).hexdigest() == profile.audio_sha256, profile.name
        soundfile.info(profile.audio_path)  # decodes
        if profile.name == "Anna":
            assert profile.transcript.startswith("version "), profile.transcript
        elif profile.name.startswith("New "):
            assert profile.transcript == f"new {profile.name.split()[1]}"
        elif profile.name.startswith("Copy "):
            assert profile.audio_sha256 == store.get("Anna").audio_sha256
        else:
            assert profile.name in ("Bob", "Carl", "Carl B"), profile.name
    default = store.default()
    assert default is None or default.name in names


def interrupted_writes(root: Path) -> int:
    """Leftovers of writes cut short: staging folders and atomic-write temp files."""
    return len([*root.glob(".new-*"), *root.glob(".*.tmp"), *root.glob("*/.*.tmp")])


@pytest.mark.timeout(240)
def test_sigkill_while_saving_never_breaks_a_profile(tmp_path):
    clip = tmp_path / "clip.wav"
    soundfile.write(clip, speech_like(2.0), 16000)
    root = tmp_path / "voices"
    store = VoiceStore(root)
    store.add("Anna", clip, transcript="version 0")
    store.add("Bob", clip)
    store.add("Carl", clip)
    export = tmp_path / "anna.voxvoice"

    rng = np.random.default_rng(1)
    # Varied timings: from right after start-up to well into the loop, jittered; then kills
    # forced inside writes of every kind (profile.json, a new folder, a move, the export).
    delays = np.linspace(0.0, 0.6, ITERATIONS) + rng.uniform(0, 0.05, ITERATIONS)
    kills = [(float(delay), 0) for delay in delays] + [(0.0, n) for n in STALLED_RENAMES]
    completed, interrupted, start = 0, 0, 0
    for delay, stall_at in kills:
        leftovers = interrupted_writes(root)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), str(clip), str(export), str(start),
             str(stall_at)],
            stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            if stall_at:
                lines = iter(child.stdout.readline, "")
                output = list(itertools.takewhile(lambda line: line != "inside a write\n", lines))
                completed += len(output)
            else:
                time.sleep(delay)
            os.kill(child.pid, signal.SIGKILL)
            output = child.communicate(timeout=30)[0].split()
        finally:
            if child.poll() is None:
                child.kill()
        assert child.returncode == -signal.SIGKILL
        completed += len(output)
        start += 1000  # fresh names for the next child
        interrupted += interrupted_writes(root) > leftovers

        store = VoiceStore(root)  # a new process would start exactly like this
        check_intact(store)
        if export.exists():  # the export is the old file or the new one, never a torn zip
            with zipfile.ZipFile(export) as archive:
                assert archive.testzip() is None
                assert json.loads(archive.read("profile.json"))["name"] == "Anna"
        # What the killed process left behind is invisible and does not stop further saves.
        store.update("Anna", transcript="version after crash")
        check_intact(store)
    assert completed > 0, "the children never got through a loop: nothing was tested"
    # The leftovers prove kills landed inside writes (a kill between two writes, or in a folder
    # move, leaves none; a kill after a temp file or a staging folder is written and before its
    # rename does).
    assert interrupted > 0, "no kill interrupted a write: nothing was tested"
    print(f"{completed} loops completed, {interrupted} of {len(kills)} kills left a write "
          "half-done")
