"""`voxdesk bench server`: the seed's HTTP comparison, re-made against `voxdesk serve`.

The original VoxCPM streaming server was judged over HTTP: time to the first byte of
POST /api/tts/stream against the complete file of the non-streaming route, with the model's
own voice and a cloned one. This scenario measures the same figures as a client sees them, plus
the first audio sample (after the WAV header), the OpenAI-compatible route and the WebSocket,
interleaved across runs (each run in the opposite order of the one before: slow drifts of a
shared machine cancel out), and prints the seed's own figures beside ours.

Unlike the other scenarios it needs no model in this process: the server loads its own.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from voxdesk.bench import report, texts
from voxdesk.bench.context import BenchOptions, write_synthetic_voice
from voxdesk.bench.environment import load_average
from voxdesk.bench.http_measure import (
    ServerRequestError,
    Target,
    openai_speech,
    tts_form,
    websocket_speak,
)
from voxdesk.bench.progress import Progress
from voxdesk.bench.result import Sample, ScenarioResult
from voxdesk.bench.stats import ratio

NAME = "server"
METRICS = ["first_byte", "time_to_first_audio", "total_time", "audio_duration", "chunks",
           "bytes", "rtf"]
DEFAULT_RUNS = 3

#: The seed's measurements (VoxCPM v1.0.9's streaming server, on its own GPU machine), from
#: its README: shared/reference/voxcpm-streaming-api.md. Streaming: first byte; non-streaming:
#: the complete response.
SEED_FIGURES: dict[str, Any] = {
    "machine": "the seed's own GPU machine (VoxCPM v1.0.9 streaming server)",
    "default": {"stream_first_byte": 2.45, "complete_total": 15.23},
    "cloned": {"stream_first_byte": 2.67, "complete_total": 16.12},
    "chunks_per_request": "5-10",
    "bytes_per_sentence": "~275 KB",
}


@dataclass
class ServerBenchOptions:
    bench: BenchOptions
    url: str | None = None  # None: start our own `voxdesk serve`
    api_key: str | None = None
    start_timeout: float = 600.0
    text: str = texts.LONG_SENTENCE  # one sentence, as the seed's comparison


@dataclass(frozen=True)
class Variant:
    name: str  # "stream/default"
    route: str
    voice: str
    measure: Callable[[], Sample]


def _variants(target: Target, options: ServerBenchOptions, clip: Path | None,
              prompt_text: str | None) -> list[Variant]:
    params, text = options.bench.params, options.text
    variants = [
        Variant("stream/default", "POST /api/tts/stream", "default",
                lambda: tts_form(target, "/api/tts/stream", text, params)),
        Variant("complete/default", "POST /api/tts", "default",
                lambda: tts_form(target, "/api/tts", text, params)),
    ]
    if clip is not None:
        variants += [
            Variant("stream/cloned", "POST /api/tts/stream", "cloned",
                    lambda: tts_form(target, "/api/tts/stream", text, params, clip, prompt_text)),
            Variant("complete/cloned", "POST /api/tts", "cloned",
                    lambda: tts_form(target, "/api/tts", text, params, clip, prompt_text)),
        ]
    variants += [
        Variant("openai/default", "POST /v1/audio/speech", "default",
                lambda: openai_speech(target, text)),
        Variant("websocket/default", "WS /ws/tts", "default",
                lambda: websocket_speak(target, text, params)),
    ]
    return variants


def new_result() -> ScenarioResult:
    return ScenarioResult(
        NAME, "The seed's HTTP comparison against voxdesk serve: first byte, first audio "
        "sample (after the WAV header), total, audio length and chunks, per route and voice; "
        "interleaved runs.", metrics=list(METRICS))


def measure(target: Target, options: ServerBenchOptions, progress: Progress, workdir: Path,
            result: ScenarioResult) -> ScenarioResult:
    """Warm up, then every variant once per run, interleaved, into ``result``; then the
    ratios and the seed's figures beside ours."""
    bench = options.bench
    clip: Path | None = None
    prompt_text = None
    if bench.voice is not None and bench.voice.prompt_wav is not None:
        clip, prompt_text = bench.voice.prompt_wav, bench.voice.prompt_text
    elif bench.voice is not None and bench.voice.reference_wav is not None:
        clip = bench.voice.reference_wav
    else:
        clip = workdir / "voice.wav"
        write_synthetic_voice(clip)
    variants = _variants(target, options, clip, prompt_text)
    # Warm-up, not measured: the first generation pays one-off costs, and the cloned voice is
    # encoded once (the server caches it by the clip's content, as it would for a user).
    for warm in [v for v in variants if v.name in ("stream/default", "stream/cloned")]:
        progress.step(f"server: warm-up {warm.name}")
        try:
            warm.measure()
        except ServerRequestError as exc:
            if warm.voice != "cloned":
                raise
            result.notes.append(f"no cloned voice: {exc.message} (give --voice-wav and "
                                "--prompt-text for a model that needs the transcript)")
            variants = [v for v in variants if v.voice != "cloned"]
        progress.advance()
    runs = bench.runs if bench.runs is not None else DEFAULT_RUNS
    for run in range(runs):
        for variant in variants if run % 2 == 0 else variants[::-1]:
            progress.step(f"server: {variant.name} {run + 1}/{runs}")
            sample = variant.measure()
            result.samples.append({"variant": variant.name, "run": run, "route": variant.route,
                                   "voice": variant.voice, "text_chars": len(options.text),
                                   **sample})
            progress.advance()
    voices = sorted({v.voice for v in variants}, key=("default", "cloned").index)
    for voice in voices:
        result.ratios[f"{voice}: complete total / stream first audio"] = ratio(
            result.median(f"complete/{voice}", "total_time"),
            result.median(f"stream/{voice}", "time_to_first_audio"))
        seed = SEED_FIGURES[voice]
        result.ratios[f"{voice}: seed's complete / stream first byte"] = (
            seed["complete_total"] / seed["stream_first_byte"])
    result.notes += seed_comparison(result, voices)
    result.notes.append("/v1/audio/speech speaks with the server's defaults (OpenAI's request "
                        "has no length fields); the other routes get --min-len/--max-len")
    return result


