"""Shared fixtures: the tiny random-weight VoxCPM2 model, a loaded engine, the sink recorder.

The suite runs through packaging/test-env.sh, which provides Xvfb and a PulseAudio null sink.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker_isolation import isolate_xdist_worker, release_worker_resources

isolate_xdist_worker()  # before anything loads Qt or PortAudio


def pytest_unconfigure(config: pytest.Config) -> None:
    release_worker_resources()


from voxdesk.testing import tiny_model  # noqa: E402
from voxdesk.testing.sink import SinkRecorder  # noqa: E402

VOXDESK = [sys.executable, "-m", "voxdesk"]


def sigint_as_from_a_terminal() -> None:
    """``preexec_fn`` for a child that must take Ctrl-C as a terminal delivers it: a test run
    in a background job inherits SIGINT ignored, and Python then installs no handler for it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


HUB_REPO = "openbmb/VoxCPM2"

# Commands like `voxdesk speak` hand their work to a running VoxDesk if there is one: give this
# test session its own instance name so it never talks to a VoxDesk the developer has open.
os.environ.setdefault("VOXDESK_INSTANCE", f"voxdesk-tests-{os.getpid()}")
# Nor may it read or write the developer's settings, voices, models, caches or logs (tests that
# need an empty folder of their own still take the data_dir fixture).
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="voxdesk-tests-"))
for _name in ("CONFIG", "DATA", "CACHE", "LOG", "MODELS"):
    os.environ[f"VOXDESK_{_name}_DIR"] = str(_SESSION_HOME / _name.lower())


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny model whose stop head never fires: each sentence runs to its max length, so the
    amount of audio is known in advance (min(6 x text tokens + 10, max_len) steps)."""
    return tiny_model.build(tmp_path_factory.mktemp("tiny-model"), stop_never=True)


@pytest.fixture(scope="session")
def engine(tiny_model_dir: Path):
    from voxdesk.engine import Engine

    return Engine.load(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="session")
def warm_engine(engine):
    """The session engine after one generation (the tiny model's very first one is slow)."""
    from voxdesk.engine import SynthesisParams, SynthesisRequest

    list(engine.synthesize(SynthesisRequest("Warm up.", params=SynthesisParams(max_len=2))))
    return engine


@pytest.fixture
def wait_for():
    """``wait_for(condition, timeout_s)``: poll (without an event loop) until it is true."""
    from desktop_helpers import wait_for as poll

    return poll


@pytest.fixture
def model_inputs(engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every target_text the real model call receives (after the load's background warm-up
    and the house voice's own sentence, which are not the user's)."""
    assert engine.wait_until_warm(300)
    engine.default_voice_seed()  # the house voice's own sentence, made on first use
    seen: list[str] = []
    tts = engine._model.tts
    generate = tts._generate_with_prompt_cache

    def spy(*args, **kwargs):
        seen.append(kwargs["target_text"])
        return generate(*args, **kwargs)

    monkeypatch.setattr(tts, "_generate_with_prompt_cache", spy)
    return seen


@pytest.fixture
def slow_engine(engine, monkeypatch: pytest.MonkeyPatch):
    """The tiny model made ~1.5x slower than real time at 10 timesteps, in proportion to the
    timesteps, like a big model on a CPU (sleeping, so the CPU stays free for the player).
    ``engine.timesteps_used`` lists the diffusion steps each sentence was made with."""
    import time

    from voxdesk.engine import SynthesisParams, SynthesisRequest

    generate = engine._generate_segment

    def slow(text, prompt, request):
        engine.timesteps_used.append(request.params.inference_timesteps)
        for samples in generate(text, prompt, request):
            time.sleep(0.02 * request.params.inference_timesteps)
            yield samples

    # The first generation of a length is slow (allocations): keep it out of the comparison.
    list(engine.synthesize(SynthesisRequest("Warm up.", params=SynthesisParams(max_len=6))))
    monkeypatch.setattr(engine, "timesteps_used", [], raising=False)
    monkeypatch.setattr(engine, "_generate_segment", slow)
    return engine


@pytest.fixture
def sink_recorder() -> type[SinkRecorder]:
    if not SinkRecorder.available():
        pytest.skip("needs the PulseAudio null sink: run the suite through packaging/test-env.sh")
    return SinkRecorder


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private VoxDesk data/config dir, so tests never touch the user's profiles."""
    path = tmp_path / "voxdesk-data"
    monkeypatch.setenv("VOXDESK_DATA_DIR", str(path))
    monkeypatch.setenv("VOXDESK_CONFIG_DIR", str(tmp_path / "voxdesk-config"))
    return path


@pytest.fixture
def isolated(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private VoxDesk folders (models under the data dir, as by default) and Hugging Face
    cache; no token, no offline mode."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "VOXDESK_MODELS_DIR",
                 "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def hub(tiny_model_dir: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch):
    """A local model hub serving the tiny model as openbmb/VoxCPM2 (Hugging Face API layout,
    and ModelScope's), used through HF_ENDPOINT / MODELSCOPE_DOMAIN."""
    from voxdesk.testing.fake_hub import FakeHub

    with FakeHub({HUB_REPO: tiny_model_dir}) as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("MODELSCOPE_DOMAIN", fake.url)
        yield fake


def run_voxdesk(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the real `voxdesk` command line in a subprocess."""
    env = {**os.environ, **kwargs.pop("env", {})}
    return subprocess.run(
        [*VOXDESK, *args], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
    )


@pytest.fixture
def cli():
    """``cli("speak", "text", ...)`` runs the `voxdesk` command and returns the finished process."""
    return run_voxdesk


@pytest.fixture(scope="module")
def tray_host() -> Iterator[None]:
    """A system tray on the Xvfb display (trayer), so VoxDesk gets its tray icon."""
    if not shutil.which("trayer"):
        pytest.skip("needs trayer (a system tray for Xvfb): run through packaging/test-env.sh")
    process = subprocess.Popen(["trayer", "--edge", "top", "--widthtype", "pixel", "--width",
                                "200", "--height", "24"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    yield
    process.terminate()
    process.wait(5)


@pytest.fixture(scope="module")
def server_limits():
    """The limits of the module's ``server``: a test module that needs others overrides this
    fixture (``@pytest.fixture(scope="module") def server_limits(): return ServerLimits(...)``)."""
    from voxdesk.server.app import ServerLimits

    return ServerLimits()


@pytest.fixture(scope="module")
def server(engine, server_limits):
    """A real HTTP server on 127.0.0.1 (a free port) serving the session's engine, one for each
    test module that uses it; ``server.url`` is its address."""
    from voxdesk.server import free_port, start_in_background

    with start_in_background(engine, port=free_port(), limits=server_limits) as handle:
        yield handle
