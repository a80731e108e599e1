"""Hugging Face Hub models: the local cache first, a download only when the network allows.

Environment variables (``HF_HOME``, ``HF_HUB_CACHE``, ``HF_HUB_OFFLINE``,
``HF_TOKEN``, ``HF_ENDPOINT``) are read when called, not when ``huggingface_hub`` was imported,
so a changed environment (tests, notebooks) is honoured.
"""

from __future__ import annotations

import os
from pathlib import Path

from dyag.errors import DyagError
from dyag.models.registry import ModelSpec

# What a base model needs; pickled weights are fetched only when allowed.
SAFE_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
PICKLE_PATTERNS = ["*.bin"]

_TRUE = {"1", "on", "yes", "true"}


def hf_home() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "huggingface"
    return Path(os.path.expandvars(os.environ.get("HF_HOME", str(default)))).expanduser()


def hf_hub_cache() -> Path:
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    return Path(os.path.expandvars(explicit)).expanduser() if explicit else hf_home() / "hub"


def hf_offline() -> bool:
    return any(os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hf_token_available() -> bool:
    """A token in ``HF_TOKEN`` or saved by ``hf auth login`` (no network, no refresh)."""
    if (os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip():
        return True
    token_path = Path(os.path.expandvars(os.environ.get("HF_TOKEN_PATH", str(hf_home() / "token")))).expanduser()
    try:
        return bool(token_path.read_text(encoding="utf-8").strip())
    except OSError:
        return False


def auth_message(spec: ModelSpec) -> str:
    return (
        f"{spec.name} needs Hugging Face authentication: run `hf auth login` (`huggingface-cli login` "
        "with older huggingface_hub) or set HF_TOKEN, after accepting its licence on the Hub"
    )


def offline_message(spec: ModelSpec) -> str:
    hint = ""
    if spec.name == spec.hub_id and not Path(spec.hub_id).exists():
        hint = f" (there is no local directory ./{spec.hub_id} either)"
    return (
        f"{spec.name}: not in the local cache and no network: pull it on a connected machine "
        f"or pass a local path{hint}"
    )


def cached_snapshot(spec: ModelSpec) -> Path | None:
    """The cached snapshot directory of a hub model, or None. Never touches the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        path = snapshot_download(
            spec.hub_id, revision=spec.revision, cache_dir=hf_hub_cache(), local_files_only=True
        )
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        return None
    return Path(path)


def cached_snapshot_has_weights(spec: ModelSpec) -> bool:
    """Cheap check for ``model_availability``: a cached config.json next to weights."""
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(spec.hub_id, "config.json", cache_dir=hf_hub_cache(), revision=spec.revision)
    if not isinstance(config, str):
        return False
    snapshot = Path(config).parent
    return any(snapshot.glob("*.safetensors")) or (snapshot / "model.safetensors.index.json").is_file()


def download_snapshot(spec: ModelSpec, *, allow_pickle: bool = False) -> Path:
    """Download (or update) a hub model's files; one-line DyagError when that cannot work."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if hf_offline():
        raise DyagError(offline_message(spec))
    if spec.gated and not hf_token_available():
        raise DyagError(auth_message(spec))
    patterns = SAFE_PATTERNS + (PICKLE_PATTERNS if allow_pickle else [])
    try:
        path = snapshot_download(
            spec.hub_id,
            revision=spec.revision,
            cache_dir=hf_hub_cache(),
            allow_patterns=patterns,
            endpoint=os.environ.get("HF_ENDPOINT") or None,
        )
    except GatedRepoError as exc:
        raise DyagError(auth_message(spec)) from exc
    except RevisionNotFoundError as exc:
        raise DyagError(f"{spec.name}: revision {spec.revision!r} not found on the Hub") from exc
    except RepositoryNotFoundError as exc:
        raise DyagError(f"{spec.hub_id}: no such model on the Hugging Face Hub (or it is private: log in)") from exc
    except (OfflineModeIsEnabled, LocalEntryNotFoundError, ConnectionError, TimeoutError) as exc:
        raise DyagError(offline_message(spec)) from exc
    except OSError as exc:  # httpx/requests transport errors are OSErrors or wrap them
        raise DyagError(f"{spec.name}: download failed ({exc.__class__.__name__}: {exc})".splitlines()[0]) from exc
    except Exception as exc:
        if _is_network_error(exc):
            raise DyagError(offline_message(spec)) from exc
        raise
    return Path(path)


def _is_network_error(exc: BaseException) -> bool:
    """httpx transport errors (connect, timeout) are not OSErrors."""
    try:
        import httpx
    except ImportError:
        return False
    return isinstance(exc, httpx.TransportError)


def hub_snapshot(spec: ModelSpec, *, allow_pickle: bool = False) -> Path:
    """The local snapshot of a hub model: the cache, else a download when possible."""
    cached = cached_snapshot(spec)
    if cached is not None:
        return cached
    return download_snapshot(spec, allow_pickle=allow_pickle)
