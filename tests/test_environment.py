"""Environment keys: what the stored baselines and the adapter cache are keyed by."""

from __future__ import annotations

import json

import pytest

from dyag.baselines import nearest_key, stored_baselines
from dyag.session import DyagSession, SessionOptions
from dyag.utils import device as dev


def test_keys_name_device_precision_and_bf16_kernels():
    assert dev.environment_key("cpu", "fp32", ["avx2", "amx_bf16"]) == "cpu-fp32"
    assert dev.environment_key("cpu", "bf16", ["avx512_bf16", "amx_bf16"]) == "cpu-bf16-amx"
    assert dev.environment_key("cpu", "bf16", ["avx512f", "avx512_bf16"]) == "cpu-bf16-avx512"
    assert dev.environment_key("cpu", "bf16-mixed", ["asimd", "bf16"]) == "cpu-bf16-mixed-arm"
    assert dev.environment_key("cpu", "bf16", ["avx2"]) == "cpu-bf16-emulated"
    assert dev.environment_key("cuda", "bf16", ["amx_bf16"]) == "cuda-bf16"
    assert dev.environment_key("cpu", None) == "cpu-untrained"


@pytest.mark.parametrize(("cap", "expected"), [
    (None, ["avx512_bf16", "amx_tile", "amx_bf16"]),
    ("AVX512_CORE_AMX", ["avx512_bf16", "amx_tile", "amx_bf16"]),
    ("AVX512_CORE_BF16", ["avx512_bf16"]),
    ("AVX2", []),
])
def test_onednn_isa_cap_limits_the_kernel_flags(monkeypatch, cap, expected):
    monkeypatch.setattr(dev, "cpu_flags", lambda: ["avx2", "avx512_bf16", "amx_tile", "amx_bf16"])
    if cap is None:
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert [f for f in dev.kernel_cpu_flags() if f != "avx2"] == expected
    # auto precision follows the kernels: a CPU capped to AVX2 trains in fp32, as one without bf16 does
    assert dev.cpu_has_bf16() is bool(expected)
    assert dev.training_precision("auto", dev.DeviceChoice("cpu", "float32", "cpu")) == ("bf16" if expected else "fp32")


def test_cpu_flags_are_read_from_cpuinfo(monkeypatch):
    monkeypatch.setattr(dev, "_cpuinfo", lambda: {"flags": "fpu sse avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile"})
    assert dev.cpu_flags() == ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"]
    assert dev.cpu_has_bf16()
    monkeypatch.setattr(dev, "_cpuinfo", lambda: {"Features": "fp asimd sve"})
    assert dev.cpu_flags() == ["asimd", "sve"] and not dev.cpu_has_bf16()
    monkeypatch.setattr(dev, "_cpuinfo", lambda: {})
    assert dev.cpu_flags() == [] and not dev.cpu_has_bf16()


def test_nearest_key_prefers_same_device_then_same_precision():
    keys = ["cpu-fp32", "cpu-bf16-amx", "cuda-bf16"]
    assert nearest_key("cpu-bf16-avx512", keys) == "cpu-bf16-amx"
    assert nearest_key("cpu-bf16-mixed-amx", ["cpu-fp32", "cuda-bf16-x"]) == "cpu-fp32"
    assert nearest_key("cuda-fp16", keys) == "cuda-bf16"


def test_session_finds_the_exact_baseline_else_the_nearest(tmp_path):
    folder = tmp_path / "baselines"
    folder.mkdir()
    for name in ("smollm2_135m.cpu-fp32.json", "smollm2_135m.cpu-bf16-amx.json", "smollm2_135m.full.cpu-fp32.json",
                 "gemma3_270m.cpu-fp32.json", "smollm2_135m.json", "notes.txt"):
        (folder / name).write_text(json.dumps({}), encoding="utf-8")
    assert set(stored_baselines(folder, "smollm2_135m")) == {"cpu-fp32", "cpu-bf16-amx"}
    session = DyagSession(SessionOptions(models=("smollm2:135m",), baseline_dir=str(folder)))
    exact = session.find_baseline("smollm2:135m", "cpu-fp32")
    assert exact.exact and exact.path.name == "smollm2_135m.cpu-fp32.json"
    near = session.find_baseline("smollm2:135m", "cpu-bf16-avx512")
    assert not near.exact and near.key == "cpu-bf16-amx"
    assert session.baseline_path("smollm2:135m", "cpu-bf16-avx512").name == "smollm2_135m.cpu-bf16-avx512.json"
    assert DyagSession(SessionOptions(models=("smollm2:135m",), baseline_dir=str(tmp_path / "none"))).find_baseline(
        "smollm2:135m", "cpu-fp32") is None
