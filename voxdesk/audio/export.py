"""Writing synthesised audio to a file, incrementally and atomically.

Samples are written as they are generated into a hidden temporary file beside the target; only
a complete file is renamed onto the target name. An export that is cancelled, fails, or whose
process is killed never leaves a truncated file under the name the user chose.

The target is what the name points to: a symbolic link is written through (the new file goes
beside the link's target, which it replaces; the link stays), and anything that is not a
regular file - a FIFO, a device such as /dev/full, a socket - is refused rather than replaced.
The file gets the mode an ordinary new file gets (0666 less the umask), or the mode of the file
it replaces. A temporary file's name holds its writer's process id, so the ones a killed
export left behind are removed by the next export to that folder once that process is gone.
"""

from __future__ import annotations

import errno
import math
import os
import re
import shutil
import stat
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
#: .NAME.PID.RANDOM.partial (the prefix mkstemp is given is ".NAME.PID.")
_PARTIAL_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+" + re.escape(PARTIAL_SUFFIX) + "$")
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def encoding_for(path: Path, requested: str | None = None) -> AudioFormat:
    """The format to write: the requested one, else the one the extension names (.mp3, .opus,
    .m4a/.m4b, .flac...), else 16-bit WAV."""
    return format_for_path(path, requested)


def _explain(exc: OSError, path: Path, needed_bytes: int = 0) -> ExportError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(path, needed_bytes)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"No permission to write {path}.", "Choose another folder.")
    if exc.errno == errno.ENOENT:
        if path.parent.is_dir():
            return ExportError(f"Cannot create files in {path.parent}.", "Choose another folder.")
        return ExportError(f"The folder {path.parent} does not exist.", "Choose another folder.")
    return ExportError(f"Could not write {path}: {exc.strerror or exc}.")


def disk_full(path: Path, needed_bytes: int) -> ExportError:
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = 0
    needed = max(1, math.ceil(max(needed_bytes, 1) / 2**20))
    return ExportError(f"The disk is full: {path} needs at least {needed} MB "
                       f"({free / 2**20:.1f} MB free).",
                       "Free some space or export to another drive.")


def export_target(path: str | Path) -> Path:
    """The file an export to ``path`` really writes: a symbolic link's target. Raises
    ExportError for a folder, a FIFO, a device or a socket (replacing those would break them,
    and writing into them is not saving a file)."""
    given = Path(path).expanduser().absolute()
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise _explain(exc, target) from exc
    if stat.S_ISDIR(mode):
        raise ExportError(f"{given} is a folder.", "Give a file name, e.g. speech.wav.")
    for test, kind in _KINDS:
        if test(mode):
            where = f" ({given} points to it)" if target != given else ""
            raise ExportError(f"{target} is {kind}, not a file{where}: VoxDesk exports only to "
                              "regular files.", "Give a file name, e.g. speech.wav.")
    return target


def new_file_mode(target: Path) -> int:
    """The mode to give the export: the replaced file's, else what the umask allows."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    try:  # Linux tells it without changing it (changing it would race with other threads)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete temporary export files in ``folder`` whose writing process no longer exists."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PARTIAL_NAME.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # exists, someone else's
    return True


def _partial(target: Path) -> tuple[int, str]:
    return tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                            suffix=PARTIAL_SUFFIX)


def check_writable(path: str | Path) -> None:
    """Fail early, before minutes of synthesis, if ``path`` cannot be written."""
    target = export_target(path)
    try:
        fd, probe = _partial(target)
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
        self.path = Path(path).expanduser().absolute()  # as given (a link stays a link)
        self.target = export_target(self.path)  # what is written
        self.sample_rate = sample_rate
        self.encoding = encoding_for(self.path, encoding)
        self.frames = 0
        self._options = {"bitrate": bitrate, "tags": tags, "chapters": chapters, "cover": cover}
        self._file: Encoder | None = None
        self._temp: Path | None = None
        self._discarded = False

    def __enter__(self) -> AtomicAudioWriter:
        check_writable(self.target)
        remove_stale_partials(self.target.parent)
        try:
            fd, temp = _partial(self.target)
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
            raise self._write_error(exc) from exc
        return self

    def write(self, samples: np.ndarray) -> None:
        assert self._file is not None, "use AtomicAudioWriter as a context manager"
        try:
            self._file.write(np.asarray(samples, dtype=np.float32))
        except (OSError, av.FFmpegError) as exc:
            raise self._write_error(exc, len(samples)) from exc
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
                os.chmod(self._temp, new_file_mode(self.target))
                os.replace(self._temp, self.target)
                self._temp = None
        except (OSError, av.FFmpegError) as error:
            if exc_type is None:
                raise self._write_error(error) from error
        finally:
            self._remove_temp()

    def result(self) -> ExportResult:
        return ExportResult(self.path, self.frames, self.sample_rate)

    def _write_error(self, exc: Exception, frames: int = 0) -> ExportError:
        # What this export has needed so far (an upper bound: 16-bit PCM's size, or 32-bit's;
        # compressed formats need less): an encoder's error may not say the disk is full, so
        # the free space tells.
        needed = (self.frames + frames) * self._bytes_per_frame() + 4096
        if isinstance(exc, OSError):
            return _explain(exc, self.path, needed)
        if "space" in str(exc).lower() or self._disk_nearly_full(frames):
            return disk_full(self.path, needed)
        return ExportError(f"Could not write {self.path}: {exc}.")

    def _bytes_per_frame(self) -> int:
        return 4 if self.encoding == "wav-float" else 2

    def _disk_nearly_full(self, frames: int) -> bool:
        try:
            free = shutil.disk_usage(self.target.parent).free
        except OSError:
            return False
        return free < frames * self._bytes_per_frame() + 64 * 1024

    def _remove_temp(self) -> None:
        if self._temp is not None:
            try:
                self._temp.unlink()
            except FileNotFoundError:
                pass
            self._temp = None

