"""`voxdesk bench server`: the seed's HTTP comparison against a real `voxdesk serve`.

Every test runs the real command (or the real ServerProcess) with a real server subprocess on
127.0.0.1 and the tiny random model. The model's stop head always fires (``stop_early``), so
even /v1/audio/speech, which cannot set a length, speaks a few steps only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import VOXDESK, sigint_as_from_a_terminal
from voxdesk.bench.runner import resolve_scenarios
from voxdesk.bench.server_process import ServerProcess, ServerStartError
from voxdesk.testing import tiny_model

STEPS = 2
STEP_S = 0.16  # one VoxCPM2 patch at 48 kHz (4 latent frames of 40 ms)
VARIANTS = {"stream/default", "complete/default", "stream/cloned", "complete/cloned",
            "openai/default", "websocket/default"}
FIGURES = ("first_byte", "time_to_first_audio", "total_time", "audio_duration", "chunks",
           "bytes", "rtf")


@pytest.fixture(scope="module")
def early_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model.build(tmp_path_factory.mktemp("early-model"), stop_early=True)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def port_closed(url: str) -> bool:
    host, port = url.rsplit("//", 1)[1].split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


def bench(*args: str) -> list[str]:
    return [*VOXDESK, "bench", "server", "--device", "cpu", "--quiet", *args]


def server_pid_and_url(stderr: str) -> tuple[int, str]:
    match = re.search(r"Started voxdesk serve \(pid (\d+)\) on (http://\S+);", stderr)
    assert match, stderr
    return int(match.group(1)), match.group(2)


def test_every_figure_for_every_route_and_voice_and_a_valid_json(early_model, tmp_path):
    out = tmp_path / "server.json"
    done = subprocess.run(bench("--model", str(early_model), "--runs", "2", "--min-len",
                                str(STEPS), "--max-len", str(STEPS), "--json", str(out)),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    pid, url = server_pid_and_url(done.stderr)
    assert wait_gone(pid) and port_closed(url)  # its own server, stopped when done

    report = json.loads(out.read_text())
    assert report["schema"] == "voxdesk-bench/1" and report["complete"] is True
    assert report["environment"]["server_started_by_bench"] is True
    assert report["environment"]["dtype"] == "float32"  # the tiny model's, from /health
    assert report["seed_reference"]["default"] == {"stream_first_byte": 2.45,
                                                   "complete_total": 15.23}
    scenario = report["scenarios"]["server"]
    samples = scenario["samples"]
    assert {s["variant"] for s in samples} == VARIANTS
    assert len(samples) == 2 * len(VARIANTS)
    # Interleaved: the second run goes through the variants in the opposite order.
    order = [s["variant"] for s in samples]
    assert order[len(VARIANTS):] == order[:len(VARIANTS)][::-1]
    for sample in samples:
        for figure in FIGURES:
            assert sample[figure] is not None, (sample["variant"], figure)
        assert 0 < sample["first_byte"] <= sample["time_to_first_audio"] <= sample["total_time"]
        assert sample["chunks"] >= 1
        if sample["variant"] != "openai/default":  # OpenAI's request has no length
            assert sample["audio_duration"] == pytest.approx(STEPS * STEP_S)
    for sample in samples:
        if sample["variant"].startswith("complete/"):
            # The complete file: nothing arrives before all of it exists.
            assert sample["time_to_first_audio"] == pytest.approx(sample["total_time"],
                                                                  abs=0.05)
        if sample["variant"].startswith(("stream/", "complete/")):
            # One 44-byte WAV header, then 16-bit mono PCM.
            assert sample["bytes"] == 44 + 2 * round(48000 * STEPS * STEP_S)
    for variant in VARIANTS:
        assert scenario["summary"][variant]["first_byte"]["n"] == 2
    assert scenario["ratios"]["default: complete total / stream first audio"] > 0
    # The seed's figures printed beside ours.
    assert "2.45 s (seed)" in done.stdout and "16.12 s (seed)" in done.stdout
    assert "websocket/default" in done.stdout and "first audio" in done.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_bench_stops_its_server(early_model, tmp_path, signum):
    out = tmp_path / "partial.json"
    process = subprocess.Popen(
        bench("--model", str(early_model), "--runs", "500", "--min-len", "2", "--max-len", "2",
              "--json", str(out)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=sigint_as_from_a_terminal)
    lines: list[str] = []
    assert process.stderr is not None
    for line in process.stderr:  # until the server is up and measuring has begun
        lines.append(line)
        if line.startswith("Server up"):
            break
    pid, url = server_pid_and_url("".join(lines))
    assert alive(pid)
    time.sleep(3)  # some requests under way
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert wait_gone(pid), "the server outlived the interrupted benchmark"
    assert port_closed(url)
    assert f"Stopped the server (pid {pid})" in stderr
    if out.exists():  # what was measured before the interruption is kept, marked incomplete
        assert json.loads(out.read_text())["complete"] is False


def test_against_a_running_server_then_an_exception_inside_stops_it(early_model, tmp_path):
    """--url measures a server someone else started and leaves it running; the context
    manager stops its server when the code inside raises."""
    out = tmp_path / "url.json"
    with pytest.raises(RuntimeError, match="measuring failed"):
        with ServerProcess(str(early_model), "cpu", start_timeout=180,
                           env={**os.environ, "VOXDESK_DATA_DIR": str(tmp_path / "data")}
                           ) as server:
            pid, url = server.pid or 0, server.url
            assert server.health["model_loaded"] is True
            done = subprocess.run(bench("--url", url, "--runs", "1", "--min-len", "2",
                                        "--max-len", "2", "--json", str(out)),
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stderr
            assert alive(pid)  # not the benchmark's to stop
            raise RuntimeError("measuring failed")
    assert wait_gone(pid) and port_closed(url)
    report = json.loads(out.read_text())
    assert report["environment"]["server_started_by_bench"] is False
    assert {s["variant"] for s in report["scenarios"]["server"]["samples"]} == VARIANTS


def test_a_server_that_does_not_come_up_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ this is not a model")
    done = subprocess.run(bench("--model", str(broken)), capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 3, done.stderr
    assert "voxdesk serve exited with code" in done.stderr
    assert "before answering /health" in done.stderr
    assert "Expecting property name" in done.stderr  # the server's own reason, passed on
    assert "Check --model" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_too_slow_to_start_is_stopped_and_reported(early_model):
    server = ServerProcess(str(early_model), "cpu", start_timeout=0.3)
    with pytest.raises(ServerStartError, match=r"did not answer /health within 0 s") as caught:
        with server:
            pass
    assert "--start-timeout" in caught.value.hint
    assert server.pid is not None and wait_gone(server.pid)


def test_no_server_at_the_url_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and nothing listens once closed
    done = subprocess.run(bench("--url", f"http://127.0.0.1:{port}"), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 3
    assert f"No VoxDesk server answers at http://127.0.0.1:{port}" in done.stderr
    assert "voxdesk serve" in done.stderr


def test_the_server_scenario_runs_alone(cli):
    done = cli("bench", "server", "quick")
    assert done.returncode != 0 and "runs on its own" in done.stderr
    assert "server" not in resolve_scenarios(["all"])


if sys.platform != "linux":  # /proc is how the tests see processes
    pytestmark = pytest.mark.skip("Linux only")
