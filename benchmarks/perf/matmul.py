"""The machine's matmul peak: the ceiling that training's achieved FLOP/s is compared with."""

from __future__ import annotations

import time


def matmul_peak(dtype_name: str = "float32", *, size: int = 2048, reps: int = 8) -> dict:
    """Best-of-``reps`` FLOP/s of one ``size`` x ``size`` matmul in ``dtype_name`` (CUDA when present).

    >>> matmul_peak("float32", size=256, reps=2)["gflops"] > 0
    True
    """
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = getattr(torch, dtype_name)
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    for _ in range(2):
        a @ b
    best = float("inf")
    for _ in range(reps):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return {"size": size, "device": device, "seconds": round(best, 6), "gflops": round(2 * size**3 / best / 1e9, 2)}
