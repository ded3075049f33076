"""One voice profile: what ``profile.json`` holds, and the rules for names.

``profile.json`` is versioned (``"format": 1``) and read leniently: unknown keys are ignored
(a newer VoxDesk may add some) and synthesis settings that are out of range fall back to the
defaults instead of making the profile unusable.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from voxdesk.engine.request import MAX_SEED, SynthesisParams, VoiceReference
from voxdesk.errors import ReferenceAudioError, VoxDeskError
from voxdesk.voices.errors import InvalidVoiceNameError

FORMAT = 1
PROFILE_FILE = "profile.json"
AUDIO_FILE = "reference.wav"
MAX_NAME_LENGTH = 80
Mode = Literal["reference", "continuation"]
MODES: tuple[str, ...] = ("reference", "continuation")


@dataclass(frozen=True)
class VoiceProfile:
    """A saved voice. ``mode`` says how it clones:

    - ``"reference"``: VoxCPM2 clones from the sound of the clip alone (no transcript needed);
    - ``"continuation"``: the model continues the clip, whose ``transcript`` it is given
      (closest match; the only way older VoxCPM models clone).
    """

    name: str
    folder: Path
    transcript: str | None
    mode: Mode
    language: str | None
    params: SynthesisParams
    created: datetime
    modified: datetime
    audio_sha256: str = ""
    audio_bytes: int = 0
    duration: float = 0.0  # seconds of reference audio
    description: str | None = None  # a designed voice: what it was designed from

    @property
    def audio_path(self) -> Path:
        return self.folder / AUDIO_FILE

    def voice_reference(self, reference_only: bool = True) -> VoiceReference:
        """The voice to hand the engine. ``reference_only=False`` (a model that cannot clone
        from the clip alone, e.g. VoxCPM 1.x) uses the transcript, or says it is missing."""
        if self.mode == "continuation" or (not reference_only and self.transcript):
            if not self.transcript:  # a damaged profile.json; load() does not let this through
                raise _needs_transcript(self.name)
            return VoiceReference(prompt_wav=self.audio_path, prompt_text=self.transcript)
        if not reference_only:
            raise _needs_transcript(self.name)
        return VoiceReference(reference_wav=self.audio_path)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "transcript": self.transcript,
            "mode": self.mode,
            "language": self.language,
            "params": dataclasses.asdict(self.params),
            "created": self.created.isoformat(),
            "modified": self.modified.isoformat(),
            "audio": AUDIO_FILE,
            "audio_sha256": self.audio_sha256,
            "audio_bytes": self.audio_bytes,
            "duration": round(self.duration, 3),
            "description": self.description,
        }

    @classmethod
    def from_json(cls, data: object, folder: Path) -> tuple[VoiceProfile, list[str]]:
        """Parse ``profile.json``; raises ValueError if it is not a usable profile. Also returns
        notes about settings that were replaced by defaults."""
        if not isinstance(data, dict):
            raise ValueError("profile.json is not a JSON object")
        if not isinstance(data.get("format"), int) or data["format"] > FORMAT:
            raise ValueError(f"unsupported format {data.get('format')!r} (a newer VoxDesk?)")
        name = data.get("name")
        if not isinstance(name, str):
            raise ValueError("it has no name")
        try:
            name = check_name(name)
        except VoxDeskError as exc:
            raise ValueError(exc.message) from None
        transcript = _optional_str(data, "transcript")
        mode = data.get("mode", "continuation" if transcript else "reference")
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode == "continuation" and not transcript:
            raise ValueError("continuation mode without a transcript")
        sha = data.get("audio_sha256", "")
        size = data.get("audio_bytes", 0)
        duration = data.get("duration", 0.0)
        if not isinstance(sha, str) or not isinstance(size, int) or \
                not isinstance(duration, (int, float)) or isinstance(duration, bool):
            raise ValueError("its audio checksum is malformed")
        if _finite(duration) is None or not 0 <= duration <= 24 * 3600:
            raise ValueError(f"its duration {str(duration)[:20]} is not a number of seconds")
        params, notes = parse_params(data.get("params"))
        profile = cls(
            name=name, folder=folder, transcript=transcript, mode=mode,
            language=_optional_str(data, "language"), params=params,
            created=_time(data.get("created")), modified=_time(data.get("modified")),
            audio_sha256=sha, audio_bytes=size, duration=float(duration),
            description=_optional_str(data, "description"),
        )
        return profile, notes


def parse_params(raw: object) -> tuple[SynthesisParams, list[str]]:
    """Synthesis settings from JSON; anything invalid is replaced by its default (with a note)."""
    defaults = SynthesisParams()
    if raw is None:
        return defaults, []
    if not isinstance(raw, dict):
        return defaults, ["its synthesis settings are malformed; the defaults are used"]
    values: dict[str, Any] = {}
    notes: list[str] = []
    for field in dataclasses.fields(SynthesisParams):
        if field.name not in raw:
            continue
        value, default = raw[field.name], getattr(defaults, field.name)
        if _valid_param(field.name, value, default):
            if isinstance(default, float):
                value = float(value)  # type: ignore[arg-type]
            elif isinstance(default, int) and not isinstance(default, bool):
                value = int(value)  # type: ignore[call-overload]
            values[field.name] = value
        else:
            notes.append(f"its setting {field.name}={value!r} is invalid; the default is used")
    params = defaults.replace(**values)
    try:
        params.validate()
    except VoxDeskError as exc:
        return defaults, [f"{exc.message} The default settings are used"]
    return params, notes


def _valid_param(name: str, value: object, default: object) -> bool:
    if name == "seed":
        return value is None or (isinstance(value, int) and not isinstance(value, bool)
                                 and 0 <= value <= MAX_SEED)
    if name == "style":
        return value is None or isinstance(value, str)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    number = _finite(value)  # JSON may hold 1e400 (inf) or a 400-digit integer
    if number is None:
        return False
    if isinstance(default, int):
        return number.is_integer()
    return True


def _finite(value: int | float) -> float | None:
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def check_name(name: str) -> str:
    """The cleaned-up name (surrounding spaces removed), or :class:`InvalidVoiceNameError`."""
    if not isinstance(name, str):
        raise InvalidVoiceNameError("A voice name must be text.")
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if not name:
        raise InvalidVoiceNameError("A voice needs a name.", "Type a name, e.g. “Narrator”.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidVoiceNameError(f"A voice name is at most {MAX_NAME_LENGTH} characters "
                                    f"long (this one has {len(name)}).", "Choose a shorter name.")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidVoiceNameError("A voice name cannot contain control characters.",
                                    "Use letters, digits, spaces and punctuation.")
    return name


def name_key(name: str) -> str:
    """Names compare without regard to case: "Anna" and "anna" are the same voice."""
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


def folder_slug(name: str) -> str:
    """A filesystem-safe, readable folder name part for ``name`` (the folder also gets an id)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()
    return slug[:40] or "voice"


def unique_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or "wanted (2)", "(3)"... : the first not in ``taken`` (name keys)."""
    if name_key(wanted) not in taken:
        return wanted
    base = re.sub(r" \(\d+\)$", "", wanted)
    for number in range(2, 10_000):
        suffix = f" ({number})"
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if name_key(candidate) not in taken:
            return candidate
    raise InvalidVoiceNameError(f"Too many voices are called {base!r}.", "Choose another name.")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(0, UTC)


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"its {key} is not text")
    return value.strip() or None


def _needs_transcript(name: str) -> ReferenceAudioError:
    return ReferenceAudioError(
        f"The voice “{name}” has no transcript, and this model cannot clone a voice without "
        "one (only VoxCPM2 can).",
        f"Add what is said in its recording: `voxdesk voices set “{name}” --text \"...\"` or "
        "the Voice Profiles window; or use VoxCPM2.")
