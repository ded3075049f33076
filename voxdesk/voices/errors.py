"""Errors about voice profiles a person can act on (all :class:`VoxDeskError` subclasses).

Problems with the audio itself (unreadable, too short, silent, clipped...) are
:class:`voxdesk.errors.ReferenceAudioError`, the same error a plain reference clip gives.
"""

from __future__ import annotations

from voxdesk.errors import VoxDeskError


class VoiceProfileError(VoxDeskError):
    """Base class of the errors below."""


class VoiceNotFoundError(VoiceProfileError):
    """No profile has that name."""


class VoiceExistsError(VoiceProfileError):
    """Another profile already has that name."""


class InvalidVoiceNameError(VoiceProfileError):
    """The name is empty, too long or contains characters a name cannot have."""


class VoiceFileError(VoiceProfileError):
    """A .voxvoice file is unreadable, damaged or not a VoxDesk voice."""


class VoiceStoreError(VoiceProfileError):
    """The profile folder could not be written (full disk, no permission...)."""
