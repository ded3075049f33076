"""The user's settings: one dataclass, saved as JSON under the platform's config folder.

Loading is tolerant: a missing file gives the defaults, and a field that is missing, of the wrong
type or out of range (10^400 included) falls back to its default without losing the others. (A
file that is not JSON at all is kept aside as ``settings.json.bad`` - or ``.bad.2``, ``.bad.3``
... beside an earlier one - rather than silently overwritten.) Saving is
atomic, so a crash never leaves a half-written file.

To add a setting, add a field with a default to :class:`Settings` (or to one of its groups): a
plain type (bool, int, float, str, list, dict, ``X | None``) or another dataclass. Old files
simply lack it and get the default.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from voxdesk import paths
from voxdesk.atomic import atomic_write_json
from voxdesk.audio.tempo import SPEED_DEFAULT, validate_speed
from voxdesk.engine import SynthesisParams
from voxdesk.engine.realtime_guard import DEFAULT_MIN_STEPS, RealtimePolicy
from voxdesk.errors import VoxDeskError
from voxdesk.server.limits import DEFAULT_PORT

log = logging.getLogger(__name__)

FILE_NAME = "settings.json"
T = TypeVar("T")


@dataclass
class VoiceSettings:
    """The voice chosen in the window."""

    kind: str = "default"  # "default" (the model's own voice), "profile" or "clip"
    profile: str = ""  # the profile's name when kind == "profile"
    clip: str = ""  # the reference clip's path when kind == "clip"
    prompt_text: str = ""  # what is said in the clip ("" = clone from the clip alone)

    KINDS = ("default", "profile", "clip")


@dataclass
class WindowSettings:
    geometry: str = ""  # base64 of QWidget.saveGeometry()
    splitter: str = ""  # base64 of QSplitter.saveState()
    last_folder: str = ""  # where the last Open / Export dialog was
    state: str = ""  # base64 of QMainWindow.saveState()
    outline_visible: bool = True  # the outline side panel
    advanced_open: bool = False  # the Advanced section (voice clip and synthesis settings)
    recent_files: list[str] = field(default_factory=list)  # File > Open recent, newest first


@dataclass
class DesktopSettings:
    """The tray, the global shortcuts and starting with the session."""

    read_clipboard_hotkey: str = "Ctrl+Alt+R"  # "" = none
    read_selection_hotkey: str = "Ctrl+Alt+S"
    close_to_tray: bool = True  # closing the window keeps VoxDesk running in the tray
    autostart: bool = False  # start in the tray at login (Linux: an XDG autostart entry)
    #: The first-run dialog measures each model not yet measured here, on its own, in the
    #: background (voxdesk.models.measured; Skip stops it), so its advice is this computer's.
    measure_speed: bool = True


@dataclass
class ServerSettings:
    """The HTTP API served from the window (voxdesk.gui.api_server) with its loaded model."""

    enabled: bool = False
    host: str = "127.0.0.1"  # this machine only; any other address needs an api_key
    port: int = DEFAULT_PORT
    api_key: str = ""  # clients then send "Authorization: Bearer KEY" ("" = none)


@dataclass
class PlaybackSettings:
    """What to do when the model is slower than speech (a CPU, a slow GPU): see
    voxdesk.engine.realtime_guard."""

    MODES = ("pause", "keep-up", "stream")
    #: "pause": hold each sentence until it can play through, so pauses fall between sentences
    #: (best quality); "keep-up": also lower the diffusion steps, down to ``min_steps``;
    #: "stream": play every piece at once, even if that stutters.
    when_slow: str = "pause"
    min_steps: int = DEFAULT_MIN_STEPS
    #: How fast the window reads (voxdesk.audio.tempo: 0.5-3, pitch kept).
    speed: float = SPEED_DEFAULT

    def policy(self) -> RealtimePolicy | None:
        """The guard's policy; None: no guard."""
        if self.when_slow == "stream":
            return None
        return RealtimePolicy(keep_real_time=self.when_slow == "keep-up",
                              min_steps=max(1, self.min_steps))


@dataclass
class PerformanceSettings:
    """How the model runs (voxdesk.models.hardware, voxdesk.engine.acceleration); "auto" is
    VoxDesk's choice for this computer."""

    DTYPES = ("auto", "bfloat16", "float32", "float16")
    COMPILE_MODES = ("auto", "on", "off")
    dtype: str = "auto"
    compile: str = "auto"


