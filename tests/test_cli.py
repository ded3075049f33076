"""The `voxdesk` command line, run as a user runs it: a real subprocess, real files, real audio."""

import os
import signal
import subprocess
import time

import pytest
import soundfile

from voxdesk.testing.sink import compare_heard

TEXT = "Hello from the command line. This is a second sentence."
FAST = ["--max-len", "6", "--seed", "11", "--device", "cpu"]


def test_help_describes_the_commands(cli):
    result = cli("--help")
    assert result.returncode == 0
    for command in ("speak", "export", "devices"):
        assert command in result.stdout
    speak_help = cli("speak", "--help").stdout
    for option in ("--model", "--voice-wav", "--prompt-text", "--cfg", "--steps", "--min-len",
                   "--max-len", "--normalize", "--denoise", "--output-device", "--stats",
                   "--file"):
        assert option in speak_help


def test_export_writes_a_valid_wav(cli, tiny_model_dir, tmp_path):
    out = tmp_path / "speech.wav"
    result = cli("export", TEXT, "-o", str(out), "--model", str(tiny_model_dir), "--stats", *FAST)
    assert result.returncode == 0, result.stderr
    info = soundfile.info(out)
    assert info.samplerate == 48000 and info.channels == 1 and info.subtype == "PCM_16"
    assert info.frames == 12 * 7680 + 12000  # two sentences, 6 steps each, 0.25 s between
    assert "first_chunk_latency" in result.stderr
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


@pytest.mark.parametrize("fmt, subtype, name", [("float32", "FLOAT", "a.wav"),
                                                 (None, "PCM_16", "a.flac")])
def test_export_formats(cli, tiny_model_dir, tmp_path, fmt, subtype, name):
    out = tmp_path / name
    args = ["--format", fmt] if fmt else []
    result = cli("export", "Short.", "-o", str(out), "--model", str(tiny_model_dir), *FAST, *args)
    assert result.returncode == 0, result.stderr
    assert soundfile.info(out).subtype == subtype


def test_speak_plays_the_synthesised_audio(cli, tiny_model_dir, tmp_path, sink_recorder):
    reference = tmp_path / "reference.wav"
    # No pause between the sentences: model-sized pieces only (joins: tests/test_joins.py).
    assert cli("export", TEXT, "-o", str(reference), "--format", "float32", "--pause", "0",
               "--model", str(tiny_model_dir), *FAST).returncode == 0
    with sink_recorder() as rec:
        result = cli("speak", TEXT, "--model", str(tiny_model_dir), "--stats", "--pause", "0",
                     *FAST)
    assert result.returncode == 0, result.stderr
    expected, _ = soundfile.read(reference, dtype="float32")
    heard = compare_heard(rec.samples, expected)
    # Every sample heard, in order, none lost: pauses (an underrun, a stall on a busy machine)
    # may come between them (tests/test_audio_stall.py).
    stats = [line for line in result.stderr.splitlines()
             if line.split(":")[0] in ("underruns", "device_underflows", "stalls")]
    assert heard.garbled_at is None and heard.losses == [], (heard, stats)
    assert "first_audible_latency" in result.stderr
    # The terminal shows VoxDesk's own lines, not the libraries' chatter (ALSA's underrun
    # reports, torch's deprecation warnings): those go to the log file.
    assert "ALSA lib" not in result.stderr and "Warning" not in result.stderr, result.stderr


def test_speak_reads_text_from_stdin_and_files(cli, tiny_model_dir, tmp_path, sink_recorder):
    text_file = tmp_path / "text.txt"
    text_file.write_text("From a file.", encoding="utf-8")
    with sink_recorder():
        assert cli("speak", "--file", str(text_file), "--model", str(tiny_model_dir),
                   *FAST).returncode == 0
        assert cli("speak", "-", "--model", str(tiny_model_dir), *FAST,
                   input="From standard input.").returncode == 0


def test_killed_export_leaves_no_file_under_the_target_name(tiny_model_dir, tmp_path):
    from tests.conftest import VOXDESK

    out = tmp_path / "long.wav"
    process = subprocess.Popen(
        [*VOXDESK, "export", "Many words here. " * 40, "-o", str(out), "--model",
         str(tiny_model_dir), "--device", "cpu", "--max-len", "40"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    partial = []
    while time.monotonic() < deadline and not partial:
        partial = [p for p in tmp_path.iterdir() if p.stat().st_size > 100_000]
        time.sleep(0.05)
    assert partial, "the export never started writing"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    assert all(p.name.startswith(".long.wav.") for p in tmp_path.iterdir())


def one_line_error(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("voxdesk: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unwritable_target_is_a_clear_error(cli, tiny_model_dir, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            target = "/proc/voxdesk.wav"  # root may write anywhere but /proc
        else:
            target = str(locked / "out.wav")
        message = one_line_error(cli("export", "Hello.", "-o", target, "--model",
                                     str(tiny_model_dir)))
    finally:
        locked.chmod(0o700)
    assert any(w in message.lower() for w in ("permission", "cannot create", "write"))
    message = one_line_error(cli("export", "Hello.", "-o", str(tmp_path / "no" / "x.wav"),
                                 "--model", str(tiny_model_dir)))
    assert "does not exist" in message


@pytest.mark.parametrize("args, expected", [
    (["speak", ""], "no text"),
    (["speak", "   \n  "], "no text"),
    (["speak", "-"], "longer than"),  # 1 MB on standard input
    (["speak", "Hi.", "--model", "/nonexistent/model"], "no model directory"),
    (["speak", "Hi.", "--voice-wav", "CORRUPT"], "cannot be read as audio"),
    (["speak", "Hi.", "--output-device", "no such speaker"], "no audio output device"),
    (["speak", "Hi.", "--cfg", "-3"], "cfg value must be between"),
    (["speak", "--file", "/nonexistent.txt"], "does not exist"),
])
def test_bad_input_gives_a_one_line_error(cli, tmp_path, tiny_model_dir, args, expected):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage" * 10)
    args = [str(corrupt) if a == "CORRUPT" else a for a in args]
    if "--model" not in args:
        args += ["--model", str(tiny_model_dir)]
    stdin = "x" * 1_000_000 if args[1] == "-" else None
    message = one_line_error(cli(*args, input=stdin))
    assert expected in message.lower()


def test_devices_lists_outputs(cli, sink_recorder):
    result = cli("devices")
    assert result.returncode == 0 and "default" in result.stdout
