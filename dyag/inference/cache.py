"""Generation cache: one small JSON file per (model identity, adapter hash, prompt, decoding).

Files are written atomically and named by their content key, so concurrent
pytest-xdist workers can share the cache without locks: the worst case is two
workers computing the same answer once each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dyag.utils.atomic import atomic_write_json, sha256_json
from dyag.utils.paths import cache_dir


@dataclass
class GenerationCache:
    root: Path
    enabled: bool = True

    @classmethod
    def at(cls, path: str | Path | None = None, *, enabled: bool = True) -> "GenerationCache":
        return cls(Path(path) / "generations" if path else cache_dir("generations"), enabled)

    @staticmethod
    def key(identity: dict, prompt: str, decoding: dict) -> str:
        return sha256_json({"model": identity, "prompt": prompt, "decoding": decoding})

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if entry.get("key") == key else None

    def put(self, key: str, value: dict) -> None:
        if self.enabled:
            atomic_write_json(self._path(key), {"key": key, **value}, indent=None)
