"""Hostile files and targets (issue 16): symlinks, FIFOs, devices, the umask, killed and
signalled exports, full disks, 10^400 in profiles and settings, odd reference clips."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from audio_helpers import export_chunks

from voxdesk.audio.export import AtomicAudioWriter
from voxdesk.errors import ExportError, ReferenceAudioError

RATE = 48_000
BIG = int("1" + "0" * 400)  # 10^400: valid JSON, too large for a float
TONE = (0.1 * np.sin(np.arange(RATE) / 10)).astype(np.float32)


def voxdesk(*args: str, **kwargs) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "voxdesk", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


# -- 4. what is at the path: links are written through, FIFOs and devices refused ---------------

def test_a_symlink_is_written_through_to_its_target(tmp_path):
    target = tmp_path / "real" / "speech.wav"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    export_chunks([TONE], link, RATE)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert soundfile.info(str(target)).frames == len(TONE)
    assert not list(tmp_path.glob(".*.partial")) and not list(target.parent.glob(".*.partial"))


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.wav"
    link.symlink_to(tmp_path / "new.wav")
    export_chunks([TONE], link, RATE)
    assert link.is_symlink() and soundfile.info(str(tmp_path / "new.wav")).frames == len(TONE)


def test_a_fifo_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="FIFO"):
        export_chunks([TONE], fifo, RATE)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "to-pipe.wav"
    link.symlink_to(fifo)
    with pytest.raises(ExportError, match="FIFO"):
        export_chunks([TONE], link, RATE)
    assert link.is_symlink()


def test_a_device_node_is_refused_and_left_alone(tmp_path):
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a private /dev/full
    except PermissionError:
        pytest.skip("creating a device node needs root")
    with pytest.raises(ExportError, match="character device"):
        export_chunks([TONE], device, RATE)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_the_cli_refuses_a_fifo_before_loading_a_model(tmp_path, cli):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    result = cli("export", "Hi.", "-o", str(fifo), "--model", str(tmp_path / "no-model"),
                 timeout=60)
    assert result.returncode == 1 and "FIFO" in result.stderr
    assert "Traceback" not in result.stderr and stat.S_ISFIFO(os.lstat(fifo).st_mode)


# -- 8. modes: the umask for new files, the old mode for replaced ones ---------------------------

@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_export_honours_the_umask(tmp_path, umask_022):
    out = tmp_path / "new.wav"
    export_chunks([TONE], out, RATE)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_a_replaced_file_keeps_its_mode(tmp_path, umask_022):
    out = tmp_path / "shared.wav"
    out.write_bytes(b"old")
    out.chmod(0o664)
    export_chunks([TONE], out, RATE)
    assert stat.S_IMODE(out.stat().st_mode) == 0o664


# -- 8. killed and signalled exports --------------------------------------------------------------

LONG_TEXT = "A sentence that takes a while to say out loud. " * 40


def start_export(tiny_model_dir: Path, out: Path) -> subprocess.Popen[str]:
    return voxdesk("export", LONG_TEXT, "-o", str(out), "--model", str(tiny_model_dir),
                   "--device", "cpu")


def wait_for_partial(folder: Path, process: subprocess.Popen[str], timeout: float = 90
                     ) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        partials = list(folder.glob(".*.partial"))
        if partials and process.poll() is None:
            time.sleep(0.3)  # writing has begun
            return partials
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.kill()
    pytest.fail("the export never started writing")


def test_a_killed_exports_partial_file_is_removed_by_the_next_export(tiny_model_dir, tmp_path):
    out = tmp_path / "book.wav"
    process = start_export(tiny_model_dir, out)
    partials = wait_for_partial(tmp_path, process)
    process.kill()
    process.wait(30)
    assert all(p.exists() for p in partials)  # SIGKILL: nothing can clean up
    export_chunks([TONE], tmp_path / "other.wav", RATE)  # the next export to that folder
    assert not list(tmp_path.glob(".*.partial"))
    assert not out.exists()


def test_a_live_exports_partial_file_is_left_alone(tmp_path):
    with AtomicAudioWriter(tmp_path / "a.wav", RATE) as first:
        first.write(TONE)
        export_chunks([TONE], tmp_path / "b.wav", RATE)  # another export, same folder
        first.write(TONE)
    assert soundfile.info(str(tmp_path / "a.wav")).frames == 2 * len(TONE)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_an_export_like_ctrl_c(tiny_model_dir, tmp_path, signum):
    out = tmp_path / "book.wav"
    process = start_export(tiny_model_dir, out)
    wait_for_partial(tmp_path, process)
    process.send_signal(signum)
    _stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not list(tmp_path.glob(".*.partial")) and not out.exists()


# -- 7. a full disk says so, with the space needed -------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                       check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("mounting a tmpfs is not permitted here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10, check=False)


def test_a_full_disk_says_it_is_full_and_how_much_is_needed(tiny_disk):
    out = tiny_disk / "speech.wav"
    with pytest.raises(ExportError) as caught:
        export_chunks([TONE] * 30, out, RATE)  # 2.8 MB of 16-bit audio on a 1 MB disk
    message = caught.value.message
    assert "disk is full" in message and "MB" in message and "System error" not in message
    assert not out.exists() and not list(tiny_disk.glob(".*.partial"))


def test_the_cli_says_the_disk_is_full(tiny_disk, tiny_model_dir, cli):
    filler = tiny_disk / "filler"
    import shutil

    filler.write_bytes(b"\0" * (shutil.disk_usage(tiny_disk).free - 8192))  # the first step fills it
    result = cli("export", "Hello there.", "-o", str(tiny_disk / "speech.wav"), "--model",
                 str(tiny_model_dir), "--device", "cpu", timeout=240)
    assert result.returncode == 1 and "disk is full" in result.stderr
    assert "MB" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in tiny_disk.iterdir()] == ["filler"]


# -- 5. 10^400 in a profile and in settings.json ---------------------------------------------------

def make_clip(path: Path, rate: int = 16_000, channels: int = 1, seconds: float = 3.0) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    soundfile.write(path, np.repeat(mono[:, None], channels, axis=1).astype(np.float32), rate)
    return path


def corrupt(profile_json: Path, **changes: object) -> None:
    text = profile_json.read_text()
    data = json.loads(text)
    for key, value in changes.items():
        if key == "duration":
            data["duration"] = "@BIG@"
        else:
            data["params"][key] = "@BIG@" if value is BIG else value
    profile_json.write_text(json.dumps(data).replace('"@BIG@"', str(BIG)))


def test_a_huge_number_in_one_profile_breaks_neither_it_nor_the_list(data_dir, tmp_path, cli):
    from voxdesk.voices.store import VoiceStore

    store = VoiceStore()
    clip = make_clip(tmp_path / "me.wav")
    settings_bad = store.add("Bad settings", clip)
    duration_bad = store.add("Bad duration", clip)
    store.add("Good", clip)
    corrupt(settings_bad.folder / "profile.json", cfg_value=BIG, min_len=BIG, seed=2**70)
    corrupt(duration_bad.folder / "profile.json", duration=BIG)
    result = cli("voices", "list", timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "Good" in result.stdout and "Bad settings" in result.stdout
    assert "Bad duration" not in result.stdout and "skipped" in result.stderr
    assert "cfg_value" in result.stderr and "seed" in result.stderr
    assert VoiceStore().get("Bad settings").params.seed is None


def test_a_huge_seed_in_a_profile_does_not_reach_the_model(data_dir, tmp_path, tiny_model_dir,
                                                           cli):
    from voxdesk.voices.store import VoiceStore

    profile = VoiceStore().add("Seeded", make_clip(tmp_path / "me.wav"))
    corrupt(profile.folder / "profile.json", seed=BIG)
    out = tmp_path / "out.wav"
    result = cli("export", "Hi.", "--voice", "Seeded", "-o", str(out), "--max-len", "4",
                 "--model", str(tiny_model_dir), "--device", "cpu", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and out.exists()


def test_a_huge_number_in_settings_gives_defaults_for_it_alone(data_dir):
    from voxdesk.settings import Settings

    Settings.path().parent.mkdir(parents=True, exist_ok=True)
    Settings.path().write_text(
        f'{{"params": {{"cfg_value": {BIG}}}, "output_device": "Speakers", '
        f'"playback": {{"min_steps": {BIG}}}, "window": {{"geometry": "AAAA"}}}}')
    settings = Settings.load()
    assert settings.params.cfg_value == 2.0 and settings.output_device == "Speakers"
    assert settings.window.geometry == "AAAA"
    Settings.path().write_text(f'{{"params": {{"seed": {BIG}, "cfg_value": 1e400}}}}')
    assert Settings.load().params == Settings().params


def test_a_second_bad_settings_file_keeps_the_first_backup(data_dir):
    from voxdesk.settings import Settings

    path = Settings.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ first broken")
    Settings.load()
    path.write_text("{ second broken")
    Settings.load()
    backups = sorted(p.read_text() for p in path.parent.glob("settings.json.bad*"))
    assert backups == ["{ first broken", "{ second broken"]


def test_the_window_starts_with_a_huge_number_in_settings(data_dir, qtbot):
    from voxdesk.gui.main_window import MainWindow
    from voxdesk.settings import Settings

    Settings.path().parent.mkdir(parents=True, exist_ok=True)
    Settings.path().write_text(f'{{"params": {{"cfg_value": {BIG}, "seed": {BIG}}}}}')
    window = MainWindow(Settings.load())
    qtbot.addWidget(window)
    window.show()
    assert window.isVisible()


# -- 8. clips no voice recording has -----------------------------------------------------------------

def test_a_1_hz_clip_is_refused_clearly(data_dir, tmp_path):
    from voxdesk.voices.store import VoiceStore

    clip = tmp_path / "slow.wav"
    soundfile.write(clip, (0.3 * np.sin(np.arange(30))).astype(np.float32), 1)
    with pytest.raises(ReferenceAudioError, match="sample rate of 1 Hz"):
        VoiceStore().add("Slow", clip)
    assert VoiceStore().list() == []


def test_an_8_channel_clip_is_refused_clearly(data_dir, tmp_path):
    from voxdesk.voices.store import VoiceStore

    clip = make_clip(tmp_path / "surround.wav", channels=8)
    with pytest.raises(ReferenceAudioError, match="8 channels"):
        VoiceStore().add("Surround", clip)
    assert VoiceStore().list() == []


def test_a_stereo_44k_clip_is_still_fine(data_dir, tmp_path):
    from voxdesk.voices.store import VoiceStore

    profile = VoiceStore().add("Stereo", make_clip(tmp_path / "s.wav", rate=44_100, channels=2))
    assert profile.duration > 2
