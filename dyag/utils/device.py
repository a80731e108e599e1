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

    fp32 on CPU: at the small batch sizes LoRA training uses here, bf16 autocast
    measured slower than fp32 (see the performance benchmark).
    """
    if not force_cpu and _cuda_possible():
        import torch

        if torch.cuda.is_available():
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
            return DeviceChoice("cuda", dtype, torch.cuda.get_device_name(0))
    return DeviceChoice("cpu", "float32", f"cpu: {os.cpu_count()} cores, {platform.machine()}")


def _cuda_possible() -> bool:
    """False without importing torch when a Linux machine has no NVIDIA device (keeps cache hits instant)."""
    if sys.platform == "linux" and "torch" not in sys.modules:
        return bool(glob.glob("/dev/nvidia[0-9]*"))
    return True


def machine_info() -> dict:
    import os

    import torch

    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    return info
