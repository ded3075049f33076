"""Build a random-weight VoxCPM model directory offline, from the voxcpm package's own classes.

    python -m voxdesk.testing.tiny_model DIR               # ~2 M parameters, CPU in seconds
    python -m voxdesk.testing.tiny_model DIR --full-size   # VoxCPM2's real architecture, 2.2 B
    python -m voxdesk.testing.tiny_model DIR --full-size --architecture voxcpm1.5  # or voxcpm-0.5b

The directory has exactly the layout ``VoxCPM.from_pretrained(DIR)`` loads (config.json,
tokenizer files, model.safetensors, audiovae.safetensors), so tests and benchmarks run the real
loading and generation code. Random weights make noise, not speech: use it to test plumbing,
timing and formats. The full-size variant computes exactly as much as the real model per step
(compute does not depend on weight values) and is stored in the real checkpoints' bfloat16, so
it loads in the dtype the real model would: that is how each catalogue model's speed is measured
without its weights. ``--layers N`` keeps the real widths with fewer layers (fast tests).

``--stop-never`` zeroes the stop head, so generation always runs to ``max_len`` steps: a
deterministic length for tests (the random stop head otherwise ends after a few steps).
"""

from __future__ import annotations

import argparse
import functools
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


#: The catalogue's architectures, by the name ``--architecture`` takes.
ARCHITECTURES = ("voxcpm2", "voxcpm1.5", "voxcpm-0.5b")

#: The real checkpoints' MiniCPM4 vocabulary (``lm_config.vocab_size`` of VoxCPM2's config.json,
#: the same tokenizer in all three): full-size models get an embedding table this big, so their
#: memory matches; the character-level test tokenizer uses only its first rows.
REAL_VOCAB_SIZE = 73448


def _full_size(architecture: str) -> dict[str, Any]:
    """The dimensions of the published checkpoints' config.json, per architecture.

    Where each number comes from:
    - VoxCPM2: openbmb/VoxCPM2 config.json (as mirrored on the hub, e.g. mlx-community/VoxCPM2-4bit):
      LM 2048 wide, 28 layers, 16 heads, 2 KV heads, FFN 6144, head 128; residual LM 8 layers;
      local encoder / DiT 1024 wide, 12 layers, FFN 4096, 16 heads; FSQ 512; patch 4; audio VAE
      = voxcpm's AudioVAEConfigV2 defaults (16 kHz in, 48 kHz out, decoder 2048).
    - VoxCPM-0.5B: openbmb/VoxCPM-0.5B config.json (mirrored as callgg/voxcpm-bf16): LM 1024
      wide, 24 layers, 16 heads, 2 KV heads, FFN 4096 (head 64); and llama.cpp-omni's VoxCPM
      table (tools/omni/voxcpm2/README.md): residual LM 6 layers, encoder / DiT 4 + 4 layers
      1024 wide, patch 2, FSQ 256, audio VAE 16 kHz with decoder 1536 (= voxcpm's
      AudioVAEConfig defaults: rates 2-5-8-8).
    - VoxCPM1.5: the same MiniCPM4 LM as 0.5B; llama.cpp-omni's table: residual LM 8 layers,
      encoder / DiT 8 + 8 layers 1024 wide, patch 4, FSQ 256, audio VAE 44.1 kHz with decoder
      2048; the VAE's rates 2-3-6-7-7 (hop 1764 = 25 latent frames a second, as 16 kHz / 640
      in 0.5B) from the 44.1 kHz AudioVAE of the VoxCPM1.5 ports (mlx-voxcpm-swift); the VAE's
      encoder_dim is 64, not voxcpm's default 128 (five encoder stages double it to 2048).
      Checked against the published checkpoint's file sizes (git-LFS pointers of a copy of
      openbmb/VoxCPM1.5, leochilds/udemy-course-gcse-maths models/VoxCPM1.5/): model.safetensors
      1,603,516,600 bytes = 801.8 M bfloat16 parameters, exactly these dimensions without the
      VAE; audiovae.pth 346,023,712 bytes = 86.5 M float32 parameters, exactly this VAE (with
      encoder_dim 128 it would be 215 M). Total 888 M; the model card's "750M" counts fewer.
    Local encoder / DiT FFN 4096 and 16 heads are voxcpm's VoxCPMEncoderConfig defaults.
    """
    local = {"hidden_dim": 1024, "ffn_dim": 4096, "num_heads": 16}
    if architecture == "voxcpm2":
        return {"lm": (2048, 28, 16, 2, 6144, 128), "residual_layers": 8,
                "local": {**local, "num_layers": 12, "kv_channels": 128}, "patch_size": 4,
                "fsq": 512, "vae": {}}
    lm = (1024, 24, 16, 2, 4096, 64)
    if architecture == "voxcpm1.5":
        return {"lm": lm, "residual_layers": 8, "local": {**local, "num_layers": 8},
                "patch_size": 4, "fsq": 256,
                "vae": {"encoder_dim": 64, "encoder_rates": [2, 3, 6, 7, 7], "latent_dim": 64,
                        "decoder_dim": 2048, "decoder_rates": [7, 7, 6, 3, 2],
                        "sample_rate": 44100}}
    if architecture == "voxcpm-0.5b":
        return {"lm": lm, "residual_layers": 6, "local": {**local, "num_layers": 4},
                "patch_size": 2, "fsq": 256,
                "vae": {"encoder_dim": 128, "encoder_rates": [2, 5, 8, 8], "latent_dim": 64,
                        "decoder_dim": 1536, "decoder_rates": [8, 8, 5, 2],
                        "sample_rate": 16000}}
    raise ValueError(f"unknown architecture {architecture!r}; choose from {ARCHITECTURES}")


