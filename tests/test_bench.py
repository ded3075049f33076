"""`voxdesk bench` on the tiny model: the JSON has every field, with plausible values; the
overhead and long-text ratios are printed. Speed itself is never asserted (noisy machines):
thresholds are for the benchmark report, not for tests."""

import io
import json
import sys

import pytest

from voxdesk.bench import report
from voxdesk.bench.result import ScenarioResult
from voxdesk.bench.stats import percentile, summarize
from voxdesk.testing.sink import SinkRecorder

# The tiny test model never stops by itself: force a short length, as for any random model.
FAST = ["--device", "cpu", "--max-len", "8", "--quiet"]
WITH_PROGRESS = FAST[:-1]
ENVIRONMENT_FIELDS = {"voxdesk", "voxcpm", "torch", "python", "device", "device_name",
                      "model_id", "dtype", "architecture", "parameters", "sample_rate",
                      "load_time_s", "date", "cpu", "cpu_count", "torch_threads",
                      "load_average", "load_average_end"}
STAT_FIELDS = {"n", "min", "median", "p95", "max", "mean"}


def audio_args():
    return [] if SinkRecorder.available() else ["--no-audio"]


@pytest.fixture(scope="module")
def quick_report(tiny_model_dir, tmp_path_factory):
    from tests.conftest import run_voxdesk

    out = tmp_path_factory.mktemp("bench")
    result = run_voxdesk("bench", "quick", "--model", str(tiny_model_dir), "--runs", "2",
                         "--json", str(out / "quick.json"), "--plot", str(out / "quick.png"),
                         *WITH_PROGRESS, *audio_args(), timeout=180)
    assert result.returncode == 0, result.stderr
    return result, json.loads((out / "quick.json").read_text()), out / "quick.png"


def test_quick_json_has_environment_and_every_sample(quick_report, tiny_model_dir):
    _, data, _ = quick_report
    assert data["schema"] == report.SCHEMA
    env = data["environment"]
    assert ENVIRONMENT_FIELDS <= set(env)
    assert env["model_id"] == str(tiny_model_dir) and env["device"] == "cpu"
    assert env["device_name"] == "CPU" and env["dtype"] and env["voxcpm"] and env["torch"]
    assert env["parameters"] > 0 and env["load_time_s"] > 0
    assert data["settings"]["params"]["max_len"] == 8
    assert data["complete"] is True
    quick = data["scenarios"]["quick"]
    assert quick["skipped"] is None and len(quick["load_average"]) == 2
    assert len(quick["samples"]) == 2
    for metric in ("first_chunk_latency", "total_time", "audio_duration", "rtf", "chunks",
                   "chunk_s", "underruns", "seams"):
        assert metric in quick["metrics"]
        stats = quick["summary"]["short"][metric]
        assert STAT_FIELDS == set(stats)
        assert stats["min"] <= stats["median"] <= stats["p95"] <= stats["max"]


def test_quick_samples_are_plausible(quick_report):
    _, data, _ = quick_report
    playing = SinkRecorder.available()
    for sample in data["scenarios"]["quick"]["samples"]:
        assert 0 < sample["first_chunk_latency"] < sample["total_time"]
        assert sample["chunks"] == 8 and sample["chunk_samples"] == 7680
        assert sample["chunk_s"] == pytest.approx(0.16)
        assert sample["audio_duration"] == pytest.approx(8 * 0.16)
        assert sample["rtf"] == pytest.approx(sample["total_time"] / sample["audio_duration"])
        assert sample["segments"] == 1 and not sample["cancelled"]
        if playing:  # heard after it was generated, and before playback could have ended
            assert sample["first_chunk_latency"] <= sample["first_audible_latency"]
            assert sample["first_audible_latency"] < sample["playback_time"]
            assert sample["underruns"] >= 0 and 0 <= sample["seams"] <= sample["underruns"]
            assert sample["guard"] is True and sample["timesteps"] == 10
        else:
            assert sample["first_audible_latency"] is None


def test_quick_prints_a_table_and_draws_a_plot(quick_report):
    result, _, png = quick_report
    lines = result.stdout.splitlines()
    assert lines[0].startswith("VoxDesk") and "voxcpm" in lines[0]
    assert any(line.split()[:3] == ["short", "first", "chunk"] for line in lines)
    assert any("RTF" in line for line in lines)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The progress bar (stderr is not a terminal here: one line per step).
    bars = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert any("warm-up" in line for line in bars)
    assert any("quick: run 2/2" in line and "] 2/3 " in line for line in bars), bars


