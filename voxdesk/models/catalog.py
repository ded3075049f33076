"""The models VoxDesk knows by name: what they are, how big, and what they need.

Facts come from the VoxCPM project's model table (backbone size, sample rate, languages, VRAM).
Download sizes are approximate (the hub's own file list gives the exact figure when a download
starts); they are here so a person can choose before anything is fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxdesk.errors import VoxDeskError

GB = 1000**3


@dataclass(frozen=True)
class CatalogEntry:
    id: str  # short name a person types: "VoxCPM2"
    repo_id: str  # Hugging Face repository
    modelscope_id: str | None  # the same model on ModelScope, if it is there
    kind: str  # "tts" or "denoiser"
    description: str
    parameters: str  # "2B"
    approx_size_bytes: int  # download size, approximate
    sample_rate: int | None  # output sample rate in Hz (None: not a speech model)
    languages: tuple[str, ...]
    vram_gb: float | None  # GPU memory it needs for synthesis
    default_source: str = "huggingface"

    @property
    def is_tts(self) -> bool:
        return self.kind == "tts"

    def languages_text(self) -> str:
        if len(self.languages) > 4:
            return f"{len(self.languages)} languages"
        return ", ".join(self.languages)


VOXCPM2_LANGUAGES = (
    "Arabic", "Burmese", "Chinese", "Danish", "Dutch", "English", "Finnish", "French", "German",
    "Greek", "Hebrew", "Hindi", "Indonesian", "Italian", "Japanese", "Khmer", "Korean", "Lao",
    "Malay", "Norwegian", "Polish", "Portuguese", "Russian", "Spanish", "Swahili", "Swedish",
    "Tagalog", "Thai", "Turkish", "Vietnamese",
)

CATALOGUE: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        id="VoxCPM2",
        repo_id="openbmb/VoxCPM2",
        modelscope_id="OpenBMB/VoxCPM2",
        kind="tts",
        description="Latest and best: 30 languages, 48 kHz audio, cloning from a clip alone.",
        parameters="2B",
        approx_size_bytes=int(4.9 * GB),
        sample_rate=48000,
        languages=VOXCPM2_LANGUAGES,
        vram_gb=8.0,
    ),
    CatalogEntry(
        id="VoxCPM1.5",
        repo_id="openbmb/VoxCPM1.5",
        modelscope_id="OpenBMB/VoxCPM1.5",
        kind="tts",
        description="Lighter and faster: Chinese and English, 44.1 kHz audio.",
        parameters="0.6B",
        approx_size_bytes=int(2.0 * GB),
        sample_rate=44100,
        languages=("Chinese", "English"),
        vram_gb=6.0,
    ),
    CatalogEntry(
        id="VoxCPM-0.5B",
        repo_id="openbmb/VoxCPM-0.5B",
        modelscope_id="OpenBMB/VoxCPM-0.5B",
        kind="tts",
        description="The first release: Chinese and English, 16 kHz audio.",
        parameters="0.5B",
        approx_size_bytes=int(1.8 * GB),
        sample_rate=16000,
        languages=("Chinese", "English"),
        vram_gb=5.0,
    ),
    CatalogEntry(
        id="denoiser",
        repo_id="iic/speech_zipenhancer_ans_multiloss_16k_base",
        modelscope_id="iic/speech_zipenhancer_ans_multiloss_16k_base",
        kind="denoiser",
        description="Optional: cleans background noise out of voice reference clips (ZipEnhancer).",
        parameters="",
        approx_size_bytes=int(0.07 * GB),
        sample_rate=None,
        languages=(),
        vram_gb=None,
        default_source="modelscope",  # it is published on ModelScope only
    ),
)

DEFAULT_MODEL = CATALOGUE[0].repo_id


def tts_models() -> tuple[CatalogEntry, ...]:
    return tuple(entry for entry in CATALOGUE if entry.is_tts)


def find(name: str) -> CatalogEntry | None:
    """The entry for a short name or a repository id, any case; None if it is not known."""
    key = name.strip().lower()
    for entry in CATALOGUE:
        if key in (entry.id.lower(), entry.repo_id.lower(), (entry.modelscope_id or "").lower()):
            return entry
    return None


def lookup(name: str) -> CatalogEntry:
    entry = find(name)
    if entry is None:
        known = ", ".join(entry.id for entry in CATALOGUE)
        raise UnknownModelError(f"{name!r} is not a model VoxDesk knows.",
                                f"Known models: {known}; `voxdesk models list` describes them.")
    return entry


class UnknownModelError(VoxDeskError):
    exit_code = 2


def format_size(n_bytes: float) -> str:
    """Sizes the way a file manager shows them (decimal units)."""
    for unit, scale in (("GB", GB), ("MB", 1000**2), ("kB", 1000)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{int(n_bytes)} B"


def format_duration(seconds: float) -> str:
    """A time left, as rough as a person reads it ("40 s", "12 min", "1.5 h")."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
