"""Fetch a model into VoxDesk's model folder: resumable, verified, cancellable, with progress.

    download("VoxCPM2", progress=callback, cancel=event) -> Path of the model folder

Every file is fetched into ``<model folder>/.download/<checksum>.part``. An interrupted download
(cancel, crash, lost connection, power cut) keeps those parts, and the next call continues each
from where it stopped with an HTTP Range request; a part is named after the checksum of the
content it is becoming, so a part left from an older version of the model is never glued onto a
newer one. Each file is checked against the checksum its source published as its bytes arrive,
moved into place once it matches, and the manifest is written last. Before anything is fetched
the free disk space is compared with what remains to download.

``progress`` is called from the downloading thread (a window must hand it over to its own
thread), at most ten times a second plus once per file and once at the end.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from voxdesk.atomic import atomic_write_json
from voxdesk.locks import LockBusy, file_lock
from voxdesk.models import catalog, http, sources, store
from voxdesk.models.errors import (
    AccessDeniedError,
    DownloadBusyError,
    DownloadCancelled,
    IntegrityError,
    ModelNotFoundError,
    NetworkError,
    NotEnoughSpaceError,
)
from voxdesk.models.integrity import FileHasher

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
RETRIES = 5  # attempts per file without any progress before giving up
SPACE_MARGIN = 200 * 1000**2  # keep some room so the disk is not filled to the last byte
PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class DownloadProgress:
    model: str  # the name the download was asked for
    phase: str  # "listing", "downloading", "done"
    done_bytes: int  # of all files, including what earlier attempts fetched
    total_bytes: int
    files_done: int
    files_total: int
    file: str | None = None  # the file being fetched
    bytes_per_second: float | None = None  # recent transfer rate; None until known
    resumed_bytes: int = 0  # how much of done_bytes came from an earlier, interrupted attempt

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.bytes_per_second:
            return None
        return max(0.0, (self.total_bytes - self.done_bytes) / self.bytes_per_second)


ProgressCallback = Callable[[DownloadProgress], None]


def resolve_name(name: str) -> tuple[str, catalog.CatalogEntry | None]:
    """(repository id, catalogue entry) for a short name ("VoxCPM2") or a repository id."""
    entry = catalog.find(name)
    if entry is not None:
        return entry.repo_id, entry
    if name.count("/") != 1 or not all(name.split("/")):
        raise catalog.UnknownModelError(
            f"{name!r} is not a model VoxDesk knows, nor a repository id (owner/name).",
            "`voxdesk models list` shows the known models.")
    return name, None


def download(
    name: str,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    source: str | None = None,
    revision: str | None = None,
) -> Path:
    """Download ``name`` (a catalogue name or a repository id) unless it is already complete;
    returns the model folder. Raises a :class:`~voxdesk.errors.VoxDeskError` subclass on
    failure (:class:`DownloadCancelled` when ``cancel`` was set)."""
    repo_id, entry = resolve_name(name)
    source = source or (entry.default_source if entry else sources.HUGGINGFACE)
    if source not in sources.SOURCES:
        raise ValueError(f"unknown source {source!r}")
    done = store.in_store(repo_id)
    if done is not None and done.manifest is not None and revision is None:
        if not store.missing_or_damaged(done.path, done.manifest):
            return done.path  # complete; a damaged one is repaired below, file by file
    remote_id = repo_id
    if source == sources.MODELSCOPE and entry is not None:
        if entry.modelscope_id is None:
            raise ModelNotFoundError(f"{entry.id} is not published on ModelScope.",
                                     "Download it from Hugging Face (leave out --source).")
        remote_id = entry.modelscope_id
    job = _Download(entry.id if entry else repo_id, progress, cancel)
    job.report("listing")
    snapshot = sources.list_files(source, remote_id, revision)  # type: ignore[arg-type]
    target = store.model_dir(repo_id)
    with _exclusive(target, name):
        return job.run(snapshot, repo_id, target)


class _Download:
    def __init__(self, name: str, progress: ProgressCallback | None,
                 cancel: threading.Event | None) -> None:
        self.name = name
        self.callback = progress
        self.cancel = cancel or threading.Event()
        self.total = 0
        self.done = 0
        self.resumed = 0
        self.files_done = 0
        self.files_total = 0
        self.file: str | None = None
        self._last_report = 0.0
        self._rate: float | None = None
        self._rate_mark = (time.monotonic(), 0)

    # -- progress -----------------------------------------------------------------------
    def report(self, phase: str, force: bool = True) -> None:
        now = time.monotonic()
        mark_time, mark_bytes = self._rate_mark
        if now - mark_time >= 1.0:  # a rate over the last second or so, smoothed
            current = (self.done - mark_bytes) / (now - mark_time)
            self._rate = current if self._rate is None else 0.6 * current + 0.4 * self._rate
            self._rate_mark = (now, self.done)
        if self.callback is None or (not force and now - self._last_report < PROGRESS_INTERVAL_S):
            return
        self._last_report = now
        self.callback(DownloadProgress(self.name, phase, self.done, self.total, self.files_done,
                                       self.files_total, self.file, self._rate, self.resumed))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise DownloadCancelled(
                f"The download of {self.name} was stopped "
                f"({catalog.format_size(self.done)} of {catalog.format_size(self.total)}).",
                "Start it again to continue where it stopped; what was fetched is kept.")

    # -- the job ------------------------------------------------------------------------
    def run(self, snapshot: sources.RemoteSnapshot, repo_id: str, target: Path) -> Path:
        partial_dir = target / store.PARTIAL_DIR
        partial_dir.mkdir(parents=True, exist_ok=True)
        self._drop_stale_parts(snapshot, partial_dir)
        verified = _Verified(partial_dir, store.read_manifest(target))
        pending = [f for f in snapshot.files if not verified.holds(target, f)]
        if pending:
            # From here on the folder is a download in progress, not a complete model (what the
            # manifest vouched for is carried over first).
            verified.save()
            (target / store.MANIFEST).unlink(missing_ok=True)
        self.files_total = len(snapshot.files)
        self.files_done = self.files_total - len(pending)
        self.total = snapshot.total_bytes
        kept = sum(_size(partial_dir / f"{f.key}.part") for f in pending)
        self.done = self.resumed = self.total - sum(f.size for f in pending) + kept
        self._check_space(target, sum(f.size for f in pending) - kept)
        self._rate_mark = (time.monotonic(), self.done)
        log.info("Downloading %s from %s (%s, %d files, %s already here)", repo_id,
                 snapshot.endpoint, catalog.format_size(self.total), len(snapshot.files),
                 catalog.format_size(self.done))
        for remote in pending:
            self.file = remote.path
            self.report("downloading")
            part = partial_dir / f"{remote.key}.part"
            self._fetch_verified(snapshot, remote, part)
            destination = target / remote.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, destination)
            verified.add(remote)
            self.files_done += 1
        self.file = None
        store.write_manifest(target, store.Manifest(
            repo_id=repo_id,
            source=snapshot.source,
            endpoint=snapshot.endpoint,
            revision=snapshot.revision,
            files=tuple(store.ManifestFile(f.path, f.size, f.sha256, f.git_sha1)
                        for f in snapshot.files),
        ))
        shutil.rmtree(partial_dir, ignore_errors=True)
        self.report("done")
        log.info("Downloaded %s to %s", repo_id, target)
        return target

    @staticmethod
    def _drop_stale_parts(snapshot: sources.RemoteSnapshot, partial_dir: Path) -> None:
        """Parts of content the model no longer has (the repository changed since)."""
        keys = {f"{f.key}.part" for f in snapshot.files}
        for path in partial_dir.glob("*.part"):
            if path.name not in keys:
                path.unlink(missing_ok=True)

    def _check_space(self, target: Path, needed: int) -> None:
        free = shutil.disk_usage(target).free
        if needed + SPACE_MARGIN > free:
            raise NotEnoughSpaceError(
                f"{self.name} needs {catalog.format_size(needed)} more disk space, but only "
                f"{catalog.format_size(free)} is free on the disk holding {target.parent}.",
                "Free some space, or set VOXDESK_MODELS_DIR to a folder on a larger disk.")

    def _fetch_verified(self, snapshot: sources.RemoteSnapshot, remote: sources.RemoteFile,
                        part: Path) -> None:
        for attempt in (1, 2):
            if self._fetch(snapshot, remote, part).matches():
                return
            # A damaged part (from a crash mid-write, or a bad transfer): fetch it once afresh.
            log.warning("Checksum mismatch for %s (attempt %d)", remote.path, attempt)
            self._discard(part)
        raise IntegrityError(
            f"The file {remote.path} of {self.name} does not match the checksum published by "
            f"{snapshot.endpoint}, after downloading it twice.",
            "Try again later; if it keeps failing, the mirror (HF_ENDPOINT) may be serving a "
            "damaged copy: try another source.")

    def _discard(self, part: Path) -> None:
        self.done -= _size(part)
        part.unlink(missing_ok=True)

    def _fetch(self, snapshot: sources.RemoteSnapshot, remote: sources.RemoteFile,
               part: Path) -> FileHasher:
        """Bring ``part`` up to ``remote.size`` bytes, resuming and retrying as needed; returns
        the checksum of its content."""
        if _size(part) > remote.size:
            self._discard(part)
        hasher = FileHasher(remote.size, remote.sha256, remote.git_sha1)
        if _size(part):
            hasher.update_from_file(part)  # continuing an earlier attempt: its bytes count too
        failures = 0
        while hasher.count < remote.size:
            self.check_cancel()
            try:
                self._transfer(snapshot, remote, part, hasher)
                failures = 0
            except _Restart:
                self._discard(part)
                hasher = FileHasher(remote.size, remote.sha256, remote.git_sha1)
            except _Transient as exc:
                failures = 0 if exc.progressed else failures + 1
                if failures >= RETRIES:
                    raise NetworkError(
                        f"Downloading {remote.path} of {self.name} from {snapshot.endpoint} "
                        f"keeps failing ({exc.reason}).",
                        "Check the connection and start the download again: it continues where "
                        "it stopped.") from None
                log.info("Download of %s interrupted (%s); resuming at %d", remote.path,
                         exc.reason, hasher.count)
                # Straight back after a transfer broke midway; backing off when nothing gets through.
                if self.cancel.wait(0.2 if exc.progressed else min(2.0 ** failures, 30.0)):
                    self.check_cancel()
        return hasher

    def _transfer(self, snapshot: sources.RemoteSnapshot, remote: sources.RemoteFile, part: Path,
                  hasher: FileHasher) -> None:
        """One HTTP request appending to ``part`` (whose content ``hasher`` has seen)."""
        start = hasher.count
        try:
            response = http.open_url(remote.url, snapshot.headers, start=start)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and start:  # our part is not a prefix the server recognises
                raise _Restart() from None
            if exc.code in (401, 403):
                raise AccessDeniedError(
                    f"{snapshot.endpoint} refused to send {remote.path} (HTTP {exc.code}).",
                    "Set HF_TOKEN to an access token that can read this model.") from None
            if exc.code == 404:
                raise ModelNotFoundError(
                    f"{remote.path} of {self.name} has disappeared from {snapshot.endpoint}.",
                    "Start the download again to fetch the current version.") from None
            raise _Transient(f"HTTP {exc.code}", False) from None
        except OSError as exc:
            raise _Transient(http.describe_network_error(exc), False) from None
        with response:
            if start and response.status != 206:  # the server ignored Range: start over
                raise _Restart()
            try:
                with open(part, "ab" if start else "wb") as f:
                    for block in _read_blocks(response):
                        if hasher.count + len(block) > remote.size:
                            raise _Restart()
                        f.write(block)
                        hasher.update(block)
                        self.done += len(block)
                        self.report("downloading", force=False)
                        self.check_cancel()
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                if _is_disk_error(exc):
                    raise NotEnoughSpaceError(f"Cannot write {part}: {exc.strerror}.",
                                              "Free some disk space and start again.") from None
                raise _Transient(http.describe_network_error(exc), hasher.count > start) from None
        if hasher.count < remote.size:
            raise _Transient("the connection closed early", hasher.count > start)


class _Verified:
    """Which files of the model folder are known good: listed with the same checksum in the
    manifest of the copy already there, or finished by an earlier attempt of this download
    (recorded in ``.download/verified.json`` as each file is moved into place)."""

    def __init__(self, partial_dir: Path, manifest: store.Manifest | None) -> None:
        self._path = partial_dir / "verified.json"
        self._known: dict[str, list[str | None]] = {}
        if manifest is not None:
            self._known = {f.path: [f.sha256, f.git_sha1, str(f.size)] for f in manifest.files}
        try:
            self._known.update(json.loads(self._path.read_text("utf-8")))
        except (OSError, ValueError):
            pass

    def holds(self, target: Path, remote: sources.RemoteFile) -> bool:
        return (self._known.get(remote.path) == self._entry(remote)
                and (target / remote.path).is_file()
                and _size(target / remote.path) == remote.size)

    def add(self, remote: sources.RemoteFile) -> None:
        self._known[remote.path] = self._entry(remote)
        self.save()

    def save(self) -> None:
        atomic_write_json(self._path, self._known)

    @staticmethod
    def _entry(remote: sources.RemoteFile) -> list[str | None]:
        return [remote.sha256, remote.git_sha1, str(remote.size)]


class _Restart(Exception):
    """The partial file cannot be continued: fetch the file from its start."""


class _Transient(Exception):
    def __init__(self, reason: str, progressed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.progressed = progressed


def _read_blocks(response) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    while True:
        try:
            block = response.read(CHUNK)
        except Exception as exc:  # http.client.IncompleteRead and friends: a broken transfer
            if isinstance(exc, OSError):
                raise
            raise ConnectionError(type(exc).__name__) from exc
        if not block:
            return
        yield block


def _is_disk_error(exc: OSError) -> bool:
    import errno

    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES)


def _size(path: Path) -> int:
    """Size of a file; 0 when it does not exist."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextmanager
def _exclusive(target: Path, name: str) -> Iterator[None]:
    """One download per model at a time, across processes (the window and a terminal)."""
    target.mkdir(parents=True, exist_ok=True)
    locks = target.parent / ".locks"
    locks.mkdir(exist_ok=True)
    try:
        with file_lock(locks / f"{target.name}.lock", wait=False):
            yield
    except LockBusy:
        raise DownloadBusyError(f"{name} is being downloaded by another VoxDesk already.",
                                "Wait for that download to finish.") from None