def seed_comparison(result: ScenarioResult, voices: list[str]) -> list[str]:
    """The seed's table beside ours (medians): the lines printed under the scenario."""

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    lines = [f"seed ({SEED_FIGURES['machine']}) beside ours (medians, this machine):"]
    for voice in voices:
        seed = SEED_FIGURES[voice]
        lines.append(
            f"  {voice} voice: streaming first byte {seed['stream_first_byte']:.2f} s (seed) / "
            f"{seconds(result.median(f'stream/{voice}', 'first_byte'))} (ours; first audio "
            f"{seconds(result.median(f'stream/{voice}', 'time_to_first_audio'))}); "
            f"complete {seed['complete_total']:.2f} s (seed) / "
            f"{seconds(result.median(f'complete/{voice}', 'total_time'))} (ours)")
    return lines


def server_environment(health: dict[str, Any], target: Target, started_here: bool,
                       start_time_s: float | None) -> dict[str, Any]:
    """What the report says about where the figures come from (no model in this process)."""
    import datetime
    import os
    import platform

    from voxdesk import __version__
    from voxdesk.bench.environment import _cpu_model, _package_version

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "voxdesk": __version__,
        "voxcpm": _package_version("voxcpm"),
        "torch": _package_version("torch"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "load_average": load_average(),
        "server_url": target.url,
        "server_started_by_bench": started_here,
        "server_start_s": start_time_s,
        "server_version": health.get("version"),
        "model_id": health.get("model_id"),
        "device": health.get("device"),
        "device_name": health.get("device_name"),
        "dtype": health.get("dtype"),
        "sample_rate": health.get("sample_rate"),
    }


