"""What to synthesise: text, voice and parameters, validated before the model sees them."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from voxdesk.engine.style import check_description
from voxdesk.errors import EmptyTextError, InvalidRequestError, TextTooLongError

#: One request's text limit: ~200k characters is several hours of speech. Longer documents are
#: read in parts (the clipboard reader does that) rather than held by one request.
MAX_TEXT_CHARS = 200_000
#: torch.manual_seed takes a 64-bit seed; anything larger fails inside the model's thread.
MAX_SEED = 2**63 - 1
_INVALID_CHARACTERS = re.compile("[\ud800-\udfff\x00]")


@dataclass(frozen=True)
class SynthesisParams:
    """VoxCPM's generation parameters, with its defaults. Lengths count generation steps
    (one step is 160 ms of audio with VoxCPM2) and apply to each sentence."""

    cfg_value: float = 2.0
    inference_timesteps: int = 10
    min_len: int = 2
    max_len: int = 4096
    normalize: bool = False
    denoise: bool = False
    seed: int | None = None  # same seed, text and voice -> the same audio
    #: Condition each sentence on the audio the utterance already made (voxdesk.engine.
    #: continuity): one voice through a whole document. Off: each sentence on its own.
    continuity: bool = True
    #: Silence between sentences and between paragraphs (a blank line), in seconds, after each
    #: sentence's own leading and trailing silence is trimmed (voxdesk.engine.joins).
    sentence_pause: float = 0.25
    paragraph_pause: float = 0.6
    #: How a cloned voice should speak ("slightly faster, cheerful"): VoxCPM2's controllable
    #: cloning (voxdesk.voices.design). None: as the clip does.
    style: str | None = None

    #: (minimum, maximum) accepted for each numeric field.
    RANGES = {
        "cfg_value": (0.1, 10.0),
        "inference_timesteps": (1, 100),
        "min_len": (1, 4096),
        "max_len": (1, 8192),
        "sentence_pause": (0.0, 5.0),
        "paragraph_pause": (0.0, 10.0),
    }

    def validate(self) -> SynthesisParams:
        for name, (low, high) in self.RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidRequestError(
                    f"{name.replace('_', ' ')} must be between {low} and {high}, not {value}."
                )
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(
                self.seed, int) or not 0 <= self.seed <= MAX_SEED):
            raise InvalidRequestError(f"The seed must be a whole number from 0 to {MAX_SEED}, "
                                      f"not {_short(self.seed)}.", "Leave it out for a random one.")
        if self.style is not None:
            check_description(self.style, "style")
        if self.min_len > self.max_len:
            raise InvalidRequestError(
                f"min length ({self.min_len}) must not exceed max length ({self.max_len})."
            )
        return self

    def replace(self, **changes: object) -> SynthesisParams:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class VoiceReference:
    """A voice to clone.

    ``reference_wav`` alone: VoxCPM2's reference-only cloning (no transcript needed).
    ``prompt_wav`` + ``prompt_text``: prompt continuation, the model continues the clip.
    All three: both at once.
    """

    reference_wav: Path | None = None
    prompt_wav: Path | None = None
    prompt_text: str | None = None

    def __post_init__(self) -> None:
        if self.prompt_wav is None and self.reference_wav is None:
            raise InvalidRequestError("A voice needs a reference clip.")
        if (self.prompt_wav is None) != (not self.prompt_text):
            raise InvalidRequestError(
                "A prompt clip and its transcript (prompt text) go together: give both."
            )

    @classmethod
    def from_clip(cls, wav: str | Path, transcript: str | None = None) -> VoiceReference:
        """A clip with its transcript continues the clip; without, it is a reference only."""
        path = Path(wav).expanduser()
        if transcript and transcript.strip():
            return cls(prompt_wav=path, prompt_text=transcript.strip())
        return cls(reference_wav=path)

    @property
    def clips(self) -> list[Path]:
        return [p for p in (self.reference_wav, self.prompt_wav) if p is not None]


class TextRewriter(Protocol):
    """Rewrites a sentence just before the model sees it (voxdesk.lexicon.Lexicon)."""

    def apply(self, text: str) -> str: ...


@dataclass(frozen=True)
class SynthesisRequest:
    text: str
    voice: VoiceReference | None = None
    params: SynthesisParams = field(default_factory=SynthesisParams)
    #: Pronunciation replacements for the model's input only: segments keep the original text.
    lexicon: TextRewriter | None = field(default=None, compare=False)

    def validate(self) -> SynthesisRequest:
        if not isinstance(self.text, str) or not self.text.strip():
            raise EmptyTextError("There is no text to speak.", "Type or paste some text first.")
        if len(self.text) > MAX_TEXT_CHARS:
            raise TextTooLongError(
                f"The text is {len(self.text):,} characters long; one request takes at most "
                f"{MAX_TEXT_CHARS:,}.",
                "Split it into parts.",
            )
        check_characters(self.text)
        self.params.validate()
        return self


def check_characters(text: str) -> None:
    """Refuse what no tokenizer can take: half a UTF-16 pair (a lone surrogate, e.g. from
    binary data or JSON's "\\ud800") and NUL characters."""
    bad = _INVALID_CHARACTERS.search(text)
    if bad is not None:
        raise InvalidRequestError(
            f"The text contains an invalid character (U+{ord(bad.group()):04X}) at position "
            f"{bad.start() + 1}.", "Send plain UTF-8 text.")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...{text[-8:]} ({len(text)} digits)"
