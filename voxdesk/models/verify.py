"""Check a downloaded model byte for byte against the checksums recorded when it was fetched."""

from __future__ import annotations

from collections.abc import Callable

from voxdesk.errors import ModelNotFoundError
from voxdesk.models import store
from voxdesk.models.download import resolve_name
from voxdesk.models.integrity import file_matches


def verify(name: str, on_bytes: Callable[[int, int], None] | None = None,
           repair: bool = True) -> list[str]:
    """The files of ``name`` that are missing or damaged (empty: all good).

    With ``repair``, damaged files are deleted, so that downloading the model again fetches
    just those. ``on_bytes(done, total)`` reports hashing progress (5 GB take a while).
    Only models in VoxDesk's own folder can be checked: the Hugging Face cache keeps no
    checksums of its own."""
    repo_id, entry = resolve_name(name)
    found = store.in_store(repo_id)
    short = entry.id if entry else repo_id
    if found is None or found.manifest is None:
        if store.in_hf_cache(repo_id) is not None:
            raise ModelNotFoundError(
                f"{short} is in the Hugging Face cache, where VoxDesk cannot check it.",
                f"Download it into VoxDesk's folder with `voxdesk models download {short}`.")
        raise ModelNotFoundError(f"{short} is not downloaded.",
                                 f"Download it with `voxdesk models download {short}`.")
    total = found.manifest.total_bytes
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        if on_bytes is not None:
            on_bytes(done, total)

    damaged = []
    for f in found.manifest.files:
        path = found.path / f.path
        if not file_matches(path, f.size, f.sha256, f.git_sha1, on_bytes=count):
            damaged.append(f.path)
            if repair:
                path.unlink(missing_ok=True)
    return damaged