def table(env: dict[str, Any], results: list[ScenarioResult]) -> str:
    started = (f"started by the benchmark, up in {env['server_start_s']:.1f} s"
               if env.get("server_started_by_bench") else "already running")
    lines = [
        f"VoxDesk {env['voxdesk']} server benchmark - voxcpm {env['voxcpm']}, {env['date']}",
        (f"server {env['server_url']} ({started}): model {env.get('model_id')} on "
         f"{env.get('device_name')} [{env.get('device')}, {env.get('dtype') or '?'}]"),
    ]
    loads = env.get("load_average") or []
    if loads:
        end = (env.get("load_average_end") or [None])[0]
        at_end = "" if end is None else f", {end:.1f} at the end"
        lines.append(f"{env.get('cpu')}, {env.get('cpu_count')} cores; load average "
                     f"{loads[0]:.1f} at the start{at_end} (the whole machine's)")
    return "\n".join(lines) + report.results_table(results)


def run_server_bench(options: ServerBenchOptions, json_path: Path | None = None,
                     out: TextIO = sys.stdout, show_progress: bool = True) -> dict[str, Any]:
    """Start (or reach) the server, measure, always stop it, print and write the report."""
    from voxdesk.bench.server_process import ServerProcess, check_url

    runs = options.bench.runs if options.bench.runs is not None else DEFAULT_RUNS
    progress = Progress(1, enabled=show_progress)
    result = new_result()
    env: dict[str, Any] = {}
    complete = False

    def save(complete: bool) -> dict[str, Any]:
        settings = dataclasses.asdict(options.bench.params)
        settings.update(runs=runs, url=options.url, text=options.text, scenarios=[NAME])
        data = report.report_dict(env, settings, [result])
        data["seed_reference"] = SEED_FIGURES
        data["complete"] = complete  # False: interrupted or failed; these samples only
        if json_path is not None:
            report.write_json(json_path, data)
        return data

    with tempfile.TemporaryDirectory(prefix="voxdesk-bench-") as tmp:
        workdir = Path(tmp)
        server = None
        try:
            if options.url:
                target = Target(options.url.rstrip("/"), options.api_key)
                health = check_url(target.url, options.api_key)
                started_here, start_s = False, None
            else:
                server = ServerProcess(*_server_model(options.bench), options.start_timeout,
                                       env=_server_env(workdir))
                server.__enter__()
                target, health = Target(server.url), server.health
                started_here, start_s = True, server.start_time_s
                print(f"Server up in {start_s:.1f} s: {health.get('model_id')} on "
                      f"{health.get('device_name')}.", file=sys.stderr, flush=True)
            env = server_environment(health, target, started_here, start_s)
            progress.total = 2 + runs * 6
            before = load_average()
            measure(target, options, progress, workdir, result)
            after = load_average()
            if before and after:
                result.load_average = [before[0], after[0]]
            complete = True
        finally:
            progress.close()
            if server is not None:
                server.__exit__(None, None, None)
                print(f"Stopped the server (pid {server.pid}).", file=sys.stderr, flush=True)
            if env:
                env["load_average_end"] = load_average()
            if not complete and env and result.samples:  # what was measured is not lost
                out.write(table(env, [result]) + "\n")
                save(False)
                if json_path is not None:
                    print(f"Stopped early: wrote the finished samples to {json_path}.",
                          file=sys.stderr)
    out.write(table(env, [result]) + "\n")
    out.flush()
    data = save(True)
    if json_path is not None:
        print(f"Wrote {json_path}.", file=sys.stderr)
    return data


def _server_model(bench: BenchOptions) -> tuple[str, str]:
    """The model folder the server loads (resolved here: its data folder is a private one)."""
    from voxdesk.engine.model import resolve_model_dir
    from voxdesk.models.selection import selected_model

    spec = bench.model or selected_model()
    return str(resolve_model_dir(spec, allow_download=False)), bench.device


def _server_env(workdir: Path) -> dict[str, str]:
    """The server's environment: a private, empty data folder, so "default voice" is the
    model's own (not a profile the user marked default) and nothing of the user's changes."""
    import os

    data = workdir / "server-data"
    data.mkdir()
    return {**os.environ, "VOXDESK_DATA_DIR": str(data)}


def in_process(bench: object) -> ScenarioResult:
    """Never called: the runner hands this scenario to :func:`run_server_bench`."""
    raise RuntimeError("the server scenario runs on its own (voxdesk bench server)")