def test_overhead_long_text_and_voice_cache(tiny_model_dir, tmp_path, cli):
    out = tmp_path / "ratios.json"
    result = cli("bench", "overhead", "long-text", "voice-cache", "--model", str(tiny_model_dir),
                 "--runs", "2", "--json", str(out), *FAST, *audio_args(),
                 # min = max: forced lengths, so sentences are context (not runaways), and a
                 # second continuity bound beside the default.
                 "--min-len", "8", "--context-bounds", "0+1", timeout=180)
    assert result.returncode == 0, result.stderr
    print(result.stdout)  # the figures, for whoever reads the CI log
    assert "ratio voxdesk / raw first chunk" in result.stdout
    assert "ratio voxdesk / raw total" in result.stdout
    assert "ratio 10k chars / 1 sentence first chunk" in result.stdout
    assert "ratio first use / cached first chunk" in result.stdout
    data = json.loads(out.read_text())
    assert data["complete"] is True
    scenarios = data["scenarios"]
    assert list(scenarios) == ["overhead", "long-text", "voice-cache"]

    overhead = scenarios["overhead"]
    variants = [s["variant"] for s in overhead["samples"]]
    assert variants.count("voxdesk") == 2 and variants.count("raw voxcpm") == 2
    if SinkRecorder.available():  # the engine alone as well, to tell it from the player's cost
        assert variants.count("voxdesk engine") == 2
        assert overhead["ratios"]["voxdesk engine / raw total (median of pairs)"] > 0
    assert "all paths produced identical audio in every run" in overhead["notes"]
    assert all(value > 0 for value in overhead["ratios"].values())
    for sample in overhead["samples"]:
        assert 0 < sample["first_chunk_latency"] < sample["total_time"]
        assert sample["audio_duration"] == pytest.approx(8 * 0.16)

    long_text = scenarios["long-text"]
    by_variant = {s["variant"]: s for s in long_text["samples"]}
    assert by_variant["10k chars"]["text_chars"] >= 10_000
    assert by_variant["10k chars"]["segments"] > 50 and by_variant["1 sentence"]["segments"] == 1
    assert long_text["ratios"]["10k chars / 1 sentence first chunk"] > 0
    # Each sentence's first chunk, continuity off, on (default bound) and on with 1+1 s.
    continuity = [s for s in long_text["samples"] if s["variant"].startswith("continuity")]
    assert sorted({s["variant"] for s in continuity}) == [
        "continuity off", "continuity on", "continuity on 0+1 s"]
    for sample in continuity:
        assert len(sample["sentence_first_chunk"]) == sample["segments"] == 6
        # A forced 1.28 s a sentence: sentences as long as 1.28 s of speech (~18 characters),
        # not the document's 87, so each context has the text a listener's would.
        assert 12 <= sample["sentence_chars"] <= 20
        assert all(t > 0 for t in sample["sentence_first_chunk"])
    context = {s["variant"]: s["context_s"] for s in continuity}
    assert context["continuity off"] == 0
    # Sentences of 1.28 s: the default bound takes the previous one (the house voice is the
    # anchor); a bound of 1 s for it takes none.
    assert context["continuity on 0+1 s"] == 0 < context["continuity on"] <= 7.0
    for variant in ("continuity on", "continuity on 0+1 s"):
        for figure in ("first sentence's first chunk", "later sentences' first chunk (worst)",
                       "later sentences' first chunk (median)"):
            assert long_text["ratios"][f"{variant} / off, {figure}"] > 0

    cache = scenarios["voice-cache"]
    assert [s["variant"] for s in cache["samples"]] == ["first use", "cached"] * 2
    assert [s["voice_cache_hit"] for s in cache["samples"]] == [False, True] * 2
    assert all(s["first_chunk_latency"] > 0 for s in cache["samples"])
    for variant in ("first use", "cached"):
        stats = cache["summary"][variant]["first_chunk_latency"]
        assert STAT_FIELDS == set(stats) and stats["n"] == 2
    assert cache["ratios"]["first use / cached first chunk"] > 0
    assert not any("unexpected cache" in note for note in cache["notes"])


def test_a_failing_scenario_keeps_the_finished_ones(tiny_model_dir, tmp_path, monkeypatch):
    from voxdesk.bench import runner
    from voxdesk.bench.context import BenchOptions
    from voxdesk.bench.scenarios import SCENARIOS, Scenario
    from voxdesk.engine import SynthesisParams

    def boom(bench):
        raise RuntimeError("boom")

    monkeypatch.setitem(SCENARIOS, "boom", Scenario("boom", lambda bench: 1, boom))
    options = BenchOptions(model=str(tiny_model_dir), device="cpu", runs=1, audio=False,
                           params=SynthesisParams(max_len=4))
    out, printed = tmp_path / "partial.json", io.StringIO()
    with pytest.raises(RuntimeError, match="boom"):
        runner.run_bench(options, ["voice-cache", "boom"], out, out=printed,
                         show_progress=False)
    data = json.loads(out.read_text())
    assert data["complete"] is False and list(data["scenarios"]) == ["voice-cache"]
    assert len(data["scenarios"]["voice-cache"]["samples"]) == 2
    assert "voice-cache:" in printed.getvalue()  # the table of what was measured


