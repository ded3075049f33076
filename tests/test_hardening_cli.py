"""Hostile input on the command line and to the synthesis loop (issue 16): huge seeds, binary
standard input, `serve` options, a port in use, an exception inside synthesis, Ctrl+C in the
window."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

HUGE_SEED = "1180591620717411303424"  # 2^70: torch.manual_seed cannot take it


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "terminate called" not in result.stderr


@pytest.mark.parametrize("command", ["speak", "export"])
def test_a_huge_seed_is_refused_at_once(command, tiny_model_dir, tmp_path, cli):
    extra = ["-o", str(tmp_path / "x.wav")] if command == "export" else ["--standalone"]
    started = time.monotonic()
    result = cli(command, "Hi.", "--seed", HUGE_SEED, "--model", str(tiny_model_dir),
                 "--device", "cpu", *extra, timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode == 2 and "seed" in result.stderr
    no_traceback(result)


def test_binary_garbage_on_stdin_is_refused_clearly(tiny_model_dir, tmp_path):
    garbage = bytes(range(256)) * 16
    result = subprocess.run([sys.executable, "-m", "voxdesk", "export", "-", "-o",
                             str(tmp_path / "x.wav"), "--model", str(tiny_model_dir)],
                            input=garbage, capture_output=True, timeout=60, check=False)
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "not UTF-8" in stderr and "Traceback" not in stderr
    assert "Tokeniz" not in stderr


def test_utf8_on_stdin_still_works(tiny_model_dir, tmp_path):
    out = tmp_path / "x.wav"
    result = subprocess.run([sys.executable, "-m", "voxdesk", "export", "-", "-o", str(out),
                             "--max-len", "4", "--model", str(tiny_model_dir), "--device",
                             "cpu"], input="Grüße aus Köln.".encode(), capture_output=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert out.exists()


@pytest.mark.parametrize("option", [["--port", "99999"], ["--port", "0"], ["--queue", "-1"],
                                    ["--max-text-chars", "-5"], ["--max-upload-mb", "nan"],
                                    ["--port", "http"]])
def test_serve_refuses_bad_options_clearly(option, cli, tmp_path):
    result = cli("serve", *option, "--model", str(tmp_path / "none"), timeout=60)
    assert result.returncode == 2 and option[0] in result.stderr
    no_traceback(result)
    assert "Serving on" not in result.stderr


def test_serve_reports_a_port_in_use_before_loading(cli, tiny_model_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port), "--model", str(tiny_model_dir), "--device",
                     "cpu", timeout=60)
    assert result.returncode == 1 and "cannot listen" in result.stderr
    assert "Serving on" not in result.stderr and "Loading" not in result.stderr
    no_traceback(result)


def test_any_exception_in_synthesis_ends_the_utterance_with_an_error(engine, monkeypatch,
                                                                     sink_recorder):
    """A failure that is not a VoxDeskError (here injected into the model's step, as a torch
    or tokenizer bug would raise it) must end the utterance with a message, not hang it."""
    from voxdesk.audio.player import Player
    from voxdesk.engine import SynthesisParams, SynthesisRequest
    from voxdesk.errors import SynthesisError
    from voxdesk.speech import Utterance

    def broken(text, prompt, request):
        raise RuntimeError("Overflow when unpacking long")
        yield  # a generator, like the real one

    monkeypatch.setattr(engine, "_generate_segment", broken)
    player = Player()
    try:
        utterance = Utterance(engine, player, SynthesisRequest(
            "Hello.", params=SynthesisParams(max_len=4))).start()
        with pytest.raises(SynthesisError, match="Overflow when unpacking long"):
            utterance.wait(timeout=20)
        assert not engine.busy
    finally:
        player.close()


def test_the_window_quits_cleanly_on_ctrl_c(tmp_path, data_dir):
    env = {**os.environ, "VOXDESK_INSTANCE": f"voxdesk-sigint-{os.getpid()}"}
    process = subprocess.Popen([sys.executable, "-m", "voxdesk", "gui", "--model",
                                str(tmp_path / "no-model")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)  # the window is up (it reports the missing model in its status)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
