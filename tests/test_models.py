"""Model management against a real HTTP hub on 127.0.0.1 (voxdesk.testing.fake_hub): download
with progress, cancel and resume, broken connections, checksums, disk space, tokens, sources,
the Hugging Face cache, removal, the chosen model and hardware advice."""

from __future__ import annotations

import hashlib
import socket
import threading
from pathlib import Path

import pytest

from voxdesk import models
from voxdesk.engine.model import resolve_model_dir
from voxdesk.errors import ModelLoadError, ModelNotFoundError
from voxdesk.models import catalog, hardware, store
from voxdesk.testing.fake_hub import FakeHub

REPO = "openbmb/VoxCPM2"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _model_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())


def test_catalogue_knows_the_three_models_and_the_denoiser():
    ids = [entry.id for entry in models.catalogue()]
    assert ids == ["VoxCPM2", "VoxCPM1.5", "VoxCPM-0.5B", "denoiser"]
    v2 = models.lookup("voxcpm2")
    assert models.lookup("openbmb/VoxCPM2") is v2 and models.DEFAULT_MODEL == v2.repo_id
    assert (v2.sample_rate, v2.vram_gb, len(v2.languages)) == (48000, 8.0, 30)
    assert models.lookup("VoxCPM1.5").sample_rate == 44100
    assert models.lookup("VoxCPM-0.5B").languages == ("Chinese", "English")
    assert all(entry.approx_size_bytes > 0 for entry in models.catalogue())
    assert models.lookup("denoiser").default_source == "modelscope"
    with pytest.raises(models.UnknownModelError, match="voxdesk models list"):
        models.lookup("VoxCPM9")


def test_download_reports_progress_verifies_and_is_then_used(hub, tiny_model_dir):
    assert models.needs_first_run()
    seen: list[models.DownloadProgress] = []
    path = models.download("VoxCPM2", progress=seen.append)

    total = _model_bytes(tiny_model_dir)
    assert seen[0].phase == "listing" and seen[-1].phase == "done"
    assert seen[-1].done_bytes == seen[-1].total_bytes == total
    assert seen[-1].files_done == seen[-1].files_total == 6
    done = [p.done_bytes for p in seen]
    assert done == sorted(done), "progress never goes backwards"
    assert any(p.file == "model.safetensors" for p in seen)
    for source in tiny_model_dir.iterdir():
        assert _digest(path / source.name) == _digest(source)
    assert path == store.model_dir(REPO) and (path / store.MANIFEST).is_file()
    assert not (path / store.PARTIAL_DIR).exists()

    assert models.is_downloaded("VoxCPM2") and not models.needs_first_run()
    assert models.selected_model() == REPO  # the only downloaded model, without a choice
    assert resolve_model_dir("VoxCPM2", allow_download=False) == path
    # Asking again costs one listing at most, no file transfers.
    before = len(hub.file_requests())
    assert models.download("VoxCPM2") == path
    assert len(hub.file_requests()) == before


def test_cancelled_download_keeps_its_bytes_and_resumes_with_range(hub, tiny_model_dir):
    hub.rate = 4e6  # slow enough to stop mid-file
    cancel = threading.Event()

    def stop_after_a_while(p: models.DownloadProgress) -> None:
        if p.done_bytes > 1_500_000:
            cancel.set()

    with pytest.raises(models.DownloadCancelled, match="stopped") as stopped:
        models.download("VoxCPM2", progress=stop_after_a_while, cancel=cancel)
    assert stopped.value.exit_code == 130 and "continue" in stopped.value.hint
    kept = models.partial_bytes("VoxCPM2")
    assert kept > 1_000_000
    assert not models.is_downloaded("VoxCPM2")

    hub.rate = None
    first_run = len(hub.file_requests())
    seen: list[models.DownloadProgress] = []
    path = models.download("VoxCPM2", progress=seen.append)
    resumed = [r for r in hub.file_requests()[first_run:] if r.range]
    assert len(resumed) == 1 and resumed[0].range.startswith("bytes=")
    offset = int(resumed[0].range[6:-1])
    assert offset > 0
    assert seen[-1].resumed_bytes >= offset
    # Only what was missing crossed the wire the second time.
    second_run = sum(r.bytes_sent for r in hub.file_requests()[first_run:])
    assert second_run == _model_bytes(tiny_model_dir) - seen[-1].resumed_bytes
    for source in tiny_model_dir.iterdir():
        assert _digest(path / source.name) == _digest(source)


