"""Random models of every catalogue architecture, loaded and spoken through the real path.

The full-size builds here keep the real widths with one layer per stack (``layers=1``): the
same tensors per layer as the published checkpoints, built, saved, loaded and run in seconds
rather than minutes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.testing import tiny_model

#: What each architecture must look like (the published config.json values).
EXPECTED = {
    "voxcpm2": {"architecture": "voxcpm2", "hidden": 2048, "ffn": 6144, "local": 1024,
                "patch": 4, "fsq": 512, "rate": 48000, "layers": (28, 8, 12)},
    "voxcpm1.5": {"architecture": "voxcpm", "hidden": 1024, "ffn": 4096, "local": 1024,
                  "patch": 4, "fsq": 256, "rate": 44100, "layers": (24, 8, 8)},
    "voxcpm-0.5b": {"architecture": "voxcpm", "hidden": 1024, "ffn": 4096, "local": 1024,
                    "patch": 2, "fsq": 256, "rate": 16000, "layers": (24, 6, 4)},
}


@pytest.mark.parametrize("architecture", tiny_model.ARCHITECTURES)
def test_full_size_configs_have_the_real_dimensions(architecture):
    config = tiny_model.model_config(1000, full_size=True, architecture=architecture)
    want = EXPECTED[architecture]
    lm = config["lm_config"]
    assert config["architecture"] == want["architecture"]
    assert (lm["hidden_size"], lm["intermediate_size"]) == (want["hidden"], want["ffn"])
    assert lm["vocab_size"] == tiny_model.REAL_VOCAB_SIZE  # the real embedding table
    assert (lm["num_hidden_layers"], config["residual_lm_num_layers"],
            config["dit_config"]["num_layers"]) == want["layers"]
    assert config["encoder_config"]["hidden_dim"] == config["dit_config"]["hidden_dim"] == \
        want["local"]
    assert config["patch_size"] == want["patch"]
    assert config["scalar_quantization_latent_dim"] == want["fsq"]
    assert config["dtype"] == "bfloat16"  # as the real checkpoints: the loader picks for it
    capped = tiny_model.model_config(1000, full_size=True, architecture=architecture, layers=1)
    assert capped["lm_config"]["hidden_size"] == want["hidden"]  # widths unchanged
    assert (capped["lm_config"]["num_hidden_layers"], capped["residual_lm_num_layers"],
            capped["encoder_config"]["num_layers"], capped["dit_config"]["num_layers"]) == \
        (1, 1, 1, 1)


def test_an_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        tiny_model.model_config(1000, full_size=True, architecture="voxcpm3")
    with pytest.raises(SystemExit):
        tiny_model.main(["/nonexistent", "--architecture", "voxcpm3"])


@pytest.mark.parametrize("architecture", tiny_model.ARCHITECTURES)
def test_full_width_model_builds_loads_and_speaks_through_the_engine(architecture, tmp_path):
    path = tiny_model.main([str(tmp_path / architecture), "--full-size", "--architecture",
                            architecture, "--layers", "1", "--stop-never"])
    assert path == 0
    folder = tmp_path / architecture
    config = json.loads((folder / "config.json").read_text())
    with safe_open(str(folder / "model.safetensors"), "pt") as weights:
        embed = weights.get_slice("base_lm.embed_tokens.weight")
        hidden = EXPECTED[architecture]["hidden"]
        assert embed.get_shape() == [tiny_model.REAL_VOCAB_SIZE, hidden]
        assert embed.get_dtype() == "BF16"  # stored like the real checkpoints

    engine = Engine.load(str(folder), device="cpu")  # the path real checkpoints take
    from voxdesk.engine.packed_linear import PackedLinear

    # Full-width layers are packed for oneDNN (voxdesk.engine.packed_linear).
    assert any(isinstance(m, PackedLinear) for m in engine._model.tts.modules())
    # Word pieces, as dense as a real tokenizer's, not a token per character.
    assert len(engine._model.tts.text_tokenizer("This is the reader's first sentence.")) < 16
    info = engine.info
    assert info.architecture == EXPECTED[architecture]["architecture"]
    assert info.sample_rate == EXPECTED[architecture]["rate"]
    assert info.dtype == "bfloat16"  # the CPU keeps the checkpoint's dtype
    stream = engine.synthesize(SynthesisRequest("Hello.", None,
                                                SynthesisParams(min_len=1, max_len=1)))
    audio = np.concatenate([chunk.samples for chunk in stream])
    # One generation step: patch_size latent frames of 25 Hz each.
    assert audio.size == pytest.approx(info.sample_rate * config["patch_size"] / 25, rel=0.01)
    assert np.isfinite(audio).all()


def test_the_word_piece_tokenizer_is_as_dense_as_a_real_one_and_keeps_the_text(tmp_path):
    from transformers import LlamaTokenizerFast
    from voxcpm.model.utils import mask_multichar_chinese_tokens

    tiny_model.write_tokenizer(tmp_path, "words")
    tokenizer = LlamaTokenizerFast.from_pretrained(str(tmp_path))  # as voxcpm loads it
    model_view = mask_multichar_chinese_tokens(tokenizer)  # and then wraps it
    english = "This is sentence number 1 of a long document, which the reader reaches later."
    ids = model_view(english)
    assert len(english) / len(ids) > 3  # the character tokenizer: 1
    assert tokenizer.decode(tokenizer(english)["input_ids"], skip_special_tokens=True) == english
    chinese = "今天天气很好。"
    assert len(model_view(chinese)) <= len(chinese) + 2  # a token a character, as voxcpm has it
    assert tokenizer.unk_token_id not in model_view(english + chinese)
