"""The dtype rule (what the CPU or GPU computes natively, and what fits in memory), the --dtype
override, and compilation with its fallback: real loads of the tiny model."""

import json
import shutil

import pytest

from voxdesk.engine import Engine, SynthesisParams, SynthesisRequest
from voxdesk.models import hardware

GIB = 1024**3
VOXCPM2_GB = 4.6  # the real checkpoint's bfloat16 weights on disk


def cpu(ram_gb, bf16):
    return hardware.HardwareInfo("cpu", "CPU", None, int(ram_gb * GIB), cpu_capability="AVX512",
                                 cpu_bf16=bf16)


@pytest.mark.parametrize(("flags", "capability", "max_isa", "native"), [
    ({"avx2", "avx512f", "avx512_bf16"}, "AVX512", None, True),  # Zen 4/5, Cooper Lake
    ({"avx2", "avx512f", "amx_bf16", "amx_tile"}, "AVX512", None, True),  # Sapphire Rapids
    ({"avx2", "avx512f", "avx512bw"}, "AVX512", None, False),  # Skylake-X: AVX-512, no BF16
    ({"avx2", "fma"}, "AVX2", None, False),  # most laptops and desktops
    ({"AVX512_BF16"}, "", None, True),  # flag case does not matter; capability unknown
    ({"avx512_bf16"}, "AVX2", None, False),  # torch told not to use AVX-512 (ATEN_CPU_CAPABILITY)
    ({"avx512_bf16"}, "AVX512", "AVX2", False),  # ONEDNN_MAX_CPU_ISA=AVX2 caps oneDNN below it
    ({"avx512_bf16"}, "AVX512", "avx512_core_bf16", True),
    ({"amx_bf16"}, "AVX512", "AVX512_CORE_AMX", True),
    (set(), "DEFAULT", None, False),  # ARM, or flags unknown: not assumed
])
def test_native_bfloat16_is_detected_from_the_cpu_flags(flags, capability, max_isa, native):
    assert hardware.cpu_computes_bf16(flags, capability, max_isa) is native


@pytest.mark.parametrize(("ram_gb", "bf16", "expected"), [
    (32, True, "bfloat16"),  # native: bfloat16 is faster, and half the memory
    (8, True, "bfloat16"),
    (32, False, "float32"),  # emulated bfloat16 is slower than float32, which fits
    (16, False, "float32"),  # 9.2 GB of float32 weights x 1.5 + 2 GiB = 15.8 GB: fits
    (12, False, "bfloat16"),  # float32 would not fit: the half-size weights, emulated
])
def test_cpu_dtype_follows_native_support_and_memory(ram_gb, bf16, expected):
    choice = hardware.dtype_choice("cpu", "bfloat16", cpu(ram_gb, bf16), VOXCPM2_GB)
    assert choice.dtype == expected and choice.reason.startswith(expected)
    advice = hardware.advice(hardware.catalog.lookup("VoxCPM2"), cpu(ram_gb, bf16))
    assert advice.dtype == expected  # the same decision in the first-run advice
    assert expected in advice.message or not advice.fits


def test_a_float32_checkpoint_stays_float32_and_an_override_wins():
    assert hardware.runtime_dtype("cpu", "float32", cpu(32, True), 9.2) == "float32"
    for dtype in ("bfloat16", "float32", "float16"):
        choice = hardware.dtype_choice("cpu", "bfloat16", cpu(32, False), VOXCPM2_GB, dtype)
        assert choice.dtype == dtype and "user" in choice.reason
    with pytest.raises(ValueError):
        hardware.dtype_choice("cpu", "bfloat16", cpu(32, False), VOXCPM2_GB, "int4")


def test_gpu_and_apple_rules_are_kept():
    def gpu(capability, vram_gb):
        return hardware.HardwareInfo("cuda", "GPU", vram_gb * GIB, 32 * GIB, capability)

    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((8, 6), 24), 4.9) == "bfloat16"
    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((7, 5), 16), 4.9) == "float32"
    assert hardware.runtime_dtype("cuda", "bfloat16", gpu((7, 5), 8), 4.9) == "float16"
    assert hardware.runtime_dtype("mps", "bfloat16", cpu(32, False)) == "float32"


@pytest.fixture(scope="module")
def bf16_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model saved as the real checkpoints are: config dtype bfloat16."""
    folder = tmp_path_factory.mktemp("tiny-bf16")
    for path in tiny_model_dir.iterdir():
        shutil.copy(path, folder / path.name)
    config = json.loads((folder / "config.json").read_text())
    config["dtype"] = "bfloat16"
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def speaks(engine):
    stream = engine.synthesize(SynthesisRequest("Two steps.", params=SynthesisParams(
        min_len=2, max_len=2)))
    chunks = list(stream)
    assert len(chunks) == 2 and all(c.samples.size and abs(c.samples).max() > 0 for c in chunks)


@pytest.mark.parametrize("dtype", ["auto", "bfloat16", "float32", "float16"])
def test_the_tiny_model_loads_and_speaks_in_each_dtype(bf16_model_dir, dtype):
    engine = Engine.load(str(bf16_model_dir), device="cpu", dtype=dtype, warm_up=False,
                         remember_speed=False)
    expected = dtype if dtype != "auto" else hardware.runtime_dtype(
        "cpu", "bfloat16", hardware.detect(), 0.01)
    assert engine.info.dtype == expected
    assert engine.info.dtype_reason.startswith(expected)
    params = next(engine._model.tts.base_lm.parameters())
    assert str(params.dtype) == f"torch.{expected}"
    speaks(engine)


@pytest.mark.parametrize("where", ["when compiling", "on the first call"])
def test_a_model_whose_compilation_fails_still_loads_and_speaks(tiny_model_dir, monkeypatch,
                                                                where):
    import torch

    calls = []
    real_compile = torch.compile

    def broken_backend(graph, example_inputs):  # what a missing compiler or a bug looks like
        raise RuntimeError("inductor: generated code failed to build")

    def failing_compile(fn, **kwargs):
        calls.append(kwargs)
        if where == "when compiling":
            raise RuntimeError("no C compiler found")
        # A real torch.compile whose code generation fails when the model first runs.
        return real_compile(fn, backend=broken_backend, fullgraph=kwargs["fullgraph"])

    monkeypatch.setattr(torch, "compile", failing_compile)
    engine = Engine.load(str(tiny_model_dir), device="cpu", compile="on", remember_speed=False)
    assert engine.wait_until_warm(120)
    assert calls and all(c["fullgraph"] for c in calls)  # the same path as on a GPU was taken
    acceleration = engine.acceleration
    assert not acceleration.compiled
    assert "no C compiler" in acceleration.compile_error or "inductor" in (
        acceleration.compile_error)
    assert "compilation failed" in acceleration.describe()
    assert len(acceleration.warm_up_steps_s) == 6  # warmed up uncompiled instead
    speaks(engine)


def test_compilation_is_off_on_the_cpu_unless_asked_for():
    from voxdesk.engine.acceleration import should_compile

    assert not should_compile("auto", "cpu")
    assert should_compile("on", "cpu") and not should_compile("off", "cuda")
