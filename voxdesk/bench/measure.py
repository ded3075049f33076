"""Timing one request: through VoxDesk (engine, guard, player) or through raw voxcpm.

Every function returns one :data:`~voxdesk.bench.result.Sample`: a flat dict of plain values, in
seconds, that goes into the JSON report as it is.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from voxdesk.bench.context import Bench
from voxdesk.bench.result import Sample
from voxdesk.engine import SynthesisParams, SynthesisRequest, SynthesisStats, VoiceReference
from voxdesk.engine.realtime_guard import RealtimeGuard
from voxdesk.speech import Utterance


def _synthesis_fields(stats: SynthesisStats, sizes: list[int]) -> Sample:
    rate = stats.sample_rate
    return {
        "segments": stats.segments,
        "first_chunk_latency": stats.first_chunk_latency,
        "total_time": stats.synthesis_time,
        "audio_duration": stats.audio_duration,
        "rtf": stats.real_time_factor,
        "chunks": stats.chunks,
        "chunk_samples": float(np.mean(sizes)) if sizes else None,
        "chunk_s": float(np.mean(sizes)) / rate if sizes else None,
        "voice_cache_hit": stats.voice_cache_hit,
        "cancelled": stats.cancelled,
    }


def _guard_fields(guard: RealtimeGuard | None) -> Sample:
    if guard is None or not guard.plans:
        return {"guard": guard is not None}
    plans = guard.plans
    return {
        "guard": True,
        "timesteps": float(np.mean([p.timesteps for p in plans])),
        "holds": sum(1 for p in plans if p.held_s > 0),
        "held_s": sum(p.held_s for p in plans),
        "plans": [{"segment": p.segment, "timesteps": p.timesteps, "expected_steps":
                   p.expected_steps, "steps": p.steps, "predicted_ratio": p.predicted_ratio,
                   "held_s": p.held_s} for p in plans],
    }


def speak(
    bench: Bench,
    text: str,
    voice: VoiceReference | None = None,
    guard: RealtimeGuard | None = None,
    params: SynthesisParams | None = None,
    play_out: bool = True,
    keep_audio: bool = False,
    player: bool | None = None,
) -> Sample:
    """One request the way the app speaks it: engine + guard + the real player.

    Without audio (--no-audio) the stream is consumed on this thread and there is no player
    figure. ``play_out=False`` stops the player as soon as synthesis is done (for scenarios
    that only time synthesis); ``keep_audio`` adds the samples under ``"_audio"``.
    ``player=False`` leaves the player out even when the bench plays (engine + guard only).
    """
    request = SynthesisRequest(text, voice, params or bench.params)
    chunks: list[np.ndarray] = []
    if not (bench.options.audio if player is None else player and bench.options.audio):
        stream = bench.engine.synthesize(request, planner=guard)
        chunks = [chunk.samples for chunk in stream]
        sample = _synthesis_fields(stream.stats, [c.size for c in chunks])
        sample.update(first_audible_latency=None, underruns=None, seams=None, gap_s=None,
                      device_underflows=None, stalls=None,
                      playback_time=None)
    else:
        player = bench.player()
        utterance = Utterance(bench.engine, player, request,
                              on_chunk=lambda chunk: chunks.append(chunk.samples), guard=guard)
        utterance.run()  # synthesis on this thread (as the window's worker does), then:
        if play_out:
            while not utterance.wait(timeout=0.5):  # ...wait until it has been heard
                pass
        else:
            utterance.stop()
        stats = utterance.stream.stats
        metrics = utterance.metrics
        sample = _synthesis_fields(stats, [c.size for c in chunks])
        finished = player.times.finished
        sample.update(
            first_audible_latency=metrics.first_audible_latency,
            underruns=metrics.underruns,
            seams=metrics.seams,
            gap_s=metrics.gap_s,
            device_underflows=metrics.device_underflows,
            stalls=metrics.stalls,
            playback_time=(finished - stats.requested_at) if play_out and finished else None,
            # What the guard adds to the first sound (0 would be: heard as soon as it exists).
            audible_after_chunk_s=None if metrics.first_audible_latency is None
            or stats.first_chunk_latency is None
            else metrics.first_audible_latency - stats.first_chunk_latency,
        )
        if utterance.error is not None:
            raise utterance.error
    sample.update(_guard_fields(guard))
    sample["text_chars"] = len(text)
    if keep_audio:
        sample["_audio"] = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return sample


def first_chunk(bench: Bench, text: str, voice: VoiceReference | None = None) -> Sample:
    """Time to the first chunk from the VoxDesk engine; generation is cancelled right after."""
    stream = bench.engine.synthesize(SynthesisRequest(text, voice, bench.params))
    for _ in stream:
        stream.cancel()
    stats = stream.stats
    return {"text_chars": len(text), "segments": stats.segments,
            "first_chunk_latency": stats.first_chunk_latency,
            "time_to_first_audio": stats.first_chunk_latency,
            "voice_cache_hit": stats.voice_cache_hit}


def _raw_model(bench: Bench) -> Any:
    # The benchmark is the one place that reaches into the engine for the raw voxcpm.VoxCPM
    # object: the "overhead" and "compare" scenarios must call voxcpm's own API to measure
    # what VoxDesk adds to it.
    return bench.engine._model.voxcpm


def _raw_kwargs(
    bench: Bench, text: str, voice: VoiceReference | None, params: SynthesisParams | None
) -> dict[str, Any]:
    p = params or bench.params
    kwargs: dict[str, Any] = dict(text=text, cfg_value=p.cfg_value, min_len=p.min_len,
                                  max_len=p.max_len, inference_timesteps=p.inference_timesteps,
                                  normalize=p.normalize, retry_badcase=False)
    if voice is not None:
        if voice.prompt_wav is not None:
            kwargs.update(prompt_wav_path=str(voice.prompt_wav), prompt_text=voice.prompt_text)
        if voice.reference_wav is not None:
            kwargs["reference_wav_path"] = str(voice.reference_wav)
    if p.seed is not None:  # the same seed as the engine uses, so both make the same audio
        import torch

        torch.manual_seed(p.seed)
    return kwargs


def raw_streaming(
    bench: Bench,
    text: str,
    voice: VoiceReference | None = None,
    stop_after_first: bool = False,
    keep_audio: bool = False,
    params: SynthesisParams | None = None,
) -> Sample:
    """voxcpm's ``generate_streaming``, timed like the engine: call -> first chunk -> last."""
    kwargs = _raw_kwargs(bench, text, voice, params)
    rate = bench.engine.sample_rate
    chunks: list[np.ndarray] = []
    started = time.monotonic()
    first = None
    generator = _raw_model(bench).generate_streaming(**kwargs)
    try:
        for chunk in generator:
            if first is None:
                first = time.monotonic()
            chunks.append(chunk)
            if stop_after_first:
                break
    finally:
        generator.close()
    finished = time.monotonic()
    samples = sum(c.size for c in chunks)
    sample: Sample = {
        "text_chars": len(text),
        "first_chunk_latency": None if first is None else first - started,
        "time_to_first_audio": None if first is None else first - started,
        "total_time": None if stop_after_first else finished - started,
        "audio_duration": samples / rate,
        "chunks": len(chunks),
        "rtf": None if stop_after_first or not samples else (finished - started) / (samples / rate),
    }
    if keep_audio:
        sample["_audio"] = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return sample


def raw_non_streaming(bench: Bench, text: str, voice: VoiceReference | None = None) -> Sample:
    """voxcpm's ``generate``: nothing can be heard before the whole waveform exists."""
    kwargs = _raw_kwargs(bench, text, voice, None)
    started = time.monotonic()
    audio = _raw_model(bench).generate(**kwargs)
    elapsed = time.monotonic() - started
    duration = audio.size / bench.engine.sample_rate
    return {"text_chars": len(text), "time_to_first_audio": elapsed, "total_time": elapsed,
            "audio_duration": duration, "rtf": elapsed / duration if duration else None}