def test_a_dropped_connection_is_resumed_in_the_same_download(hub, tiny_model_dir):
    hub.drop_after = 1_000_000  # every file's first response breaks after 1 MB
    path = models.download("VoxCPM2")
    ranges = {r.path.rsplit("/", 1)[-1]: r.range for r in hub.file_requests() if r.range}
    assert ranges == {"audiovae.safetensors": "bytes=1000000-",
                      "model.safetensors": "bytes=1000000-"}
    assert _digest(path / "model.safetensors") == _digest(tiny_model_dir / "model.safetensors")


def test_a_file_that_does_not_match_its_checksum_is_refused(hub):
    hub.corrupt.add("model.safetensors")
    with pytest.raises(models.IntegrityError, match="model.safetensors") as failed:
        models.download("VoxCPM2")
    assert "again" in failed.value.hint
    assert not models.is_downloaded("VoxCPM2")
    assert not (store.model_dir(REPO) / "model.safetensors").exists()


def test_disk_space_is_checked_before_anything_is_fetched(hub):
    hub.advertise_size["model.safetensors"] = 10**16  # 10 PB: more than any test disk
    with pytest.raises(models.NotEnoughSpaceError, match="PB|GB") as refused:
        models.download("VoxCPM2")
    assert "VOXDESK_MODELS_DIR" in refused.value.hint
    assert hub.file_requests() == []


def test_token_goes_to_the_hub_and_not_to_its_cdn(hub, monkeypatch):
    try:
        socket.getaddrinfo("localhost", hub.port)
    except OSError:
        pytest.skip("localhost does not resolve here")
    hub.token = "hf_test_token"
    hub.cdn_host = "localhost"  # a different host name: large files redirect there
    with pytest.raises(models.AccessDeniedError) as denied:
        models.download("VoxCPM2")
    assert "HF_TOKEN" in denied.value.hint

    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    models.download("VoxCPM2")
    files = hub.file_requests()
    on_hub = [r for r in files if r.host.startswith("127.0.0.1")]
    on_cdn = [r for r in files if r.host.startswith("localhost")]
    assert on_cdn and all(r.authorization is None for r in on_cdn)
    assert on_hub and all(r.authorization == "Bearer hf_test_token" for r in on_hub)


def test_unreachable_hub_and_offline_mode_say_what_to_do(isolated, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(models.NetworkError, match=f"127.0.0.1:{port}") as failed:
        models.download("VoxCPM2")
    assert "HF_ENDPOINT" in failed.value.hint and "voxdesk models use" in failed.value.hint

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.NetworkError, match="offline"):
        models.download("VoxCPM2")
    with pytest.raises(ModelNotFoundError, match="not downloaded") as missing:
        resolve_model_dir("VoxCPM2", allow_download=True)
    assert "voxdesk models download VoxCPM2" in missing.value.hint


def test_modelscope_source_and_a_mirror_without_file_metadata(hub, tiny_model_dir, monkeypatch):
    with FakeHub({"OpenBMB/VoxCPM2": tiny_model_dir}) as modelscope:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", modelscope.url)
        path = models.download("VoxCPM2", source="modelscope")
        assert modelscope.file_requests() and not hub.requests
    assert store.read_manifest(path).source == "modelscope"
    assert models.verify("VoxCPM2") == []
    models.remove("VoxCPM2")

    hub.file_metadata = False  # sizes come from HEAD requests; checks are by size alone
    path = models.download("VoxCPM2")
    assert any(r.method == "HEAD" for r in hub.requests)
    assert _digest(path / "model.safetensors") == _digest(tiny_model_dir / "model.safetensors")


def test_unknown_repository_is_not_found(hub):
    with pytest.raises(ModelNotFoundError, match="no model someone/missing"):
        models.download("someone/missing")


def test_denoiser_comes_from_modelscope(isolated, tmp_path, monkeypatch):
    denoiser = tmp_path / "zipenhancer"
    (denoiser / "examples").mkdir(parents=True)
    (denoiser / "configuration.json").write_text('{"task": "acoustic-noise-suppression"}')
    (denoiser / "pytorch_model.bin").write_bytes(bytes(range(256)) * 4000)
    (denoiser / "examples" / "noisy.wav").write_bytes(b"RIFF" + bytes(100))
    repo = models.lookup("denoiser").modelscope_id
    with FakeHub({repo: denoiser}) as fake:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", fake.url)
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # must not be asked
        assert models.denoiser_path() is None
        path = models.download("denoiser")
        assert all("/api/v1/models/" in r.path for r in fake.requests)
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == [
        "configuration.json", "pytorch_model.bin"]  # example audio is not needed
    assert models.denoiser_path() == str(path)


