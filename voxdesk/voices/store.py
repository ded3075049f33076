"""The voice profile store: one folder per profile under the user's data folder.

Layout (``root`` is ``paths.data_dir()/"voices"`` unless given)::

    root/
      anna-3f2a9c1d/          one profile: its folder name never changes (renaming a voice
        profile.json          only rewrites profile.json), so nothing else has to move
        reference.wav         normalised reference audio (see voxdesk.voices.audio)
      store.json              which profile is the default
      .new-*/                 a profile being written (invisible until renamed into place)
      .trash/<time>-<folder>  removed profiles, kept for undo and purged after 30 days
      .lock                   serialises changes between processes (window, CLI, server)

Crash safety: a new profile (add, duplicate, import) is written completely into a hidden
staging folder, flushed to disk, and then renamed into place in one step; a change to an
existing profile replaces ``profile.json`` atomically (temp file + fsync + rename). So after a
crash or power cut at any moment every profile is either the old one or the new one. A folder
that is damaged anyway (edited by hand, a failing disk) is reported in :attr:`VoiceStore.problems`
and skipped; it never stops the others from loading.
"""

from __future__ import annotations

import builtins  # the method VoiceStore.list hides the built-in list in the class
import contextlib
import difflib
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from voxdesk import paths
from voxdesk.atomic import _fsync_dir, atomic_write_json  # _fsync_dir: same guarantee, for renames
from voxdesk.engine.request import SynthesisParams
from voxdesk.errors import InvalidRequestError, VoxDeskError
from voxdesk.locks import file_lock
from voxdesk.voices.audio import REFERENCE_RATE, prepare_reference, write_reference
from voxdesk.voices.errors import (
    VoiceExistsError,
    VoiceNotFoundError,
    VoiceStoreError,
)
from voxdesk.voices.profile import (
    AUDIO_FILE,
    MODES,
    PROFILE_FILE,
    Mode,
    VoiceProfile,
    check_name,
    folder_slug,
    name_key,
    now,
    unique_name,
)

__all__ = ["RemovedProfile", "VoiceNotFoundError", "VoiceProfile", "VoiceStore"]

log = logging.getLogger(__name__)

STORE_FILE = "store.json"
TRASH = ".trash"
STAGING_PREFIX = ".new-"
LOCK_FILE = ".lock"
TRASH_KEEP_S = 30 * 24 * 3600
STALE_STAGING_S = 3600  # a staging folder this old belongs to a process that died
_LIST_HINT = "Run `voxdesk voices list` to see the saved voices."


@dataclass(frozen=True)
class RemovedProfile:
    """What :meth:`VoiceStore.remove` returns; give it to :meth:`VoiceStore.restore` to undo."""

    name: str
    trash_folder: Path


