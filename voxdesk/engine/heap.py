"""Keeping Python's garbage collector from stalling playback.

A full collection walks every object the collector tracks while holding the GIL. With torch,
transformers and a model loaded that is ~200 ms on an idle 2-core machine and 300-440 ms on a
busy one, and one came during nearly every first utterance. PortAudio's callback is Python
(sounddevice), so it cannot run meanwhile and the sound server runs dry (the player then
pauses rather than loses speech: voxdesk.audio.player, stalls).
"""

from __future__ import annotations

import gc


def settle_long_lived_objects() -> None:
    """Collect once, then move everything alive to the collector's permanent generation
    (:func:`gc.freeze`), so later collections walk only objects made since: the libraries and
    the model live as long as the process and need no scanning. Call once a model is loaded
    and warm; again after another model is loaded (what it replaced is collected first)."""
    gc.unfreeze()  # a model frozen before may be garbage now: let this collection see it
    gc.collect()
    gc.freeze()


def freeze_late_imports() -> None:
    """Move what a background import made (librosa's, while the model loads: it may finish
    after the model settled) to the permanent generation too. Only :func:`gc.freeze`: no
    collection, so no pause, wherever it lands (an utterance may be playing by then)."""
    gc.freeze()
