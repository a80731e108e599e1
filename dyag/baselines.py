"""Stored baselines: one results file per model, profile and environment, and how a run finds its own.

``<folder>/<model stem>[.<profile>].<environment key>.json`` (``smollm2_135m.cpu-bf16-amx.json``): a
run is compared with the baseline of its own environment, else with the nearest one (same device,
then same precision), with statistical tolerances only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dyag.utils.paths import safe_name

if TYPE_CHECKING:
    from dyag.results import Regression, Results


@dataclass(frozen=True)
class BaselineMatch:
    """The stored baseline a run is compared with; ``exact`` when it was measured in the same environment."""

    path: Path
    key: str
    exact: bool

    def read(self) -> "Results":
        from dyag.results import read

        return read(self.path)


@dataclass(frozen=True)
class BaselineStore:
    """The baselines of one profile in ``folder``."""

    folder: Path
    profile: str

    def stem(self, model: str) -> str:
        suffix = "" if self.profile == "quick" else f".{self.profile}"
        return f"{safe_name(model).rsplit('-', 1)[0]}{suffix}"

    def path(self, model: str, key: str) -> Path:
        """Where the baseline of ``model`` in environment ``key`` lives (``smollm2_135m.cpu-bf16.json``)."""
        return self.folder / f"{self.stem(model)}.{key}.json"

    def find(self, model: str, key: str) -> BaselineMatch | None:
        """The stored baseline of the same environment, else the nearest one (same device and precision first)."""
        stored = stored_baselines(self.folder, self.stem(model))
        if key in stored:
            return BaselineMatch(stored[key], key, exact=True)
        if not stored:
            return None
        nearest = nearest_key(key, stored)
        return BaselineMatch(stored[nearest], nearest, exact=False)


def baseline_note(block: "Regression") -> str:
    """One line saying which baseline a model was compared with, and how strictly."""
    where = block.baseline
    shown = "" if block.enforced else " [--dyag-update-baseline: shown, not enforced]"
    if block.exact:
        how = "exact per-case rules (--dyag-strict)" if block.strict else "statistical tolerances"
        return f"compared with {where} (same environment, {block.key}; {how}){shown}"
    return (f"no baseline for environment {block.key}: compared with the nearest, {block.baseline_key} "
            f"({where}), with statistical tolerances only; per-case rule flips are listed, not fatal{shown}")


def nearest_key(key: str, keys) -> str:
    """The key among ``keys`` closest to ``key``: same device, then same precision, then by name.

    >>> nearest_key("cpu-bf16-avx512", ["cpu-fp32", "cpu-bf16-amx", "cuda-bf16"])
    'cpu-bf16-amx'
    >>> nearest_key("cpu-fp32", ["cuda-fp32", "cpu-bf16-amx"])
    'cpu-bf16-amx'
    """
    device, _, rest = key.partition("-")
    precision = rest.split("-", 1)[0]

    def distance(other: str) -> tuple:
        o_device, _, o_rest = other.partition("-")
        return (o_device != device, o_rest.split("-", 1)[0] != precision, other)

    return min(keys, key=distance)


def stored_baselines(folder: Path, stem: str) -> dict[str, Path]:
    """``{environment key: path}`` of the baselines ``<stem>.<key>.json`` in ``folder``."""
    pattern = re.compile(re.escape(stem) + r"\.([a-z0-9_]+-[a-z0-9_-]+)\.json")
    found = {}
    for path in sorted(folder.glob(f"{stem}.*.json")) if folder.is_dir() else []:
        m = pattern.fullmatch(path.name)
        if m:
            found[m.group(1)] = path
    return found
