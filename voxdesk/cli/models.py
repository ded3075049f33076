"""`voxdesk models`: list, download, remove, choose and check the speech models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from voxdesk import models
from voxdesk.cli.progress import ProgressBar
from voxdesk.errors import ModelNotFoundError
from voxdesk.models import catalog, hardware, measured, sources, store


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list, download, remove and choose speech models",
        description="Manage the speech models. Downloads come from Hugging Face (HF_ENDPOINT "
        "selects a mirror, HF_TOKEN authenticates) or ModelScope, resume where they stopped and "
        "are checked against the published checksums.")
    parser.set_defaults(func=run_list, json=False)
    commands = parser.add_subparsers(dest="models_command", metavar="ACTION")

    listing = commands.add_parser("list", help="the known models and which are downloaded")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--measure", action="store_true",
                         help="first measure each model not yet measured on this computer (a "
                         "few steps of a random model of its size, built once in the cache "
                         "folder: minutes)")
    listing.set_defaults(func=run_list)

    download = commands.add_parser("download", help="download a model (resumes if interrupted)")
    download.add_argument("model", metavar="ID", help="VoxCPM2, VoxCPM1.5, VoxCPM-0.5B, denoiser "
                          "or a Hugging Face id (owner/name)")
    download.add_argument("--source", choices=sources.SOURCES,
                          help="where from (default: huggingface; the denoiser: modelscope)")
    download.add_argument("--revision", metavar="REV", help="a branch, tag or commit")
    download.set_defaults(func=run_download)

    remove = commands.add_parser("remove", help="delete a downloaded model")
    remove.add_argument("model", metavar="ID")
    remove.set_defaults(func=run_remove)

    use = commands.add_parser("use", help="choose the model VoxDesk speaks with",
                              description="Choose the model `speak`, `export` and the window use "
                              "when --model is not given: a downloaded model or a model folder.")
    use.add_argument("model", metavar="ID|DIR")
    use.set_defaults(func=run_use)

    verify = commands.add_parser("verify", help="check a downloaded model against its checksums")
    verify.add_argument("model", metavar="ID", nargs="?",
                        help="default: the model VoxDesk uses")
    verify.set_defaults(func=run_verify)


def _status(entry: catalog.CatalogEntry) -> tuple[str, models.InstalledModel | None]:
    found = store.installed(entry.repo_id)
    if found is not None:
        where = "" if found.location == "voxdesk" else " (Hugging Face cache)"
        return f"downloaded{where}", found
    partial = store.partial_bytes(entry.repo_id)
    if partial:
        return f"partly downloaded ({catalog.format_size(partial)}): download again to resume", None
    return "not downloaded" + (" (optional)" if not entry.is_tts else ""), None


def _measure_missing(info: hardware.HardwareInfo) -> None:
    figures = measured.load_figures(info)
    for entry in reversed(catalog.tts_models()):  # smallest first
        if entry.id in figures or not measured.advise(entry, info, {}).fits:
            continue
        print(f"Measuring {entry.id} on this computer...", file=sys.stderr, flush=True)
        try:
            measured.record(measured.measure(entry.id))
        except Exception as exc:  # noqa: BLE001 - one model's failure must not hide the list
            print(f"  could not measure {entry.id}: {exc}", file=sys.stderr)


def run_list(args: argparse.Namespace) -> int:
    selected = models.selected_model()
    info = hardware.detect()
    if getattr(args, "measure", False):
        _measure_missing(info)
    figures = measured.load_figures(info)
    rows = []
    for entry in models.catalogue():
        status, found = _status(entry)
        rows.append((entry, status, found))
    if args.json:
        print(json.dumps(_as_json(rows, selected, info, figures), indent=2))
        return 0
    print(f"This computer: {info.summary()}"
          + (f", {info.ram_bytes / hardware.GIB:.0f} GB RAM" if info.ram_bytes else ""))
    print()
    table = [("", "ID", "SIZE", "AUDIO", "LANGUAGES", "GPU MEMORY", "STATUS")]
    for entry, status, _found in rows:
        mark = "*" if entry.repo_id == selected else ""
        table.append((
            mark, entry.id, "~" + catalog.format_size(entry.approx_size_bytes),
            f"{entry.sample_rate / 1000:g} kHz" if entry.sample_rate else "-",
            entry.languages_text() or "-",
            f"~{entry.vram_gb:g} GB" if entry.vram_gb else "-",
            status,
        ))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    known = {entry.repo_id for entry in models.catalogue()}
    for other in store.store_contents():
        if other.repo_id not in known:
            mark = "*" if other.repo_id == selected else " "
            print(f"{mark} {other.repo_id}  {catalog.format_size(other.size_bytes)}  downloaded")
    if catalog.find(selected) is None and store.looks_like_path(selected):
        print(f"* model folder: {selected}")
    print()
    print("* = the model VoxDesk speaks with (change it with `voxdesk models use ID|DIR`)")
    print("On this computer:")
    for entry in catalog.tts_models():
        print(f"  {entry.id}: {measured.advise(entry, info, figures).message}")
    if not figures:
        print("  (a rule of thumb: `voxdesk models list --measure` measures each model here)")
    recommended = measured.recommend(info, figures)
    print(f"Advice: {recommended.id}. {measured.advise(recommended, info, figures).message}")
    if recommended.id != "VoxCPM2":
        print(f"  {recommended.id} is the fastest choice here; VoxCPM2 is the one for languages "
              f"other than Chinese and English.")
    print(f"Models are kept in {store.models_dir()} (VOXDESK_MODELS_DIR changes it).")
    return 0


def _as_json(rows: list[Any], selected: str, info: hardware.HardwareInfo,
             figures: dict[str, measured.Measurement]) -> dict[str, Any]:
    def advice(entry: catalog.CatalogEntry) -> measured.ModelAdvice:
        return measured.advise(entry, info, figures)

    return {
        "selected": selected,
        "models_dir": str(store.models_dir()),
        "hardware": {"device": info.device, "name": info.device_name,
                     "vram_bytes": info.vram_bytes, "ram_bytes": info.ram_bytes},
        "recommended": measured.recommend(info, figures).id,
        "models": [
            {
                "id": entry.id,
                "repo_id": entry.repo_id,
                "kind": entry.kind,
                "approx_size_bytes": entry.approx_size_bytes,
                "sample_rate": entry.sample_rate,
                "languages": list(entry.languages),
                "vram_gb": entry.vram_gb,
                "downloaded": found is not None,
                "path": str(found.path) if found else None,
                "location": found.location if found else None,
                "partial_bytes": store.partial_bytes(entry.repo_id),
                "selected": entry.repo_id == selected,
                "advice": advice(entry).message if entry.is_tts else None,
                "dtype": advice(entry).dtype if entry.is_tts else None,
                "measured_rtf": advice(entry).rtf if entry.is_tts else None,
            }
            for entry, _status, found in rows
        ],
    }


def download_with_progress(name: str, source: str | None = None,
                           revision: str | None = None) -> Path:
    """Download in the foreground with a progress bar on stderr; Ctrl-C stops it resumably."""
    bar = ProgressBar()
    try:
        return models.download(name, progress=bar, source=source, revision=revision)
    except KeyboardInterrupt:
        bar.interrupted()
        repo_id, _entry = models.resolve_name(name)
        kept = store.partial_bytes(repo_id)
        raise models.DownloadCancelled(
            f"The download of {name} was interrupted ({catalog.format_size(kept)} kept).",
            f"Run `voxdesk models download {name}` again to continue where it stopped.",
        ) from None


def run_download(args: argparse.Namespace) -> int:
    repo_id, entry = models.resolve_name(args.model)
    short = entry.id if entry else repo_id
    already = store.installed(repo_id)
    if already is not None and already.location == "hf-cache" and args.source is None:
        print(f"{short} is already in the Hugging Face cache: {already.path}")
        return 0
    path = download_with_progress(args.model, args.source, args.revision)
    print(f"{short} is ready: {path}")
    if entry is not None and not entry.is_tts:
        print("The denoiser is used when you ask for it (--denoise, or Denoise in the window).")
    elif models.selected_model() == repo_id:
        print(f"VoxDesk speaks with {short}.")
    else:
        print(f"Speak with it: `voxdesk models use {short}`.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    repo_id, entry = models.resolve_name(args.model)
    short = entry.id if entry else repo_id
    removed = models.remove(args.model)
    if not removed:
        raise ModelNotFoundError(f"{short} is not downloaded, so there is nothing to remove.",
                                 "`voxdesk models list` shows what is downloaded.")
    for path, size in removed:
        print(f"Removed {path} ({catalog.format_size(size)})")
    return 0


def run_use(args: argparse.Namespace) -> int:
    value = models.select_model(args.model)
    entry = catalog.find(value)
    print(f"VoxDesk speaks with {entry.id if entry else value} from now on.")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    name = args.model or models.selected_model()
    if args.model is None and store.looks_like_path(name):
        raise ModelNotFoundError(f"The model VoxDesk uses is a folder of yours ({name}), which "
                                 "has no recorded checksums.", "Name a downloaded model to check.")
    interactive = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if interactive:
            print(f"\rChecking: {done * 100 // max(total, 1):3d}%", end="", file=sys.stderr,
                  flush=True)

    damaged = models.verify(name, on_bytes=show)
    if interactive:
        print(file=sys.stderr)
    repo_id, entry = models.resolve_name(name)
    short = entry.id if entry else repo_id
    if damaged:
        raise models.IntegrityError(
            f"{len(damaged)} file(s) of {short} are damaged: {', '.join(damaged)}.",
            f"They were deleted; `voxdesk models download {short}` fetches just those again.")
    print(f"All files of {short} match their checksums.")
    return 0
