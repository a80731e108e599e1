"""Content-keyed JSON caches: one small file per key, written atomically.

:class:`KeyedCache` keeps JSON objects as records of a :class:`dyag.utils.store.Store`
(``<root>/<key[:2]>/<key>.json``, each naming its key); :class:`GenerationCache` keys it by
(model identity, adapter hash, conversation, decoding). Records are named by their content
key, so concurrent pytest-xdist workers share a cache without locks: the worst case is two
workers computing the same value once each.

>>> import tempfile
>>> store = KeyedCache(Path(tempfile.mkdtemp()))
>>> store.get("ab12"), store.put("ab12", {"f1": 0.5}), store.get("ab12")["f1"]
(None, None, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dyag.utils.atomic import sha256_json
from dyag.utils.paths import cache_dir
from dyag.utils.store import Store


@dataclass
class KeyedCache:
    """JSON objects stored by content key; ``enabled=False`` stores and finds nothing."""

    root: Path
    enabled: bool = True
    store: Store = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.store = Store(self.root, name="keyed cache")

    def get(self, key: str) -> dict | None:
        return self.store.get_record(key) if self.enabled else None

    def put(self, key: str, value: dict) -> None:
        if self.enabled:
            self.store.put_record(key, value)


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
