"""LoRA dropout for CPU training: the same inverted dropout, its mask drawn 4× cheaper.

peft runs ``nn.Dropout`` on the input of every LoRA branch: seven masks per transformer
layer (q, k, v, o, gate, up, down). On a CPU, ``torch.bernoulli_`` draws one Mersenne-Twister
number per element; measured on a 2-core Xeon it takes 1.6 ms for a 620×576 mask, 60 times
the multiply it feeds, and 13 % of a smollm2:135m training step (``torch.profiler``).

:class:`MaskDropout` draws 64-bit random words instead and reads each as four 16-bit
uniforms: an element is dropped when its uniform is below ``round(p · 65536)``, so the drop
probability is ``p`` to within 2⁻¹⁷, and kept elements are scaled by ``1 / (1 - p_eff)`` (the
expectation is unchanged). The words come from torch's default generator, so a seeded run
is reproducible; the mask is saved as booleans for the backward pass, as ``nn.Dropout``
does. Measured by ``python -m benchmarks.perf.levers --only current,torch_dropout``.

Only CPU training uses it: on a GPU, torch's Philox dropout is already cheap.
"""

from __future__ import annotations

import torch

#: part of the adapter cache key and the manifest: another dropout trains another adapter
KERNEL = "dyag-mask16"
_LEVELS = 1 << 16


def drop_threshold(p: float) -> int:
    """The 16-bit level under which an element is dropped (``p`` rounded to 1/65536)."""
    return round(p * _LEVELS)


def drop_mask(shape: torch.Size, p: float) -> torch.Tensor:
    """Booleans, True where an element is dropped, each with probability ``drop_threshold(p) / 65536``."""
    n = shape.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(1 << 63), None)
    uniforms = words.view(torch.int16)[:n].view(shape)  # signed: level u is stored as u - 32768
    return uniforms < drop_threshold(p) - (_LEVELS >> 1)


class _DropAndScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, drop, scale):
        ctx.save_for_backward(drop)
        ctx.scale = scale
        return x.masked_fill(drop, 0).mul_(scale)

    @staticmethod
    def backward(ctx, grad):
        (drop,) = ctx.saved_tensors
        return grad.masked_fill(drop, 0).mul_(ctx.scale), None, None


class MaskDropout(torch.nn.Module):
    """``nn.Dropout(p)`` with a mask from :func:`drop_mask`; the identity in eval mode or at ``p = 0``."""

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        threshold = drop_threshold(self.p)
        if not self.training or threshold == 0:
            return x
        scale = _LEVELS / (_LEVELS - threshold)
        return _DropAndScale.apply(x, drop_mask(x.shape, self.p), scale)

    def extra_repr(self) -> str:
        return f"p={self.p}, kernel={KERNEL}"


def use_mask_dropout(model: torch.nn.Module) -> int:
    """Replace every ``nn.Dropout`` of the model's LoRA branches (peft's ``lora_dropout``); returns how many."""
    replaced = 0
    for module in model.modules():
        branches = getattr(module, "lora_dropout", None)
        if not isinstance(branches, torch.nn.ModuleDict):
            continue
        for name, dropout in list(branches.items()):
            if isinstance(dropout, torch.nn.Dropout) and dropout.p > 0:
                branches[name] = MaskDropout(dropout.p)
                replaced += 1
    return replaced
