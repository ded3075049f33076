# Usage (from the repository root): python docs/scripts/packed_linear_deviation.py MODEL_DIR
# Session 6: how far the packed linear layers (voxdesk.engine.packed_linear) move the audio,
# beside how far the same model moves with nothing changed but torch's thread count (another
# summation order, which nobody calls another voice). Same text, seed and prompt each time.
"""Prints, for a full-size model: max |difference| / max |audio| and the SNR of each variant
against the plain model on 2 threads."""
import sys
import numpy as np
import torch
from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.engine.model import load_model
from voxdesk.engine.packed_linear import pack_linear_weights

TEXT = "This is a sentence for measuring how far the arithmetic moves the voice."
engine = Engine(load_model(sys.argv[1], "cpu", False, False))  # no speed-ups


def speak() -> np.ndarray:
    params = SynthesisParams(min_len=10, max_len=10, seed=7)
    return np.concatenate([c.samples for c in engine.synthesize(SynthesisRequest(TEXT, params=params))])


def compare(label: str, audio: np.ndarray, ref: np.ndarray) -> None:
    n = min(audio.size, ref.size)
    diff = audio[:n] - ref[:n]
    snr = 10 * np.log10(np.sum(ref[:n] ** 2) / max(np.sum(diff ** 2), 1e-30))
    print(f"{label}: samples {audio.size} vs {ref.size}, max|diff|/max|ref| "
          f"{np.abs(diff).max() / np.abs(ref).max():.2e}, SNR {snr:.1f} dB", flush=True)


torch.set_num_threads(2)
reference = speak()
compare("plain, 2 threads, again", speak(), reference)
torch.set_num_threads(1)
compare("plain, 1 thread", speak(), reference)
torch.set_num_threads(2)
print("packed", pack_linear_weights(engine._model.tts), "layers", flush=True)
compare("packed, 2 threads", speak(), reference)
