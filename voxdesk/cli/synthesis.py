"""`voxdesk speak` and `voxdesk export`: the engine driven from a terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voxdesk.audio.encode import CHOICES
from voxdesk.audio.export import AtomicAudioWriter, check_writable, encoding_for
from voxdesk.audio.pipeline import EncodeThread
from voxdesk.audio.player import DEFAULT_PREBUFFER_S, Player
from voxdesk.audio.tempo import stretch_chunks
from voxdesk.cli.options import (
    add_synthesis_options,
    load_engine,
    print_stats,
    read_text,
    request_from_args,
)
from voxdesk.cli.realtime import add_realtime_options, guard_from_args
from voxdesk.cli.speed import add_speed_option, speed_from_args
from voxdesk.engine import Segment, SynthesisRequest, SynthesisStream
from voxdesk.errors import InvalidRequestError, as_voxdesk_error
from voxdesk.speech import Utterance, UtteranceMetrics

if TYPE_CHECKING:
    from voxdesk.documents.passages import Passage


def register(subparsers: argparse._SubParsersAction) -> None:
    speak = subparsers.add_parser(
        "speak", help="read text aloud now",
        description="Speak text through the sound card; audio starts while the rest is generated.",
    )
    add_synthesis_options(speak)
    speak.add_argument("--output-device", metavar="NAME|INDEX",
                       help="where to play (see `voxdesk devices`; default: system default)")
    speak.add_argument("--prebuffer", type=float, default=DEFAULT_PREBUFFER_S, metavar="S",
                       help=f"seconds of audio to queue before playing (default "
                       f"{DEFAULT_PREBUFFER_S})")
    add_speed_option(speak)
    add_realtime_options(speak)
    speak.add_argument("--resume", action="store_true",
                       help="with --file: continue from the sentence where reading stopped "
                       "(the position is saved as each sentence starts playing)")
    speak.add_argument("--standalone", action="store_true",
                       help="synthesise in this process even if VoxDesk is already running")
    speak.set_defaults(func=run_speak)

    export = subparsers.add_parser(
        "export", help="write speech to an audio file",
        description="Synthesise text into an audio file (WAV, MP3, Opus, AAC/M4A, FLAC, raw "
        "PCM), written as it is generated. A book (a file with chapters, e.g. Markdown with "
        "# headings) exported to .m4b becomes an audiobook with chapter marks; --split "
        "chapters makes one file per chapter. A long export that is stopped continues where "
        "it stopped when run again.",
    )
    add_synthesis_options(export)
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the audio file to write (replaced only when complete); its "
                        "extension chooses the format: .wav .mp3 .opus .ogg .m4a .m4b .aac "
                        ".flac .pcm")
    export.add_argument("--format", choices=CHOICES, metavar="FORMAT",
                        help="mp3, opus, aac (m4a, m4b), flac, wav (16-bit), wav-float "
                        "(float32), pcm (raw 16-bit); default: from the extension, else wav")
    export.add_argument("--bitrate", type=int, metavar="KBPS",
                        help="bit rate of lossy formats (defaults for speech: mp3/aac 64, "
                        "opus 32)")
    book = export.add_argument_group("audiobook")
    book.add_argument("--split", choices=["chapters"],
                      help="one file per chapter, numbered, in a folder named after --output")
    book.add_argument("--restart", action="store_true",
                      help="start the book over instead of continuing an interrupted export")
    book.add_argument("--title", help="the book's title tag (default: the document's)")
    book.add_argument("--author", help="the author tag (default: the document's)")
    book.add_argument("--cover", type=Path, metavar="IMAGE",
                      help="JPEG or PNG cover picture (default: the document's, e.g. EPUB's)")
    book.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_speed_option(export)
    export.set_defaults(func=run_export)


def run_speak(args: argparse.Namespace) -> int:
    if args.file is not None:
        return _speak_document(args)
    if args.resume:
        raise InvalidRequestError("--resume continues a document: give it with --file.")
    request = request_from_args(args)
    speed = speed_from_args(args)
    if not args.standalone:
        from voxdesk.cli.instance import forward

        command: dict[str, object] = {"command": "speak", "text": request.text}
        if args.speed is not None:  # else the window's own speed
            command["speed"] = speed
        reply = forward(command)
        if reply is not None and reply.get("ok"):
            print("Sent to the running VoxDesk (--standalone speaks here instead).",
                  file=sys.stderr)
            return 0
    return speak(args, [request])


def _speak_document(args: argparse.Namespace) -> int:
    """A document, passage by passage, saving the position as each sentence starts playing."""
    from voxdesk.cli.documents import open_from_args
    from voxdesk.documents.passages import Start, document_passages
    from voxdesk.reading_position import PositionStore, ReadingPosition

    document = open_from_args(args)
    store = PositionStore()
    chapters = [args.chapter] if args.chapter is not None else \
        list(range(1, document.chapter_count + 1))
    start = None
    if args.resume:
        saved = store.load(document.identity)
        if saved is not None and saved.chapter in chapters:
            start = Start(saved.chapter, saved.sentence, saved.offset)
            words = document.chapter(saved.chapter).text[saved.offset:saved.offset + 60]
            print(f"Continuing at chapter {saved.chapter}, sentence {saved.sentence + 1}: "
                  f"{' '.join(words.split())}...", file=sys.stderr)
        else:
            print("No saved position for this document: starting from the beginning.",
                  file=sys.stderr)
    passages = list(document_passages(document, chapters[:1], start))  # the first, now
    if not passages:
        raise InvalidRequestError("There is no text to speak in this chapter.")
    document.prefetch()  # the other chapters, while the first is spoken

    def all_passages() -> Iterator[Passage]:
        yield from passages
        yield from document_passages(document, chapters[1:])

    first = request_from_args(args, passages[0].text, document.language)
    reading: list[Passage] = []  # the passages handed to the engine, in order

    def requests() -> Iterator[SynthesisRequest]:
        for passage in all_passages():
            reading.append(passage)
            yield first if len(reading) == 1 else \
                request_from_args(args, passage.text, document.language)

    def on_sentence(index: int, segment: Segment) -> None:
        chapter, sentence, offset = reading[index].position_of(segment)
        store.save(ReadingPosition(document.identity, chapter, sentence, offset,
                                   document.source))

    speak(args, requests(), on_sentence)
    last = chapters[-1]
    if last < document.chapter_count:  # done with these chapters: continue with the next
        store.save(ReadingPosition(document.identity, last + 1, 0, 0, document.source))
    else:
        store.forget(document.identity)  # finished the book
    return 0


def speak(args: argparse.Namespace, requests: Iterable[SynthesisRequest],
          on_sentence: Callable[[int, Segment], None] | None = None) -> int:
    """Speak each request in turn with one loaded model and one output stream.
    ``on_sentence(request number, segment)`` is called as each sentence starts playing."""
    guard_from_args(args)  # bad options fail before the model loads
    player = Player(device=args.output_device, prebuffer_s=args.prebuffer,
                    speed=speed_from_args(args))
    engine = load_engine(args)
    guard = guard_from_args(args, engine.speed)  # starts from what earlier runs measured
    try:
        for number, request in enumerate(requests):
            utterance = Utterance(engine, player, request, guard=guard).start()
            heard = None
            try:
                while True:
                    done = utterance.wait(timeout=0.05)
                    mark = player.mark_at_playhead()
                    if on_sentence is not None and isinstance(mark, Segment) \
                            and mark is not heard:
                        heard = mark
                        on_sentence(number, mark)
                    if done:
                        break
            except KeyboardInterrupt:
                utterance.stop()
                raise
            if args.stats:
                print_stats(utterance.metrics.as_dict())
    finally:
        player.close()
    return 0


def run_export(args: argparse.Namespace) -> int:
    from voxdesk.cli.audiobook import (
        is_audiobook,
        names_a_file,
        note_missing_chapter_marks,
        run_audiobook,
    )

    if args.file is None and names_a_file(args.text):  # `voxdesk export book.epub -o ...`
        args.file, args.text = args.text, None
    if is_audiobook(args):
        return run_audiobook(args)
    note_missing_chapter_marks(args)  # a book to raw PCM or float WAV
    speed = speed_from_args(args)
    bitrate = args.bitrate * 1000 if args.bitrate else None
    encoding_for(args.output, args.format)  # bad format or folder: fail before the model loads
    check_writable(args.output)
    if args.file is not None:
        from voxdesk.cli.documents import open_from_args
        from voxdesk.documents.passages import document_passages

        document = open_from_args(args)
        chapters = [args.chapter] if args.chapter is not None else \
            range(1, document.chapter_count + 1)
        texts: Iterable[str] = (p.text for p in document_passages(document.prefetch(), chapters))
        language = document.language
    else:
        texts, language = [read_text(args)], None
    remaining = iter(texts)
    first_text = next(remaining, None)
    if first_text is None:
        raise InvalidRequestError("There is no text to export.")
    first = request_from_args(args, first_text, language)
    engine = load_engine(args)
    streams: list[SynthesisStream] = []

    def samples() -> Iterator[np.ndarray]:
        request: SynthesisRequest | None = first
        while request is not None:
            stream = engine.synthesize(request)
            streams.append(stream)
            for chunk in stream:
                yield chunk.samples
            following = next(remaining, None)
            request = None if following is None else \
                request_from_args(args, following, language)

    with AtomicAudioWriter(args.output, engine.sample_rate, args.format,
                           bitrate=bitrate) as writer:
        # Encoding overlaps the model's next step, a second at a time (fewer calls into the
        # codec, each of which takes the GIL from the synthesis thread).
        encoder = EncodeThread(writer.write, block_samples=engine.sample_rate)
        try:
            # Export is not bounded by the player's read-ahead: it writes as fast as it
            # synthesises.
            for stretched in stretch_chunks(samples(), engine.sample_rate, speed):
                encoder.put(stretched)
        except Exception as exc:  # a library's failure: a message, not a traceback
            encoder.abort()
            raise as_voxdesk_error(exc) from exc
        except BaseException:
            encoder.abort()
            raise
        encoder.finish()
    result = writer.result()
    print(f"Wrote {result.path} ({result.duration:.2f} s).", file=sys.stderr)
    if args.stats:
        print_stats(UtteranceMetrics.collect(streams[0].stats).as_dict())
    return 0
