"""Voice design (VoxCPM2): a voice from a description becomes an ordinary profile; styles for
cloned voices go to the model as a reference; VoxCPM 1.x refuses both clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest, VoiceReference
from voxdesk.errors import InvalidRequestError
from voxdesk.voices import design
from voxdesk.voices.design import VoiceDesignError

DESCRIPTION = "a warm, calm older man, speaking slowly"
FAST = ("--device", "cpu")


def build_voxcpm1(directory: Path) -> Path:
    """A tiny random-weight model of VoxCPM 1.x's architecture, from voxcpm's own classes."""
    from safetensors.torch import save_file
    from transformers import LlamaTokenizerFast
    from voxcpm.model.voxcpm import VoxCPMConfig, VoxCPMModel
    from voxcpm.modules.audiovae import AudioVAE
    from voxcpm.modules.audiovae.audio_vae import AudioVAEConfig

    from voxdesk.testing import tiny_model

    directory.mkdir(parents=True, exist_ok=True)
    config = tiny_model.model_config(tiny_model.write_tokenizer(directory), False)
    config.update(architecture="voxcpm", patch_size=2)
    config["audio_vae_config"] = {"encoder_dim": 16, "latent_dim": 64, "decoder_dim": 128,
                                  "sample_rate": 16000}
    (directory / "config.json").write_text(json.dumps(config))
    torch.manual_seed(0)
    vae = AudioVAE(config=AudioVAEConfig.model_validate(config["audio_vae_config"]))
    model = VoxCPMModel(VoxCPMConfig.model_validate(config),
                        LlamaTokenizerFast.from_pretrained(str(directory)), vae, device="cpu")
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file({k[len("audio_vae."):]: v for k, v in state.items() if k.startswith("audio_vae.")},
              str(directory / "audiovae.safetensors"))
    save_file({k: v for k, v in state.items() if not k.startswith("audio_vae.")},
              str(directory / "model.safetensors"))
    return directory


@pytest.fixture(scope="module")
def voxcpm1_dir(tmp_path_factory) -> Path:
    return build_voxcpm1(tmp_path_factory.mktemp("voxcpm1"))


def spy_on_model(engine, monkeypatch) -> list[dict]:
    calls: list[dict] = []
    original = engine._model.tts._generate_with_prompt_cache

    def spy(*args, **kwargs):
        calls.append(kwargs)
        yield from original(*args, **kwargs)

    monkeypatch.setattr(engine._model.tts, "_generate_with_prompt_cache", spy)
    return calls


def test_candidates_follow_the_description_and_their_seeds(engine, monkeypatch):
    calls = spy_on_model(engine, monkeypatch)
    first = list(design.generate_candidates(engine, DESCRIPTION, 5, 2, max_steps=8))
    again = list(design.generate_candidates(engine, DESCRIPTION, 5, 1, max_steps=8))
    assert [c.seed for c in first] == [5, 6] and again[0].seed == 5
    assert np.array_equal(first[0].samples, again[0].samples)  # a seed is a voice
    assert not np.array_equal(first[0].samples, first[1].samples)
    assert all(c["target_text"] == f"({DESCRIPTION}){design.SAMPLE_TEXT}" for c in calls)
    assert all(c["prompt_cache"] is None for c in calls)  # the description alone, no voice


def test_designed_voice_lists_exports_imports_and_speaks(cli, tiny_model_dir, data_dir,
                                                         tmp_path, engine, monkeypatch):
    model = ("--model", str(tiny_model_dir), *FAST)
    made = cli("voices", "design", "Old Man", "--description", DESCRIPTION, "--seed", "3",
               "--candidates", "2", "--pick", "2", "--max-len", "8",
               "--out-dir", str(tmp_path / "c"), *model, timeout=400)
    assert made.returncode == 0, made.stderr
    assert "seed 4" in made.stdout
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "candidate-1-seed-3.wav", "candidate-2-seed-4.wav"]
    listed = json.loads(cli("voices", "list", "--json").stdout)
    assert [(v["name"], v["mode"], v["transcript"], v["description"]) for v in listed] == [
        ("Old Man", "continuation", design.SAMPLE_TEXT, DESCRIPTION)]
    archive = tmp_path / "old.voxvoice"
    assert cli("voices", "export", "Old Man", "-o", str(archive)).returncode == 0
    assert cli("voices", "remove", "Old Man").returncode == 0
    imported = cli("voices", "import", str(archive))
    assert imported.returncode == 0, imported.stderr
    again = json.loads(cli("voices", "list", "--json").stdout)
    assert [(v["name"], v["description"]) for v in again] == [("Old Man", DESCRIPTION)]
    # It speaks, by name, as the CLI and the API look it up: its clip continued, its text.
    from voxdesk.voices.store import VoiceStore

    profile = VoiceStore().get("old man")
    calls = spy_on_model(engine, monkeypatch)
    stream = engine.synthesize(SynthesisRequest("Spoken in a designed voice.",
                                                profile.voice_reference(),
                                                profile.params.replace(max_len=4)))
    assert sum(c.samples.size for c in stream) == 4 * 7680
    assert calls[0]["prompt_cache"]["prompt_text"] == design.SAMPLE_TEXT
    assert calls[0]["prompt_cache"]["mode"] == "continuation"


@pytest.mark.parametrize("description", ["", "   ", "x" * 5000, "a (nested) voice"])
def test_bad_descriptions_are_refused_before_anything_is_made(cli, data_dir, description):
    result = cli("voices", "design", "Nobody", "--description", description,
                 "--model", "/nonexistent-model-folder")
    assert result.returncode != 0
    assert "description" in result.stderr and "Traceback" not in result.stderr
    assert json.loads(cli("voices", "list", "--json").stdout) == []


def test_bad_description_in_process():
    with pytest.raises(InvalidRequestError, match="empty"):
        design.check_description("")
    with pytest.raises(InvalidRequestError, match="5,000 characters"):
        design.check_description("y" * 5000)


def test_voxcpm1_cannot_design_or_take_a_style_and_says_so(voxcpm1_dir, cli, data_dir,
                                                           tmp_path):
    engine = Engine.load(str(voxcpm1_dir), device="cpu")
    assert engine.info.architecture == "voxcpm"
    with pytest.raises(VoiceDesignError, match="needs VoxCPM2"):
        list(design.generate_candidates(engine, DESCRIPTION, 1, 1, max_steps=4))
    clip = tmp_path / "clip.wav"
    t = np.arange(2 * 16000) / 16000
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    styled = SynthesisRequest("Hello.", VoiceReference(prompt_wav=clip, prompt_text="Hi."),
                              SynthesisParams(max_len=3, style="cheerful"))
    with pytest.raises(VoiceDesignError, match="needs VoxCPM2"):
        list(engine.synthesize(styled))
    result = cli("voices", "design", "V1", "--description", DESCRIPTION,
                 "--model", str(voxcpm1_dir), *FAST, timeout=300)
    assert result.returncode != 0 and "needs VoxCPM2" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_style_sends_the_clip_as_a_reference(engine, monkeypatch, tmp_path):
    clip = tmp_path / "clip.wav"
    t = np.arange(2 * 16000) / 16000
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    calls = spy_on_model(engine, monkeypatch)
    voice = VoiceReference(prompt_wav=clip, prompt_text="What the clip says.")
    list(engine.synthesize(SynthesisRequest("One. Two.", voice, SynthesisParams(
        max_len=3, style="slightly faster, cheerful"))))
    assert [c["target_text"] for c in calls] == ["(slightly faster, cheerful)One.",
                                                 "(slightly faster, cheerful)Two."]
    assert all(c["prompt_cache"]["mode"] == "reference" for c in calls)  # VoxCPM #309
    with pytest.raises(InvalidRequestError, match="no voice"):
        list(engine.synthesize(SynthesisRequest("Hi.", None, SynthesisParams(style="calm"))))