@dataclass
class Settings:
    params: SynthesisParams = field(default_factory=SynthesisParams)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    output_device: str = ""  # a device name; "" = the system's default output
    model: str = ""  # model chosen with File > Load model ("" = --model, or the default)
    window: WindowSettings = field(default_factory=WindowSettings)
    desktop: DesktopSettings = field(default_factory=DesktopSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    playback: PlaybackSettings = field(default_factory=PlaybackSettings)
    performance: PerformanceSettings = field(default_factory=PerformanceSettings)

    @staticmethod
    def path() -> Path:
        return paths.config_dir() / FILE_NAME

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or cls.path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("Settings file %s is unreadable (%s); using defaults", path, exc)
            _keep_aside(path)
            return cls()
        try:
            return from_dict(cls, data)
        except Exception:  # noqa: BLE001 - a file that breaks the window must not do so twice
            log.warning("Settings file %s cannot be used; using defaults", path, exc_info=True)
            _keep_aside(path)
            return cls()

    def save(self, path: Path | None = None) -> None:
        path = path or self.path()
        try:
            atomic_write_json(path, to_dict(self))
        except OSError as exc:
            raise VoxDeskError(f"The settings could not be saved to {path}: {exc.strerror}.",
                               "Check that the folder is writable.") from exc


def _keep_aside(path: Path) -> Path | None:
    """Move ``path`` to the first free name of settings.json.bad, settings.json.bad.2, ...:
    an earlier backup (maybe the one holding the user's real settings) is never replaced."""
    for number in range(1, 1000):
        backup = path.with_name(path.name + (".bad" if number == 1 else f".bad.{number}"))
        if backup.exists():
            continue
        try:
            os.link(path, backup)  # fails if the name was taken meanwhile: never overwrites
            os.unlink(path)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (FAT...): the name was free a moment ago
            try:
                os.replace(path, backup)
            except OSError:
                return None
        log.warning("The unusable settings file was kept as %s", backup)
        return backup
    return None


def to_dict(value: Any) -> dict[str, Any]:
    return dataclasses.asdict(value)


def from_dict(cls: type[T], data: object) -> T:
    """An instance of the dataclass ``cls`` from ``data``, field by field, defaults for the rest."""
    if not isinstance(data, dict):
        return cls()
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = from_dict(hint, data[f.name])  # type: ignore[arg-type]
            continue
        ok, value = _coerce(data[f.name], hint)
        if ok:
            values[f.name] = value
        else:
            log.warning("Ignoring setting %s.%s=%r (not a %s)", cls.__name__, f.name,
                        data[f.name], hint)
    instance = cls(**values)
    return _validated(instance)


def _validated(instance: T) -> T:
    """Values the rest of the app would refuse are reset to the defaults of their group."""
    if isinstance(instance, SynthesisParams):
        try:
            instance.validate()
        except VoxDeskError as exc:
            log.warning("Ignoring saved synthesis parameters: %s", exc)
            return type(instance)()  # type: ignore[return-value]
    if isinstance(instance, VoiceSettings) and instance.kind not in VoiceSettings.KINDS:
        return type(instance)()  # type: ignore[return-value]
    if isinstance(instance, ServerSettings) and not 1 <= instance.port <= 65535:
        return type(instance)()  # type: ignore[return-value]
    if isinstance(instance, PlaybackSettings) and (
            instance.when_slow not in PlaybackSettings.MODES or instance.min_steps < 1):
        return type(instance)()  # type: ignore[return-value]
    if isinstance(instance, PlaybackSettings):
        try:  # a bad speed alone falls back to 1x; the rest of the group is kept
            instance.speed = validate_speed(instance.speed)
        except VoxDeskError:
            log.warning("Ignoring saved speed %r", instance.speed)
            instance.speed = SPEED_DEFAULT
    if isinstance(instance, PerformanceSettings) and (
            instance.dtype not in PerformanceSettings.DTYPES
            or instance.compile not in PerformanceSettings.COMPILE_MODES):
        return type(instance)()  # type: ignore[return-value]
    return instance


def _coerce(value: Any, hint: Any) -> tuple[bool, Any]:
    """Whether ``value`` (from JSON) fits the type ``hint``, and the value to use."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            ok, coerced = _coerce(value, option)
            if ok:
                return True, coerced
        return False, None
    if hint is type(None):
        return value is None, None
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False, None
        try:
            number = float(value)  # a 400-digit integer would raise OverflowError
        except OverflowError:
            return False, None
        return math.isfinite(number), number
    if hint is str:
        return isinstance(value, str), value
    if hint in (list, dict) or origin in (list, dict):
        expected = origin or hint
        return isinstance(value, expected), value
    return False, None
