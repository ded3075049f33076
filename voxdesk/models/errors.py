"""What can go wrong while fetching or managing a model, each with the next step to take."""

from __future__ import annotations

from voxdesk.errors import ModelNotFoundError, VoxDeskError

__all__ = [
    "AccessDeniedError",
    "DownloadBusyError",
    "DownloadCancelled",
    "IntegrityError",
    "ModelNotFoundError",
    "NetworkError",
    "NotEnoughSpaceError",
]


class NetworkError(VoxDeskError):
    """The model source cannot be reached, or it failed while sending."""


class AccessDeniedError(VoxDeskError):
    """The source wants a token (private or gated model) or refused the one given."""


class NotEnoughSpaceError(VoxDeskError):
    """The disk cannot hold the download."""


class IntegrityError(VoxDeskError):
    """A downloaded file does not match the checksum the source published."""


class DownloadBusyError(VoxDeskError):
    """Another VoxDesk process is downloading the same model right now."""


class DownloadCancelled(VoxDeskError):
    """The download was stopped on request; what was fetched is kept for a resume."""

    exit_code = 130
