"""`voxdesk voices ...`: saved voices (profiles) from a terminal.

    voxdesk voices list [--json]
    voxdesk voices add NAME --audio FILE [--text T] [--mode M] [--language L] [--default]
    voxdesk voices set NAME [--text T | --no-text] [--mode M] [--language L] [--cfg X] ...
    voxdesk voices rename OLD NEW | duplicate NAME [NEW] | remove NAME | default [NAME|--none]
    voxdesk voices export NAME -o FILE | import FILE
    voxdesk voices new-default [--seed N]        (another "Model default voice")

Speak with one: `voxdesk speak --voice NAME "text"`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from voxdesk.voices.profile import MODES, VoiceProfile

if TYPE_CHECKING:
    from voxdesk.voices.store import VoiceStore


def register(subparsers: argparse._SubParsersAction) -> None:
    from voxdesk.cli.options import add_model_options

    voices = subparsers.add_parser(
        "voices", help="manage saved (cloned) voices",
        description="Clone a voice once from a recording, save it by name, and speak with it "
        "(`voxdesk speak --voice NAME`).")
    commands = voices.add_subparsers(dest="voices_command", metavar="ACTION", required=True)

    listing = commands.add_parser("list", help="show the saved voices")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    add = commands.add_parser(
        "add", help="save a new voice from an audio file",
        description="Save a voice from a recording (WAV, FLAC, OGG or MP3; 5-20 s of clear "
        "speech is best, 1-60 s is accepted). The audio is converted to mono, trimmed and "
        "levelled; a file that is too short, too long, silent or clipped is refused.")
    add.add_argument("name", help="the voice's name")
    add.add_argument("--audio", type=Path, required=True, metavar="FILE",
                     help="the recording of the voice")
    _add_detail_options(add)
    add.add_argument("--default", action="store_true", help="make it the default voice")
    add.set_defaults(func=run_add)

    change = commands.add_parser("set", help="change a voice's transcript, mode or settings")
    change.add_argument("name")
    change.add_argument("--no-text", action="store_true", help="forget the transcript")
    _add_detail_options(change)
    params = change.add_argument_group("synthesis settings saved with the voice")
    params.add_argument("--cfg", type=float, metavar="X", help="guidance value")
    params.add_argument("--steps", type=int, metavar="N", help="diffusion steps")
    params.add_argument("--seed", type=int, metavar="N", help="random seed")
    params.add_argument("--style", metavar="TEXT",
                        help="how it should speak, e.g. \"slightly faster, cheerful\" (VoxCPM2; "
                        "\"\" removes it)")
    change.set_defaults(func=run_set)

    design = commands.add_parser(
        "design", help="create a voice from a description (VoxCPM2)",
        description="Generate candidate voices from a description, each from its own seed "
        "(--seed, --seed+1, ...), and keep one as a saved voice: its audio and text become the "
        "voice's recording and transcript. Without --pick the first is kept; --pick N keeps "
        "candidate N; --out-dir writes every candidate as a WAV to listen to first.")
    design.add_argument("name", help="the new voice's name")
    design.add_argument("--description", required=True, metavar="TEXT",
                        help="the voice, in words: \"a warm, calm older man, speaking slowly\"")
    design.add_argument("--seed", type=int, metavar="N",
                        help="the first candidate's seed (default: a random one)")
    design.add_argument("--candidates", type=int, default=1, metavar="N",
                        help="how many to generate (default 1, at most 8)")
    design.add_argument("--pick", type=int, metavar="N",
                        help="keep candidate N (1-based; default 1)")
    design.add_argument("--text", metavar="T", help="what the candidates say (default: a "
                        "sentence with every sound of English)")
    design.add_argument("--out-dir", type=Path, metavar="DIR",
                        help="also write each candidate to DIR/candidate-N-seed-S.wav")
    design.add_argument("--max-len", type=int, default=None, metavar="STEPS",
                        help="longest candidate, in 160 ms steps (default 60)")
    design.add_argument("--language", metavar="CODE", help="the voice's language, e.g. en")
    design.add_argument("--default", action="store_true", help="make it the default voice")
    add_model_options(design)
    design.set_defaults(func=run_design)

    rename = commands.add_parser("rename", help="give a voice another name")
    rename.add_argument("old")
    rename.add_argument("new")
    rename.set_defaults(func=run_rename)

    duplicate = commands.add_parser("duplicate", help="copy a voice (e.g. to try settings)")
    duplicate.add_argument("name")
    duplicate.add_argument("new", nargs="?", help="the copy's name (default: “NAME copy”)")
    duplicate.set_defaults(func=run_duplicate)

    remove = commands.add_parser("remove", help="delete a saved voice")
    remove.add_argument("name")
    remove.set_defaults(func=run_remove)

    default = commands.add_parser("default", help="show or set the default voice")
    default.add_argument("name", nargs="?")
    default.add_argument("--none", action="store_true", help="no default voice")
    default.set_defaults(func=run_default)

    export = commands.add_parser("export", help="write a voice to a .voxvoice file")
    export.add_argument("name")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the file (or folder) to write")
    export.set_defaults(func=run_export)

    imported = commands.add_parser("import", help="add the voice in a .voxvoice file")
    imported.add_argument("file", type=Path)
    imported.set_defaults(func=run_import)

    house = commands.add_parser(
        "new-default", help="make another “Model default voice” for this model",
        description="Without a saved voice, VoxDesk speaks in one stable voice per model, made "
        "once from a seed. This makes another one (from --seed, else a random seed); the window, "
        "the CLI, the hotkeys and the server use it from their next sentence on.")
    house.add_argument("--seed", type=int, metavar="N",
                       help="the seed of the new voice (the same seed gives the same voice)")
    add_model_options(house)
    house.set_defaults(func=run_new_default)


def _add_detail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text", metavar="T",
                        help="what is said in the recording: the model then continues it "
                        "(closest match; needed by models older than VoxCPM2)")
    parser.add_argument("--mode", choices=MODES,
                        help="reference: clone from the sound alone (VoxCPM2); continuation: "
                        "recording + transcript (default: continuation when --text is given)")
    parser.add_argument("--language", metavar="CODE", help="the voice's language, e.g. en")


def _store() -> VoiceStore:
    from voxdesk.voices.store import VoiceStore  # lazily: `voxdesk --help` stays fast

    return VoiceStore()


def _warn_problems(store: VoiceStore) -> None:
    for problem in store.problems:
        print(f"voxdesk: warning: {problem}", file=sys.stderr)


def _describe(profile: VoiceProfile) -> str:
    how = "reference only" if profile.mode == "reference" else "continuation"
    return f"“{profile.name}” ({profile.duration:.1f} s, {how})"


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    profiles = store.list()
    default = store.default()
    default_folder = default.folder if default is not None else None
    _warn_problems(store)
    if args.json:
        json.dump([_as_json(p, p.folder == default_folder) for p in profiles], sys.stdout,
                  indent=2, ensure_ascii=False)
        print()
        return 0
    if not profiles:
        print("No saved voices. Add one with `voxdesk voices add NAME --audio FILE`.",
              file=sys.stderr)
        return 0
    width = max(len(p.name) for p in profiles)
    for p in profiles:
        mark = "*" if p.folder == default_folder else " "
        transcript = f"  “{_shorten(p.transcript, 50)}”" if p.transcript else ""
        print(f"{mark} {p.name:<{width}}  {p.mode:<12}  {p.duration:5.1f} s"
              f"{'  ' + p.language if p.language else ''}{transcript}")
    if default_folder is not None:
        print("(* default voice)", file=sys.stderr)
    return 0


def _as_json(profile: VoiceProfile, is_default: bool) -> dict[str, object]:
    data = profile.to_json()
    del data["format"], data["audio"]
    return {**data, "default": is_default, "folder": str(profile.folder),
            "audio_path": str(profile.audio_path)}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_add(args: argparse.Namespace) -> int:
    store = _store()
    profile = store.add(args.name, args.audio, transcript=args.text, mode=args.mode,
                        language=args.language)
    if args.default:
        store.set_default(profile.name)
    print(f"Added {_describe(profile)}.")
    if profile.mode == "reference":
        print("Without a transcript only VoxCPM2 can use it; add one with "
              f"`voxdesk voices set \"{profile.name}\" --text \"...\"` for older models.",
              file=sys.stderr)
    return 0


def run_set(args: argparse.Namespace) -> int:
    store = _store()
    profile = store.get(args.name)
    changes: dict[str, object] = {}
    if args.no_text:
        changes["transcript"] = None
    elif args.text is not None:
        changes["transcript"] = args.text
    if args.mode is not None:
        changes["mode"] = args.mode
    if args.language is not None:
        changes["language"] = args.language
    given = {field: value for field, value in (("cfg_value", args.cfg),
                                               ("inference_timesteps", args.steps),
                                               ("seed", args.seed),
                                               ("style", args.style)) if value is not None}
    if given.get("style") == "":
        given["style"] = None
    if given:
        changes["params"] = profile.params.replace(**given)
    profile = store.update(profile.name, **changes)  # type: ignore[arg-type]
    print(f"Updated {_describe(profile)}.")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    profile = _store().rename(args.old, args.new)
    print(f"Renamed to “{profile.name}”.")
    return 0


def run_duplicate(args: argparse.Namespace) -> int:
    profile = _store().duplicate(args.name, args.new)
    print(f"Copied to “{profile.name}”.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    removed = _store().remove(args.name)
    print(f"Removed “{removed.name}” (kept for 30 days in {removed.trash_folder.parent}).")
    return 0


def run_default(args: argparse.Namespace) -> int:
    store = _store()
    if args.none:
        store.set_default(None)
        print("No default voice.")
    elif args.name is not None:
        store.set_default(args.name)
        print(f"“{store.get(args.name).name}” is the default voice.")
    else:
        profile = store.default()
        print(profile.name if profile is not None else "(none)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    path = _store().export(args.name, args.output)
    print(f"Wrote {path}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    profile = _store().import_(args.file)
    print(f"Imported {_describe(profile)}.")
    return 0


def run_new_default(args: argparse.Namespace) -> int:
    from voxdesk.cli.options import load_engine

    if args.seed is not None and not 0 <= args.seed < 2**63:
        from voxdesk.errors import InvalidRequestError

        raise InvalidRequestError(f"The seed must be between 0 and 2^63-1, not {args.seed}.")
    engine = load_engine(args)
    seed = engine.new_default_voice(args.seed)
    print(f"The default voice of {engine.info.model_id} is now the one of seed {seed}.")
    return 0


def run_design(args: argparse.Namespace) -> int:
    from voxdesk.cli.options import load_engine
    from voxdesk.voices import design
    from voxdesk.voices.profile import check_name

    description = design.check_description(args.description)  # before loading any model
    name = check_name(args.name)
    store = _store()
    if name.casefold() in {n.casefold() for n in store.names()}:
        from voxdesk.voices.errors import VoiceExistsError

        raise VoiceExistsError(f"A voice called “{name}” exists already.",
                               "Choose another name, or remove that voice first.")
    seed = design.random_seed() if args.seed is None else args.seed
    seeds = design.candidate_seeds(seed, args.candidates)
    pick = 1 if args.pick is None else args.pick
    if not 1 <= pick <= len(seeds):
        from voxdesk.errors import InvalidRequestError

        raise InvalidRequestError(f"--pick must be between 1 and {len(seeds)}, not {pick}.")
    text = args.text or design.SAMPLE_TEXT
    engine = load_engine(args)
    design.require_design(engine)
    kept = None
    for number, candidate in enumerate(design.generate_candidates(
            engine, description, seed, len(seeds), text,
            args.max_len or design.DESIGN_MAX_STEPS), start=1):
        print(f"candidate {number}: seed {candidate.seed}, {candidate.duration:.1f} s",
              file=sys.stderr)
        if args.out_dir is not None:
            import soundfile

            args.out_dir.mkdir(parents=True, exist_ok=True)
            soundfile.write(args.out_dir / f"candidate-{number}-seed-{candidate.seed}.wav",
                            candidate.samples, candidate.sample_rate)
        if number == pick:
            kept = candidate
    assert kept is not None
    profile = design.keep(store, name, kept, description, args.language)
    if args.default:
        store.set_default(profile.name)
    print(f"Designed {_describe(profile)} from seed {kept.seed}.")
    return 0
