"""A model hub on 127.0.0.1 for tests: the Hugging Face hub API (what huggingface_hub and
VoxDesk's downloader call) and ModelScope's file API, serving model folders from disk.

    with FakeHub({"openbmb/VoxCPM2": tiny_model_dir}) as hub:
        env = {"HF_ENDPOINT": hub.url, "MODELSCOPE_DOMAIN": hub.url}

Hugging Face layout (as the real hub answers):
    GET  /api/models/{repo}[/revision/{rev}][?blobs=true]   model info with file list
    GET  /api/models/{repo}/tree/{rev}[?recursive=true]     file tree (snapshot_download)
    HEAD|GET /{repo}/resolve/{rev}/{path}                   file, with ETag, X-Repo-Commit,
                                                            Content-Length and Range support
    Large (LFS) files get a 302 to ``cdn_host`` when it is set, like the hub's CDN.
ModelScope layout:
    GET  /api/v1/models/{repo}/repo/files?Revision=&Recursive=   file list with SHA-256
    GET  /api/v1/models/{repo}/repo?Revision=&FilePath=          file, with Range support

Knobs for failure tests: ``rate`` (bytes per second per response), ``drop_after`` (close each
file's first response after that many bytes), ``token`` (require ``Authorization: Bearer``),
``corrupt`` (paths served with flipped bytes), ``advertise_size`` (sizes the API claims),
``file_metadata=False`` (a mirror whose model info lists names only).
Every request is recorded in ``requests``.

    python -m voxdesk.testing.fake_hub REPO_ID=DIR [...]   # serve until Ctrl-C
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LFS_SUFFIXES = (".safetensors", ".bin", ".pth", ".pt", ".ckpt", ".onnx")


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    authorization: str | None
    host: str | None
    bytes_sent: int = 0  # of file content, in this response


@dataclass
class _File:
    path: str
    disk_path: Path
    size: int
    sha256: str
    git_sha1: str

    @property
    def is_lfs(self) -> bool:
        return self.path.endswith(LFS_SUFFIXES)

    @property
    def etag(self) -> str:
        return self.sha256 if self.is_lfs else self.git_sha1


@dataclass
class _Repo:
    repo_id: str
    files: dict[str, _File]
    commit: str


def _scan(repo_id: str, directory: Path) -> _Repo:
    files = {}
    for disk_path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = disk_path.read_bytes()
        rel = disk_path.relative_to(directory).as_posix()
        files[rel] = _File(
            path=rel,
            disk_path=disk_path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            git_sha1=hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
        )
    commit = hashlib.sha1(
        json.dumps([[f.path, f.git_sha1] for f in files.values()]).encode()).hexdigest()
    return _Repo(repo_id, files, commit)


@dataclass
class FakeHub:
    repos: dict[str, Path]
    rate: float | None = None
    drop_after: int | None = None
    token: str | None = None
    cdn_host: str | None = None
    file_metadata: bool = True  # False: a mirror that ignores ?blobs=true (no sizes, no hashes)
    corrupt: set[str] = field(default_factory=set)
    advertise_size: dict[str, int] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    bytes_sent: int = 0

    def __post_init__(self) -> None:
        self._repos = {repo_id: _scan(repo_id, Path(d)) for repo_id, d in self.repos.items()}
        self._dropped: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the hub first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def commit(self, repo_id: str) -> str:
        return self._repos[repo_id].commit

    def file_requests(self) -> list[Request]:
        """The GETs of file contents (both layouts, CDN included)."""
        return [r for r in self.requests if r.method == "GET" and (
            "/resolve/" in r.path or r.path.startswith("/cdn/") or "FilePath=" in r.path)]

    # -- model facts -------------------------------------------------------------------
    def _advertised(self, f: _File) -> int:
        return self.advertise_size.get(f.path, f.size)

    def _record(self, handler: BaseHTTPRequestHandler) -> Request:
        request = Request(handler.command, handler.path, handler.headers.get("Range"),
                          handler.headers.get("Authorization"), handler.headers.get("Host"))
        with self._lock:
            self.requests.append(request)
        return request


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    record: Request
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -- plumbing ----------------------------------------------------------------------
    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def _authorized(self) -> bool:
        if self.hub.token is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {self.hub.token}":
            return True
        self._error(401, "GatedRepo", "Access to this model is restricted. You must have access "
                    "to it and be authenticated to access it. Please log in.")
        return False

    def _split_repo(self, parts: list[str]) -> tuple[_Repo | None, list[str]]:
        """The repository named by the first two path segments, and the rest."""
        repo = self.hub._repos.get("/".join(parts[:2]))
        return repo, parts[2:]

    def do_HEAD(self) -> None:
        self._route()

    def do_GET(self) -> None:
        self._route()

    def _route(self) -> None:
        self.record = self.hub._record(self)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        try:
            if parts[:2] == ["api", "models"]:
                self._hf_api(parts[2:], query)
            elif parts[:3] == ["api", "v1", "models"]:
                self._modelscope(parts[3:], query)
            elif parts[0] == "cdn" and len(parts) == 2:
                self._cdn(parts[1])
            else:
                self._hf_resolve(parts)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- Hugging Face ------------------------------------------------------------------
    def _hf_api(self, parts: list[str], query: dict[str, str]) -> None:
        repo, rest = self._split_repo(parts)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        if not self._authorized():
            return None
        if rest[:1] == ["tree"]:
            entries = []
            for f in repo.files.values():
                entry: dict[str, Any] = {"type": "file", "oid": f.git_sha1,
                                         "size": self.hub._advertised(f), "path": f.path}
                if f.is_lfs:
                    entry["lfs"] = {"oid": f.sha256, "size": self.hub._advertised(f),
                                    "pointerSize": 134}
                entries.append(entry)
            return self._json(200, entries)
        if rest and rest[0] != "revision":
            return self._error(404, "EntryNotFound", "Unknown API path")
        if rest[1:2] and rest[1] not in ("main", repo.commit):
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        siblings = []
        for f in repo.files.values():
            sibling: dict[str, Any] = {"rfilename": f.path}
            if self.hub.file_metadata and query.get("blobs") in ("True", "true", "1"):
                sibling.update(size=self.hub._advertised(f), blobId=f.git_sha1)
                if f.is_lfs:
                    sibling["lfs"] = {"sha256": f.sha256, "size": self.hub._advertised(f),
                                      "pointerSize": 134}
            siblings.append(sibling)
        self._json(200, {"_id": repo.commit[:24], "id": repo.repo_id, "modelId": repo.repo_id,
                         "sha": repo.commit, "private": self.hub.token is not None,
                         "siblings": siblings})

    def _hf_resolve(self, parts: list[str]) -> None:
        repo, rest = self._split_repo(parts)
        if repo is None or rest[:1] != ["resolve"] or len(rest) < 3:
            return self._error(404, "RepoNotFound", "Repository not found")
        if not self._authorized():
            return None
        revision, path = rest[1], "/".join(rest[2:])
        if revision not in ("main", repo.commit):
            return self._error(404, "RevisionNotFound", "Invalid rev id")
        f = repo.files.get(path)
        if f is None:
            return self._error(404, "EntryNotFound", f"{path} does not exist",)
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{f.etag}"'}
        if f.is_lfs:
            headers.update({"X-Linked-Etag": f'"{f.sha256}"',
                            "X-Linked-Size": str(self.hub._advertised(f))})
            if self.hub.cdn_host:
                self.send_response(302)
                headers["Location"] = f"http://{self.hub.cdn_host}:{self.hub.port}/cdn/{f.sha256}"
                headers["Content-Length"] = "0"
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                return None
        self._send_file(f, headers)

    def _cdn(self, sha256: str) -> None:
        for repo in self.hub._repos.values():
            for f in repo.files.values():
                if f.sha256 == sha256:
                    return self._send_file(f, {"ETag": f'"{f.sha256}"'})
        self._error(404, "EntryNotFound", "No such blob")

    # -- ModelScope --------------------------------------------------------------------
    def _modelscope(self, parts: list[str], query: dict[str, str]) -> None:
        repo, rest = self._split_repo(parts)
        if repo is None:
            return self._json(404, {"Code": 10010101, "Message": "model not found",
                                    "Success": False})
        if rest == ["repo", "files"]:
            files = [{"Name": f.path.rsplit("/", 1)[-1], "Path": f.path, "Type": "blob",
                      "Size": self.hub._advertised(f), "Sha256": f.sha256,
                      "Revision": repo.commit, "IsLFS": f.is_lfs}
                     for f in repo.files.values()]
            return self._json(200, {"Code": 200, "Data": {"Files": files}, "Message": "success",
                                    "Success": True})
        if rest == ["repo"] and query.get("FilePath") in repo.files:
            return self._send_file(repo.files[query["FilePath"]], {"ETag": '"ms"'})
        self._json(404, {"Code": 10010102, "Message": "file not found", "Success": False})

    # -- file bodies -------------------------------------------------------------------
    def _send_file(self, f: _File, headers: dict[str, str]) -> None:
        start = 0
        range_header = self.headers.get("Range")
        if range_header and range_header.startswith("bytes="):
            first = range_header[6:].split("-", 1)[0]
            start = int(first) if first else 0
            if start >= f.size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{f.size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(206 if start else 200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(f.size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{f.size - 1}/{f.size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        data = f.disk_path.read_bytes()
        if f.path in self.hub.corrupt:
            data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
        body = memoryview(data)[start:]
        key = (f.path, self.client_address[0])
        drop_at = None
        with self.hub._lock:
            if self.hub.drop_after is not None and key not in self.hub._dropped:
                self.hub._dropped.add(key)
                drop_at = self.hub.drop_after
        block = 64 * 1024
        sent = 0
        began = time.monotonic()
        while sent < len(body):
            if drop_at is not None and sent >= drop_at:
                self.close_connection = True
                self.connection.shutdown(2)  # mid-body: the client sees a broken transfer
                return
            end = min(len(body), sent + block, drop_at if drop_at and drop_at > sent else len(body))
            self.wfile.write(body[sent:end])
            with self.hub._lock:
                self.hub.bytes_sent += end - sent
                self.record.bytes_sent += end - sent
            sent = end
            if self.hub.rate:
                delay = sent / self.hub.rate - (time.monotonic() - began)
                if delay > 0:
                    time.sleep(delay)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voxdesk.testing.fake_hub",
                                     description="Serve model folders as a fake model hub.")
    parser.add_argument("repos", nargs="+", metavar="REPO_ID=DIR")
    parser.add_argument("--rate", type=float, help="bytes per second per response")
    args = parser.parse_args(argv)
    repos = dict(item.split("=", 1) for item in args.repos)
    with FakeHub({k: Path(v) for k, v in repos.items()}, rate=args.rate) as hub:
        print(f"HF_ENDPOINT={hub.url} MODELSCOPE_DOMAIN={hub.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