def _tiny(architecture: str) -> dict[str, Any]:
    local = {"hidden_dim": 64, "ffn_dim": 128, "num_heads": 2, "num_layers": 1,
             "kv_channels": 32}
    if architecture == "voxcpm2":
        # Decoder channels halve at each of the six stages: 256 is the smallest that works.
        vae: dict[str, Any] = {"encoder_dim": 16, "decoder_dim": 256, "cond_dim": 16}
    elif architecture == "voxcpm1.5":
        vae = {"encoder_dim": 16, "encoder_rates": [2, 3, 6, 7, 7], "latent_dim": 64,
               "decoder_dim": 128, "decoder_rates": [7, 7, 6, 3, 2], "sample_rate": 44100}
    else:
        vae = {"encoder_dim": 16, "encoder_rates": [2, 5, 8, 8], "latent_dim": 64,
               "decoder_dim": 128, "decoder_rates": [8, 8, 5, 2], "sample_rate": 16000}
    return {"lm": (64, 2, 2, 1, 128, 32), "residual_layers": 1, "local": local,
            "patch_size": 2 if architecture == "voxcpm-0.5b" else 4,
            "fsq": 64, "vae": vae}


def model_config(vocab_size: int, full_size: bool, architecture: str = "voxcpm2",
                 layers: int | None = None) -> dict[str, Any]:
    """config.json for a model of ``architecture``: tiny, or with the published dimensions.

    ``layers`` caps every stack's depth (LM, residual LM, encoder, DiT) and keeps the widths:
    a test can then build a full-width model in seconds."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose from {ARCHITECTURES}")
    dims = _full_size(architecture) if full_size else _tiny(architecture)
    hidden, lm_layers, heads, kv_heads, ffn, head_dim = dims["lm"]
    residual_layers, local = dims["residual_layers"], dict(dims["local"])
    if layers is not None:
        lm_layers, residual_layers = min(lm_layers, layers), min(residual_layers, layers)
        local["num_layers"] = min(local["num_layers"], layers)
    if full_size:
        vocab_size = max(vocab_size, REAL_VOCAB_SIZE)
    is_v2 = architecture == "voxcpm2"
    audio_vae = ({"latent_dim": 64, "sample_rate": 16000, "out_sample_rate": 48000, **dims["vae"]}
                 if is_v2 else dims["vae"])
    return {
        "architecture": "voxcpm2" if is_v2 else "voxcpm",
        "lm_config": _lm_config(hidden, lm_layers, heads, kv_heads, ffn, head_dim, vocab_size),
        "patch_size": dims["patch_size"],
        "feat_dim": 64,
        "residual_lm_num_layers": residual_layers,
        "scalar_quantization_latent_dim": dims["fsq"],
        "scalar_quantization_scale": 9,
        "encoder_config": dict(local),
        "dit_config": {**local, "cfm_config": {"solver": "euler", "sigma_min": 1e-6,
                                               "inference_cfg_rate": 2.0}},
        "audio_vae_config": audio_vae,
        "max_length": 8192 if is_v2 else 4096,
        "device": "cpu",
        # The real checkpoints are bfloat16: a full-size model is too, so it loads in the dtype
        # the loader picks for real weights. (The tiny one stays float32: exact test figures.)
        "dtype": "bfloat16" if full_size else "float32",
    }


def _vocabulary() -> dict[str, int]:
    """A character-level vocabulary: specials, reserved marker ids, then the characters."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<reserved_{i}>" for i in _RESERVED_IDS]
    chars = [chr(c) for c in range(32, 127)]
    chars += [chr(c) for c in range(0xA1, 0x250)]  # Latin-1 and Latin Extended
    chars += list("，。！？；：、“”‘’（）《》「」『』【】…—·")
    chars += [chr(c) for c in range(0x4E00, 0xA000)]  # CJK unified ideographs
    return {token: i for i, token in enumerate(tokens + chars)}


