"""Writing synthesised audio to a file, incrementally and atomically.

Samples are written as they are generated into a hidden temporary file beside the target; only
a complete file is renamed onto the target name. An export that is cancelled, fails, or whose
process is killed never leaves a truncated file under the name the user chose.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from voxdesk.audio.encode import AudioFormat, ChapterMark, Encoder, format_for_path
from voxdesk.errors import ExportError

PARTIAL_SUFFIX = ".partial"


def encoding_for(path: Path, requested: str | None = None) -> AudioFormat:
    """The format to write: the requested one, else the one the extension names (.mp3, .opus,
    .m4a/.m4b, .flac...), else 16-bit WAV."""
    return format_for_path(path, requested)


def _explain(exc: OSError, path: Path) -> ExportError:
    if exc.errno == errno.ENOSPC:
        return ExportError(f"The disk is full: {path} could not be written.",
                           "Free some space or export to another drive.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"No permission to write {path}.", "Choose another folder.")
    if exc.errno == errno.ENOENT:
        if path.parent.is_dir():
            return ExportError(f"Cannot create files in {path.parent}.", "Choose another folder.")
        return ExportError(f"The folder {path.parent} does not exist.", "Choose another folder.")
    return ExportError(f"Could not write {path}: {exc.strerror or exc}.")


def check_writable(path: str | Path) -> None:
    """Fail early, before minutes of synthesis, if ``path`` cannot be written."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise ExportError(f"{target} is a folder.", "Give a file name, e.g. speech.wav.")
    try:
        fd, probe = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                     suffix=PARTIAL_SUFFIX)
    except OSError as exc:
        raise _explain(exc, target) from exc
    os.close(fd)
    os.unlink(probe)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    frames: int
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


class AtomicAudioWriter:
    """``with AtomicAudioWriter(path, rate) as w: w.write(samples)`` - renamed into place on a
    clean exit, deleted on an exception (or if :meth:`discard` was called)."""

    def __init__(self, path: str | Path, sample_rate: int, encoding: str | None = None, *,
                 bitrate: int | None = None, tags: Mapping[str, str] | None = None,
                 chapters: Sequence[ChapterMark] = (), cover: bytes | None = None) -> None:
        self.path = Path(path).expanduser().absolute()
        self.sample_rate = sample_rate
        self.encoding = encoding_for(self.path, encoding)
        self.frames = 0
        self._options = {"bitrate": bitrate, "tags": tags, "chapters": chapters, "cover": cover}
        self._file: Encoder | None = None
        self._temp: Path | None = None
        self._discarded = False

    def __enter__(self) -> AtomicAudioWriter:
        check_writable(self.path)
        try:
            fd, temp = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=PARTIAL_SUFFIX
            )
            os.close(fd)
            self._temp = Path(temp)
            # The muxer is chosen from the format, not from the temporary name's suffix.
            self._file = Encoder(temp, self.encoding, self.sample_rate,
                                 **self._options)  # type: ignore[arg-type]
        except OSError as exc:
            self._remove_temp()
            raise _explain(exc, self.path) from exc
        except (av.FFmpegError, ValueError) as exc:
            self._remove_temp()
            raise ExportError(f"Could not create {self.path}: {exc}.") from exc
        return self

    def write(self, samples: np.ndarray) -> None:
        assert self._file is not None, "use AtomicAudioWriter as a context manager"
        try:
            self._file.write(np.asarray(samples, dtype=np.float32))
        except (OSError, av.FFmpegError) as exc:
            raise self._write_error(exc) from exc
        self.frames += len(samples)

    def discard(self) -> None:
        """Drop what was written: nothing appears under the target name."""
        self._discarded = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._file is not None:
                if exc_type is None and not self._discarded:
                    self._file.close()  # flushes the codec, writes the final header sizes
                else:
                    self._file.abort()
            if exc_type is None and not self._discarded and self._temp is not None:
                with open(self._temp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(self._temp, self.path)
                self._temp = None
        except (OSError, av.FFmpegError) as error:
            if exc_type is None:
                raise self._write_error(error) from error
        finally:
            self._remove_temp()

    def result(self) -> ExportResult:
        return ExportResult(self.path, self.frames, self.sample_rate)

    def _write_error(self, exc: Exception) -> ExportError:
        if isinstance(exc, OSError):
            return _explain(exc, self.path)
        if "space" in str(exc).lower():
            return _explain(OSError(errno.ENOSPC, "No space left on device"), self.path)
        return ExportError(f"Could not write {self.path}: {exc}.")

    def _remove_temp(self) -> None:
        if self._temp is not None:
            try:
                self._temp.unlink()
            except FileNotFoundError:
                pass
            self._temp = None

