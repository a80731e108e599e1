"""Device and dtype choice, shared by training and inference."""

from __future__ import annotations

import glob
import os
import platform
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda" or "cpu"
    dtype_name: str  # "bfloat16" | "float16" | "float32"
    name: str  # human-readable ("NVIDIA H100 80GB HBM3", "cpu: 2 cores")

    @property
    def dtype(self):
        import torch

        return getattr(torch, self.dtype_name)


def pick_device(force_cpu: bool = False) -> DeviceChoice:
    """CUDA when present (bf16 if the card has it, else fp16), else CPU in fp32.

    This is the inference dtype (fp32 on a CPU); training picks its own precision with
    :func:`training_precision`.
    """
    if not force_cpu and _cuda_possible():
        import torch

        if torch.cuda.is_available():
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
            return DeviceChoice("cuda", dtype, torch.cuda.get_device_name(0))
    return DeviceChoice("cpu", "float32", f"cpu: {os.cpu_count()} cores, {platform.machine()}")


def training_precision(requested: str, device: DeviceChoice) -> str:
    """The precision a training run uses: ``requested`` unless it is ``auto``.

    auto: the GPU's half type (bf16, else fp16); on a CPU, ``bf16`` where the CPU has bf16
    instructions (avx512_bf16 or AMX), else ``fp32``. See the performance benchmark's levers.
    """
    from dyag.errors import DyagError

    if requested == "fp16" and device.device != "cuda":
        raise DyagError("--precision fp16 needs a GPU; on a CPU use bf16 or fp32")
    if requested != "auto":
        return requested
    if device.device == "cuda":
        return "bf16" if device.dtype_name == "bfloat16" else "fp16"
    return CPU_AUTO_PRECISION if cpu_has_bf16() else "fp32"


#: what ``auto`` picks on a CPU with bf16 instructions (measured: benchmarks/perf/levers.py)
CPU_AUTO_PRECISION = "bf16"


#: the instruction sets that change what (and how fast) a CPU computes in bf16 and fp32
RELEVANT_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "asimd", "bf16", "sve")


def _cpuinfo() -> dict[str, str]:
    """The first processor's ``key: value`` lines of /proc/cpuinfo ({} where there is none)."""
    out: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                out.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return out


def cpu_flags() -> list[str]:
    """The CPU's instruction sets among :data:`RELEVANT_CPU_FLAGS` (x86 ``flags`` or Arm ``Features``)."""
    info = _cpuinfo()
    words = set((info.get("flags") or info.get("Features") or "").split())
    return [f for f in RELEVANT_CPU_FLAGS if f in words]


def kernel_cpu_flags() -> list[str]:
    """:func:`cpu_flags` as oneDNN's kernels may use them: ``ONEDNN_MAX_CPU_ISA`` can cap them.

    ``ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16`` makes a CPU with AMX compute bf16 as one without
    (other answers, see :func:`environment_key`); ``AVX512_CORE``/``AVX2`` leave no bf16 kernel,
    and ``AVX2`` no AVX-512 one.
    """
    flags = cpu_flags()
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if cap and cap not in ("ALL", "DEFAULT"):
        if "AMX" not in cap:
            flags = [f for f in flags if not f.startswith("amx")]
        if "AMX" not in cap and "BF16" not in cap:
            flags = [f for f in flags if f != "avx512_bf16"]
        if "AVX512" not in cap and "AMX" not in cap:
            flags = [f for f in flags if not f.startswith("avx512")]
    return flags


def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (x86 avx512_bf16 / AMX, or Arm bf16), as
    oneDNN may use it: ``ONEDNN_MAX_CPU_ISA=AVX2`` makes such a CPU train as one without."""
    return bool(set(kernel_cpu_flags()) & {"avx512_bf16", "amx_bf16", "bf16"})


def environment_key(device: str, precision: str | None, cpu_flags: list[str] | tuple[str, ...] = ()) -> str:
    """What a stored baseline is keyed by: what changes the answers of the same code.

    The device kind and the training precision (bf16 and fp32 training give other adapters),
    and on a CPU training in bf16, the bf16 kernels: AMX and avx512_bf16 round differently
    (measured: 3 of gemma3:270m's 10 fine-tuned answers differ), while fp32 training gives the
    same answers on AVX2 and AVX-512 CPUs. ``cpu-untrained`` when no system uses an adapter.

    >>> environment_key("cpu", "bf16", ["avx512_bf16", "amx_bf16"]), environment_key("cpu", "fp32", ["avx2"])
    ('cpu-bf16-amx', 'cpu-fp32')
    >>> environment_key("cpu", None), environment_key("cuda", "bf16")
    ('cpu-untrained', 'cuda-bf16')
    """
    key = f"{device}-{precision or 'untrained'}"
    if device == "cpu" and precision in ("bf16", "bf16-mixed"):
        flags = set(cpu_flags)
        kernels = "amx" if "amx_bf16" in flags else "avx512" if "avx512_bf16" in flags else "arm" if "bf16" in flags else "emulated"
        key += f"-{kernels}"
    return key


def _default_torch_threads() -> int | None:
    """torch's intra-op thread count before anything set it: OMP_NUM_THREADS, else the CPUs this
    process may run on (what torch reads at start)."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _cuda_possible() -> bool:
    """False without importing torch when a Linux machine has no NVIDIA device (keeps cache hits instant)."""
    if sys.platform == "linux" and "torch" not in sys.modules:
        return bool(glob.glob("/dev/nvidia[0-9]*"))
    return True


def machine_info(*, versions_and_load: bool = False) -> dict:
    """The machine a run was measured on (recorded in ``run.machine``).

    ``versions_and_load`` adds the torch, transformers, trl and peft versions and the
    one-minute load average now (the performance benchmark records them beside its timings).
    Without those, torch is not imported when nothing loaded it (a fully cached run): its
    thread count is then torch's default, and CUDA is looked for only where a device exists.
    """
    if versions_and_load or _cuda_possible():
        import torch
    torch = sys.modules.get("torch")
    info = _cpuinfo()
    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": info.get("model name") or platform.processor() or platform.machine(),
        "cpu_flags": cpu_flags(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads() if torch else _default_torch_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch and torch.cuda.is_available() else None,
    }
    if versions_and_load:
        machine.update(torch=torch.__version__, load_avg_at_start=os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
        try:
            import peft
            import transformers
            import trl

            machine.update(transformers=transformers.__version__, trl=trl.__version__, peft=peft.__version__)
        except ImportError:
            pass
    return machine