#: How the tokenizer cuts text: "chars", one token a character (the tiny test model: test
#: figures count characters); "words", a byte-pair encoding as voxcpm's real MiniCPM4 tokenizer
#: is, so that English has a real tokenizer's density (3.4-3.6 characters a token on the bench's
#: sentences, against 1 for "chars"), which is what a full-size model's prefill, and with it the
#: first chunk and continuity's cost, depends on. CJK stays a token a character (voxcpm splits
#: multi-character Chinese tokens anyway).
TOKENIZATIONS = ("chars", "words")
#: Word pieces the "words" encoding learns (on Python's own documentation: fixed, offline).
WORD_PIECES = 6000


@functools.lru_cache(maxsize=1)
def _word_pieces() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """The character vocabulary plus the space marker and the byte-pair merges learnt from
    pydoc's topics (English prose shipped with Python), with ids after the characters'."""
    import pydoc_data.topics
    import re

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    vocab = _vocabulary()
    next_id = max(vocab.values()) + 1
    vocab["\u2581"] = next_id  # the word-start marker (SentencePiece's)
    known = set(vocab)
    corpus = [re.sub(r"\s+", " ", "".join(c if c in known else " " for c in text))
              for _, text in sorted(pydoc_data.topics.topics.items())]
    learner = Tokenizer(models.BPE(unk_token="<unk>"))
    learner.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first", split=True)
    learner.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=len(vocab) + WORD_PIECES, show_progress=False,
        initial_alphabet=[c for c in vocab if len(c) == 1]))
    merges = [tuple(m) for m in json.loads(learner.to_str())["model"]["merges"]]
    for left, right in merges:
        if left + right not in vocab:
            next_id += 1
            vocab[left + right] = next_id
    return vocab, merges  # type: ignore[return-value]


def write_tokenizer(directory: Path, tokens: str = "chars") -> int:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

    if tokens == "words":
        vocab, merges = _word_pieces()
        tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first", split=False)
        tokenizer.decoder = decoders.Metaspace(prepend_scheme="first", split=False)
    else:
        vocab = _vocabulary()
        tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
        tokenizer.decoder = decoders.Fuse()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
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
    # (The character vocabulary has a few duplicate characters, so its len is below its top id;
    # kept as it was, since the tiny model's weights, and with them test figures, depend on it.)
    return max(vocab.values()) + 1 if tokens == "words" else len(vocab)