class VoiceStore:
    """The user's voice profiles. Safe to use from several threads and processes at once."""

    def __init__(self, root: Path | None = None, sample_rate: int = REFERENCE_RATE) -> None:
        self.root = Path(root) if root is not None else paths.data_dir() / "voices"
        self.sample_rate = sample_rate
        #: Messages about damaged profile folders skipped by the last :meth:`list`.
        self.problems: list[str] = []
        self._thread_lock = threading.RLock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(self.root, exc) from exc
        self._tidy()

    # -- reading ---------------------------------------------------------------------------

    def list(self) -> builtins.list[VoiceProfile]:
        """Every intact profile, sorted by name; damaged folders go to :attr:`problems`."""
        profiles: builtins.list[VoiceProfile] = []
        problems: builtins.list[str] = []
        seen: set[str] = set()
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            raise VoiceStoreError(f"The voice folder {self.root} cannot be read "
                                  f"({exc.strerror}).", "Check its permissions.") from exc
        for folder in entries:
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            try:
                profile, notes = self._load(folder)
            except ValueError as exc:
                problems.append(f"The voice profile folder “{folder.name}” is damaged ({exc}) "
                                f"and was skipped.")
                continue
            problems += [f"Voice “{profile.name}”: {note}." for note in notes]
            if name_key(profile.name) in seen:
                problems.append(f"Two voices are called “{profile.name}” (folder "
                                f"{folder.name}); rename one of them.")
            seen.add(name_key(profile.name))
            profiles.append(profile)
        self.problems = problems
        return sorted(profiles, key=lambda p: (name_key(p.name), p.created))

    def names(self) -> builtins.list[str]:
        return [p.name for p in self.list()]

    def get(self, name: str) -> VoiceProfile:
        profiles = self.list()
        for profile in profiles:
            if name_key(profile.name) == name_key(name):
                return profile
        close = _closest(name, [p.name for p in profiles])
        hint = f"Did you mean “{close}”? {_LIST_HINT}" if close else _LIST_HINT
        raise VoiceNotFoundError(f"There is no voice called “{name}”.", hint)

    def default(self) -> VoiceProfile | None:
        """The profile marked as default, if it (still) exists."""
        folder = self._read_store_file().get("default")
        if not isinstance(folder, str):
            return None
        return next((p for p in self.list() if p.folder.name == folder), None)

    # -- creating --------------------------------------------------------------------------

    def add(self, name: str, audio: Path, transcript: str | None = None,
            params: SynthesisParams | None = None, mode: Mode | None = None,
            language: str | None = None, description: str | None = None) -> VoiceProfile:
        """A new profile from an audio file (checked and normalised first: a refused file
        creates nothing). With a transcript the mode defaults to continuation."""
        name = check_name(name)
        transcript = _clean(transcript)
        mode = _mode(mode, transcript)
        params = (params or SynthesisParams()).validate()
        self._check_free(name)  # before the (slower) audio work; checked again below
        prepared = prepare_reference(Path(audio), self.sample_rate)
        with self._changing():
            self._check_free(name)
            stamp = now()
            fields = VoiceProfile(name=name, folder=Path(), transcript=transcript, mode=mode,
                                  language=_clean(language), params=params, created=stamp,
                                  modified=stamp, duration=prepared.duration,
                                  description=_clean(description))
            return self._create(fields, lambda path: write_reference(path, prepared))

    def duplicate(self, name: str, new: str | None = None) -> VoiceProfile:
        """A copy of ``name`` called ``new`` (default: “NAME copy”, numbered if taken)."""
        with self._changing():
            source = self.get(name)
            if new is None:
                new = unique_name(f"{source.name} copy", self._taken())
            new = check_name(new)
            self._check_free(new)
            stamp = now()
            fields = replace(source, name=new, created=stamp, modified=stamp)
            return self._create(fields, lambda path: _copy_file(source.audio_path, path))

    def import_(self, path: Path) -> VoiceProfile:
        """Add the profile in a ``.voxvoice`` file; a name already in use gets a number."""
        from voxdesk.voices.archive import read_archive

        fields, audio_bytes = read_archive(Path(path))
        with self._changing():
            name = unique_name(fields.name, self._taken())
            return self._create(replace(fields, name=name),
                                lambda target: _write_file(target, audio_bytes))

    # -- changing --------------------------------------------------------------------------

    def update(self, name: str, *, transcript: str | None | object = ...,
               mode: Mode | None | object = ..., language: str | None | object = ...,
               params: SynthesisParams | object = ...) -> VoiceProfile:
        """Change a profile's details (those given); ``transcript=None`` removes it."""
        with self._changing():
            profile = self.get(name)
            changes: dict[str, object] = {}
            if transcript is not ...:
                changes["transcript"] = _clean(transcript)  # type: ignore[arg-type]
            if language is not ...:
                changes["language"] = _clean(language)  # type: ignore[arg-type]
            if params is not ...:
                if not isinstance(params, SynthesisParams):
                    raise InvalidRequestError("A voice's settings must be synthesis parameters.")
                changes["params"] = params.validate()
            new_transcript = changes.get("transcript", profile.transcript)
            if mode is not ...:
                changes["mode"] = _mode(mode, new_transcript)  # type: ignore[arg-type]
            elif profile.mode == "continuation" and not new_transcript:
                changes["mode"] = "reference"  # the transcript was removed
            elif not profile.transcript and new_transcript:
                changes["mode"] = "continuation"  # as when adding a voice with a transcript
            return self._rewrite(replace(profile, **changes))  # type: ignore[arg-type]

    def rename(self, old: str, new: str) -> VoiceProfile:
        with self._changing():
            profile = self.get(old)
            new = check_name(new)
            if name_key(new) != name_key(profile.name):
                self._check_free(new)
            return self._rewrite(replace(profile, name=new))

    def set_default(self, name: str | None) -> None:
        """Mark ``name`` as the default voice (``None``: no default)."""
        with self._changing():
            folder = self.get(name).folder.name if name is not None else None
            data = self._read_store_file()
            data["default"] = folder
            self._write(lambda: atomic_write_json(self.root / STORE_FILE, data), self.root)

    def remove(self, name: str) -> RemovedProfile:
        """Move a profile to the trash (one rename: it is there or here, never half)."""
        with self._changing():
            profile = self.get(name)
            trash = self.root / TRASH
            target = trash / f"{int(time.time())}-{profile.folder.name}"

            def move() -> None:
                trash.mkdir(exist_ok=True)
                os.rename(profile.folder, target)
                _fsync_dir(trash)
                _fsync_dir(self.root)

            self._write(move, self.root)
            return RemovedProfile(profile.name, target)

    def restore(self, removed: RemovedProfile) -> VoiceProfile:
        """Undo :meth:`remove`; if the name was taken meanwhile, the voice gets a number."""
        with self._changing():
            folder = removed.trash_folder
            try:
                profile, _ = self._load(folder)
            except ValueError as exc:
                raise VoiceNotFoundError(f"The removed voice “{removed.name}” can no longer be "
                                         f"restored ({exc}).") from None
            name = unique_name(profile.name, self._taken())
            if name != profile.name:
                profile = self._rewrite(replace(profile, name=name))
            target = self.root / folder.name.split("-", 1)[1]

            def move_back() -> None:
                os.rename(folder, target)
                _fsync_dir(self.root)

            self._write(move_back, self.root)
            return replace(profile, folder=target)

    def export(self, name: str, dest: Path) -> Path:
        """Write one profile to a ``.voxvoice`` file (a folder as ``dest``: a file named after
        the voice inside it). Returns the file written."""
        from voxdesk.voices.archive import write_archive

        return write_archive(self.get(name), Path(dest))

    # -- internals ---------------------------------------------------------------------------

    def _load(self, folder: Path) -> tuple[VoiceProfile, builtins.list[str]]:
        """A profile folder's contents, or ValueError saying what is wrong with it."""
        try:
            text = (folder / PROFILE_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"{PROFILE_FILE} is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{PROFILE_FILE} cannot be read: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{PROFILE_FILE} is not valid JSON: {exc.msg}") from None
        profile, notes = VoiceProfile.from_json(data, folder)
        try:
            size = profile.audio_path.stat().st_size
        except OSError:
            raise ValueError(f"its audio ({AUDIO_FILE}) is missing") from None
        if profile.audio_bytes and size != profile.audio_bytes:
            raise ValueError(f"its audio ({AUDIO_FILE}) has the wrong size: damaged or replaced")
        return profile, notes

    def _create(self, fields: VoiceProfile, write_audio: Callable[[Path], None]) -> VoiceProfile:
        """Write a complete profile into a staging folder, then rename it into place."""
        staging = self.root / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        final = self.root / f"{folder_slug(fields.name)}-{uuid.uuid4().hex[:8]}"
        profile = fields

        def write() -> None:
            nonlocal profile
            staging.mkdir()
            write_audio(staging / AUDIO_FILE)
            digest, size = file_digest(staging / AUDIO_FILE)
            profile = replace(fields, folder=final, audio_sha256=digest, audio_bytes=size)
            _write_file(staging / PROFILE_FILE, _json_bytes(profile.to_json()))
            _fsync_dir(staging)
            os.rename(staging, final)  # the one step that makes the profile exist
            _fsync_dir(self.root)

        try:
            self._write(write, self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("voice profile “%s” saved in %s", profile.name, final)
        return profile

    def _rewrite(self, profile: VoiceProfile) -> VoiceProfile:
        profile = replace(profile, modified=now())
        self._write(lambda: atomic_write_json(profile.folder / PROFILE_FILE, profile.to_json()),
                    profile.folder)
        return profile

    def _write(self, action: Callable[[], None], where: Path) -> None:
        try:
            action()
        except VoxDeskError:
            raise
        except OSError as exc:
            raise _write_error(where, exc) from exc

    def _taken(self) -> set[str]:
        return {name_key(p.name) for p in self.list()}

    def _check_free(self, name: str) -> None:
        for profile in self.list():
            if name_key(profile.name) == name_key(name):
                raise VoiceExistsError(f"There is already a voice called “{profile.name}”.",
                                       "Choose another name, or remove or rename the other "
                                       "voice.")

    def _read_store_file(self) -> dict[str, object]:
        try:
            data = json.loads((self.root / STORE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("%s is unreadable (%s); no default voice", STORE_FILE, exc)
            return {}
        return data if isinstance(data, dict) else {}

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """One change at a time: threads via a lock, processes via an advisory file lock."""
        with self._thread_lock, _file_lock(self.root / LOCK_FILE):
            yield

    def _tidy(self) -> None:
        """Delete what dead processes left behind and trash older than 30 days."""
        now_s = time.time()
        try:
            for entry in self.root.glob(f"{STAGING_PREFIX}*"):
                if now_s - entry.stat().st_mtime > STALE_STAGING_S:
                    shutil.rmtree(entry, ignore_errors=True)
            # Temporary files of interrupted atomic writes (see voxdesk.atomic).
            for entry in [*self.root.glob(".*.tmp"), *self.root.glob("*/.*.tmp")]:
                if now_s - entry.stat().st_mtime > STALE_STAGING_S:
                    entry.unlink(missing_ok=True)
            for entry in (self.root / TRASH).glob("*"):
                removed_at = entry.name.split("-", 1)[0]
                if removed_at.isdigit() and now_s - int(removed_at) > TRASH_KEEP_S:
                    shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # tidying is a courtesy; a read-only folder still lists
            log.debug("tidying %s failed", self.root, exc_info=True)


def _closest(name: str, names: list[str]) -> str | None:
    """The saved name someone typing ``name`` most likely meant: a near spelling (any case),
    else one containing it ("Ann" for “Ann copy”)."""
    by_key = {name_key(n): n for n in names}
    wanted = name_key(name)
    close = difflib.get_close_matches(wanted, list(by_key), n=1)
    if close:
        return by_key[close[0]]
    if len(wanted) >= 2:
        return next((n for key, n in by_key.items() if wanted in key), None)
    return None


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _copy_file(source: Path, target: Path) -> None:
    _write_file(target, source.read_bytes())


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text or None


def _mode(mode: str | None, transcript: str | None) -> Mode:
    if mode is None:
        return "continuation" if transcript else "reference"
    if mode not in MODES:
        raise InvalidRequestError(f"Unknown cloning mode {mode!r}.",
                                  "Use “reference” (the clip alone, VoxCPM2) or “continuation” "
                                  "(the clip and its transcript).")
    if mode == "continuation" and not transcript:
        raise InvalidRequestError("Continuation mode needs the transcript of the recording.",
                                  "Add what is said in it, or use reference mode (VoxCPM2).")
    return mode  # type: ignore[return-value]


def _write_error(where: Path, exc: OSError) -> VoiceStoreError:
    return VoiceStoreError(f"The voice could not be saved in {where} ({exc.strerror or exc}).",
                           "Check that the disk is not full and the folder is writable.")


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(file_lock(path))
        except OSError:  # a read-only store: nothing can be changed anyway
            pass
        yield
