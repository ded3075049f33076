"""The log file (rotating, in the platform's log folder), --debug on stderr, and the diagnostics
report that quotes the log's recent errors."""

from __future__ import annotations

import logging

import pytest

from voxdesk import diagnostics
from voxdesk.logging_setup import setup_logging


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    path = tmp_path / "logs"
    monkeypatch.setenv("VOXDESK_LOG_DIR", str(path))
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield path
    for handler in [h for h in root.handlers if h not in saved[1]]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[0])


def test_log_file_rotates_and_keeps_a_few_copies(log_dir, capsys):
    path = setup_logging(max_bytes=2000, backups=2)
    assert path == log_dir / "voxdesk.log"
    log = logging.getLogger("voxdesk.test")
    for i in range(100):
        log.info("message number %03d with some padding to fill the file", i)
    log.error("the last error", extra={"console": False})
    names = sorted(p.name for p in log_dir.iterdir())
    assert names == ["voxdesk.log", "voxdesk.log.1", "voxdesk.log.2"]
    assert all(p.stat().st_size <= 2000 for p in log_dir.iterdir())
    assert "the last error" in path.read_text()
    # INFO stays in the file; the file-only error does not reach the terminal either.
    assert capsys.readouterr().err == ""
    log.warning("a warning for the terminal")
    assert "a warning for the terminal" in capsys.readouterr().err


def test_recent_errors_come_with_their_tracebacks(log_dir):
    setup_logging(console=False)
    log = logging.getLogger("voxdesk.test")
    log.info("fine")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it failed")
    log.warning("careful")
    errors = diagnostics.recent_errors()
    assert len(errors) == 2
    assert "ERROR" in errors[0] and "it failed" in errors[0] and "RuntimeError: boom" in errors[0]
    assert "careful" in errors[1]
    assert diagnostics.recent_errors(limit=1) == errors[1:]


def test_cli_logs_to_file_debug_prints_and_diagnostics_report(cli, tmp_path):
    env = {"VOXDESK_LOG_DIR": str(tmp_path / "logs"), "VOXDESK_CONFIG_DIR": str(tmp_path / "c"),
           "VOXDESK_DATA_DIR": str(tmp_path / "d"), "HF_TOKEN": "hf_do_not_print_me"}
    failed = cli("models", "use", "/no/such/folder", env=env)
    assert failed.returncode == 1
    assert failed.stderr.strip() == "voxdesk: error: There is no folder /no/such/folder. " \
                                    "Check the path."
    debug = cli("--debug", "models", "use", "/no/such/folder", env=env)
    assert "DEBUG" in debug.stderr or "ERROR" in debug.stderr
    assert "Traceback" in debug.stderr  # --debug shows where it came from

    log_text = (tmp_path / "logs" / "voxdesk.log").read_text()
    logged = [line for line in log_text.splitlines()
              if " ERROR " in line and "There is no folder /no/such/folder" in line]
    assert len(logged) == 2

    report = cli("diagnostics", env=env)
    assert report.returncode == 0, report.stderr
    text = report.stdout
    for heading in ("## Versions", "## Hardware", "## Models", "## Recent warnings and errors"):
        assert heading in text
    assert "VoxDesk 0.1" in text and "torch:" in text and "device:" in text
    assert "There is no folder /no/such/folder" in text
    assert "HF_TOKEN is set" in text and "hf_do_not_print_me" not in text
