"""How soon the voice starts: quick, repeat, long text, voice cache."""

from __future__ import annotations

import statistics
import time

from voxdesk.bench import texts
from voxdesk.bench.context import Bench
from voxdesk.bench.measure import first_chunk, speak
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.stats import ratio
from voxdesk.engine.request import SynthesisRequest
from voxdesk.engine.segmentation import split_text

SPOKEN_METRICS = ["first_chunk_latency", "first_audible_latency", "total_time", "audio_duration",
                  "rtf", "chunks", "chunk_s", "underruns", "seams", "gap_s"]


def quick_units(bench: Bench) -> int:
    return bench.runs(1)


def quick(bench: Bench) -> ScenarioResult:
    result = ScenarioResult("quick", "One short sentence, spoken as `voxdesk speak` does.",
                            metrics=SPOKEN_METRICS)
    runs = bench.runs(1)
    for run in range(runs):
        bench.progress.step(f"quick: run {run + 1}/{runs}")
        result.samples.append({"variant": "short", "run": run,
                               **speak(bench, texts.SHORT, guard=bench.guard())})
        bench.progress.advance()
    return result


def repeat_units(bench: Bench) -> int:
    return bench.runs(5) * len(bench.options.repeat_texts)


def repeat(bench: Bench) -> ScenarioResult:
    result = ScenarioResult("repeat", "N runs of each text, heard through the player.",
                            metrics=SPOKEN_METRICS)
    runs = bench.runs(5)
    for run in range(runs):
        for name in bench.options.repeat_texts:  # texts interleaved: drift hits all alike
            bench.progress.step(f"repeat: {name} {run + 1}/{runs}")
            sample = speak(bench, texts.REPEAT_TEXTS[name], guard=bench.guard())
            result.samples.append({"variant": name, "run": run, **sample})
            bench.progress.advance()
    return result


def long_text_units(bench: Bench) -> int:
    return (4 + len(bench.options.context_bounds)) * bench.runs(3)


def long_text(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "long-text", "First chunk of a 10,000-character document vs its first sentence alone "
        "(should be ~1.0: the document is split into sentences and the first is spoken first).",
        metrics=["first_chunk_latency", "segments", "text_chars"])
    document = texts.document(10_000)
    # The document's own first sentence: the first chunk costs a prefill in proportion to the
    # sentence's length, so only the same sentence, alone and at the head of the document,
    # isolates what the other 10,000 characters cost.
    first_sentence = split_text(document, bench.engine.max_segment_weight)[0].text
    runs = bench.runs(3)
    for run in range(runs):
        order = [("1 sentence", first_sentence), ("10k chars", document)]
        for variant, text in order if run % 2 == 0 else order[::-1]:
            bench.progress.step(f"long-text: {variant} {run + 1}/{runs}")
            result.samples.append({"variant": variant, "run": run, **first_chunk(bench, text)})
            bench.progress.advance()
    result.ratios["10k chars / 1 sentence first chunk"] = ratio(
        result.median("10k chars", "first_chunk_latency"),
        result.median("1 sentence", "first_chunk_latency"))
    _continuity(bench, result, document, runs)
    return result


#: Sentences of the document spoken whole, with continuity on and off.
CONTINUITY_SENTENCES = 6


