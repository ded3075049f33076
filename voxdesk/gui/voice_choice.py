"""The controller's voice and settings: which voice speaks (the model's own, a saved profile,
a reference clip), with which synthesis settings, at which speed. A part of
:class:`~voxdesk.gui.controller.SpeechController`, kept in its own module; it emits the
controller's signals."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

from voxdesk.engine import Engine, SynthesisParams, VoiceReference
from voxdesk.errors import ReferenceAudioError, VoxDeskError
from voxdesk.settings import Settings, VoiceSettings
from voxdesk.voices.errors import VoiceNotFoundError
from voxdesk.voices.profile import VoiceProfile
from voxdesk.voices.store import VoiceStore

log = logging.getLogger(__name__)

SPEED_MIN, SPEED_MAX, SPEED_STEP = 0.5, 3.0, 0.05


def clamp_speed(speed: float) -> float:
    if not math.isfinite(speed):
        speed = 1.0
    return round(min(max(speed, SPEED_MIN), SPEED_MAX) / SPEED_STEP) * SPEED_STEP


class VoiceChoice:
    """Mixed into the controller, which provides these attributes and signals."""

    settings: Settings
    voice_store: VoiceStore | None
    engine: Engine | None
    speed: float
    speech: Any  # the SpeechWorker
    tasks: Any  # the TaskRunner
    voiceChanged: Any
    profilesChanged: Any
    paramsChanged: Any
    speedChanged: Any
    settingsChanged: Any
    failed: Any
    notice: Any

    # == voice and settings =====================================================================

    @property
    def voice(self) -> VoiceSettings:
        return self.settings.voice

    def set_voice(self, voice: VoiceSettings) -> None:
        if voice != self.settings.voice:
            self.settings.voice = voice
            self.voiceChanged.emit(voice)
            self.settingsChanged.emit()

    def choose_profile(self, name: str) -> bool:
        """Speak in profile ``name`` from now on ("" = the model's own voice), with the
        profile's synthesis settings; its voice is encoded now, in the background."""
        if not name:
            self.set_voice(replace(self.voice, kind="default", profile=""))
            return True
        try:
            profile = self.profile(name)
        except ReferenceAudioError as exc:
            self.failed.emit(exc.message, exc.hint)
            return False
        self.set_voice(replace(self.voice, kind="profile", profile=name))
        self.set_params(profile.params)
        self.paramsChanged.emit(profile.params)
        self.notice.emit(f"Synthesis settings of profile “{name}” applied.")
        self.prepare_voice(profile)
        return True

    def prepare_voice(self, profile: VoiceProfile) -> None:
        """Encode ``profile``'s voice ahead, so that Play does not wait for it."""
        engine = self.engine
        if engine is None:
            return
        try:
            voice = profile.voice_reference()
        except VoxDeskError:
            return  # Play says what is wrong

        def prepare() -> None:
            engine.prepare_voice(voice, profile.params.denoise)

        self.tasks.run(prepare, None, lambda exc: log.info(
            "could not prepare the voice ahead of time: %s", exc), lane="loader")

    def profile(self, name: str) -> VoiceProfile:
        try:
            if self.voice_store is not None:
                return self.voice_store.get(name)
        except VoiceNotFoundError:
            pass
        raise ReferenceAudioError(f"The voice profile {name!r} no longer exists.",
                                  "Choose another voice.")

    def profile_names(self) -> list[str]:
        if self.voice_store is None:
            return []
        try:
            return [p.name for p in self.voice_store.list()]
        except VoxDeskError:
            log.exception("listing voice profiles failed")
            return []

    def refresh_profiles(self) -> None:
        """The voice store changed (the voices dialog, another process): tell the pickers."""
        self.profilesChanged.emit(self.profile_names())

    def voice_reference(self) -> VoiceReference | None:
        """The voice to speak in (None: the model's own). Raises VoxDeskError."""
        voice = self.voice
        if voice.kind == "clip" and voice.clip:
            return VoiceReference.from_clip(voice.clip, voice.prompt_text or None)
        if voice.kind == "profile":
            return self.profile(voice.profile).voice_reference()
        return None

    @property
    def params(self) -> SynthesisParams:
        return self.settings.params

    def set_params(self, params: SynthesisParams) -> None:
        if params != self.settings.params:
            self.settings.params = params
            self.settingsChanged.emit()

    def set_speed(self, speed: float) -> None:
        speed = clamp_speed(speed)
        if abs(speed - self.speed) < 1e-9:
            return
        self.speed = speed
        self.settings.playback.speed = speed
        self.speech.set_speed(speed)
        self.speedChanged.emit(speed)
        self.settingsChanged.emit()

