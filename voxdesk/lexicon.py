"""Pronunciation: replacements applied to the text the model receives, never to what is shown.

An entry replaces a whole word (``kind="word"``) or a regular expression (``kind="regex"``,
with ``\\1``-style groups in the replacement), matching case or ignoring it, for every voice
(global), one language (``en`` also covers ``en-GB``) or one voice. The engine applies the
lexicon to each sentence just before the model sees it, so sentence offsets (the highlight)
keep referring to the original text. Stored atomically as ``lexicon.json`` in the config dir.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from voxdesk import paths
from voxdesk.atomic import atomic_write_json
from voxdesk.errors import InvalidRequestError

KINDS = ("word", "regex")
FILE_NAME = "lexicon.json"
MAX_ENTRIES = 10_000
MAX_PATTERN = 1_000


class LexiconError(InvalidRequestError):
    """An entry that cannot be used (a bad regular expression, an empty word...)."""


@dataclass(frozen=True)
class LexiconEntry:
    pattern: str  # the word, or the regular expression
    replacement: str  # what the model is given instead
    kind: str = "word"  # "word" or "regex"
    match_case: bool = False
    language: str | None = None  # None: every language
    voice: str | None = None  # None: every voice
    _compiled: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", compile_entry(self))

    @property
    def scope(self) -> str:
        if self.voice:
            return f"voice {self.voice}"
        if self.language:
            return f"language {self.language}"
        return "global"

    def applies_to(self, voice: str | None, language: str | None) -> bool:
        if self.voice is not None and (voice is None or self.voice.casefold() != voice.casefold()):
            return False
        if self.language is not None:
            if language is None:
                return False
            wanted, given = self.language.lower(), language.lower().replace("_", "-")
            return given == wanted or given.startswith(wanted + "-")
        return True

    def apply(self, text: str) -> str:
        assert self._compiled is not None
        if self.kind == "word":
            return self._compiled.sub(lambda _m: self.replacement, text)
        return self._compiled.sub(self.replacement, text)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_compiled")
        return data

    @classmethod
    def from_dict(cls, data: Any) -> LexiconEntry:
        if not isinstance(data, dict):
            raise LexiconError("A lexicon entry must be an object with pattern and replacement.")
        try:
            return cls(pattern=_text(data, "pattern"), replacement=_text(data, "replacement", True),
                       kind=str(data.get("kind", "word")),
                       match_case=bool(data.get("match_case", False)),
                       language=_optional(data, "language"), voice=_optional(data, "voice"))
        except (TypeError, ValueError) as exc:
            raise LexiconError(f"A lexicon entry is malformed: {exc}.") from None


def _text(data: dict[str, Any], key: str, empty: bool = False) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise LexiconError(f"A lexicon entry needs a text {key!r}.")
    return value


def _optional(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise LexiconError(f"A lexicon entry's {key!r} must be text.")
    return value


def compile_entry(entry: LexiconEntry) -> re.Pattern[str]:
    """The entry's expression; raises LexiconError saying what is wrong."""
    if entry.kind not in KINDS:
        raise LexiconError(f"Unknown kind {entry.kind!r}: use word or regex.")
    if not entry.pattern.strip():
        raise LexiconError("The word or expression to replace is empty.")
    if len(entry.pattern) > MAX_PATTERN:
        raise LexiconError(f"The pattern is longer than {MAX_PATTERN} characters.")
    flags = 0 if entry.match_case else re.IGNORECASE
    if entry.kind == "word":
        # Whole words: not inside another word ("cat" does not touch "concatenate").
        return re.compile(rf"(?<!\w){re.escape(entry.pattern.strip())}(?!\w)", flags)
    try:
        compiled = re.compile(entry.pattern, flags)
    except re.error as exc:
        raise LexiconError(f"The regular expression {entry.pattern!r} is invalid: {exc}.",
                           "Fix it (Python syntax), or add the text as a word instead.") from None
    if compiled.search(""):
        raise LexiconError(f"The regular expression {entry.pattern!r} matches empty text.",
                           "It would insert the replacement everywhere; make it match something.")
    try:  # a replacement naming a group the expression lacks fails here, not mid-sentence
        re._parser.parse_template(entry.replacement, compiled)  # type: ignore[attr-defined]
    except AttributeError:  # (the private parser moved): found when the entry is used
        pass
    except (re.error, IndexError) as exc:
        raise LexiconError(f"The replacement {entry.replacement!r} is invalid: {exc}.",
                           "Refer only to groups the expression has, as \\1 or \\g<name>.") \
            from None
    return compiled


