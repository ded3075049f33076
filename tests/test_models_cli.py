"""`voxdesk models ...` and a first run from the terminal, in real subprocesses against the fake
hub: download with a progress bar, Ctrl-C and resume, then speak without naming a model; and
the clear failures when there is no network or no model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile

from tests.conftest import sigint_as_from_a_terminal
from voxdesk.testing.fake_hub import FakeHub
from voxdesk.testing.sink import SinkRecorder

REPO = "openbmb/VoxCPM2"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """Private folders for the subprocesses (and no token or offline mode from outside)."""
    return {
        "VOXDESK_DATA_DIR": str(tmp_path / "data"),
        "VOXDESK_CONFIG_DIR": str(tmp_path / "config"),
        "VOXDESK_LOG_DIR": str(tmp_path / "log"),
        "HF_HOME": str(tmp_path / "hf"),
        "HF_TOKEN": "",
        "HF_HUB_OFFLINE": "",
    }


@pytest.fixture
def hub(tiny_model_dir):
    with FakeHub({REPO: tiny_model_dir}) as fake:
        yield fake


def test_first_run_download_interrupt_resume_then_speak(cli, env, hub, tmp_path):
    env["HF_ENDPOINT"] = hub.url
    listed = cli("models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "VoxCPM2" in listed.stdout and "not downloaded" in listed.stdout
    assert "48 kHz" in listed.stdout and "~8 GB" in listed.stdout

    # Interrupt a slow download with Ctrl-C once some bytes have arrived.
    hub.rate = 3e6
    process = subprocess.Popen([sys.executable, "-m", "voxdesk", "models", "download", "VoxCPM2"],
                               env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=sigint_as_from_a_terminal)
    deadline = time.monotonic() + 60
    while hub.bytes_sent < 2_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted" in err and "again to continue" in err

    hub.rate = None
    before = len(hub.file_requests())
    resumed = cli("models", "download", "VoxCPM2", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "already here" in resumed.stderr and "100%" in resumed.stderr
    assert any(r.range for r in hub.file_requests()[before:])
    assert "VoxCPM2 is ready" in resumed.stdout and "VoxDesk speaks with VoxCPM2" in resumed.stdout

    listed = cli("models", "list", "--json", env=env)
    assert '"downloaded": true' in listed.stdout

    # No --model: the downloaded model is the one used, to speak (through the test sound
    # server when there is one) or to write a file.
    if SinkRecorder.available():
        spoken = cli("speak", "Hello there.", "--device", "cpu", "--max-len", "4", env=env)
    else:
        out = tmp_path / "hello.wav"
        spoken = cli("export", "Hello there.", "-o", str(out), "--device", "cpu", "--max-len",
                     "4", env=env)
        assert soundfile.info(str(out)).duration > 0
    assert spoken.returncode == 0, spoken.stderr
    assert f"Loading {REPO}" in spoken.stderr and "Ready" in spoken.stderr


def test_use_a_model_folder_and_remove(cli, env, hub, tiny_model_dir):
    env["HF_ENDPOINT"] = hub.url
    used = cli("models", "use", str(tiny_model_dir), env=env)
    assert used.returncode == 0, used.stderr
    assert str(tiny_model_dir.resolve()) in Path(env["VOXDESK_CONFIG_DIR"], "model.json").read_text()
    assert f"model folder: {tiny_model_dir.resolve()}" in cli("models", "list", env=env).stdout

    missing = cli("models", "use", "/no/such/model", env=env)
    assert missing.returncode == 1 and "There is no folder /no/such/model" in missing.stderr
    not_here = cli("models", "use", "VoxCPM1.5", env=env)
    assert not_here.returncode == 1
    assert "voxdesk models download VoxCPM1.5" in not_here.stderr

    assert cli("models", "download", "VoxCPM2", env=env).returncode == 0
    removed = cli("models", "remove", "VoxCPM2", env=env)
    assert removed.returncode == 0 and "Removed" in removed.stdout
    again = cli("models", "remove", "VoxCPM2", env=env)
    assert again.returncode == 1 and "not downloaded" in again.stderr


def test_no_network_and_no_model_name_the_next_step(cli, env, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{port}"
    failed = cli("models", "download", "VoxCPM2", env=env)
    assert failed.returncode != 0
    assert f"Cannot reach http://127.0.0.1:{port}" in failed.stderr
    assert "HF_ENDPOINT" in failed.stderr and "Traceback" not in failed.stderr

    # `speak` with nothing downloaded and no network: it tries, fails, says what to do.
    speak = cli("speak", "Hello.", env=env)
    assert speak.returncode != 0 and "Cannot reach" in speak.stderr
    assert "voxdesk models use DIR" in speak.stderr

    env["HF_HUB_OFFLINE"] = "1"
    offline = cli("export", "Hello.", "-o", str(tmp_path / "hello.wav"), env=env)
    assert offline.returncode != 0
    assert "VoxCPM2 is not downloaded" in offline.stderr
    assert "voxdesk models download VoxCPM2" in offline.stderr

    unknown = cli("models", "download", "VoxCPM9", env=env)
    assert unknown.returncode == 2 and "not a model VoxDesk knows" in unknown.stderr