def _continuity(bench: Bench, result: ScenarioResult, document: str, runs: int) -> None:
    """Each sentence's first-chunk time (its prefill and first step) with continuity on and
    off: continuity lengthens the prompt of every sentence after the first, by a bounded
    context (voxdesk.engine.continuity). Goal: later sentences <= 1.2 x, first unchanged."""
    params = bench.params
    if params.min_len == params.max_len:
        # A forced length: the document's 87-character sentences in, say, 1.9 s of audio would
        # give each context three times the text a listener's has for its seconds (and the
        # prefill, which continuity lengthens, a cost per text token). Speak sentences as long
        # as the forced audio says at an ordinary rate instead.
        text = texts.sentences_lasting(params.max_len * _step_seconds(bench),
                                       CONTINUITY_SENTENCES)
    else:
        segments = split_text(document, bench.engine.max_segment_weight)
        text = " ".join(s.text for s in segments[:CONTINUITY_SENTENCES])
    result.metrics += ["later_first_chunk", "context_s"]  # per sentence: in the samples
    default = bench.engine.continuity_bounds
    # "continuity on" is the engine's bound; --context-bounds adds others, interleaved.
    variants: list[tuple[str, tuple[float, float] | None]] = [
        ("continuity off", None), ("continuity on", default)]
    variants += [(f"continuity on {a:g}+{p:g} s", (a, p))
                 for a, p in bench.options.context_bounds if (a, p) != default]
    per_sentence: dict[str, list[list[float]]] = {name: [] for name, _ in variants}
    try:
        for run in range(runs):
            for variant, bound in variants if run % 2 == 0 else variants[::-1]:
                bench.progress.step(f"long-text: {variant} {run + 1}/{runs}")
                bench.engine.continuity_bounds = bound or default
                times, context = _sentence_first_chunks(bench, text, bound is not None)
                per_sentence[variant].append(times)
                result.samples.append({
                    "variant": variant, "run": run, "segments": len(times),
                    "sentence_first_chunk": times, "first_chunk_latency": times[0],
                    "later_first_chunk": statistics.median(times[1:]) if len(times) > 1
                    else None, "context_s": context, "text_chars": len(text),
                    "sentence_chars": round(len(text) / max(1, len(times))),
                    "context_bound_s": list(bound) if bound else None})
                bench.progress.advance()
    finally:
        bench.engine.continuity_bounds = default
    off = per_sentence["continuity off"]
    for variant, _bound in variants[1:]:
        result.ratios[f"{variant} / off, first sentence's first chunk"] = ratio(
            result.median(variant, "first_chunk_latency"),
            result.median("continuity off", "first_chunk_latency"))
        on = per_sentence[variant]
        count = min(len(t) for t in on + off)
        per_index = [ratio(statistics.median(r[i] for r in on),
                           statistics.median(r[i] for r in off)) for i in range(1, count)]
        result.ratios[f"{variant} / off, later sentences' first chunk (worst)"] = max(
            (r for r in per_index if r is not None), default=None)
        result.ratios[f"{variant} / off, later sentences' first chunk (median)"] = ratio(
            result.median(variant, "later_first_chunk"),
            result.median("continuity off", "later_first_chunk"))


def _step_seconds(bench: Bench) -> float:
    """Seconds of audio one generation step makes (0.16 s for VoxCPM2), from a 4-step probe."""
    params = bench.params.replace(min_len=4, max_len=4, continuity=False)
    sizes = [chunk.samples.size for chunk in
             bench.engine.synthesize(SynthesisRequest("One probe.", None, params))]
    return statistics.median(sizes) / bench.engine.sample_rate if sizes else 0.16


def _sentence_first_chunks(bench: Bench, text: str, continuity: bool
                           ) -> tuple[list[float], float]:
    """Seconds from the end of each sentence (the stream's start for the first) to the next
    sentence's first chunk; and the longest context (seconds of audio) a sentence received."""
    params = bench.params.replace(continuity=continuity)
    stream = bench.engine.synthesize(SynthesisRequest(text, None, params))
    times: list[float] = []
    context = 0.0
    last, segment = stream.stats.requested_at, -1
    for chunk in stream:
        now = time.monotonic()
        if chunk.segment.index != segment:
            segment = chunk.segment.index
            times.append(now - last)
            context = max(context, stream.continuity.context_seconds())
        last = time.monotonic()
    return times, context


def clear_voice_caches(bench: Bench) -> None:
    """Forget every encoded voice, in memory and (if the engine has one) on disk."""
    cache = bench.engine.prompt_cache
    cache.clear()
    for name in ("disk", "disk_cache", "_disk"):  # the optional on-disk layer
        layer = getattr(cache, name, None)
        if layer is not None and hasattr(layer, "clear"):
            layer.clear()


def voice_cache_units(bench: Bench) -> int:
    return 1 + 2 * bench.runs(3)


def voice_cache(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "voice-cache", "First chunk with a cloned voice: first use (clip encoded) vs cached.",
        metrics=["first_chunk_latency"])
    voice = bench.voice()
    bench.progress.step("voice-cache: warm-up")
    first_chunk(bench, texts.SHORT, voice)  # the first encoding ever also loads librosa & co.
    bench.progress.advance()
    runs = bench.runs(3)
    for run in range(runs):
        clear_voice_caches(bench)
        for variant in ("first use", "cached"):
            bench.progress.step(f"voice-cache: {variant} {run + 1}/{runs}")
            sample = first_chunk(bench, texts.SHORT, voice)
            result.samples.append({"variant": variant, "run": run, **sample})
            bench.progress.advance()
    hits = [s["voice_cache_hit"] for s in result.samples]
    if hits != [False, True] * runs:
        result.notes.append(f"unexpected cache hits/misses: {hits}")
    result.ratios["first use / cached first chunk"] = ratio(
        result.median("first use", "first_chunk_latency"),
        result.median("cached", "first_chunk_latency"))
    return result
