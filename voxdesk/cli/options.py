"""Options shared by the commands that synthesise: model, voice, parameters, text input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from voxdesk.engine import DEFAULT_MODEL, Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.engine.request import MAX_TEXT_CHARS
from voxdesk.errors import InvalidRequestError, TextTooLongError, VoxDeskError

if TYPE_CHECKING:
    from voxdesk.voices.profile import VoiceProfile

_DEFAULTS = SynthesisParams()


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--model", default=None, metavar="ID|DIR",
                       help="VoxCPM2, VoxCPM1.5, VoxCPM-0.5B, a Hugging Face id or a model "
                       "folder (default: the one chosen with `voxdesk models use`, else "
                       f"{DEFAULT_MODEL})")
    group.add_argument("--device", default="auto", metavar="DEV",
                       help="auto (CUDA, then MPS, then CPU), cuda, cuda:1, mps or cpu")
    group.add_argument("--dtype", choices=("auto", "bfloat16", "float32", "float16"),
                       default=None,
                       help="number format of the weights (default: the setting, else auto: "
                       "bfloat16 where the GPU or CPU computes it natively, else float32 if "
                       "it fits in memory)")
    group.add_argument("--compile", choices=("auto", "on", "off"), default=None,
                       help="compile the model's per-step modules with torch.compile (default: "
                       "the setting, else auto: on CUDA when triton is installed)")


def add_synthesis_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="the text to speak; - reads standard input")
    parser.add_argument("--file", "-f", metavar="PATH|URL",
                        help="read a document: PDF, EPUB, DOCX, ODT, HTML (a file or an "
                        "http(s) URL), Markdown or text (see `voxdesk text` for what is read)")
    add_document_options(parser)
    add_model_options(parser)
    voice = parser.add_argument_group("voice")
    voice.add_argument("--voice", metavar="NAME",
                       help="a saved voice (`voxdesk voices list`); its synthesis settings are "
                       "the defaults, options given here override them (without --voice or "
                       "--voice-wav: the default voice, if one is set)")
    voice.add_argument("--voice-wav", type=Path, metavar="PATH",
                       help="reference clip of the voice to clone (WAV, FLAC, OGG, MP3)")
    voice.add_argument("--prompt-text", metavar="TEXT",
                       help="what is said in the reference clip (continuation mode; "
                       "without it VoxCPM2 clones from the clip alone)")
    # Defaults are None so that an option given can be told from one left out: a voice
    # profile's own settings fill in what is left out (see request_from_args).
    params = parser.add_argument_group("synthesis")
    params.add_argument("--cfg", type=float, metavar="X",
                        help=f"guidance: higher follows text and voice more closely "
                        f"(default {_DEFAULTS.cfg_value})")
    params.add_argument("--steps", type=int, metavar="N",
                        help=f"diffusion steps: more is better quality, slower "
                        f"(default {_DEFAULTS.inference_timesteps})")
    params.add_argument("--min-len", type=int, metavar="N",
                        help=f"minimum generation steps per sentence (1 step = 160 ms; default "
                        f"{_DEFAULTS.min_len})")
    params.add_argument("--max-len", type=int, metavar="N",
                        help=f"maximum generation steps per sentence (default {_DEFAULTS.max_len})")
    params.add_argument("--normalize", action=argparse.BooleanOptionalAction,
                        help="spell out numbers, dates and symbols before speaking")
    params.add_argument("--denoise", action=argparse.BooleanOptionalAction,
                        help="clean the reference clip with the denoiser model first")
    params.add_argument("--seed", type=int, metavar="N",
                        help="random seed: the same seed and text give the same audio")
    params.add_argument("--continuity", action=argparse.BooleanOptionalAction,
                        help="condition each sentence on the audio already spoken, so the voice "
                        "stays the same through the text (default: on; --no-continuity "
                        "generates each sentence on its own)")
    params.add_argument("--style", metavar="TEXT",
                        help="how a cloned voice should speak, e.g. \"slightly faster, "
                        "cheerful\" (VoxCPM2; the clip is then used as a reference)")
    params.add_argument("--pause", type=float, metavar="S", dest="sentence_pause",
                        help=f"silence between sentences, in seconds "
                        f"(default {_DEFAULTS.sentence_pause})")
    params.add_argument("--paragraph-pause", type=float, metavar="S",
                        help=f"silence between paragraphs (a blank line), in seconds "
                        f"(default {_DEFAULTS.paragraph_pause})")
    parser.add_argument("--stats", action="store_true",
                        help="print latency and speed figures when done")


def add_document_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chapter", type=int, metavar="N",
                        help="only chapter N of the document (see `voxdesk chapters FILE`)")
    parser.add_argument("--footnotes", action="store_true",
                        help="also read the document's footnotes and endnotes")
    parser.add_argument("--tables", action="store_true",
                        help="also read the document's tables, a row at a time")


def _read_stdin(limit: int) -> str:
    """Standard input as UTF-8, strictly: binary data is refused here with a clear message
    instead of reaching the tokenizer (Python's own decoding would let it through)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text-only stream (tests, embedding)
        return sys.stdin.read(limit)
    data = stream.read(limit * 4)  # UTF-8: at most 4 bytes a character
    if len(data) == limit * 4:
        data = data[:len(data) - 3]  # never judge a character cut in two by the read limit
    try:
        return data.decode("utf-8-sig", errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(
            f"Standard input is not UTF-8 text (byte {exc.start + 1} is 0x{data[exc.start]:02x}).",
            "Pipe in plain text; convert other encodings first, e.g. with iconv.") from None


def read_text(args: argparse.Namespace) -> str:
    """The text from the argument, standard input (-) or --file."""
    if args.file is not None and args.text is not None:
        raise InvalidRequestError("Give the text either as an argument or with --file, not both.")
    limit = MAX_TEXT_CHARS + 1  # read one more than allowed, so "too long" can be told
    if args.file is not None:  # a document's text, a chapter at most (see voxdesk.cli.documents)
        from voxdesk.cli.documents import open_from_args

        document = open_from_args(args)
        text = document.text(getattr(args, "chapter", None))
    elif args.text == "-":
        text = _read_stdin(limit)
    elif args.text is None:
        raise InvalidRequestError("No text given.", "Pass the text, - for standard input, "
                                  "or --file PATH.")
    else:
        text = args.text
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(
            f"The text is longer than {MAX_TEXT_CHARS:,} characters.", "Split it into parts."
        )
    return text


#: Command-line option (argparse dest) -> SynthesisParams field.
_PARAM_OPTIONS = {"cfg": "cfg_value", "steps": "inference_timesteps", "min_len": "min_len",
                  "max_len": "max_len", "normalize": "normalize", "denoise": "denoise",
                  "seed": "seed", "continuity": "continuity",
                  "sentence_pause": "sentence_pause", "paragraph_pause": "paragraph_pause",
                  "style": "style"}


def request_from_args(args: argparse.Namespace, text: str | None = None,
                      language: str | None = None) -> SynthesisRequest:
    """A validated request (raises before any model is loaded, so bad input fails fast), for
    ``text`` (default: the command's text, see :func:`read_text`).

    The voice: --voice-wav (a clip), --voice (a saved profile), else the default profile if
    one is set. A profile's settings are the base; options given explicitly override them.
    The user's lexicon for that voice and language (the profile's, else ``language``, e.g. the
    document's) rewrites what the model is given."""
    voice = None
    params = SynthesisParams()
    profile_name = getattr(args, "voice", None)
    profile = None
    if args.voice_wav is not None:
        if profile_name is not None:
            raise InvalidRequestError("Give either --voice (a saved voice) or --voice-wav "
                                      "(a clip), not both.")
        voice = VoiceReference.from_clip(args.voice_wav, args.prompt_text)
    elif args.prompt_text:
        raise InvalidRequestError("--prompt-text needs --voice-wav (the clip it transcribes).",
                                  "A saved voice (--voice) has its own transcript.")
    else:
        profile = _profile(profile_name)
        if profile is not None:
            voice = profile.voice_reference(reference_only=_clones_from_clip(model_spec(args)))
            params = profile.params
    given = {field: getattr(args, option) for option, field in _PARAM_OPTIONS.items()
             if getattr(args, option, None) is not None}
    params = params.replace(**given)
    from voxdesk.lexicon import lexicon_for

    voice_name = profile.name if profile is not None else None
    lexicon = lexicon_for(voice_name, (profile.language if profile is not None else None)
                          or language)
    request = SynthesisRequest(read_text(args) if text is None else text, voice, params,
                               lexicon).validate()
    if voice is not None:
        from voxdesk.engine.voice_prompt import check_clip

        for clip in voice.clips:
            check_clip(clip)
    return request


def _profile(name: str | None) -> VoiceProfile | None:
    """The profile called ``name``, or the default profile when no name is given."""
    from voxdesk.voices.store import VoiceStore

    store = VoiceStore()
    return store.get(name) if name is not None else store.default()


def _clones_from_clip(spec: str) -> bool:
    """Whether the model ``spec`` can clone from a clip alone (VoxCPM2), as far as can be told
    without loading it; when in doubt yes, and the engine says so if not."""
    import json

    from voxdesk import models

    try:
        folder = models.local_path(spec)
        if folder is not None:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            return str(config.get("architecture", "voxcpm")).lower() == "voxcpm2"
        entry = models.find(spec)
        return entry is None or entry.id == "VoxCPM2"
    except (OSError, ValueError, VoxDeskError):
        return True


def model_spec(args: argparse.Namespace) -> str:
    """The model to load: --model, else the one chosen with `voxdesk models use`."""
    from voxdesk.models import selected_model

    return args.model or selected_model()


def ensure_model(spec: str) -> None:
    """Download a hub model that is not here yet, with a progress bar (rather than silently
    inside the engine)."""
    from voxdesk import models
    from voxdesk.models import sources, store

    if models.local_path(spec) is not None or store.looks_like_path(spec):
        return  # present, or a folder: loading reports what is wrong with it
    if sources.offline_mode():  # say so before spending seconds on importing torch
        from voxdesk.errors import ModelNotFoundError

        entry = models.find(spec)
        short = entry.id if entry else spec
        raise ModelNotFoundError(f"The model {short} is not downloaded (HF_HUB_OFFLINE is set).",
                                 f"Download it with `voxdesk models download {short}`, or pass a "
                                 "local model folder with --model.")
    from voxdesk.cli.models import download_with_progress

    print(f"{spec} is not downloaded yet; downloading it first.", file=sys.stderr, flush=True)
    download_with_progress(spec)


def performance_options(args: argparse.Namespace) -> tuple[str, str]:
    """(dtype, compile): the options given, else the saved settings."""
    dtype, compile_mode = getattr(args, "dtype", None), getattr(args, "compile", None)
    if dtype is None or compile_mode is None:
        from voxdesk.settings import Settings

        saved = Settings.load().performance
        dtype = dtype or saved.dtype
        compile_mode = compile_mode or saved.compile
    return dtype, compile_mode


def load_engine(args: argparse.Namespace) -> Engine:
    spec = model_spec(args)
    ensure_model(spec)
    dtype, compile_mode = performance_options(args)
    print(f"Loading {spec}...", file=sys.stderr, flush=True)
    engine = Engine.load(spec, args.device, denoiser=bool(getattr(args, "denoise", False)),
                         dtype=dtype, compile=compile_mode)
    engine.use_disk_prompt_cache()  # a saved voice is encoded once, not on every command
    # The first generation after loading is slow (and compiles, where that is on): it runs now,
    # so that the first sentence is not the one that pays.
    engine.wait_until_warm()
    info = engine.info
    print(f"Ready: {info.model_id} on {info.device_name} ({info.dtype}; "
          f"{engine.acceleration.describe()}).", file=sys.stderr)
    return engine


def print_stats(metrics: dict[str, object]) -> None:
    for key, value in metrics.items():
        if isinstance(value, float):
            value = f"{value:.4f}"
        print(f"{key}: {value}", file=sys.stderr)

