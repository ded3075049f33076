"""What a reader may be asked to keep besides the running text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadOptions:
    include_footnotes: bool = False  # footnotes/endnotes, and the marks that refer to them
    include_tables: bool = False  # tables, read a row at a time ("cell, cell, cell")
