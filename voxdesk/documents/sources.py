"""Getting a document's bytes: a file (size checked before reading) or a URL (with a timeout
and the same size limit while downloading), and telling which format it is."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from voxdesk import __version__
from voxdesk.documents.model import DocumentError

#: Larger files are refused before a byte is read: no book is this big, and the whole file
#: is held in memory while it is parsed.
MAX_DOCUMENT_BYTES = 200 * 1024 * 1024
URL_TIMEOUT_S = 15.0

FORMATS = ("pdf", "epub", "docx", "odt", "html", "markdown", "text")
_SUFFIXES = {
    ".pdf": "pdf", ".epub": "epub", ".docx": "docx", ".odt": "odt", ".html": "html",
    ".htm": "html", ".xhtml": "html", ".md": "markdown", ".markdown": "markdown",
    ".txt": "text", ".text": "text",
}
_CONTENT_TYPES = {
    "application/pdf": "pdf", "application/epub+zip": "epub", "text/html": "html",
    "application/xhtml+xml": "html", "text/markdown": "markdown", "text/plain": "text",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
}


@dataclass(frozen=True)
class Source:
    name: str  # the path or URL, as given
    data: bytes
    format: str  # one of FORMATS
    label: str  # a short name for messages and as a fallback title (file stem, host)

    @property
    def identity(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def read_source(source: str | os.PathLike[str], max_bytes: int = MAX_DOCUMENT_BYTES,
                timeout: float = URL_TIMEOUT_S) -> Source:
    text = os.fspath(source)
    if is_url(text):
        data, content_type = _download(text, max_bytes, timeout)
        label = urllib.parse.urlsplit(text).netloc
        suffix = Path(urllib.parse.urlsplit(text).path).suffix.lower()
        fmt = _CONTENT_TYPES.get(content_type) or _SUFFIXES.get(suffix) or "html"
        return Source(text, data, sniff(data, fmt), label)
    path = Path(text).expanduser()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(f"{path} does not exist.", "Check the path.") from None
    except OSError as exc:
        raise DocumentError(f"Cannot open {path}: {exc.strerror}.") from None
    if path.is_dir():
        raise DocumentError(f"{path} is a folder, not a document.", "Pass a file.")
    _check_size(size, max_bytes, str(path))
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # a file that grew meanwhile is still caught
    except OSError as exc:
        raise DocumentError(f"Cannot read {path}: {exc.strerror}.") from None
    _check_size(len(data), max_bytes, str(path))
    return Source(text, data, sniff(data, _SUFFIXES.get(path.suffix.lower(), "text")), path.stem)


def sniff(data: bytes, guess: str) -> str:
    """The format the bytes really have: a PDF or an e-book named .txt is still read as such
    (and a binary file named .txt is refused by the text reader)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip() \
                    if "mimetype" in names else ""
        except (zipfile.BadZipFile, KeyError, OSError):
            return guess  # the format's own reader says the archive is damaged
        if mimetype == "application/epub+zip":
            return "epub"
        if mimetype.startswith("application/vnd.oasis.opendocument.text"):
            return "odt"
        if "word/document.xml" in names:
            return "docx"
    return guess


def _check_size(size: int, max_bytes: int, name: str) -> None:
    if size > max_bytes:
        raise DocumentError(
            f"{name} is {size / 2**20:,.0f} MB; VoxDesk opens documents of up to "
            f"{max_bytes / 2**20:,.0f} MB.",
            "Split it, or export the part you want to hear as text.",
        )


def _download(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"User-Agent": f"VoxDesk/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit():
                _check_size(int(length), max_bytes, url)
            content_type = response.headers.get_content_type()
            buffer = bytearray()
            while block := response.read(1 << 16):
                buffer += block
                _check_size(len(buffer), max_bytes, url)
            return bytes(buffer), content_type
    except urllib.error.HTTPError as exc:
        raise DocumentError(f"{url} answered {exc.code} {exc.reason}.",
                            "Check the address, or save the page and open the file.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DocumentError(f"Cannot fetch {url}: {reason}.",
                            "Check the address and the network connection.") from None
