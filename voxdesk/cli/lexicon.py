"""`voxdesk lexicon ...`: how words are pronounced (replacements for what the model hears).

    voxdesk lexicon add WORD REPLACEMENT [--regex] [--match-case] [--language L | --voice V]
    voxdesk lexicon list [--json]
    voxdesk lexicon remove WORD [--language L | --voice V]
    voxdesk lexicon export -o FILE | import FILE
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    lexicon = subparsers.add_parser(
        "lexicon", help="fix how words are pronounced",
        description="Replacements applied to the text the model is given (never to what is "
        "shown): whole words or regular expressions, for every voice, a language or a voice.")
    commands = lexicon.add_subparsers(dest="lexicon_command", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add (or change) a replacement")
    add.add_argument("pattern", metavar="WORD", help="the word (or with --regex, an expression)")
    add.add_argument("replacement", help="what the model is given instead (\\1 for groups)")
    add.add_argument("--regex", action="store_true",
                     help="WORD is a regular expression (Python syntax)")
    add.add_argument("--match-case", action="store_true",
                     help="only where the case matches (default: ignore case)")
    _add_scope(add)
    add.set_defaults(func=run_add)

    listing = commands.add_parser("list", help="show the replacements")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    remove = commands.add_parser("remove", help="remove a replacement")
    remove.add_argument("pattern", metavar="WORD")
    _add_scope(remove)
    remove.set_defaults(func=run_remove)

    export = commands.add_parser("export", help="write the lexicon to a file")
    export.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    export.set_defaults(func=run_export)

    imported = commands.add_parser("import", help="add the replacements of an exported file")
    imported.add_argument("file", type=Path, metavar="FILE")
    imported.set_defaults(func=run_import)


def _add_scope(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--language", metavar="L", help="only for this language (en, fr, zh...)")
    scope.add_argument("--voice", metavar="NAME", help="only for this saved voice")


def run_add(args: argparse.Namespace) -> int:
    from voxdesk.lexicon import LexiconEntry, LexiconStore

    entry = LexiconEntry(args.pattern, args.replacement, "regex" if args.regex else "word",
                         args.match_case, args.language or None, args.voice or None)
    LexiconStore().add(entry)
    print(f"Added: {args.pattern!r} -> {args.replacement!r} ({entry.scope}).", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from voxdesk.lexicon import LexiconStore, describe

    entries = LexiconStore().load().entries
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
    elif not entries:
        print("The lexicon is empty (add with `voxdesk lexicon add WORD REPLACEMENT`).",
              file=sys.stderr)
    else:
        for number, line in enumerate(describe(entries), 1):
            print(f"{number}. {line}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from voxdesk.lexicon import LexiconError, LexiconStore

    if not LexiconStore().remove(args.pattern, args.voice or None, args.language or None):
        raise LexiconError(f"No replacement for {args.pattern!r} in that scope.",
                           "See them with `voxdesk lexicon list`.")
    print(f"Removed {args.pattern!r}.", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from voxdesk.lexicon import LexiconStore, write_entries

    entries = LexiconStore().load().entries
    write_entries(args.output, entries)
    print(f"Wrote {len(entries)} replacements to {args.output}.", file=sys.stderr)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from voxdesk.lexicon import LexiconStore

    count = LexiconStore().import_file(args.file)
    print(f"Imported {count} replacements.", file=sys.stderr)
    return 0
