"""The voice profile store: real audio files in, profile folders on disk, everything checked.

Audio files are made here (numpy + soundfile) in each test's tmp_path; no fixtures are committed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voxdesk.engine import SynthesisParams, VoiceReference
from voxdesk.errors import InvalidRequestError, ReferenceAudioError, VoxDeskError
from voxdesk.voices import (
    InvalidVoiceNameError,
    VoiceExistsError,
    VoiceFileError,
    VoiceNotFoundError,
    VoiceStore,
)
from voxdesk.voices.audio import REFERENCE_RATE, clipped_fraction


def speech_like(seconds: float, rate: int = 44100, seed: int = 0, level: float = 0.5) -> np.ndarray:
    """A voiced, syllable-paced signal (harmonics under a 4 Hz envelope, some breath noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    signal = voiced * envelope + 0.05 * rng.standard_normal(t.size)
    return (level * signal / np.abs(signal).max()).astype(np.float32)


def write(path: Path, samples: np.ndarray, rate: int = 44100, **kwargs) -> Path:
    soundfile.write(path, samples, rate, **kwargs)
    return path


@pytest.fixture
def store(tmp_path: Path) -> VoiceStore:
    return VoiceStore(tmp_path / "voices")


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write(tmp_path / "clip.wav", speech_like(3.0))


def visible_entries(store: VoiceStore) -> list[str]:
    """What is in the store folder apart from its lock file."""
    return sorted(p.name for p in store.root.iterdir() if p.name != ".lock")


def test_default_root_is_the_data_dir(data_dir):
    assert VoiceStore().root == data_dir / "voices"


def test_import_normalises_the_audio(store, tmp_path):
    # Stereo 44.1 kHz, quiet, with a DC offset and a second of silence either side.
    silence = np.zeros(44100, dtype=np.float32)
    mono = np.concatenate([silence, speech_like(4.0, level=0.2), silence]) + 0.05
    path = write(tmp_path / "in.wav", np.stack([mono, 0.5 * mono], axis=1))

    profile = store.add("  Anna  ", path, transcript="Some   words.", language="en")

    assert (profile.name, profile.transcript, profile.mode, profile.language) == \
        ("Anna", "Some words.", "continuation", "en")
    info = soundfile.info(profile.audio_path)
    assert (info.samplerate, info.channels, info.subtype) == (REFERENCE_RATE, 1, "PCM_16")
    audio, _ = soundfile.read(profile.audio_path, dtype="float32")
    assert 4.0 <= audio.size / REFERENCE_RATE <= 4.3  # silence trimmed to a 0.1 s margin
    assert abs(20 * np.log10(np.abs(audio).max()) - (-1.0)) < 0.05  # peak at -1 dBFS
    assert abs(float(audio.mean())) < 0.01  # DC removed
    saved = json.loads((profile.folder / "profile.json").read_text())
    assert saved["name"] == "Anna" and saved["format"] == 1
    assert saved["audio_bytes"] == profile.audio_path.stat().st_size
    assert store.list() == [profile] and store.problems == []


@pytest.mark.parametrize("suffix, kwargs", [(".flac", {}), (".ogg", {}), (".mp3", {}),
                                            (".wav", {"subtype": "FLOAT"})])
def test_every_readable_format_is_accepted(store, tmp_path, suffix, kwargs):
    path = write(tmp_path / f"clip{suffix}", speech_like(2.0, rate=48000), 48000, **kwargs)
    profile = store.add(suffix, path)
    assert soundfile.info(profile.audio_path).samplerate == REFERENCE_RATE


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, words the refusal must contain)."""
    good = write(tmp_path / "good.wav", speech_like(2.0))
    header = good.read_bytes()
    files = {
        "missing": (tmp_path / "nothing-here.wav", "does not exist"),
        "empty": (tmp_path / "empty.wav", "is empty (0 bytes)"),
        "truncated header": (tmp_path / "truncated.wav", "cannot be read"),
        "random bytes": (tmp_path / "random.mp3", "cannot be read"),
        "0.2 s": (write(tmp_path / "short.wav", speech_like(0.2)), "too short"),
        "10 min": (write(tmp_path / "long.wav", np.tile(speech_like(1.0, 8000), 600), 8000,
                         subtype="PCM_16"), "too long"),
        "70 s of speech": (write(tmp_path / "long2.wav", speech_like(70.0, 16000), 16000),
                           "too long"),
        "silence": (write(tmp_path / "silence.wav", np.zeros(3 * 44100, np.float32)), "silent"),
        "0.5 s of sound in 3 s": (write(tmp_path / "blip.wav", np.concatenate(
            [np.zeros(44100, np.float32), speech_like(0.5), np.zeros(66150, np.float32)])),
            "s of sound"),
        "clipped": (write(tmp_path / "clipped.wav", np.clip(4 * speech_like(3.0), -1, 1),
                          subtype="PCM_16"), "clipped"),
        "not finite": (write(tmp_path / "nan.wav", np.full(44100 * 2, np.nan, np.float32),
                             subtype="FLOAT"), "invalid sample values"),
    }
    files["empty"][0].write_bytes(b"")
    files["truncated header"][0].write_bytes(header[:30])
    files["random bytes"][0].write_bytes(np.random.default_rng(3).bytes(50_000))
    return files


def test_bad_audio_is_refused_with_a_message_and_creates_nothing(store, tmp_path):
    before = visible_entries(store)
    for case, (path, words) in _bad_files(tmp_path).items():
        with pytest.raises(ReferenceAudioError) as caught:
            store.add(f"voice {case}", path)
        error = caught.value
        assert words in error.message, (case, error.message)
        assert error.hint, case  # every refusal says what to do
        assert visible_entries(store) == before, case
    assert store.list() == [] and store.problems == []


def test_clip_detection_is_about_flat_tops_not_loudness():
    loud_clean = speech_like(2.0, level=1.0)
    assert clipped_fraction(loud_clean[:, None]) == 0.0
    quiet_but_clipped = 0.3 * np.clip(3 * speech_like(2.0), -1, 1)  # clipped, then turned down
    assert clipped_fraction(quiet_but_clipped[:, None]) > 0.01


def test_names_are_checked_and_unique_regardless_of_case(store, clip):
    store.add("Anna", clip)
    with pytest.raises(VoiceExistsError, match="“Anna”"):
        store.add("ANNA", clip)
    for bad in ("", "   ", "x" * 81, "tab\there\x07"):
        with pytest.raises(InvalidVoiceNameError):
            store.add(bad, clip)
    assert store.names() == ["Anna"]
    assert store.get("anna").name == "Anna"
    with pytest.raises(VoiceNotFoundError) as caught:
        store.get("Ana")
    assert "Did you mean “Anna”?" in caught.value.hint
    assert isinstance(caught.value, VoxDeskError)


def test_modes_and_the_voice_reference(store, clip):
    reference = store.add("Ref", clip)
    assert reference.mode == "reference"
    assert reference.voice_reference() == VoiceReference(reference_wav=reference.audio_path)
    with pytest.raises(ReferenceAudioError, match="no transcript"):
        reference.voice_reference(reference_only=False)  # e.g. VoxCPM 1.5

    spoken = store.add("Cont", clip, transcript="Hello there.")
    assert spoken.voice_reference() == VoiceReference(prompt_wav=spoken.audio_path,
                                                      prompt_text="Hello there.")
    both = store.add("Both", clip, transcript="Hello there.", mode="reference")
    assert both.voice_reference().prompt_wav is None
    assert both.voice_reference(reference_only=False).prompt_text == "Hello there."
    with pytest.raises(InvalidRequestError, match="transcript"):
        store.add("Bad", clip, mode="continuation")
    assert "Bad" not in store.names()


def test_manage_rename_duplicate_default_update(store, clip):
    params = SynthesisParams(cfg_value=3.0, inference_timesteps=6, seed=7)
    anna = store.add("Anna", clip, params=params)
    store.add("Bob", clip)

    renamed = store.rename("anna", "Anna B")
    assert renamed.folder == anna.folder and renamed.params == params
    assert renamed.modified >= anna.modified and renamed.created == anna.created
    with pytest.raises(VoiceExistsError):
        store.rename("Anna B", "bob")
    assert store.rename("Anna B", "anna b").name == "anna b"  # a change of case is fine

    copy = store.duplicate("anna b")
    assert copy.name == "anna b copy" and copy.folder != anna.folder
    assert copy.audio_path.read_bytes() == anna.audio_path.read_bytes()
    assert store.duplicate("anna b").name == "anna b copy (2)"

    assert store.default() is None
    store.set_default("Bob")
    assert store.default().name == "Bob"
    store.rename("Bob", "Robert")  # the default follows the profile, not its name
    assert store.default().name == "Robert"
    store.set_default(None)
    assert store.default() is None

    updated = store.update("Robert", transcript="Words.", language="de",
                           params=SynthesisParams(cfg_value=2.5))
    assert (updated.mode, updated.transcript, updated.language) == \
        ("continuation", "Words.", "de")
    assert store.update("Robert", transcript=None).mode == "reference"
    assert store.get("robert").params.cfg_value == 2.5


def test_remove_and_restore(store, clip):
    anna = store.add("Anna", clip)
    store.set_default("Anna")
    removed = store.remove("Anna")
    assert store.names() == [] and store.default() is None
    assert not anna.folder.exists() and removed.trash_folder.is_dir()
    restored = store.restore(removed)
    assert restored.name == "Anna" and restored.folder == anna.folder
    assert store.default().name == "Anna"  # undo brings the default back too

    removed = store.remove("Anna")
    store.add("anna", clip)  # the name was taken meanwhile
    assert store.restore(removed).name == "Anna (2)"
    assert store.names() == ["anna", "Anna (2)"]


def test_damaged_folders_are_reported_and_skipped(store, clip):
    good = store.add("Good", clip)
    broken_json = store.add("Broken JSON", clip).folder
    (broken_json / "profile.json").write_text("{ not json")
    no_audio = store.add("No audio", clip).folder
    (no_audio / "reference.wav").unlink()
    cut_audio = store.add("Cut audio", clip).folder
    with open(cut_audio / "reference.wav", "r+b") as f:
        f.truncate(1000)
    future = store.add("Future", clip).folder
    data = json.loads((future / "profile.json").read_text())
    (future / "profile.json").write_text(json.dumps({**data, "format": 99}))
    bad_params = store.add("Odd settings", clip).folder
    data = json.loads((bad_params / "profile.json").read_text())
    data["params"].update(cfg_value=99.0, inference_timesteps="many", unknown_setting=1)
    data["something_new"] = True  # a newer VoxDesk's extra key: ignored
    (bad_params / "profile.json").write_text(json.dumps(data))
    (store.root / "stray-folder").mkdir()
    (store.root / ".new-123").mkdir()  # an interrupted save: invisible

    assert store.names() == ["Good", "Odd settings"]
    assert store.get("Odd settings").params == SynthesisParams()
    text = "\n".join(store.problems)
    for folder, words in [(broken_json, "not valid JSON"), (no_audio, "missing"),
                          (cut_audio, "wrong size"), (future, "unsupported format"),
                          (store.root / "stray-folder", "profile.json is missing")]:
        assert f"“{folder.name}” is damaged" in text and words in text, (folder, text)
    assert "cfg value must be between" in text
    assert store.get("Good") == good


def test_export_import_round_trip(store, clip, tmp_path):
    params = SynthesisParams(cfg_value=2.5, seed=3)
    original = store.add("Anna", clip, transcript="Hello there.", language="en", params=params)
    exported = store.export("Anna", tmp_path / "anna.voxvoice")
    assert zipfile.ZipFile(exported).namelist() == ["voxvoice.json", "profile.json",
                                                    "reference.wav"]
    into_folder = store.export("Anna", tmp_path)
    assert into_folder == tmp_path / "anna.voxvoice"

    other = VoiceStore(tmp_path / "other-machine")
    imported = other.import_(exported)
    assert imported.audio_path.read_bytes() == original.audio_path.read_bytes()
    for field in ("name", "transcript", "mode", "language", "params", "created", "modified",
                  "audio_sha256", "duration"):
        assert getattr(imported, field) == getattr(original, field), field

    again = store.import_(exported)  # a clash is resolved, never overwritten
    assert again.name == "Anna (2)" and store.get("Anna") == original


def test_bad_voice_files_are_refused_and_create_nothing(store, clip, tmp_path):
    store.add("Anna", clip)
    good = store.export("Anna", tmp_path / "good.voxvoice")
    before = visible_entries(store)

    def rezip(name: str, replace: dict[str, bytes | None]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
            for member in source.namelist():
                data = replace.get(member, source.read(member))
                if data is not None:
                    target.writestr(member, data)
        return path

    profile_json = json.loads(zipfile.ZipFile(good).read("profile.json"))
    cases = {
        "random bytes": tmp_path / "random.voxvoice",
        "truncated": tmp_path / "truncated.voxvoice",
        "missing audio": rezip("noaudio.voxvoice", {"reference.wav": None}),
        "tampered audio": rezip("tampered.voxvoice", {
            "reference.wav": soundfile_bytes(speech_like(2.0, 16000, seed=9))}),
        "bad profile": rezip("badprofile.voxvoice", {"profile.json": b"[1, 2"}),
        "no name": rezip("noname.voxvoice", {"profile.json": json.dumps(
            {**profile_json, "name": ""}).encode()}),
        "newer format": rezip("newer.voxvoice", {"voxvoice.json": b'{"format": 7}'}),
    }
    cases["random bytes"].write_bytes(os.urandom(4000))
    cases["truncated"].write_bytes(good.read_bytes()[:-200])
    for case, path in cases.items():
        with pytest.raises(VoxDeskError) as caught:
            store.import_(path)
        assert isinstance(caught.value, (VoiceFileError, ReferenceAudioError)), case
        assert caught.value.hint, case
        assert visible_entries(store) == before, case
    assert store.names() == ["Anna"]


def soundfile_bytes(samples: np.ndarray, rate: int = 16000) -> bytes:
    import io

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_a_failed_write_leaves_nothing_behind(store, clip):
    """A full disk, simulated with a file size limit (works for root too): the add fails with
    a clear message and leaves no folder, not even a hidden one."""
    script = f"""
import resource, signal
from pathlib import Path
from voxdesk.voices import VoiceStore
from voxdesk.errors import VoxDeskError
store = VoiceStore(Path({str(store.root)!r}))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so the write fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
try:
    store.add("Anna", Path({str(clip)!r}))
except VoxDeskError as exc:
    print(type(exc).__name__, exc)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.startswith("VoiceStoreError The voice could not be saved"), result
    assert "disk is not full" in result.stdout
    assert store.names() == [] and visible_entries(store) == []


def test_stale_staging_folders_are_cleaned_up(tmp_path, clip):
    root = tmp_path / "voices"
    VoiceStore(root).add("Anna", clip)
    stale = root / ".new-dead"
    shutil.copytree(next(p for p in root.iterdir() if p.name.startswith("anna")), stale)
    os.utime(stale, (0, 0))
    fresh = root / ".new-in-progress"
    fresh.mkdir()
    store = VoiceStore(root)
    assert not stale.exists() and fresh.exists()  # another process may be writing that one
    assert store.names() == ["Anna"]
