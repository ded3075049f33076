"""``.voxvoice`` files: one voice profile in a zip, to move it to another machine.

Contents: ``voxvoice.json`` (what made it), ``profile.json`` (as in the store) and
``reference.wav`` (the normalised audio, byte for byte: importing it back gives the identical
voice). Reading checks everything (zip integrity, sizes, the audio's checksum, that it decodes)
before anything is written, since such a file may come from anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

from voxdesk import __version__
from voxdesk.atomic import atomic_write_bytes
from voxdesk.errors import ReferenceAudioError
from voxdesk.voices.audio import MAX_FILE_SECONDS, MIN_SECONDS, SILENT_PEAK
from voxdesk.voices.errors import VoiceFileError, VoiceStoreError
from voxdesk.voices.profile import AUDIO_FILE, PROFILE_FILE, VoiceProfile, folder_slug, now

SUFFIX = ".voxvoice"
MANIFEST = "voxvoice.json"
ARCHIVE_FORMAT = 1
_MAX_JSON_BYTES = 1 << 20
_MAX_AUDIO_BYTES = 64 << 20  # 2 min of 48 kHz stereo float: far above any real reference
_HINT = "Export the voice again on the machine it came from (`voxdesk voices export`)."


def write_archive(profile: VoiceProfile, dest: Path) -> Path:
    """Write ``profile`` to ``dest`` (or into it, if it is a folder) atomically."""
    if dest.is_dir():
        dest = dest / f"{folder_slug(profile.name)}{SUFFIX}"
    try:
        audio = profile.audio_path.read_bytes()
    except OSError as exc:
        raise VoiceStoreError(f"The audio of “{profile.name}” cannot be read ({exc.strerror}).",
                              "The profile may be damaged: check `voxdesk voices list`.") from exc
    if profile.audio_sha256 and hashlib.sha256(audio).hexdigest() != profile.audio_sha256:
        raise VoiceStoreError(f"The audio of “{profile.name}” is damaged (its checksum does not "
                              "match).", "Remove the voice and add it again from the original.")
    manifest = {"format": ARCHIVE_FORMAT, "app": "VoxDesk", "version": __version__,
                "exported": now().isoformat()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        archive.writestr(PROFILE_FILE, json.dumps(profile.to_json(), indent=2,
                                                  ensure_ascii=False))
        archive.writestr(AUDIO_FILE, audio)
    try:
        atomic_write_bytes(dest, buffer.getvalue())
    except OSError as exc:
        raise VoiceStoreError(f"Cannot write {dest} ({exc.strerror or exc}).",
                              "Choose a folder you can write to, with free space.") from exc
    return dest


def read_archive(path: Path) -> tuple[VoiceProfile, bytes]:
    """The profile (with no folder yet) and audio bytes in a ``.voxvoice`` file, all checked."""
    if not path.is_file():
        raise VoiceFileError(f"The voice file {path} does not exist.", "Check the path.")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = {MANIFEST, PROFILE_FILE, AUDIO_FILE} - names
            if missing:
                raise _not_voice(path, f"{', '.join(sorted(missing))} missing")
            manifest = _json(archive, MANIFEST, path)
            data = _json(archive, PROFILE_FILE, path)
            audio = _member(archive, AUDIO_FILE, _MAX_AUDIO_BYTES, path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise _not_voice(path, f"not a valid zip archive: {exc}") from exc
    except OSError as exc:
        raise VoiceFileError(f"{path.name} cannot be read ({exc.strerror or exc}).",
                             "Check the file and its permissions.") from exc
    version = manifest.get("format") if isinstance(manifest, dict) else None
    if not isinstance(version, int) or version > ARCHIVE_FORMAT:
        raise VoiceFileError(f"{path.name} was written by a newer VoxDesk "
                             f"(format {version!r}).", "Update VoxDesk to import it.")
    try:
        profile, _notes = VoiceProfile.from_json(data, Path())
    except ValueError as exc:
        raise _not_voice(path, f"its profile is damaged: {exc}") from exc
    if profile.audio_sha256 and hashlib.sha256(audio).hexdigest() != profile.audio_sha256:
        raise _not_voice(path, "its audio does not match its checksum")
    _check_audio(audio, path)
    return replace(profile, folder=Path()), audio


def _check_audio(audio: bytes, path: Path) -> None:
    import numpy as np
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(audio), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise _not_voice(path, f"its audio cannot be decoded: {exc}") from exc
    seconds = samples.shape[0] / rate
    if not MIN_SECONDS <= seconds <= MAX_FILE_SECONDS:
        raise ReferenceAudioError(f"The voice in {path.name} has {seconds:.1f} s of audio, "
                                  "which is not a usable reference.", _HINT)
    if not np.isfinite(samples).all() or float(np.abs(samples).max()) < SILENT_PEAK:
        raise ReferenceAudioError(f"The voice in {path.name} has silent or invalid audio.", _HINT)


def _member(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limit:  # checked before decompressing: a zip bomb stays small
        raise _not_voice(path, f"{name} is implausibly large ({info.file_size:,} bytes)")
    with archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _not_voice(path, f"{name} is implausibly large")
    return data


def _json(archive: zipfile.ZipFile, name: str, path: Path) -> object:
    raw = _member(archive, name, _MAX_JSON_BYTES, path)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _not_voice(path, f"{name} is not valid JSON") from exc


def _not_voice(path: Path, reason: str) -> VoiceFileError:
    return VoiceFileError(f"{path.name} is not a usable VoxDesk voice file ({reason}).", _HINT)
