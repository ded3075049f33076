"""The house voice: "Model default voice" is one stable voice per model, kept on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from voxdesk.engine import SynthesisParams, SynthesisRequest
from voxdesk.engine.house_voice import HOUSE_SEED, HouseVoiceStore
from voxdesk.engine.voice_prompt import model_fingerprint

MAKE = """
import sys
from voxdesk.engine import Engine
engine = Engine.load(sys.argv[1], device="cpu")
print(engine.default_voice_seed())
"""


def make_in_process(model_dir, data_dir) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOXDESK_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-c", MAKE, str(model_dir)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)


@pytest.fixture
def house(engine, tmp_path, monkeypatch):
    """The session engine with its house voices in a folder of this test's own."""
    store = HouseVoiceStore(tmp_path / "house")
    monkeypatch.setattr(engine, "house_voices", store)
    monkeypatch.setattr(engine, "_house", None)
    monkeypatch.setattr(engine, "house_max_steps", 6)  # a shorter prompt: a faster test
    return store


def prompt_received(engine, _unused=None) -> dict:
    """The prompt the model is given for an utterance without a voice (spied on the call)."""
    seen = []
    original = engine._model.tts._generate_with_prompt_cache

    def spy(*args, **kwargs):
        seen.append(kwargs["prompt_cache"])
        yield from original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine._model.tts, "_generate_with_prompt_cache", spy)
        list(engine.synthesize(SynthesisRequest("Hi.", params=SynthesisParams(max_len=2))))
    return seen[-1]


def test_the_house_voice_is_identical_in_two_processes(tiny_model_dir, tmp_path):
    make_in_process(tiny_model_dir, tmp_path / "a")
    make_in_process(tiny_model_dir, tmp_path / "b")
    a = list((tmp_path / "a" / "house-voices").glob("*.pt"))
    b = list((tmp_path / "b" / "house-voices").glob("*.pt"))
    assert len(a) == len(b) == 1 and a[0].name == b[0].name
    assert a[0].read_bytes() == b[0].read_bytes()


def test_every_utterance_without_a_voice_speaks_in_it_across_restarts(engine, house,
                                                                      monkeypatch):
    first = prompt_received(engine, monkeypatch)
    path = house.path(model_fingerprint(engine.info))
    saved = path.read_bytes()
    stored = house.load(model_fingerprint(engine.info))
    assert stored.seed == HOUSE_SEED
    assert torch.equal(first["audio_feat"], stored.prompt["audio_feat"])
    assert first["prompt_text"] == stored.prompt["prompt_text"]
    # A restart: a new engine on the same model reads it back rather than making another.
    from voxdesk.engine import Engine

    restarted = Engine(engine._model)
    restarted.house_voices = house
    made = []
    monkeypatch.setattr(restarted, "_make_house_voice", lambda seed: made.append(seed))
    again = prompt_received(restarted, monkeypatch)
    assert made == [] and torch.equal(again["audio_feat"], first["audio_feat"])
    assert path.read_bytes() == saved


def test_new_default_voice_changes_it(engine, house):
    before = prompt_received(engine)
    assert engine.new_default_voice(7) == 7
    assert house.load(model_fingerprint(engine.info)).seed == 7
    after = prompt_received(engine)
    assert not torch.equal(before["audio_feat"], after["audio_feat"])


def test_voices_new_default_command(cli, tiny_model_dir, tmp_path, engine):
    result = cli("voices", "new-default", "--seed", "7", "--model", str(tiny_model_dir),
                 "--device", "cpu", env={"VOXDESK_DATA_DIR": str(tmp_path)}, timeout=280)
    assert result.returncode == 0, result.stderr
    assert "seed 7" in result.stdout
    stored = HouseVoiceStore(tmp_path / "house-voices").load(model_fingerprint(engine.info))
    assert stored is not None and stored.seed == 7


def test_the_same_seed_gives_the_same_audio_with_the_house_voice(engine, house):
    def audio():
        stream = engine.synthesize(SynthesisRequest("One. Two.",
                                                    params=SynthesisParams(max_len=3, seed=4)))
        return torch.cat([torch.from_numpy(c.samples) for c in stream])

    assert torch.equal(audio(), audio())


WRITER = """
import sys, itertools
from voxdesk.engine import Engine
engine = Engine.load(sys.argv[1], device="cpu")
engine.default_voice_seed()
print("ready", flush=True)
for seed in itertools.count(100):
    engine.new_default_voice(seed)
"""


def test_kill_9_while_writing_leaves_a_usable_store(engine, tiny_model_dir, tmp_path,
                                                    monkeypatch):
    env = {**os.environ, "VOXDESK_DATA_DIR": str(tmp_path)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tiny_model_dir)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # somewhere inside generating or writing another voice
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    store = HouseVoiceStore(tmp_path / "house-voices")
    voice = store.load(model_fingerprint(engine.info))
    assert voice is not None and voice.seed >= HOUSE_SEED  # the old voice or a new one, whole
    monkeypatch.setattr(engine, "house_voices", store)
    monkeypatch.setattr(engine, "_house", None)
    assert torch.equal(prompt_received(engine, monkeypatch)["audio_feat"],
                       voice.prompt["audio_feat"])


def test_a_damaged_file_is_set_aside_and_the_voice_made_again(engine, house, monkeypatch):
    path = house.path(model_fingerprint(engine.info))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 half a zip")
    prompt = prompt_received(engine, monkeypatch)
    assert prompt["audio_feat"].shape[0] > 0
    assert house.load(model_fingerprint(engine.info)).seed == HOUSE_SEED
    assert path.with_name(path.name + ".bad").is_file()
