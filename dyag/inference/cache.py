"""Content-keyed JSON caches: one small file per key, written atomically.

:class:`KeyedCache` is the store (``<root>/<key[:2]>/<key>.json``); :class:`GenerationCache`
keys it by (model identity, adapter hash, conversation, decoding). Files are named by their
content key, so concurrent pytest-xdist workers share a cache without locks: the worst
case is two workers computing the same value once each.

>>> import tempfile
>>> store = KeyedCache(Path(tempfile.mkdtemp()))
>>> store.get("ab12"), store.put("ab12", {"f1": 0.5}), store.get("ab12")["f1"]
(None, None, 0.5)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dyag.utils.atomic import atomic_write_json, sha256_json
from dyag.utils.paths import cache_dir


@dataclass
class KeyedCache:
    """JSON objects stored by content key; ``enabled=False`` stores and finds nothing."""

    root: Path
    enabled: bool = True

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if not self.enabled:
            return None
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, key: str, value: dict) -> None:
        if self.enabled:
            atomic_write_json(self._path(key), {"key": key, **value}, indent=None)


@dataclass
class GenerationCache(KeyedCache):
    """Generated answers by (model identity, conversation, decoding settings).

    The conversation (messages), not the rendered prompt, so that a lookup needs no tokenizer;
    the identity names the chat template's renderer (see ``answer_identity``)."""

    @classmethod
    def at(cls, path: str | Path | None = None, *, enabled: bool = True) -> "GenerationCache":
        return cls(Path(path) / "generations" if path else cache_dir("generations"), enabled)

    @staticmethod
    def key(identity: dict, messages: list[dict], decoding: dict) -> str:
        return sha256_json({"model": identity, "messages": messages, "decoding": decoding})
