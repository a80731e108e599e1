"""Where dyag keeps its caches: ``$DYAG_HOME`` or ``~/.cache/dyag``."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


def dyag_home() -> Path:
    env = os.environ.get("DYAG_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "dyag"


def cache_dir(kind: str) -> Path:
    """``$DYAG_HOME/<kind>``, e.g. ``models``, ``adapters``, ``generations``."""
    return dyag_home() / kind


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A directory name derived from any model name, never escaping its parent.

    ``qwen2.5:1.5b`` -> ``qwen2.5_1.5b-<hash8>``; ``../x`` cannot climb out.

    >>> safe_name("qwen2.5:1.5b"), safe_name("../x")
    ('qwen2.5_1.5b-46a7fdad', 'x-d6b96a97')
    """
    stem = _UNSAFE.sub("_", name).strip("._") or "model"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{stem[:60]}-{digest}"
