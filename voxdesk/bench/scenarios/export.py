"""`voxdesk bench export`: what exporting a book costs beyond synthesising it.

A book-length text in chapters is synthesised three times per run, in rotating order: once with
the audio thrown away (synthesis alone), once exported to an M4B audiobook (synthesis + AAC
encoding on the encoder thread + the final join, a copy of the packets) and once to one MP3
with chapter marks (synthesis + FLAC chapters and the whole MP3 on the encoder thread + the
final step that puts the header of chapter marks and tags on it, a copy of the packets). Each
export's final step is timed on its own (``join_time``). The goal is export time <= 1.05 x
synthesis time, per second of audio made: encoding overlaps the model. The resident memory
of each pass is sampled, so its peak above the start shows whether memory stays flat however
long the book.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from voxdesk.audiobook import AudiobookJob, export_audiobook
from voxdesk.audiobook.book import Book, BookChapter
from voxdesk.audiobook.export import ExportProgress, chapters_of
from voxdesk.bench import texts
from voxdesk.bench.context import Bench
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.stats import ratio
from voxdesk.engine import SynthesisRequest

EXPORT_GOAL = 1.05
#: The book's length in characters (VOXDESK_BENCH_BOOK_CHARS overrides it: a chapter for the
#: full-size model on a CPU, several hours of audio for the tiny one).
BOOK_CHARS = 10_000
CHAPTERS = 10


def book_chars() -> int:
    return int(os.environ.get("VOXDESK_BENCH_BOOK_CHARS", BOOK_CHARS))


def make_book(chars: int, chapters: int = CHAPTERS) -> Book:
    per = max(200, chars // chapters)
    parts = tuple(BookChapter(f"Chapter {n}", (texts.document(per),))
                  for n in range(1, max(1, min(chapters, chars // 200)) + 1))
    return Book("bench", "The Benchmark Book", "VoxDesk", "en", None, None, parts, "bench")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Samples this process's resident memory on a thread; ``peak_mb`` above the start."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.start, self.peak = interval, 0, 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = _rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def peak_mb(self) -> float:
        return (self.peak - self.start) / 2**20


#: (variant, output file) of each export measured beside synthesis alone.
EXPORTS = (("export m4b", "book.m4b"), ("export mp3", "book.mp3"))


class _CountSamples:
    """A pass-through transform on the export's encoder thread that counts the samples the
    model made (an M4B's chapter marks also count each chapter's AAC padding)."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts

    def process(self, samples: np.ndarray) -> np.ndarray:
        self.counts.append(samples.size)
        return samples

    def flush(self) -> np.ndarray:
        return np.zeros(0, np.float32)


def export_units(bench: Bench) -> int:
    return (1 + len(EXPORTS)) * bench.runs(2)


def _synthesis_alone(bench: Bench, book: Book) -> dict[str, float]:
    samples = 0
    with PeakMemory() as memory:
        started = time.perf_counter()
        for _, text in chapters_of(book):
            for chunk in bench.engine.synthesize(SynthesisRequest(text, params=bench.params)):
                samples += chunk.samples.size
        elapsed = time.perf_counter() - started
    return {"total_time": elapsed, "audio_duration": samples / bench.engine.sample_rate,
            "time_per_audio_s": elapsed / (samples / bench.engine.sample_rate),
            "peak_memory_mb": memory.peak_mb}


def _export(bench: Bench, book: Book, out: Path) -> dict[str, float]:
    joining: list[float] = []

    def progress(p: ExportProgress) -> None:
        if p.phase == "joining":
            joining.append(time.perf_counter())

    counts: list[int] = []
    job = AudiobookJob(book, out, params=bench.params)
    job.transform, job.transform_id = (lambda rate: _CountSamples(counts)), "count"
    with PeakMemory() as memory:
        started = time.perf_counter()
        export_audiobook(bench.engine, job, restart=True, progress=progress)
        elapsed = time.perf_counter() - started
    size = out.stat().st_size
    out.unlink()
    return {"total_time": elapsed, "audio_duration": sum(counts) / bench.engine.sample_rate,
            "time_per_audio_s": elapsed / (sum(counts) / bench.engine.sample_rate),
            "join_time": started + elapsed - joining[0], "peak_memory_mb": memory.peak_mb,
            "file_mb": size / 1e6}


def export(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "export", "A book exported to M4B (synthesis + AAC encoding on its own thread + join) "
        "and to one MP3 (synthesis + FLAC chapters and MP3 on its own thread + header) "
        "against the same synthesis with the audio thrown away.",
        metrics=["total_time", "audio_duration", "time_per_audio_s", "join_time",
                 "peak_memory_mb", "file_mb"])
    book = make_book(book_chars())
    result.notes.append(f"book: {len(book.chapters)} chapters, "
                        f"{sum(len(t) for _, t in chapters_of(book)):,} characters")
    runs = bench.runs(2)
    with tempfile.TemporaryDirectory(prefix="voxdesk-bench-export-") as tmp:
        for run in range(runs):
            passes = [("synthesis", lambda: _synthesis_alone(bench, book))]
            passes += [(variant, lambda name=name: _export(bench, book, Path(tmp) / name))
                       for variant, name in EXPORTS]
            turn = run % len(passes)  # each pass first in turn: no order favours one
            for variant, measure in passes[turn:] + passes[:turn]:
                bench.progress.step(f"export: {variant} {run + 1}/{runs}")
                result.samples.append({"variant": variant, "run": run, **measure()})
                bench.progress.advance()
    # Per second of audio: without a seed the model stops each sentence at its own length,
    # so two passes over the same book make different amounts of audio (a seed would hold
    # them equal but also fix the thread count, which a loaded machine punishes).
    synthesis = result.median("synthesis", "time_per_audio_s")
    for variant, _ in EXPORTS:
        key = f"{variant.split()[-1]} export / synthesis time per audio second"
        result.ratios[key] = measured = ratio(result.median(variant, "time_per_audio_s"),
                                              synthesis)
        if measured is not None:
            result.notes.append(f"goal ({variant}): export <= {EXPORT_GOAL} x synthesis "
                                f"({'met' if measured <= EXPORT_GOAL else 'NOT met'})")
    return result
