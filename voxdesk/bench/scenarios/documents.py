"""`bench document`: from opening a book to its first audio.

A 300-page PDF and a ~1 MB EPUB (made with reportlab and ebooklib) are opened the way
`voxdesk speak --file` opens them: the outline and the first chapter are extracted, reading
starts, the other chapters are extracted in the background. Goal: first audio under 1 s plus
the model's own first chunk. ``shown_s`` is the window's way: the book opened and laid out up
to its first chapter (voxdesk.gui.shown_document, no Qt), which the window shows and can read
at once while the rest is extracted. Extracting the whole book first (what the window did
before) is measured for comparison.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from voxdesk.bench.context import Bench
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.stats import ratio
from voxdesk.documents import load_document, open_document
from voxdesk.documents.passages import document_passages
from voxdesk.engine import SynthesisRequest
from voxdesk.gui.shown_document import first_chapters

DOCUMENT_METRICS = ["open_s", "first_text_s", "shown_s", "first_audio_s", "first_chunk_latency",
                    "document_overhead_s", "whole_extraction_s", "chapters", "pages_or_bytes"]


def document_units(bench: Bench) -> int:
    return 2 * bench.runs(3)


def _make_books(folder: Path) -> dict[str, tuple[Path, int]]:
    from voxdesk.testing.documents import book_chapters, make_epub, make_pdf

    pdf = make_pdf(folder / "book-300-pages.pdf", book_chapters(30, 85), title="A Long Book",
                   running_header="A Long Book - Benchmark Edition")
    epub = make_epub(folder / "book-1mb.epub", book_chapters(60, 60, words=200, seed=1),
                     title="A Long Book")
    import pypdfium2

    pages = len(pypdfium2.PdfDocument(str(pdf)))
    return {"pdf": (pdf, pages), "epub": (epub, epub.stat().st_size)}


def document(bench: Bench) -> ScenarioResult:
    result = ScenarioResult(
        "document", "Time from opening a 300-page PDF and a ~1 MB EPUB to the first audio "
        "chunk (outline + first chapter first, the rest in the background), and the time to "
        "extract the whole book for comparison. document_overhead_s = first audio - the "
        "model's first-chunk latency (goal: under 1 s).", metrics=DOCUMENT_METRICS)
    with tempfile.TemporaryDirectory(prefix="voxdesk-bench-docs-") as tmp:
        bench.progress.step("document: making the books")
        books = _make_books(Path(tmp))
        runs = bench.runs(3)
        for run in range(runs):
            for variant, (path, size) in books.items():
                bench.progress.step(f"document: {variant} {run + 1}/{runs}")
                result.samples.append({"variant": variant, "run": run, "pages_or_bytes": size,
                                       **_first_audio(bench, path)})
                bench.progress.advance()
    for variant in books:
        result.ratios[f"{variant}: first text / whole extraction"] = ratio(
            result.median(variant, "first_text_s"), result.median(variant, "whole_extraction_s"))
        result.ratios[f"{variant}: window shown / whole extraction"] = ratio(
            result.median(variant, "shown_s"), result.median(variant, "whole_extraction_s"))
    return result


def _first_audio(bench: Bench, path: Path) -> dict[str, float | int | None]:
    started = time.monotonic()
    opened = open_document(path)
    open_s = time.monotonic() - started
    passage = next(document_passages(opened, [1]))
    first_text_s = time.monotonic() - started
    opened.prefetch()  # as `speak --file` does: the rest while the first chapter is spoken
    stream = bench.engine.synthesize(SynthesisRequest(passage.text, None, bench.params))
    for _ in stream:
        stream.cancel()
    first_audio_s = time.monotonic() - started
    latency = stream.stats.first_chunk_latency
    opened.document()  # wait for the background, so that runs do not overlap
    shown_started = time.monotonic()
    first_chapters(open_document(path))
    shown_s = time.monotonic() - shown_started
    whole_started = time.monotonic()
    whole = load_document(path)
    whole_s = time.monotonic() - whole_started
    return {"open_s": open_s, "first_text_s": first_text_s, "shown_s": shown_s,
            "first_audio_s": first_audio_s,
            "first_chunk_latency": latency,
            "document_overhead_s": None if latency is None else first_audio_s - latency,
            "whole_extraction_s": whole_s, "chapters": len(whole.chapters)}
