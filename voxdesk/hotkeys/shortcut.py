"""Keyboard shortcuts as people write them ("Ctrl+Alt+R"), parsed once for every backend."""

from __future__ import annotations

from dataclasses import dataclass

from voxdesk.errors import VoxDeskError

MODIFIERS = ("ctrl", "alt", "shift", "super")
_ALIASES = {"control": "ctrl", "option": "alt", "meta": "super", "win": "super", "cmd": "super"}


class HotkeyError(VoxDeskError):
    """A global shortcut could not be registered (taken, unsupported session, bad spelling)."""


@dataclass(frozen=True)
class Shortcut:
    modifiers: frozenset[str]
    key: str  # lower-case key name: "r", "f5", "space"

    @classmethod
    def parse(cls, text: str) -> Shortcut:
        parts = [p.strip().lower() for p in text.replace("-", "+").split("+") if p.strip()]
        if not parts:
            raise HotkeyError("The shortcut is empty.", "Use something like Ctrl+Alt+R.")
        *mods, key = [_ALIASES.get(p, p) for p in parts]
        unknown = [m for m in mods if m not in MODIFIERS]
        if unknown or key in MODIFIERS:
            raise HotkeyError(f"{text!r} is not a valid shortcut.",
                              "Use modifiers (Ctrl, Alt, Shift, Super) and one key, e.g. Ctrl+Alt+R.")
        if not mods:
            raise HotkeyError(f"{text!r} has no modifier: it would steal an ordinary key.",
                              "Add Ctrl, Alt or Super, e.g. Ctrl+Alt+R.")
        return cls(frozenset(mods), key)

    def __str__(self) -> str:
        mods = [m.capitalize() for m in MODIFIERS if m in self.modifiers]
        return "+".join([*mods, self.key.upper() if len(self.key) == 1 else self.key.capitalize()])
