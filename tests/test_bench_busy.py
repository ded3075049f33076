"""`voxdesk bench busy`: competing processes are started by the bench, bounded in time and
always stopped (also on Ctrl+C or an error); the figures reach the JSON. Speed is not asserted."""

import json
import time

import pytest

from voxdesk.bench import competitors
from voxdesk.bench.competitors import competing_processes


def spinning(process):
    """The process is alive and burning CPU (its user time grows)."""
    import os

    def cpu_ticks():
        with open(f"/proc/{process.pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[11])

    if not os.path.exists("/proc"):
        return process.poll() is None
    before = cpu_ticks()
    deadline = time.monotonic() + 10  # a loaded machine may not schedule it at once
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
        if cpu_ticks() > before + 2:
            return True
    return False


@pytest.mark.parametrize("failure", [None, RuntimeError, KeyboardInterrupt])
def test_competitors_run_while_the_block_runs_and_are_always_stopped(failure):
    started = []
    with pytest.raises(failure) if failure else _nothing():
        with competing_processes(2, max_seconds=60) as processes:
            started = list(processes)
            assert len(started) == 2 and all(spinning(p) for p in started)
            if failure:
                raise failure()
    assert all(p.poll() is not None for p in started)  # stopped, and reaped


def test_a_competitor_stops_by_itself_at_its_deadline():
    with competing_processes(1, max_seconds=0.5) as processes:
        processes[0].wait(timeout=20)  # even if nobody stopped it
        assert processes[0].returncode == 0


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_bench_busy_writes_its_figures(tiny_model_dir, tmp_path):
    from tests.conftest import run_voxdesk

    out = tmp_path / "busy.json"
    result = run_voxdesk("bench", "busy", "--model", str(tiny_model_dir), "--runs", "1",
                         "--device", "cpu", "--min-len", "1", "--max-len", "2", "--no-audio",
                         "--quiet",
                         "--json", str(out), timeout=300)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    env = data["environment"]
    assert env["dtype_reason"] and env["acceleration"]
    assert env["first_generation_s"] > 0 and env["later_generation_s"] > 0
    busy = data["scenarios"]["busy"]
    seen = {(s["threads"], s["competitors"]) for s in busy["samples"]}
    assert {c for _, c in seen} == {0, 1, 2} and {"auto", 1} <= {t for t, _ in seen}
    for sample in busy["samples"]:
        assert sample["rtf"] > 0 and sample["rtf_vs_idle"] > 0
        if sample["competitors"] == 0:
            assert sample["rtf_vs_idle"] == 1.0
    assert any("RTF / idle RTF" in key for key in busy["ratios"])
    assert "busy:" in result.stdout and "dtype rule:" in result.stdout


def test_an_interrupted_busy_bench_leaves_no_competitor_running(tiny_model_dir, tmp_path,
                                                                  monkeypatch):
    from voxdesk.bench import runner
    from voxdesk.bench.context import BenchOptions
    from voxdesk.bench.scenarios import busy
    from voxdesk.engine import SynthesisParams

    started = []

    class Recorded(competitors.subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    real_speak = busy.speak

    def interrupted(bench, *args, **kwargs):
        if started:  # competitors are running: the person presses Ctrl+C
            raise KeyboardInterrupt
        return real_speak(bench, *args, **kwargs)

    monkeypatch.setattr(competitors.subprocess, "Popen", Recorded)
    monkeypatch.setattr(busy, "speak", interrupted)
    options = BenchOptions(model=str(tiny_model_dir), device="cpu", runs=1, audio=False,
                           params=SynthesisParams(max_len=4))
    with pytest.raises(KeyboardInterrupt):
        runner.run_bench(options, ["busy"], tmp_path / "busy.json", show_progress=False)
    assert started and all(p.poll() is not None for p in started)
