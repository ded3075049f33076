"""`voxdesk voices ...` and `--voice NAME`, run as a person runs them: the real command line in a
subprocess, real audio files, a private data folder (the ``data_dir`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voxdesk.testing.signals import speech_like, write_clip

TEXT = "Hello world."


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder, so encoded voices of other tests never count as hits here."""
    path = tmp_path / "cache"
    monkeypatch.setenv("VOXDESK_CACHE_DIR", str(path))
    return path


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line_error(result) -> str:
    """The failure as a person sees it: non-zero exit, one `voxdesk: error:` line, no traceback."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voxdesk: error: "), result.stderr
    return lines[0]


def voices(cli) -> list[dict]:
    return json.loads(ok(cli("voices", "list", "--json")))


def comparable(entry: dict) -> dict:
    """What a voice *is*, without where this store happens to keep it."""
    return {k: v for k, v in entry.items() if k not in ("folder", "audio_path", "default")}


def export_speech(cli, model: Path, out: Path, *args: str) -> str:
    """`voxdesk export` (a WAV is easier to compare than sound-card output); its stderr."""
    result = cli("export", TEXT, "-o", str(out), "--model", str(model), "--device", "cpu",
                 "--max-len", "6", "--seed", "5", "--stats", *args)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_voice_survives_export_remove_import_and_speaks_identically(
        cli, data_dir, cache_dir, tiny_model_dir, tmp_path):
    clip = write_clip(tmp_path / "anna.wav", speech_like(3.0, seed=1))
    ok(cli("voices", "add", "Anna", "--audio", str(clip), "--text", "Hello, I am Anna."))
    # Settings saved with the voice; the fewer steps also keep the test quick.
    ok(cli("voices", "set", "Anna", "--cfg", "1.5", "--steps", "3", "--language", "en"))
    [before] = voices(cli)
    assert (before["name"], before["transcript"], before["mode"], before["language"]) == \
        ("Anna", "Hello, I am Anna.", "continuation", "en")
    assert (before["params"]["cfg_value"], before["params"]["inference_timesteps"]) == (1.5, 3)
    assert Path(before["audio_path"]).is_file() and 2.9 < before["duration"] < 3.1

    first = tmp_path / "a.wav"
    assert "voice_cache_hit: False" in export_speech(cli, tiny_model_dir, first,
                                                     "--voice", "Anna")
    # The encoded voice was kept on disk (one folder per model) for the next process.
    [encoded] = cache_dir.glob("prompts/*/*.pt")
    written = encoded.stat().st_mtime_ns

    archive = tmp_path / "anna.voxvoice"
    ok(cli("voices", "export", "Anna", "-o", str(archive)))
    ok(cli("voices", "remove", "Anna"))
    assert voices(cli) == []
    missing = one_line_error(cli("export", TEXT, "-o", str(tmp_path / "x.wav"),
                                 "--model", str(tiny_model_dir), "--voice", "Anna"))
    assert "no voice called “Anna”" in missing
    ok(cli("voices", "import", str(archive)))
    [after] = voices(cli)
    assert comparable(after) == comparable(before)
    assert after["folder"] != before["folder"]  # a new profile, not the old folder revived

    second = tmp_path / "b.wav"
    # Same audio bytes after the round trip, so this new process reuses the saved encoding
    # (and leaves it as it is) instead of encoding the voice again.
    assert "voice_cache_hit: True" in export_speech(cli, tiny_model_dir, second,
                                                    "--voice", "Anna")
    assert list(cache_dir.glob("prompts/*/*.pt")) == [encoded]
    assert encoded.stat().st_mtime_ns == written
    a, rate_a = soundfile.read(first, dtype="float32")
    b, rate_b = soundfile.read(second, dtype="float32")
    assert rate_a == rate_b == 48000 and a.size == 6 * 7680
    assert np.array_equal(a, b)


def test_a_voices_settings_are_the_defaults_and_options_override_them(data_dir, tmp_path,
                                                                     tiny_model_dir):
    # In-process (the parsing only; synthesis is covered above): which voice and settings a
    # command line gives.
    from voxdesk.cli import build_parser
    from voxdesk.cli.options import request_from_args
    from voxdesk.engine import SynthesisParams
    from voxdesk.voices import VoiceStore

    store = VoiceStore()
    clip = write_clip(tmp_path / "anna.wav", speech_like(3.0, seed=6))
    profile = store.add("Anna", clip, transcript="Hello.",
                        params=SynthesisParams(cfg_value=1.5, inference_timesteps=3, seed=9))
    parse = build_parser().parse_args
    base = ["export", TEXT, "-o", str(tmp_path / "x.wav"), "--model", str(tiny_model_dir)]

    request = request_from_args(parse([*base, "--voice", "anna"]))  # names ignore case
    assert request.voice.prompt_wav == profile.audio_path
    assert request.voice.prompt_text == "Hello."
    assert (request.params.cfg_value, request.params.inference_timesteps,
            request.params.seed) == (1.5, 3, 9)
    request = request_from_args(parse([*base, "--voice", "Anna", "--cfg", "2.5", "--seed", "1"]))
    assert (request.params.cfg_value, request.params.inference_timesteps,
            request.params.seed) == (2.5, 3, 1)
    # No --voice: the default voice, once one is set.
    assert request_from_args(parse(base)).voice is None
    store.set_default("Anna")
    assert request_from_args(parse(base)).voice.prompt_wav == profile.audio_path


def test_rename_duplicate_default_and_remove(cli, data_dir, tmp_path):
    clip = write_clip(tmp_path / "anna.wav", speech_like(3.0, seed=7))
    ok(cli("voices", "add", "Anna", "--audio", str(clip), "--default"))
    assert "Renamed to “Ann”" in ok(cli("voices", "rename", "anna", "Ann"))
    assert "Copied to “Ann copy”" in ok(cli("voices", "duplicate", "Ann"))
    listing = cli("voices", "list")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert [line[:12] for line in lines] == ["* Ann       ", "  Ann copy  "], lines
    assert "(* default voice)" in listing.stderr
    assert ok(cli("voices", "default")).strip() == "Ann"
    message = one_line_error(cli("voices", "rename", "Ann copy", "ann"))
    assert "already a voice called “Ann”" in message
    ok(cli("voices", "remove", "Ann"))
    assert ok(cli("voices", "default")).strip() == "(none)"  # the default went with it
    assert [v["name"] for v in voices(cli)] == ["Ann copy"]
    message = one_line_error(cli("voices", "remove", "Ann"))
    assert "no voice called “Ann”" in message and "Did you mean “Ann copy”?" in message


def bad_files(folder: Path) -> dict[str, Path]:
    good = folder / "good.wav"
    write_clip(good, speech_like(2.0))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "truncated.wav").write_bytes(good.read_bytes()[:30])  # cut inside the header
    (folder / "random.wav").write_bytes(np.random.default_rng(3).bytes(40_000))
    return {
        "empty": folder / "empty.wav",
        "truncated header": folder / "truncated.wav",
        "random bytes": folder / "random.wav",
        "0.2 s": write_clip(folder / "short.wav", speech_like(0.2)),
        # 10 minutes at 8 kHz: refused from its header, before being decoded.
        "10 min": write_clip(folder / "long.wav", np.tile(speech_like(1.0, 8000), 600), 8000,
                             subtype="PCM_16"),
        "silence": write_clip(folder / "silent.wav", np.zeros(3 * 44100, np.float32)),
    }


EXPECTED = {"empty": "empty", "truncated header": "cannot be read", "random bytes":
            "cannot be read", "0.2 s": "too short", "10 min": "too long (10 min)",
            "silence": "silent"}


def test_bad_audio_files_are_refused_with_one_line_and_add_nothing(cli, data_dir, tmp_path):
    clip = write_clip(tmp_path / "ok.wav", speech_like(3.0, seed=2))
    ok(cli("voices", "add", "Existing", "--audio", str(clip)))
    before = voices(cli)
    folders = sorted(p.name for p in (data_dir / "voices").iterdir())

    for label, path in bad_files(tmp_path).items():
        result = cli("voices", "add", f"Bad {label}", "--audio", str(path))
        message = one_line_error(result)
        assert path.name in message and EXPECTED[label] in message, (label, message)
        assert result.stdout == "", label

    assert voices(cli) == before
    # Not even a hidden staging folder or temporary file was left behind.
    assert sorted(p.name for p in (data_dir / "voices").iterdir()) == folders


def test_a_damaged_voice_file_is_refused_on_import(cli, data_dir, tmp_path):
    clip = write_clip(tmp_path / "ok.wav", speech_like(3.0, seed=4))
    ok(cli("voices", "add", "Bo", "--audio", str(clip)))
    archive = tmp_path / "bo.voxvoice"
    ok(cli("voices", "export", "Bo", "-o", str(archive)))
    damaged = tmp_path / "damaged.voxvoice"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # zeroes over the compressed audio
    damaged.write_bytes(bytes(data))
    not_zip = tmp_path / "notes.voxvoice"
    not_zip.write_text("not a voice", encoding="utf-8")
    before = voices(cli)
    for path in (damaged, not_zip, tmp_path / "missing.voxvoice"):
        message = one_line_error(cli("voices", "import", str(path)))
        assert path.name in message, message
    assert voices(cli) == before


def test_unknown_voice_name_is_a_clear_error_with_a_hint(cli, data_dir, tiny_model_dir,
                                                         tmp_path):
    out = tmp_path / "out.wav"
    common = ["--model", str(tiny_model_dir), "--device", "cpu"]
    message = one_line_error(cli("export", TEXT, "-o", str(out), "--voice", "Nobody", *common))
    assert "There is no voice called “Nobody”" in message
    assert "`voxdesk voices list`" in message
    clip = write_clip(tmp_path / "ok.wav", speech_like(3.0, seed=5))
    ok(cli("voices", "add", "Narrator", "--audio", str(clip)))
    # A near miss is named, and speak fails the same way, before loading anything.
    message = one_line_error(cli("speak", TEXT, "--standalone", "--voice", "Narator", *common))
    assert "Did you mean “Narrator”?" in message
    assert not out.exists()
