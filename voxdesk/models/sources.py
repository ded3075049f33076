"""Where model files come from: the Hugging Face hub (or a mirror) and, optionally, ModelScope.

A source turns a repository id into a :class:`RemoteSnapshot`: the exact list of files with
their sizes and published checksums, and the URL of each. ``HF_ENDPOINT`` selects a hub mirror
and ``HF_TOKEN`` (or a saved ``hf auth login``) authenticates, exactly as for huggingface_hub;
``MODELSCOPE_DOMAIN`` selects the ModelScope site. The listing is done here, the bytes are
fetched by :mod:`voxdesk.models.download`.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
from dataclasses import dataclass, field

from voxdesk.models import http
from voxdesk.models.errors import AccessDeniedError, ModelNotFoundError, NetworkError

HUGGINGFACE = "huggingface"
MODELSCOPE = "modelscope"
SOURCES = (HUGGINGFACE, MODELSCOPE)

MODELSCOPE_DEFAULT = "https://www.modelscope.cn"

# Files a model folder does not need: repository plumbing and model-card media.
_SKIPPED_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".wav", ".mp3", ".flac")
_SKIPPED_NAMES = (".gitattributes", ".gitignore")


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative, "/"-separated
    size: int
    url: str
    sha256: str | None = None  # published for large (LFS) files, and for all files by ModelScope
    git_sha1: str | None = None  # git blob id: checks small files on the Hugging Face hub

    @property
    def key(self) -> str:
        """Stable name for this exact content, used for partial downloads."""
        return self.sha256 or self.git_sha1 or f"{self.path.replace('/', '_')}-{self.size}"


@dataclass(frozen=True)
class RemoteSnapshot:
    source: str
    repo_id: str
    revision: str  # the commit the files belong to (ModelScope: the branch)
    endpoint: str
    files: tuple[RemoteFile, ...]
    headers: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def wanted(paths: list[str]) -> set[str]:
    """The files worth downloading: model-card media are skipped, and when weights exist both
    as safetensors and as a pickle (.bin/.pth) only the safetensors are kept (voxcpm loads
    those first)."""
    keep = {p for p in paths
            if not p.lower().endswith(_SKIPPED_SUFFIXES) and p.rsplit("/", 1)[-1] not in _SKIPPED_NAMES}
    for pickle_name, safe_name in (("pytorch_model.bin", "model.safetensors"),
                                   ("audiovae.pth", "audiovae.safetensors")):
        if pickle_name in keep and safe_name in keep:
            keep.discard(pickle_name)
    return keep


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "on", "yes", "true")


def huggingface_endpoint() -> str:
    from huggingface_hub import constants

    # Read the variable now, not at import: huggingface_hub freezes it when first imported.
    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def modelscope_endpoint() -> str:
    domain = (os.environ.get("MODELSCOPE_DOMAIN") or MODELSCOPE_DEFAULT).strip().rstrip("/")
    return domain if domain.startswith(("http://", "https://")) else f"https://{domain}"


def _mirror_hint(source: str) -> str:
    if source == HUGGINGFACE:
        return ("Check the internet connection. HF_ENDPOINT selects a Hugging Face mirror, "
                "--source modelscope downloads from ModelScope instead, and "
                "`voxdesk models use DIR` uses a model folder you already have.")
    return ("Check the internet connection (MODELSCOPE_DOMAIN selects the ModelScope site), or "
            "use `voxdesk models use DIR` with a model folder you already have.")


def list_files(source: str, repo_id: str, revision: str | None = None) -> RemoteSnapshot:
    if source == HUGGINGFACE:
        return _list_huggingface(repo_id, revision)
    if source == MODELSCOPE:
        return _list_modelscope(repo_id, revision)
    raise ValueError(f"unknown source {source!r}")


def _list_huggingface(repo_id: str, revision: str | None) -> RemoteSnapshot:
    from huggingface_hub import HfApi, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    endpoint = huggingface_endpoint()
    if offline_mode():
        raise NetworkError(f"Cannot download {repo_id}: offline mode is on (HF_HUB_OFFLINE).",
                           "Unset HF_HUB_OFFLINE to download, or use `voxdesk models use DIR` "
                           "with a model folder you already have.")
    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as exc:
        raise _huggingface_error(exc, repo_id, endpoint) from exc
    siblings = {s.rfilename: s for s in info.siblings or []}
    commit = info.sha or revision or "main"
    files = []
    for path in sorted(wanted(list(siblings))):
        sibling = siblings[path]
        lfs = sibling.lfs
        url = hf_hub_url(repo_id, path, revision=commit, endpoint=endpoint)
        size = sibling.size if sibling.size is not None else (lfs["size"] if lfs else None)
        if size is None:  # a mirror without file metadata: ask for each file's size
            size = _size_by_head(url, build_hf_headers(), endpoint)
        files.append(RemoteFile(
            path=path,
            size=int(size),
            url=url,
            sha256=lfs["sha256"] if lfs else None,
            git_sha1=None if lfs else sibling.blob_id,
        ))
    if not files:
        raise ModelNotFoundError(f"{repo_id} on {endpoint} has no model files.",
                                 "Check the model name.")
    return RemoteSnapshot(HUGGINGFACE, repo_id, commit, endpoint, tuple(files),
                          headers=build_hf_headers())


def _size_by_head(url: str, headers: dict[str, str], endpoint: str) -> int:
    try:
        with http.open_url(url, headers, method="HEAD") as response:
            size = response.headers.get("X-Linked-Size") or response.headers.get("Content-Length")
    except (OSError, ValueError) as exc:
        raise NetworkError(f"Cannot reach {endpoint} ({http.describe_network_error(exc)}).",
                           _mirror_hint(HUGGINGFACE)) from exc
    if size is None:
        raise NetworkError(f"{endpoint} did not give the size of {url}.",
                           "It may not be a Hugging Face hub. " + _mirror_hint(HUGGINGFACE))
    return int(size)


def _huggingface_error(exc: Exception, repo_id: str, endpoint: str) -> Exception:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(exc, OfflineModeIsEnabled):
        return NetworkError(f"Cannot download {repo_id}: offline mode is on (HF_HUB_OFFLINE).",
                            "Unset HF_HUB_OFFLINE to download.")
    if isinstance(exc, GatedRepoError):
        return AccessDeniedError(
            f"{repo_id} is gated: its owners must grant access first.",
            f"Accept its terms on {endpoint}/{repo_id} and set HF_TOKEN to an access token.")
    if isinstance(exc, RevisionNotFoundError):
        return ModelNotFoundError(f"{repo_id} has no such revision on {endpoint}.",
                                  "Leave out --revision to get the current version.")
    if isinstance(exc, RepositoryNotFoundError):
        return ModelNotFoundError(
            f"There is no model {repo_id} on {endpoint}.",
            "Check the name (`voxdesk models list` shows the known ones). If it is private, "
            "set HF_TOKEN to an access token that can read it.")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return AccessDeniedError(f"{endpoint} refused access to {repo_id} (HTTP {status}).",
                                     "Set HF_TOKEN to an access token that can read it.")
        return NetworkError(f"{endpoint} answered with an error for {repo_id} (HTTP {status}).",
                            "Try again later. " + _mirror_hint(HUGGINGFACE))
    return NetworkError(f"Cannot reach {endpoint} ({http.describe_network_error(exc)}).",
                        _mirror_hint(HUGGINGFACE))


def _list_modelscope(repo_id: str, revision: str | None) -> RemoteSnapshot:
    endpoint = modelscope_endpoint()
    revision = revision or "master"
    quoted = urllib.parse.quote(repo_id, safe="/")
    query = urllib.parse.urlencode({"Revision": revision, "Recursive": "True"})
    headers: dict[str, str] = {}
    token = os.environ.get("MODELSCOPE_API_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        body = http.get_json(f"{endpoint}/api/v1/models/{quoted}/repo/files?{query}", headers)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ModelNotFoundError(f"There is no model {repo_id} on {endpoint}.",
                                     "Check the name, or download from Hugging Face.") from exc
        if exc.code in (401, 403):
            raise AccessDeniedError(f"{endpoint} refused access to {repo_id} (HTTP {exc.code}).",
                                    "Set MODELSCOPE_API_TOKEN to an access token.") from exc
        raise NetworkError(f"{endpoint} answered with an error for {repo_id} (HTTP {exc.code}).",
                           "Try again later. " + _mirror_hint(MODELSCOPE)) from exc
    except (OSError, ValueError) as exc:
        raise NetworkError(f"Cannot reach {endpoint} ({http.describe_network_error(exc)}).",
                           _mirror_hint(MODELSCOPE)) from exc
    data = body.get("Data") if isinstance(body, dict) else body
    entries = data.get("Files", []) if isinstance(data, dict) else data or []
    by_path = {e["Path"]: e for e in entries if e.get("Type", "blob") != "tree" and "Path" in e}
    files = tuple(
        RemoteFile(
            path=path,
            size=int(by_path[path].get("Size", 0)),
            url=f"{endpoint}/api/v1/models/{quoted}/repo?" + urllib.parse.urlencode(
                {"Revision": revision, "FilePath": path}),
            sha256=by_path[path].get("Sha256") or None,
        )
        for path in sorted(wanted(list(by_path)))
    )
    if not files:
        raise ModelNotFoundError(f"{repo_id} on {endpoint} has no model files.",
                                 "Check the model name.")
    return RemoteSnapshot(MODELSCOPE, repo_id, revision, endpoint, files, headers=headers)
