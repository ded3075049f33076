"""The window's voice dialogs and picker: managing saved voices, adding one from a file or the
microphone, and choosing the voice to speak in."""

from voxdesk.gui.voices.add_dialog import AddVoiceDialog
from voxdesk.gui.voices.profiles_dialog import VoiceProfilesDialog
from voxdesk.gui.voices.record_dialog import RecordDialog

__all__ = ["AddVoiceDialog", "RecordDialog", "VoiceProfilesDialog"]
