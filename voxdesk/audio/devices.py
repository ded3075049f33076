"""Finding audio output devices through PortAudio (sounddevice)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from voxdesk.errors import AudioDeviceError

log = logging.getLogger(__name__)

_LIST_HINT = "Run `voxdesk devices` to see the available outputs."


def sounddevice_module() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into an actionable error."""
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio itself cannot be loaded
        raise AudioDeviceError(
            f"The PortAudio audio library is not available ({exc}).",
            "Install it (Debian/Ubuntu: `sudo apt-get install libportaudio2`) and try again.",
        ) from exc
    _route_alsa_messages()
    return sounddevice


# ALSA prints its own complaints ("underrun occurred", probing of absent devices) straight to
# stderr, into the user's terminal; we count underruns ourselves. Route them to the log instead.
# The C handler is variadic; only its fixed arguments are declared (the usual ctypes way).
_ALSA_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                      ctypes.c_int, ctypes.c_char_p)


def _log_alsa_message(file: bytes | None, line: int, function: bytes | None, err: int,
                      fmt: bytes | None) -> None:
    log.debug("ALSA %s:%d %s (error %d): %s", (file or b"").decode(errors="replace"), line,
              (function or b"").decode(errors="replace"), err,
              (fmt or b"").decode(errors="replace"))


_alsa_handler: Any = None  # kept alive: ALSA holds a pointer to it


def _route_alsa_messages() -> None:
    global _alsa_handler
    if _alsa_handler is not None or not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("asound")
    if name is None:
        return
    try:
        alsa = ctypes.CDLL(name)
        _alsa_handler = _ALSA_HANDLER_TYPE(_log_alsa_message)
        alsa.snd_lib_error_set_handler(_alsa_handler)
    except (OSError, AttributeError) as exc:
        log.debug("ALSA messages stay on stderr: %s", exc)


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    host_api: str
    channels: int
    default_sample_rate: float
    is_default: bool


def list_output_devices() -> list[OutputDevice]:
    sd = sounddevice_module()
    try:
        devices = sd.query_devices()
        host_apis = sd.query_hostapis()
        default_out = sd.default.device[1]
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"Could not list audio devices: {exc}.") from exc
    return [
        OutputDevice(
            index=i,
            name=d["name"],
            host_api=host_apis[d["hostapi"]]["name"],
            channels=d["max_output_channels"],
            default_sample_rate=d["default_samplerate"],
            is_default=i == default_out,
        )
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]


def resolve_output_device(spec: str | int | None) -> int | None:
    """Turn a user's device choice into a PortAudio index; ``None`` means the system default.

    ``spec`` is an index, or a name: an exact (case-insensitive) match wins, else a unique
    substring match.
    """
    if spec is None or spec == "":
        return None
    devices = list_output_devices()
    if isinstance(spec, int) or str(spec).strip().isdigit():
        index = int(spec)
        if any(d.index == index for d in devices):
            return index
        raise AudioDeviceError(f"There is no audio output device number {index}.", _LIST_HINT)
    wanted = str(spec).strip().lower()
    exact = [d for d in devices if d.name.lower() == wanted]
    if exact:
        return exact[0].index
    partial = [d for d in devices if wanted in d.name.lower()]
    if len(partial) == 1:
        return partial[0].index
    if not partial:
        raise AudioDeviceError(f"No audio output device is called {spec!r}.", _LIST_HINT)
    names = ", ".join(repr(d.name) for d in partial)
    raise AudioDeviceError(f"{spec!r} matches several output devices: {names}.", _LIST_HINT)