def test_a_copy_in_the_hugging_face_cache_counts_and_can_be_removed(hub, isolated):
    from huggingface_hub import snapshot_download

    cached = Path(snapshot_download(REPO, endpoint=hub.url, cache_dir=isolated / "hf" / "hub"))
    assert models.is_downloaded("VoxCPM2")
    assert resolve_model_dir("VoxCPM2", allow_download=False) == cached
    removed = models.remove("VoxCPM2")
    assert [path.name for path, _size in removed] == ["models--openbmb--VoxCPM2"]
    assert not models.is_downloaded("VoxCPM2")


def test_choosing_and_removing_models(hub, tiny_model_dir, data_dir):
    with pytest.raises(ModelNotFoundError, match="not downloaded") as refused:
        models.select_model("VoxCPM2")
    assert "voxdesk models download VoxCPM2" in refused.value.hint
    assert models.chosen_model() is None and models.selected_model() == models.DEFAULT_MODEL

    models.select_model(str(tiny_model_dir))
    assert models.selected_model() == str(tiny_model_dir.resolve())
    assert not models.needs_first_run()
    with pytest.raises(ModelNotFoundError, match="not a VoxCPM model folder"):
        models.select_model(str(data_dir.parent))

    models.download("VoxCPM2")
    assert models.select_model("voxcpm2") == REPO
    selection = Path(data_dir.parent / "voxdesk-config" / "model.json")
    assert selection.read_text().strip().startswith("{") and REPO in selection.read_text()

    removed = models.remove("VoxCPM2")
    assert removed and removed[0][1] >= _model_bytes(tiny_model_dir)  # + the manifest
    assert not store.model_dir(REPO).exists()
    assert models.chosen_model() is None  # the choice went with the model
    assert models.remove("VoxCPM2") == []


def test_verify_finds_damage_and_a_new_download_repairs_only_that(hub):
    path = models.download("VoxCPM2")
    assert models.verify("VoxCPM2") == []
    config = path / "config.json"
    text = config.read_bytes()
    config.write_bytes(text.replace(b"voxcpm2", b"voxcpmX"))  # same size, other content
    assert models.verify("VoxCPM2") == ["config.json"]
    with pytest.raises(ModelLoadError, match="damaged") as damaged:
        resolve_model_dir("VoxCPM2", allow_download=False)
    assert "voxdesk models download VoxCPM2" in damaged.value.hint

    before = len(hub.file_requests())
    models.download("VoxCPM2")
    assert [r.path.rsplit("/", 1)[-1] for r in hub.file_requests()[before:]] == ["config.json"]
    assert config.read_bytes() == text and models.verify("VoxCPM2") == []


def test_one_download_of_a_model_at_a_time(hub):
    hub.rate = 3e6
    cancel = threading.Event()
    started = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            # Bytes flowing means the lock is held (the file listing comes before it).
            models.download("VoxCPM2", cancel=cancel,
                            progress=lambda p: p.phase == "downloading" and started.set())
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    try:
        with pytest.raises(models.DownloadBusyError, match="another VoxDesk"):
            models.download("VoxCPM2")
    finally:
        cancel.set()
        thread.join(10)
    assert len(errors) == 1 and isinstance(errors[0], models.DownloadCancelled)


def test_hardware_advice_for_this_computer():
    info = hardware.detect()
    assert info.device in ("cuda", "mps", "cpu")
    for entry in models.tts_models():
        advice = hardware.advice(entry, info)
        assert entry.id in advice.message
        if info.device == "cpu":
            assert "slower than real time" in advice.message and not advice.realtime
    assert hardware.recommended_model(info).is_tts


def test_dtype_follows_the_device():
    gb = 1024**3

    def gpu(capability: tuple[int, int], vram_gb: int) -> hardware.HardwareInfo:
        return hardware.HardwareInfo("cuda", "GPU", vram_gb * gb, 32 * gb, capability)

    cpu = hardware.HardwareInfo("cpu", "CPU", None, 32 * gb)
    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((8, 6), 24), 4.9) == "bfloat16"
    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((7, 5), 16), 4.9) == "float32"
    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((7, 5), 8), 4.9) == "float16"
    assert hardware.runtime_dtype("mps", "bfloat16", cpu) == "float32"
    # A CPU without native bfloat16 (more in test_dtype_and_compile.py): float32, which fits.
    assert hardware.runtime_dtype("cpu", "bfloat16", cpu) == "float32"
    assert hardware.runtime_dtype("cpu", "float32", cpu) == "float32"
    small_gpu = hardware.advice(catalog.lookup("VoxCPM2"), gpu((8, 9), 4))
    assert not small_gpu.fits and "CPU" in small_gpu.message
    big_gpu = hardware.advice(catalog.lookup("VoxCPM2"), gpu((8, 9), 24))
    assert big_gpu.fits and big_gpu.realtime and big_gpu.dtype == "bfloat16"
