"""Group-aware train/val/test splits.

Examples are split by *group* (for generated data, the ``(kb_id, field)`` pair) so
that two phrasings of the same question never land on both sides of a split.

>>> parts = split_groups([("gidaf", "version"), ("6tzen", "version"), ("gidaf", "hebergeur")], (0.8, 0.1, 0.1), seed=42)
>>> sorted(len(v) for v in parts.values())
[1, 1, 1]
"""

from __future__ import annotations

import math
import random
from typing import Hashable, Iterable, Sequence

from dyag.errors import DyagError

SPLIT_NAMES: tuple[str, str, str] = ("train", "val", "test")


def parse_ratios(value) -> tuple[float, float, float]:
    """Three non-negative finite numbers summing to 1, the train share positive.

    Accepts ``"0.8,0.1,0.1"`` or a sequence of numbers (or numeric strings).
    """
    parts = [p.strip() for p in value.split(",")] if isinstance(value, str) else value
    try:
        ratios = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise DyagError(f"ratios must be three numbers train,val,test (e.g. 0.8,0.1,0.1), got {value!r}") from None
    if len(ratios) != 3:
        raise DyagError(f"ratios must be three numbers train,val,test (e.g. 0.8,0.1,0.1), got {len(ratios)}")
    if any(not math.isfinite(r) or r < 0 for r in ratios):
        raise DyagError(f"ratios must be finite and >= 0, got {','.join(f'{r:g}' for r in ratios)}")
    if not math.isclose(sum(ratios), 1.0, abs_tol=1e-6):
        raise DyagError(f"ratios must sum to 1, got {','.join(f'{r:g}' for r in ratios)} (sum {sum(ratios):g})")
    if ratios[0] <= 0:
        raise DyagError("the train ratio must be > 0")
    return ratios  # type: ignore[return-value]


def split_sizes(n: int, ratios: Sequence[float]) -> list[int]:
    """Sizes adding up to ``n`` (largest remainder); a positive ratio gets >= 1 item when ``n`` allows."""
    ideal = [n * r for r in ratios]
    sizes = [math.floor(x) for x in ideal]
    by_remainder = sorted(range(len(ratios)), key=lambda i: (ideal[i] - sizes[i], -i), reverse=True)
    for i in by_remainder[: n - sum(sizes)]:
        sizes[i] += 1
    positive = [i for i, r in enumerate(ratios) if r > 0]
    if n >= len(positive):
        for i in positive:
            if sizes[i] == 0:
                donor = max(range(len(sizes)), key=lambda j: sizes[j])
                sizes[donor] -= 1
                sizes[i] += 1
    return sizes


def split_groups(groups: Iterable[Hashable], ratios: Sequence[float], seed: int) -> dict[str, list]:
    """Assign each distinct group to train, val or test; deterministic for ``seed``.

    The result does not depend on the input order (groups are sorted by ``repr`` first).
    """
    unique = sorted(set(groups), key=repr)
    random.Random(seed).shuffle(unique)
    sizes = split_sizes(len(unique), ratios)
    parts: dict[str, list] = {}
    start = 0
    for name, size in zip(SPLIT_NAMES, sizes):
        parts[name] = unique[start : start + size]
        start += size
    return parts
