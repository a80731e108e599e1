"""Adapter cache: one verified directory per (base model, data, hyperparameters, versions).

Layout under ``$DYAG_HOME/adapters`` (or ``cache_dir``)::

    <key>/final/          standard peft adapter + tokenizer
    <key>/run.json        manifest; ``adapter_sha256`` verifies the weights
    <key>.lock            file lock: two processes training one key train it once
    <key>.work/           trainer checkpoints of an unfinished run (resumable)

An entry exists only once its directory was moved into place whole
(:func:`dyag.utils.atomic.atomic_dir`), and it is used only if its manifest
parses and its weights still hash to the recorded value.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from dyag.utils.atomic import sha256_file, sha256_json
from dyag.utils.paths import cache_dir
from dyag.utils.warnings import DyagWarning

ADAPTER_WEIGHTS = "adapter_model.safetensors"


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("dyag", "torch", "transformers", "trl", "peft", "accelerate", "datasets"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - dyag run from a source tree
            out[name] = "unknown"
    return out


def adapter_cache_key(
    base_identity: dict, dataset_sha256: str, eval_sha256: str | None, hyperparameters: dict, versions: dict, device: str
) -> str:
    """Content hash of everything that determines the trained adapter."""
    return sha256_json(
        {
            "base": base_identity,
            "dataset": dataset_sha256,
            "eval": eval_sha256,
            "hyperparameters": hyperparameters,
            "versions": versions,
            "device": device,
        }
    )[:24]


@dataclass
class AdapterCache:
    root: Path

    @classmethod
    def at(cls, path: str | None = None) -> "AdapterCache":
        return cls(Path(path) if path else cache_dir("adapters"))

    def entry(self, key: str) -> Path:
        return self.root / key

    def workdir(self, key: str) -> Path:
        return self.root / f"{key}.work"

    def lock(self, key: str):
        from filelock import FileLock

        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"{key}.lock"))

    def get(self, key: str) -> Path | None:
        """The verified entry for ``key``, or None. A corrupt entry is removed with a warning."""
        path = self.entry(key)
        if not path.exists():
            return None
        problem = verify_adapter_dir(path)
        if problem is None:
            return path
        warnings.warn(f"adapter cache entry {path} is corrupt ({problem}); rebuilding it", DyagWarning, stacklevel=2)
        shutil.rmtree(path, ignore_errors=True)
        return None


def verify_adapter_dir(path: Path) -> str | None:
    """None if ``path`` holds a complete adapter output, else what is wrong."""
    manifest_path = path / "run.json"
    weights = path / "final" / ADAPTER_WEIGHTS
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "missing or unreadable run.json"
    if not weights.is_file():
        return f"missing final/{ADAPTER_WEIGHTS}"
    if manifest.get("adapter_sha256") != sha256_file(weights):
        return "adapter weights do not match the manifest's sha256"
    return None
