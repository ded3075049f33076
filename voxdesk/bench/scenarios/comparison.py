"""VoxDesk against raw voxcpm: streaming vs non-streaming, and what VoxDesk adds (overhead)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from voxdesk.bench import texts
from voxdesk.bench.context import Bench
from voxdesk.bench.measure import first_chunk, raw_non_streaming, raw_streaming, speak
from voxdesk.bench.result import Sample, ScenarioResult
from voxdesk.bench.stats import ratio, summarize
from voxdesk.engine import VoiceReference
from voxdesk.engine.realtime_guard import RealtimePolicy

#: Single sentences: raw voxcpm speaks a text as one piece, VoxDesk per sentence, so only
#: one-sentence texts are the same request on both sides.
COMPARE_TEXTS = {"short": texts.SHORT, "sentence": texts.LONG_SENTENCE}
OVERHEAD_LIMIT = 0.05  # the product promise: VoxDesk adds at most 5 %
OVERHEAD_SEED = 1234  # same seed both sides: the same audio, so the same amount of work


def _voices(bench: Bench) -> list[tuple[str, VoiceReference | None]]:
    voices: list[tuple[str, VoiceReference | None]] = [("default", None)]
    voice = bench.voice()
    if voice.prompt_wav is not None or bench.engine.info.supports_reference_only:
        voices.append(("cloned", voice))
    return voices


def compare_units(bench: Bench) -> int:
    return bench.runs(3) * len(COMPARE_TEXTS) * 2 * 3 + 1


@contextlib.contextmanager
def _as_raw_voxcpm(bench: Bench) -> Iterator[None]:
    """Without a voice, the engine speaks in its house voice (a prompt voxcpm's own API does
    not take): these scenarios compare like with like, so they speak as voxcpm does."""
    engine = bench.engine
    house, engine.house_voices = engine.house_voices, None
    try:
        yield
    finally:
        engine.house_voices = house


def compare(bench: Bench) -> ScenarioResult:
    with _as_raw_voxcpm(bench):
        return _compare(bench)


def _compare(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "compare", "Time to first audio: raw voxcpm non-streaming (generate: the whole audio "
        "first) and streaming (generate_streaming), and VoxDesk streaming.",
        metrics=["time_to_first_audio", "total_time", "audio_duration"])
    voices = _voices(bench)
    if len(voices) == 1:
        result.notes.append("no cloned voice: this model needs the clip's transcript "
                            "(--prompt-text)")
    # VoxDesk encodes a voice once per clip (cached); raw voxcpm encodes it on every call.
    bench.progress.step("compare: encode the voice once")
    if len(voices) > 1:
        first_chunk(bench, texts.SHORT, voices[1][1])
    bench.progress.advance()
    runs = bench.runs(3)
    for run in range(runs):
        for voice_name, voice in voices:
            for text_name, text in COMPARE_TEXTS.items():
                paths = [
                    ("non-streaming", lambda: raw_non_streaming(bench, text, voice)),
                    ("raw streaming", lambda: raw_streaming(bench, text, voice,
                                                            stop_after_first=True)),
                    ("voxdesk", lambda: first_chunk(bench, text, voice)),
                ]
                for path, measure in paths if run % 2 == 0 else paths[::-1]:
                    variant = f"{voice_name}/{text_name}/{path}"
                    bench.progress.step(f"compare: {variant} {run + 1}/{runs}")
                    result.samples.append({"variant": variant, "run": run, **measure()})
                    bench.progress.advance()
    for voice_name, _ in voices:
        for text_name in COMPARE_TEXTS:
            prefix = f"{voice_name}/{text_name}"
            result.ratios[f"{prefix}: non-streaming / voxdesk first audio"] = ratio(
                result.median(f"{prefix}/non-streaming", "time_to_first_audio"),
                result.median(f"{prefix}/voxdesk", "time_to_first_audio"))
    result.notes.append("streaming paths stop after the first chunk; totals are non-streaming")
    return result


def overhead_units(bench: Bench) -> int:
    return (3 if bench.options.audio else 2) * bench.runs(5)


#: The overhead scenario's VoxDesk paths: (variant, ratio label, with the player).
OVERHEAD_PATHS = [("voxdesk", "voxdesk", True), ("voxdesk engine", "voxdesk engine", False)]


def overhead(bench: Bench) -> ScenarioResult:
    with _as_raw_voxcpm(bench):
        return _overhead(bench)


def _overhead(bench: Bench) -> ScenarioResult:
    playing = bench.options.audio
    through = "engine + guard + player" if playing else "engine + guard (--no-audio)"
    result = ScenarioResult(
        "overhead", f"The same request through raw voxcpm (generate_streaming) and through "
        f"VoxDesk ({through}" + ("; and engine + guard without the player" if playing else "")
        + "), interleaved.",
        metrics=["first_chunk_latency", "total_time", "audio_duration", "chunks"])
    params = bench.params.replace(seed=OVERHEAD_SEED if bench.params.seed is None
                                  else bench.params.seed)
    # Best-quality guard only: "keep real time" would change the request (fewer timesteps).
    policy = None if bench.options.policy is None else RealtimePolicy(keep_real_time=False)
    paths = OVERHEAD_PATHS if playing else OVERHEAD_PATHS[:1]
    same_audio: list[bool] = []
    pair_ratios: dict[tuple[str, str], list[float]] = {
        (variant, metric): [] for variant, _, _ in paths
        for metric in ("first_chunk_latency", "total_time")}
    runs = bench.runs(5)

    def through_voxdesk(with_player: bool) -> Sample:
        return speak(bench, texts.SHORT, guard=bench.guard(policy), params=params,
                     play_out=False, keep_audio=True, player=with_player)

    for run in range(runs):
        sides = [("raw voxcpm", lambda: raw_streaming(bench, texts.SHORT, keep_audio=True,
                                                      params=params))]
        sides += [(variant, lambda with_player=with_player: through_voxdesk(with_player))
                  for variant, _, with_player in paths]
        measured = {}
        for side, measure in sides if run % 2 == 0 else sides[::-1]:  # ABBA against drift
            bench.progress.step(f"overhead: {side} {run + 1}/{runs}")
            measured[side] = measure()
            bench.progress.advance()
        audio = {side: sample.pop("_audio") for side, sample in measured.items()}
        raw_audio = audio["raw voxcpm"]
        same_audio.append(all(a.shape == raw_audio.shape and bool(np.allclose(a, raw_audio,
                                                                              atol=1e-4))
                              for a in audio.values()))
        for (variant, metric), values in pair_ratios.items():
            r = ratio(measured[variant][metric], measured["raw voxcpm"][metric])
            if r is not None:
                values.append(r)
        result.samples += [{"variant": side, "run": run, **measured[side]}
                           for side, _ in sides]
    for variant, label, _ in paths:
        for metric, what in (("first_chunk_latency", "first chunk"), ("total_time", "total")):
            result.ratios[f"{label} / raw {what} (medians)"] = ratio(
                result.median(variant, metric), result.median("raw voxcpm", metric))
            paired = summarize(pair_ratios[(variant, metric)])
            value = None if paired is None else paired["median"]
            result.ratios[f"{label} / raw {what} (median of pairs)"] = value
            if value is not None:
                verdict = "within" if value <= 1 + OVERHEAD_LIMIT else "OVER"
                result.notes.append(f"{label}, {what}: {100 * (value - 1):+.1f} % "
                                    f"({verdict} the {OVERHEAD_LIMIT:.0%} budget)")
    if not all(same_audio):
        result.notes.append(f"audio differed between the paths in runs "
                            f"{[i for i, same in enumerate(same_audio) if not same]}")
    else:
        result.notes.append("all paths produced identical audio in every run")
    return result
