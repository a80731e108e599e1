"""LoRA dropout of CPU training (dyag.training.dropout): the distribution of nn.Dropout, a cheaper mask."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from dyag.training.dropout import MaskDropout, drop_mask, drop_threshold, use_mask_dropout  # noqa: E402


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_elements_are_dropped_with_probability_p(p):
    torch.manual_seed(0)
    n = 1 << 21
    rate = drop_mask(torch.Size([n]), p).float().mean().item()
    sd = (p * (1 - p) / n) ** 0.5
    assert abs(rate - p) < 5 * sd + 2 ** -17, (rate, p)


def test_masks_of_neighbouring_elements_are_independent():
    """Four uniforms share one 64-bit word: their drops must not be correlated."""
    torch.manual_seed(1)
    m = drop_mask(torch.Size([1 << 20, 4]), 0.5).float()
    for j in range(1, 4):
        both = (m[:, 0] * m[:, j]).mean().item()
        assert abs(both - 0.25) < 0.003, (j, both)


def test_a_seeded_run_draws_the_same_mask():
    torch.manual_seed(7)
    a = drop_mask(torch.Size([3, 257]), 0.05)
    torch.manual_seed(7)
    b = drop_mask(torch.Size([3, 257]), 0.05)
    torch.manual_seed(8)
    c = drop_mask(torch.Size([3, 257]), 0.05)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_training_drops_and_rescales_and_the_gradient_follows_the_mask():
    torch.manual_seed(3)
    layer = MaskDropout(0.2).train()
    x = torch.randn(64, 300, requires_grad=True)
    y = layer(x)
    kept = y != 0
    scale = 65536 / (65536 - drop_threshold(0.2))
    assert torch.allclose(y[kept], x.detach()[kept] * scale)
    assert 0.17 < 1 - kept.float().mean().item() < 0.23
    y.sum().backward()
    assert torch.allclose(x.grad, kept.float() * scale)


def test_eval_mode_and_p_zero_are_the_identity():
    x = torch.randn(5, 7)
    assert MaskDropout(0.3).eval()(x) is x
    assert MaskDropout(0.0).train()(x) is x
    with pytest.raises(ValueError):
        MaskDropout(1.0)


def test_the_expectation_is_unchanged():
    torch.manual_seed(4)
    x = torch.ones(1 << 20)
    assert abs(MaskDropout(0.05).train()(x).mean().item() - 1) < 0.002


def test_only_the_lora_branches_dropouts_are_replaced():
    class Branch(torch.nn.Module):
        def __init__(self, p):
            super().__init__()
            self.lora_dropout = torch.nn.ModuleDict({"default": torch.nn.Dropout(p) if p else torch.nn.Identity()})

    model = torch.nn.Sequential(Branch(0.05), Branch(0.0), torch.nn.Dropout(0.1))
    assert use_mask_dropout(model) == 1
    assert isinstance(model[0].lora_dropout["default"], MaskDropout) and model[0].lora_dropout["default"].p == 0.05
    assert isinstance(model[1].lora_dropout["default"], torch.nn.Identity)
    assert isinstance(model[2], torch.nn.Dropout)  # the base model's own dropout is left alone
