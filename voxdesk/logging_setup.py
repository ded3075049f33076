"""Logging for the whole application: a rotating file in the platform's log folder, always,
plus stderr for warnings (everything with ``--debug``).

The file (``<log dir>/voxdesk.log``, 1 MB, five old copies kept) is what "copy diagnostics"
quotes from, so a user can report a problem after the fact. Records marked
``extra={"console": False}`` go to the file only: the CLI logs the errors it has already
printed in its own words.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_NAME = "voxdesk.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
QUIET_LIBRARIES = ("httpx", "httpcore", "urllib3", "filelock", "numba", "matplotlib", "PIL",
                   "asyncio", "huggingface_hub", "modelscope", "torio", "fsspec")

_MARK = "_voxdesk_handler"


class _RotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotation that never breaks logging: on Windows another VoxDesk process (the window and a
    terminal command) may hold the file open, and renaming it then fails; keep appending."""

    def doRollover(self) -> None:
        try:
            super().doRollover()
        except OSError:
            if self.stream is None or self.stream.closed:
                self.stream = self._open()


class _ConsoleFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "console", True)


class _NoLibraryWarnings(logging.Filter):
    """Python warnings (torch's and voxcpm's deprecations on every start) are for developers:
    they go to the log file, and to the terminal only with --debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "py.warnings"


def log_file() -> Path:
    from voxdesk import paths

    return paths.log_dir() / LOG_NAME


def setup_logging(debug: bool = False, console: bool = True, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUPS) -> Path | None:
    """Install VoxDesk's handlers on the root logger (again: replacing earlier ones). Returns the
    log file, or None when it cannot be written (logging then goes to stderr only)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    formatter = logging.Formatter(FORMAT)

    path: Path | None = None
    try:
        path = log_file()
        file_handler = _RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                            encoding="utf-8")
    except OSError as exc:
        path = None
        print(f"voxdesk: warning: cannot write the log file ({exc}); logging to stderr only",
              file=sys.stderr)
    else:
        file_handler.setLevel(logging.DEBUG if debug else logging.INFO)
        file_handler.setFormatter(formatter)
        setattr(file_handler, _MARK, True)
        root.addHandler(file_handler)

    if console:
        stream_handler = logging.StreamHandler(sys.stderr)
        stream_handler.setLevel(logging.DEBUG if debug else logging.WARNING)
        stream_handler.setFormatter(formatter)
        stream_handler.addFilter(_ConsoleFilter())
        if not debug:
            stream_handler.addFilter(_NoLibraryWarnings())
        setattr(stream_handler, _MARK, True)
        root.addHandler(stream_handler)

    logging.captureWarnings(True)
    if not debug:
        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)
    return path
