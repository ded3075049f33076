"""Voice design (VoxCPM2): a voice described in words instead of recorded.

VoxCPM2 reads a description in parentheses before the text ("(a warm, calm older man)Hello")
and invents a matching speaker; each seed gives another one. Designing a voice is: generate a
few candidates of one sample sentence from different seeds, let the person listen, and keep one
as an ordinary profile whose prompt is the candidate's audio and its text (continuation mode).
From then on the voice is the clip, not the description, so it is the same every time and
usable by name everywhere (``--voice``, the API's ``voice``), exported and imported like any
other. VoxCPM 1.x has no such control: asking it is a clear error.

The same parenthesised prefix is VoxCPM2's "controllable cloning": a *style* ("slightly faster,
cheerful") for a cloned voice. It only works when the clip is given as a *reference*, not as a
continuation prompt (OpenBMB/VoxCPM #309), so the engine builds styled requests that way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

# Re-exported: callers of voice design see its limits here.
from voxdesk.engine.style import MAX_DESCRIPTION_CHARS as MAX_DESCRIPTION_CHARS
from voxdesk.engine.style import VoiceDesignError as VoiceDesignError
from voxdesk.engine.style import check_description as check_description
from voxdesk.engine.style import require_description_model
from voxdesk.errors import InvalidRequestError

if TYPE_CHECKING:
    from voxdesk.engine import Engine
    from voxdesk.voices.profile import VoiceProfile
    from voxdesk.voices.store import VoiceStore

#: What each candidate says: every phoneme class of English, in about five seconds.
SAMPLE_TEXT = "The quick brown fox jumps over the lazy dog, and then it reads a story aloud."
#: Longest candidate, in generation steps (60 x 160 ms = 9.6 s).
DESIGN_MAX_STEPS = 60
MAX_CANDIDATES = 8


def require_design(engine: Engine, what: str = "Voice design") -> None:
    require_description_model(engine.info, what)


@dataclass(frozen=True)
class Candidate:
    seed: int
    text: str  # what it says (its transcript)
    samples: np.ndarray  # float32 mono at ``sample_rate``
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


def candidate_seeds(seed: int, count: int) -> list[int]:
    if not 1 <= count <= MAX_CANDIDATES:
        raise InvalidRequestError(f"Between 1 and {MAX_CANDIDATES} candidates, not {count}.")
    if not 0 <= seed < 2**63 - MAX_CANDIDATES:
        raise InvalidRequestError(f"The seed must be between 0 and 2^63, not {seed}.")
    return [seed + i for i in range(count)]


def generate_candidates(
    engine: Engine, description: str, seed: int, count: int = 3, text: str = SAMPLE_TEXT,
    max_steps: int | None = None, cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[Candidate]:
    """One candidate per seed (``seed``, ``seed + 1``...), each as soon as it is made."""
    description = check_description(description)
    require_design(engine)
    for one_seed in candidate_seeds(seed, count):
        if cancelled():
            return
        samples = engine.design_sample(description, text, one_seed,
                                       max_steps or DESIGN_MAX_STEPS)
        yield Candidate(one_seed, " ".join(text.split()), samples, engine.sample_rate)


def keep(store: VoiceStore, name: str, candidate: Candidate, description: str,
         language: str | None = None) -> VoiceProfile:
    """Save ``candidate`` as the profile ``name``: its audio and its text, continuation mode."""
    import soundfile

    with tempfile.TemporaryDirectory(prefix="voxdesk-design-") as folder:
        path = Path(folder) / "candidate.wav"
        soundfile.write(path, candidate.samples, candidate.sample_rate, subtype="FLOAT")
        return store.add(name, path, transcript=candidate.text, mode="continuation",
                         language=language, description=check_description(description))


def random_seed() -> int:
    from voxdesk.engine.house_voice import random_seed as seed

    return seed()