@dataclass(frozen=True)
class Lexicon:
    """Entries applied in order; the engine calls :meth:`apply` on each sentence."""

    entries: tuple[LexiconEntry, ...] = ()

    def apply(self, text: str) -> str:
        for entry in self.entries:
            text = entry.apply(text)
        return text

    def __bool__(self) -> bool:
        return bool(self.entries)

    def for_voice(self, voice: str | None, language: str | None) -> Lexicon:
        """The entries for this voice and language: the voice's own first, then the
        language's, then the global ones (the more specific rule wins)."""
        chosen = [e for e in self.entries if e.applies_to(voice, language)]
        chosen.sort(key=lambda e: 0 if e.voice else 1 if e.language else 2)
        return Lexicon(tuple(chosen))


class LexiconStore:
    """The user's lexicon file (``lexicon.json`` in the config dir)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else paths.config_dir() / FILE_NAME

    def load(self) -> Lexicon:
        if not self.path.exists():
            return Lexicon()
        return Lexicon(tuple(read_entries(self.path)))

    def save(self, lexicon: Lexicon) -> None:
        write_entries(self.path, lexicon.entries)

    def add(self, entry: LexiconEntry) -> Lexicon:
        """Add ``entry``, replacing one with the same pattern, kind and scope."""
        kept = [e for e in self.load().entries if _key(e) != _key(entry)]
        if len(kept) >= MAX_ENTRIES:
            raise LexiconError(f"The lexicon holds at most {MAX_ENTRIES:,} entries.")
        lexicon = Lexicon((*kept, entry))
        self.save(lexicon)
        return lexicon

    def remove(self, pattern: str, voice: str | None = None, language: str | None = None
               ) -> int:
        """Remove the entries for ``pattern`` (in that scope); returns how many."""
        entries = self.load().entries
        kept = tuple(e for e in entries if not (e.pattern == pattern and e.voice == voice
                                               and e.language == language))
        if len(kept) != len(entries):
            self.save(Lexicon(kept))
        return len(entries) - len(kept)

    def import_file(self, path: str | Path) -> int:
        """Add every entry of an exported file (checked whole first); returns how many."""
        new = read_entries(Path(path))
        current = list(self.load().entries)
        keys = {_key(e) for e in new}
        merged = [e for e in current if _key(e) not in keys] + list(new)
        if len(merged) > MAX_ENTRIES:
            raise LexiconError(f"The lexicon holds at most {MAX_ENTRIES:,} entries.")
        self.save(Lexicon(tuple(merged)))
        return len(new)

    def for_voice(self, voice: str | None, language: str | None) -> Lexicon | None:
        """The lexicon a request in this voice and language uses; None when empty."""
        lexicon = self.load().for_voice(voice, language)
        return lexicon or None


def _key(entry: LexiconEntry) -> tuple[Any, ...]:
    return entry.pattern, entry.kind, entry.voice, entry.language


def read_entries(path: Path) -> list[LexiconEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LexiconError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LexiconError(f"{path} is not a lexicon file ({exc}).",
                           "Use a file written by `voxdesk lexicon export`.") from None
    raw = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise LexiconError(f"{path} is not a lexicon file (no list of entries).",
                           "Use a file written by `voxdesk lexicon export`.")
    if len(raw) > MAX_ENTRIES:
        raise LexiconError(f"{path} has more than {MAX_ENTRIES:,} entries.")
    return [LexiconEntry.from_dict(item) for item in raw]


def write_entries(path: Path, entries: Iterable[LexiconEntry]) -> None:
    atomic_write_json(path, {"version": 1, "entries": [e.as_dict() for e in entries]})


def lexicon_for(voice: str | None, language: str | None,
                store: LexiconStore | None = None) -> Lexicon | None:
    """The user's lexicon for a request in ``voice`` and ``language`` (None when it is empty).
    A damaged lexicon file is an error rather than silently ignored."""
    return (store or LexiconStore()).for_voice(voice, language)


def describe(entries: Sequence[LexiconEntry]) -> list[str]:
    lines = []
    for entry in entries:
        case = "match case" if entry.match_case else "ignore case"
        lines.append(f"{entry.pattern!r} -> {entry.replacement!r}  ({entry.kind}, {case}, "
                     f"{entry.scope})")
    return lines
