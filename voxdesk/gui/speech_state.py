"""The one state of the app's speech (the controller's :attr:`state`): what the window, the tray
and the API show."""

from __future__ import annotations

import enum


class State(enum.Enum):
    NO_MODEL = "no model"
    LOADING = "loading"
    READY = "ready"
    SPEAKING = "speaking"
    PAUSED = "paused"
    PREVIEWING = "previewing"  # a voice's reference clip is playing
    EXPORTING = "exporting"  # an export runs and nothing is being spoken
    FAILED = "failed"  # the model could not be loaded


SOUNDING = (State.SPEAKING, State.PAUSED)