def test_bad_bench_options_fail_before_loading_the_model(cli, tmp_path):
    result = cli("bench", "nonsense", "--model", str(tmp_path / "no-model"))
    assert result.returncode != 0 and "Unknown scenario 'nonsense'" in result.stderr
    result = cli("speak", "Hi.", "--min-steps", "0", "--model", str(tmp_path / "no-model"))
    assert result.returncode != 0 and "--min-steps must be at least 1" in result.stderr


def test_speak_and_bench_offer_the_real_time_settings(cli):
    for command in ("speak", "bench"):
        text = cli(command, "--help").stdout
        assert "--keep-real-time" in text and "--min-steps" in text and "--no-guard" in text
    bench_help = cli("bench", "--help").stdout
    for option in ("--runs", "--json", "--plot", "--no-audio", "--model", "--device"):
        assert option in bench_help
    for scenario in ("quick", "compare", "repeat", "overhead", "long-text", "voice-cache",
                     "guard", "gui"):
        assert scenario in bench_help


def test_statistics():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    stats = summarize([3, None, 1, 2, True])  # None and booleans are not numbers here
    assert stats == {"n": 3, "min": 1, "median": 2, "p95": pytest.approx(2.9), "max": 3,
                     "mean": 2}
    assert summarize([None]) is None


def test_table_formats_units():
    result = ScenarioResult("demo", "A demo.", metrics=["first_chunk_latency", "rtf", "seams"])
    result.samples = [{"variant": "a", "first_chunk_latency": 0.0456, "rtf": 1.5, "seams": 0},
                      {"variant": "a", "first_chunk_latency": 2.5, "rtf": 0.5, "seams": 2}]
    result.ratios["x / y"] = 1.0234
    env = {"voxdesk": "1", "voxcpm": "2", "torch": "3", "date": "today", "model_id": "m",
           "architecture": "voxcpm2", "parameters": 2e9, "dtype": "bfloat16",
           "device_name": "CPU", "device": "cpu", "load_time_s": 1.0}
    text = report.table(env, [result])
    assert "46 ms" in text and "2.50 s" in text and "ratio x / y: 1.023" in text
    assert "2,000 M parameters" in text


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch):
    from voxdesk.bench.plot import require_matplotlib
    from voxdesk.errors import VoxDeskError

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(VoxDeskError, match="--plot needs matplotlib") as error:
        require_matplotlib()
    assert "pip install" in str(error.value)


def test_gui_scenario_drives_the_window_through_its_controller(tiny_model_dir, tmp_path, cli):
    if not SinkRecorder.available():
        pytest.skip("the window always plays: needs the test sink")
    out = tmp_path / "gui.json"
    result = cli("bench", "gui", "--model", str(tiny_model_dir), "--runs", "1",
                 "--json", str(out), *FAST, *audio_args(), timeout=300)
    assert result.returncode == 0, result.stderr
    print(result.stdout)  # the stall figures, for whoever reads the CI log
    (sample,) = json.loads(out.read_text())["scenarios"]["gui"]["samples"]
    assert sample["speaking_while_measured"] and sample["ticks"] > 100
    assert sample["stall_p99"] is not None and sample["stop_to_idle"] < 5
def test_speed_scenario_reports_stretch_cost_and_first_audible(tiny_model_dir, tmp_path, cli):
    out = tmp_path / "speed.json"
    result = cli("bench", "speed", "--model", str(tiny_model_dir), "--runs", "1",
                 "--json", str(out), *FAST, *audio_args(), timeout=240)
    assert result.returncode == 0, result.stderr
    print(result.stdout)  # the figures, for whoever reads the CI log
    assert "stretching costs" in result.stdout
    speed = json.loads(out.read_text())["scenarios"]["speed"]
    assert [s["variant"] for s in speed["samples"][:3]] == ["1.0x", "1.5x", "2.0x"]
    for variant in ("1.5x", "2.0x"):
        cpu = speed["summary"][variant]["cpu_per_heard_s"]
        assert cpu["n"] == 1 and 0 < cpu["median"] < 100  # percent of one core
        assert speed["ratios"][f"{variant[:-1]}x stretch CPU (% of a core per s heard)"] > 0
    heard = [s["heard_s"] for s in speed["samples"] if "heard_s" in s]
    assert heard[1] == pytest.approx(heard[0] / 1.5, rel=0.03)  # the same audio, stretched
    if SinkRecorder.available():
        audible = speed["summary"]["1.5x"]["first_audible_latency"]
        assert audible["n"] == 4 and 0 < audible["median"] < 1
        assert "1.5x - 1x first audible (ms)" in speed["ratios"]
