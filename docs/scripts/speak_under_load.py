"""`voxdesk speak` under load, checked sample by sample in the null sink (docs/performance.md,
"Session 7"). Run inside packaging/test-env.sh (or with VOXDESK_TEST_SINK set):

    python docs/scripts/speak_under_load.py MODEL_DIR RUNS OUT_DIR BUSY_PROCESSES

MODEL_DIR: a test model whose stop head never fires (`python -m voxdesk.testing.tiny_model DIR
--stop-never`), so speak and export make the same samples. Each run whose recording lost or
changed samples is kept in OUT_DIR (the recording as .npy, speak's stderr as .txt).
"""

import os
import subprocess
import sys

import numpy as np
import soundfile

from voxdesk.testing.sink import SinkRecorder, compare_heard

TEXT = "Hello from the command line. This is a second sentence."
FAST = ["--max-len", "6", "--seed", "11", "--device", "cpu", "--pause", "0"]


def voxdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "voxdesk", *args], capture_output=True,
                          text=True, timeout=120)


def main() -> None:
    model, runs, out, busy = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    reference = os.path.join(out, "reference.wav")
    assert voxdesk("export", TEXT, "-o", reference, "--format", "float32", "--model", model,
                   *FAST).returncode == 0
    expected, _ = soundfile.read(reference, dtype="float32")
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    failed = 0
    try:
        for run in range(runs):
            with SinkRecorder() as recorder:
                result = voxdesk("speak", TEXT, "--model", model, "--stats", *FAST)
            heard = compare_heard(recorder.samples, expected)
            stats = [line for line in result.stderr.splitlines()
                     if line.split(":")[0] in ("underruns", "seams", "device_underflows", "stalls")]
            intact = not heard.losses and heard.garbled_at is None
            print(run, "intact" if intact else "LOST", heard.losses, heard.garbled_at, stats,
                  flush=True)
            if not intact:
                failed += 1
                np.save(os.path.join(out, f"run{run}.npy"), recorder.samples)
                with open(os.path.join(out, f"run{run}.txt"), "w", encoding="utf-8") as log:
                    log.write(result.stderr)
    finally:
        for hog in hogs:
            hog.kill()
    print(f"{failed} of {runs} runs lost samples")


if __name__ == "__main__":
    main()
