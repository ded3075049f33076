"""Errors a user can act on.

Every failure VoxDesk reports to a person is a :class:`VoxDeskError`: a one-line message saying
what went wrong plus a hint saying what to do next. The CLI prints them without a traceback,
the window shows them in a message box, the HTTP server maps them to 4xx/5xx JSON.
"""

from __future__ import annotations


class VoxDeskError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do about it."""

    #: Process exit status the CLI uses for this kind of error.
    exit_code: int = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class InvalidRequestError(VoxDeskError):
    """The synthesis request itself is unusable (empty text, out-of-range parameter)."""

    exit_code = 2


class EmptyTextError(InvalidRequestError):
    pass


class TextTooLongError(InvalidRequestError):
    pass


class ModelNotFoundError(VoxDeskError):
    """No model at the given path, or a hub id that is not downloaded and cannot be fetched."""


class ModelLoadError(VoxDeskError):
    """The model exists but could not be loaded (damaged files, wrong format)."""


class ReferenceAudioError(VoxDeskError):
    """A voice reference clip is missing, unreadable, empty or otherwise unusable."""


class OutOfMemoryError(VoxDeskError):
    """The accelerator ran out of memory while synthesising."""


class AudioDeviceError(VoxDeskError):
    """The output device does not exist, is busy, or failed while playing."""


class ExportError(VoxDeskError):
    """Writing the audio file failed (unwritable folder, full disk, unsupported format)."""


class SynthesisError(VoxDeskError):
    """The model failed while generating audio for a reason not covered above."""


def as_voxdesk_error(exc: Exception) -> VoxDeskError:
    """``exc`` if it is a VoxDeskError, else a SynthesisError that says what happened (a bug
    or a library's failure: the traceback goes to the log, for `voxdesk diagnostics`)."""
    if isinstance(exc, VoxDeskError):
        return exc
    import logging

    logging.getLogger("voxdesk").error("Synthesis failed", exc_info=exc)
    error = SynthesisError(f"Synthesis failed: {type(exc).__name__}: {exc}",
                           "See `voxdesk diagnostics` for the details.")
    error.__cause__ = exc
    return error
