"""Voice profiles: cloned voices saved by name, with their reference audio. No Qt here.

``VoiceStore`` keeps them (one folder each under the user's data folder); ``audio`` checks and
normalises reference audio on import; ``archive`` moves a profile between machines as a
``.voxvoice`` file.
"""

from voxdesk.voices.errors import (
    InvalidVoiceNameError,
    VoiceExistsError,
    VoiceFileError,
    VoiceNotFoundError,
    VoiceProfileError,
    VoiceStoreError,
)
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.store import RemovedProfile, VoiceStore

__all__ = [
    "InvalidVoiceNameError",
    "RemovedProfile",
    "VoiceExistsError",
    "VoiceFileError",
    "VoiceNotFoundError",
    "VoiceProfile",
    "VoiceProfileError",
    "VoiceStore",
    "VoiceStoreError",
]
