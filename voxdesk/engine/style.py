"""The words VoxCPM2 reads between parentheses before the text: a voice description or a style.

The engine checks a request's style itself (:class:`~voxdesk.engine.request.SynthesisParams`),
and voice design (voxdesk.voices.design) checks descriptions with the same rules, so the rules
live here, below both, and the engine never imports the voice store.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from voxdesk.errors import InvalidRequestError, VoxDeskError

if TYPE_CHECKING:
    from voxdesk.engine.model import ModelInfo

#: Longest description or style, in characters: a sentence or two is what the model was
#: trained on; an essay is a mistake (or an attack on the prompt format).
MAX_DESCRIPTION_CHARS = 300


class VoiceDesignError(VoxDeskError):
    """The model cannot design voices or take a style (VoxCPM 1.x)."""


def require_description_model(info: ModelInfo, what: str = "Voice design") -> None:
    """Only VoxCPM2 reads a description; VoxCPM 1.x would speak it aloud."""
    if info.architecture != "voxcpm2":
        raise VoiceDesignError(
            f"{what} needs VoxCPM2; {info.model_id} (VoxCPM 1.x) cannot follow a "
            "description.", "Load VoxCPM2 (`--model VoxCPM2`), or clone a recording instead.")


def check_description(text: str | None, what: str = "description") -> str:
    """The cleaned description (or style), or a clear :class:`InvalidRequestError`."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidRequestError(f"The voice {what} is empty.",
                                  "Describe the voice, e.g. “a warm, calm older man”.")
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(
            f"The voice {what} is {len(cleaned):,} characters long; at most "
            f"{MAX_DESCRIPTION_CHARS} are accepted.", "Describe the voice in a sentence or two.")
    if any(c in "()（）" for c in cleaned):
        raise InvalidRequestError(f"A voice {what} cannot contain parentheses (the model reads "
                                  "the description between parentheses).",
                                  "Use commas instead.")
    if any(unicodedata.category(c).startswith("C") for c in cleaned):
        raise InvalidRequestError(f"A voice {what} cannot contain control characters.")
    return cleaned
