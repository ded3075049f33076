"""The synthesis engine: VoxCPM loading, text segmentation, cancellable streaming. No Qt here."""

from voxdesk.engine.engine import (
    AudioChunk,
    Engine,
    StreamPlanner,
    SynthesisStats,
    SynthesisStream,
)
from voxdesk.engine.model import DEFAULT_MODEL, ModelInfo
from voxdesk.engine.request import SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.segmentation import Segment, split_text

__all__ = [
    "DEFAULT_MODEL",
    "AudioChunk",
    "Engine",
    "ModelInfo",
    "Segment",
    "StreamPlanner",
    "SynthesisParams",
    "SynthesisRequest",
    "SynthesisStats",
    "SynthesisStream",
    "VoiceReference",
    "split_text",
]
