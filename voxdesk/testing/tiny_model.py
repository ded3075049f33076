"""Build a random-weight VoxCPM2 model directory offline, from the voxcpm package's own classes.

    python -m voxdesk.testing.tiny_model DIR               # ~2 M parameters, CPU in seconds
    python -m voxdesk.testing.tiny_model DIR --full-size   # VoxCPM2's real architecture, 2.2 B

The directory has exactly the layout ``VoxCPM.from_pretrained(DIR)`` loads (config.json,
tokenizer files, model.safetensors, audiovae.safetensors), so tests and benchmarks run the real
loading and generation code. Random weights make noise, not speech: use it to test plumbing,
timing and formats. The full-size variant computes exactly as much as the real model per step
(compute does not depend on weight values), which is how speed is measured without the weights.

``--stop-never`` zeroes the stop head, so generation always runs to ``max_len`` steps: a
deterministic length for tests (the random stop head otherwise ends after a few steps).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Special token ids the VoxCPM2 model uses as audio markers (audio start/end, reference start/end).
_RESERVED_IDS = range(3, 105)


def _lm_config(
    hidden: int, layers: int, heads: int, kv_heads: int, ffn: int, head_dim: int, vocab: int
) -> dict[str, Any]:
    return {
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "max_position_embeddings": 32768,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads,
        "rms_norm_eps": 1e-5,
        "rope_scaling": {
            "type": "longrope",
            "long_factor": [1.0] * (head_dim // 2),
            "short_factor": [1.0] * (head_dim // 2),
            "original_max_position_embeddings": 32768,
        },
        "vocab_size": vocab,
        "use_mup": False,
        "scale_emb": 12,
        "dim_model_base": 256,
        "scale_depth": 1.4,
        "rope_theta": 10000.0,
        "kv_channels": head_dim,
    }


def model_config(vocab_size: int, full_size: bool) -> dict[str, Any]:
    """config.json for a VoxCPM2 model: tiny, or with the published VoxCPM2 dimensions."""
    if full_size:
        lm = _lm_config(2048, 28, 16, 2, 6144, 128, vocab_size)
        local = {"hidden_dim": 1024, "ffn_dim": 4096, "num_heads": 16, "num_layers": 12,
                 "kv_channels": 128}
        residual_layers = 8
        vae: dict[str, Any] = {}  # the package's default audio VAE is VoxCPM2's
    else:
        lm = _lm_config(64, 2, 2, 1, 128, 32, vocab_size)
        local = {"hidden_dim": 64, "ffn_dim": 128, "num_heads": 2, "num_layers": 1,
                 "kv_channels": 32}
        residual_layers = 1
        # Decoder channels halve at each of the six stages: 256 is the smallest that works.
        vae = {"encoder_dim": 16, "decoder_dim": 256, "cond_dim": 16}
    return {
        "architecture": "voxcpm2",
        "lm_config": lm,
        "patch_size": 4,
        "feat_dim": 64,
        "residual_lm_num_layers": residual_layers,
        "scalar_quantization_latent_dim": 64 if not full_size else 512,
        "scalar_quantization_scale": 9,
        "encoder_config": dict(local),
        "dit_config": {**local, "cfm_config": {"solver": "euler", "sigma_min": 1e-6,
                                               "inference_cfg_rate": 2.0}},
        "audio_vae_config": {"latent_dim": 64, "sample_rate": 16000, "out_sample_rate": 48000,
                             **vae},
        "max_length": 8192,
        "device": "cpu",
        "dtype": "float32",
    }


def _vocabulary() -> dict[str, int]:
    """A character-level vocabulary: specials, reserved marker ids, then the characters."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<reserved_{i}>" for i in _RESERVED_IDS]
    chars = [chr(c) for c in range(32, 127)]
    chars += [chr(c) for c in range(0xA1, 0x250)]  # Latin-1 and Latin Extended
    chars += list("，。！？；：、“”‘’（）《》「」『』【】…—·")
    chars += [chr(c) for c in range(0x4E00, 0xA000)]  # CJK unified ideographs
    return {token: i for i, token in enumerate(tokens + chars)}


def write_tokenizer(directory: Path) -> int:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = _vocabulary()
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
    tokenizer.decoder = decoders.Fuse()
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "LlamaTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "add_bos_token": True,
        "add_eos_token": False,
        "model_max_length": 32768,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    (directory / "special_tokens_map.json").write_text(
        json.dumps({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, indent=2)
    )
    return len(vocab)


def build(directory: str | Path, full_size: bool = False, stop_never: bool = False,
          seed: int = 0) -> Path:
    """Write a random-weight model to ``directory`` (created if needed) and return its path."""
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaTokenizerFast
    from voxcpm.model.voxcpm2 import VoxCPM2Model, VoxCPMConfig
    from voxcpm.modules.audiovae import AudioVAEConfigV2, AudioVAEV2

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab_size = write_tokenizer(directory)
    config = model_config(vocab_size, full_size)
    (directory / "config.json").write_text(json.dumps(config, indent=2))

    torch.manual_seed(seed)
    parsed = VoxCPMConfig.model_validate(config)
    audio_vae = AudioVAEV2(config=AudioVAEConfigV2.model_validate(config["audio_vae_config"]))
    tokenizer = LlamaTokenizerFast.from_pretrained(str(directory))
    model = VoxCPM2Model(parsed, tokenizer, audio_vae, device="cpu")
    if stop_never:
        torch.nn.init.zeros_(model.stop_head.weight)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    vae_state = {k[len("audio_vae."):]: v for k, v in state.items() if k.startswith("audio_vae.")}
    lm_state = {k: v for k, v in state.items() if not k.startswith("audio_vae.")}
    save_file(lm_state, str(directory / "model.safetensors"))
    save_file(vae_state, str(directory / "audiovae.safetensors"))
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voxdesk.testing.tiny_model",
        description="Build a random-weight VoxCPM2 model directory (noise, not speech).",
    )
    parser.add_argument("directory", help="where to write the model (created if missing)")
    parser.add_argument("--full-size", action="store_true",
                        help="use VoxCPM2's real dimensions (2.2 B parameters, ~9 GB)")
    parser.add_argument("--stop-never", action="store_true",
                        help="zero the stop head: every generation runs to max_len steps")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build(args.directory, full_size=args.full_size, stop_never=args.stop_never,
                 seed=args.seed)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
