"""Adapter cache: one verified directory per (base model, data, hyperparameters, versions).

The adapters' store (:class:`dyag.utils.store.Store`) under ``$DYAG_HOME/adapters`` (or ``cache_dir``)::

    <key>/final/          standard peft adapter + tokenizer
    <key>/run.json        manifest, written last: the run's record, and the size and sha256 of every file
    <key>.lock            file lock: two processes training one key train it once
    <key>.work/           trainer checkpoints of an unfinished run (resumable)

An entry exists only once its directory was moved into place whole, and it is used only if
its manifest parses and every file (the weights included) still hashes to the recorded value;
a corrupt entry is retrained, with a warning.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dyag.utils.atomic import sha256_json
from dyag.utils.paths import cache_dir
from dyag.utils.store import Entry, Store

ADAPTER_WEIGHTS = "adapter_model.safetensors"
MANIFEST = "run.json"


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
    store: Store = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.store = Store(self.root, name="adapter cache", manifest=MANIFEST, verify="sha256", warn_rebuilds=True)

    @classmethod
    def at(cls, path: str | None = None) -> "AdapterCache":
        return cls(Path(path) if path else cache_dir("adapters"))

    def entry(self, key: str) -> Path:
        return self.store.path(key)

    def workdir(self, key: str) -> Path:
        return self.root / f"{key}.work"

    def get(self, key: str) -> Path | None:
        """The verified entry for ``key``, or None."""
        entry = self.store.get(key, verify_adapter_dir)
        return entry.path if entry else None

    def get_or_train(self, key: str, train: Callable[[Path], dict[str, Any]], *, what: str = "adapter",
                     retrain: bool = False) -> Entry:
        """The verified entry for ``key``, trained once by ``train(tmp_dir)`` (which writes ``final/``
        and returns the manifest's fields) when there is none, or always with ``retrain``.
        A corrupt entry is retrained with a :class:`~dyag.utils.warnings.DyagWarning`."""
        entry = self.store.get_or_build(key, train, what=what, valid=verify_adapter_dir, rebuild=retrain)
        if entry.built:  # its checkpoints are no longer needed to resume
            shutil.rmtree(self.workdir(key), ignore_errors=True)
        return entry


def verify_adapter_dir(path: Path, manifest: dict[str, Any]) -> str | None:
    """None if the store entry ``path`` (its files already checked against ``manifest``) holds a
    complete adapter, else what is wrong."""
    weights = f"final/{ADAPTER_WEIGHTS}"
    if not (path / weights).is_file():
        return f"missing {weights}"
    if manifest.get("adapter_sha256") != manifest["files"].get(weights, {}).get("sha256"):
        return "adapter weights do not match the manifest's sha256"
    return None