def _instantiate(config: dict[str, Any], directory: Path) -> Any:
    """The voxcpm model object for ``config``, with random weights, on the CPU.

    The audio VAE is made in float32 (voxcpm runs it so), the rest directly in the config's
    dtype: a full-size VoxCPM2 then needs 4.4 GB to build instead of 9 GB plus a copy."""
    import torch
    from transformers import LlamaTokenizerFast

    tokenizer = LlamaTokenizerFast.from_pretrained(str(directory))
    if config["architecture"] == "voxcpm2":
        from voxcpm.model.voxcpm2 import VoxCPM2Model as Model
        from voxcpm.model.voxcpm2 import VoxCPMConfig as Config
        from voxcpm.modules.audiovae import AudioVAEConfigV2 as VAEConfig
        from voxcpm.modules.audiovae import AudioVAEV2 as VAE
    else:
        from voxcpm.model.voxcpm import VoxCPMConfig as Config  # type: ignore[assignment]
        from voxcpm.model.voxcpm import VoxCPMModel as Model  # type: ignore[assignment]
        from voxcpm.modules.audiovae import AudioVAE as VAE  # type: ignore[assignment]
        from voxcpm.modules.audiovae import AudioVAEConfig as VAEConfig  # type: ignore[assignment]
    vae = VAE(config=VAEConfig.model_validate(config["audio_vae_config"]))
    default = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, config["dtype"]))
    try:
        return Model(Config.model_validate(config), tokenizer, vae, device="cpu")
    finally:
        torch.set_default_dtype(default)


def build(directory: str | Path, full_size: bool = False, stop_never: bool = False,
          seed: int = 0, architecture: str = "voxcpm2", layers: int | None = None,
          stop_early: bool = False, tokens: str | None = None) -> Path:
    """Write a random-weight model to ``directory`` (created if needed) and return its path.

    ``stop_never``: generation always runs to max_len; ``stop_early``: it always ends right
    after min_len steps (even where a route cannot set max_len, e.g. OpenAI's). ``tokens``:
    see :data:`TOKENIZATIONS` (default "words" for a full-size model, else "chars")."""
    import contextlib
    import io

    import torch
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab_size = write_tokenizer(directory, tokens or ("words" if full_size else "chars"))
    config = model_config(vocab_size, full_size, architecture, layers)
    (directory / "config.json").write_text(json.dumps(config, indent=2))

    torch.manual_seed(seed)
    with contextlib.redirect_stderr(io.StringIO()):  # voxcpm prints its device choice
        model = _instantiate(config, directory)
    if stop_never:
        torch.nn.init.zeros_(model.stop_head.weight)
    elif stop_early:  # a constant "stop" verdict: logits (0, positive) whatever the state
        with torch.no_grad():
            model.stop_proj.weight.zero_()
            model.stop_proj.bias.fill_(1.0)
            model.stop_head.weight.zero_()
            model.stop_head.weight[1].fill_(1.0)
    # Saved in the config's dtype like the real checkpoints (the audio VAE stays float32).
    dtype = getattr(torch, config["dtype"])
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    vae_state = {k[len("audio_vae."):]: v for k, v in state.items() if k.startswith("audio_vae.")}
    lm_state = {k: v.to(dtype) if v.is_floating_point() else v
                for k, v in state.items() if not k.startswith("audio_vae.")}
    del model, state
    save_file(lm_state, str(directory / "model.safetensors"))
    save_file(vae_state, str(directory / "audiovae.safetensors"))
    return directory


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m voxdesk.testing.tiny_model",
        description="Build a random-weight VoxCPM model directory (noise, not speech).",
    )
    parser.add_argument("directory", help="where to write the model (created if missing)")
    parser.add_argument("--full-size", action="store_true",
                        help="use the real dimensions of the architecture (VoxCPM2: 2.2 B "
                        "parameters, ~5 GB in bfloat16)")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="voxcpm2",
                        help="which catalogue model's architecture (default voxcpm2)")
    parser.add_argument("--layers", type=int, metavar="N",
                        help="at most N layers per stack, widths unchanged (for fast tests)")
    parser.add_argument("--stop-never", action="store_true",
                        help="zero the stop head: every generation runs to max_len steps")
    parser.add_argument("--stop-early", action="store_true",
                        help="the stop head always fires: every generation ends after min_len")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tokens", choices=TOKENIZATIONS,
                        help="how text becomes tokens: a token per character, or per word piece "
                        "as dense as the real tokenizer's (default: words with --full-size, "
                        "else chars)")
    args = parser.parse_args(argv)
    if args.layers is not None and args.layers < 1:
        parser.error("--layers must be at least 1")
    path = build(args.directory, full_size=args.full_size, stop_never=args.stop_never,
                 seed=args.seed, architecture=args.architecture, layers=args.layers,
                 stop_early=args.stop_early, tokens=args.tokens)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
